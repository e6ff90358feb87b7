package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/demo"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// emptyAllowed are the empty states that may show on a demo page: the
// demo has no data for them by design, each with why.
var emptyAllowed = map[string]string{
	"No notes yet.":              "a case the demo has not worked",
	"Not matched to a customer.": "a post by a handle nobody claimed",
	"No webhooks yet.":           "the demo calls no outside system",
	"No users yet.":              "the demo is operated with its token",
}

// Every console page, on the demo loaded as `serve --demo` loads it, in
// Chromium: no page shows template debris, NaN or Inf, a percentage
// outside 0–100, or an empty state where the demo has data.
func TestEveryPageOnTheDemo(t *testing.T) {
	s, opts := loadDemo(t)
	var alerts struct{ Alerts []struct{ ID string } }
	s.API("GET", "/api/v1/alerts", nil, &alerts)
	var firings struct {
		Firings []struct{ Group, CaseID string }
	}
	if len(alerts.Alerts) == 1 {
		s.API("GET", "/api/v1/alerts/"+alerts.Alerts[0].ID+"/firings", nil, &firings)
	}
	if len(firings.Firings) != 1 || firings.Firings[0].Group != "web" || firings.Firings[0].CaseID == "" {
		t.Fatalf("the demo's alert firings: %+v", firings)
	}
	pages := demoPages(t, s, opts)

	ctx := browser(t) // its time runs from here, once the demo has loaded
	login(t, ctx, s, "/")
	for _, p := range pages {
		t.Run(strings.ReplaceAll(p, "/", "_"), func(t *testing.T) {
			open(t, ctx, s.URL+p, "main")
			text := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("main").innerText`))
			checkFigures(t, p, strings.ReplaceAll(text, "−", "-"))
			heading := run(t, ctx, chromedp.Evaluate[string](`(document.querySelector("main h1") || {innerText: ""}).innerText`))
			empties := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main .empty")].filter(e => e.offsetParent !== null).map(e => e.innerText.trim())`))
			for _, e := range empties {
				if _, ok := emptyAllowed[e]; !ok {
					t.Errorf("%s (%s) shows an empty state on the demo: %q", p, heading, e)
				}
			}
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s is blank", p)
			}
			if strings.Contains(text, "next run —") {
				t.Errorf("%s shows a periodic survey's next run as —", p)
			}
		})
	}
	// Customers are named where lists show them, not given by their ids.
	for page, sel := range map[string]string{"/cases?status=all": "#cases td:nth-child(2) a", "/recovery": "main table.list td:first-child a", "/loyalty": `main a[href^="/customers/"]`} {
		open(t, ctx, s.URL+page, "main")
		cells := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('`+sel+`')].map(a => a.innerText)`))
		if len(cells) == 0 {
			t.Errorf("%s lists no customers; the browser is at %s", page, pageSays(t, ctx))
		}
		for _, c := range cells {
			if strings.HasPrefix(c, "cus_") {
				t.Errorf("%s shows a customer as %q", page, c)
				break
			}
		}
	}
	// The home's complaint recovery (since the start) is the Recovery page's
	// over all time, the same figure written the same way.
	open(t, ctx, s.URL+"/", "#home-handled")
	home := run(t, ctx, chromedp.Text(chromedp.CSS(`#home-handled`)))
	open(t, ctx, s.URL+"/recovery?period=all", "#handled-share")
	if rec := run(t, ctx, chromedp.Text(chromedp.CSS(`#handled-share`))); home != rec {
		t.Errorf("complaints handled at 9 or better: the home says %q, the Recovery page %q", home, rec)
	}
	// Every page fits a wide window and a phone.
	for _, p := range pages {
		checkFits(t, ctx, s.URL+p, "main")
	}
	// On a phone every page of the navigation is in sight, none behind a sideways scroll.
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 900)); err != nil {
		t.Fatal(err)
	}
	open(t, ctx, s.URL+"/", "main")
	hidden := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("header nav a")].filter(a => { const r = a.getBoundingClientRect(); return r.left < 0 || r.right > 390 || r.width === 0; }).map(a => a.innerText)`))
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("header nav a").length`)); n < 10 || len(hidden) > 0 {
		t.Errorf("at 390 px the navigation's %d links hide %q", n, hidden)
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1440, 900)); err != nil {
		t.Fatal(err)
	}
	open(t, ctx, s.URL+"/alerts", "main")
	if rows := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("tr[data-firing]")].map(r => r.innerText)`)); len(rows) != 1 || !strings.Contains(rows[0], "web") {
		t.Errorf("/alerts firings on the demo: %q; the browser is at %s", rows, pageSays(t, ctx))
	}
}

// loadDemo loads the demo into a fresh cxloop as `serve --demo` does (2,000
// customers, on the last engine the tests run), on a clock stopped at a
// fixed time.
func loadDemo(t testing.TB) (*apptest.Server, demo.Options) {
	t.Helper()
	now := time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC)
	s, _ := apptest.StartAt(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]), now)
	bg := context.Background()
	surveys, err := demo.CreateSurveys(bg, s.URL, apptest.Token)
	if err == nil {
		err = demo.CreateLoop(bg, s.URL, apptest.Token)
	}
	if err != nil {
		t.Fatal(err)
	}
	opts := demo.Options{Customers: 2000, Seed: 42, End: now, Surveys: surveys}
	if _, err := demo.Send(bg, s.URL, apptest.WriteKey, opts); err != nil {
		t.Fatal(err)
	}
	s.SyncFor(5 * time.Minute) // the demo at its serve size: 2,000 customers
	if err := demo.Finish(bg, s.URL, apptest.Token, opts); err != nil {
		t.Fatal(err)
	}
	if err := demo.WorkCases(bg, s.URL, apptest.WriteKey, apptest.Token, opts); err != nil {
		t.Fatal(err)
	}
	s.Sync()
	// As serve --demo does once the demo has loaded: the burst has settled, the recommender learns.
	if _, err := s.Exp.TrainIfNew(bg); err != nil {
		t.Fatal(err)
	}
	// The demo's planted web checkout incident fires its alert once, for
	// web (here or in the alerts worker's own round).
	if _, err := s.Cases.EvaluateAlerts(bg); err != nil {
		t.Fatal(err)
	}
	return s, opts
}

// demoPages are the console's pages, with an example of each page that
// shows one thing.
func demoPages(t testing.TB, s *apptest.Server, opts demo.Options) []string {
	t.Helper()
	pages := []string{"/", "/customers", "/customers?risk=0.3", "/surveys", "/cases", "/recovery", "/alerts", "/loyalty", "/sources", "/experiences", "/insights", "/products", "/settings", "/audit", "/jobs", "/quarantine"}
	var list struct {
		Surveys []struct{ ID string } `json:"surveys"`
	}
	s.API("GET", "/api/v1/surveys", nil, &list)
	for _, sv := range list.Surveys {
		pages = append(pages, "/surveys/"+sv.ID)
		var texts struct{ Total int }
		if s.API("GET", "/api/v1/surveys/"+sv.ID+"/verbatims?limit=1", nil, &texts); texts.Total > 0 {
			pages = append(pages, "/surveys/"+sv.ID+"/verbatims")
		}
	}
	var cs struct {
		Cases []struct{ ID string } `json:"cases"`
	}
	s.API("GET", "/api/v1/cases?limit=1", nil, &cs)
	if len(cs.Cases) == 0 {
		t.Fatal("the demo opened no cases")
	}
	pages = append(pages, "/cases/"+cs.Cases[0].ID)
	// A customer who buys a consumable again and again: every part of the page has data.
	for n := 1; n <= opts.Customers; n++ {
		id := fmt.Sprintf("user-%05d", n)
		var needs struct{ Needs []any }
		if s.API("GET", "/api/v1/customers/"+id+"/replenishments", nil, &needs) == 200 && len(needs.Needs) > 0 {
			pages = append(pages, "/customers/"+id)
			break
		}
	}

	return pages
}

// pageSays is where the browser is and the start of what the page says.
func pageSays(t *testing.T, ctx context.Context) string {
	return run(t, ctx, chromedp.Evaluate[string](`location.href + " — " + (document.body ? document.body.innerText.slice(0, 400) : "")`))
}
