package experience

import (
	"math"
	"testing"
)

// The interval of a difference of proportions is Newcombe's hybrid score
// interval: the expected figures are those his 1998 paper (Statistics in
// Medicine 17, table II, method 10) prints for its examples.
func TestNewcombeInterval(t *testing.T) {
	for _, c := range []struct {
		x1, n1, x0, n0 int
		lo, hi         float64
	}{
		{56, 70, 48, 80, 0.0524, 0.3339},
		{9, 10, 3, 10, 0.1705, 0.8090},
		{6, 7, 2, 7, 0.0582, 0.8062},
		{5, 56, 0, 29, -0.0381, 0.1926},
		{0, 10, 0, 20, -0.1611, 0.2775},
		{10, 10, 0, 20, 0.6791, 1},
	} {
		d, lo, hi := newcombe(c.x1, c.n1, c.x0, c.n0)
		want := float64(c.x1)/float64(c.n1) - float64(c.x0)/float64(c.n0)
		if math.Abs(d-want) > 1e-12 || math.Abs(lo-c.lo) > 0.00006 || math.Abs(hi-c.hi) > 0.00006 {
			t.Errorf("%d/%d − %d/%d: %.4f (%.4f, %.4f), want (%.4f, %.4f)", c.x1, c.n1, c.x0, c.n0, d, lo, hi, c.lo, c.hi)
		}
	}
}

// Uplift is a figure only when both arms have customers; small arms say so.
func TestUpliftMeasure(t *testing.T) {
	for _, c := range []struct {
		name                 string
		treated, holdout     Group
		measured, small, sig bool
	}{
		{"nobody yet", Group{Pending: 12}, Group{Pending: 2}, false, true, false},
		{"no holdout", Group{N: 200, Converted: 30}, Group{}, false, true, false},
		{"all converted", Group{N: 40, Converted: 40}, Group{N: 40, Converted: 0}, true, false, true},
		{"small arm", Group{N: 300, Converted: 60}, Group{N: 12, Converted: 0}, true, true, false},
		{"few conversions", Group{N: 300, Converted: 6}, Group{N: 60, Converted: 0}, true, true, false},
		{"no difference", Group{N: 400, Converted: 40}, Group{N: 100, Converted: 10}, true, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			u := Uplift{Treated: c.treated, Holdout: c.holdout}
			u.measure()
			if u.Measured != c.measured || u.SmallSample != c.small || u.Conclusive != c.sig || (c.small || !c.measured) != (u.Note != "") {
				t.Fatalf("%+v", u)
			}
			for _, v := range []float64{u.Treated.Rate, u.Holdout.Rate} {
				if v < 0 || v > 1 || math.IsNaN(v) {
					t.Fatalf("rate %v", v)
				}
			}
			if u.CILow < -1 || u.CIHigh > 1 || u.CILow > u.Uplift || u.Uplift > u.CIHigh {
				t.Fatalf("interval %+v", u)
			}
		})
	}
}
