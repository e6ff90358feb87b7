package web_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// Signing in lands on the home page, which shows the figures of
// GET /api/v1/home; the period switch is in the URL; it fits a phone.
func TestConsoleHome(t *testing.T) {
	ctx := browser(t)
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[0]))
	s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
	var sv struct{ ID string }
	s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "NPS", "rhythm": "pulse", "owner": "service",
		"questions": [{"id": "q1", "type": "nps", "text": {"en": "?"}}]}`), &sv)
	s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "detractors", "when": {"event": "Survey Responded", "nps_max": 6},
		"then": {"open_case": {"team": "service", "kind": "detractor"}}}`), nil)
	for i, v := range []int{10, 9, 9, 4, 8, 2} {
		if code := s.API("POST", "/api/v1/surveys/"+sv.ID+"/responses", map[string]any{"customer": fmt.Sprintf("h-%d", i), "answers": map[string]any{"q1": v}}, nil); code != 201 {
			t.Fatalf("answer: %d", code)
		}
	}
	s.Sync()
	var api struct {
		Scores []struct {
			Metric string
			Value  *float64
			N      int
		}
		Cases      struct{ Open int }
		Detractors struct{ Uncontacted int }
	}
	s.API("GET", "/api/v1/home", nil, &api)
	if api.Scores[0].Value == nil || api.Cases.Open != 2 || api.Detractors.Uncontacted != 2 {
		t.Fatalf("the API's home: %+v", api)
	}
	login(t, ctx, s, "/")
	waitFor(t, ctx, `#score-nps`)
	nps := run(t, ctx, chromedp.Text(chromedp.CSS(`#score-nps`)))
	for _, want := range []string{fmt.Sprintf("%.1f", *api.Scores[0].Value), fmt.Sprintf("%d answers", api.Scores[0].N), "small sample", "3 promoters", "1 passive", "2 detractors"} {
		if !strings.Contains(nps, want) {
			t.Errorf("the NPS card %q lacks %q", nps, want)
		}
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#score-csat, #score-ces").length`)); n != 0 {
		t.Errorf("%d cards for metrics no survey asks", n)
	}
	if cases := run(t, ctx, chromedp.Text(chromedp.CSS(`#cases`))); !strings.Contains(cases, "2 open") || !strings.Contains(cases, "service") {
		t.Errorf("cases card: %q", cases)
	}
	if d := run(t, ctx, chromedp.Text(chromedp.CSS(`#detractors`))); !strings.Contains(d, "2 of 2 customers who gave an NPS of 0–6") {
		t.Errorf("detractors card: %q", d)
	}
	period := func() string {
		return run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#period select[name=period]").value + " " + document.querySelector("#period select[name=compare]").value`))
	}
	if cur := period(); cur != "30d previous" {
		t.Errorf("current period: %q", cur)
	}
	open(t, ctx, s.URL+"/?days=7", `#score-nps`)
	if cur := period(); cur != "7d previous" {
		t.Errorf("after choosing 7 days: %q", cur)
	}
	// The home offers no "all time" and always compares.
	if opts := run(t, ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#period option")].map(o => o.value).join(" ")`)); opts != "7d 30d 90d quarter custom previous year" {
		t.Errorf("the home's period choices: %q", opts)
	}
	// A year before, nobody answered: the NPS card says so.
	open(t, ctx, s.URL+"/?period=30d&compare=year", `#score-nps`)
	if nps := run(t, ctx, chromedp.Text(chromedp.CSS(`#score-nps`))); !strings.Contains(nps, "No answers in the period compared with") {
		t.Errorf("compared with a year before: %q", nps)
	}
	open(t, ctx, s.URL+"/?period=all", `main`)
	if body := run(t, ctx, chromedp.Text(chromedp.CSS(`main`))); !strings.Contains(body, "period must be 7d, 30d, 90d, quarter or custom") {
		t.Errorf("all time on the home: %q", body)
	}
	open(t, ctx, s.URL+"/?days=12", `main`)
	if body := run(t, ctx, chromedp.Text(chromedp.CSS(`main`))); !strings.Contains(body, "days is 7, 30 or 90") {
		t.Errorf("a period not offered: %q", body)
	}
	checkFits(t, ctx, s.URL+"/", `#score-nps`)
}
