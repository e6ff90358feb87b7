package analytics_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/store/storetest"
	"gonum.org/v1/gonum/stat/distuv"
)

func track(user, event string, at time.Time, channel string, props map[string]any) map[string]any {
	return map[string]any{"type": "track", "userId": user, "event": event, "timestamp": at.UTC().Format(time.RFC3339), "properties": props,
		"context": map[string]any{"channel": channel}}
}

// fixed is the time every test's clock stands at.
var fixed = time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)

// startAt runs cxloop on dsn with its clock standing at now.
func startAt(t *testing.T, dsn string, now time.Time) *apptest.Server {
	t.Helper()
	return apptest.StartWith(t, dsn, func(c *app.Config) { c.Now = apptest.NewClock(now).Now })
}

// funnelGroup is a group of GET /api/v1/journeys/funnel.
type funnelGroup struct {
	Key                                 string
	Journeys, Recognize, Request        int
	Respond, Repeat                     int
	RequestResponded                    int      `json:"request_responded"`
	RepeatBase                          int      `json:"repeat_base"`
	RepeatRate                          *float64 `json:"repeat_rate"`
	MedianRequestToRespond              *float64 `json:"median_request_to_respond_s"`
	MedianRecognizeToRequest            *float64 `json:"median_recognize_to_request_s"`
	RequestToRespond                    *float64 `json:"request_to_respond"`
	P90RecognizeToRequest, P90ToRespond *float64
}

func is(v *float64, want float64) bool { return v != nil && *v == want }

