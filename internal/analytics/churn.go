package analytics

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	"github.com/cxloop/cxloop/internal/analytics/clv"
)

// ChurnReport is the value model's churn check on some orders: the model
// fitted on every order before the last holdout days, each customer scored
// at that cut-off by their chance of buying nothing in the holdout, and the
// scores checked against what the holdout shows, beside recency alone.
type ChurnReport struct {
	Source      string         `json:"source"`
	Cut         time.Time      `json:"cut"` // the calibration's end, the holdout's start
	End         time.Time      `json:"end"`
	HoldoutDays int            `json:"holdout_days"`
	BGNBD       clv.BGNBD      `json:"bgnbd"`
	Check       clv.ChurnCheck `json:"check"`
}

// ChurnHoldoutDays is the holdout of a churn check unless told otherwise.
const ChurnHoldoutDays = 90

// CheckChurn runs the churn check on transactions whose last day is the
// end: the last holdoutDays are held out.
func CheckChurn(source string, txs []clv.Transaction, holdoutDays int) (ChurnReport, error) {
	if len(txs) == 0 {
		return ChurnReport{}, errors.New("no orders to check the value model on")
	}
	if holdoutDays < 1 {
		return ChurnReport{}, errors.New("the holdout is at least a day")
	}
	r := ChurnReport{Source: source, HoldoutDays: holdoutDays}
	for _, t := range txs {
		if t.At.After(r.End) {
			r.End = t.At
		}
	}
	r.End = r.End.Truncate(24 * time.Hour)
	r.Cut = r.End.AddDate(0, 0, -holdoutDays)
	_, cs, holdout := clv.Summarise(txs, r.Cut, r.End, clv.Week)
	if len(cs) < 30 {
		return ChurnReport{}, errors.New("fewer than 30 customers ordered before the holdout: nothing to check")
	}
	var err error
	if r.BGNBD, err = clv.FitBGNBD(cs); err != nil {
		return ChurnReport{}, err
	}
	r.Check = clv.CheckChurn(r.BGNBD, cs, holdout, float64(r.End.Sub(r.Cut))/float64(clv.Week), 1)
	return r, nil
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
	return CheckChurn("orders", txs, holdoutDays)
}
