package cases_test

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The expected figures below come from the test's own inputs and textbook
// formulas, never from the code under test.

// tTail is P(|T| > t) for Student's t with df degrees of freedom: one minus
// the integral of its density over [−t, t], by Simpson's rule.
func tTail(t, df float64) float64 {
	lg1, _ := math.Lgamma((df + 1) / 2)
	lg2, _ := math.Lgamma(df / 2)
	c := math.Exp(lg1-lg2) / math.Sqrt(df*math.Pi)
	f := func(x float64) float64 { return c * math.Pow(1+x*x/df, -(df+1)/2) }
	t = math.Abs(t)
	const n = 20000
	h := t / n
	sum := f(0) + f(t)
	for i := 1; i < n; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		sum += w * f(float64(i)*h)
	}
	return 1 - 2*sum*h/3
}

// welch is NPS before and after (promoters p, passives m, detractors d) and
// the p-value of Welch's t-test on the answers scored +100, 0, −100.
func welch(p1, m1, d1, p2, m2, d2 int) (before, after, p float64) {
	moments := func(p, m, d int) (mean, variance, n float64) {
		n = float64(p + m + d)
		mean = 100 * float64(p-d) / n
		for _, x := range []struct {
			v float64
			k int
		}{{100, p}, {0, m}, {-100, d}} {
			variance += float64(x.k) * (x.v - mean) * (x.v - mean)
		}
		return mean, variance / (n - 1), n
	}
	b, vb, nb := moments(p1, m1, d1)
	a, va, na := moments(p2, m2, d2)
	se2 := vb/nb + va/na
	t := (a - b) / math.Sqrt(se2)
	df := se2 * se2 / ((vb/nb)*(vb/nb)/(nb-1) + (va/na)*(va/na)/(na-1))
	return b, a, tTail(t, df)
}

