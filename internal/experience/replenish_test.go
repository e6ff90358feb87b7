package experience_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// fixed is the clock every experience test starts on.
var fixed = time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)

type replenishments struct {
	Needs []struct {
		Item       string
		Name       string
		DaysAUnit  float64   `json:"days_per_unit"`
		NextNeedAt time.Time `json:"next_need_at"`
		Consented  bool
	}
	Replenishments []struct {
		ID, Item, Name, Status string
		Quantity               float64
	}
}

// bought is an Order Completed of one product in a category, in the
// Segment e-commerce shape.
func bought(user, id string, at time.Time, product, category string, qty float64) map[string]any {
	return map[string]any{"userId": user, "event": "Order Completed", "timestamp": at.UTC().Format(time.RFC3339),
		"properties": map[string]any{"order_id": id, "products": []any{map[string]any{"product_id": product, "name": "The " + product, "category": category, "quantity": qty, "price": 5}}}}
}

type eventList struct {
	Events []struct {
		UserID  string `json:"userId"`
		Message struct{ Properties map[string]any }
	}
}

// Only a customer who consented — to the product, its category or every
// product — gets orders placed for them, and only for products the
// catalog calls replenishable, in whole packs of the quantity they usually
// buy: scheduled within the lead time of the predicted need, cancellable
// within the window, placed after it — once per purchase cycle.
func TestReplenishment(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		now := fixed
		s, clock := apptest.StartAt(t, dsn, now)
		ctx := context.Background()
		days := func(d float64) time.Time { return now.Add(time.Duration(d * 24 * float64(time.Hour))) }
		// Coffee and fuel are consumables by category; tea, filters and cartridges (sold in twos) by product; tents are not.
		for _, c := range []string{"Coffee", "Fuel"} {
			if code := s.API("PUT", "/api/v1/product-categories/"+c, map[string]any{"replenishable": true}, nil); code != 200 {
				t.Fatalf("category %s: %d", c, code)
			}
		}
		const pack = 2
		for _, p := range []map[string]any{{"id": "tea", "replenishable": true}, {"id": "filters", "replenishable": true}, {"id": "cartridge", "replenishable": true, "pack_size": pack}} {
			if code := s.API("POST", "/api/v1/products", p, nil); code != 200 {
				t.Fatalf("product %v: %d", p, code)
			}
		}
		// The café uses a unit of coffee every 10 days, and buys a tent every 10 days too (a tent is still not a habit).
		for i, d := range []float64{-30, -20, -10} {
			s.MustSend("track", bought("cafe", "c-"+string(rune('a'+i)), days(d), "coffee", "Coffee", 1))
			s.MustSend("track", bought("cafe", "ct-"+string(rune('a'+i)), days(d), "tent", "Tents", 1))
		}
		s.MustSend("track", bought("cafe", "c-f", days(-10), "filters", "", 1))
		s.MustSend("track", bought("other", "o-1", days(-60), "filters", "", 1))
		s.MustSend("track", bought("other", "o-2", days(-40), "filters", "", 1))
		// The tea buyer buys two at a time, 10 days a unit.
		s.MustSend("track", bought("tea", "t-1", days(-40), "tea", "", 2))
		s.MustSend("track", bought("tea", "t-2", days(-20), "tea", "", 2))
		// The hiker bought 2 cartridges, then 4 (5 days a unit): the median, 3, is not a whole pack.
		hikerQty := []float64{2, 4}
		s.MustSend("track", bought("hiker", "h-1", days(-30), "cartridge", "Water", hikerQty[0]))
		s.MustSend("track", bought("hiker", "h-2", days(-20), "cartridge", "Water", hikerQty[1]))
		// The camper uses gas and coffee every 10 days, and consents for fuel only.
		for i, d := range []float64{-20, -10} {
			s.MustSend("track", bought("camper", "cg-"+string(rune('a'+i)), days(d), "gas", "Fuel", 1))
			s.MustSend("track", bought("camper", "cc-"+string(rune('a'+i)), days(d), "coffee", "Coffee", 1))
		}
		s.Sync()
		if _, _, err := s.Exp.Replenish(ctx); err != nil {
			t.Fatal(err)
		}
		var got replenishments
		s.API("GET", "/api/v1/customers/cafe/replenishments", nil, &got)
		// The tent has no predicted need: only coffee (due now) and filters (one purchase: the population's 20 days a unit).
		if len(got.Replenishments) != 0 || len(got.Needs) != 2 || got.Needs[0].Item != "coffee" || got.Needs[0].Consented || got.Needs[1].Item != "filters" {
			t.Fatalf("without consent: %+v", got)
		}
		if got.Needs[0].DaysAUnit != 10 || got.Needs[0].NextNeedAt.Sub(now).Abs() > time.Minute || got.Needs[1].NextNeedAt.Sub(days(10)).Abs() > time.Minute {
			t.Fatalf("needs: %+v", got.Needs)
		}
		// The café's usual reorder: coffee and tents, each bought three times;
		// once the shop says tents are durable, coffee alone.
		var usual struct{ Items []struct{ Item string } }
		if code := s.API("POST", "/api/v1/customers/cafe/reorder", map[string]any{"from": "usual"}, &usual); code != 201 || len(usual.Items) != 2 {
			t.Fatalf("usual reorder, tents unknown: %d %+v", code, usual)
		}
		if code := s.API("PUT", "/api/v1/product-categories/Tents", map[string]any{"replenishable": false}, nil); code != 200 {
			t.Fatalf("category Tents: %d", code)
		}
		if code := s.API("POST", "/api/v1/customers/cafe/reorder", map[string]any{"from": "usual"}, &usual); code != 201 || len(usual.Items) != 1 || usual.Items[0].Item != "coffee" {
			t.Fatalf("usual reorder, tents durable: %d %+v", code, usual)
		}
		// Nor does the café's "buy it again" list offer the tent any more.
		var again struct{ Items []struct{ Item string } }
		if code := s.API("GET", "/api/v1/customers/cafe/buy-again", nil, &again); code != 200 || len(again.Items) != 2 || again.Items[0].Item == "tent" || again.Items[1].Item == "tent" {
			t.Fatalf("buy again, tents durable: %d %+v", code, again)
		}
		s.MustSend("track", map[string]any{"userId": "cafe", "event": "Replenishment Consented"})
		s.MustSend("track", map[string]any{"userId": "hiker", "event": "Replenishment Consented"})
		s.MustSend("track", map[string]any{"userId": "tea", "event": "Replenishment Consented", "properties": map[string]any{"product_id": "tea"}})
		s.MustSend("track", map[string]any{"userId": "camper", "event": "Replenishment Consented", "properties": map[string]any{"category": "Fuel"}})
		s.Sync()
		for range 2 { // a second run schedules nothing more
			if _, _, err := s.Exp.Replenish(ctx); err != nil {
				t.Fatal(err)
			}
		}
		want := map[string]struct {
			item string
			qty  float64
		}{
			"cafe":   {"coffee", 1},
			"tea":    {"tea", 2},
			"hiker":  {"cartridge", hikerQty[1]}, // bought as often as 2; the latest wins
			"camper": {"gas", 1},
		}
		ids := map[string]string{}
		for c, w := range want {
			s.API("GET", "/api/v1/customers/"+c+"/replenishments", nil, &got)
			if len(got.Replenishments) != 1 || got.Replenishments[0].Item != w.item || got.Replenishments[0].Status != "scheduled" || got.Replenishments[0].Quantity != w.qty ||
				got.Replenishments[0].Name != "The "+w.item {
				t.Fatalf("%s after consent: %+v, want %s × %v", c, got.Replenishments, w.item, w.qty)
			}
			ids[c] = got.Replenishments[0].ID
		}
		if math.Mod(want["hiker"].qty, pack) != 0 {
			t.Fatalf("the test's cartridges are not whole packs")
		}
		var c struct{ Status string }
		if code := s.API("POST", "/api/v1/replenishments/"+ids["cafe"]+"/cancel", nil, &c); code != 200 || c.Status != "cancelled" {
			t.Fatalf("cancel: %d %+v", code, c)
		}
		if code := s.API("POST", "/api/v1/replenishments/"+ids["cafe"]+"/cancel", nil, nil); code != 409 {
			t.Fatalf("cancel twice: %d", code)
		}
		// Each scheduled order has a job at the end of its 48-hour cancel window.
		var placing struct {
			Jobs []struct {
				ID                     int64
				State                  string
				CreatedAt, ScheduledAt time.Time
			}
		}
		s.API("GET", "/api/v1/jobs?kind=replenishment.place", nil, &placing)
		if len(placing.Jobs) != len(want) {
			t.Fatalf("placing jobs: %+v", placing.Jobs)
		}
		for _, j := range placing.Jobs {
			if d := j.ScheduledAt.Sub(j.CreatedAt); j.State != "scheduled" || d < 48*time.Hour-time.Minute || d > 48*time.Hour+time.Minute {
				t.Fatalf("placing job %+v: due %v after it was queued", j, d)
			}
		}
		// After the cancel window (the jobs run now rather than in 48 real
		// hours) the others are placed; the cancelled coffee is not.
		clock.Add(49 * time.Hour)
		for _, j := range placing.Jobs {
			if code := s.API("POST", fmt.Sprintf("/api/v1/jobs/%d/retry", j.ID), nil, nil); code != 200 {
				t.Fatalf("run job %d now: %d", j.ID, code)
			}
		}
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			s.API("GET", "/api/v1/customers/tea/replenishments", nil, &got)
			if len(got.Replenishments) == 1 && got.Replenishments[0].Status == "placed" || time.Now().After(deadline) {
				break
			}
		}
		if len(got.Replenishments) != 1 || got.Replenishments[0].Status != "placed" || got.Replenishments[0].Quantity != want["tea"].qty {
			t.Fatalf("tea: %+v", got)
		}
		for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			var left struct{ Jobs []struct{ State string } }
			s.API("GET", "/api/v1/jobs?kind=replenishment.place&state=completed", nil, &left)
			if len(left.Jobs) == len(want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d placing jobs completed", len(left.Jobs), len(want))
			}
		}
		s.Sync()
		var ev eventList
		s.API("GET", "/api/v1/events?type=Order+Auto-Placed", nil, &ev)
		if len(ev.Events) != len(want)-1 {
			t.Fatalf("auto-placed events: %+v", ev)
		}
		for _, e := range ev.Events {
			w := want[e.UserID]
			line := e.Message.Properties["products"].([]any)[0].(map[string]any)
			if line["product_id"] != w.item || line["quantity"] != w.qty || line["name"] != "The "+w.item {
				t.Fatalf("placed for %s: %v, want %s × %v", e.UserID, line, w.item, w.qty)
			}
		}
		s.API("GET", "/api/v1/events?type=Replenishment+Scheduled", nil, &ev)
		if len(ev.Events) != len(want) {
			t.Fatalf("scheduled events: %+v", ev)
		}
		if code := s.API("PUT", "/api/v1/replenishment/settings", map[string]any{"lead_days": 5, "cancel_hours": 0}, nil); code != 400 {
			t.Fatalf("no cancel window: %d", code)
		}
		// The backtest reads replenishable products only: the café's coffee is the one with a third purchase.
		model, naive, n, err := s.Exp.Backtest(ctx)
		if err != nil || n != 1 || model > 0.01 || naive > 0.01 {
			t.Fatalf("backtest: %.2f %.2f %d %v", model, naive, n, err)
		}
	})
}
