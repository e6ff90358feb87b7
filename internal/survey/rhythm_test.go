package survey_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// Invitations by email through a real SMTP server, with a reminder.
func TestEmailInvitationAndReminder(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		c := apptest.NewClock(apptest.Epoch)
		mb := startMailbox(t)
		s := server(t, dsn, c, mb)
		createSurvey(t, s, `{"name": "Delivery", "rhythm": "persistent", "owner": "logistics",
			"trigger": {"event": "Order Completed"}, "reminders": {"max": 1, "after": "3d"},
			"email": {"subject": {"en": "How was your delivery?", "de": "Wie war Ihre Lieferung?"}},
			"questions": [{"id": "q", "type": "csat", "text": {"en": "How satisfied are you?", "de": "Wie zufrieden sind Sie?"}}]}`)
		s.MustSend("identify", map[string]any{"type": "identify", "userId": "m-1", "traits": map[string]any{"email": "Mia@Example.com", "locale": "de-AT"}})
		s.MustSend("track", order("m-1", "o-1", "web", c.Now()))
		dispatch(t, s)
		m := mb.Wait(t, 1)
		if len(m.To) != 1 || m.To[0] != "mia@example.com" || !strings.Contains(m.Data, "Subject: Wie war Ihre Lieferung?") {
			t.Fatalf("mail to %v:\n%s", m.To, m.Data)
		}
		// No reply address configured: no Reply-To. A CSAT survey: score links 1 to 5.
		if text := m.Text(); strings.Contains(m.Data, "Reply-To:") || !strings.Contains(text, "?score=1") || !strings.Contains(text, "?score=5") ||
			strings.Contains(text, "?score=0") || strings.Contains(text, "?score=6") {
			t.Fatalf("mail:\n%s", text)
		}
		link := m.Link()
		if !strings.HasPrefix(link, s.URL+"/s/inv_") {
			t.Fatalf("link %q in\n%s", link, m.Text())
		}
		if code, page := get(t, link); code != 200 || !strings.Contains(page, "Wie zufrieden sind Sie?") {
			t.Fatalf("page: %d\n%s", code, page)
		}
		invs := invitations(t, s, "mia@example.com")
		if len(invs) != 1 || invs[0].URL != link {
			t.Fatalf("invitations = %+v", invs)
		}

		// No reminder before three days, one after, none after answering.
		c.Add(2 * 24 * time.Hour)
		dispatch(t, s)
		time.Sleep(time.Second)
		if n := mb.Count(); n != 1 {
			t.Fatalf("%d mails before the reminder was due", n)
		}
		c.Add(25 * time.Hour)
		dispatch(t, s)
		r := mb.Wait(t, 2)
		if !strings.Contains(r.Data, "Erinnerung") || r.Link() != link {
			t.Fatalf("reminder:\n%s", r.Text())
		}
		if code, _ := postForm(t, link, url.Values{"q": {"4"}}); code != 200 {
			t.Fatalf("answer: %d", code)
		}
		c.Add(10 * 24 * time.Hour)
		dispatch(t, s)
		time.Sleep(time.Second)
		if n := mb.Count(); n != 2 {
			t.Fatalf("%d mails, want 2", n)
		}
	})
}

