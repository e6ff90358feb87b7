package loyalty_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type summary struct {
	Balance      int64  `json:"balance"`
	Tier         string `json:"tier"`
	ReferralCode string `json:"referral_code"`
}

func order(user, id string, total float64) map[string]any {
	return map[string]any{"userId": user, "event": "Order Completed", "properties": map[string]any{"order_id": id, "total": total}}
}

// The contract examples, a refund's reversal and replay.
func TestContractExamples(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		if code := s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		s.MustSend("track", order("u-1", "o-1", 120.75))
		// The confirmation page reloaded: the same order again, under a new messageId, earns nothing more.
		s.MustSend("track", order("u-1", "o-1", 120.75))
		clock.Add(time.Minute) // the ledger lists the newest entry first
		var sum summary
		if code := s.API("GET", "/api/v1/customers/u-1/loyalty", nil, &sum); code != 200 || sum.Balance != 120 || sum.Tier != "gold" || !strings.HasPrefix(sum.ReferralCode, "R") {
			t.Fatalf("loyalty: %d %+v", code, sum)
		}
		var red struct{ Balance int64 }
		if code := s.API("POST", "/api/v1/customers/u-1/loyalty/redeem", map[string]any{"points": 50, "idempotency_key": "k1"}, &red); code != 200 || red.Balance != 70 {
			t.Fatalf("redeem: %d %+v", code, red)
		}
		if code := s.API("POST", "/api/v1/customers/u-1/loyalty/redeem", map[string]any{"points": 50, "idempotency_key": "k1"}, &red); code != 200 || red.Balance != 70 {
			t.Fatalf("the same key again: %d %+v", code, red)
		}
		if code := s.API("POST", "/api/v1/customers/u-1/loyalty/redeem", map[string]any{"points": 71, "idempotency_key": "k2"}, nil); code != 409 {
			t.Fatalf("more than the balance: %d", code)
		}
		var ledger struct {
			Entries []struct {
				Kind   string
				Points int64
				Event  string
			}
		}
		s.API("GET", "/api/v1/customers/u-1/loyalty/ledger", nil, &ledger)
		if len(ledger.Entries) != 2 || ledger.Entries[1].Kind != "earn" || ledger.Entries[1].Points != 120 || ledger.Entries[1].Event != "Order Completed" ||
			ledger.Entries[0].Kind != "redeem" || ledger.Entries[0].Points != -50 {
			t.Fatalf("ledger: %+v", ledger)
		}
		// A refund reverses what the order earned (the balance may go below zero only by reversal).
		s.MustSend("track", order("u-1", "o-2", 30))
		s.MustSend("track", map[string]any{"userId": "u-1", "event": "Order Refunded", "properties": map[string]any{"order_id": "o-2"}})
		s.MustSend("track", map[string]any{"userId": "u-1", "event": "Order Refunded", "properties": map[string]any{"order_id": "o-2"}})
		s.API("GET", "/api/v1/customers/u-1/loyalty", nil, &sum)
		if sum.Balance != 70 {
			t.Fatalf("after a refund: %+v", sum)
		}
		c, err := s.Runner.Lookup("loyalty")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Runner.Replay(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		s.API("GET", "/api/v1/customers/u-1/loyalty", nil, &sum)
		if sum.Balance != 70 {
			t.Fatalf("after replay: %+v", sum)
		}
		for _, c := range []struct{ path, body string }{
			{"/api/v1/loyalty/rules", `{"points_per_unit": 1}`},
			{"/api/v1/loyalty/rules", `{"on": "X"}`},
			{"/api/v1/customers/u-1/loyalty/redeem", `{"points": 0, "idempotency_key": "z"}`},
			{"/api/v1/customers/u-1/loyalty/redeem", `{"points": 5}`},
		} {
			if code, body := s.Do("POST", c.path, []byte(c.body), "Authorization: Bearer "+apptest.Token); code != 400 {
				t.Errorf("%s %s: %d %s", c.path, c.body, code, body)
			}
		}
	})
}

