package web_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
	"github.com/cxloop/cxloop/internal/survey"
)

// A person builds a survey in the console; its trigger event arrives
// through /v1/track; the invitation email reaches a real SMTP server; the
// customer answers in the browser; the score shows on the results page.
func TestConsoleSurveyLoop(t *testing.T) {
	ctx := browser(t)
	mb := apptest.StartMailbox(t)
	s := apptest.StartWith(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]), func(c *app.Config) {
		c.Mail = &survey.Mailer{Addr: mb.Addr, From: "Northwind <surveys@northwind.test>"}
	})

	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/surveys"),
		chromedp.WaitVisible(chromedp.CSS(`#token-login`)),
		chromedp.SendKeys(chromedp.CSS(`#token-login input[name=token]`), apptest.Token),
		chromedp.Submit(chromedp.CSS(`#token-login input[name=token]`)),
		chromedp.WaitVisible(chromedp.CSS(`#surveys`)),
		chromedp.Click(chromedp.CSS(`a[href="/surveys/new"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#editor`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Store visit"),
		chromedp.SendKeys(chromedp.CSS(`input[name=owner]`), "stores"),
		chromedp.SetValue(chromedp.CSS(`textarea[name=q1_text_en]`), "How likely are you to recommend our store?"),
		chromedp.SetValue(chromedp.CSS(`select[name=add_type]`), "text"),
		chromedp.Click(chromedp.CSS(`#add-question`)),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name=q2_text_en]`)),
		chromedp.SetValue(chromedp.CSS(`textarea[name=q2_text_en]`), "What could we do better?"),
		chromedp.SendKeys(chromedp.CSS(`input[name=event]`), "Order Completed"),
		chromedp.SendKeys(chromedp.CSS(`input[name=where_channel]`), "store"),
		chromedp.Click(chromedp.CSS(`#save-survey`)),
		chromedp.WaitVisible(chromedp.CSS(`#score`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	page := run(t, ctx, chromedp.Location())
	id := page[strings.LastIndex(page, "/")+1:]
	if !strings.HasPrefix(id, "srv_") {
		t.Fatalf("after creating, the console is at %s", page)
	}

	s.MustSend("identify", map[string]any{"type": "identify", "userId": "shopper-1", "traits": map[string]any{"email": "shopper@example.com", "name": "Sam Shopper"}})
	s.MustSend("track", map[string]any{"type": "track", "event": "Order Completed", "userId": "shopper-1",
		"properties": map[string]any{"order_id": "till-77", "total": 30}, "context": map[string]any{"channel": "store"}})
	m := mb.Wait(t, 1)
	link := m.Link()
	if m.To[0] != "shopper@example.com" || link == "" {
		t.Fatalf("mail to %v without a link:\n%s", m.To, m.Text())
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`form[method=post]`)),
		chromedp.Click(chromedp.CSS(`input[name=q1][value="9"] + span`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=q2]`), "Friendly staff, great advice"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[role=status]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if thanks := run(t, ctx, chromedp.Text(chromedp.CSS(`[role=status]`))); !strings.Contains(thanks, "Thank you") {
		t.Fatalf("after answering: %q", thanks)
	}

	var value, n, verbatims, funnel string
	deadline := time.Now().Add(10 * time.Second)
	for {
		err = chromedp.Do(ctx, chromedp.Navigate(s.URL+"/surveys/"+id), chromedp.WaitVisible(chromedp.CSS(`#score`)))
		if err != nil {
			t.Fatal(err)
		}
		value = run(t, ctx, chromedp.Text(chromedp.CSS(`#score`)))
		if strings.Contains(value, "100") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	value = run(t, ctx, chromedp.Text(chromedp.CSS(`#score-value`)))
	n = run(t, ctx, chromedp.Text(chromedp.CSS(`#score-n`)))
	verbatims = run(t, ctx, chromedp.Text(chromedp.CSS(`#verbatims`)))
	funnel = run(t, ctx, chromedp.Text(chromedp.CSS(`#response-rate`)))
	if dir := os.Getenv("CXLOOP_SCREENSHOTS"); dir != "" {
		// Quality 100 captures PNG.
		_ = os.WriteFile(filepath.Join(dir, "survey-results.png"), run(t, ctx, chromedp.FullScreenshot(100)), 0o644)
	}
	if strings.TrimSpace(value) != "100" || strings.TrimSpace(n) != "1" {
		t.Errorf("results page shows NPS %q with n %q, want 100 and 1", value, n)
	}
	if !strings.Contains(verbatims, "Friendly staff, great advice") || !strings.Contains(verbatims, "positive") {
		t.Errorf("verbatims: %q", verbatims)
	}
	if strings.TrimSpace(funnel) != "100.0%" {
		t.Errorf("response rate %q", funnel)
	}

	// The customer's page shows the answered invitation.
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/customers/shopper-1"), chromedp.WaitVisible(chromedp.CSS(`#invitations`))); err != nil {
		t.Fatal(err)
	}
	if rows := run(t, ctx, chromedp.Text(chromedp.CSS(`#invitations`))); !strings.Contains(rows, "answered") || !strings.Contains(rows, "Store visit") {
		t.Errorf("customer page invitations: %q", rows)
	}
}
