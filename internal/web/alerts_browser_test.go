package web_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The Alerts page shows what each alert watches, each group's test now
// and its firings with the evidence the API gives, linked to the case.
func TestConsoleAlerts(t *testing.T) {
	ctx := browser(t)
	s, _ := apptest.StartAt(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]), apptest.Epoch)
	s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
	var quiet, loud struct{ ID string }
	if code := s.API("POST", "/api/v1/alerts", json.RawMessage(`{"name": "Complaint volume by channel", "metric": "complaints", "by": "channel",
		"then": {"open_case": {"team": "service", "priority": "high"}}}`), &loud); code != 201 {
		t.Fatalf("alert: %d", code)
	}
	if code := s.API("POST", "/api/v1/alerts", json.RawMessage(`{"name": "Negative mentions", "metric": "negative_mentions",
		"then": {"open_case": {"team": "service"}}}`), &quiet); code != 201 {
		t.Fatalf("alert: %d", code)
	}
	// Call-centre complaints: 3 in the week before, 17 in the last week;
	// email complaints: 4 and 5.
	var batch []map[string]any
	for ch, plan := range map[string][2]int{"call_centre": {3, 17}, "email": {4, 5}} {
		for w, k := range plan {
			at := apptest.Epoch.Add(-time.Duration(10-7*w) * 24 * time.Hour)
			for i := range k {
				batch = append(batch, map[string]any{"type": "track", "userId": fmt.Sprintf("c-%s-%d-%d", ch, w, i), "event": "Complaint Submitted",
					"timestamp": at.Add(time.Duration(i) * time.Minute).Format(time.RFC3339), "context": map[string]any{"channel": ch},
					"properties": map[string]any{"text": "Still waiting", "team": "service"}})
			}
		}
	}
	s.MustSend("batch", map[string]any{"batch": batch})
	s.Sync()
	// Fires here or in the alerts worker's own round, once.
	if _, err := s.Cases.EvaluateAlerts(t.Context()); err != nil {
		t.Fatal(err)
	}
	var firings struct {
		Firings []struct {
			ID, Group, CaseID string
			Evidence          struct {
				Before, After, P *float64
				NBefore, NAfter  int
			}
		}
	}
	s.API("GET", "/api/v1/alerts/"+loud.ID+"/firings", nil, &firings)
	if len(firings.Firings) != 1 || firings.Firings[0].Group != "call_centre" || firings.Firings[0].CaseID == "" {
		t.Fatalf("firings: %+v", firings)
	}
	f := firings.Firings[0]

	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/alerts"),
		chromedp.WaitVisible(chromedp.CSS(`#token-login`)),
		chromedp.SendKeys(chromedp.CSS(`#token-login input[name=token]`), apptest.Token),
		chromedp.Submit(chromedp.CSS(`#token-login input[name=token]`)),
		chromedp.WaitVisible(chromedp.CSS(`#alert-`+loud.ID)),
	); err != nil {
		t.Fatal(err)
	}
	def := run(t, ctx, chromedp.Text(chromedp.CSS(`#alert-`+loud.ID+` p.sub`)))
	for _, want := range []string{"complaints by channel", "the last 7d", "p < 0.01", "team service", "high priority"} {
		if !strings.Contains(def, want) {
			t.Errorf("definition %q lacks %q", def, want)
		}
	}
	row := run(t, ctx, chromedp.Text(chromedp.CSS(`#alert-`+loud.ID+` tr[data-firing="`+f.ID+`"]`)))
	for _, want := range []string{"call centre", fmt.Sprintf("%.1f", *f.Evidence.Before), fmt.Sprintf("%.1f", *f.Evidence.After),
		fmt.Sprint(f.Evidence.NBefore), fmt.Sprint(f.Evidence.NAfter), fmt.Sprintf("%.4f", *f.Evidence.P), "open the case"} {
		if !strings.Contains(row, want) {
			t.Errorf("firing row %q lacks %q", row, want)
		}
	}
	if *f.Evidence.Before != 3 || *f.Evidence.After != 17 {
		t.Errorf("evidence: %v -> %v, want 3 -> 17", *f.Evidence.Before, *f.Evidence.After)
	}
	statuses := run(t, ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll("#alert-`+loud.ID+` tr[data-group]")].map(r => [r.dataset.group, r.dataset.status]))`))
	if fmt.Sprint(statuses) != fmt.Sprint(map[string]string{"call_centre": "significant", "email": "too_few"}) {
		t.Errorf("groups now: %v", statuses)
	}
	if email := run(t, ctx, chromedp.Text(chromedp.CSS(`#alert-`+loud.ID+` tr[data-group="email"]`))); !strings.Contains(email, "too few to test") {
		t.Errorf("email now: %q", email)
	}
	if empty := run(t, ctx, chromedp.Text(chromedp.CSS(`#alert-`+quiet.ID+` .firings`))); !strings.Contains(empty, "Did not fire in this period") {
		t.Errorf("quiet alert: %q", empty)
	}
	if n := run(t, ctx, chromedp.Text(chromedp.CSS(`#alert-`+loud.ID+` .fired-count`))); n != "1" {
		t.Errorf("fired in the last 90 days: %q", n)
	}
	// A period before the firing: none, and the API counts the same.
	day := apptest.Epoch.AddDate(0, 0, -20).Format("2006-01-02")
	open(t, ctx, s.URL+"/alerts?period=custom&from="+day+"&to="+day, `#alert-`+loud.ID)
	if n := run(t, ctx, chromedp.Text(chromedp.CSS(`#alert-`+loud.ID+` .fired-count`))); n != "0" || len(run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#alert-`+loud.ID+` tr[data-firing]")].map(r => r.innerText)`))) != 0 {
		t.Errorf("fired on %s: %q", day, n)
	}
	var counted struct{ Total int }
	s.API("GET", "/api/v1/alerts/"+loud.ID+"/firings?from="+day+"&to="+apptest.Epoch.AddDate(0, 0, -19).Format("2006-01-02"), nil, &counted)
	if counted.Total != 0 {
		t.Errorf("the API counts %d firings on %s", counted.Total, day)
	}
	s.API("GET", "/api/v1/alerts/"+loud.ID+"/firings?from="+day, nil, &counted)
	if counted.Total != 1 {
		t.Errorf("the API counts %d firings since %s", counted.Total, day)
	}
	open(t, ctx, s.URL+"/alerts", `#alert-`+loud.ID)
	if href := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('tr[data-firing="`+f.ID+`"] a').getAttribute("href")`)); href != "/cases/"+f.CaseID {
		t.Errorf("the firing links to %q", href)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`tr[data-firing="`+f.ID+`"] a`)), chromedp.WaitVisible(chromedp.CSS(`main h1`))); err != nil {
		t.Fatal(err)
	}
	if h := run(t, ctx, chromedp.Text(chromedp.CSS(`main h1`))); !strings.Contains(h, "Complaint volume by channel") {
		t.Errorf("the firing's case: %q", h)
	}
}