// Many concurrent redemptions never take a balance below zero.
func TestConcurrentRedemptions(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, nil)
		s.MustSend("track", order("busy", "o-1", 100))
		var sum summary
		s.API("GET", "/api/v1/customers/busy/loyalty", nil, &sum)
		if sum.Balance != 100 {
			t.Fatalf("balance %d", sum.Balance)
		}
		var ok, refused atomic.Int64
		var wg sync.WaitGroup
		for i := range 40 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				code, _ := s.Do("POST", "/api/v1/customers/busy/loyalty/redeem", []byte(fmt.Sprintf(`{"points": 7, "idempotency_key": "c-%d"}`, i)),
					"Authorization: Bearer "+apptest.Token, "Content-Type: application/json")
				switch code {
				case 200:
					ok.Add(1)
				case 409:
					refused.Add(1)
				default:
					t.Errorf("redeem: %d", code)
				}
			}()
		}
		wg.Wait()
		s.API("GET", "/api/v1/customers/busy/loyalty", nil, &sum)
		if ok.Load() != 14 || refused.Load() != 26 || sum.Balance != 2 {
			t.Fatalf("%d redeemed, %d refused, balance %d (want 14, 26, 2)", ok.Load(), refused.Load(), sum.Balance)
		}
		// The running sum agrees with the entries it sums.
		var entries, running int64
		if err := s.DB.QueryRow(`SELECT COALESCE(SUM(points), 0) FROM loyalty_entries WHERE user_id = 'busy'`).Scan(&entries); err != nil {
			t.Fatal(err)
		}
		if err := s.DB.QueryRow(`SELECT points FROM loyalty_balances WHERE identity = 'u:busy'`).Scan(&running); err != nil {
			t.Fatal(err)
		}
		if entries != 2 || running != 2 {
			t.Fatalf("entries sum to %d, the running sum is %d", entries, running)
		}
	})
}

// Senders and spenders: a customer who spends little but brings big
// spenders is a high sender, and listed.
func TestSendersSpenders(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	s.MustSend("identify", map[string]any{"userId": "sam-sender", "traits": map[string]any{"name": "Sam"}})
	s.MustSend("track", order("sam-sender", "s-1", 10))
	var sam summary
	s.API("GET", "/api/v1/customers/sam-sender/loyalty", nil, &sam)
	// Sam's two friends sign up with Sam's code and spend a lot; Bea spends a lot herself.
	// One friend uses Sam's code; the other names Sam as who referred them.
	s.MustSend("track", map[string]any{"userId": "friend-1", "event": "Signed Up", "properties": map[string]any{"referral_code": strings.ToLower(sam.ReferralCode)}})
	s.MustSend("track", map[string]any{"userId": "friend-2", "event": "Signed Up", "properties": map[string]any{"referred_by": "sam-sender"}})
	for i, f := range []string{"friend-1", "friend-2"} {
		s.MustSend("track", order(f, fmt.Sprintf("f-%d", i), 400))
	}
	s.MustSend("track", order("bea-buyer", "b-1", 900))
	for i := range 5 {
		s.MustSend("track", order(fmt.Sprintf("small-%d", i), fmt.Sprintf("x-%d", i), 20))
	}
	var got struct {
		Matrix []struct {
			Spend, Referral string
			Customers       int
			Revenue         float64
		}
		TopSendersLowSpend []struct {
			Customer        string
			Spend           float64
			ReferredRevenue float64 `json:"referredRevenue"`
			Referred        int
		} `json:"top_senders_low_spend"`
		Spenders, Senders int
	}
	if code := s.API("GET", "/api/v1/loyalty/senders-spenders", nil, &got); code != 200 || len(got.Matrix) != 4 {
		t.Fatalf("matrix: %d %+v", code, got)
	}
	// Sam, two friends, Bea and five small buyers spent; only Sam's
	// referrals spent: the quarters are of those.
	if got.Spenders != 9 || got.Senders != 1 {
		t.Errorf("spenders %d, senders %d; want 9 and 1", got.Spenders, got.Senders)
	}
	cells := map[string]int{}
	for _, c := range got.Matrix {
		cells[c.Spend+"/"+c.Referral] = c.Customers
	}
	if cells["low/high"] != 1 || cells["high/low"] != 3 || cells["low/low"] != 5 {
		t.Fatalf("cells = %v", cells)
	}
	if len(got.TopSendersLowSpend) != 1 || got.TopSendersLowSpend[0].Spend != 10 || got.TopSendersLowSpend[0].ReferredRevenue != 800 || got.TopSendersLowSpend[0].Referred != 2 {
		t.Fatalf("top senders = %+v", got.TopSendersLowSpend)
	}
}

