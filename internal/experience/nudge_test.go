package experience_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/outbox"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// An abandoned-request nudge reaches only customers who consented, outside
// their quiet hours, within the frequency cap; a random holdout is left
// alone; the uplift report compares their conversion with a 95% interval.
func TestNudges(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		mb := apptest.StartMailbox(t)
		noon := fixed // 12:00 UTC
		clock := apptest.NewClock(noon)
		s := apptest.StartWith(t, dsn, func(c *app.Config) {
			c.Now = clock.Now
			c.Mail = &outbox.Mailer{Addr: mb.Addr, From: "Northwind <hello@northwind.test>"}
		})
		ctx := context.Background()
		viewed := noon.Add(-30 * time.Hour).Format(time.RFC3339)
		names := map[string]string{"tent": "Ridge 2 Tent", "stove": "Canister Stove"}
		for i := range 40 {
			u := fmt.Sprintf("viewer-%02d", i)
			traits := map[string]any{"email": u + "@example.com", "firstName": "V" + u[7:]}
			if i == 1 {
				traits["timezone"] = "Asia/Tokyo" // 21:00 there: quiet
			}
			if i == 2 {
				traits["nudge_consent"] = true
			}
			s.MustSend("identify", map[string]any{"userId": u, "traits": traits})
			if i > 2 {
				s.MustSend("track", map[string]any{"userId": u, "event": "Nudges Consented"})
			}
			if i == 1 {
				s.MustSend("track", map[string]any{"userId": u, "event": "Nudges Consented"})
			}
			s.MustSend("track", map[string]any{"userId": u, "event": "Product Viewed", "timestamp": viewed, "properties": map[string]any{"product_id": "tent", "name": names["tent"]}})
			s.MustSend("track", map[string]any{"userId": u, "event": "Product Added", "timestamp": viewed, "properties": map[string]any{"product_id": "stove", "name": names["stove"],
				"image_url": "https://shop.example/stove.jpg"}})
		}
		// viewer-03 ordered the tent after viewing it: nothing to nudge about.
		s.MustSend("track", order("viewer-03", "v3-1", noon.Add(-20*time.Hour), "tent", 1))
		s.Sync()
		if code := s.API("POST", "/api/v1/nudges", map[string]any{"name": "Tent left behind", "kind": "abandoned", "message": "x", "channel": "sms"}, nil); code != 400 {
			t.Fatalf("sms nudge: %d", code)
		}
		// A nudge limited to a segment reaches only its customers (here: one; by webhook, a channel of its own for the cap).
		var vip struct{ ID string }
		if code := s.API("POST", "/api/v1/nudges", map[string]any{"name": "For viewer 5", "kind": "abandoned", "message": "Hi", "holdout_pct": 0, "channel": "webhook",
			"segment": map[string]any{"traits": map[string]any{"email": "viewer-05@example.com"}}}, &vip); code != 201 {
			t.Fatalf("segment nudge: %d", code)
		}
		var n1 struct{ ID string }
		if code := s.API("POST", "/api/v1/nudges", map[string]any{"name": "Still thinking about it?", "kind": "abandoned", "window_hours": 24, "holdout_pct": 50,
			"subject": "Your {{item}}", "message": "Hi {{name}}, the {{item}} you looked at is waiting."}, &n1); code != 201 {
			t.Fatalf("nudge: %d", code)
		}
		if _, _, err := s.Exp.Nudge(ctx); err != nil {
			t.Fatal(err)
		}
		var up struct {
			Nudges []struct {
				Nudge            string
				Treated, Holdout struct{ N, Converted, Pending int }
				Measured         bool
				Uplift           float64
				CILow            float64 `json:"ci_low"`
				CIHigh           float64 `json:"ci_high"`
				SmallSample      bool    `json:"small_sample"`
				Note             string
				Significant      bool
			}
		}
		s.API("GET", "/api/v1/nudges/uplift", nil, &up)
		// The segment's nudge reached viewer-05 alone.
		if len(up.Nudges) != 2 {
			t.Fatalf("uplift: %+v", up)
		}
		if up.Nudges[0].Nudge == vip.ID {
			up.Nudges[0], up.Nudges[1] = up.Nudges[1], up.Nudges[0]
		}
		if seg := up.Nudges[1]; seg.Nudge != vip.ID || seg.Treated.Pending != 1 || seg.Holdout.Pending != 0 || seg.Treated.N != 0 || seg.Measured {
			t.Fatalf("segment nudge sent to: %+v", up.Nudges)
		}
		up.Nudges = up.Nudges[:1]
		// 40 viewers less viewer-00 (no consent) and viewer-01 (quiet hours): 38 customers, each
		// nudged once (the cap of one a week holds back the second subject) or held out; all
		// pending until their week to order has passed.
		if f := up.Nudges[0]; len(up.Nudges) != 1 || f.Treated.Pending+f.Holdout.Pending != 38 || f.Treated.Pending < 8 || f.Holdout.Pending < 8 ||
			f.Treated.N+f.Holdout.N != 0 || f.Measured || f.Note == "" {
			t.Fatalf("first run: %+v", up)
		}
		// The holdout is stable; a second run nudges no one again.
		first := up.Nudges[0]
		if _, _, err := s.Exp.Nudge(ctx); err != nil {
			t.Fatal(err)
		}
		s.API("GET", "/api/v1/nudges/uplift", nil, &up)
		if up.Nudges[0].Nudge == vip.ID {
			up.Nudges = up.Nudges[1:]
		}
		if up.Nudges[0].Treated.Pending != first.Treated.Pending || up.Nudges[0].Holdout.Pending != first.Holdout.Pending {
			t.Fatalf("second run: %+v, first %+v", up.Nudges[0], first)
		}
		mail := mb.Wait(t, 1)
		if len(mail.To) != 1 || !strings.HasPrefix(mail.To[0], "viewer-") || !strings.Contains(mail.Text(), "is waiting") {
			t.Fatalf("mail: %+v", mail)
		}
		// The customer reads the product's name, in the subject and the text, never its id.
		if text := mail.Text(); !strings.Contains(text, "the "+names["tent"]+" you looked at") && !strings.Contains(text, "the "+names["stove"]+" you looked at") ||
			!strings.Contains(mail.Data, "Subject: Your ") || strings.Contains(mail.Data, "Subject: Your tent") || strings.Contains(mail.Data, "Subject: Your stove") {
			t.Fatalf("mail names no product: %s", mail.Data)
		}
		// Half the nudged order within the week, none of the held out.
		var nudged []string
		var ev struct {
			Events []struct {
				UserID  string `json:"userId"`
				Message struct{ Properties map[string]any }
			}
		}
		s.API("GET", "/api/v1/events?type=Nudge+Sent&limit=100", nil, &ev)
		for _, e := range ev.Events {
			p := e.Message.Properties
			if p["nudge_id"] == n1.ID {
				nudged = append(nudged, e.UserID)
				item, _ := p["product_id"].(string)
				if want := "Hi V" + e.UserID[7:] + ", the " + names[item] + " you looked at is waiting."; p["message"] != want || p["name"] != names[item] || p["subject"] != "Your "+names[item] {
					t.Fatalf("Nudge Sent %+v, want %q", p, want)
				}
				if item == "stove" && p["image_url"] != "https://shop.example/stove.jpg" {
					t.Fatalf("Nudge Sent without the image: %+v", p)
				}
			}
		}
		for i, u := range nudged {
			if i%2 == 0 {
				s.MustSend("track", order(u, "conv-"+u, noon.Add(24*time.Hour), "tent", 1))
			}
		}
		s.Sync()
		clock.Add(8 * 24 * time.Hour) // the week to order has passed
		s.API("GET", "/api/v1/nudges/uplift", nil, &up)
		u := up.Nudges[0]
		if u.Nudge == vip.ID {
			u = up.Nudges[1]
		}
		converted := (len(nudged) + 1) / 2
		if u.Treated.N != first.Treated.Pending || u.Holdout.N != first.Holdout.Pending || u.Treated.Pending+u.Holdout.Pending != 0 ||
			u.Treated.Converted != converted || u.Holdout.Converted != 0 || !u.Measured || u.Uplift <= 0 || !(u.CILow < u.Uplift && u.Uplift < u.CIHigh) {
			t.Fatalf("uplift: %+v", u)
		}
		// 38 customers are too few to tell, and the report says so.
		if !u.SmallSample || u.Significant || !strings.Contains(u.Note, "too few") {
			t.Fatalf("small sample: %+v", u)
		}
	})
}

