package cases_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A refund that reaches the log before its order (sources out of order,
// returns imported before orders) counts as the order's refund once the
// order arrives, as it does in the usual order: the return rates see the
// order returned, the ledger reverses its points, revenue and the value
// model leave it out. Each figure is checked against the same orders sent
// in the usual order to a second customer.
func TestRefundBeforeItsOrder(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, _ := apptest.StartAt(t, dsn, apptest.Epoch)
		if code := s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		at := func(h int) string { return apptest.Epoch.Add(time.Duration(h-48) * time.Hour).Format(time.RFC3339) }
		order := func(user, id string, h int, total float64) map[string]any {
			return map[string]any{"type": "track", "userId": user, "event": "Order Completed", "timestamp": at(h), "context": map[string]any{"channel": "web"},
				"properties": map[string]any{"order_id": id, "total": total, "currency": "EUR"}}
		}
		refund := func(user, id string, h int) map[string]any {
			return map[string]any{"type": "track", "userId": user, "event": "Order Refunded", "timestamp": at(h), "context": map[string]any{"channel": "store"},
				"properties": map[string]any{"order_id": id, "reason": "damaged"}}
		}
		// early: the refund of o-e2 arrives, in its own batch, before o-e2.
		s.MustSend("batch", map[string]any{"batch": []any{order("early", "o-e1", 1, 100), refund("early", "o-e2", 6)}})
		s.Sync()
		s.MustSend("batch", map[string]any{"batch": []any{order("early", "o-e2", 2, 40),
			order("usual", "o-u1", 1, 100), order("usual", "o-u2", 2, 40), refund("usual", "o-u2", 6)}})
		s.Sync()

		var rates struct {
			Groups []struct {
				Key             string
				Orders, Returns int
			}
		}
		s.API("GET", "/api/v1/returns/rates?by=channel", nil, &rates)
		if len(rates.Groups) != 1 || rates.Groups[0].Orders != 4 || rates.Groups[0].Returns != 2 {
			t.Errorf("return rates: %+v, want 2 of 4 web orders returned", rates.Groups)
		}
		var byReason struct {
			Groups []struct {
				Key     string
				Returns int
			}
		}
		s.API("GET", "/api/v1/returns/rates?by=return_channel", nil, &byReason)
		if len(byReason.Groups) != 1 || byReason.Groups[0].Key != "store" || byReason.Groups[0].Returns != 2 {
			t.Errorf("returns by return channel: %+v, want 2 in store", byReason.Groups)
		}
		for _, user := range []string{"early", "usual"} {
			var l struct{ Balance int64 }
			if s.API("GET", "/api/v1/customers/"+user+"/loyalty", nil, &l); l.Balance != 100 {
				t.Errorf("%s's balance %d, want the 100 points of the order kept", user, l.Balance)
			}
			var v struct {
				Orders int
				Spend  float64 `json:"expected_spend"`
			}
			if s.API("GET", "/api/v1/customers/"+user+"/value", nil, &v); v.Orders != 1 {
				t.Errorf("%s's value counts %d orders, want 1 (the refunded one left out)", user, v.Orders)
			}
		}
		var out struct {
			Months []struct {
				Month   string
				Revenue float64
				Returns int
			}
		}
		s.API("GET", "/api/v1/analytics/outcomes?months=1", nil, &out)
		if len(out.Months) != 1 || out.Months[0].Revenue != 200 || out.Months[0].Returns != 2 {
			t.Errorf("outcomes: %+v, want revenue 200 (the two kept orders) and 2 returns", out.Months)
		}
		// Replayed, the same.
		for _, name := range []string{"cases", "loyalty", "analytics"} {
			c, err := s.Runner.Lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.Runner.Replay(t.Context(), c); err != nil {
				t.Fatal(err)
			}
		}
		var l struct{ Balance int64 }
		if s.API("GET", "/api/v1/customers/early/loyalty", nil, &l); l.Balance != 100 {
			t.Errorf("after a replay, early's balance %d", l.Balance)
		}
		s.API("GET", "/api/v1/returns/rates?by=channel", nil, &rates)
		if got := fmt.Sprint(rates.Groups); len(rates.Groups) != 1 || rates.Groups[0].Returns != 2 {
			t.Errorf("after a replay, return rates %s", got)
		}
	})
}