// Points expire a year after they were earned, the oldest first, once.
func TestExpiry(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, nil)
		ev := order("old-timer", "o-1", 100)
		ev["timestamp"] = clock.Now().Format(time.RFC3339)
		s.MustSend("track", ev)
		var sum summary
		s.API("GET", "/api/v1/customers/old-timer/loyalty", nil, &sum)
		s.API("POST", "/api/v1/customers/old-timer/loyalty/redeem", map[string]any{"points": 30, "idempotency_key": "r1"}, nil)
		clock.Add(200 * 24 * time.Hour)
		later := order("old-timer", "o-2", 40)
		later["timestamp"] = clock.Now().Format(time.RFC3339)
		s.MustSend("track", later)
		s.API("GET", "/api/v1/customers/old-timer/loyalty", nil, &sum)
		if sum.Balance != 110 {
			t.Fatalf("balance %d", sum.Balance)
		}
		if n, err := s.Loyalty.Expire(context.Background()); err != nil || n != 0 {
			t.Fatalf("expired %d early (%v)", n, err)
		}
		clock.Add(170 * 24 * time.Hour) // the first 100 are now over a year old; 30 of them were used
		for range 2 {
			if _, err := s.Loyalty.Expire(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		s.API("GET", "/api/v1/customers/old-timer/loyalty", nil, &sum)
		if sum.Balance != 40 {
			t.Fatalf("after expiry: balance %d, want 40", sum.Balance)
		}
	})
}

// Tiers and perks are data: a program with two tiers moves a member up and
// lists the perks of their tier.
func TestTiersAndPerks(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	var perks struct {
		Tier  string
		Perks []struct{ Kind, Name, Code string }
	}
	s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, nil)
	s.MustSend("track", order("p-1", "o-1", 120))
	if code := s.API("GET", "/api/v1/customers/p-1/perks", nil, &perks); code != 200 || perks.Tier != "gold" || len(perks.Perks) != 3 {
		t.Fatalf("default program: %d %+v", code, perks)
	}
	program := map[string]any{"tiers": []map[string]any{
		{"name": "member", "from": 0},
		{"name": "insider", "from": 200, "perks": []map[string]any{{"kind": "vip_deal", "name": "Insider night", "code": "IN-24"}}},
	}}
	if code := s.API("PUT", "/api/v1/loyalty/tiers", program, nil); code != 200 {
		t.Fatalf("program: %d", code)
	}
	var sum struct {
		Tier         string
		NextTier     string
		PointsToNext int64
	}
	s.API("GET", "/api/v1/customers/p-1/loyalty", nil, &sum)
	if sum.Tier != "member" || sum.NextTier != "insider" || sum.PointsToNext != 80 {
		t.Fatalf("member: %+v", sum)
	}
	s.MustSend("track", order("p-1", "o-2", 90))
	s.API("GET", "/api/v1/customers/p-1/perks", nil, &perks)
	if perks.Tier != "insider" || len(perks.Perks) != 1 || perks.Perks[0].Code != "IN-24" {
		t.Fatalf("insider perks: %+v", perks)
	}
	var e struct{ Error struct{ Field string } }
	bad := map[string]any{"tiers": []map[string]any{{"name": "a", "from": 10}}}
	if code := s.API("PUT", "/api/v1/loyalty/tiers", bad, &e); code != 400 || e.Error.Field != "tiers[0].from" {
		t.Fatalf("bad program: %d %+v", code, e)
	}
}

