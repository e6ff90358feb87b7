package analytics

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/cxloop/cxloop/internal/analytics/clv"
)

// ChurnReport is the value model's churn check on some orders: the model
// fitted on every order before the last holdout days, each customer scored
// at that cut-off by their chance of buying nothing in the holdout, and the
// scores checked against what the holdout shows, beside recency alone.
type ChurnReport struct {
	Source      string    `json:"source"`
	Cut         time.Time `json:"cut"` // the calibration's end, the holdout's start
	End         time.Time `json:"end"`
	HoldoutDays int       `json:"holdout_days"`
	BGNBD       clv.BGNBD `json:"bgnbd"`
	// Dropout is the fitted chance that a customer leaves after an order
	// (a ÷ (a + b)); Note says when it is too small for the model's
	// chance of a customer being alive to mean anything.
	Dropout float64        `json:"dropout"`
	Note    string         `json:"note,omitempty"`
	Check   clv.ChurnCheck `json:"check"`
	// BestLift is the highest top-decile lift possible: 1 ÷ the share who
	// ordered nothing (a tenth can hold no more than all of them).
	BestLift float64 `json:"best_lift"`
	// Risk is the same check of the risk score the console shows (half
	// the chance of no order in the holdout, plus the signals: an unhappy
	// answer, a negative word, a return, an open case), computed at the
	// cut-off from the signals before it: on a database's orders only.
	Risk *clv.ChurnScore `json:"risk,omitempty"`
}

// MinDropout is the fitted chance of leaving after an order below which
// the value model is said to assume that nobody leaves.
const MinDropout = 0.01

// ChurnHoldoutDays is the holdout of a churn check unless told otherwise.
const ChurnHoldoutDays = 90

// CheckChurn runs the churn check on transactions whose last day is the
// end: the last holdoutDays are held out.
func CheckChurn(source string, txs []clv.Transaction, holdoutDays int) (ChurnReport, error) {
	r, _, _, _, err := checkChurn(source, txs, holdoutDays)
	return r, err
}

// checkChurn is CheckChurn with the customers it checked: their ids,
// their histories at the cut-off and their repeat orders in the holdout.
func checkChurn(source string, txs []clv.Transaction, holdoutDays int) (ChurnReport, []string, []clv.Customer, []float64, error) {
	if len(txs) == 0 {
		return ChurnReport{}, nil, nil, nil, errors.New("no orders to check the value model on")
	}
	if holdoutDays < 1 {
		return ChurnReport{}, nil, nil, nil, errors.New("the holdout is at least a day")
	}
	r := ChurnReport{Source: source, HoldoutDays: holdoutDays}
	for _, t := range txs {
		if t.At.After(r.End) {
			r.End = t.At
		}
	}
	r.End = r.End.Truncate(24 * time.Hour)
	r.Cut = r.End.AddDate(0, 0, -holdoutDays)
	ids, cs, holdout := clv.Summarise(txs, r.Cut, r.End, clv.Week)
	if len(cs) < 30 {
		return ChurnReport{}, nil, nil, nil, errors.New("fewer than 30 customers ordered before the holdout: nothing to check")
	}
	var err error
	if r.BGNBD, err = clv.FitBGNBD(cs); err != nil {
		return ChurnReport{}, nil, nil, nil, err
	}
	r.Check = clv.CheckChurn(r.BGNBD, cs, holdout, float64(r.End.Sub(r.Cut))/float64(clv.Week), 1)
	r.Dropout = r.BGNBD.A / (r.BGNBD.A + r.BGNBD.B)
	if r.Dropout < MinDropout {
		r.Note = fmt.Sprintf("the fitted chance of leaving after an order is %.2f %%: the model assumes almost nobody leaves, so its chance of a customer being alive says little and its ranking comes from purchase rates alone", 100*r.Dropout)
	}
	if r.Check.Churned > 0 {
		r.BestLift = float64(r.Check.Customers) / float64(r.Check.Churned)
	}
	return r, ids, cs, holdout, nil
}

// CheckChurnCDNOW is the churn check on a CDNOW folder's sample.
func CheckChurnCDNOW(dataDir string, holdoutDays int) (ChurnReport, error) {
	txs, err := clv.ReadCDNOW(filepath.Join(dataDir, "CDNOW_sample.txt"))
	if err != nil {
		return ChurnReport{}, err
	}
	return CheckChurn("CDNOW sample", txs, holdoutDays)
}

// CheckChurn is the churn check on the business's own orders (refunds
// left out), by customer as the value model reads them.
func (s *Service) CheckChurn(ctx context.Context, holdoutDays int) (ChurnReport, error) {
	hist, err := s.histories(ctx)
	if err != nil {
		return ChurnReport{}, err
	}
	var txs []clv.Transaction
	for c, ps := range hist {
		for _, p := range ps {
			txs = append(txs, clv.Transaction{Customer: c, At: time.UnixMilli(p.day * 86400000).UTC(), Value: p.value})
		}
	}
	r, ids, cs, holdout, err := checkChurn("orders", txs, holdoutDays)
	if err != nil {
		return r, err
	}
	// The risk score as it stood at the cut-off: the model's chance of
	// still buying then, and the signals before it.
	sig, err := s.signals(ctx, r.Cut)
	if err != nil {
		return r, err
	}
	scores, churned := make([]float64, len(cs)), make([]bool, len(cs))
	for i, c := range cs {
		sg := sig[ids[i]]
		if sg == nil {
			sg = &signal{}
		}
		scores[i], churned[i] = riskScore(r.BGNBD.PNoPurchase(c, float64(holdoutDays)/7), sg), holdout[i] == 0
	}
	risk := clv.Score(scores, churned)
	r.Risk = &risk
	return r, nil
}