// Journeys through the stages by channel: a web journey that ends in an
// order two hours after the request, one abandoned, an app journey from a
// promotion, and a repeat within 90 days.
func TestFunnel(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := startAt(t, dsn, fixed)
		t0 := fixed.Add(-200 * 24 * time.Hour)
		h := func(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Hour))) }
		batch := []any{
			track("w1", "Product Viewed", h(0), "web", map[string]any{"product_id": "p1"}),
			track("w1", "Product Added", h(0.5), "web", map[string]any{"product_id": "p1"}),
			track("w1", "Order Completed", h(2), "web", map[string]any{"order_id": "w1-1", "total": 10}),
			track("w1", "Product Viewed", h(240), "web", map[string]any{"product_id": "p2"}), // ten days later: bought again
			track("w1", "Order Completed", h(244), "web", map[string]any{"order_id": "w1-2", "total": 10}),
			track("w2", "Product Viewed", h(1), "web", map[string]any{"product_id": "p1"}), // abandoned
			track("a1", "Promotion Viewed", h(0), "mobile_app", map[string]any{"promotion_id": "spring"}),
			track("a1", "Product Viewed", h(1), "mobile_app", map[string]any{"product_id": "p3"}),
			track("a1", "Order Completed", h(7), "mobile_app", map[string]any{"order_id": "a1-1", "total": 30}),
		}
		s.MustSend("batch", map[string]any{"batch": batch})
		s.Sync()
		var f struct{ Groups []funnelGroup }
		if code := s.API("GET", "/api/v1/journeys/funnel?by=channel", nil, &f); code != 200 || len(f.Groups) != 2 {
			t.Fatalf("funnel: %d %+v", code, f)
		}
		web, app := f.Groups[0], f.Groups[1]
		// w1's first order was followed by another within 90 days, its second by none.
		if web.Key != "web" || web.Journeys != 3 || web.Request != 3 || web.Respond != 2 || web.RequestResponded != 2 || web.RepeatBase != 2 || web.Repeat != 1 ||
			!is(web.RepeatRate, 0.5) || !is(web.MedianRequestToRespond, 3*3600) || !is(web.RequestToRespond, 0.667) {
			t.Fatalf("web: %+v", web)
		}
		if app.Key != "mobile_app" || app.Recognize != 1 || app.Respond != 1 || app.RequestResponded != 1 || app.RepeatBase != 1 || !is(app.RepeatRate, 0) ||
			!is(app.MedianRecognizeToRequest, 3600) || !is(app.MedianRequestToRespond, 6*3600) {
			t.Fatalf("app: %+v", app)
		}
		// A period keeps the journeys that start in it: from 1.5 hours
		// on, only w1's second journey (its first, under way since hour 0,
		// keeps its real start); up to hour 100, the other three.
		at := func(n float64) string { return url.QueryEscape(h(n).Format(time.RFC3339Nano)) }
		if code := s.API("GET", "/api/v1/journeys/funnel?by=channel&from="+at(1.5), nil, &f); code != 200 || len(f.Groups) != 1 ||
			f.Groups[0].Key != "web" || f.Groups[0].Journeys != 1 || f.Groups[0].Respond != 1 {
			t.Fatalf("funnel from hour 1.5: %d %+v", code, f)
		}
		if code := s.API("GET", "/api/v1/journeys/funnel?by=channel&to="+at(100), nil, &f); code != 200 || len(f.Groups) != 2 ||
			f.Groups[0].Journeys != 2 || f.Groups[0].Respond != 1 || f.Groups[1].Journeys != 1 {
			t.Fatalf("funnel to hour 100: %d %+v", code, f)
		}
		if code := s.API("GET", "/api/v1/journeys/funnel?from=soon", nil, nil); code != 400 {
			t.Fatalf("from=soon: %d", code)
		}
		var out struct {
			Months []struct {
				NewCustomers int `json:"new_customers"`
				Revenue      float64
			}
		}
		if code := s.API("GET", "/api/v1/analytics/outcomes?months=8", nil, &out); code != 200 || len(out.Months) != 8 {
			t.Fatalf("outcomes: %d %+v", code, out)
		}
		newCustomers, revenue := 0, 0.0
		for _, m := range out.Months {
			newCustomers, revenue = newCustomers+m.NewCustomers, revenue+m.Revenue
		}
		if newCustomers != 2 || revenue != 50 {
			t.Fatalf("outcomes: %d new customers, revenue %v", newCustomers, revenue)
		}
		// Only a segment's customers: the app user.
		if code := s.API("POST", "/api/v1/segments", map[string]any{"name": "app", "query": map[string]any{"channels": []string{"mobile_app"}}}, nil); code != 201 {
			t.Fatalf("segment: %d", code)
		}
		if code := s.API("GET", "/api/v1/journeys/funnel?segment=app", nil, &f); code != 200 || len(f.Groups) != 1 || f.Groups[0].Journeys != 1 || f.Groups[0].Recognize != 1 {
			t.Fatalf("funnel of a segment: %d %+v", code, f)
		}
		if code := s.API("GET", "/api/v1/journeys/funnel?by=weather", nil, nil); code != 400 {
			t.Fatalf("by weather: %d", code)
		}
		if code := s.API("PUT", "/api/v1/journeys/stages", map[string]any{"recognise": []string{"X"}}, nil); code != 400 {
			t.Fatalf("unknown stage: %d", code)
		}
	})
}

