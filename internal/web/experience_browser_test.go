package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A regular customer who consented to replenishment: the console shows
// what they buy again and the predicted need, an agent cancels the order
// cxloop scheduled and proposes the last order again, and the program page
// shows replenishment accuracy and the learning report.
func TestConsoleExperiences(t *testing.T) {
	ctx := browser(t)
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	s, _ := apptest.StartAt(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]), now)
	// Coffee is a consumable; the tent the customer also bought is not.
	if code := s.API("POST", "/api/v1/products", map[string]any{"id": "coffee", "replenishable": true, "image_url": "https://shop.example/coffee.jpg"}, nil); code != 200 {
		t.Fatalf("coffee: %d", code)
	}
	s.MustSend("identify", map[string]any{"userId": "exp-1", "traits": map[string]any{"name": "Rita Regular"}})
	for k := range 4 { // coffee every 10 days, the last 10 days ago: due now
		at := now.Add(-time.Duration(40-10*k) * 24 * time.Hour).UTC().Format(time.RFC3339)
		s.MustSend("track", map[string]any{"userId": "exp-1", "event": "Order Completed", "timestamp": at, "properties": map[string]any{
			"order_id": fmt.Sprintf("e-%d", k), "total": 12, "products": []any{map[string]any{"product_id": "coffee", "name": "Trail coffee beans", "quantity": 1, "price": 12},
				map[string]any{"product_id": "tent-2", "name": "Ridge 2 Tent", "quantity": 1, "price": 229}}}})
	}
	s.MustSend("track", map[string]any{"userId": "exp-1", "event": "Replenishment Consented"})
	s.Sync()
	if _, _, err := s.Exp.Replenish(context.Background()); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/customers/exp-1"),
		chromedp.WaitVisible(chromedp.CSS(`#token-login`)),
		chromedp.SendKeys(chromedp.CSS(`#token-login input[name=token]`), apptest.Token),
	)
	if err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `#token-login input[name=token]`, "/customers/exp-1")
	waitFor(t, ctx, `#experiences`)
	if clv := run(t, ctx, chromedp.Text(chromedp.CSS(`#clv`))); clv == "" || clv == "0" {
		t.Fatalf("lifetime value: %q", clv)
	}
	if again := run(t, ctx, chromedp.Text(chromedp.CSS(`#buy-again`))); !strings.Contains(again, "Trail coffee beans") {
		t.Fatalf("buy again: %q", again)
	}
	if needs := run(t, ctx, chromedp.Text(chromedp.CSS(`#needs`))); !strings.Contains(needs, "consented") || !strings.Contains(needs, "10") {
		t.Fatalf("needs: %q", needs)
	}
	// Products by name and picture, never by id.
	if reps := run(t, ctx, chromedp.Text(chromedp.CSS(`#replenishments`))); !strings.Contains(reps, "Trail coffee beans") || strings.Contains(reps, "Ridge 2 Tent") {
		t.Fatalf("replenishments: %q", reps)
	}
	if img := run(t, ctx, chromedp.Evaluate[string](`(document.querySelector("#buy-again img") || {src: ""}).src`)); img != "https://shop.example/coffee.jpg" {
		t.Fatalf("buy again image: %q", img)
	}
	submit(t, ctx, `#replenishments tr[data-status=scheduled] button`, "#experiences")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		open(t, ctx, s.URL+"/customers/exp-1", `#replenishments`)
		if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#replenishments tr[data-status=cancelled]").length`)); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replenishment was not cancelled")
		}
	}
	submit(t, ctx, `#reorder button`, "#experiences")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		open(t, ctx, s.URL+"/customers/exp-1", `#experiences`)
		text := run(t, ctx, chromedp.Evaluate[string](`(document.querySelector("#proposals") || {innerText: ""}).innerText`))
		if strings.Contains(text, "Trail coffee beans") && strings.Contains(text, "proposed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no proposal shown: %q", text)
		}
	}
	if touches := run(t, ctx, chromedp.Text(chromedp.CSS(`#touches`))); !strings.Contains(touches, "Order Proposed") || !strings.Contains(touches, "Replenishment Cancelled") {
		t.Fatalf("journey: %q", touches)
	}
	// The catalog page: what experiences may do with each product.
	open(t, ctx, s.URL+"/products", `#products`)
	if row := run(t, ctx, chromedp.Text(chromedp.CSS(`#products tr[data-product=coffee]`))); !strings.Contains(row, "Trail coffee beans") || !strings.Contains(row, "yes (product)") {
		t.Fatalf("coffee in the catalog: %q", row)
	}
	if row := run(t, ctx, chromedp.Text(chromedp.CSS(`#products tr[data-product=tent-2]`))); !strings.Contains(row, "Ridge 2 Tent") || !strings.Contains(row, "no (default)") {
		t.Fatalf("tent in the catalog: %q", row)
	}
	open(t, ctx, s.URL+"/experiences", `#learning`)
	if acc := run(t, ctx, chromedp.Text(chromedp.CSS(`#replenish`))); !strings.Contains(acc, "over 2 repurchases") {
		t.Fatalf("replenishment accuracy: %q", acc)
	}
	if rep := run(t, ctx, chromedp.Text(chromedp.CSS(`#learning`))); !strings.Contains(rep, "Automatic execution") || !strings.Contains(rep, "Respond to desire") || strings.Contains(rep, "_") {
		t.Fatalf("learning report: %q", rep)
	}
}