// pooledZ is the two-sided p-value of the pooled two-proportion z-test.
func pooledZ(x1, n1, x2, n2 int) float64 {
	p1, p2 := float64(x1)/float64(n1), float64(x2)/float64(n2)
	pp := float64(x1+x2) / float64(n1+n2)
	z := (p2 - p1) / math.Sqrt(pp*(1-pp)*(1/float64(n1)+1/float64(n2)))
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// binomialC is the exact two-sided p-value that k2 of k1+k2 events fell in
// the second of two equal windows, each event equally likely in either.
func binomialC(k1, k2 int) float64 {
	n := k1 + k2
	choose := func(n, k int) float64 { // exact for the small n used here
		r := 1.0
		for i := 1; i <= k; i++ {
			r = r * float64(n-k+i) / float64(i)
		}
		return r
	}
	var tail float64
	for k := k2; k <= n; k++ {
		tail += choose(n, k)
	}
	return math.Min(1, 2*tail/math.Pow(2, float64(n)))
}

type evidence struct {
	Group, Status, Test, Note string
	Before, After, P          *float64
	NBefore, NAfter           int
	CaseID                    string
}

// A significant NPS drop in one channel, a rise in one store's return
// rate, a surge of complaints and of negative mentions each fire once and
// open a case for the team with the evidence; a wobble and a tiny sample
// do not. Data arrives through /v1 on a fixed clock.
func TestAlertsFireOnSignificantMoves(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		s, clock := apptest.StartAt(t, dsn, now)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		var sv struct{ ID string }
		if code := s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "Post-order", "rhythm": "pulse", "owner": "service",
			"questions": [{"id": "q1", "type": "nps", "text": {"en": "Recommend us?"}}]}`), &sv); code != 201 {
			t.Fatalf("survey: %d", code)
		}
		alerts := map[string]string{}
		for name, body := range map[string]string{
			"nps":        `{"name": "NPS by channel", "metric": "nps", "survey": "` + sv.ID + `", "by": "channel", "window": "7d", "then": {"open_case": {"team": "service"}}}`,
			"returns":    `{"name": "Returns by store", "metric": "return_rate", "by": "store", "then": {"open_case": {"team": "service", "priority": "urgent"}}}`,
			"complaints": `{"name": "Complaint volume", "metric": "complaints", "then": {"open_case": {"team": "service"}}}`,
			"mentions":   `{"name": "Negative mentions", "metric": "negative_mentions", "then": {"open_case": {"team": "service"}}}`,
		} {
			var a struct{ ID, Direction string }
			if code := s.API("POST", "/api/v1/alerts", json.RawMessage(body), &a); code != 201 {
				t.Fatalf("alert %s: %d", name, code)
			}
			alerts[name] = a.ID
		}
		for _, bad := range []string{
			`{"name": "x", "metric": "negative_mentions", "by": "store", "then": {"open_case": {"team": "service"}}}`,
			`{"name": "x", "metric": "churn", "then": {"open_case": {"team": "service"}}}`,
			`{"name": "x", "metric": "nps", "then": {"open_case": {"team": "nobody"}}}`,
			`{"name": "x", "metric": "nps", "alpha": 0.5, "then": {"open_case": {"team": "service"}}}`,
		} {
			if code := s.API("POST", "/api/v1/alerts", json.RawMessage(bad), nil); code != 400 {
				t.Errorf("%s: %d, want 400", bad, code)
			}
		}

		before, after := now.Add(-10*24*time.Hour), now.Add(-3*24*time.Hour)
		var batch []map[string]any
		n := 0
		msg := func(at time.Time, event, channel string, props map[string]any) {
			n++
			batch = append(batch, map[string]any{"type": "track", "userId": fmt.Sprintf("u-%d", n), "event": event, "properties": props,
				"timestamp": at.Add(time.Duration(n) * time.Minute).Format(time.RFC3339), "context": map[string]any{"channel": channel}})
		}
		// NPS answers: promoters, passives, detractors per channel and window.
		type mix struct{ p, m, d int }
		npsPlan := map[string][2]mix{
			"store":      {{20, 12, 8}, {10, 10, 20}}, // a drop: 30 → −25
			"web":        {{18, 14, 8}, {16, 14, 10}}, // a wobble: 25 → 15
			"mobile_app": {{5, 1, 0}, {0, 0, 6}},      // too few to test
		}
		for channel, plan := range npsPlan {
			for w, m := range plan {
				at := []time.Time{before, after}[w]
				for i := range m.p + m.m + m.d {
					score := []int{10, 9}[i%2]
					if i >= m.p {
						score = 7
					}
					if i >= m.p+m.m {
						score = []int{0, 3, 6}[i%3]
					}
					msg(at, "Survey Responded", channel, map[string]any{"survey_id": sv.ID, "answers": map[string]any{"q1": score}})
				}
			}
		}
		// Orders per store and window, and how many were returned.
		retPlan := map[string][2][2]int{
			"Northwind Porto":  {{60, 6}, {60, 21}}, // 10 % → 35 %
			"Northwind Lisbon": {{60, 6}, {60, 8}},  // 10 % → 13.3 %
		}
		for store, plan := range retPlan {
			for w, p := range plan {
				at := []time.Time{before, after}[w]
				for i := range p[0] {
					order := fmt.Sprintf("o-%s-%d-%d", store, w, i)
					msg(at, "Order Completed", "store", map[string]any{"order_id": order, "store": store, "total": 40})
					if i < p[1] {
						msg(at.Add(time.Hour), "Order Refunded", "store", map[string]any{"order_id": order, "reason": "damaged"})
					}
				}
			}
		}
		// Complaints: 3 in the window before, 17 now.
		for w, k := range []int{3, 17} {
			for range k {
				msg([]time.Time{before, after}[w], "Complaint Submitted", "call_centre", map[string]any{"text": "Still waiting", "team": "service"})
			}
		}
		// Mentions: 8 of 40 negative before, 24 of 40 now.
		for w, neg := range []int{8, 24} {
			for i := range 40 {
				sentiment := "positive"
				if i < neg {
					sentiment = "negative"
				}
				msg([]time.Time{before, after}[w], "Social Mention", "social", map[string]any{"network": "twitter", "sentiment": sentiment, "text": "Northwind"})
			}
		}
		for len(batch) > 0 {
			chunk := batch[:min(len(batch), 200)]
			batch = batch[len(chunk):]
			s.MustSend("batch", map[string]any{"batch": chunk})
		}
		s.Sync()

		var check struct{ Groups []evidence }
		if code := s.API("GET", "/api/v1/alerts/"+alerts["nps"]+"/check", nil, &check); code != 200 {
			t.Fatalf("check: %d", code)
		}
		status := map[string]string{}
		for _, g := range check.Groups {
			status[g.Group] = g.Status
		}
		if want := map[string]string{"store": "significant", "web": "not_significant", "mobile_app": "too_few"}; fmt.Sprint(status) != fmt.Sprint(want) {
			t.Fatalf("nps groups: %v, want %v", status, want)
		}

		// Four fire (NPS in store, returns in Porto, complaints, mentions),
		// here or in the alerts worker's own round: the firings and cases
		// below count them.
		if _, err := s.Cases.EvaluateAlerts(t.Context()); err != nil {
			t.Fatal(err)
		}
		clock.Add(24 * time.Hour) // within the same window: nothing fires twice
		if again, err := s.Cases.EvaluateAlerts(t.Context()); err != nil || again != 0 {
			t.Fatalf("a day later: fired %d again (%v)", again, err)
		}

		near := func(what string, got *float64, want, tol float64) {
			t.Helper()
			if got == nil || math.Abs(*got-want) > tol {
				t.Errorf("%s = %v, want %.6g", what, got, want)
			}
		}
		firing := func(alert, group string) evidence {
			t.Helper()
			var out struct {
				Firings []struct {
					Group    string
					CaseID   string
					Evidence evidence
				}
			}
			if code := s.API("GET", "/api/v1/alerts/"+alerts[alert]+"/firings", nil, &out); code != 200 {
				t.Fatalf("firings: %d", code)
			}
			if len(out.Firings) != 1 || out.Firings[0].Group != group || out.Firings[0].CaseID == "" {
				t.Fatalf("%s firings: %+v, want one for %s with a case", alert, out.Firings, group)
			}
			return out.Firings[0].Evidence
		}

		st := npsPlan["store"]
		b, a, p := welch(st[0].p, st[0].m, st[0].d, st[1].p, st[1].m, st[1].d)
		ev := firing("nps", "store")
		near("nps before", ev.Before, b, 1e-9)
		near("nps after", ev.After, a, 1e-9)
		near("nps p", ev.P, p, 1e-6)
		if ev.NBefore != 40 || ev.NAfter != 40 || ev.Test == "" || p >= 0.01 {
			t.Errorf("nps evidence: %+v (expected p %.5f)", ev, p)
		}
		// The wobble really is not significant, by the same textbook test.
		if _, _, pw := welch(18, 14, 8, 16, 14, 10); pw < 0.01 {
			t.Fatalf("the wobble's planted p is %.4f", pw)
		}

		ev = firing("returns", "Northwind Porto")
		near("return rate before", ev.Before, 10, 1e-9)
		near("return rate after", ev.After, 35, 1e-9)
		near("returns p", ev.P, pooledZ(6, 60, 21, 60), 1e-9)
		if ev.NBefore != 60 || ev.NAfter != 60 {
			t.Errorf("returns n: %d, %d", ev.NBefore, ev.NAfter)
		}

		ev = firing("complaints", "all")
		near("complaints before", ev.Before, 3, 0)
		near("complaints after", ev.After, 17, 0)
		near("complaints p", ev.P, binomialC(3, 17), 1e-9)

		ev = firing("mentions", "all")
		near("negative before", ev.Before, 20, 1e-9)
		near("negative after", ev.After, 60, 1e-9)
		near("mentions p", ev.P, pooledZ(8, 40, 24, 40), 1e-9)

		var cases struct {
			Cases []struct {
				ID, Kind, TeamName, Subject, Body, Priority, Channel string
			}
		}
		if code := s.API("GET", "/api/v1/cases?kind=alert", nil, &cases); code != 200 {
			t.Fatalf("cases: %d", code)
		}
		if len(cases.Cases) != 4 {
			t.Fatalf("%d alert cases, want 4: %+v", len(cases.Cases), cases.Cases)
		}
		for _, c := range cases.Cases {
			if c.TeamName != "service" || c.Subject == "" || c.Body == "" {
				t.Errorf("alert case %+v", c)
			}
		}
	})
}
