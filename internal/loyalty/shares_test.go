package loyalty_test

import (
	"fmt"
	"math"
	"regexp"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type share struct {
	Tier    string
	Members int
	Share   float64
}

// Tier shares follow docs/loyalty.md: a member is a customer the review
// placed in a tier (a merged profile once, a lapsed member in the first
// tier), a share is the tier's members ÷ all members, a fraction 0–1.
// The test places its members itself, from the points it sends, and
// compares the API and the console with what it computed.
func TestTierShares(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		fixed := time.Date(2026, 6, 15, 12, 0, 0, 0, time.UTC)
		s, _ := apptest.StartAt(t, dsn, fixed)
		// Without members every share is 0, none is NaN.
		var d struct {
			Members int
			Tiers   []share
		}
		s.API("GET", "/api/v1/loyalty/dashboard", nil, &d)
		if d.Members != 0 || len(d.Tiers) != 4 || d.Tiers[0].Share != 0 {
			t.Fatalf("no members: %+v", d)
		}
		s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, nil)
		// The program is in force before the orders, so that no review
		// places a member by the default thresholds (a member placed higher
		// keeps the tier through the grace period).
		program := map[string]any{"tiers": []map[string]any{{"name": "bronze", "from": 0}, {"name": "silver", "from": 100}, {"name": "gold", "from": 300}, {"name": "platinum", "from": 1000}}}
		if code := s.API("PUT", "/api/v1/loyalty/tiers", program, nil); code != 200 {
			t.Fatalf("program: %d", code)
		}
		tiers := []struct {
			name string
			from float64
		}{{"bronze", 0}, {"silver", 100}, {"gold", 300}, {"platinum", 1000}}
		// Each member's orders (amount, months before now); the window is
		// this calendar month and the 11 before.
		type buy struct {
			amount float64
			ago    int
		}
		members := map[string][]buy{
			"b-1": {{20, 0}}, "b-2": {{45.9, 2}}, "b-3": {{99.99, 1}}, "b-4": {{60, 3}, {30, 5}},
			"lapsed": {{800, 14}},           // earned, but nothing in the window: bronze
			"edge":   {{500, 12}, {50, 11}}, // only the 50 counts
			"s-1":    {{100, 0}}, "s-2": {{150, 4}, {100, 6}}, "s-3": {{299, 10}},
			"g-1": {{300, 1}}, "g-2": {{400, 2}, {450, 9}},
			"p-1": {{700, 1}, {350, 11}},
		}
		n := 0
		for user, buys := range members {
			for _, b := range buys {
				n++
				at := time.Date(fixed.Year(), fixed.Month()-time.Month(b.ago), 10, 9, 0, 0, 0, time.UTC)
				msg := order(user, fmt.Sprintf("o-%d", n), b.amount)
				msg["timestamp"] = at.Format(time.RFC3339)
				s.MustSend("track", msg)
			}
		}
		// A store order on a loyalty card and a web identity with the same
		// email are one member (gold with both).
		s.MustSend("identify", map[string]any{"userId": "m-1", "traits": map[string]any{"email": "m1@example.com"}})
		s.MustSend("track", map[string]any{"userId": "m-1", "event": "Order Completed", "properties": map[string]any{"order_id": "m-web", "total": 200}})
		s.MustSend("track", map[string]any{"anonymousId": "card-1", "event": "Order Completed", "context": map[string]any{"traits": map[string]any{"email": "m1@example.com"}},
			"properties": map[string]any{"order_id": "m-store", "total": 150}})
		// The test's own count: points in the window, tier by threshold.
		window := fixed.AddDate(0, -11, 0).Format("2006-01")
		count := map[string]int{"gold": 1} // m-1: 350
		for _, buys := range members {
			var pts float64
			for _, b := range buys {
				if time.Date(fixed.Year(), fixed.Month()-time.Month(b.ago), 10, 0, 0, 0, 0, time.UTC).Format("2006-01") >= window {
					pts += math.Floor(b.amount)
				}
			}
			name := ""
			for _, tr := range tiers {
				if pts >= tr.from {
					name = tr.name
				}
			}
			count[name]++
		}
		all := len(members) + 1
		s.Sync()
		// Setting the program again places every member at once, without
		// waiting for the hourly review.
		if code := s.API("PUT", "/api/v1/loyalty/tiers", program, nil); code != 200 {
			t.Fatalf("program: %d", code)
		}
		s.API("GET", "/api/v1/loyalty/dashboard", nil, &d)
		body := s.Page("/loyalty")
		if d.Members != all {
			t.Fatalf("%d members, want %d", d.Members, all)
		}
		sum := 0.0
		for i, tr := range tiers {
			want := float64(count[tr.name]) / float64(all)
			got := d.Tiers[i]
			if got.Tier != tr.name || got.Members != count[tr.name] || got.Share != want {
				t.Errorf("%s: %+v, want %d members, %.1f %%", tr.name, got, count[tr.name], 100*want)
			}
			sum += got.Share
			shown := regexp.MustCompile(`data-tier="` + tr.name + `" data-share="([0-9.]+)">([0-9]+) · `).FindStringSubmatch(body)
			if shown == nil || shown[1] != fmt.Sprintf("%.1f", 100*want) || shown[2] != fmt.Sprint(count[tr.name]) {
				t.Errorf("console shows %s as %v, want %d · %.1f %%", tr.name, shown, count[tr.name], 100*want)
			}
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("shares add up to %.1f", sum)
		}
	})
}
