package demo

import (
	"math"
	"testing"
	"time"
)

// The demo plants a checkout incident: web post-order NPS in the last week
// drops against the week before, by enough for the "Post-order NPS by
// channel" alert (Welch's t-test, alpha 0.01, 30 answers a window) to fire
// for web and for no other channel. Counted here from the generated
// messages, whatever the end date.
func TestAlertDemoPlantsAWebNPSDrop(t *testing.T) {
	for _, end := range []time.Time{time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC), time.Date(2027, 8, 1, 3, 30, 0, 0, time.UTC)} {
		type key struct {
			channel string
			now     bool
		}
		counts := map[key]*[3]int{} // promoters, passives, detractors
		err := Generate(Options{Customers: 2000, Seed: 42, End: end, Surveys: Surveys{PostOrder: "po", Relationship: "rel", Pulse: "pu"}}, func(m Message) error {
			p, _ := m["properties"].(map[string]any)
			if m["event"] != "Survey Responded" || p["survey_id"] != "po" {
				return nil
			}
			at, _ := time.Parse("2006-01-02T15:04:05.000Z", m["timestamp"].(string))
			age := end.Sub(at)
			if age > 14*24*time.Hour {
				return nil
			}
			k := key{p["touchpoint_channel"].(string), age < 7*24*time.Hour}
			if counts[k] == nil {
				counts[k] = &[3]int{}
			}
			switch s := p["answers"].(map[string]any)["nps"].(int); {
			case s >= 9:
				counts[k][0]++
			case s >= 7:
				counts[k][1]++
			default:
				counts[k][2]++
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, channel := range []string{"web", "store", "mobile_app"} {
			b, a := counts[key{channel, false}], counts[key{channel, true}]
			if b == nil || a == nil {
				t.Fatalf("%s: no answers in one of the windows", channel)
			}
			nb, na := b[0]+b[1]+b[2], a[0]+a[1]+a[2]
			enough := nb >= 30 && na >= 30
			if channel != "web" {
				if enough {
					t.Errorf("%s has %d and %d answers: the alert could fire for it too", channel, nb, na)
				}
				continue
			}
			if !enough {
				t.Fatalf("web has %d and %d answers, fewer than the alert's 30", nb, na)
			}
			mb, vb := moments(b)
			ma, va := moments(a)
			se2 := vb/float64(nb) + va/float64(na)
			tt := (ma - mb) / math.Sqrt(se2)
			df := se2 * se2 / (math.Pow(vb/float64(nb), 2)/float64(nb-1) + math.Pow(va/float64(na), 2)/float64(na-1))
			t.Logf("web NPS %.1f (n %d) -> %.1f (n %d), p %.4f", mb, nb, ma, na, studentTail(tt, df))
			if p := studentTail(tt, df); ma >= mb || p >= 0.01 {
				t.Errorf("web NPS %.1f → %.1f, p %.4f: not a drop the alert fires on", mb, ma, p)
			}
		}
	}
}

// moments is the mean (the NPS) and sample variance of answers scored
// +100, 0, −100.
func moments(c *[3]int) (mean, variance float64) {
	n := float64(c[0] + c[1] + c[2])
	mean = 100 * float64(c[0]-c[2]) / n
	for i, v := range []float64{100, 0, -100} {
		variance += float64(c[i]) * (v - mean) * (v - mean)
	}
	return mean, variance / (n - 1)
}

// studentTail is P(|T| > t), integrating Student's density by Simpson's rule.
func studentTail(t, df float64) float64 {
	lg1, _ := math.Lgamma((df + 1) / 2)
	lg2, _ := math.Lgamma(df / 2)
	c := math.Exp(lg1-lg2) / math.Sqrt(df*math.Pi)
	f := func(x float64) float64 { return c * math.Pow(1+x*x/df, -(df+1)/2) }
	t = math.Abs(t)
	const n = 10000
	h, sum := t/n, f(0)+f(t)
	for i := 1; i < n; i++ {
		sum += float64(2+2*(i%2)) * f(float64(i)*h)
	}
	return 1 - 2*sum*h/3
}
