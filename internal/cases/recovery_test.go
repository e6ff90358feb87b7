package cases_test

import (
	"context"
	"encoding/json"
	"math"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
	"github.com/cxloop/cxloop/internal/survey"
)

type recovery struct {
	Complaints, Resolved, Rated, HandledWell int
	HandledWellShare                         float64
	Outcomes                                 map[string]int
	Complainers                              []struct {
		Case, Customer, Outcome string
		NPSBefore               *float64 `json:"npsBefore"`
		NPSAfter                *float64 `json:"npsAfter"`
		Handling                *float64
		BoughtAgain             bool
	}
}

// A resolved complaint sends the handling survey by email; the report counts
// ratings of 9 or better and follows each complainer for 90 days.
func TestComplaintRecovery(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		clock := apptest.NewClock(apptest.Epoch)
		mb := apptest.StartMailbox(t)
		s := apptest.StartWith(t, dsn, func(c *app.Config) {
			c.Now = clock.Now
			c.Mail = &survey.Mailer{Addr: mb.Addr, From: "care@northwind.test"}
		})
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		var nps struct{ ID string }
		s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "NPS", "rhythm": "pulse", "owner": "marketing",
			"questions": [{"id": "q", "type": "nps", "text": {"en": "?"}}]}`), &nps)
		for _, u := range []string{"kept", "gone", "grumpy"} {
			s.MustSend("identify", map[string]any{"userId": u, "traits": map[string]any{"email": u + "@example.com"}})
			s.API("POST", "/api/v1/surveys/"+nps.ID+"/responses", map[string]any{"customer": u, "answers": map[string]any{"q": 8},
				"at": clock.Now().Add(-time.Hour)}, nil)
			s.MustSend("track", map[string]any{"userId": u, "event": "Complaint Submitted", "properties": map[string]any{"text": "The stove leaks."}})
		}
		cs := listCases(t, s, "kind=complaint")
		if len(cs) != 3 {
			t.Fatalf("cases = %+v", cs)
		}
		for _, c := range cs {
			if code := s.API("POST", "/api/v1/cases/"+c.ID+"/resolve", map[string]any{"note": "Replaced."}, nil); code != 200 {
				t.Fatalf("resolve: %d", code)
			}
		}
		s.Sync()
		if _, err := s.Surveys.Dispatch(context.Background()); err != nil {
			t.Fatal(err)
		}
		links := map[string]string{}
		for i := 1; i <= 3; i++ {
			m := mb.Wait(t, i)
			links[m.To[0]] = m.Link()
		}
		if links["kept@example.com"] == "" || links["gone@example.com"] == "" || links["grumpy@example.com"] == "" {
			t.Fatalf("handling survey mails: %v", links)
		}
		for who, score := range map[string]string{"kept@example.com": "10", "gone@example.com": "4", "grumpy@example.com": "3"} {
			resp, err := noRedirect.PostForm(links[who], url.Values{"handling": {score}})
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("answer %s: %v %v", who, resp, err)
			}
			resp.Body.Close()
		}
		var rep recovery
		s.API("GET", "/api/v1/recovery", nil, &rep)
		if rep.Complaints != 3 || rep.Resolved != 3 || rep.Rated != 3 || rep.HandledWell != 1 || math.Abs(rep.HandledWellShare-0.333) > 1e-9 || rep.Outcomes["waiting"] != 3 {
			t.Fatalf("report = %+v", rep)
		}
		for _, c := range rep.Complainers {
			if c.NPSBefore == nil || *c.NPSBefore != 8 || c.Handling == nil {
				t.Fatalf("complainer = %+v", c)
			}
		}
		// One buys again a month later and rates us 9; one who rated the
		// handling 3 buys again too, unhappy; ninety days on, the other is lost.
		clock.Add(30 * 24 * time.Hour)
		s.API("POST", "/api/v1/surveys/"+nps.ID+"/responses", map[string]any{"customer": "kept", "answers": map[string]any{"q": 9}, "at": clock.Now()}, nil)
		s.MustSend("track", map[string]any{"userId": "kept", "event": "Order Completed", "timestamp": clock.Now().Format(time.RFC3339),
			"properties": map[string]any{"order_id": "again-1", "total": 30}})
		s.MustSend("track", map[string]any{"userId": "grumpy", "event": "Order Completed", "timestamp": clock.Now().Format(time.RFC3339),
			"properties": map[string]any{"order_id": "again-2", "total": 30}})
		clock.Add(61 * 24 * time.Hour)
		s.API("GET", "/api/v1/recovery", nil, &rep)
		outcome := map[float64]string{}
		for _, c := range rep.Complainers {
			outcome[*c.Handling] = c.Outcome
			if (*c.Handling == 10) != (c.NPSAfter != nil && *c.NPSAfter == 9) {
				t.Fatalf("NPS after resolution: %+v", c)
			}
		}
		if outcome[10] != "recovered" || outcome[4] != "lost" || outcome[3] != "unhappy" || rep.Outcomes["recovered"] != 1 || rep.Outcomes["lost"] != 1 || rep.Outcomes["unhappy"] != 1 {
			t.Fatalf("after 90 days: %+v", rep)
		}
	})
}

// The silent dissatisfied: unhappy answers, no complaint, activity dropping.
func TestSilentDissatisfied(t *testing.T) {
	s, clock := apptest.StartAt(t, storetest.DSN(t, "sqlite"), apptest.Epoch)
	var nps struct{ ID string }
	s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "NPS", "rhythm": "pulse", "owner": "marketing",
		"questions": [{"id": "q", "type": "nps", "text": {"en": "?"}}, {"id": "t", "type": "text", "text": {"en": "Why?"}}]}`), &nps)
	old := clock.Now().Add(-120 * 24 * time.Hour)
	for _, c := range []struct {
		user          string
		score         int
		text          string
		recent, older int
		complain      bool
	}{
		{"quiet", 3, "", 0, 4, false},                                        // unhappy, silent, gone quiet: listed
		{"grumbly", 9, "The delivery was late and rude staff.", 1, 5, false}, // negative text: listed
		{"vocal", 2, "", 0, 4, true},                                         // complained: not silent
		{"busy", 3, "", 6, 2, false},                                         // still active: not listed
		{"happy", 10, "", 0, 4, false},                                       // not unhappy
	} {
		for i := range c.older {
			s.MustSend("track", map[string]any{"userId": c.user, "event": "Product Viewed", "timestamp": old.Add(time.Duration(i) * time.Hour).Format(time.RFC3339)})
		}
		for range c.recent {
			s.MustSend("track", map[string]any{"userId": c.user, "event": "Product Viewed"})
		}
		answers := map[string]any{"q": c.score}
		if c.text != "" {
			answers["t"] = c.text
		}
		s.API("POST", "/api/v1/surveys/"+nps.ID+"/responses", map[string]any{"customer": c.user, "answers": answers, "at": old.Add(24 * time.Hour)}, nil)
		if c.complain {
			s.MustSend("track", map[string]any{"userId": c.user, "event": "Complaint Submitted", "timestamp": old.Format(time.RFC3339), "properties": map[string]any{"text": "Bad"}})
		}
	}
	s.Sync()
	var got struct {
		Customers []struct {
			Customer       string
			Negative       int `json:"negativeTexts"`
			Recent, Before int
		}
	}
	s.API("GET", "/api/v1/silent-dissatisfied", nil, &got)
	var users []string
	for _, c := range got.Customers {
		var cus struct {
			Identities []struct{ Kind, Value string }
		}
		s.API("GET", "/api/v1/customers/"+c.Customer, nil, &cus)
		for _, i := range cus.Identities {
			if i.Kind == "user_id" {
				users = append(users, i.Value)
			}
		}
	}
	if strings.Join(users, ",") != "quiet,grumbly" && strings.Join(users, ",") != "grumbly,quiet" {
		t.Fatalf("silent dissatisfied = %v (%+v)", users, got)
	}
}

// Complainers are listed newest complaint first, whatever order the cases
// were opened or changed in.
func TestComplainersNewestFirst(t *testing.T) {
	s, clock := apptest.StartAt(t, storetest.DSN(t, "sqlite"), apptest.Epoch)
	s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
	clock.Add(4 * time.Hour)
	for i, u := range []string{"second", "first", "third"} { // sent in this order, made at these hours
		at := apptest.Epoch.Add(time.Duration([]int{2, 1, 3}[i]) * time.Hour)
		s.MustSend("track", map[string]any{"userId": u, "event": "Complaint Submitted", "timestamp": at.Format(time.RFC3339),
			"properties": map[string]any{"text": "Late."}})
	}
	s.Sync()
	var rep struct {
		Complainers []struct{ Customer, Case string }
	}
	s.API("GET", "/api/v1/recovery", nil, &rep)
	var got []string
	for _, c := range rep.Complainers {
		var cs struct{ UserID string }
		s.API("GET", "/api/v1/cases/"+c.Case, nil, &cs)
		got = append(got, cs.UserID)
	}
	if strings.Join(got, " ") != "third second first" {
		t.Errorf("complainers in the order %v, want the newest first", got)
	}
}
