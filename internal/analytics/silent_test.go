package analytics_test

import (
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/store/storetest"
)

var listed = regexp.MustCompile(`data-customer="([^"]+)"`)

// The silent dissatisfied have one definition, in both routes and on both
// console pages: their latest word in the last year was unhappy, they
// never complained, and they are fading.
func TestSilentDissatisfied(t *testing.T) {
	s := startAt(t, storetest.DSN(t, "sqlite"), fixed)
	day := 24 * time.Hour
	ago := func(d float64) time.Time { return fixed.Add(-time.Duration(d * float64(day))) }
	type word struct {
		daysAgo float64
		props   map[string]any // a survey response's, or a mention's with "mention"
	}
	type customer struct {
		words     []word
		views     []float64 // days ago
		orders    []float64
		complaint bool
	}
	nps := func(d float64, v int) word {
		return word{d, map[string]any{"nps": v, "answers": map[string]any{"nps": v}}}
	}
	views := func(n int, d float64) []float64 {
		var out []float64
		for i := range n {
			out = append(out, d+float64(i)/10)
		}
		return out
	}
	customers := map[string]customer{
		"quiet":     {words: []word{nps(100, 3)}, views: views(4, 120)},
		"grumbly":   {words: []word{{100, map[string]any{"nps": 9, "answers": map[string]any{"nps": 9, "why": "The delivery was late and rude staff."}}}}, views: append(views(5, 150), 10)},
		"vocal":     {words: []word{nps(100, 2)}, views: views(4, 120), complaint: true},
		"busy":      {words: []word{nps(100, 3)}, views: append(views(2, 120), views(6, 20)...)},
		"happy":     {words: []word{nps(100, 10)}, views: views(4, 120)},
		"recovered": {words: []word{nps(200, 2), nps(100, 9)}, views: views(4, 120)},
		"mention":   {words: []word{{100, map[string]any{"mention": true, "sentiment": "negative", "text": "Never again."}}}, views: views(3, 130)},
		"stale":     {words: []word{nps(400, 1)}, views: views(4, 120)},
		"csat":      {words: []word{{100, map[string]any{"csat": 2, "answers": map[string]any{"csat": 2}}}}, views: views(4, 120)},
		"csat3":     {words: []word{{100, map[string]any{"csat": 3, "answers": map[string]any{"csat": 3}}}}, views: views(4, 120)},
		"fader":     {words: []word{nps(300, 2)}, orders: []float64{400, 390, 380, 370}},
	}
	var batch []any
	own := map[string][]float64{} // every event of the customer's own, days ago
	for user, c := range customers {
		for _, w := range c.words {
			if w.props["mention"] == true {
				batch = append(batch, track(user, "Social Mention", ago(w.daysAgo), "social", w.props))
			} else {
				batch = append(batch, track(user, "Survey Responded", ago(w.daysAgo), "web", w.props))
			}
			own[user] = append(own[user], w.daysAgo)
		}
		for _, d := range c.views {
			batch = append(batch, track(user, "Product Viewed", ago(d), "web", map[string]any{"product_id": "p1"}))
			own[user] = append(own[user], d)
		}
		for i, d := range c.orders {
			batch = append(batch, track(user, "Order Completed", ago(d), "web", map[string]any{"order_id": user + string(rune('a'+i)), "total": 40}))
			own[user] = append(own[user], d)
		}
		if c.complaint {
			batch = append(batch, track(user, "Complaint Submitted", ago(90), "web", map[string]any{"text": "Bad."}))
			own[user] = append(own[user], 90)
		}
	}
	s.MustSend("batch", map[string]any{"batch": batch})
	s.Sync()

	// The definition, applied to the test's own data.
	var want []string
	ids := map[string]string{}
	for user, c := range customers {
		id, err := s.Profiles.Resolve(t.Context(), user)
		if err != nil {
			t.Fatal(err)
		}
		ids[id] = user
		latest := word{daysAgo: 1e9}
		for _, w := range c.words {
			if w.daysAgo <= 365 && w.daysAgo < latest.daysAgo {
				latest = w
			}
		}
		p := latest.props
		unhappy := p != nil && (p["sentiment"] == "negative" || (p["nps"] != nil && p["nps"].(int) <= 6) || (p["csat"] != nil && p["csat"].(int) <= 2) ||
			(p["answers"] != nil && p["answers"].(map[string]any)["why"] != nil))
		before, recent := 0, 0
		for _, d := range own[user] {
			if d <= 90 {
				recent++
			} else if d <= 180 {
				before++
			}
		}
		fading := recent < before
		if len(c.orders) > 0 {
			var v struct {
				PAlive float64 `json:"p_alive"`
			}
			s.API("GET", "/api/v1/customers/"+user+"/value", nil, &v)
			fading = fading || v.PAlive < 0.5
		}
		if unhappy && !c.complaint && fading {
			want = append(want, user)
		}
	}
	slices.Sort(want)
	if !slices.Equal(want, []string{"csat", "fader", "grumbly", "mention", "quiet"}) {
		t.Fatalf("the test's data should make these silent: %v", want)
	}

	users := func(list []string) []string {
		var out []string
		for _, id := range list {
			out = append(out, ids[id])
		}
		return out
	}
	var silent struct {
		Customers []struct {
			Customer       string
			Before, Recent int
			Latest         *struct{ Kind string }
		}
	}
	var atRisk struct{ Customers []struct{ Customer string } }
	s.API("GET", "/api/v1/silent-dissatisfied", nil, &silent)
	s.API("GET", "/api/v1/analytics/at-risk?silent=true", nil, &atRisk)
	var a, b []string
	for _, c := range silent.Customers {
		a = append(a, c.Customer)
		if c.Latest == nil {
			t.Errorf("%s: no latest word", ids[c.Customer])
		}
	}
	for _, c := range atRisk.Customers {
		b = append(b, c.Customer)
	}
	if !slices.Equal(a, b) {
		t.Errorf("the two routes disagree: %v and %v", users(a), users(b))
	}
	got := users(a)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("silent dissatisfied %v, want %v", got, want)
	}
	for _, path := range []string{"/insights", "/recovery"} {
		var onPage []string
		for _, m := range listed.FindAllStringSubmatch(s.Page(path), -1) {
			onPage = append(onPage, m[1])
		}
		if !slices.Equal(onPage, a) {
			t.Errorf("%s lists %v, the API %v", path, users(onPage), users(a))
		}
	}
}
