package survey

import (
	"math"
	"testing"
)

// An interval never leaves out the score it stands beside: for every
// split of up to 40 answers into promoters, passives and detractors (and
// every count passing a top-box test), the NPS and the percentage lie in
// their 95 % intervals. One promoter alone: NPS 100, interval −48.5 to
// 100 (the adjusted-Wald upper end, 98.5, widened to the score).
func TestIntervalsHoldTheirScore(t *testing.T) {
	for n := 1; n <= 40; n++ {
		for p := 0; p <= n; p++ {
			for d := 0; p+d <= n; d++ {
				var values []float64
				for range p {
					values = append(values, 10)
				}
				for range d {
					values = append(values, 3)
				}
				for range n - p - d {
					values = append(values, 8)
				}
				e := npsEstimate(values)
				if want := 100 * float64(p-d) / float64(n); e.value != want || e.lo > e.value || e.hi < e.value || e.lo < -100 || e.hi > 100 {
					t.Fatalf("n %d, %d promoters, %d detractors: NPS %.1f, interval %.1f to %.1f", n, p, d, e.value, e.lo, e.hi)
				}
			}
			e := proportionEstimate(make([]float64, n), func(float64) bool { return false })
			if e.lo > e.value || e.hi < e.value {
				t.Fatalf("0 of %d: %.1f %% in %.1f to %.1f", n, e.value, e.lo, e.hi)
			}
			values := make([]float64, n)
			for i := range p {
				values[i] = 1
			}
			e = proportionEstimate(values, func(v float64) bool { return v == 1 })
			if e.lo > e.value || e.hi < e.value {
				t.Fatalf("%d of %d: %.1f %% in %.1f to %.1f", p, n, e.value, e.lo, e.hi)
			}
		}
	}
	one := npsEstimate([]float64{10})
	if one.value != 100 || one.hi != 100 || math.Abs(round1(one.lo)-(-48.5)) > 0.05 {
		t.Fatalf("one promoter: %.1f in %.1f to %.1f", one.value, one.lo, one.hi)
	}
}