// Journeys are the customer's own touches: cxloop's actions (a nudge sent
// through a webhook, an order proposed on the server) start no journey,
// count in no stage and give no channel; an experience's action marks the
// journey it touched.
func TestFunnelCountsCustomerTouchesOnly(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := startAt(t, dsn, fixed)
		day := func(d float64) time.Time { return fixed.Add(-time.Duration(d * 24 * float64(time.Hour))) }
		var actions []eventlog.Event
		var batch []any
		want := map[string]int{} // journeys by channel, from the customers' touches
		for i := range 20 {
			u := fmt.Sprintf("jt-%02d", i)
			ev, err := eventlog.Action("Nudge Sent", "nudge-"+u, u, "", "webhook", day(40), map[string]any{"experience": "coach_behaviour"})
			if err != nil {
				t.Fatal(err)
			}
			actions = append(actions, ev)
			if i%3 == 0 {
				ev, err := eventlog.Action("Order Proposed", "proposal-"+u, u, "", "server", day(20), map[string]any{"experience": "respond_to_desire"})
				if err != nil {
					t.Fatal(err)
				}
				actions = append(actions, ev)
			}
			if i%2 == 0 {
				batch = append(batch, track(u, "Product Viewed", day(39), "web", map[string]any{"product_id": "p1"}),
					track(u, "Order Completed", day(38.9), "web", map[string]any{"order_id": u, "total": 10}))
				want["web"]++
			}
		}
		s.MustSend("batch", map[string]any{"batch": batch})
		if err := s.Log.Append(t.Context(), actions); err != nil {
			t.Fatal(err)
		}
		s.Sync()
		var f struct{ Groups []funnelGroup }
		if code := s.API("GET", "/api/v1/journeys/funnel?by=channel", nil, &f); code != 200 || len(f.Groups) != len(want) {
			t.Fatalf("funnel by channel: %d %+v, want only %v", code, f.Groups, want)
		}
		if g := f.Groups[0]; g.Key != "web" || g.Journeys != want["web"] || g.Recognize != 0 || g.Request != want["web"] || g.Respond != want["web"] {
			t.Errorf("web: %+v, want %d journeys without recognize", g, want["web"])
		}
		if code := s.API("GET", "/api/v1/journeys/funnel?by=experience", nil, &f); code != 200 || len(f.Groups) != 1 ||
			f.Groups[0].Key != "coach_behaviour" || f.Groups[0].Journeys != want["web"] {
			t.Errorf("funnel by experience: %d %+v", code, f.Groups)
		}
	})
}

// The repeat rate is the share of responses, old enough to judge, that
// the customer followed with another within 90 days: never above 100 %,
// even when the repeats happen in another channel than the first
// purchase, and absent where no response is old enough.
func TestFunnelRepeatRate(t *testing.T) {
	s := startAt(t, storetest.DSN(t, "sqlite"), fixed)
	type order struct {
		channel string
		daysAgo float64
	}
	// Each customer's orders, oldest first; each is preceded by a product
	// view in its channel except in the store. Browsing alone (views
	// without an order) starts journeys that never respond.
	orders := map[string][]order{
		"c1": {{"web", 200}, {"web", 150}, {"web", 30}},
		"c2": {{"web", 300}, {"mobile_app", 280}, {"mobile_app", 250}, {"mobile_app", 100}},
		"c3": {{"store", 400}, {"store", 380}, {"store", 360}, {"store", 10}},
		"c4": {{"mobile_app", 60}, {"mobile_app", 20}},
	}
	browsing := map[string][]order{"c2": {{"mobile_app", 299}, {"mobile_app", 298}, {"mobile_app", 297}}, "c4": {{"mobile_app", 5}}}
	ago := func(d float64) time.Time { return fixed.Add(-time.Duration(d * 24 * float64(time.Hour))) }
	var batch []any
	for c, list := range orders {
		for i, o := range list {
			if o.channel != "store" {
				batch = append(batch, track(c, "Product Viewed", ago(o.daysAgo).Add(-time.Hour), o.channel, map[string]any{"product_id": "p1"}))
			}
			batch = append(batch, track(c, "Order Completed", ago(o.daysAgo), o.channel, map[string]any{"order_id": fmt.Sprintf("%s-%d", c, i), "total": 10}))
		}
		for _, b := range browsing[c] {
			batch = append(batch, track(c, "Product Viewed", ago(b.daysAgo), b.channel, map[string]any{"product_id": "p2"}))
		}
	}
	s.MustSend("batch", map[string]any{"batch": batch})
	s.Sync()

	// The expected figures, from the orders alone.
	type counts struct{ base, repeat, respond int }
	want := map[string]*counts{}
	for _, list := range orders {
		for i, o := range list {
			w := want[o.channel]
			if w == nil {
				w = &counts{}
				want[o.channel] = w
			}
			w.respond++
			if o.daysAgo < 90 {
				continue // too young to judge
			}
			w.base++
			if i+1 < len(list) && o.daysAgo-list[i+1].daysAgo <= 90 {
				w.repeat++
			}
		}
	}
	var f struct{ Groups []funnelGroup }
	if code := s.API("GET", "/api/v1/journeys/funnel?by=channel", nil, &f); code != 200 || len(f.Groups) != len(want) {
		t.Fatalf("funnel: %d %+v", code, f)
	}
	for _, g := range f.Groups {
		w := want[g.Key]
		if w == nil || g.Respond != w.respond || g.RepeatBase != w.base || g.Repeat != w.repeat {
			t.Errorf("%s: respond %d, repeat %d of %d; want %+v", g.Key, g.Respond, g.Repeat, g.RepeatBase, w)
			continue
		}
		if w.base == 0 {
			if g.RepeatRate != nil {
				t.Errorf("%s: a repeat rate of %v with no response old enough", g.Key, *g.RepeatRate)
			}
		} else if want := math.Round(1000*float64(w.repeat)/float64(w.base)) / 1000; !is(g.RepeatRate, want) {
			t.Errorf("%s: repeat rate %v, want %v", g.Key, g.RepeatRate, want)
		}
	}
	for _, by := range []string{"", "channel", "experience"} {
		s.API("GET", "/api/v1/journeys/funnel?by="+by, nil, &f)
		for _, g := range f.Groups {
			for name, r := range map[string]*float64{"repeat": g.RepeatRate, "request to respond": g.RequestToRespond} {
				if r != nil && (*r < 0 || *r > 1) {
					t.Errorf("by %q, %s: %s rate %v", by, g.Key, name, *r)
				}
			}
			if g.Repeat > g.RepeatBase || g.RepeatBase > g.Respond || g.Respond > g.Journeys {
				t.Errorf("by %q, %s: %+v", by, g.Key, g)
			}
		}
	}
}

