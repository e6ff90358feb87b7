// Package clv fits the BG/NBD model of repeat buying (Fader, Hardie & Lee
// 2005) and the Gamma-Gamma model of spend per transaction (Fader &
// Hardie 2013) by maximum likelihood, and from them a customer's
// probability of being alive, expected purchases, expected spend and
// discounted lifetime value.
package clv

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/diff/fd"
	"gonum.org/v1/gonum/optimize"
)

// Customer is one customer's history in the calibration period, in some
// time unit (weeks in the literature): X repeat transactions, the last at
// Tx after the first, observed for T since the first; M the mean value of
// the repeat transactions.
type Customer struct {
	X, Tx, T float64
	M        float64
}

// BGNBD are the model's parameters: purchase rates Gamma(r, α), dropout
// probabilities Beta(a, b).
type BGNBD struct {
	R     float64 `json:"r"`
	Alpha float64 `json:"alpha"`
	A     float64 `json:"a"`
	B     float64 `json:"b"`
	LL    float64 `json:"ll"`
}

func lbeta(a, b float64) float64 {
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	return la + lb - lab
}

func lgamma(x float64) float64 { v, _ := math.Lgamma(x); return v }

// logLik is one customer's log-likelihood under p.
func (p BGNBD) logLik(c Customer) float64 {
	r, al, a, b := p.R, p.Alpha, p.A, p.B
	common := lgamma(r+c.X) - lgamma(r) + r*math.Log(al)
	l1 := common + lbeta(a, b+c.X) - lbeta(a, b) - (r+c.X)*math.Log(al+c.T)
	if c.X == 0 {
		return l1
	}
	l2 := common + lbeta(a+1, b+c.X-1) - lbeta(a, b) - (r+c.X)*math.Log(al+c.Tx)
	m := math.Max(l1, l2)
	return m + math.Log(math.Exp(l1-m)+math.Exp(l2-m))
}

// LogLik is the total log-likelihood of the customers under p.
func (p BGNBD) LogLik(cs []Customer) float64 {
	s := 0.0
	for _, c := range cs {
		s += p.logLik(c)
	}
	return s
}

// fit maximises ll over positive parameters (optimised on their logs):
// Nelder–Mead to get close, then BFGS with a numerical gradient to settle.
func fit(start []float64, ll func(p []float64) float64) ([]float64, error) {
	x0 := make([]float64, len(start))
	for i, v := range start {
		x0[i] = math.Log(v)
	}
	exp := func(x []float64) []float64 {
		p := make([]float64, len(x))
		for i, v := range x {
			p[i] = math.Exp(v)
		}
		return p
	}
	f := func(x []float64) float64 {
		v := -ll(exp(x))
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return math.MaxFloat64 / 4
		}
		return v
	}
	res, err := optimize.Minimize(optimize.Problem{Func: f}, x0, &optimize.Settings{MajorIterations: 5000}, &optimize.NelderMead{})
	if err != nil && res == nil {
		return nil, err
	}
	x := res.X
	grad := func(g, x []float64) { fd.Gradient(g, f, x, &fd.Settings{Formula: fd.Central}) }
	if res2, err := optimize.Minimize(optimize.Problem{Func: f, Grad: grad}, x, nil, &optimize.BFGS{}); err == nil || (res2 != nil && res2.F <= res.F) {
		if res2 != nil && res2.F <= res.F {
			x = res2.X
		}
	}
	return exp(x), nil
}

// FitBGNBD estimates the BG/NBD parameters by maximum likelihood.
func FitBGNBD(cs []Customer) (BGNBD, error) {
	if len(cs) == 0 {
		return BGNBD{}, errors.New("clv: no customers to fit")
	}
	p, err := fit([]float64{1, 1, 1, 1}, func(p []float64) float64 {
		return BGNBD{R: p[0], Alpha: p[1], A: p[2], B: p[3]}.LogLik(cs)
	})
	if err != nil {
		return BGNBD{}, err
	}
	out := BGNBD{R: p[0], Alpha: p[1], A: p[2], B: p[3]}
	out.LL = out.LogLik(cs)
	return out, nil
}

