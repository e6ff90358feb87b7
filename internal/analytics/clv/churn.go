package clv

import (
	"math"
	"math/rand/v2"
	"sort"
)

// PNoPurchase is the probability that a customer with history c buys
// nothing in the next t: they left already, or they stay and the Poisson
// process of their purchase rate (its posterior after c) gives none in t.
// Under BG/NBD a customer leaves only just after a purchase, so this is
// exact: (1 − P(alive)) + P(alive) × ((α + T) / (α + T + t))^(r + x).
func (p BGNBD) PNoPurchase(c Customer, t float64) float64 {
	alive := p.PAlive(c)
	return (1 - alive) + alive*math.Pow((p.Alpha+c.T)/(p.Alpha+c.T+t), p.R+c.X)
}

// ChurnScore is how well a score ranks the customers who bought nothing in
// the holdout above those who bought: the area under the ROC curve (0.5 is
// chance) and the lift at the top decile (their share among the tenth
// scored highest ÷ their share among all).
type ChurnScore struct {
	AUC       float64 `json:"auc"`
	LiftTop10 float64 `json:"lift_top_decile"`
}

// CalibrationBin is one tenth of the customers by the model's predicted
// chance of buying nothing: its mean prediction and the share that did.
type CalibrationBin struct {
	Customers int     `json:"customers"`
	Predicted float64 `json:"predicted"`
	Observed  float64 `json:"observed"`
}

// ChurnCheck scores every customer at the end of a calibration period and
// checks the scores against what the holdout after it shows.
type ChurnCheck struct {
	Customers    int     `json:"customers"`
	Churned      int     `json:"churned"` // bought nothing in the holdout
	HoldoutWeeks float64 `json:"holdout_weeks"`
	// Model ranks by the BG/NBD chance of buying nothing in the holdout;
	// Recency by the weeks since the last purchase, the baseline.
	Model   ChurnScore `json:"model"`
	Recency ChurnScore `json:"recency"`
	// Gain is the model's AUC minus recency's, with its 95 % interval
	// from a paired bootstrap of the customers.
	Gain     float64 `json:"auc_gain"`
	GainLow  float64 `json:"auc_gain_low"`
	GainHigh float64 `json:"auc_gain_high"`
	// Better says whether the model ranks better than recency alone (the
	// gain's interval lies above zero); Verdict says it in words.
	Better      bool             `json:"better_than_recency"`
	Verdict     string           `json:"verdict"`
	Calibration []CalibrationBin `json:"calibration"`
}

// churnResamples is how many bootstrap resamples the gain's interval takes.
const churnResamples = 200

// CheckChurn scores customers cs (at the end of their calibration period)
// with model p for a holdout of t (in the histories' unit) and checks the
// scores against holdout, their repeat purchases in it; seed fixes the
// bootstrap.
func CheckChurn(p BGNBD, cs []Customer, holdout []float64, t float64, seed uint64) ChurnCheck {
	n := len(cs)
	out := ChurnCheck{Customers: n, HoldoutWeeks: t, Calibration: []CalibrationBin{}}
	model, recency := make([]float64, n), make([]float64, n)
	churned := make([]bool, n)
	for i, c := range cs {
		model[i] = p.PNoPurchase(c, t)
		recency[i] = c.T - c.Tx
		churned[i] = holdout[i] == 0
		if churned[i] {
			out.Churned++
		}
	}
	if out.Churned == 0 || out.Churned == n {
		out.Verdict = "not checked: every customer bought in the holdout, or none did"
		return out
	}
	out.Model = ChurnScore{AUC: AUC(model, churned), LiftTop10: liftTop10(model, churned)}
	out.Recency = ChurnScore{AUC: AUC(recency, churned), LiftTop10: liftTop10(recency, churned)}
	out.Gain = out.Model.AUC - out.Recency.AUC
	r := rand.New(rand.NewPCG(seed, 0xc4a7))
	gains := make([]float64, 0, churnResamples)
	bm, br, bc := make([]float64, n), make([]float64, n), make([]bool, n)
	for range churnResamples {
		for i := range n {
			j := r.IntN(n)
			bm[i], br[i], bc[i] = model[j], recency[j], churned[j]
		}
		gains = append(gains, AUC(bm, bc)-AUC(br, bc))
	}
	sort.Float64s(gains)
	out.GainLow, out.GainHigh = gains[int(0.025*churnResamples)], gains[int(0.975*churnResamples)-1]
	out.Better = out.GainLow > 0
	switch {
	case out.Better:
		out.Verdict = "the model ranks those who leave better than recency alone"
	case out.GainHigh < 0:
		out.Verdict = "the model ranks those who leave worse than recency alone: rank by recency"
	default:
		out.Verdict = "the model does no better than recency alone"
	}
	// Calibration: tenths of the customers by prediction.
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return model[order[a]] < model[order[b]] })
	for d := range 10 {
		lo, hi := d*n/10, (d+1)*n/10
		if hi <= lo {
			continue
		}
		b := CalibrationBin{Customers: hi - lo}
		for _, i := range order[lo:hi] {
			b.Predicted += model[i]
			if churned[i] {
				b.Observed++
			}
		}
		b.Predicted /= float64(b.Customers)
		b.Observed /= float64(b.Customers)
		out.Calibration = append(out.Calibration, b)
	}
	return out
}

// AUC is the area under the ROC curve of scores for the positives: the
// chance that a positive scores above a negative, ties counted half (the
// Mann–Whitney statistic from average ranks).
func AUC(scores []float64, positive []bool) float64 {
	n := len(scores)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return scores[order[a]] < scores[order[b]] })
	var rankSum float64
	var pos int
	for i := 0; i < n; {
		j := i
		for j < n && scores[order[j]] == scores[order[i]] {
			j++
		}
		rank := float64(i+j+1) / 2 // ranks i+1 … j, averaged
		for k := i; k < j; k++ {
			if positive[order[k]] {
				rankSum += rank
				pos++
			}
		}
		i = j
	}
	neg := n - pos
	if pos == 0 || neg == 0 {
		return math.NaN()
	}
	return (rankSum - float64(pos)*float64(pos+1)/2) / (float64(pos) * float64(neg))
}

// Score is a ChurnScore of any scores: their AUC and top-decile lift.
func Score(scores []float64, positive []bool) ChurnScore {
	return ChurnScore{AUC: AUC(scores, positive), LiftTop10: liftTop10(scores, positive)}
}

// liftTop10 is the positives' share among the tenth of customers scored
// highest over their share among all (ties at the cut taken in order of
// the customers).
func liftTop10(scores []float64, positive []bool) float64 {
	n := len(scores)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return scores[order[a]] > scores[order[b]] })
	top := max(1, n/10)
	var inTop, all int
	for k, i := range order {
		if positive[i] {
			all++
			if k < top {
				inTop++
			}
		}
	}
	if all == 0 {
		return math.NaN()
	}
	return (float64(inTop) / float64(top)) / (float64(all) / float64(n))
}
