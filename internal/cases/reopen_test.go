package cases_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
	"github.com/cxloop/cxloop/internal/survey"
)

// Reopening a resolved complaint needs a reason; the case gets a new due
// time, as long after the reopening as its SLA first gave it, so that a
// resolution that met its SLA is not turned into a breach; the handling
// survey its resolution sent is withdrawn (its link says it expired);
// the next resolution sends the survey again, and the Recovery page rates
// the case by that latest answer.
func TestReopenWithdrawsAndRestartsTheClock(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		clock := apptest.NewClock(apptest.Epoch)
		mb := apptest.StartMailbox(t)
		s := apptest.StartWith(t, dsn, func(c *app.Config) {
			c.Now = clock.Now
			c.Mail = &survey.Mailer{Addr: mb.Addr, From: "care@northwind.test"}
		})
		s.MustSend("identify", map[string]any{"userId": "rita", "traits": map[string]any{"email": "rita@example.com"}})
		s.MustSend("track", map[string]any{"userId": "rita", "event": "Complaint Submitted", "properties": map[string]any{"text": "The zip broke."}})
		s.Sync()
		cs := listCases(t, s, "kind=complaint")
		if len(cs) != 1 {
			t.Fatalf("cases %+v", cs)
		}
		id := cs[0].ID
		type caseJSON struct {
			Status           string
			DueAt, CreatedAt time.Time
			Breached         bool
			Reopened         int
		}
		var first caseJSON
		s.API("GET", "/api/v1/cases/"+id, nil, &first)
		sla := first.DueAt.Sub(first.CreatedAt)
		clock.Add(time.Hour)
		if code := s.API("POST", "/api/v1/cases/"+id+"/resolve", map[string]any{"note": "Sent a new zip."}, nil); code != 200 {
			t.Fatalf("resolve: %d", code)
		}
		s.Sync()
		if _, err := s.Surveys.Dispatch(context.Background()); err != nil {
			t.Fatal(err)
		}
		link1 := mb.Wait(t, 1).Link()

		// No reason, no reopening.
		code, body := s.Do(http.MethodPost, "/api/v1/cases/"+id+"/status", []byte(`{"status": "open"}`), "Authorization: Bearer "+apptest.Token, "Content-Type: application/json")
		var e struct{ Error struct{ Field string } }
		if json.Unmarshal(body, &e); code != 400 || e.Error.Field != "note" {
			t.Fatalf("a reopening without a reason: %d %s", code, body)
		}
		// Three days on, past the first due time and within the handling
		// survey's own week between asks, reopened with a reason.
		clock.Add(3 * 24 * time.Hour)
		reopenedAt := clock.Now()
		if code := s.API("POST", "/api/v1/cases/"+id+"/status", map[string]any{"status": "open", "note": "The new zip broke too."}, nil); code != 200 {
			t.Fatalf("reopen: %d", code)
		}
		s.Sync()
		var again caseJSON
		s.API("GET", "/api/v1/cases/"+id, nil, &again)
		if again.Status != "open" || again.Breached || again.Reopened != 1 || !again.DueAt.Equal(reopenedAt.Add(sla).Truncate(time.Millisecond)) {
			t.Fatalf("reopened: %+v, want due %s", again, reopenedAt.Add(sla))
		}
		var invs struct {
			Invitations []struct{ Status, Reason, Survey string }
		}
		s.API("GET", "/api/v1/customers/rita/invitations", nil, &invs)
		if len(invs.Invitations) != 1 || invs.Invitations[0].Status != "expired" || invs.Invitations[0].Reason != "case_reopened" {
			t.Fatalf("the first resolution's invitation after the reopening: %+v", invs.Invitations)
		}
		resp, err := noRedirect.Get(link1)
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(page), "expired") {
			t.Fatalf("the withdrawn link reads %q", page)
		}

		// Resolved again: the survey again, and the rating of that one counts.
		clock.Add(2 * time.Hour)
		if code := s.API("POST", "/api/v1/cases/"+id+"/resolve", map[string]any{"note": "Refunded."}, nil); code != 200 {
			t.Fatalf("resolve again: %d", code)
		}
		s.Sync()
		if _, err := s.Surveys.Dispatch(context.Background()); err != nil {
			t.Fatal(err)
		}
		link2 := mb.Wait(t, 2).Link()
		if link2 == link1 {
			t.Fatal("the second resolution sent the first link again")
		}
		if resp, err := noRedirect.PostForm(link2, url.Values{"handling": {"9"}}); err != nil || resp.StatusCode != 200 {
			t.Fatalf("answer: %v %v", resp, err)
		}
		var rep recovery
		s.API("GET", "/api/v1/recovery", nil, &rep)
		if rep.Resolved != 1 || rep.Rated != 1 || rep.HandledWell != 1 || len(rep.Complainers) != 1 || rep.Complainers[0].Handling == nil || *rep.Complainers[0].Handling != 9 {
			t.Fatalf("recovery: %+v", rep)
		}
	})
}
