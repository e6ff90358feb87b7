package cases_test

import (
	"encoding/json"
	"net/url"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type teamSLA struct {
	TeamName                      string
	Cases, Met, Breached, Pending int
	Compliance                    *float64
	Small                         bool
}

// SLA compliance per team over the cases opened in a period: met when
// resolved by the due time, breached when resolved later or open past it,
// pending when open and not yet due; the expected figures follow from the
// rules' SLAs and the times the test resolves at.
func TestSLACompliancePerTeam(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		t0 := apptest.Epoch
		s, clock := apptest.StartAt(t, dsn, t0.Add(-10*24*time.Hour))
		at := func(d time.Duration) { clock.Add(t0.Add(d).Sub(clock.Now())) }
		s.API("POST", "/api/v1/teams", map[string]any{"name": "returns"}, nil)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "care"}, nil)
		s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "defects", "when": {"event": "Order Refunded", "reason": "defective"},
			"then": {"open_case": {"team": "returns", "kind": "return", "sla": "24h"}}}`), nil)
		s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "angry posts", "when": {"event": "Social Mention", "sentiment": "negative"},
			"then": {"open_case": {"team": "care", "kind": "complaint", "sla": "4h"}}}`), nil)
		refund := func(order string) string {
			s.MustSend("track", map[string]any{"userId": "u-" + order, "event": "Order Refunded", "properties": map[string]any{"order_id": order, "reason": "defective"}})
			s.Sync()
			for _, c := range listCases(t, s, "team=returns&status=all") {
				if c.OrderID == order {
					return c.ID
				}
			}
			t.Fatalf("no case for %s", order)
			return ""
		}
		mention := func(handle string) {
			s.API("POST", "/api/v1/mentions", map[string]any{"platform": "instagram", "handle": handle, "text": "The boots were damaged and support was rude."}, nil)
			s.Sync()
		}
		resolve := func(id string) {
			if code := s.API("POST", "/api/v1/cases/"+id+"/resolve", map[string]any{"note": "done"}, nil); code != 200 {
				t.Fatalf("resolve %s: %d", id, code)
			}
		}
		// Ten days before: a return resolved in time (outside the period below).
		r0 := refund("o-0")
		at(-10*24*time.Hour + time.Hour)
		resolve(r0)
		at(0)
		r1 := refund("o-1") // due t0+24h
		at(time.Hour)
		r2 := refund("o-2") // due t0+25h
		at(2 * time.Hour)
		resolve(r1)     // met
		mention("@one") // due t0+6h, never resolved: breached
		at(30 * time.Hour)
		resolve(r2) // 5 hours late: breached
		at(47 * time.Hour)
		mention("@two") // due t0+51h: pending
		at(48 * time.Hour)

		get := func(q url.Values) map[string]teamSLA {
			var out struct{ Teams []teamSLA }
			if code := s.API("GET", "/api/v1/sla?"+q.Encode(), nil, &out); code != 200 {
				t.Fatalf("sla?%s: %d", q.Encode(), code)
			}
			m := map[string]teamSLA{}
			for _, x := range out.Teams {
				m[x.TeamName] = x
			}
			return m
		}
		period := url.Values{"from": {t0.Add(-time.Hour).Format(time.RFC3339)}, "to": {t0.Add(48 * time.Hour).Format(time.RFC3339)}}
		got := get(period)
		want := map[string][4]int{"returns": {2, 1, 1, 0}, "care": {2, 0, 1, 1}}
		for team, w := range want {
			g := got[team]
			if [4]int{g.Cases, g.Met, g.Breached, g.Pending} != w || g.Compliance == nil || *g.Compliance != float64(w[1])/float64(w[1]+w[2]) || !g.Small {
				t.Errorf("%s in the period: %+v, want cases, met, breached, pending %v", team, g, w)
			}
		}
		if all := get(url.Values{})["returns"]; all.Cases != 3 || all.Met != 2 || all.Breached != 1 {
			t.Errorf("returns of all time: %+v", all)
		}
		// Complaints of the period on the recovery report.
		var rec recovery
		s.API("GET", "/api/v1/recovery?from="+url.QueryEscape(t0.Add(3*time.Hour).Format(time.RFC3339)), nil, &rec)
		if rec.Complaints != 1 {
			t.Errorf("complaints opened after t0+3h: %d, want 1", rec.Complaints)
		}
		s.API("GET", "/api/v1/recovery", nil, &rec)
		if rec.Complaints != 2 {
			t.Errorf("complaints of all time: %d, want 2", rec.Complaints)
		}
		var e struct{ Error struct{ Field string } }
		if code := s.API("GET", "/api/v1/sla?from=yesterday", nil, &e); code != 400 || e.Error.Field != "from" {
			t.Errorf("a bad from: %d %+v", code, e)
		}
		if code := s.API("GET", "/api/v1/recovery?from=2026-05-02&to=2026-05-01", nil, &e); code != 400 || e.Error.Field != "to" {
			t.Errorf("to before from: %d %+v", code, e)
		}
	})
}
