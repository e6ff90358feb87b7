package web_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
	"github.com/cxloop/cxloop/internal/survey"
)

// A customer clicks a score in the invitation email: the browser shows the
// score chosen, one click records it, the page asks the rest with the score
// filled in, and finishing it completes the same response.
func TestEmailScoreLinkInBrowser(t *testing.T) {
	ctx := browser(t)
	mb := apptest.StartMailbox(t)
	c := apptest.NewClock(apptest.Epoch)
	s := apptest.StartWith(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]), func(cfg *app.Config) {
		cfg.Now = c.Now
		cfg.Mail = &survey.Mailer{Addr: mb.Addr, From: "Northwind <surveys@northwind.test>"}
	})
	var sv struct{ ID string }
	if code := s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "After your order", "rhythm": "persistent", "owner": "service",
		"trigger": {"event": "Order Completed"}, "questions": [
		{"id": "q1", "type": "nps", "text": {"en": "How likely are you to recommend Northwind?"}},
		{"id": "why", "type": "text", "text": {"en": "What is the main reason for your score?"}}]}`), &sv); code != 201 {
		t.Fatalf("survey: %d", code)
	}
	s.MustSend("identify", map[string]any{"type": "identify", "userId": "kim", "traits": map[string]any{"email": "kim@example.com"}})
	s.MustSend("track", map[string]any{"type": "track", "event": "Order Completed", "userId": "kim", "properties": map[string]any{"order_id": "o-1"}})
	m := mb.Wait(t, 1)
	link := regexp.MustCompile(`http\S+/s/\S+\?score=2\b`).FindString(m.Text())
	if link == "" {
		t.Fatalf("no score link for 2:\n%s", m.Text())
	}

	err := chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/score"] button[type=submit]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if checked := run(t, ctx, chromedp.Evaluate[string](`(document.querySelector("input[name=q1]:checked") || {}).value || ""`)); checked != "2" {
		t.Fatalf("score chosen = %q", checked)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("textarea").length`)); n != 0 {
		t.Fatalf("the score page asks %d more questions before the score is recorded", n)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form[action$="/score"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name=why]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if checked := run(t, ctx, chromedp.Evaluate[string](`(document.querySelector("input[name=q1]:checked") || {}).value || ""`)); checked != "2" {
		t.Fatalf("after the click, score filled in = %q", checked)
	}
	type responses struct {
		Responses []struct {
			Answers map[string]any `json:"answers"`
		} `json:"responses"`
	}
	var got responses
	s.API("GET", "/api/v1/surveys/"+sv.ID+"/responses", nil, &got)
	if len(got.Responses) != 1 || got.Responses[0].Answers["q1"] != 2.0 {
		t.Fatalf("after the click: %+v", got)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`textarea[name=why]`), "The parcel was late"),
		chromedp.Click(chromedp.CSS(`form[method=post]:not([action$="/opt-out"]) button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`.card[role=status]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if thanks := run(t, ctx, chromedp.Text(chromedp.CSS(`.card[role=status]`))); !strings.Contains(thanks, "Thank you") {
		t.Fatalf("after the page: %q", thanks)
	}
	got = responses{}
	s.API("GET", "/api/v1/surveys/"+sv.ID+"/responses", nil, &got)
	if len(got.Responses) != 1 || got.Responses[0].Answers["q1"] != 2.0 || got.Responses[0].Answers["why"] != "The parcel was late" {
		t.Fatalf("after the page: %+v", got)
	}
}
