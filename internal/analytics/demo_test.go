package analytics_test

import (
	"context"
	"regexp"
	"strconv"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/demo"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The demo retailer gives every analysis something to show: a fitted
// value model, journeys by channel, the ACSI model with its drivers, and
// managers who think customers happier than they are.
func TestDemoInsights(t *testing.T) {
	s := startAt(t, storetest.DSN(t, "sqlite"), fixed)
	ctx := context.Background()
	surveys, err := demo.CreateSurveys(ctx, s.URL, apptest.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.CreateLoop(ctx, s.URL, apptest.Token); err != nil {
		t.Fatal(err)
	}
	opts := demo.Options{Customers: 400, Seed: 4, End: fixed, Surveys: surveys}
	sendDemo(t, s, opts)
	if err := demo.Finish(ctx, s.URL, apptest.Token, opts); err != nil {
		t.Fatal(err)
	}
	var m struct{ Fitted bool }
	if s.API("GET", "/api/v1/analytics/clv-model", nil, &m); !m.Fitted {
		t.Fatal("the value model was not fitted on the demo")
	}
	// The value model's churn check on the demo's own orders: the last 90
	// days held out (what it says is reported, and in docs/analytics.md).
	ch, err := s.An.CheckChurn(ctx, 90)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("demo, last 90 days held out: %d customers, %d ordered nothing; model AUC %.3f lift %.2f, recency AUC %.3f lift %.2f: %s",
		ch.Check.Customers, ch.Check.Churned, ch.Check.Model.AUC, ch.Check.Model.LiftTop10, ch.Check.Recency.AUC, ch.Check.Recency.LiftTop10, ch.Check.Verdict)
	if ch.Check.Customers < 100 || ch.Check.Churned == 0 || ch.Check.Model.AUC <= 0.5 || len(ch.Check.Calibration) != 10 || ch.End.After(fixed) {
		t.Fatalf("churn check on the demo: %+v", ch)
	}
	// The risk score the console shows ranks those who then ordered
	// nothing well above chance (with 1 − P(alive) as its first part it
	// read 0.495: no better than a coin).
	if ch.Risk == nil || ch.Risk.AUC < 0.7 {
		t.Errorf("the risk score's check on the demo: %+v", ch.Risk)
	} else {
		t.Logf("risk score AUC %.3f lift %.2f", ch.Risk.AUC, ch.Risk.LiftTop10)
	}
	var f struct{ Groups []struct{ Key string } }
	if s.API("GET", "/api/v1/journeys/funnel?by=channel", nil, &f); len(f.Groups) < 3 {
		t.Fatalf("funnel: %+v", f)
	}
	var a struct {
		Responses int
		Index     float64
		Drivers   []struct{ Driver string }
	}
	if code := s.API("GET", "/api/v1/analytics/acsi-model?survey="+surveys.Relationship, nil, &a); code != 200 || a.Responses < 30 || len(a.Drivers) != 3 || a.Index <= 0 {
		t.Fatalf("acsi model: %d %+v", code, a)
	}
	var out struct {
		Months []struct {
			NPS             *float64
			ReferralRevenue float64 `json:"referral_revenue"`
			CLVNew          float64 `json:"clv_new_customers"`
		}
	}
	s.API("GET", "/api/v1/analytics/outcomes?months=12", nil, &out)
	nps, referred, clv := 0, 0.0, 0.0
	for _, m := range out.Months {
		if m.NPS != nil {
			nps++
		}
		referred, clv = referred+m.ReferralRevenue, clv+m.CLVNew
	}
	if nps < 6 || referred <= 0 || clv <= 0 {
		t.Fatalf("outcomes: %d months with NPS, referral revenue %.0f, new customers' CLV %.0f", nps, referred, clv)
	}
	// Segments by loyalty tier (as the hourly review set them).
	if _, err := s.Loyalty.ReviewTiers(ctx); err != nil {
		t.Fatal(err)
	}
	var seg struct{ Count int }
	if code := s.API("POST", "/api/v1/segments", map[string]any{"name": "gold and up", "query": map[string]any{"tiers": []string{"gold", "platinum"}}}, &seg); code != 201 || seg.Count == 0 {
		t.Fatalf("tier segment: %d %+v", code, seg)
	}
	var g struct {
		Items []struct {
			Question    string
			Gap         float64
			Significant bool
		}
	}
	s.API("GET", "/api/v1/alignment/gap", nil, &g)
	over := 0
	for _, it := range g.Items {
		if it.Significant && it.Gap > 0 {
			over++
		}
	}
	if len(g.Items) != 4 || over == 0 {
		t.Fatalf("alignment: %+v", g)
	}
	checkDemoFigures(t, s)
}

// sendDemo sends the demo business through /v1/batch as demo.Send does,
// but without a sentAt: demo.Send stamps the wall clock's, which on a test
// clock would shift every event by the distance to today.
func sendDemo(t *testing.T, s *apptest.Server, opts demo.Options) {
	t.Helper()
	var batch []any
	send := func() {
		if len(batch) > 0 {
			s.MustSend("batch", map[string]any{"batch": batch})
			batch = nil
		}
	}
	err := demo.Generate(opts, func(m demo.Message) error {
		if batch = append(batch, map[string]any(m)); len(batch) == 500 {
			send()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	send()
	s.Sync()
}

// checkDemoFigures checks that on the demo every rate lies in 0–1, no
// figure is NaN or infinite (JSON would refuse them), the silent
// dissatisfied are there and the same in both routes, and the insights
// and recovery pages show no template debris and no rate above 100 %.
func checkDemoFigures(t *testing.T, s *apptest.Server) {
	t.Helper()
	bounded := func(what string, v *float64) {
		if v != nil && (*v < 0 || *v > 1) {
			t.Errorf("%s = %v", what, *v)
		}
	}
	for _, by := range []string{"", "channel", "experience"} {
		var f struct{ Groups []funnelGroup }
		if code := s.API("GET", "/api/v1/journeys/funnel?by="+by, nil, &f); code != 200 {
			t.Fatalf("funnel by %q: %d", by, code)
		}
		for _, g := range f.Groups {
			bounded("repeat rate of "+g.Key, g.RepeatRate)
			bounded("request to respond of "+g.Key, g.RequestToRespond)
			if g.Repeat > g.RepeatBase || g.RepeatBase > g.Respond || g.RequestResponded > g.Request || g.RequestResponded > g.Respond {
				t.Errorf("funnel %s: %+v", g.Key, g)
			}
		}
	}
	var out struct{ Months []outcomeMonth }
	s.API("GET", "/api/v1/analytics/outcomes?months=24", nil, &out)
	for _, m := range out.Months {
		bounded("retention of "+m.Month, m.Retention)
		bounded("repeat rate of "+m.Month, m.RepeatRate)
		if m.Buyers > 0 && m.Retention == nil && m.Month != out.Months[0].Month {
			t.Errorf("%s: no retention", m.Month)
		}
		if m.Satisfaction != nil && (*m.Satisfaction < 0 || *m.Satisfaction > 100) || m.NPS != nil && (*m.NPS < -100 || *m.NPS > 100) {
			t.Errorf("%s: satisfaction %s, NPS %s", m.Month, show(m.Satisfaction), show(m.NPS))
		}
	}
	var year struct{ Months []outcomeMonth }
	s.API("GET", "/api/v1/analytics/outcomes?months=12", nil, &year)
	if r := year.Months[0].Retention; r == nil || *r == 0 {
		t.Errorf("the window's first month has no retention: %+v", year.Months[0])
	}
	var ch struct {
		Groups []struct {
			Group      string
			Rate       float64 `json:"repurchase_rate"`
			Meaningful bool
			Reason     string
			SatFor50   *float64 `json:"satisfaction_for_50pct"`
		}
	}
	s.API("GET", "/api/v1/analytics/channels", nil, &ch)
	for _, g := range ch.Groups {
		bounded("repurchase rate of "+g.Group, &g.Rate)
		if g.Meaningful != (g.SatFor50 != nil) || (g.SatFor50 != nil && (*g.SatFor50 < 0 || *g.SatFor50 > 10)) || (!g.Meaningful && g.Reason == "") {
			t.Errorf("fit of %s: %+v", g.Group, g)
		}
	}
	var silent, atRisk struct{ Customers []struct{ Customer string } }
	s.API("GET", "/api/v1/silent-dissatisfied?limit=1000", nil, &silent)
	s.API("GET", "/api/v1/analytics/at-risk?silent=true&limit=1000", nil, &atRisk)
	if len(silent.Customers) == 0 || len(silent.Customers) != len(atRisk.Customers) {
		t.Errorf("silent dissatisfied on the demo: %d and %d", len(silent.Customers), len(atRisk.Customers))
	}
	for i := range min(len(silent.Customers), len(atRisk.Customers)) {
		if silent.Customers[i] != atRisk.Customers[i] {
			t.Errorf("the routes disagree at %d", i)
			break
		}
	}
	debris := regexp.MustCompile(`%!|<nil>|&lt;nil&gt;|\bNaN\b|\bInf\b`)
	percents := regexp.MustCompile(`(-?[0-9]+(?:\.[0-9]+)?)\s*%`)
	for _, path := range []string{"/insights", "/recovery"} {
		body := s.Page(path)
		if m := debris.FindString(body); m != "" {
			t.Errorf("%s shows %q", path, m)
		}
		for _, m := range percents.FindAllStringSubmatch(body, -1) {
			if v, _ := strconv.ParseFloat(m[1], 64); v < 0 || v > 100 {
				t.Errorf("%s shows %s%%", path, m[1])
			}
		}
		if n := len(listed.FindAllString(body, -1)); n == 0 {
			t.Errorf("%s lists no silent dissatisfied", path)
		}
	}
}

func show(v *float64) string {
	if v == nil {
		return "absent"
	}
	return strconv.FormatFloat(*v, 'f', -1, 64)
}
