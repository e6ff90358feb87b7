package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// An admin opens the audit trail from Settings, sees the sign-ins and the
// changes made through the API, filters them by action with the page's
// form, and reads the list on a phone without scrolling sideways.
func TestConsoleAuditTrail(t *testing.T) {
	ctx := browser(t)
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]))
	var hook struct{ ID string }
	if code := s.API("POST", "/api/v1/webhooks", map[string]any{"url": "http://127.0.0.1:9/in", "events": []string{"Case Opened"}}, &hook); code != 201 {
		t.Fatalf("webhook: %d", code)
	}
	if code := s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil); code != 201 {
		t.Fatalf("team: %d", code)
	}
	if code, _ := s.Do("POST", "/login", []byte("token=cxt_wrong"), "Content-Type: application/x-www-form-urlencoded"); code != 401 {
		t.Fatalf("failed sign-in: %d", code)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/settings"),
		chromedp.WaitVisible(chromedp.CSS(`#token-login`)),
		chromedp.SendKeys(chromedp.CSS(`#token-login input[name=token]`), apptest.Token),
		chromedp.Submit(chromedp.CSS(`#token-login input[name=token]`)),
		chromedp.WaitVisible(chromedp.CSS(`#audit-link`)),
		chromedp.Click(chromedp.CSS(`#audit-link`)),
		chromedp.WaitVisible(chromedp.CSS(`#audit tr.entry`)),
	); err != nil {
		t.Fatal(err)
	}
	rows := run(t, ctx, chromedp.Evaluate[[]map[string]string](`[...document.querySelectorAll("#audit tr.entry")].map(r => ({
		action: r.dataset.action, resource: r.dataset.resource, text: r.innerText}))`))
	var got []string
	for _, r := range rows {
		got = append(got, r["action"]+" "+r["resource"])
	}
	want := []string{"sign_in session", "sign_in_failed session", "create team", "create webhook", "create token", "create source"} // the last two: the first start's
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("rows %v, want %v", got, want)
	}
	if !strings.Contains(rows[3]["text"], hook.ID) || !strings.Contains(rows[3]["text"], "127.0.0.1") || !strings.Contains(rows[3]["text"], "POST /api/v1/webhooks") {
		t.Errorf("webhook row says %q", rows[3]["text"])
	}
	if at := apptest.Epoch.Format("2006-01-02 15:04:05"); !strings.Contains(rows[0]["text"], at) {
		t.Errorf("sign-in row %q is not at cxloop's clock, %s", rows[0]["text"], at)
	}
	if strings.Contains(rows[1]["text"], "cxt_wrong") {
		t.Errorf("the failed sign-in row shows the token tried: %q", rows[1]["text"])
	}
	nav := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('header nav a[aria-current="page"]').innerText`))
	if nav != "Audit" {
		t.Errorf("navigation marks %q", nav)
	}

	// The filter form narrows the list.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#audit-filter input[name=action]`), "create")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `#audit-filter input[name=action]`, "&to=")
	actions := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#audit tr.entry")].map(r => r.dataset.action)`))
	if strings.Join(actions, ",") != "create,create,create,create" {
		t.Errorf("filtered by create: %v", actions)
	}

	// On a phone each entry reads as labelled lines, and nothing scrolls sideways.
	checkFits(t, ctx, s.URL+"/audit", "#audit")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 900)); err != nil {
		t.Fatal(err)
	}
	open(t, ctx, s.URL+"/audit", "#audit")
	wide := run(t, ctx, chromedp.Evaluate[bool](`[...document.querySelectorAll("#audit tr.entry")].every(r => r.getBoundingClientRect().right <= 390)`))
	if !wide {
		t.Error("an audit row runs past a 390 px screen")
	}
	if dir := os.Getenv("CXLOOP_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "audit-phone.png"), run(t, ctx, chromedp.FullScreenshot(100)), 0o644)
	}
}