// Quiet hours are any window, crossing midnight or not; the same hour
// twice means none; a value out of range is refused naming its field.
func TestNudgeQuietHours(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		now := time.Date(2026, 3, 10, 23, 30, 0, 0, time.UTC)
		s, _ := apptest.StartAt(t, dsn, now)
		ctx := context.Background()
		hours := func(from, to int) *[2]int { return &[2]int{from, to} }
		cases := []struct {
			name  string
			quiet *[2]int // nil: left out
		}{
			{"none", hours(0, 0)},
			{"night across midnight", hours(22, 7)},
			{"day", hours(8, 22)},
			{"left out", nil},
			{"last hour", hours(23, 0)},
			{"same hour", hours(5, 5)},
		}
		// Whether 23:30 (the customers' time: UTC) is quiet, from the window alone.
		isQuiet := func(q *[2]int) bool {
			from, to := 21, 8
			if q != nil {
				from, to = q[0], q[1]
			}
			h := now.Hour()
			switch {
			case from == to:
				return false
			case from < to:
				return h >= from && h < to
			}
			return h >= from || h < to
		}
		ids := map[string]string{}
		for i, c := range cases {
			u := fmt.Sprintf("quiet-%d", i)
			s.MustSend("identify", map[string]any{"userId": u, "traits": map[string]any{"email": u + "@example.com", "nudge_consent": true}})
			s.MustSend("track", map[string]any{"userId": u, "event": "Product Viewed", "timestamp": now.Add(-30 * time.Hour).Format(time.RFC3339),
				"properties": map[string]any{"product_id": "tent", "name": "Ridge 2 Tent"}})
			body := map[string]any{"name": c.name, "kind": "abandoned", "message": "{{item}}", "channel": "webhook", "holdout_pct": 0,
				"segment": map[string]any{"traits": map[string]any{"email": u + "@example.com"}}}
			if c.quiet != nil {
				body["quiet_from"], body["quiet_to"] = c.quiet[0], c.quiet[1]
			}
			var n struct {
				ID        string
				QuietFrom int `json:"quiet_from"`
				QuietTo   int `json:"quiet_to"`
			}
			if code := s.API("POST", "/api/v1/nudges", body, &n); code != 201 {
				t.Fatalf("%s: %d", c.name, code)
			}
			if c.quiet != nil && (n.QuietFrom != c.quiet[0] || n.QuietTo != c.quiet[1]) {
				t.Fatalf("%s is stored as %d–%d", c.name, n.QuietFrom, n.QuietTo)
			}
			ids[u] = n.ID
		}
		s.Sync()
		if _, _, err := s.Exp.Nudge(ctx); err != nil {
			t.Fatal(err)
		}
		s.Sync()
		var ev eventList
		s.API("GET", "/api/v1/events?type=Nudge+Sent&limit=100", nil, &ev)
		sent := map[string]bool{}
		for _, e := range ev.Events {
			sent[e.UserID] = true
		}
		for i, c := range cases {
			if u := fmt.Sprintf("quiet-%d", i); sent[u] == isQuiet(c.quiet) {
				t.Errorf("%s: sent %v at 23:30", c.name, sent[u])
			}
		}
		for _, c := range []struct {
			body  string
			field string
		}{
			{`{"quiet_to": 24}`, "quiet_to"},
			{`{"quiet_from": -1}`, "quiet_from"},
			{`{"quiet_from": "late"}`, "quiet_from"},
			{`{"quiet_from": 21.5}`, "quiet_from"},
		} {
			var in map[string]any
			_ = json.Unmarshal([]byte(c.body), &in)
			in["name"], in["kind"], in["message"] = "Bad", "abandoned", "x"
			var e struct{ Error struct{ Field string } }
			if code := s.API("POST", "/api/v1/nudges", in, &e); code != 400 || e.Error.Field != c.field {
				t.Errorf("%s: %d %+v, want 400 naming %s", c.body, code, e, c.field)
			}
		}
	})
}

