package analytics

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/cxloop/cxloop/internal/analytics/clv"
	"github.com/cxloop/cxloop/internal/analytics/pls"
)

// CLVReport is the lifetime-value models' evaluation on the CDNOW sample:
// BG/NBD and Gamma-Gamma fitted on the calibration weeks, and the holdout
// weeks' repeat transactions forecast against those that happened.
type CLVReport struct {
	Customers int // in the calibration period
	// Start is the first purchase in the data; the calibration period ends
	// on CalibrationEnd, its last day, and the holdout on HoldoutEnd.
	Start, CalibrationEnd, HoldoutEnd time.Time
	CalibrationWeeks, HoldoutWeeks    int
	BGNBD                             clv.BGNBD
	GammaGamma                        clv.GammaGamma
	// Predicted and Actual are the holdout's repeat transactions, over
	// every customer.
	Predicted, Actual float64
}

// EvaluateCLV fits BG/NBD and Gamma-Gamma on a CDNOW folder's sample
// (CDNOW_sample.txt) over calibrationWeeks from its first purchase and
// forecasts the repeat transactions of the holdoutWeeks after them.
func EvaluateCLV(dataDir string, calibrationWeeks, holdoutWeeks int) (CLVReport, error) {
	txs, err := clv.ReadCDNOW(filepath.Join(dataDir, "CDNOW_sample.txt"))
	if err != nil {
		return CLVReport{}, err
	}
	if len(txs) == 0 {
		return CLVReport{}, errors.New("eval clv: no transactions") // the words of cxloop eval clv
	}
	r := CLVReport{Start: txs[0].At, CalibrationWeeks: calibrationWeeks, HoldoutWeeks: holdoutWeeks}
	for _, t := range txs {
		if t.At.Before(r.Start) {
			r.Start = t.At
		}
	}
	r.CalibrationEnd = r.Start.Add(time.Duration(calibrationWeeks)*clv.Week - 24*time.Hour) // the last day of the period
	r.HoldoutEnd = r.CalibrationEnd.Add(time.Duration(holdoutWeeks) * clv.Week)
	_, cs, holdout := clv.Summarise(txs, r.CalibrationEnd, r.HoldoutEnd, clv.Week)
	r.Customers = len(cs)
	if r.BGNBD, err = clv.FitBGNBD(cs); err != nil {
		return CLVReport{}, err
	}
	if r.GammaGamma, err = clv.FitGammaGamma(cs); err != nil {
		return CLVReport{}, err
	}
	for i, c := range cs {
		r.Predicted += r.BGNBD.Expected(c, float64(holdoutWeeks))
		r.Actual += holdout[i]
	}
	return r, nil
}

// PLSReport is the standard ECSI model fitted on a satisfaction table.
type PLSReport struct {
	Rows      int
	Scheme    string // the inner weighting: centroid, factorial or path
	Scaled    bool   // the manifest variables were standardised (else only centred)
	Bootstrap int    // resamples behind the paths' 95% intervals; 0: none
	// Blocks are the model's latent variables and their columns, in the
	// model's order.
	Blocks []pls.Block
	Fit    *pls.Result
}

// EvaluatePLS fits the standard ECSI model (image, expectations, quality,
// value → satisfaction → loyalty; every block reflective) on a
// satisfaction table (CSV with imag1-5, expe1-5, qual1-5, val1-4, sat1-4,
// loy1-4), with 95% intervals of the paths from bootstrap resamples when
// it is above 0.
func EvaluatePLS(path, scheme string, scaled bool, bootstrap int) (PLSReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return PLSReport{}, err
	}
	defer f.Close()
	cols, rows, err := pls.ReadCSV(f)
	if err != nil {
		return PLSReport{}, fmt.Errorf("%s: %w", path, err)
	}
	blocks, paths := pls.ECSI()
	o := pls.Options{Scheme: scheme, Scaled: scaled}
	res, err := pls.Fit(cols, rows, blocks, paths, o)
	if err != nil {
		return PLSReport{}, err
	}
	if bootstrap > 0 {
		if err := pls.Bootstrap(cols, rows, blocks, paths, o, res, bootstrap, 1); err != nil {
			return PLSReport{}, err
		}
	}
	return PLSReport{Rows: len(rows), Scheme: scheme, Scaled: scaled, Bootstrap: bootstrap, Blocks: blocks, Fit: res}, nil
}
