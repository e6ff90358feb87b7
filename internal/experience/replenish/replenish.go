// Package replenish predicts when a customer's need for a product returns:
// an inter-purchase-time model per customer and product that reads the
// time between purchases per unit bought (two bags last twice as long as
// one), shrunk toward the product's population rate when the customer has
// few purchases.
package replenish

import (
	"math"
	"slices"
	"time"
)

// Purchase is one purchase of a product: when, and how many units.
type Purchase struct {
	At       time.Time
	Quantity float64
}

const day = 24 * time.Hour

// Merge sorts purchases and joins those less than a day apart (one
// shopping trip split over two orders).
func Merge(list []Purchase) []Purchase {
	s := slices.Clone(list)
	slices.SortFunc(s, func(a, b Purchase) int { return a.At.Compare(b.At) })
	var out []Purchase
	for _, p := range s {
		if p.Quantity <= 0 {
			p.Quantity = 1
		}
		if n := len(out); n > 0 && p.At.Sub(out[n-1].At) < day {
			out[n-1].Quantity += p.Quantity
			continue
		}
		out = append(out, p)
	}
	return out
}

// Rates are the days each unit lasted: the time to the next purchase
// divided by the units bought.
func Rates(merged []Purchase) []float64 {
	var out []float64
	for i := 1; i < len(merged); i++ {
		out = append(out, merged[i].At.Sub(merged[i-1].At).Hours()/24/merged[i-1].Quantity)
	}
	return out
}

// Prior is a product's population rate: the mean of the logarithm of the
// days a unit lasts, over every customer's rates.
type Prior struct {
	LogRate float64
	N       int
}

// NewPrior summarises rates of many customers.
func NewPrior(rates []float64) Prior {
	p := Prior{}
	for _, r := range rates {
		if r > 0 {
			p.LogRate += math.Log(r)
			p.N++
		}
	}
	if p.N > 0 {
		p.LogRate /= float64(p.N)
	}
	return p
}

// Strength is how many of the customer's own intervals the population
// prior weighs as.
const Strength = 2.0

// Predict returns when the need returns after the last purchase, and the
// days a unit lasts for this customer: the geometric mean of their rates
// shrunk toward the prior. ok is false with neither history nor prior.
func Predict(merged []Purchase, prior Prior) (next time.Time, rate float64, ok bool) {
	if len(merged) == 0 {
		return time.Time{}, 0, false
	}
	sum, n := 0.0, 0.0
	for _, r := range Rates(merged) {
		if r > 0 {
			sum += math.Log(r)
			n++
		}
	}
	w := 0.0
	if prior.N > 0 {
		w = Strength
	}
	if n+w == 0 {
		return time.Time{}, 0, false
	}
	rate = math.Exp((sum + w*prior.LogRate) / (n + w))
	last := merged[len(merged)-1]
	return last.At.Add(time.Duration(rate * last.Quantity * float64(day))), rate, true
}

// Backtest replays each series (one customer and product) purchase by
// purchase: from the third purchase on, the model predicts it from the
// purchases before it and the product's prior without this customer, and
// the naive baseline predicts the last interval again. It returns the mean
// absolute error in days of each and how many predictions were made.
func Backtest(series map[string][][]Purchase) (model, naive float64, n int) {
	for _, customers := range series {
		all := make([][]float64, len(customers))
		var total []float64
		for i, c := range customers {
			all[i] = Rates(Merge(c))
			total = append(total, all[i]...)
		}
		for i, c := range customers {
			m := Merge(c)
			if len(m) < 3 {
				continue
			}
			others := make([]float64, 0, len(total))
			for j, r := range all {
				if j != i {
					others = append(others, r...)
				}
			}
			prior := NewPrior(others)
			for k := 2; k < len(m); k++ {
				next, _, ok := Predict(m[:k], prior)
				if !ok {
					continue
				}
				actual := m[k].At
				model += math.Abs(next.Sub(actual).Hours() / 24)
				naiveNext := m[k-1].At.Add(m[k-1].At.Sub(m[k-2].At))
				naive += math.Abs(naiveNext.Sub(actual).Hours() / 24)
				n++
			}
		}
	}
	if n > 0 {
		model, naive = model/float64(n), naive/float64(n)
	}
	return model, naive, n
}
