package experience_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/outbox"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A paused nudge sends nothing, however often the worker runs; resumed, it
// sends; edited, it is checked like a new one; removed, it sends nothing
// more and its uplift stays measured.
func TestPausedNudgeSendsNothing(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		mb := apptest.StartMailbox(t)
		clock := apptest.NewClock(fixed)
		s := apptest.StartWith(t, dsn, func(c *app.Config) {
			c.Now = clock.Now
			c.Mail = &outbox.Mailer{Addr: mb.Addr, From: "Northwind <hello@northwind.test>"}
		})
		ctx := context.Background()
		afterFirstRound(t, s) // it would nudge before the test does
		viewed := fixed.Add(-30 * time.Hour).Format(time.RFC3339)
		for _, u := range []string{"pn-1", "pn-2"} {
			s.MustSend("identify", map[string]any{"userId": u, "traits": map[string]any{"email": u + "@example.com"}})
			s.MustSend("track", map[string]any{"userId": u, "event": "Nudges Consented"})
			s.MustSend("track", map[string]any{"userId": u, "event": "Product Added", "timestamp": viewed, "properties": map[string]any{"product_id": "stove", "name": "Canister Stove"}})
		}
		s.Sync()
		var n struct {
			ID      string
			Active  bool
			Subject string
		}
		if code := s.API("POST", "/api/v1/nudges", map[string]any{"name": "Left behind", "kind": "abandoned", "message": "Still thinking about {{item}}?",
			"holdout_pct": 0, "quiet_from": 0, "quiet_to": 0}, &n); code != 201 {
			t.Fatalf("create: %d", code)
		}
		if code := s.API("PATCH", "/api/v1/nudges/"+n.ID, map[string]any{"active": false}, &n); code != 200 || n.Active {
			t.Fatalf("pause: %d %+v", code, n)
		}
		for range 3 {
			sent, held, err := s.Exp.Nudge(ctx)
			if err != nil || sent+held != 0 {
				t.Fatalf("a paused nudge: sent %d, held %d (%v)", sent, held, err)
			}
			clock.Add(time.Hour)
		}
		if c := mb.Count(); c != 0 {
			t.Fatalf("a paused nudge mailed %d", c)
		}

		if code := s.API("PATCH", "/api/v1/nudges/"+n.ID, map[string]any{"active": true, "subject": "Your stove"}, &n); code != 200 || !n.Active || n.Subject != "Your stove" {
			t.Fatalf("resume: %d %+v", code, n)
		}
		if sent, _, err := s.Exp.Nudge(ctx); err != nil || sent != 2 {
			t.Fatalf("resumed: sent %d (%v)", sent, err)
		}
		if m := mb.Wait(t, 2); !strings.Contains(m.Data, "Subject: Your stove") {
			t.Fatalf("mail: %s", m.Data)
		}

		for _, c := range []struct{ body, field string }{
			{`{"channel": "sms"}`, "channel"},
			{`{"holdout_pct": 100}`, "holdout_pct"},
			{`{"id": "nudge_other"}`, "id"},
			{`{"colour": "red"}`, "colour"},
			{`{"active": "no"}`, "active"},
		} {
			code, body := s.Do("PATCH", "/api/v1/nudges/"+n.ID, []byte(c.body), "Authorization: Bearer "+apptest.Token)
			var e struct{ Error struct{ Field string } }
			_ = json.Unmarshal(body, &e)
			if code != 400 || e.Error.Field != c.field {
				t.Errorf("%s: %d %s, want 400 naming %s", c.body, code, body, c.field)
			}
		}

		// Removed: a new customer's cart gets nothing; the uplift stays.
		if code := s.API("DELETE", "/api/v1/nudges/"+n.ID, nil, nil); code != 204 {
			t.Fatalf("delete: %d", code)
		}
		s.MustSend("identify", map[string]any{"userId": "pn-3", "traits": map[string]any{"email": "pn-3@example.com"}})
		s.MustSend("track", map[string]any{"userId": "pn-3", "event": "Nudges Consented"})
		s.MustSend("track", map[string]any{"userId": "pn-3", "event": "Product Added", "timestamp": clock.Now().Add(-30 * time.Hour).Format(time.RFC3339),
			"properties": map[string]any{"product_id": "stove", "name": "Canister Stove"}})
		s.Sync()
		if sent, held, err := s.Exp.Nudge(ctx); err != nil || sent+held != 0 {
			t.Fatalf("a removed nudge: sent %d, held %d (%v)", sent, held, err)
		}
		var list struct{ Nudges []struct{ ID string } }
		s.API("GET", "/api/v1/nudges", nil, &list)
		if len(list.Nudges) != 0 {
			t.Fatalf("listed after delete: %+v", list)
		}
		var up struct {
			Nudges []struct {
				Nudge   string
				Treated struct{ Pending int }
			}
		}
		s.API("GET", "/api/v1/nudges/uplift", nil, &up)
		if len(up.Nudges) != 1 || up.Nudges[0].Nudge != n.ID || up.Nudges[0].Treated.Pending != 2 {
			t.Fatalf("uplift after delete: %+v", up)
		}
		for _, m := range []string{"PATCH", "DELETE"} {
			if code, _ := s.Do(m, "/api/v1/nudges/"+n.ID, []byte(`{"active": true}`), "Authorization: Bearer "+apptest.Token); code != 404 {
				t.Fatalf("%s a removed nudge: %d", m, code)
			}
		}
		if c := mb.Count(); c != 2 {
			t.Fatalf("%d mails in all, want 2", c)
		}
	})
}

