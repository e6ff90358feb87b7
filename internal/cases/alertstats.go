package cases

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// welchNPS tests whether two windows' NPS differ: each answer is a value
// of +100 (promoter), 0 (passive) or −100 (detractor), whose mean is the
// NPS, and Welch's t-test compares the two means without assuming equal
// variances (Welch–Satterthwaite degrees of freedom). ok is false when
// there is nothing to test (fewer than two answers, or no variation and
// no difference).
func welchNPS(before, after tally) (p float64, ok bool) {
	if before.n < 2 || after.n < 2 {
		return 0, false
	}
	m1, v1 := npsMoments(before)
	m2, v2 := npsMoments(after)
	a, b := v1/float64(before.n), v2/float64(after.n)
	se := math.Sqrt(a + b)
	if se == 0 {
		if m1 == m2 {
			return 0, false
		}
		return 0, true
	}
	t := (m2 - m1) / se
	df := (a + b) * (a + b) / (a*a/float64(before.n-1) + b*b/float64(after.n-1))
	return 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(math.Abs(t)), true
}

// npsMoments is the mean (the NPS) and the sample variance of the
// +100/0/−100 values of a window.
func npsMoments(t tally) (mean, variance float64) {
	n := float64(t.n)
	mean = 100 * float64(t.x-t.y) / n
	squares := 100 * 100 * float64(t.x+t.y)
	return mean, (squares - n*mean*mean) / (n - 1)
}

// twoProportions is the two-sided p-value of the pooled two-proportion
// z-test of x1 of n1 against x2 of n2. ok is false when the pooled share
// is 0 or 1 (no variation to test).
func twoProportions(x1, n1, x2, n2 int) (p float64, ok bool) {
	if n1 == 0 || n2 == 0 {
		return 0, false
	}
	pooled := float64(x1+x2) / float64(n1+n2)
	se := math.Sqrt(pooled * (1 - pooled) * (1/float64(n1) + 1/float64(n2)))
	if se == 0 {
		return 0, false
	}
	z := (float64(x2)/float64(n2) - float64(x1)/float64(n1)) / se
	return math.Erfc(math.Abs(z) / math.Sqrt2), true
}

// poissonCompare tests whether two counts over windows of the same length
// come from the same Poisson rate: given their sum n, the second count is
// Binomial(n, ½) under that hypothesis, and the exact two-sided p-value is
// twice the smaller tail, at most 1.
func poissonCompare(before, after int) float64 {
	n := before + after
	if n == 0 {
		return 1
	}
	var low, high float64 // P(X ≤ after), P(X ≥ after)
	for k := 0; k <= n; k++ {
		pk := math.Exp(lchoose(n, k) - float64(n)*math.Ln2)
		if k <= after {
			low += pk
		}
		if k >= after {
			high += pk
		}
	}
	return math.Min(1, 2*math.Min(low, high))
}

func lchoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}
