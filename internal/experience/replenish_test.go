package experience_test

import (
	"context"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type replenishments struct {
	Needs []struct {
		Item       string
		DaysAUnit  float64   `json:"days_per_unit"`
		NextNeedAt time.Time `json:"next_need_at"`
		Consented  bool
	}
	Replenishments []struct {
		ID, Item, Status string
		Quantity         float64
	}
}

// Only a customer who consented gets orders placed for them: scheduled
// within the lead time of the predicted need, cancellable within the
// window, placed after it — once per purchase cycle.
func TestReplenishment(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		now := time.Now().Truncate(time.Second)
		clock := apptest.NewClock(now)
		s := apptest.StartWith(t, dsn, func(c *app.Config) { c.Now = clock.Now })
		ctx := context.Background()
		days := func(d float64) time.Time { return now.Add(time.Duration(d * 24 * float64(time.Hour))) }
		// A unit of coffee lasts the café 10 days; tea buyer buys two at a time, 10 days a unit.
		for i, d := range []float64{-30, -20, -10} {
			s.MustSend("track", order("cafe", "c-"+string(rune('a'+i)), days(d), "coffee", 1))
		}
		s.MustSend("track", order("cafe", "c-f", days(-10), "filters", 1))
		s.MustSend("track", order("other", "o-1", days(-60), "filters", 1))
		s.MustSend("track", order("other", "o-2", days(-40), "filters", 1))
		s.MustSend("track", order("tea", "t-1", days(-40), "tea", 2))
		s.MustSend("track", order("tea", "t-2", days(-20), "tea", 2))
		s.Sync()
		if _, _, err := s.Exp.Replenish(ctx); err != nil {
			t.Fatal(err)
		}
		var got replenishments
		s.API("GET", "/api/v1/customers/cafe/replenishments", nil, &got)
		if len(got.Replenishments) != 0 || len(got.Needs) != 2 || got.Needs[0].Item != "coffee" || got.Needs[0].Consented {
			t.Fatalf("without consent: %+v", got)
		}
		// Coffee is due now; filters (one purchase) follow the population: 20 days a unit.
		if got.Needs[0].DaysAUnit != 10 || got.Needs[0].NextNeedAt.Sub(now).Abs() > time.Minute || got.Needs[1].NextNeedAt.Sub(days(10)).Abs() > time.Minute {
			t.Fatalf("needs: %+v", got.Needs)
		}
		s.MustSend("track", map[string]any{"userId": "cafe", "event": "Replenishment Consented"})
		s.MustSend("track", map[string]any{"userId": "tea", "event": "Replenishment Consented", "properties": map[string]any{"product_id": "tea"}})
		s.Sync()
		for range 2 { // a second run schedules nothing more
			if _, _, err := s.Exp.Replenish(ctx); err != nil {
				t.Fatal(err)
			}
		}
		s.API("GET", "/api/v1/customers/cafe/replenishments", nil, &got)
		if len(got.Replenishments) != 1 || got.Replenishments[0].Item != "coffee" || got.Replenishments[0].Status != "scheduled" || !got.Needs[0].Consented {
			t.Fatalf("cafe after consent: %+v", got)
		}
		cafe := got.Replenishments[0].ID
		var c struct{ Status string }
		if code := s.API("POST", "/api/v1/replenishments/"+cafe+"/cancel", nil, &c); code != 200 || c.Status != "cancelled" {
			t.Fatalf("cancel: %d %+v", code, c)
		}
		if code := s.API("POST", "/api/v1/replenishments/"+cafe+"/cancel", nil, nil); code != 409 {
			t.Fatalf("cancel twice: %d", code)
		}
		// After the cancel window the tea order is placed; the cancelled coffee is not.
		clock.Add(49 * time.Hour)
		if _, _, err := s.Exp.Replenish(ctx); err != nil {
			t.Fatal(err)
		}
		s.API("GET", "/api/v1/customers/tea/replenishments", nil, &got)
		if len(got.Replenishments) != 1 || got.Replenishments[0].Status != "placed" || got.Replenishments[0].Quantity != 2 {
			t.Fatalf("tea: %+v", got)
		}
		s.Sync()
		var ev struct {
			Events []struct {
				Event string
			}
		}
		s.API("GET", "/api/v1/events?type=Order+Auto-Placed", nil, &ev)
		if len(ev.Events) != 1 {
			t.Fatalf("auto-placed events: %+v", ev)
		}
		s.API("GET", "/api/v1/events?type=Replenishment+Scheduled", nil, &ev)
		if len(ev.Events) != 2 {
			t.Fatalf("scheduled events: %+v", ev)
		}
		if code := s.API("PUT", "/api/v1/replenishment/settings", map[string]any{"lead_days": 5, "cancel_hours": 0}, nil); code != 400 {
			t.Fatalf("no cancel window: %d", code)
		}
		model, naive, n, err := s.Exp.Backtest(ctx)
		if err != nil || n != 1 || model > 0.01 || naive > 0.01 {
			t.Fatalf("backtest: %.2f %.2f %d %v", model, naive, n, err)
		}
	})
}