// A quarterly relationship survey: one wave per occurrence to a sampled
// segment, not blocked by a post-order survey the week before.
func TestPeriodicSurvey(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		c := apptest.NewClock(time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC))
		s := server(t, dsn, c, nil)
		var batch []map[string]any
		for i := range 8 {
			plan := "gold"
			if i >= 5 {
				plan = "silver"
			}
			batch = append(batch, map[string]any{"type": "identify", "userId": fmt.Sprintf("g-%d", i), "traits": map[string]any{"plan": plan}})
		}
		s.MustSend("batch", map[string]any{"batch": batch})
		createSurvey(t, s, postOrder)
		s.MustSend("track", order("g-0", "o-1", "web", c.Now()))
		dispatch(t, s)
		id := createSurvey(t, s, `{"name": "Quarterly relationship", "rhythm": "periodic", "owner": "marketing",
			"schedule": {"rrule": "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1;BYHOUR=9", "start": "2026-01-01T09:00:00Z"},
			"segment": {"traits": {"plan": "gold"}}, "sampleSize": 3,
			"questions": [{"id": "q", "type": "acsi", "text": {"en": "About us"}}]}`)
		var sv struct {
			NextRun time.Time `json:"nextRun"`
		}
		s.API("GET", "/api/v1/surveys/"+id, nil, &sv)
		if want := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC); !sv.NextRun.Equal(want) {
			t.Fatalf("next run %v, want %v", sv.NextRun, want)
		}
		dispatch(t, s)
		if n := countInvited(t, s, id); n != 0 {
			t.Fatalf("%d invited before the first run", n)
		}
		c.Add(90 * time.Minute)
		dispatch(t, s)
		dispatch(t, s)
		if n := countInvited(t, s, id); n != 3 {
			t.Fatalf("%d invited in the first wave, want 3", n)
		}
		waves := map[string]int{}
		var list struct {
			Invitations []struct {
				Wave     string `json:"wave"`
				Status   string `json:"status"`
				Customer string `json:"customer"`
			} `json:"invitations"`
		}
		s.API("GET", "/api/v1/surveys/"+id+"/invitations", nil, &list)
		for _, i := range list.Invitations {
			waves[i.Wave]++
			if i.Status != "sent" {
				t.Fatalf("wave invitation %+v (a post-order survey must not block it)", i)
			}
		}
		if len(waves) != 1 {
			t.Fatalf("waves = %v", waves)
		}
		s.API("GET", "/api/v1/surveys/"+id, nil, &sv)
		if want := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC); !sv.NextRun.Equal(want) {
			t.Fatalf("next run %v, want %v", sv.NextRun, want)
		}
		c.Add(91 * 24 * time.Hour)
		dispatch(t, s)
		if n := countInvited(t, s, id); n != 6 {
			t.Fatalf("%d invited after two waves, want 6", n)
		}
	})
}

func countInvited(t *testing.T, s *apptest.Server, id string) int {
	t.Helper()
	var f struct {
		Funnel struct {
			Sent    int `json:"sent"`
			Started int `json:"started"`
			Done    int `json:"answered"`
			Expired int `json:"expired"`
		} `json:"funnel"`
	}
	s.API("GET", "/api/v1/surveys/"+id, nil, &f)
	return f.Funnel.Sent + f.Funnel.Started + f.Funnel.Done + f.Funnel.Expired
}

// B2B: several stakeholders of one account, scored per role with a roll-up.
func TestAccountScoresByRole(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	id := createSurvey(t, s, postOrder)
	people := []struct {
		user, role string
		nps        int
	}{{"buyer-1", "purchasing", 9}, {"buyer-2", "purchasing", 10}, {"ops-1", "operations", 3}, {"ceo", "executive", 8}}
	for _, p := range people {
		s.MustSend("group", map[string]any{"type": "group", "userId": p.user, "groupId": "acme", "traits": map[string]any{"role": p.role}})
	}
	s.MustSend("identify", map[string]any{"type": "identify", "userId": "outsider", "traits": map[string]any{"role": "purchasing"}})
	s.Sync()
	for _, p := range append(people, struct {
		user, role string
		nps        int
	}{"outsider", "purchasing", 0}) {
		if code := s.API("POST", "/api/v1/surveys/"+id+"/responses", map[string]any{"customer": p.user, "answers": map[string]any{"q1": p.nps}}, nil); code != 201 {
			t.Fatalf("response: %d", code)
		}
	}
	var got scores
	s.API("GET", "/api/v1/scores?metric=nps&account=acme&by=role", nil, &got)
	byRole := map[string]float64{}
	for _, g := range got.Groups {
		byRole[g.Key] = g.Value
	}
	if byRole["purchasing"] != 100 || byRole["operations"] != -100 || byRole["executive"] != 0 || len(byRole) != 3 {
		t.Fatalf("by role = %+v", got.Groups)
	}
	if got.Overall == nil || got.Overall.N != 4 || got.Overall.Value != 25 {
		t.Fatalf("account roll-up = %+v", got.Overall)
	}
}

