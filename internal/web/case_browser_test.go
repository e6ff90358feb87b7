package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
	"github.com/cxloop/cxloop/internal/survey"
)

// A detractor answer arrives, a case appears in the service team's queue,
// an agent resolves it in the browser, and the handling survey email goes out.
func TestConsoleCaseLoop(t *testing.T) {
	ctx := browser(t)
	mb := apptest.StartMailbox(t)
	s := apptest.StartWith(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]), func(c *app.Config) {
		c.Mail = &survey.Mailer{Addr: mb.Addr, From: "care@northwind.test"}
	})
	s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
	if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "detractors", "when": {"event": "Survey Responded", "nps_max": 6},
		"then": {"open_case": {"team": "service", "kind": "detractor", "sla": "24h"}}}`), nil); code != 201 {
		t.Fatalf("rule: %d", code)
	}
	var nps struct{ ID string }
	s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "Relationship", "rhythm": "pulse", "owner": "marketing",
		"questions": [{"id": "q", "type": "nps", "text": {"en": "?"}}]}`), &nps)
	s.MustSend("identify", map[string]any{"userId": "det-1", "traits": map[string]any{"email": "dana@example.com", "name": "Dana Detractor"}})
	s.Sync()
	s.API("POST", "/api/v1/surveys/"+nps.ID+"/responses", map[string]any{"customer": "det-1", "answers": map[string]any{"q": 2}}, nil)

	// An agent of the service team works the queue.
	if err := s.Auth.CreateUser(context.Background(), "agent@northwind.test", "a long password", "agent", "service"); err != nil {
		t.Fatal(err)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/cases?team=service"),
		chromedp.WaitVisible(chromedp.CSS(`#password-login`)),
		chromedp.SendKeys(chromedp.CSS(`#password-login input[name=email]`), "agent@northwind.test"),
		chromedp.SendKeys(chromedp.CSS(`#password-login input[name=password]`), "a long password"),
		chromedp.Submit(chromedp.CSS(`#password-login input[name=password]`)),
		chromedp.WaitVisible(chromedp.CSS(`#cases`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	rows := run(t, ctx, chromedp.Text(chromedp.CSS(`#cases tbody`)))
	if !strings.Contains(rows, "detractor") || !strings.Contains(rows, "service") {
		t.Fatalf("queue: %q", rows)
	}
	href := run(t, ctx, chromedp.AttributesAll(chromedp.CSSAll(`#cases tbody a[href^="/cases/case_"]`)))
	if len(href) != 1 {
		t.Fatalf("case links: %v", href)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(s.URL+href[0]["href"]),
		chromedp.WaitVisible(chromedp.CSS(`#resolve`)),
		chromedp.SendKeys(chromedp.CSS(`#resolve textarea[name=note]`), "Called Dana, refunded the delivery fee."),
		chromedp.Submit(chromedp.CSS(`#resolve textarea[name=note]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitNotPresent(chromedp.CSS(`#resolve`)), chromedp.WaitVisible(chromedp.CSS(`#notes`))); err != nil {
		t.Fatal(err)
	}
	status := run(t, ctx, chromedp.Text(chromedp.CSS(`#case-status`)))
	notes := run(t, ctx, chromedp.Text(chromedp.CSS(`#notes`)))
	if status != "resolved" || !strings.Contains(notes, "refunded the delivery fee") {
		t.Fatalf("after resolving: %q %q", status, notes)
	}
	// What happened: the survey and the score, one a line as written.
	if what := run(t, ctx, chromedp.Text(chromedp.CSS(`.case-body`))); !strings.Contains(what, "Survey: Relationship\nScores: NPS 2") {
		t.Fatalf("what happened: %q", what)
	}
	m := mb.Wait(t, 1)
	if m.To[0] != "dana@example.com" || m.Link() == "" {
		t.Fatalf("handling survey mail to %v:\n%s", m.To, m.Text())
	}
	resp, err := http.Get(m.Link())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := new(strings.Builder)
	_, _ = bufCopy(buf, resp)
	if !strings.Contains(buf.String(), "How well did we handle your complaint?") {
		t.Fatalf("handling survey page:\n%s", buf)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(s.URL+"/recovery"), chromedp.WaitVisible(chromedp.CSS(`#handled`))); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("CXLOOP_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "recovery.png"), run(t, ctx, chromedp.FullScreenshot(100)), 0o644)
	}
}

func bufCopy(b *strings.Builder, resp *http.Response) (int64, error) {
	data := make([]byte, 64<<10)
	var n int64
	for {
		k, err := resp.Body.Read(data)
		b.Write(data[:k])
		n += int64(k)
		if err != nil {
			return n, nil
		}
	}
}
