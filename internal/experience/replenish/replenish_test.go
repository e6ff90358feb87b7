package replenish

import (
	"math"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(days float64, q float64) Purchase {
	return Purchase{At: t0.Add(time.Duration(days * 24 * float64(time.Hour))), Quantity: q}
}

// Two bags last twice as long as one; orders within a day are one trip.
func TestMergeAndRates(t *testing.T) {
	m := Merge([]Purchase{at(20, 2), at(0, 1), at(10, 1), at(10.5, 1)})
	if len(m) != 3 || m[1].Quantity != 2 {
		t.Fatalf("merged %+v", m)
	}
	r := Rates(m)
	if len(r) != 2 || r[0] != 10 || r[1] != 5 {
		t.Fatalf("rates %v", r)
	}
}

// With no prior the rate is the geometric mean of the customer's own; the
// prior weighs as two intervals.
func TestPredict(t *testing.T) {
	m := []Purchase{at(0, 1), at(10, 1), at(30, 2)} // rates 10 and 20 days a unit
	next, rate, ok := Predict(m, Prior{})
	if !ok || math.Abs(rate-math.Sqrt(200)) > 1e-9 || math.Abs(next.Sub(t0).Hours()/24-(30+2*math.Sqrt(200))) > 1e-6 {
		t.Fatalf("no prior: %v %v %v", next, rate, ok)
	}
	prior := NewPrior([]float64{5, 5, 5})
	_, rate, _ = Predict(m, prior)
	want := math.Exp((math.Log(10) + math.Log(20) + 2*math.Log(5)) / 4)
	if math.Abs(rate-want) > 1e-9 {
		t.Fatalf("with a prior: %v, want %v", rate, want)
	}
	// A first purchase is predicted from the prior alone.
	next, _, ok = Predict([]Purchase{at(0, 3)}, prior)
	if !ok || math.Abs(next.Sub(t0).Hours()/24-15) > 1e-6 {
		t.Fatalf("first purchase: %v %v", next, ok)
	}
	if _, _, ok := Predict([]Purchase{at(0, 1)}, Prior{}); ok {
		t.Fatal("nothing to predict from")
	}
}

// A customer who varies the quantity: the model follows the units, the
// naive baseline (the last interval again) does not.
func TestBacktest(t *testing.T) {
	var buys []Purchase
	d := 0.0
	for i := range 8 {
		q := float64(1 + i%2) // 1, 2, 1, 2 … each unit lasts 10 days
		buys = append(buys, at(d, q))
		d += 10 * q
	}
	model, naive, n := Backtest(map[string][][]Purchase{"coffee": {buys}})
	if n != 6 || model > 0.001 || naive != 10 {
		t.Fatalf("model %.3f, naive %.3f, n %d", model, naive, n)
	}
}
