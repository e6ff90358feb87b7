package loyalty_test

import (
	"encoding/json"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A paused earning rule earns nothing on what arrives while it is paused;
// resumed and edited, it earns at its new rate; bad edits name the field.
func TestPausedEarningRuleEarnsNothing(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		var rule struct {
			ID            string
			Paused        bool
			PointsPerUnit float64 `json:"points_per_unit"`
		}
		if code := s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, &rule); code != 201 || rule.Paused {
			t.Fatalf("rule: %d %+v", code, rule)
		}
		balance := func() int64 {
			t.Helper()
			s.Sync()
			var sum summary
			s.API("GET", "/api/v1/customers/lp-1/loyalty", nil, &sum)
			return sum.Balance
		}
		s.MustSend("track", order("lp-1", "o-1", 100))
		if b := balance(); b != 100 {
			t.Fatalf("balance %d, want 100", b)
		}
		if code := s.API("PATCH", "/api/v1/loyalty/rules/"+rule.ID, map[string]any{"paused": true}, &rule); code != 200 || !rule.Paused {
			t.Fatalf("pause: %d %+v", code, rule)
		}
		s.MustSend("track", order("lp-1", "o-2", 50))
		if b := balance(); b != 100 {
			t.Fatalf("a paused rule earned: balance %d, want 100", b)
		}
		if code := s.API("PATCH", "/api/v1/loyalty/rules/"+rule.ID, map[string]any{"paused": false, "points_per_unit": 2}, &rule); code != 200 || rule.Paused || rule.PointsPerUnit != 2 {
			t.Fatalf("resume: %d %+v", code, rule)
		}
		s.MustSend("track", order("lp-1", "o-3", 10))
		if b := balance(); b != 120 {
			t.Fatalf("balance %d, want 100 + 2 × 10", b)
		}
		for _, c := range []struct{ body, field string }{
			{`{"points_per_unit": -1}`, "points_per_unit"},
			{`{"on": " "}`, "on"},
			{`{"beneficiary": "neighbour"}`, "beneficiary"},
			{`{"id": "lrule_other"}`, "id"},
			{`{"paused": "yes"}`, "paused"},
			{`{"bonus": 3}`, "bonus"},
		} {
			code, body := s.Do("PATCH", "/api/v1/loyalty/rules/"+rule.ID, []byte(c.body), "Authorization: Bearer "+apptest.Token)
			var e struct{ Error struct{ Field string } }
			_ = json.Unmarshal(body, &e)
			if code != 400 || e.Error.Field != c.field {
				t.Errorf("%s: %d %s, want 400 naming %s", c.body, code, body, c.field)
			}
		}
		if code := s.API("PATCH", "/api/v1/loyalty/rules/lrule_nope", map[string]any{"paused": true}, nil); code != 404 {
			t.Errorf("unknown rule: %d", code)
		}
	})
}