// Replaying the survey consumer rebuilds the same scores, and re-applying
// trigger events does not invite anyone twice.
func TestReplay(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		id := createSurvey(t, s, postOrder)
		for i := range 5 {
			s.MustSend("track", order(fmt.Sprintf("r-%d", i), fmt.Sprintf("o-%d", i), "web", clock.Now()))
			s.API("POST", "/api/v1/surveys/"+id+"/responses", map[string]any{"customer": fmt.Sprintf("r-%d", i), "answers": map[string]any{"q1": i * 2}}, nil)
		}
		dispatch(t, s)
		var before, after scores
		s.API("GET", "/api/v1/scores?metric=nps&survey="+id+"&by=channel", nil, &before)
		var invBefore, invAfter int
		s.DB.QueryRow(`SELECT COUNT(*) FROM survey_invitations`).Scan(&invBefore)
		c, err := s.Runner.Lookup("survey")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Runner.Replay(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		s.API("GET", "/api/v1/scores?metric=nps&survey="+id+"&by=channel", nil, &after)
		s.DB.QueryRow(`SELECT COUNT(*) FROM survey_invitations`).Scan(&invAfter)
		if fmt.Sprintf("%+v %+v", before.Groups, *before.Overall) != fmt.Sprintf("%+v %+v", after.Groups, *after.Overall) || len(after.Groups) == 0 || after.Overall.N != 5 {
			t.Fatalf("before %+v\nafter %+v", before, after)
		}
		if invBefore != 5 || invAfter != 5 {
			t.Fatalf("invitations %d → %d", invBefore, invAfter)
		}
	})
}

// A link for the caller's own channel, under the same contact policy.
func TestInviteLink(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	id := createSurvey(t, s, `{"name": "Receipt", "rhythm": "persistent", "owner": "stores", "trigger": {"event": "Never Sent"},
		"questions": [{"id": "q", "type": "csat", "text": {"en": "?"}}]}`)
	s.MustSend("identify", map[string]any{"type": "identify", "userId": "till-1", "traits": map[string]any{"email": "till@example.com"}})
	s.Sync()
	var inv invitation
	if code := s.API("POST", "/api/v1/surveys/"+id+"/invitations", map[string]any{"customer": "till@example.com", "channel": "store", "orderId": "r-1"}, &inv); code != http.StatusCreated ||
		inv.Status != "sent" || !strings.Contains(inv.URL, "/s/inv_") || inv.OrderID != "r-1" {
		t.Fatalf("invite: %d %+v", code, inv)
	}
	if code := s.API("POST", "/api/v1/surveys/"+id+"/invitations", map[string]any{"customer": "till-1"}, &inv); code != http.StatusCreated ||
		inv.Status != "skipped" || inv.Reason != "recontact_wait" || inv.URL != "" {
		t.Fatalf("second invite: %d %+v", code, inv)
	}
	if code := s.API("POST", "/api/v1/surveys/"+id+"/invitations", map[string]any{"customer": "nobody-known"}, nil); code != http.StatusNotFound {
		t.Fatalf("unknown customer: %d", code)
	}
}

// Scores by segment: the customers' segment trait (or another trait).
func TestScoresBySegment(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	id := createSurvey(t, s, postOrder)
	for i, c := range []struct {
		segment, plan string
		nps           int
	}{{"vip", "gold", 10}, {"vip", "gold", 9}, {"new", "basic", 4}, {"new", "gold", 8}} {
		user := fmt.Sprintf("seg-%d", i)
		s.MustSend("identify", map[string]any{"type": "identify", "userId": user, "traits": map[string]any{"segment": c.segment, "plan": c.plan}})
		s.Sync()
		s.API("POST", "/api/v1/surveys/"+id+"/responses", map[string]any{"customer": user, "answers": map[string]any{"q1": c.nps}}, nil)
	}
	// An answer sent as an event by a client, before its customer had a segment.
	s.MustSend("track", map[string]any{"type": "track", "event": "Survey Responded", "userId": "seg-late",
		"properties": map[string]any{"survey_id": id, "answers": map[string]any{"q1": 0}}})
	s.MustSend("identify", map[string]any{"type": "identify", "userId": "seg-late", "traits": map[string]any{"segment": "new"}})
	s.Sync()
	for _, c := range []struct {
		query string
		want  map[string]float64
	}{
		{"by=segment", map[string]float64{"vip": 100, "new": -66.7}},
		{"by=segment&trait=plan", map[string]float64{"gold": 66.7, "basic": -100, "unknown": -100}},
	} {
		var got scores
		if code := s.API("GET", "/api/v1/scores?metric=nps&survey="+id+"&"+c.query, nil, &got); code != 200 {
			t.Fatalf("%s: %d", c.query, code)
		}
		have := map[string]float64{}
		for _, g := range got.Groups {
			have[g.Key] = g.Value
		}
		if fmt.Sprint(have) != fmt.Sprint(c.want) {
			t.Fatalf("%s: %v, want %v", c.query, have, c.want)
		}
	}
}

