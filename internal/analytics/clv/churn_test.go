package clv

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/shareddata"
)

// AUC by average ranks agrees with counting every pair (ties half).
func TestAUCCountsPairs(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for round := range 20 {
		n := 5 + r.IntN(60)
		scores, pos := make([]float64, n), make([]bool, n)
		for i := range n {
			scores[i] = float64(r.IntN(8)) // many ties
			pos[i] = r.Float64() < 0.4
		}
		pos[0], pos[1] = true, false
		var wins float64
		var pairs int
		for i := range n {
			for j := range n {
				if pos[i] && !pos[j] {
					pairs++
					switch {
					case scores[i] > scores[j]:
						wins++
					case scores[i] == scores[j]:
						wins += 0.5
					}
				}
			}
		}
		if got, want := AUC(scores, pos), wins/float64(pairs); math.Abs(got-want) > 1e-12 {
			t.Fatalf("round %d: AUC %v, pairs say %v", round, got, want)
		}
	}
}

// The chance of buying nothing in the next t, against customers simulated
// from the model's own process after the same history.
func TestPNoPurchaseBySimulation(t *testing.T) {
	p := BGNBD{R: 0.8, Alpha: 5, A: 0.6, B: 3}
	c := Customer{X: 2, Tx: 10, T: 30}
	const horizon = 13.0
	got := p.PNoPurchase(c, horizon)
	// Draw (λ, dropout) from the priors, keep the draws whose own history
	// matches c (purchase times do not matter beyond x, tx and T: accept
	// by the likelihood of c), and see who buys in the horizon.
	r := rand.New(rand.NewPCG(7, 8))
	var weight, none float64
	for range 400_000 {
		lambda := gammaDraw(r, p.R) / p.Alpha
		drop := betaDraw(r, p.A, p.B)
		// Likelihood of the history and whether the customer is alive at T.
		base := math.Pow(1-drop, c.X) * math.Pow(lambda, c.X) * math.Exp(-lambda*c.Tx)
		aliveW := base * math.Exp(-lambda*(c.T-c.Tx))
		deadW := base * drop / (1 - drop)
		w := aliveW + deadW
		weight += w
		none += deadW + aliveW*math.Exp(-lambda*horizon)
	}
	if want := none / weight; math.Abs(got-want) > 0.01 {
		t.Fatalf("P(no purchase in %v) = %.4f, simulation %.4f", horizon, got, want)
	}
}

func gammaDraw(r *rand.Rand, shape float64) float64 { // Marsaglia–Tsang, boosted below 1
	if shape < 1 {
		return gammaDraw(r, shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := math.Pow(1+c*x, 3)
		if v > 0 && math.Log(r.Float64()) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

func betaDraw(r *rand.Rand, a, b float64) float64 {
	x, y := gammaDraw(r, a), gammaDraw(r, b)
	return x / (x + y)
}

// CDNOW's last 90 days held out: the model fitted on what came before
// ranks the customers who bought nothing in them, checked against recency
// alone, with its calibration. The figures are reported, and the check
// holds what a ranking must: better than chance, lift above 1, and
// predictions that rise with the observed rate.
func TestChurnCheckOnCDNOW(t *testing.T) {
	dir := shareddata.Dir(t, "cdnow")
	txs, err := ReadCDNOW(filepath.Join(dir, "CDNOW_sample.txt"))
	if err != nil {
		t.Fatal(err)
	}
	end := time.Date(1998, 6, 30, 0, 0, 0, 0, time.UTC)
	cut := end.AddDate(0, 0, -90)
	_, cs, holdout := Summarise(txs, cut, end, Week)
	p, err := FitBGNBD(cs)
	if err != nil {
		t.Fatal(err)
	}
	ch := CheckChurn(p, cs, holdout, float64(end.Sub(cut))/float64(Week), 1)
	t.Logf("CDNOW, last 90 days held out: %d customers, %d bought nothing; model AUC %.3f lift %.2f, recency AUC %.3f lift %.2f; gain %.3f (%.3f to %.3f): %s",
		ch.Customers, ch.Churned, ch.Model.AUC, ch.Model.LiftTop10, ch.Recency.AUC, ch.Recency.LiftTop10, ch.Gain, ch.GainLow, ch.GainHigh, ch.Verdict)
	for _, b := range ch.Calibration {
		t.Logf("  predicted %.3f, observed %.3f (%d)", b.Predicted, b.Observed, b.Customers)
	}
	if ch.Customers != 2357 || ch.Model.AUC <= 0.6 || ch.Model.LiftTop10 <= 1 || len(ch.Calibration) != 10 {
		t.Fatalf("churn check: %+v", ch)
	}
	if first, last := ch.Calibration[0], ch.Calibration[9]; last.Observed <= first.Observed || last.Predicted <= first.Predicted {
		t.Errorf("calibration does not rise: %+v", ch.Calibration)
	}
	// The counts, from the holdout itself.
	none := 0
	for _, h := range holdout {
		if h == 0 {
			none++
		}
	}
	if ch.Churned != none {
		t.Errorf("churned %d, the holdout has %d without a purchase", ch.Churned, none)
	}
}
