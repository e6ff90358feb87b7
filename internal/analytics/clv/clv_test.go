package clv

import (
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/shareddata"
)

// The series of 2F1 against values worked by hand: 2F1(1, 1; 2; z) = −ln(1−z)/z.
func TestHyp2F1(t *testing.T) {
	for _, z := range []float64{0.1, 0.5, 0.9} {
		if got, want := hyp2f1(1, 1, 2, z), -math.Log(1-z)/z; math.Abs(got-want) > 1e-10 {
			t.Fatalf("2F1(1,1;2;%v) = %v, want %v", z, got, want)
		}
	}
}

// One customer, parameters chosen by hand: the likelihood adds up its two
// paths (alive at T, or dropped after the last purchase).
func TestLogLikByHand(t *testing.T) {
	p := BGNBD{R: 1, Alpha: 1, A: 1, B: 1}
	// x = 1, tx = 1, T = 2: B(1,2)/B(1,1)·Γ(2)/(Γ(1)·3²) + B(2,1)/B(1,1)·Γ(2)/(Γ(1)·2²) = ½·1/9 + ½·¼.
	want := math.Log(0.5/9 + 0.5/4)
	if got := p.logLik(Customer{X: 1, Tx: 1, T: 2}); math.Abs(got-want) > 1e-12 {
		t.Fatalf("ll %v, want %v", got, want)
	}
	// No repeat purchase: alive for sure, and the likelihood is Gamma-Poisson's zero: (α/(α+T))^r.
	if got, want := p.logLik(Customer{T: 3}), math.Log(0.25); math.Abs(got-want) > 1e-12 {
		t.Fatalf("ll of x = 0: %v, want %v", got, want)
	}
	if pa := p.PAlive(Customer{X: 1, Tx: 1, T: 2}); math.Abs(pa-1/(1+1.0/1*9.0/4)) > 1e-12 {
		t.Fatalf("p alive %v", pa)
	}
}

// The CDNOW sample with a 39-week calibration period reproduces the
// published estimates: BG/NBD r 0.243, α 4.414, a 0.793, b 2.426, LL
// −9582.4 (Fader, Hardie & Lee 2005) and Gamma-Gamma p 6.25, q 3.74,
// v 15.44 (Fader & Hardie 2013), each within 1%.
func TestCDNOW(t *testing.T) {
	dir := shareddata.Dir(t, "cdnow")
	txs, err := ReadCDNOW(filepath.Join(dir, "CDNOW_sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	_, cs, _ := Summarise(txs, time.Date(1997, 9, 30, 0, 0, 0, 0, time.UTC), time.Date(1998, 6, 30, 0, 0, 0, 0, time.UTC), Week)
	if len(cs) != 2357 {
		t.Fatalf("%d customers", len(cs))
	}
	// The summary published with the data agrees with ours.
	f, err := os.Open(filepath.Join(dir, "cdnow_customers_summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := csv.NewReader(f).ReadAll()
	f.Close()
	for i, row := range rows[1:] {
		x, _ := strconv.ParseFloat(row[1], 64)
		tx, _ := strconv.ParseFloat(row[2], 64)
		T, _ := strconv.ParseFloat(row[3], 64)
		if cs[i].X != x || math.Abs(cs[i].Tx-tx) > 0.01 || math.Abs(cs[i].T-T) > 0.01 {
			t.Fatalf("customer %s: %+v, published %v %v %v", row[0], cs[i], x, tx, T)
		}
	}
	p, err := FitBGNBD(cs)
	if err != nil {
		t.Fatal(err)
	}
	within := func(name string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 0.01*math.Abs(want) {
			t.Errorf("%s = %.4f, published %.4f", name, got, want)
		}
	}
	within("r", p.R, 0.243)
	within("alpha", p.Alpha, 4.414)
	within("a", p.A, 0.793)
	within("b", p.B, 2.426)
	within("ll", p.LL, -9582.4)
	g, err := FitGammaGamma(cs)
	if err != nil {
		t.Fatal(err)
	}
	within("p", g.P, 6.25)
	within("q", g.Q, 3.74)
	within("v", g.V, 15.44)
	t.Logf("BG/NBD %+v, Gamma-Gamma %+v", p, g)
}
