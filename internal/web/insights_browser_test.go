package web_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The insights page draws the journey funnel and the drivers of
// satisfaction, and lists the silent dissatisfied and the alignment gap.
func TestConsoleInsights(t *testing.T) {
	ctx := browser(t)
	now := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	s, _ := apptest.StartAt(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]), now)
	at := func(d float64) string {
		return now.Add(-time.Duration(d * 24 * float64(time.Hour))).UTC().Format(time.RFC3339)
	}
	ev := func(user, event, ts string, props map[string]any) map[string]any {
		return map[string]any{"type": "track", "userId": user, "event": event, "timestamp": ts, "properties": props, "context": map[string]any{"channel": "web"}}
	}
	r := rand.New(rand.NewPCG(1, 2))
	clip := func(v float64) int { return int(math.Max(1, math.Min(10, math.Round(v)))) }
	var batch []any
	for i := range 60 {
		u := fmt.Sprintf("ins-%02d", i)
		batch = append(batch, ev(u, "Product Viewed", at(50), map[string]any{"product_id": "p1"}))
		if i%2 == 0 {
			batch = append(batch, ev(u, "Order Completed", at(49.9), map[string]any{"order_id": u + "-1", "total": 40}))
		}
		expe, noise := r.NormFloat64(), r.NormFloat64
		qual := 0.6*expe + 0.8*noise()
		val := 0.5*qual + 0.8*noise()
		sat := 0.3*qual + 0.5*val + 0.6*noise()
		item := func(lv float64) int { return clip(7 + 1.2*lv + 0.6*noise()) }
		batch = append(batch, ev(u, "Survey Responded", at(40), map[string]any{"survey_id": "rel", "answers": map[string]any{
			"expe_overall": item(expe), "expe_needs": item(expe), "qual_overall": item(qual), "qual_staff": item(qual), "value_price": item(val),
			"value_quality": item(val), "acsi": map[string]any{"overall": item(sat), "expectations": item(sat), "ideal": item(sat)}}}))
	}
	for k, d := range []float64{400, 390, 380, 370} {
		batch = append(batch, ev("ins-fader", "Order Completed", at(d), map[string]any{"order_id": fmt.Sprintf("f-%d", k), "total": 60}))
	}
	batch = append(batch, ev("ins-fader", "Survey Responded", at(300), map[string]any{"nps": 2})) // unhappy, never complained, gone
	s.MustSend("batch", map[string]any{"batch": batch})
	s.Sync()
	if code := s.API("POST", "/api/v1/alignment/predictions", map[string]any{"team": "marketing", "answers": map[string]any{"value_price": 9.5}}, nil); code != 201 {
		t.Fatalf("prediction: %d", code)
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/insights?period=all"), // the fader's orders are older than the default 90 days
		chromedp.WaitVisible(chromedp.CSS(`#token-login`)),
		chromedp.SendKeys(chromedp.CSS(`#token-login input[name=token]`), apptest.Token),
		chromedp.Submit(chromedp.CSS(`#token-login input[name=token]`)),
		chromedp.WaitVisible(chromedp.CSS(`#funnel-chart.drawn svg`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	// 30 viewers ordered; the fader's four orders are journeys of their own.
	if n := run(t, ctx, chromedp.TextContent(chromedp.CSS(`#funnel-chart tr[data-key="web"] td:nth-child(4)`))); n != "34" {
		t.Fatalf("web journeys responded: %q", n)
	}
	// The last 90 days (the default period): the fader's older journeys are not in it.
	open(t, ctx, s.URL+"/insights", `#funnel-chart`)
	if n := run(t, ctx, chromedp.TextContent(chromedp.CSS(`#funnel-chart tr[data-key="web"] td:nth-child(4)`))); n != "30" {
		t.Fatalf("web journeys responded in the last 90 days: %q", n)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#drivers-chart tbody tr").length`)); n != 3 {
		t.Fatalf("%d drivers in the table", n)
	}
	// The chart is drawn by ECharts, with a point per driver.
	waitFor(t, ctx, `#drivers-chart.drawn svg`)
	if n := run(t, ctx, chromedp.Evaluate[int](`echarts.getInstanceByDom(document.querySelector("#drivers-chart .chart-area")).getOption().series[0].data.length`)); n != 3 {
		t.Fatalf("%d drivers drawn", n)
	}
	if idx := run(t, ctx, chromedp.Text(chromedp.CSS(`#acsi-index`))); idx == "" {
		t.Fatal("no ACSI index")
	}
	faderID, _ := s.Profiles.Resolve(t.Context(), "ins-fader")
	if silent := run(t, ctx, chromedp.Text(chromedp.CSS(`#silent`))); !strings.Contains(silent, faderID) {
		t.Fatalf("silent dissatisfied: %q", silent)
	}
	if gap := run(t, ctx, chromedp.Text(chromedp.CSS(`#alignment`))); !strings.Contains(gap, "managers overestimate") {
		t.Fatalf("alignment: %q", gap)
	}
	checkFits(t, ctx, s.URL+"/insights", "#funnel svg")
}
