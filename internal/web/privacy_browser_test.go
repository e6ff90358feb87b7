package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// An admin exports a customer from their page, erases them with
// suppression, finds them gone and refused, and lifts the suppression.
func TestConsoleExportAndErase(t *testing.T) {
	ctx := browser(t)
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]))
	s.MustSend("identify", map[string]any{"userId": "u-erin", "traits": map[string]any{"email": "erin.example@example.net", "name": "Erin Erasable"}})
	s.MustSend("track", map[string]any{"userId": "u-erin", "event": "Order Completed", "properties": map[string]any{"order_id": "o-erin", "total": 30}})
	s.MustSend("identify", map[string]any{"userId": "u-keep", "traits": map[string]any{"name": "Kim Kept"}})
	s.Sync()
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/customers/u-erin"),
		chromedp.WaitVisible(chromedp.CSS(`#token-login`)),
		chromedp.SendKeys(chromedp.CSS(`#token-login input[name=token]`), apptest.Token),
		chromedp.Submit(chromedp.CSS(`#token-login input[name=token]`)),
		chromedp.WaitVisible(chromedp.CSS(`#privacy`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The export link, followed by the browser with its session.
	doc := run(t, ctx, chromedp.Evaluate[map[string]any](`(async () => {
		const a = document.querySelector('#export');
		const r = await fetch(a.href);
		const j = await r.json();
		return {status: r.status, disposition: r.headers.get('content-disposition'), name: j.customer.traits.name, events: j.events.length,
			orders: (j.tables.orders || []).length};
	})()`, chromedp.EvalAwaitPromise))
	if doc["status"] != float64(200) || !strings.Contains(doc["disposition"].(string), "attachment") || doc["name"] != "Erin Erasable" ||
		doc["events"] != float64(2) || doc["orders"] != float64(1) {
		t.Fatalf("export in the browser: %v", doc)
	}
	// Erase without the confirmation: refused, nothing erased.
	run(t, ctx, chromedp.Evaluate[bool](`document.querySelector('#erase input[name=confirm]').removeAttribute('pattern'), true`))
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#erase input[name=confirm]`), "yes"),
	)
	if err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `#erase input[name=confirm]`, "/erase")
	body := run(t, ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if !strings.Contains(body, "type erase to confirm") {
		t.Fatalf("unconfirmed erasure: %q", body)
	}
	if code := s.API("GET", "/api/v1/customers/u-erin", nil, nil); code != 200 {
		t.Fatalf("erased without confirmation: %d", code)
	}
	// Confirmed, with suppression.
	open(t, ctx, s.URL+"/customers/u-erin", `#erase`)
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#erase input[name=confirm]`), "erase"),
		chromedp.Click(chromedp.CSS(`#erase input[name=suppress]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `#erase input[name=confirm]`, "")
	waitFor(t, ctx, `#erased`)
	notice := run(t, ctx, chromedp.Text(chromedp.CSS(`#erased`)))
	if !strings.Contains(notice, "2 events left as tombstones") || !strings.Contains(notice, "refused") {
		t.Fatalf("notice: %q", notice)
	}
	if code := s.API("GET", "/api/v1/customers/erin.example@example.net", nil, nil); code != 404 {
		t.Fatalf("after erasure: %d", code)
	}
	if code := s.API("GET", "/api/v1/customers/u-keep", nil, nil); code != 200 {
		t.Fatalf("another customer: %d", code)
	}
	s.MustSend("track", map[string]any{"userId": "u-erin", "event": "Product Viewed"})
	s.Sync()
	if code := s.API("GET", "/api/v1/customers/u-erin", nil, nil); code != 404 {
		t.Fatalf("suppressed identity accepted: %d", code)
	}
	rows := run(t, ctx, chromedp.Text(chromedp.CSS(`#suppressions tbody`)))
	if !strings.Contains(rows, "2 (user_id, email)") || strings.Contains(rows, "erin.example") {
		t.Fatalf("suppression list: %q", rows)
	}
	// Lifted from the console.
	submit(t, ctx, `#suppressions form`, "/privacy")
	waitFor(t, ctx, `#suppressions`)
	if rows := run(t, ctx, chromedp.Text(chromedp.CSS(`#suppressions tbody`))); !strings.Contains(rows, "Nobody is suppressed") {
		t.Fatalf("after lifting: %q", rows)
	}
	s.MustSend("track", map[string]any{"userId": "u-erin", "event": "Product Viewed"})
	s.Sync()
	if code := s.API("GET", "/api/v1/customers/u-erin", nil, nil); code != 200 {
		t.Fatalf("after lifting, a new event: %d", code)
	}
	// Refused again from the console, without an erasure.
	open(t, ctx, s.URL+"/privacy", `#suppress`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#suppress textarea[name=userIds]`), "u-erin")); err != nil {
		t.Fatal(err)
	}
	// The form answers with the page it was on: wait for the new row.
	submit(t, ctx, `#suppress textarea[name=userIds]`, "/privacy")
	waitFor(t, ctx, `#suppressions tbody tr[id^="sup-"]`)
	if rows := run(t, ctx, chromedp.Text(chromedp.CSS(`#suppressions tbody`))); !strings.Contains(rows, "1 (user_id)") {
		t.Fatalf("after suppressing: %q", rows)
	}
	s.MustSend("track", map[string]any{"userId": "u-erin", "event": "Product Viewed"})
	s.Sync()
	var tl struct{ Events []any }
	s.API("GET", "/api/v1/customers/u-erin/timeline?limit=50", nil, &tl)
	if len(tl.Events) != 1 {
		t.Fatalf("events after suppressing again: %d, want the one sent before", len(tl.Events))
	}
}
