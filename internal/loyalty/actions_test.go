package loyalty_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// What the business does to a customer — moving them to another tier,
// introducing them to someone — is on their timeline but is not their
// activity: it neither raises their event count, nor moves their
// last-seen time, nor adds a channel they never used.
func TestBusinessActionsAreNotCustomerActivity(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		fixed := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		s, _ := apptest.StartAt(t, dsn, fixed)
		if code := s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		// The customer's own acts: two orders in the shop, never on the web.
		orders := []time.Time{fixed.AddDate(0, 0, -20), fixed.AddDate(0, 0, -10)}
		for i, at := range orders {
			s.MustSend("track", map[string]any{"userId": "shopper", "event": "Order Completed", "timestamp": at.Format(time.RFC3339),
				"context": map[string]any{"channel": "store"}, "properties": map[string]any{"order_id": "s-" + string(rune('1'+i)), "total": 100}})
		}
		s.MustSend("track", map[string]any{"userId": "friend", "event": "Signed Up", "timestamp": orders[0].Format(time.RFC3339), "context": map[string]any{"channel": "store"}})
		s.Sync()
		type customer struct {
			LastSeen   time.Time `json:"lastSeen"`
			EventCount int64     `json:"eventCount"`
			Channels   []struct {
				Channel string
				Events  int64
			}
		}
		var before customer
		s.API("GET", "/api/v1/customers/shopper", nil, &before)
		if before.EventCount != int64(len(orders)) || !before.LastSeen.Equal(orders[len(orders)-1]) || len(before.Channels) != 1 || before.Channels[0].Channel != "store" {
			t.Fatalf("before: %+v", before)
		}
		// The business acts: a tier review moves the 200-point member up (the
		// review at start-up may have done so already); an introduction.
		if _, err := s.Loyalty.ReviewTiers(context.Background()); err != nil {
			t.Fatal(err)
		}
		if code := s.API("POST", "/api/v1/introductions", map[string]any{"from": "shopper", "to": "friend", "note": "both climb"}, nil); code != 201 {
			t.Fatalf("introduction: %d", code)
		}
		s.Sync()
		var ev struct {
			Events []struct {
				Event    string
				SourceID string `json:"sourceId"`
			}
		}
		s.API("GET", "/api/v1/events?customer=shopper&limit=100", nil, &ev)
		acts := map[string]bool{}
		for _, e := range ev.Events {
			if e.Event == "Tier Changed" || e.Event == "Introduction Made" {
				acts[e.Event] = true
				if e.SourceID != eventlog.SourceActions {
					t.Errorf("%s is from %q, want %q", e.Event, e.SourceID, eventlog.SourceActions)
				}
			}
		}
		if !acts["Tier Changed"] || !acts["Introduction Made"] {
			t.Fatalf("the business's acts are not on the timeline: %+v", ev.Events)
		}
		var after customer
		s.API("GET", "/api/v1/customers/shopper", nil, &after)
		var channels []string
		for _, c := range after.Channels {
			channels = append(channels, c.Channel)
		}
		if after.EventCount != before.EventCount || !after.LastSeen.Equal(before.LastSeen) || !slices.Equal(channels, []string{"store"}) {
			t.Fatalf("after the business acted: %+v, before %+v", after, before)
		}
	})
}
