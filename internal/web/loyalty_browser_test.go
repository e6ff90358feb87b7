package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A member earns points, moves up a tier, and redeems points at the till
// through the console; the program dashboard shows what members still hold.
func TestConsoleLoyaltyMember(t *testing.T) {
	ctx := browser(t)
	s, clock := apptest.StartAt(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]), apptest.Epoch)
	s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, nil)
	s.MustSend("identify", map[string]any{"userId": "loy-1", "traits": map[string]any{"name": "Lou Loyal"}})
	s.MustSend("track", map[string]any{"userId": "loy-1", "event": "Order Completed", "properties": map[string]any{"order_id": "l-1", "total": 150}})
	s.Sync()
	// The hourly review may already have run; either way the member is gold now.
	if _, err := s.Loyalty.ReviewTiers(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/customers/loy-1"),
		chromedp.WaitVisible(chromedp.CSS(`#token-login`)),
		chromedp.SendKeys(chromedp.CSS(`#token-login input[name=token]`), apptest.Token),
		chromedp.Submit(chromedp.CSS(`#token-login input[name=token]`)),
		chromedp.WaitVisible(chromedp.CSS(`#loyalty`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if b, tier := run(t, ctx, chromedp.Text(chromedp.CSS(`#balance`))), run(t, ctx, chromedp.Text(chromedp.CSS(`#tier`))); b != "150" || tier != "gold" {
		t.Fatalf("before redeeming: %q points, tier %q", b, tier)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#redeem input[name=points]`), "100"),
		chromedp.SendKeys(chromedp.CSS(`#redeem input[name=note]`), "Tent voucher"),
	)
	if err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `#redeem input[name=points]`, "#loyalty")
	// Read the page afresh until the redemption shows (the form's redirect
	// may still be loading when the first read comes).
	deadline := time.Now().Add(10 * time.Second)
	for {
		time.Sleep(200 * time.Millisecond)
		open(t, ctx, s.URL+"/customers/loy-1", `#balance`)
		if b := run(t, ctx, chromedp.Text(chromedp.CSS(`#balance`))); b == "50" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("after redeeming: %q points", b)
		}
	}
	if ledger := run(t, ctx, chromedp.Text(chromedp.CSS(`#loyalty table`))); !strings.Contains(ledger, "Tent voucher") || !strings.Contains(ledger, "-100") {
		t.Fatalf("ledger: %q", ledger)
	}
	open(t, ctx, s.URL+"/loyalty", `#liability`)
	if l := run(t, ctx, chromedp.Text(chromedp.CSS(`#liability .big`))); l != "50" {
		t.Fatalf("liability %q", l)
	}
	if cell := run(t, ctx, chromedp.TextContent(chromedp.CSS(`#matrix-chart tr[data-key="high-low"] td:last-child`))); cell != "1" {
		t.Fatalf("senders and spenders chart: %q", cell)
	}
	var d struct {
		ByTier         map[string]int
		RedemptionRate float64
	}
	s.API("GET", "/api/v1/loyalty/dashboard", nil, &d)
	if d.ByTier["gold"] != 1 || d.RedemptionRate < 0.66 || d.RedemptionRate > 0.67 {
		t.Fatalf("dashboard: %+v", d)
	}
	// The rules editor: a sender reward for converted referrals, then it goes again.
	// Rules list in the order they were made.
	clock.Add(time.Minute)
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#add-rule input[name=on]`), "Referral Converted"),
		chromedp.SendKeys(chromedp.CSS(`#add-rule input[name=points]`), "100"),
		chromedp.SetValue(chromedp.CSS(`#add-rule select[name=beneficiary]`), "sender"),
	)
	if err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `#add-rule input[name=on]`, "/loyalty#earning")
	var rules struct {
		Rules []struct{ ID, On, Beneficiary string }
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		s.API("GET", "/api/v1/loyalty/rules", nil, &rules)
		if len(rules.Rules) == 2 || time.Now().After(deadline) {
			break
		}
	}
	if len(rules.Rules) != 2 || rules.Rules[1].On != "Referral Converted" || rules.Rules[1].Beneficiary != "sender" {
		t.Fatalf("rules after adding: %+v", rules)
	}
	open(t, ctx, s.URL+"/loyalty", `#earning`)
	if row := run(t, ctx, chromedp.Text(chromedp.CSS(`tr[data-rule="`+rules.Rules[1].ID+`"]`))); !strings.Contains(row, "100 points") || !strings.Contains(row, "the sender") {
		t.Fatalf("rule row %q", row)
	}
	clickTo(t, ctx, `tr[data-rule="`+rules.Rules[1].ID+`"] form[action$="/delete"] button`, "/loyalty#earning")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		s.API("GET", "/api/v1/loyalty/rules", nil, &rules)
		if len(rules.Rules) == 1 || time.Now().After(deadline) {
			break
		}
	}
	if len(rules.Rules) != 1 || rules.Rules[0].On != "Order Completed" {
		t.Fatalf("rules after removing: %+v", rules)
	}
	if q := asked(ctx); len(q) != 1 || q[0] != "Remove this earning rule?" {
		t.Fatalf("the page asked %q before removing the rule", q)
	}
}
