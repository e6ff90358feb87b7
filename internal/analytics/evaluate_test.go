package analytics_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/analytics"
)

// EvaluateCLV fits the models on the calibration weeks of a file in the
// CDNOW sample's layout and counts the holdout's repeat transactions, a
// day's purchases being one.
func TestEvaluateCLV(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	start := time.Date(1997, 1, 1, 0, 0, 0, 0, time.UTC)
	const customers, calDays, holdDays = 200, 39*7 - 1, 39 * 7 // the last calibration day is day 272
	var b strings.Builder
	actual := 0
	for c := range customers {
		first := c % 84                // customers arrive in the first twelve weeks
		rate := 0.02 + 0.1*r.Float64() // purchases a day while active
		for day := first; day <= calDays+holdDays; {
			if day > calDays {
				actual++
			}
			for range 1 + r.IntN(2) { // a second order on the same day is the same transaction
				fmt.Fprintf(&b, "%05d %04d %s 1 %.2f\n", c+10, c+1, start.AddDate(0, 0, day).Format("20060102"), 10+50*r.Float64())
			}
			if r.Float64() < 0.15 {
				break // gone after this purchase
			}
			day += 1 + int(r.ExpFloat64()/rate)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "CDNOW_sample.txt"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := analytics.EvaluateCLV(dir, 39, 39)
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { d, _ := time.Parse("2006-01-02", s); return d }
	if rep.Customers != customers || !rep.Start.Equal(start) || !rep.CalibrationEnd.Equal(day("1997-09-30")) || !rep.HoldoutEnd.Equal(day("1998-06-30")) ||
		rep.CalibrationWeeks != 39 || rep.HoldoutWeeks != 39 {
		t.Fatalf("report: %+v", rep)
	}
	if rep.Actual != float64(actual) {
		t.Errorf("actual holdout transactions %v, want %d", rep.Actual, actual)
	}
	if p, g := rep.BGNBD, rep.GammaGamma; !(p.R > 0 && p.Alpha > 0 && p.A > 0 && p.B > 0 && g.P > 0 && g.Q > 0 && g.V > 0) {
		t.Errorf("fitted %+v %+v", p, g)
	}
	t.Logf("%d customers, holdout repeat transactions: predicted %.1f, actual %.0f", rep.Customers, rep.Predicted, rep.Actual)
	if rep.Predicted < 0.5*rep.Actual || rep.Predicted > 2*rep.Actual {
		t.Errorf("predicted %.1f holdout transactions, actual %.0f", rep.Predicted, rep.Actual)
	}
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "CDNOW_sample.txt"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := analytics.EvaluateCLV(empty, 39, 39); err == nil || !strings.Contains(err.Error(), "no transactions") {
		t.Errorf("no transactions: %v", err)
	}
}

// EvaluatePLS fits the ECSI model on a satisfaction table simulated from
// it: every path and R² is reported, and bootstrap resamples give the
// paths intervals.
func TestEvaluatePLS(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	blocks := []struct {
		prefix string
		n      int
	}{{"imag", 5}, {"expe", 5}, {"qual", 5}, {"val", 4}, {"sat", 4}, {"loy", 4}}
	var head []string
	for _, bl := range blocks {
		for i := 1; i <= bl.n; i++ {
			head = append(head, fmt.Sprintf("%s%d", bl.prefix, i))
		}
	}
	var b strings.Builder
	b.WriteString("id," + strings.Join(head, ",") + "\n")
	const rows = 250
	for i := range rows {
		e := r.NormFloat64
		imag := e()
		expe := 0.5*imag + 0.8*e()
		qual := 0.6*expe + 0.7*e()
		val := 0.3*expe + 0.5*qual + 0.7*e()
		sat := 0.2*imag + 0.2*qual + 0.4*val + 0.6*e()
		loy := 0.3*imag + 0.5*sat + 0.7*e()
		fmt.Fprintf(&b, "c%d", i)
		for j, lv := range []float64{imag, expe, qual, val, sat, loy} {
			for range blocks[j].n {
				fmt.Fprintf(&b, ",%.0f", math.Round(math.Max(1, math.Min(10, 6+1.5*lv+e()))))
			}
		}
		b.WriteString("\n")
	}
	path := filepath.Join(t.TempDir(), "satisfaction.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, err := analytics.EvaluatePLS(path, "path", true, 20)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Rows != rows || rep.Scheme != "path" || !rep.Scaled || rep.Bootstrap != 20 || len(rep.Blocks) != 6 || rep.Fit == nil {
		t.Fatalf("report: %+v", rep)
	}
	if len(rep.Fit.Paths) != 10 || len(rep.Fit.R2) != 5 || len(rep.Fit.Weights) != len(head) {
		t.Fatalf("%d paths, R² of %d, %d weights", len(rep.Fit.Paths), len(rep.Fit.R2), len(rep.Fit.Weights))
	}
	for _, p := range rep.Fit.Paths {
		if !(p.CI95[0] < p.CI95[1]) {
			t.Errorf("interval of %s→%s: %v", p.From, p.To, p.CI95)
		}
		if p.From == "SAT" && p.To == "LOY" && p.Coef < 0.2 {
			t.Errorf("SAT→LOY %.3f", p.Coef)
		}
	}
	if _, err := analytics.EvaluatePLS(filepath.Join(t.TempDir(), "none.csv"), "centroid", false, 0); err == nil {
		t.Error("a missing file was evaluated")
	}
}
