package analytics_test

import (
	"context"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/demo"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The demo retailer gives every analysis something to show: a fitted
// value model, journeys by channel, the ACSI model with its drivers, and
// managers who think customers happier than they are.
func TestDemoInsights(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	ctx := context.Background()
	surveys, err := demo.CreateSurveys(ctx, s.URL, apptest.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.CreateLoop(ctx, s.URL, apptest.Token); err != nil {
		t.Fatal(err)
	}
	opts := demo.Options{Customers: 400, Seed: 4, End: time.Now(), Surveys: surveys}
	if _, err := demo.Send(ctx, s.URL, apptest.WriteKey, opts); err != nil {
		t.Fatal(err)
	}
	s.Sync()
	if err := demo.Finish(ctx, s.URL, apptest.Token, opts); err != nil {
		t.Fatal(err)
	}
	var m struct{ Fitted bool }
	if s.API("GET", "/api/v1/analytics/clv-model", nil, &m); !m.Fitted {
		t.Fatal("the value model was not fitted on the demo")
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
}