// Inviting a customer is something the business does: it stays on the
// timeline but does not move the profile's last-seen time or counts.
func TestInvitationsAreNotTouchpoints(t *testing.T) {
	s, clock := apptest.StartAt(t, storetest.DSN(t, "sqlite"), apptest.Epoch)
	createSurvey(t, s, postOrder)
	s.MustSend("track", order("t-1", "o-1", "web", clock.Now().Add(-time.Hour)))
	s.Sync()
	var before, after struct {
		EventCount int
		LastSeen   time.Time
		Channels   []struct{ Channel string }
	}
	s.API("GET", "/api/v1/customers/t-1", nil, &before)
	if invs := invitations(t, s, "t-1"); len(invs) != 1 || invs[0].Status != "sent" {
		t.Fatalf("invitations: %+v", invs)
	}
	s.Sync()
	s.API("GET", "/api/v1/customers/t-1", nil, &after)
	if before.EventCount != 1 || after.EventCount != 1 || !after.LastSeen.Equal(before.LastSeen) || len(after.Channels) != 1 {
		t.Fatalf("before %+v, after %+v", before, after)
	}
	var tl struct{ Events []struct{ Event string } }
	s.API("GET", "/api/v1/customers/t-1/timeline", nil, &tl)
	if len(tl.Events) != 2 {
		t.Fatalf("timeline: %+v", tl.Events)
	}
}

// Scores by store: an answer is about the store its invitation's trigger
// names (an Order Completed with a store), whichever path the answer took —
// the survey page, or a client's Survey Responded answering the
// invitation — or about the store the answer names itself.
func TestScoresByStore(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		c := apptest.NewClock(time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC))
		s := server(t, dsn, c, nil)
		id := createSurvey(t, s, `{"name": "Store visit", "rhythm": "persistent", "owner": "stores", "delivery": "link",
			"trigger": {"event": "Order Completed", "where": {"channel": "store"}},
			"questions": [{"id": "q1", "type": "nps", "text": {"en": "Recommend us?"}}]}`)
		buy := func(user, orderID, shop string) {
			m := order(user, orderID, "store", c.Now())
			m["properties"].(map[string]any)["store"] = shop
			s.MustSend("track", m)
		}
		buy("st-1", "o-1", "Porto")
		buy("st-2", "o-2", "Porto")
		buy("st-3", "o-3", "Lisboa")
		s.Sync()
		// st-1 answers on the page, st-2 through its app (/v1), st-3 on the page.
		for _, a := range []struct {
			user  string
			score int
			page  bool
		}{{"st-1", 10, true}, {"st-2", 3, false}, {"st-3", 9, true}} {
			invs := invitations(t, s, a.user)
			if len(invs) != 1 || invs[0].URL == "" {
				t.Fatalf("%s: invitations %+v", a.user, invs)
			}
			if a.page {
				if code, page := postForm(t, invs[0].URL, url.Values{"q1": {fmt.Sprint(a.score)}}); code != 200 {
					t.Fatalf("%s: page answer %d\n%s", a.user, code, page)
				}
				continue
			}
			s.MustSend("track", map[string]any{"type": "track", "event": "Survey Responded", "userId": a.user,
				"properties": map[string]any{"survey_id": id, "order_id": "o-2", "answers": map[string]any{"q1": a.score}}})
		}
		// An answer recorded through the API names its store.
		if code := s.API("POST", "/api/v1/surveys/"+id+"/responses", map[string]any{"customer": "st-4", "store": "Lisboa",
			"answers": map[string]any{"q1": 9}}, nil); code != http.StatusCreated {
			t.Fatalf("api answer: %d", code)
		}
		s.Sync()
		var got scores
		if code := s.API("GET", "/api/v1/scores?metric=nps&survey="+id+"&by=store", nil, &got); code != 200 {
			t.Fatalf("scores: %d", code)
		}
		have := map[string]string{}
		for _, g := range got.Groups {
			have[g.Key] = fmt.Sprintf("%v/%d", g.Value, g.N)
		}
		// Porto: 10 and 3, a promoter and a detractor; Lisboa: 9 and 9.
		if want := map[string]string{"Porto": "0/2", "Lisboa": "100/2"}; fmt.Sprint(have) != fmt.Sprint(want) {
			t.Fatalf("by store %v, want %v", have, want)
		}
		if code := s.API("GET", "/api/v1/scores?metric=nps&by=shop", nil, nil); code != http.StatusBadRequest {
			t.Fatalf("by=shop: %d", code)
		}
	})
}
