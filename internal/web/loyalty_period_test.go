package web_test

import (
	"encoding/json"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The loyalty page and GET /api/v1/loyalty/activity sum the program's
// activity in the period asked, compared with the period before: points
// earned and redeemed, referral sign-ups and referred customers' spend.
func TestLoyaltyActivityByPeriod(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		day0 := clock.Now()
		s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, nil)
		s.MustSend("identify", map[string]any{"userId": "lp-1", "traits": map[string]any{"name": "Lena Period"}})
		s.MustSend("track", map[string]any{"userId": "lp-1", "event": "Order Completed", "properties": map[string]any{"order_id": "lp-o1", "total": 100}})
		clock.Add(35 * 24 * time.Hour)
		s.MustSend("track", map[string]any{"userId": "lp-2", "event": "Signed Up", "properties": map[string]any{"referred_by": "lp-1"}})
		clock.Add(24 * time.Hour)
		s.MustSend("track", map[string]any{"userId": "lp-2", "event": "Order Completed", "properties": map[string]any{"order_id": "lp-o2", "total": 80}})
		s.Sync()
		if code := s.API("POST", "/api/v1/customers/lp-1/loyalty/redeem", map[string]any{"points": 30, "note": "voucher", "idempotency_key": "lp-r1"}, nil); code != 200 && code != 201 {
			t.Fatalf("redeem: %d", code)
		}
		clock.Add(4 * 24 * time.Hour)
		now := clock.Now()

		type activity struct {
			Earned, Redeemed, Expired int64
			Referrals                 int
			ReferralRevenue           float64
		}
		get := func(from, to time.Time) activity {
			var a activity
			q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}
			if code := s.API("GET", "/api/v1/loyalty/activity?"+q.Encode(), nil, &a); code != 200 {
				t.Fatalf("activity: %d", code)
			}
			return a
		}
		// The last 30 days hold the sign-up, the referred order and the redemption.
		last30, before := get(now.Add(-30*24*time.Hour), now.Add(time.Second)), get(now.Add(-60*24*time.Hour), now.Add(-30*24*time.Hour))
		if want := (activity{Earned: 80, Redeemed: 30, Referrals: 1, ReferralRevenue: 80}); last30 != want {
			t.Errorf("last 30 days: %+v, want %+v", last30, want)
		}
		if want := (activity{Earned: 100}); before != want {
			t.Errorf("the 30 days before: %+v, want %+v", before, want)
		}
		var all activity
		s.API("GET", "/api/v1/loyalty/activity", nil, &all)
		if want := (activity{Earned: 180, Redeemed: 30, Referrals: 1, ReferralRevenue: 80}); all != want {
			t.Errorf("all time: %+v, want %+v", all, want)
		}
		var d struct{ ReferralRevenue float64 }
		if s.API("GET", "/api/v1/loyalty/dashboard", nil, &d); d.ReferralRevenue != all.ReferralRevenue {
			t.Errorf("the dashboard's referral revenue %v, the activity's since the start %v", d.ReferralRevenue, all.ReferralRevenue)
		}
		if got := get(day0, day0.Add(24*time.Hour)); got.Earned != 100 || got.Referrals != 0 {
			t.Errorf("the first day: %+v", got)
		}
		code, body := s.Do("GET", "/api/v1/loyalty/activity?from=yesterday", nil, "Authorization: Bearer "+apptest.Token)
		var e struct{ Error struct{ Field string } }
		_ = json.Unmarshal(body, &e)
		if code != 400 || e.Error.Field != "from" {
			t.Errorf("a bad from: %d %s", code, body)
		}

		// The console shows the same figures for the same period.
		c, _, _ := signIn(t, s.URL, url.Values{"token": {apptest.Token}})
		resp, err := c.Get(s.URL + "/loyalty?period=30d&compare=previous")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(b)
		cells := func(id string) []string {
			m := regexp.MustCompile(`(?s)<tr id="` + id + `">(.*?)</tr>`).FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no row %s on the loyalty page", id)
			}
			var out []string
			for _, td := range regexp.MustCompile(`<td class="num">([^<]*)</td>`).FindAllStringSubmatch(m[1], -1) {
				out = append(out, strings.TrimSpace(td[1]))
			}
			return out
		}
		for id, want := range map[string]string{"activity-earned": "80 100", "activity-redeemed": "30 0", "activity-referrals": "1 0", "activity-revenue": "80 0"} {
			if got := strings.Join(cells(id), " "); got != want {
				t.Errorf("%s: %q, want %q", id, got, want)
			}
		}

		// A visitor referred before signing in: their anonymous orders after
		// the referral count, an order before it does not, and an order
		// matched by both their user id and their anonymous id counts once.
		s.MustSend("track", map[string]any{"anonymousId": "lp-anon", "event": "Order Completed", "properties": map[string]any{"order_id": "lp-o3", "total": 7}})
		clock.Add(time.Hour)
		s.MustSend("track", map[string]any{"anonymousId": "lp-anon", "event": "Signed Up", "properties": map[string]any{"referred_by": "lp-1"}})
		clock.Add(time.Hour)
		s.MustSend("track", map[string]any{"anonymousId": "lp-anon", "event": "Order Completed", "properties": map[string]any{"order_id": "lp-o4", "total": 11}})
		s.MustSend("track", map[string]any{"userId": "lp-2", "anonymousId": "lp-anon", "event": "Order Completed", "properties": map[string]any{"order_id": "lp-o5", "total": 13}})
		s.Sync()
		if s.API("GET", "/api/v1/loyalty/activity", nil, &all); all.ReferralRevenue != 80+11+13 || all.Referrals != 2 {
			t.Errorf("with an anonymous referral: %+v, want referral revenue %d from 2 referrals", all, 80+11+13)
		}
	})
}