// PAlive is the probability that a customer with history c is still active.
func (p BGNBD) PAlive(c Customer) float64 {
	if c.X == 0 {
		return 1
	}
	r, al, a, b := p.R, p.Alpha, p.A, p.B
	d := math.Exp(math.Log(a) - math.Log(b+c.X-1) + (r+c.X)*(math.Log(al+c.T)-math.Log(al+c.Tx)))
	return 1 / (1 + d)
}

// Expected is the expected number of purchases in the next t for a
// customer with history c.
func (p BGNBD) Expected(c Customer, t float64) float64 {
	r, al, a, b := p.R, p.Alpha, p.A, p.B
	if t <= 0 {
		return 0
	}
	z := t / (al + c.T + t)
	h := hyp2f1(r+c.X, b+c.X, a+b+c.X-1, z)
	num := (a + b + c.X - 1) / (a - 1) * (1 - math.Pow((al+c.T)/(al+c.T+t), r+c.X)*h)
	den := 1.0
	if c.X > 0 {
		den += a / (b + c.X - 1) * math.Pow((al+c.T)/(al+c.Tx), r+c.X)
	}
	return num / den
}

// hyp2f1 is the Gauss hypergeometric function 2F1(a, b; c; z) for 0 ≤ z < 1,
// summed as its series.
func hyp2f1(a, b, c, z float64) float64 {
	term, sum := 1.0, 1.0
	for n := 0; n < 100000; n++ {
		fn := float64(n)
		term *= (a + fn) * (b + fn) / ((c + fn) * (fn + 1)) * z
		sum += term
		if math.Abs(term) < 1e-15*math.Abs(sum) {
			break
		}
	}
	return sum
}

// GammaGamma are the spend model's parameters: a customer's transactions
// vary around their mean with shape p; means vary across customers as
// Gamma(q, v).
type GammaGamma struct {
	P  float64 `json:"p"`
	Q  float64 `json:"q"`
	V  float64 `json:"v"`
	LL float64 `json:"ll"`
}

// LogLik is the log-likelihood of the mean spend of the customers with
// repeat transactions (up to the constant that does not move the fit).
func (g GammaGamma) LogLik(cs []Customer) float64 {
	s := 0.0
	for _, c := range cs {
		if c.X <= 0 || c.M <= 0 {
			continue
		}
		px := g.P * c.X
		s += lgamma(px+g.Q) - lgamma(px) - lgamma(g.Q) + g.Q*math.Log(g.V) + (px-1)*math.Log(c.M) + px*math.Log(c.X) -
			(px+g.Q)*math.Log(px*c.M/g.P+g.V)
	}
	return s
}

// FitGammaGamma estimates the spend model on customers with repeat transactions.
func FitGammaGamma(cs []Customer) (GammaGamma, error) {
	n := 0
	for _, c := range cs {
		if c.X > 0 && c.M > 0 {
			n++
		}
	}
	if n == 0 {
		return GammaGamma{}, errors.New("clv: no repeat transactions to fit spend on")
	}
	p, err := fit([]float64{1, 1, 1}, func(p []float64) float64 { return GammaGamma{P: p[0], Q: p[1], V: p[2]}.LogLik(cs) })
	if err != nil {
		return GammaGamma{}, err
	}
	out := GammaGamma{P: p[0], Q: p[1], V: p[2]}
	out.LL = out.LogLik(cs)
	return out, nil
}

// Spend is the expected mean transaction value of a customer: their own
// mean shrunk toward the population's.
func (g GammaGamma) Spend(c Customer) float64 {
	pop := g.P * g.V / (g.Q - 1)
	if c.X <= 0 || c.M <= 0 {
		return pop
	}
	w := (g.Q - 1) / (g.P*c.X + g.Q - 1)
	return w*pop + (1-w)*c.M
}

// Value is a customer's discounted lifetime value over horizon periods
// (of the data's unit), with a discount rate per period: the expected
// purchases in each period, discounted, times the expected spend.
func Value(p BGNBD, g GammaGamma, c Customer, horizon int, rate float64) float64 {
	spend := g.Spend(c)
	v, prev := 0.0, 0.0
	for i := 1; i <= horizon; i++ {
		e := p.Expected(c, float64(i))
		v += (e - prev) / math.Pow(1+rate, float64(i))
		prev = e
	}
	return v * spend
}
