package survey

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// z95 is the two-sided 95% normal quantile.
const z95 = 1.959963984540054

// estimate is one group's score with its 95% interval and the standard
// error used to compare it with another period.
type estimate struct {
	value  float64 // the score as reported (raw NPS, top-2-box %, mean)
	centre float64 // the interval's centre (adjusted for NPS and CSAT)
	lo, hi float64
	se     float64
	n      int
	df     float64 // degrees of freedom for means; 0 for proportions
	ok     bool    // false when n is too small for an interval
}

// npsEstimate is the Net Promoter Score of 0–10 answers (−100…100) with the
// adjusted-Wald interval: add 3 to n and ¾ to promoters and to detractors.
func npsEstimate(values []float64) estimate {
	n := len(values)
	var p, d float64
	for _, v := range values {
		switch {
		case v >= 9:
			p++
		case v <= 6:
			d++
		}
	}
	e := estimate{n: n}
	if n == 0 {
		return e
	}
	e.value = 100 * (p - d) / float64(n)
	na := float64(n) + 3
	pa, da := (p+0.75)/na, (d+0.75)/na
	c := pa - da
	e.se = 100 * math.Sqrt((pa+da-c*c)/na)
	e.centre = 100 * c
	e.lo, e.hi = clamp(e.centre-z95*e.se, -100, 100), clamp(e.centre+z95*e.se, -100, 100)
	e.lo, e.hi = math.Min(e.lo, e.value), math.Max(e.hi, e.value) // see holding
	e.ok = true
	return e
}

// holding: the adjusted intervals are centred on the adjusted score, which
// on a handful of answers lies far from the score itself (one promoter:
// NPS 100, interval −48.5 to 98.5). An interval shown beside a score never
// leaves it out: it is widened to reach the score.

// proportionEstimate is the percentage of values that pass, with the
// adjusted-Wald (Agresti–Coull) interval.
func proportionEstimate(values []float64, pass func(float64) bool) estimate {
	n := len(values)
	e := estimate{n: n}
	if n == 0 {
		return e
	}
	var x float64
	for _, v := range values {
		if pass(v) {
			x++
		}
	}
	e.value = 100 * x / float64(n)
	na := float64(n) + z95*z95
	pa := (x + z95*z95/2) / na
	e.se = 100 * math.Sqrt(pa*(1-pa)/na)
	e.centre = 100 * pa
	e.lo, e.hi = clamp(e.centre-z95*e.se, 0, 100), clamp(e.centre+z95*e.se, 0, 100)
	e.lo, e.hi = math.Min(e.lo, e.value), math.Max(e.hi, e.value) // see holding
	e.ok = true
	return e
}

// meanEstimate is the mean with a Student-t interval.
func meanEstimate(values []float64, lo, hi float64) estimate {
	n := len(values)
	e := estimate{n: n}
	if n == 0 {
		return e
	}
	var sum float64
	for _, v := range values {
		sum += v
	}
	mean := sum / float64(n)
	e.value, e.centre = mean, mean
	if n < 2 {
		return e
	}
	var ss float64
	for _, v := range values {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / float64(n-1))
	e.se = sd / math.Sqrt(float64(n))
	e.df = float64(n - 1)
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: e.df}.Quantile(0.975)
	e.lo, e.hi = clamp(mean-t*e.se, lo, hi), clamp(mean+t*e.se, lo, hi)
	e.ok = true
	return e
}

// difference tests whether a and b differ at the 95% level: a z-test on
// the adjusted proportions, or Welch's t-test for means. It returns the
// two-sided p-value.
func difference(a, b estimate) (p float64, ok bool) {
	if !a.ok || !b.ok {
		return 0, false
	}
	se := math.Sqrt(a.se*a.se + b.se*b.se)
	if se == 0 {
		if a.centre == b.centre {
			return 1, true
		}
		return 0, true
	}
	stat := math.Abs(a.centre-b.centre) / se
	if a.df == 0 || b.df == 0 {
		return 2 * (1 - distuv.UnitNormal.CDF(stat)), true
	}
	va, vb := a.se*a.se, b.se*b.se
	df := (va + vb) * (va + vb) / (va*va/a.df + vb*vb/b.df)
	return 2 * (1 - distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.CDF(stat)), true
}

func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// round1 rounds to one decimal, as scores are reported.
func round1(v float64) float64 { return math.Round(v*10) / 10 }