// Paused replenishment schedules nothing and places nothing scheduled;
// resumed, it does both.
func TestPausedReplenishmentActsOnNothing(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, fixed)
		ctx := context.Background()
		afterFirstRound(t, s) // it would schedule before the pause
		s.API("PUT", "/api/v1/product-categories/Coffee", map[string]any{"replenishable": true}, nil)
		for i, d := range []float64{-30, -20, -10} {
			s.MustSend("track", bought("cafe", "c-"+string(rune('a'+i)), fixed.Add(time.Duration(d*24*float64(time.Hour))), "coffee", "Coffee", 1))
		}
		s.MustSend("track", map[string]any{"userId": "cafe", "event": "Replenishment Consented"})
		s.Sync()
		var set struct {
			Paused      bool
			CancelHours float64 `json:"cancel_hours"`
		}
		if code := s.API("PATCH", "/api/v1/replenishment/settings", map[string]any{"paused": true}, &set); code != 200 || !set.Paused || set.CancelHours != 48 {
			t.Fatalf("pause: %d %+v", code, set)
		}
		run := func() (int, int) {
			t.Helper()
			sch, pl, err := s.Exp.Replenish(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return sch, pl
		}
		if sch, pl := run(); sch+pl != 0 {
			t.Fatalf("paused: scheduled %d, placed %d", sch, pl)
		}
		var got replenishments
		if s.API("GET", "/api/v1/customers/cafe/replenishments", nil, &got); len(got.Replenishments) != 0 {
			t.Fatalf("paused, yet scheduled: %+v", got.Replenishments)
		}
		s.API("PATCH", "/api/v1/replenishment/settings", map[string]any{"paused": false}, nil)
		if sch, _ := run(); sch != 1 {
			t.Fatalf("resumed: scheduled %d, want 1", sch)
		}
		s.API("PATCH", "/api/v1/replenishment/settings", map[string]any{"paused": true}, nil)
		clock.Add(49 * time.Hour) // past the cancel window
		if _, pl := run(); pl != 0 {
			t.Fatalf("paused: placed %d", pl)
		}
		if s.API("GET", "/api/v1/customers/cafe/replenishments", nil, &got); len(got.Replenishments) != 1 || got.Replenishments[0].Status != "scheduled" {
			t.Fatalf("paused, the scheduled order: %+v", got.Replenishments)
		}
		var read struct{ Paused bool }
		if s.API("GET", "/api/v1/replenishment/settings", nil, &read); !read.Paused {
			t.Fatal("the settings do not read paused")
		}
		s.API("PATCH", "/api/v1/replenishment/settings", map[string]any{"paused": false}, nil)
		if _, pl := run(); pl != 1 {
			t.Fatalf("resumed: placed %d, want 1", pl)
		}
		for _, c := range []struct{ body, field string }{{`{"lead_days": -1}`, "lead_days"}, {`{"paused": "no"}`, "paused"}, {`{"stop": true}`, "stop"}} {
			code, body := s.Do("PATCH", "/api/v1/replenishment/settings", []byte(c.body), "Authorization: Bearer "+apptest.Token)
			var e struct{ Error struct{ Field string } }
			_ = json.Unmarshal(body, &e)
			if code != 400 || e.Error.Field != c.field {
				t.Errorf("%s: %d %s, want 400 naming %s", c.body, code, body, c.field)
			}
		}
	})
}
