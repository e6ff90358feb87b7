package analytics_test

import (
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

func order(user, id string, at time.Time, total float64) map[string]any {
	return map[string]any{"userId": user, "event": "Order Completed", "timestamp": at.UTC().Format(time.RFC3339),
		"properties": map[string]any{"order_id": id, "total": total}}
}

// Values are fitted on everyone's orders: a regular buyer is alive and
// valuable; a customer who stopped buying after a poor score and never
// complained is the silent dissatisfied the business would not hear of.
func TestValueAndRisk(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := startAt(t, dsn, fixed)
		now := fixed
		day := func(d int) time.Time { return now.Add(-time.Duration(d) * 24 * time.Hour) }
		var batch []any
		// Half the buyers keep buying every few weeks; the other half stop after a few orders.
		for i := range 80 {
			u := fmt.Sprintf("buyer-%02d", i)
			gap, stop := 15+i%30, 300
			if i%2 == 1 {
				stop = 60 + 2*(i%40)
			}
			for k, d := 0, 300+i; d > 0 && k*gap < stop; k, d = k+1, d-gap {
				m := order(u, fmt.Sprintf("%s-%d", u, k), day(d), 20+float64(i%7)*5)
				m["type"] = "track"
				batch = append(batch, m)
			}
		}
		s.MustSend("batch", map[string]any{"batch": batch})
		for _, u := range []string{"fader", "complainer"} {
			for k, d := range []int{400, 390, 380, 370, 360} {
				s.MustSend("track", order(u, fmt.Sprintf("%s-%d", u, k), day(d), 50))
			}
			s.MustSend("track", map[string]any{"userId": u, "event": "Survey Responded", "timestamp": day(355).Format(time.RFC3339), "properties": map[string]any{"nps": 3}})
			if u == "fader" { // and says so in words, recently
				s.MustSend("track", map[string]any{"userId": u, "event": "Survey Responded", "timestamp": day(20).Format(time.RFC3339),
					"properties": map[string]any{"answers": map[string]any{"why": "Terrible service, the tent broke and nobody helped."}}})
			}
		}
		s.MustSend("track", map[string]any{"userId": "complainer", "event": "Complaint Submitted", "properties": map[string]any{"text": "The tent leaked."}})
		for k := range 6 { // a loyal regular: every 3 weeks, the last a week ago
			s.MustSend("track", order("regular", fmt.Sprintf("r-%d", k), day(7+21*k), 80))
		}
		s.Sync()
		var v struct {
			PAlive      float64 `json:"p_alive"`
			Expected52w float64 `json:"expected_purchases_52w"`
			CLV         float64 `json:"clv"`
			Risk        float64 `json:"risk"`
			Silent      bool
		}
		if code := s.API("GET", "/api/v1/customers/regular/value", nil, &v); code != 200 || v.PAlive < 0.8 || v.Expected52w < 5 || v.CLV < 500 || v.Risk > 0.1 {
			t.Fatalf("regular: %d %+v", code, v)
		}
		var f struct {
			PAlive float64 `json:"p_alive"`
			Risk   float64
			Silent bool
		}
		s.API("GET", "/api/v1/customers/fader/value", nil, &f)
		// 0.5 × P(no order in 90 days) + 0.2 (low score) + 0.1 (a negative answer in 90 days).
		if f.PAlive > 0.2 || f.Risk < 0.65 || !f.Silent {
			t.Fatalf("fader: %+v", f)
		}
		var list struct {
			Customers []struct {
				Customer string
				Silent   bool
			}
		}
		s.API("GET", "/api/v1/analytics/at-risk?silent=true", nil, &list)
		faderID, _ := s.Profiles.Resolve(t.Context(), "fader")
		if len(list.Customers) != 1 || list.Customers[0].Customer != faderID {
			t.Fatalf("silent dissatisfied: %+v (fader is %s)", list.Customers, faderID)
		}
		if n, err := s.An.SilentCount(t.Context()); err != nil || n != 1 {
			t.Fatalf("silent dissatisfied counted %d (%v), listed 1", n, err)
		}
		// The totals the insights page shows add up every customer's value.
		var sumCLV, sumExpected float64
		active, n := 0, 0
		for _, u := range append([]string{"fader", "complainer", "regular"}, func() []string {
			var out []string
			for i := range 80 {
				out = append(out, fmt.Sprintf("buyer-%02d", i))
			}
			return out
		}()...) {
			var cv struct {
				PAlive      float64 `json:"p_alive"`
				Expected52w float64 `json:"expected_purchases_52w"`
				CLV         float64 `json:"clv"`
			}
			if code := s.API("GET", "/api/v1/customers/"+u+"/value", nil, &cv); code != 200 {
				t.Fatalf("value of %s: %d", u, code)
			}
			n++
			sumCLV += cv.CLV
			sumExpected += cv.Expected52w
			if cv.PAlive >= 0.5 {
				active++
			}
		}
		// A customer with an answer and no order has a risk, no value: the
		// totals, of customers with orders, leave them out.
		s.MustSend("track", map[string]any{"userId": "talker", "event": "Survey Responded", "timestamp": day(3).Format(time.RFC3339), "properties": map[string]any{"nps": 2}})
		s.Sync()
		var talker struct{ Orders int }
		if code := s.API("GET", "/api/v1/customers/talker/value", nil, &talker); code != 200 || talker.Orders != 0 {
			t.Fatalf("talker: %d %+v", code, talker)
		}
		tot, err := s.An.Totals(t.Context())
		if err != nil || tot.Customers != n || math.Abs(tot.CLV-sumCLV) > 0.01*float64(n) || math.Abs(tot.MeanCLV-sumCLV/float64(n)) > 0.01 ||
			math.Abs(tot.ExpectedOrders-sumExpected) > 0.01*float64(n) || tot.LikelyActive != active {
			t.Fatalf("totals %+v, want %d customers, %.2f CLV, %.2f orders, %d active (%v)", tot, n, sumCLV, sumExpected, active, err)
		}
		// Two buyers found to be one: the totals count one customer, before
		// the values are computed again and after.
		s.MustSend("track", order("twin", "twin-1", day(40), 30))
		s.MustSend("track", map[string]any{"anonymousId": "anon-twin", "event": "Order Completed", "timestamp": day(30).Format(time.RFC3339),
			"properties": map[string]any{"order_id": "twin-2", "total": 30}})
		s.Sync()
		if tot, _ := s.An.Totals(t.Context()); tot.Customers != n {
			t.Errorf("before the values are computed again: %d customers, want %d", tot.Customers, n)
		}
		if _, err := s.An.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		if tot, _ := s.An.Totals(t.Context()); tot.Customers != n+2 {
			t.Errorf("two buyers more: %d customers, want %d", tot.Customers, n+2)
		}
		s.MustSend("identify", map[string]any{"userId": "twin", "anonymousId": "anon-twin"})
		s.Sync()
		if tot, _ := s.An.Totals(t.Context()); tot.Customers != n+1 {
			t.Errorf("the twins merged: %d customers, want %d", tot.Customers, n+1)
		}
		if _, err := s.An.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		var twin struct{ Orders int }
		if tot, _ := s.An.Totals(t.Context()); tot.Customers != n+1 || s.API("GET", "/api/v1/customers/anon-twin/value", nil, &twin) != 200 || twin.Orders != 2 {
			t.Errorf("the twins merged and valued again: %d customers (want %d); %d orders", tot.Customers, n+1, twin.Orders)
		}
		var m struct {
			Fitted bool
			BGNBD  struct{ R, Alpha, A, B float64 } `json:"bgnbd"`
		}
		if code := s.API("GET", "/api/v1/analytics/clv-model", nil, &m); code != 200 || !m.Fitted || m.BGNBD.R <= 0 {
			t.Fatalf("model: %d %+v", code, m)
		}
		lo := 0.5
		risky, err := s.Profiles.Members(t.Context(), profile.Query{Risk: &profile.Range{Min: &lo}}, fixed)
		if err != nil || len(risky) < 2 || !slices.Contains(risky, faderID) {
			t.Fatalf("risky segment %v: %v", risky, err)
		}
		// A saved segment of the risky, counted live and usable as a segment anywhere.
		var seg struct {
			ID    string
			Count int
		}
		if code := s.API("POST", "/api/v1/segments", map[string]any{"name": "At risk", "query": map[string]any{"risk": map[string]any{"min": 0.5}}}, &seg); code != 201 ||
			seg.Count != len(risky) {
			t.Fatalf("save segment: %d %+v (risky %d)", code, seg, len(risky))
		}
		if code := s.API("POST", "/api/v1/segments", map[string]any{"name": "At risk", "query": map[string]any{}}, nil); code != 409 {
			t.Fatalf("the same name again: %d", code)
		}
		var segs struct {
			Segments []struct {
				Name  string
				Count int
			}
		}
		s.API("GET", "/api/v1/segments", nil, &segs)
		if len(segs.Segments) != 1 || segs.Segments[0].Count != len(risky) {
			t.Fatalf("segments: %+v", segs)
		}
		narrowed, err := s.Profiles.Members(t.Context(), profile.Query{Saved: "At risk", Risk: &profile.Range{Min: &lo}, Did: &profile.Did{Event: "Survey Responded"}}, fixed)
		if err != nil || len(narrowed) != 2 {
			t.Fatalf("risky who answered a survey: %v %v", narrowed, err)
		}
		var mem struct {
			Count     int
			Customers []string
		}
		if code := s.API("GET", "/api/v1/segments/"+seg.ID+"/members", nil, &mem); code != 200 || mem.Count != len(risky) || !slices.Contains(mem.Customers, faderID) {
			t.Fatalf("members: %d %+v", code, mem)
		}
		if code := s.API("GET", "/api/v1/analytics/at-risk?limit=0", nil, nil); code != 400 {
			t.Fatalf("limit 0: %d", code)
		}
	})
}