// Tiers move up at once and down only after the grace period, each change an event.
func TestTierReviewAndGrace(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, nil)
		s.MustSend("track", order("climber", "o-1", 150))
		var sum summary
		s.API("GET", "/api/v1/customers/climber/loyalty", nil, &sum)
		review := func() int {
			n, err := s.Loyalty.ReviewTiers(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		review() // the first review at start-up may have moved the member already
		if n := review(); n != 0 {
			t.Fatalf("a second review changed %d", n)
		}
		// The order is refunded: the points go, the tier stays through the grace period.
		s.MustSend("track", map[string]any{"userId": "climber", "event": "Order Refunded", "properties": map[string]any{"order_id": "o-1"}})
		s.API("GET", "/api/v1/customers/climber/loyalty", nil, &sum)
		if sum.Balance != 0 {
			t.Fatalf("balance after refund %d", sum.Balance)
		}
		review()
		s.API("GET", "/api/v1/customers/climber/loyalty", nil, &sum)
		if sum.Tier != "gold" {
			t.Fatalf("during grace: %+v", sum)
		}
		clock.Add(31 * 24 * time.Hour)
		if n := review(); n != 1 {
			t.Fatalf("downgrade: %d changes", n)
		}
		s.API("GET", "/api/v1/customers/climber/loyalty", nil, &sum)
		if sum.Tier != "bronze" {
			t.Fatalf("after grace: %+v", sum)
		}
		s.Sync()
		var events struct {
			Events []struct {
				Event   string
				Message struct{ Properties map[string]any }
			}
		}
		s.API("GET", "/api/v1/events?type=Tier+Changed&customer=climber", nil, &events)
		if len(events.Events) != 2 || events.Events[0].Message.Properties["change"] != "upgrade" || events.Events[1].Message.Properties["to"] != "bronze" {
			t.Fatalf("events: %+v", events.Events)
		}
	})
}

// Communities from join and leave events; an introduction converts when
// the introduced customer orders.
func TestCommunitiesAndBridges(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		for _, u := range []string{"c-1", "c-2", "c-3"} {
			s.MustSend("track", map[string]any{"userId": u, "event": "Community Joined", "properties": map[string]any{"community": "Alpine club"}})
		}
		s.MustSend("track", map[string]any{"userId": "c-3", "event": "Community Left", "properties": map[string]any{"community": "Alpine club"}})
		s.MustSend("track", map[string]any{"userId": "c-1", "event": "Community Joined", "properties": map[string]any{"community": "Trail runners"}})
		var got struct {
			Communities []struct {
				Name            string
				Members, Active int
			}
		}
		s.API("GET", "/api/v1/communities", nil, &got)
		if len(got.Communities) != 2 || got.Communities[0].Name != "Alpine club" || got.Communities[0].Members != 2 || got.Communities[0].Active != 2 {
			t.Fatalf("communities: %+v", got)
		}
		var in struct{ ID string }
		if code := s.API("POST", "/api/v1/introductions", map[string]any{"from": "c-1", "to": "prospect-9", "note": "needs tents for a school trip"}, &in); code != 201 || in.ID == "" {
			t.Fatalf("introduce: %d %+v", code, in)
		}
		if code := s.API("POST", "/api/v1/introductions", map[string]any{"from": "c-1", "to": "c-1"}, nil); code != 400 {
			t.Fatalf("self-introduction: %d", code)
		}
		s.MustSend("track", map[string]any{"userId": "prospect-9", "event": "Order Completed", "properties": map[string]any{"order_id": "p9-1", "total": 800}})
		var list struct {
			Introductions []struct {
				ID          string
				ConvertedAt *time.Time
			}
		}
		s.API("GET", "/api/v1/introductions", nil, &list)
		if len(list.Introductions) != 1 || list.Introductions[0].ConvertedAt == nil {
			t.Fatalf("introductions: %+v", list)
		}
		// An introduction recorded afterwards, dated before an order it led to, converts at once.
		s.MustSend("track", order("late-buyer", "lb-1", 90))
		s.Sync()
		var late struct{ ConvertedAt *time.Time }
		at := clock.Now().Add(-10 * 24 * time.Hour).UTC().Format(time.RFC3339)
		if code := s.API("POST", "/api/v1/introductions", map[string]any{"from": "c-2", "to": "late-buyer", "at": at}, &late); code != 201 || late.ConvertedAt == nil {
			t.Fatalf("backdated introduction: %d %+v", code, late)
		}
		if code := s.API("POST", "/api/v1/introductions", map[string]any{"from": "c-2", "to": "c-1", "at": clock.Now().Add(time.Hour).Format(time.RFC3339)}, nil); code != 400 {
			t.Fatalf("an introduction ahead of time: %d", code)
		}
		s.Sync()
		var ev struct{ Events []any }
		s.API("GET", "/api/v1/events?type=Introduction+Converted", nil, &ev)
		if len(ev.Events) != 2 {
			t.Fatalf("%d conversion events", len(ev.Events))
		}
	})
}