// Managers believe customers are happier than they are: the gap is
// significant per question and team.
func TestAlignmentGap(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := startAt(t, dsn, fixed)
		r := rand.New(rand.NewPCG(3, 4))
		var batch []any
		var sats []float64
		for i := range 40 {
			sat := 6 + r.IntN(3) // 6–8
			sats = append(sats, float64(sat))
			batch = append(batch, track(fmt.Sprintf("c%d", i), "Survey Responded", fixed.Add(-time.Hour), "web",
				map[string]any{"survey_id": "rel", "answers": map[string]any{"q1": sat, "q2": 8 + r.IntN(2)}}))
		}
		s.MustSend("batch", map[string]any{"batch": batch})
		s.Sync()
		for _, p := range []map[string]any{{"team": "marketing", "answers": map[string]any{"q1": 9, "q2": 8.5}}, {"team": "service", "answers": map[string]any{"q1": 8.8}}} {
			if code := s.API("POST", "/api/v1/alignment/predictions", p, nil); code != 201 {
				t.Fatalf("prediction: %d", code)
			}
		}
		if code := s.API("POST", "/api/v1/alignment/predictions", map[string]any{"answers": map[string]any{"q1": 9}}, nil); code != 400 {
			t.Fatalf("no team: %d", code)
		}
		var gap struct {
			Items []struct {
				Question, Team      string
				Label               string
				Managers, Customers float64
				Gap                 float64
				NCustomers          int `json:"n_customers"`
				P                   float64
				Significant         bool
				Reading             string
			}
		}
		// The survey that asks q1 names it; q2 is asked by no survey.
		const q1 = "How good are our products and service?"
		if code := s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "Relationship", "rhythm": "pulse", "owner": "marketing",
			"questions": [{"id": "q1", "type": "scale", "min": 1, "max": 10, "text": {"en": "`+q1+`"}}]}`), nil); code != 201 {
			t.Fatalf("survey: %d", code)
		}
		s.API("GET", "/api/v1/alignment/gap", nil, &gap)
		if len(gap.Items) != 2 || gap.Items[0].Question != "q1" || gap.Items[0].Managers != 8.9 || gap.Items[0].Gap < 1.5 || !gap.Items[0].Significant ||
			gap.Items[0].Reading != "managers overestimate" {
			t.Fatalf("gap: %+v", gap)
		}
		// The customers' side, computed here from the answers sent: their
		// mean, and the one-sample t-test against the managers' 8.9.
		mu, ss := 0.0, 0.0
		for _, v := range sats {
			mu += v / float64(len(sats))
		}
		for _, v := range sats {
			ss += (v - mu) * (v - mu)
		}
		tv := (mu - 8.9) / math.Sqrt(ss/float64(len(sats)-1)/float64(len(sats)))
		p := 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(len(sats) - 1)}.CDF(-math.Abs(tv))
		if g := gap.Items[0]; g.NCustomers != 40 || g.Customers != math.Round(mu*100)/100 || math.Abs(g.P-p) > 1e-4 {
			t.Errorf("q1's customers: %d answers, mean %v, p %v; want 40, %.2f, %.4f", g.NCustomers, g.Customers, g.P, mu, p)
		}
		if gap.Items[0].Label != q1 || gap.Items[1].Label != "q2" {
			t.Errorf("labels: %q, %q", gap.Items[0].Label, gap.Items[1].Label)
		}
		if page := s.Page("/insights"); !strings.Contains(page, q1) || strings.Contains(page, "<td>q1</td>") {
			t.Errorf("the alignment gap on /insights names q1 by its id, not its text")
		}
		if q2 := gap.Items[1]; q2.Significant && math.Abs(q2.Gap) < 0.2 {
			t.Fatalf("q2: %+v", q2)
		}
		s.API("GET", "/api/v1/alignment/gap?by=team", nil, &gap)
		if len(gap.Items) != 3 || gap.Items[0].Team != "marketing" || gap.Items[1].Team != "service" {
			t.Fatalf("by team: %+v", gap)
		}
	})
}

// The ACSI model from survey answers simulated with known effects: value
// and quality drive satisfaction, satisfaction drives loyalty.
func TestACSIModel(t *testing.T) {
	s := startAt(t, storetest.DSN(t, "sqlite"), fixed)
	r := rand.New(rand.NewPCG(5, 6))
	clip := func(v float64) int { return int(math.Max(1, math.Min(10, math.Round(v)))) }
	var batch []any
	for i := range 150 {
		expe := r.NormFloat64()
		qual := 0.6*expe + 0.8*r.NormFloat64()
		val := 0.2*expe + 0.5*qual + 0.8*r.NormFloat64()
		sat := 0.3*qual + 0.5*val + 0.6*r.NormFloat64()
		loy := 0.7*sat + 0.7*r.NormFloat64()
		item := func(lv float64) int { return clip(7 + 1.2*lv + 0.6*r.NormFloat64()) }
		answers := map[string]any{
			"expe_overall": item(expe), "expe_reliability": item(expe), "qual_overall": item(qual), "qual_reliability": item(qual),
			"qual_fit": item(qual), "value_price": item(val), "value_quality": item(val), "loyalty_repurchase": item(loy), "loyalty_price": item(loy),
			"acsi": map[string]any{"overall": item(sat), "expectations": item(sat), "ideal": item(sat)},
		}
		batch = append(batch, track(fmt.Sprintf("r%d", i), "Survey Responded", fixed.Add(-time.Hour), "web", map[string]any{"survey_id": "acsi", "answers": answers}))
	}
	s.MustSend("batch", map[string]any{"batch": batch})
	s.Sync()
	var m struct {
		Responses int
		Paths     []struct {
			From, To string
			Coef     float64
			CI95     []float64 `json:"ci95"`
		}
		R2      map[string]float64
		Index   float64
		Drivers []struct {
			Driver                  string
			Importance, Performance float64
		}
	}
	if code := s.API("GET", "/api/v1/analytics/acsi-model", nil, &m); code != 200 || m.Responses != 150 {
		t.Fatalf("acsi model: %d %+v", code, m)
	}
	coef := map[string]float64{}
	low := map[string]float64{}
	for _, p := range m.Paths {
		coef[p.From+"→"+p.To] = p.Coef
		low[p.From+"→"+p.To] = p.CI95[0]
		if len(p.CI95) != 2 || !(p.CI95[0] <= p.Coef && p.Coef <= p.CI95[1]) {
			t.Fatalf("interval of %s→%s: %v", p.From, p.To, p.CI95)
		}
	}
	// The simulated effects are there (their intervals exclude 0); item noise and clipping weaken them.
	for _, p := range []string{"perceived_value→satisfaction", "perceived_quality→perceived_value", "customer_expectations→perceived_quality", "satisfaction→loyalty"} {
		if low[p] <= 0 {
			t.Errorf("%s = %.3f, interval from %.3f", p, coef[p], low[p])
		}
	}
	if coef["satisfaction→loyalty"] < 0.4 || m.R2["satisfaction"] < 0.2 {
		t.Fatalf("paths %v, R² %v", coef, m.R2)
	}
	// Items around 7 on 1–10: the index is about (7−1)/9 = 67.
	if m.Index < 55 || m.Index > 80 || len(m.Drivers) != 3 {
		t.Fatalf("index %.1f, drivers %+v", m.Index, m.Drivers)
	}
	if code := s.API("GET", "/api/v1/analytics/acsi-model?survey=nope", nil, nil); code != 409 {
		t.Fatalf("no answers: %d", code)
	}
}

// Online customers need higher satisfaction to come back and weigh value
// more, in data simulated that way: the report finds both.
func TestOnlineVsInPerson(t *testing.T) {
	s := startAt(t, storetest.DSN(t, "sqlite"), fixed)
	r := rand.New(rand.NewPCG(8, 9))
	answered := fixed.Add(-100 * 24 * time.Hour)
	var batch []any
	for i := range 600 {
		channel, threshold, valueEffect := "web", 8.0, 0.8
		if i%2 == 1 {
			channel, threshold, valueEffect = "store", 6.0, 0.3
		}
		val := r.NormFloat64()
		sat := math.Max(0, math.Min(10, math.Round(7+1.5*(valueEffect*val+math.Sqrt(1-valueEffect*valueEffect)*r.NormFloat64()))))
		u := fmt.Sprintf("%s-%d", channel, i)
		batch = append(batch, track(u, "Survey Responded", answered, channel, map[string]any{"nps": sat, "touchpoint_channel": channel,
			"answers": map[string]any{"nps": sat, "value_price": math.Round(7 + 1.5*val)}}))
		if r.Float64() < 1/(1+math.Exp(-1.5*(sat-threshold))) {
			batch = append(batch, track(u, "Order Completed", answered.Add(10*24*time.Hour), channel, map[string]any{"order_id": u, "total": 20}))
		}
		if len(batch) >= 200 {
			s.MustSend("batch", map[string]any{"batch": batch})
			batch = nil
		}
	}
	s.MustSend("batch", map[string]any{"batch": batch})
	s.Sync()
	var got struct {
		Groups []struct {
			Group       string
			Responses   int
			Meaningful  bool
			SatFor50    *float64 `json:"satisfaction_for_50pct"`
			ValueWeight *float64 `json:"value_weight"`
		}
	}
	if code := s.API("GET", "/api/v1/analytics/channels", nil, &got); code != 200 || len(got.Groups) < 2 {
		t.Fatalf("channels: %d %+v", code, got)
	}
	online, store := got.Groups[1], got.Groups[0] // in_person sorts before online
	if online.Group != "online" || store.Group != "in_person" || online.Responses != 300 || online.SatFor50 == nil || store.SatFor50 == nil ||
		!online.Meaningful || !store.Meaningful {
		t.Fatalf("groups: %+v", got.Groups)
	}
	if math.Abs(*online.SatFor50-8) > 0.8 || math.Abs(*store.SatFor50-6) > 0.8 || *online.ValueWeight <= *store.ValueWeight+0.2 {
		t.Fatalf("online needs %.2f (value %.2f), in person %.2f (value %.2f)", *online.SatFor50, *online.ValueWeight, *store.SatFor50, *store.ValueWeight)
	}
}

// A fit that cannot be read says so instead of giving a number: when
// repurchase falls as satisfaction rises, when more than half come back
// at any satisfaction (the 50 % point lies below the scale), when too
// few answered, and when the answers are too young to know.
func TestChannelFitMeaning(t *testing.T) {
	s := startAt(t, storetest.DSN(t, "sqlite"), fixed)
	answered := fixed.Add(-120 * 24 * time.Hour)
	// Per channel, per satisfaction 0–10, how many answered and how many
	// of them came back within 90 days.
	type cell struct{ n, came int }
	plan := map[string][11]cell{}
	var web, store, call [11]cell
	for x := range 11 {
		web[x] = cell{20, int(math.Round(20 * (0.8 + 0.015*float64(x))))}  // most come back whatever they say
		store[x] = cell{20, int(math.Round(20 * (0.7 - 0.04*float64(x))))} // the happier come back less
		if x%4 == 0 {
			call[x] = cell{4, 2}
		}
	}
	plan["web"], plan["store"], plan["call_centre"] = web, store, call
	var batch []any
	send := func(user, channel string, sat int, at time.Time, came bool) {
		batch = append(batch, track(user, "Survey Responded", at, channel, map[string]any{"nps": sat, "touchpoint_channel": channel,
			"answers": map[string]any{"nps": sat}}))
		if came {
			batch = append(batch, track(user, "Order Completed", at.Add(20*24*time.Hour), channel, map[string]any{"order_id": user, "total": 20}))
		}
		if len(batch) >= 300 {
			s.MustSend("batch", map[string]any{"batch": batch})
			batch = nil
		}
	}
	for channel, cells := range plan {
		for x, c := range cells {
			for i := range c.n {
				send(fmt.Sprintf("%s-%d-%d", channel, x, i), channel, x, answered, i < c.came)
			}
		}
	}
	// Answers from last month: whether they come back is not known yet.
	for i := range 50 {
		send(fmt.Sprintf("young-%d", i), "email", i%11, fixed.Add(-30*24*time.Hour), false)
	}
	s.MustSend("batch", map[string]any{"batch": batch})
	s.Sync()

	var got struct {
		Groups []struct {
			Group      string
			Responses  int
			Rate       float64 `json:"repurchase_rate"`
			Meaningful bool
			Reason     string
			SatFor50   *float64 `json:"satisfaction_for_50pct"`
		}
	}
	if code := s.API("GET", "/api/v1/analytics/channels", nil, &got); code != 200 {
		t.Fatalf("channels: %d", code)
	}
	seen := map[string]bool{}
	for _, g := range got.Groups {
		seen[g.Group] = true
		cells, ok := plan[g.Group]
		if !ok {
			continue // online, in_person: the same answers grouped
		}
		n, came, lowCame, highCame, low, high := 0, 0, 0, 0, 0, 0
		for x, c := range cells {
			n, came = n+c.n, came+c.came
			if x <= 3 {
				low, lowCame = low+c.n, lowCame+c.came
			} else if x >= 7 {
				high, highCame = high+c.n, highCame+c.came
			}
		}
		if g.Responses != n || g.Rate != math.Round(1000*float64(came)/float64(n))/1000 {
			t.Errorf("%s: %d responses, rate %v; want %d, %d came back", g.Group, g.Responses, g.Rate, n, came)
		}
		var want string
		switch {
		case n < 30 || came < 10 || n-came < 10:
			want = "too few cases"
		case float64(highCame)/float64(high) < float64(lowCame)/float64(low):
			want = "does not rise"
		case float64(lowCame)/float64(low) > 0.5:
			want = "more than half come back at any satisfaction"
		}
		if want == "" {
			t.Fatalf("%s: the test's data should not be readable", g.Group)
		}
		if g.Meaningful || g.SatFor50 != nil || !strings.Contains(g.Reason, want) {
			t.Errorf("%s: meaningful %v, 50 %% at %v, reason %q; want %q", g.Group, g.Meaningful, g.SatFor50, g.Reason, want)
		}
	}
	if seen["email"] || len(seen) != 5 {
		t.Errorf("groups %v: the young answers are left out", seen)
	}
}
