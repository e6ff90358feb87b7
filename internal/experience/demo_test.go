package experience_test

import (
	"context"
	"math"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/demo"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The demo retailer feeds every experience: consumables on regular cycles
// that the model predicts better than the naive baseline, consent for some
// customers, recommendations with outcomes over the months, and nudges.
func TestDemoExperiences(t *testing.T) {
	s, _ := apptest.StartAt(t, storetest.DSN(t, "sqlite"), fixed)
	ctx := context.Background()
	if err := demo.CreateLoop(ctx, s.URL, apptest.Token); err != nil {
		t.Fatal(err)
	}
	opts := demo.Options{Customers: 400, Seed: 9, End: fixed}
	if _, err := demo.Send(ctx, s.URL, apptest.WriteKey, opts); err != nil {
		t.Fatal(err)
	}
	s.Sync()
	if err := demo.Finish(ctx, s.URL, apptest.Token, opts); err != nil {
		t.Fatal(err)
	}
	s.Sync()
	model, naive, n, err := s.Exp.Backtest(ctx)
	if err != nil || n < 100 || model >= naive {
		t.Fatalf("backtest: model %.1f, naive %.1f days over %d: %v", model, naive, n, err)
	}
	if _, _, err := s.Exp.Replenish(ctx); err != nil {
		t.Fatal(err)
	}
	// Only consumables are predicted and replenished, in whole units: the
	// needs of every customer who consented to every product, and what
	// was scheduled.
	s.Sync()
	var ev eventList
	s.API("GET", "/api/v1/events?type=Replenishment+Consented&limit=1000", nil, &ev)
	needs := 0
	for _, e := range ev.Events {
		var got struct {
			Needs []struct {
				Item, Category string
				Quantity       float64
			}
		}
		s.API("GET", "/api/v1/customers/"+e.UserID+"/replenishments", nil, &got)
		for _, n := range got.Needs {
			needs++
			if n.Category != "Consumables" || n.Quantity < 1 || n.Quantity != math.Trunc(n.Quantity) {
				t.Errorf("%s needs %s (%s) × %v", e.UserID, n.Item, n.Category, n.Quantity)
			}
		}
	}
	if len(ev.Events) < 10 || needs < 10 {
		t.Fatalf("%d customers consented, with %d needs", len(ev.Events), needs)
	}
	s.API("GET", "/api/v1/events?type=Replenishment+Scheduled&limit=1000", nil, &ev)
	for _, e := range ev.Events {
		var p struct{ Category string }
		q, _ := e.Message.Properties["quantity"].(float64)
		if s.API("GET", "/api/v1/products/"+e.Message.Properties["product_id"].(string), nil, &p); p.Category != "Consumables" || q < 1 || q != math.Trunc(q) {
			t.Errorf("replenishment of %v (%s) × %v", e.Message.Properties["product_id"], p.Category, q)
		}
	}
	if err := s.Exp.Train(ctx); err != nil {
		t.Fatal(err)
	}
	var recs struct{ Items []any }
	if code := s.API("GET", "/api/v1/customers/user-00002/recommendations", nil, &recs); code != 200 || len(recs.Items) != 10 {
		t.Fatalf("recommendations: %d %d", code, len(recs.Items))
	}
	var rep struct {
		Months []struct {
			Experiences []struct {
				Experience        string
				Offered, Accepted int
			}
		}
	}
	s.API("GET", "/api/v1/experiences/learning?months=12", nil, &rep)
	offered, clicked, months := 0, 0, 0
	for _, m := range rep.Months {
		seen := false
		for _, x := range m.Experiences {
			if x.Experience == "curated_offering" {
				offered, clicked, seen = offered+x.Offered, clicked+x.Accepted, true
			}
		}
		if seen {
			months++
		}
	}
	if months < 10 || offered < 50 || clicked == 0 || clicked*2 > offered {
		t.Fatalf("learning: %d months with recommendations, %d shown, %d clicked", months, offered, clicked)
	}
	var nudges struct{ Nudges []any }
	if s.API("GET", "/api/v1/nudges", nil, &nudges); len(nudges.Nudges) != 2 {
		t.Fatalf("nudges: %+v", nudges)
	}
	// Right after loading, both nudges have a history: customers nudged and
	// held out whose week to order has passed, some of whom ordered, and an
	// interval around the difference of the two rates.
	var up struct {
		Nudges []struct {
			Name             string
			Treated, Holdout struct {
				N, Converted int
				Rate         float64
			}
			Measured    bool
			Uplift      float64
			CILow       float64 `json:"ci_low"`
			CIHigh      float64 `json:"ci_high"`
			SmallSample bool    `json:"small_sample"`
			Note        string
		}
	}
	s.API("GET", "/api/v1/nudges/uplift", nil, &up)
	for _, u := range up.Nudges {
		t.Logf("%s: nudged %d (%d ordered), held out %d (%d ordered), uplift %.3f (%.3f to %.3f) %s", u.Name, u.Treated.N, u.Treated.Converted,
			u.Holdout.N, u.Holdout.Converted, u.Uplift, u.CILow, u.CIHigh, u.Note)
		if u.Treated.N < 20 || u.Holdout.N < 3 || u.Treated.Converted == 0 || !u.Measured || u.CILow >= u.CIHigh || u.CILow < -1 || u.CIHigh > 1 ||
			u.CILow > u.Uplift || u.Uplift > u.CIHigh || math.Abs(u.Uplift-(u.Treated.Rate-u.Holdout.Rate)) > 1e-9 || u.SmallSample != (u.Note != "") {
			t.Errorf("uplift of %s: %+v", u.Name, u)
		}
	}
	if len(up.Nudges) != 2 {
		t.Fatalf("uplift: %+v", up)
	}
}