// A community's active members are those who, in the last 30 days, joined
// it or posted, answered or attended an event in it — not members who
// only ordered or browsed, nor non-members who posted; posts, answers
// and events count those 30 days.
func TestCommunityActiveMembers(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, _ := apptest.StartAt(t, dsn, apptest.Epoch)
		r := rand.New(rand.NewPCG(30, 7))
		ago := func(days float64) string {
			return apptest.Epoch.Add(-time.Duration(days * 24 * float64(time.Hour))).UTC().Format(time.RFC3339)
		}
		var batch []any
		send := func(user, event string, days float64) {
			batch = append(batch, map[string]any{"type": "track", "userId": user, "event": event, "timestamp": ago(days),
				"properties": map[string]any{"community": "Alpine club", "order_id": fmt.Sprintf("o-%d", len(batch)), "total": 20}})
		}
		active := map[string]bool{}
		counts := map[string]int{}
		kinds := []string{"Community Post Created", "Community Answer Posted", "Community Event Attended"}
		for i := range 60 {
			u := fmt.Sprintf("am-%02d", i)
			member := i < 50
			if member {
				joined := 1 + r.Float64()*120
				send(u, "Community Joined", joined)
				if joined <= 30 {
					active[u] = true
				}
			}
			for range r.IntN(4) {
				days, kind := 0.5+r.Float64()*59, kinds[r.IntN(3)]
				send(u, kind, days)
				if days <= 30 {
					counts[kind]++
					if member {
						active[u] = true
					}
				}
			}
			send(u, "Order Completed", 2) // a touchpoint outside the group
		}
		s.MustSend("batch", map[string]any{"batch": batch})
		s.Sync()
		var got struct {
			Communities []struct {
				Name            string
				Members, Active int
				P               int `json:"posts30d"`
				A               int `json:"answers30d"`
				E               int `json:"events30d"`
			}
		}
		s.API("GET", "/api/v1/communities", nil, &got)
		if len(got.Communities) != 1 {
			t.Fatalf("communities: %+v", got)
		}
		c := got.Communities[0]
		if c.Members != 50 || c.Active != len(active) || c.P != counts[kinds[0]] || c.A != counts[kinds[1]] || c.E != counts[kinds[2]] {
			t.Fatalf("Alpine club: %+v, want 50 members, %d active, %d posts, %d answers, %d events", c, len(active), counts[kinds[0]], counts[kinds[1]], counts[kinds[2]])
		}
		if len(active) == 0 || len(active) == 50 {
			t.Fatalf("the data should have both active and inactive members: %d", len(active))
		}
	})
}
