package experience_test

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A nudge's past sends, imported, give its uplift from the start: each
// customer once, in the arm of their first send, converted by an order
// within the conversion days; sends still within them are pending. The
// test computes the arms and the interval from what it sends.
func TestNudgeHistoryUplift(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, _ := apptest.StartAt(t, dsn, fixed)
		var n struct{ ID string }
		if code := s.API("POST", "/api/v1/nudges", map[string]any{"name": "Carts", "kind": "abandoned", "message": "Hi", "holdout_pct": 25}, &n); code != 201 {
			t.Fatalf("nudge: %d", code)
		}
		type arm struct{ n, converted int }
		var treated, held arm
		var sends []map[string]any
		for i := range 80 {
			u := fmt.Sprintf("c-%02d", i)
			s.MustSend("identify", map[string]any{"userId": u, "traits": map[string]any{"email": u + "@example.com"}})
			at := fixed.AddDate(0, 0, -40).Add(time.Duration(i) * time.Hour)
			status, a, converts := "sent", &treated, i%3 == 0
			if i%4 == 0 {
				status, a, converts = "held_out", &held, i%8 == 0
			}
			a.n++
			if converts {
				a.converted++
				s.MustSend("track", order(u, "conv-"+u, at.Add(50*time.Hour), "tent", 1))
			} else if i%5 == 1 {
				s.MustSend("track", order(u, "late-"+u, at.Add(9*24*time.Hour), "tent", 1)) // after the week: no conversion
			}
			sends = append(sends, map[string]any{"customer": u, "status": status, "at": at.Format(time.RFC3339), "product_id": "tent"})
		}
		s.MustSend("identify", map[string]any{"userId": "recent", "traits": map[string]any{"email": "recent@example.com"}})
		sends = append(sends,
			map[string]any{"customer": "c-01", "status": "held_out", "at": fixed.AddDate(0, 0, -20).Format(time.RFC3339), "product_id": "stove"}, // not their first
			map[string]any{"customer": "recent", "status": "sent", "at": fixed.AddDate(0, 0, -2).Format(time.RFC3339)},                           // still within its week
			map[string]any{"customer": "nobody", "status": "sent", "at": fixed.AddDate(0, 0, -20).Format(time.RFC3339)},
			map[string]any{"customer": "c-02", "status": "sent", "at": fixed.Add(time.Hour).Format(time.RFC3339)},
			map[string]any{"customer": "c-02", "status": "opened", "at": fixed.AddDate(0, 0, -20).Format(time.RFC3339)},
		)
		s.Sync()
		var res struct {
			Recorded, Already int
			Refused           []struct {
				Row   int
				Field string
			}
		}
		if code := s.API("POST", "/api/v1/nudges/"+n.ID+"/history", map[string]any{"sends": sends}, &res); code != 200 || res.Recorded != 82 || res.Already != 0 ||
			len(res.Refused) != 3 || res.Refused[0].Field != "customer" || res.Refused[1].Field != "at" || res.Refused[2].Field != "status" {
			t.Fatalf("import: %d %+v", code, res)
		}
		if code := s.API("POST", "/api/v1/nudges/"+n.ID+"/history", map[string]any{"sends": sends[:10]}, &res); code != 200 || res.Recorded != 0 || res.Already != 10 {
			t.Fatalf("again: %d %+v", code, res)
		}
		if code := s.API("POST", "/api/v1/nudges/nudge_none/history", map[string]any{"sends": sends[:1]}, nil); code != 404 {
			t.Fatalf("unknown nudge: %d", code)
		}
		s.Sync()
		var up struct {
			Nudges []struct {
				Treated, Holdout struct {
					N, Converted, Pending int
					Rate                  float64
				}
				Measured          bool
				Uplift, Low, High float64
				CILow             float64 `json:"ci_low"`
				CIHigh            float64 `json:"ci_high"`
				SmallSample       bool    `json:"small_sample"`
				Significant       bool
			}
		}
		s.API("GET", "/api/v1/nudges/uplift", nil, &up)
		u := up.Nudges[0]
		p1, p0 := float64(treated.converted)/float64(treated.n), float64(held.converted)/float64(held.n)
		lo, hi := hybrid(treated.converted, treated.n, held.converted, held.n)
		if u.Treated.N != treated.n || u.Treated.Converted != treated.converted || u.Holdout.N != held.n || u.Holdout.Converted != held.converted ||
			u.Treated.Pending != 1 || u.Holdout.Pending != 0 || math.Abs(u.Treated.Rate-p1) > 1e-9 || math.Abs(u.Uplift-(p1-p0)) > 1e-9 ||
			math.Abs(u.CILow-lo) > 1e-9 || math.Abs(u.CIHigh-hi) > 1e-9 || !u.Measured || u.SmallSample != (held.n < 30) {
			t.Fatalf("uplift %+v; want treated %+v, held out %+v, %.3f (%.3f, %.3f)", u, treated, held, p1-p0, lo, hi)
		}
		// By period: only the customers first nudged or held out in it,
		// c-00 to c-39 for the first 40 hours; the later sends are
		// outside it, and so is the one still within its week.
		var early arm
		var earlyHeld arm
		for i := range 40 {
			a, converts := &early, i%3 == 0
			if i%4 == 0 {
				a, converts = &earlyHeld, i%8 == 0
			}
			a.n++
			if converts {
				a.converted++
			}
		}
		start := fixed.AddDate(0, 0, -40)
		s.API("GET", "/api/v1/nudges/uplift?from="+start.Format(time.RFC3339)+"&to="+start.Add(40*time.Hour).Format(time.RFC3339), nil, &up)
		if u := up.Nudges[0]; u.Treated.N != early.n || u.Treated.Converted != early.converted || u.Holdout.N != earlyHeld.n ||
			u.Holdout.Converted != earlyHeld.converted || u.Treated.Pending != 0 {
			t.Fatalf("uplift of the first 40 hours %+v; want treated %+v, held out %+v", u, early, earlyHeld)
		}
		s.API("GET", "/api/v1/nudges/uplift?from="+fixed.AddDate(0, 0, -7).Format(time.RFC3339), nil, &up)
		if u := up.Nudges[0]; u.Treated.N != 0 || u.Holdout.N != 0 || u.Treated.Pending != 1 || u.Measured {
			t.Fatalf("uplift of the last week %+v: only the pending send", u)
		}
		if code, _ := s.Do("GET", "/api/v1/nudges/uplift?from=soon", nil, "Authorization: Bearer "+apptest.Token); code != 400 {
			t.Fatalf("a bad from: %d", code)
		}
		// The history is the business's acts, at their own time: on the
		// timeline, but no touchpoint of the customer.
		var ev struct {
			Events []struct {
				Timestamp time.Time
				Message   struct{ Properties map[string]any }
			}
		}
		s.API("GET", "/api/v1/events?type=Nudge+Held+Out&customer=c-04", nil, &ev)
		if len(ev.Events) != 1 || ev.Events[0].Message.Properties["history"] != true || !ev.Events[0].Timestamp.Equal(fixed.AddDate(0, 0, -40).Add(4*time.Hour)) {
			t.Fatalf("events: %+v", ev)
		}
		var c struct {
			EventCount int64 `json:"eventCount"`
		}
		if s.API("GET", "/api/v1/customers/c-04", nil, &c); c.EventCount != 1 {
			t.Fatalf("c-04 has %d events: the identify only", c.EventCount)
		}
	})
}

// hybrid is the test's own 95% interval of x1/n1 − x0/n0 by Newcombe's
// hybrid score method, from the two Wilson score intervals.
func hybrid(x1, n1, x0, n0 int) (float64, float64) {
	const z = 1.959964
	score := func(x, n int) (float64, float64, float64) {
		p, m := float64(x)/float64(n), float64(n)
		c := (2*m*p + z*z) / (2 * (m + z*z))
		h := z * math.Sqrt(4*m*p*(1-p)+z*z) / (2 * (m + z*z))
		return p, c - h, c + h
	}
	p1, l1, u1 := score(x1, n1)
	p0, l0, u0 := score(x0, n0)
	return p1 - p0 - math.Hypot(p1-l1, u0-p0), p1 - p0 + math.Hypot(u1-p1, p0-l0)
}
