package loyalty_test

import (
	"context"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/demo"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The demo runs a relationship program: a minority of senders who spend
// little bring valuable customers, referrals convert and earn both sides
// points, members gather in communities and read guides, some redeem, and
// the business introduces customers to each other.
func TestDemoProgram(t *testing.T) {
	fixed := time.Date(2026, 10, 20, 15, 0, 0, 0, time.UTC)
	s, _ := apptest.StartAt(t, storetest.DSN(t, "sqlite"), fixed)
	ctx := context.Background()
	if err := demo.CreateLoop(ctx, s.URL, apptest.Token); err != nil {
		t.Fatal(err)
	}
	opts := demo.Options{Customers: 400, Seed: 5, End: fixed}
	if _, err := demo.Send(ctx, s.URL, apptest.WriteKey, opts); err != nil {
		t.Fatal(err)
	}
	s.Sync()
	s.Sync() // conversions are events of their own
	if err := demo.Finish(ctx, s.URL, apptest.Token, opts); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Loyalty.Engage(ctx, true); err != nil {
		t.Fatal(err)
	}
	var d struct {
		Members int
		Tiers   []struct {
			Tier    string
			Members int
			Share   float64
		}
		Redeemed        int64
		ReferralRevenue float64 `json:"referralRevenue"`
		Advocacy        struct {
			Matrix []struct {
				Spend, Referral string
				Customers       int
			}
			TopSendersLowSpend []any `json:"top_senders_low_spend"`
		}
	}
	s.API("GET", "/api/v1/loyalty/dashboard", nil, &d)
	lowHigh, all := 0, 0
	for _, c := range d.Advocacy.Matrix {
		all += c.Customers
		if c.Spend == "low" && c.Referral == "high" {
			lowHigh = c.Customers
		}
	}
	if d.Redeemed <= 0 || d.ReferralRevenue <= 0 || lowHigh == 0 || lowHigh*10 > all || len(d.Advocacy.TopSendersLowSpend) == 0 {
		t.Fatalf("dashboard: redeemed %d, referral revenue %.0f, senders who spend little %d of %d", d.Redeemed, d.ReferralRevenue, lowHigh, all)
	}
	// Right after loading, with no hourly review yet, the members are in
	// tiers shaped like a program: most in the first, the top a few.
	if len(d.Tiers) != 4 || d.Members < 300 {
		t.Fatalf("tiers: %d members %+v", d.Members, d.Tiers)
	}
	base, middle, top, placed := d.Tiers[0].Share, d.Tiers[1].Share+d.Tiers[2].Share, d.Tiers[3].Share, 0
	for _, x := range d.Tiers {
		placed += x.Members
	}
	t.Logf("%d members: %+v", d.Members, d.Tiers)
	if placed != d.Members || base < 0.55 || base > 0.78 || middle < 0.18 || middle > 0.40 || top <= 0 || top > 0.08 {
		t.Fatalf("tier shares: %d members, %+v", d.Members, d.Tiers)
	}
	var conv struct{ Events []any }
	s.API("GET", "/api/v1/events?type=Referral+Converted&limit=1000", nil, &conv)
	if len(conv.Events) == 0 {
		t.Fatal("no referral converted")
	}
	var cs struct {
		Communities []struct {
			Members, Answers int
		}
	}
	s.API("GET", "/api/v1/communities", nil, &cs)
	if len(cs.Communities) != 3 || cs.Communities[0].Members < 10 {
		t.Fatalf("communities: %+v", cs)
	}
	var gs struct {
		Guides []struct{ Readers int }
	}
	s.API("GET", "/api/v1/guides", nil, &gs)
	if len(gs.Guides) != 3 || gs.Guides[0].Readers < 10 {
		t.Fatalf("guides: %+v", gs)
	}
	var in struct{ Introductions []any }
	s.API("GET", "/api/v1/introductions", nil, &in)
	if len(in.Introductions) < 3 {
		t.Fatalf("%d introductions", len(in.Introductions))
	}
}