// Without a mail server an email nudge sends nothing and holds no one
// out, while a webhook nudge goes on: no send is recorded for a message
// that never left, so the uplift compares no one.
func TestEmailNudgesWaitForAMailServer(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, _ := apptest.StartAt(t, dsn, fixed)
		viewed := fixed.Add(-30 * time.Hour).Format(time.RFC3339)
		for _, u := range []string{"quiet-1", "quiet-2"} {
			s.MustSend("identify", map[string]any{"userId": u, "traits": map[string]any{"email": u + "@example.com", "nudge_consent": true}})
			s.MustSend("track", map[string]any{"userId": u, "event": "Product Viewed", "timestamp": viewed, "properties": map[string]any{"product_id": "tent"}})
		}
		s.Sync()
		ids := map[string]string{}
		for _, ch := range []string{"email", "webhook"} {
			var n struct{ ID string }
			if code := s.API("POST", "/api/v1/nudges", map[string]any{"name": "By " + ch, "kind": "abandoned", "message": "Hi", "holdout_pct": 0, "channel": ch}, &n); code != 201 {
				t.Fatalf("%s nudge: %d", ch, code)
			}
			ids[n.ID] = ch
		}
		sent, held, err := s.Exp.Nudge(t.Context())
		if err != nil || sent != 2 || held != 0 {
			t.Fatalf("nudged: %d sent, %d held out, %v; want the webhook nudge's 2", sent, held, err)
		}
		var up struct {
			Nudges []struct {
				Nudge, Channel   string
				Treated, Holdout struct{ N, Pending int }
			}
		}
		s.API("GET", "/api/v1/nudges/uplift", nil, &up)
		for _, u := range up.Nudges {
			want := map[string]int{"email": 0, "webhook": 2}[ids[u.Nudge]]
			if u.Channel != ids[u.Nudge] || u.Treated.Pending != want || u.Holdout.Pending+u.Holdout.N+u.Treated.N != 0 {
				t.Errorf("uplift of the %s nudge: %+v, want %d pending", ids[u.Nudge], u, want)
			}
		}
		if len(up.Nudges) != 2 {
			t.Fatalf("uplift: %+v", up)
		}
	})
}
