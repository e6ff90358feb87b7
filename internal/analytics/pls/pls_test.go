package pls

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/cxloop/cxloop/internal/shareddata"
)

// The ECSI model on the bank's satisfaction data (unscaled, centroid
// scheme) agrees with the reference implementation (R plspm, as recorded
// in the Python port's test data) to 4 decimals.
func TestECSIAgreesWithPlspm(t *testing.T) {
	f, err := os.Open(filepath.Join(shareddata.Dir(t, "ecsi-satisfaction"), "satisfaction.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cols, rows, err := ReadCSV(f)
	if err != nil {
		t.Fatal(err)
	}
	blocks, paths := ECSI()
	res, err := Fit(cols, rows, blocks, paths, Options{Scheme: "centroid"})
	if err != nil {
		t.Fatal(err)
	}
	near := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 5e-5 {
			t.Errorf("%s = %.6f, reference %.6f", name, got, want)
		}
	}
	coef := map[string]float64{}
	for _, p := range res.Paths {
		coef[p.From+"→"+p.To] = p.Coef
	}
	near("IMAG→SAT", coef["IMAG→SAT"], 0.200724200280665)
	near("EXPE→SAT", coef["EXPE→SAT"], -0.00275399457916834)
	near("QUAL→SAT", coef["QUAL→SAT"], 0.122144565609107)
	near("VAL→SAT", coef["VAL→SAT"], 0.589330650016017)
	near("R² EXPE", res.R2["EXPE"], 0.335193672418813)
	near("R² QUAL", res.R2["QUAL"], 0.719688235228933)
	near("R² VAL", res.R2["VAL"], 0.59008437279849)
	near("R² SAT", res.R2["SAT"], 0.707320949544597)
	near("R² LOY", res.R2["LOY"], 0.509922562050087)
	near("imag1", res.Weights["imag1"], 0.0982418501741741)
	near("expe5", res.Weights["expe5"], 0.138374378658729)
	near("val1", res.Weights["val1"], 0.174960810051613)
	near("loy4", res.Weights["loy4"], 0.0806690862675395)
	near("loading sat1", res.Loadings["sat1"], 0.919797990928334)
}

// Data simulated from a known model: exogenous ξ, η1 = 0.6 ξ + ε, η2 =
// 0.3 ξ + 0.5 η1 + ε, each with four reflective indicators; the estimates
// come back close to the truth, under every scheme and with mode B too.
func TestSimulated(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	const n = 2000
	cols := []string{"x1", "x2", "x3", "x4", "a1", "a2", "a3", "a4", "b1", "b2", "b3", "b4"}
	rows := make([][]float64, n)
	// Latent variables with unit variance: the structural errors fill the rest.
	e1 := math.Sqrt(1 - 0.36)
	// Var(η2) = 0.09 + 0.25 + 2·0.3·0.5·0.6 + σ² = 1 → σ² = 0.48.
	e2 := math.Sqrt(0.48)
	for i := range rows {
		xi := r.NormFloat64()
		eta1 := 0.6*xi + e1*r.NormFloat64()
		eta2 := 0.3*xi + 0.5*eta1 + e2*r.NormFloat64()
		row := make([]float64, 0, len(cols))
		for _, lv := range []float64{xi, eta1, eta2} {
			for range 4 {
				row = append(row, 0.85*lv+0.5*r.NormFloat64()+5)
			}
		}
		rows[i] = row
	}
	blocks := []Block{{Name: "XI", Columns: cols[:4]}, {Name: "ETA1", Columns: cols[4:8]}, {Name: "ETA2", Columns: cols[8:]}}
	paths := []Path{{From: "XI", To: "ETA1"}, {From: "XI", To: "ETA2"}, {From: "ETA1", To: "ETA2"}}
	for _, scheme := range []string{"centroid", "factorial", "path"} {
		res, err := Fit(cols, rows, blocks, paths, Options{Scheme: scheme, Scaled: true})
		if err != nil {
			t.Fatal(err)
		}
		// Composites of noisy indicators attenuate correlations a little (reliability ~0.93).
		for i, want := range []float64{0.6, 0.3, 0.5} {
			if got := res.Paths[i].Coef; math.Abs(got-want) > 0.06 {
				t.Errorf("%s: %s→%s = %.3f, true %.1f", scheme, res.Paths[i].From, res.Paths[i].To, got, want)
			}
		}
		if e := res.Effects["XI→ETA2"]; math.Abs(e-(res.Paths[1].Coef+res.Paths[0].Coef*res.Paths[2].Coef)) > 1e-9 {
			t.Errorf("total effect %v", e)
		}
	}
	blocks[0].Mode = "B"
	if _, err := Fit(cols, rows, blocks, paths, Options{}); err != nil {
		t.Fatalf("mode B: %v", err)
	}
	// Missing answers are filled with the column mean; the fit still runs.
	rows[3][2], rows[9][7] = math.NaN(), math.NaN()
	res, err := Fit(cols, rows, blocks, paths, Options{Scaled: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := Bootstrap(cols, rows[:300], blocks, paths, Options{Scaled: true}, res, 100, 1); err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Paths {
		if !(p.CI95[0] < p.CI95[1]) {
			t.Errorf("interval of %s→%s: %v", p.From, p.To, p.CI95)
		}
	}
}
