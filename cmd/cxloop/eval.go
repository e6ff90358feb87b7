package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/cxloop/cxloop/internal/analytics/clv"
	"github.com/cxloop/cxloop/internal/analytics/pls"
	"github.com/cxloop/cxloop/internal/experience/recommend"
)

func eval(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 0 && args[0] == "replenish" {
		return evalReplenish(ctx, args[1:], out)
	}
	if len(args) > 0 && args[0] == "clv" {
		return evalCLV(args[1:], out)
	}
	if len(args) > 0 && args[0] == "pls" {
		return evalPLS(args[1:], out)
	}
	if len(args) == 0 || args[0] != "recommend" {
		return errors.New("eval: name what to evaluate: recommend, replenish, clv or pls")
	}
	fs := flag.NewFlagSet("eval recommend", flag.ContinueOnError)
	data := fs.String("data", "", "a MovieLens folder (ratings.csv: userId,movieId,rating,timestamp)")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *data == "" {
		return errors.New("eval recommend needs --data FOLDER")
	}
	list, err := recommend.ReadMovieLens(filepath.Join(*data, "ratings.csv"))
	if err != nil {
		return err
	}
	results := recommend.LeaveLastOut(list, recommend.Standard()...)
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"models": results, "interactions": len(list)})
	}
	fmt.Fprintf(out, "%d interactions; per user the latest held out, ranked against every item the user has not interacted with\n\n", len(list))
	fmt.Fprintf(out, "%-12s %8s %8s %8s\n", "model", "HR@10", "NDCG@10", "users")
	for _, r := range results {
		fmt.Fprintf(out, "%-12s %8.4f %8.4f %8d\n", r.Name, r.HR10, r.NDCG10, r.Users)
	}
	return nil
}

// evalReplenish backtests the replenishment model on a database's orders.
func evalReplenish(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("eval replenish", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the result as JSON")
	a, err := open(ctx, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	model, naive, n, err := a.Exp.Backtest(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return json.NewEncoder(out).Encode(map[string]any{"predictions": n, "model_mae_days": model, "naive_mae_days": naive})
	}
	if n == 0 {
		fmt.Fprintln(out, "no customer bought a product three times or more: nothing to backtest")
		return nil
	}
	fmt.Fprintf(out, "%d predicted repurchases (each customer and product from the third purchase on)\n\n", n)
	fmt.Fprintf(out, "%-52s %10s\n", "", "MAE (days)")
	fmt.Fprintf(out, "%-52s %10.2f\n", "model: days per unit, shrunk to the product's prior", model)
	fmt.Fprintf(out, "%-52s %10.2f\n", "naive: the customer's last interval again", naive)
	if naive > 0 {
		fmt.Fprintf(out, "\nthe model's error is %.0f%% of the naive baseline's\n", 100*model/naive)
	}
	return nil
}

// evalCLV fits BG/NBD and Gamma-Gamma on the CDNOW sample's calibration
// weeks and forecasts the holdout weeks' repeat transactions.
func evalCLV(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("eval clv", flag.ContinueOnError)
	data := fs.String("data", "", "the CDNOW folder (CDNOW_sample.txt)")
	calWeeks := fs.Int("calibration-weeks", 39, "weeks of the calibration period, from the first purchase in the data")
	holdWeeks := fs.Int("holdout-weeks", 39, "weeks of the holdout period after it")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		return errors.New("eval clv needs --data FOLDER")
	}
	txs, err := clv.ReadCDNOW(filepath.Join(*data, "CDNOW_sample.txt"))
	if err != nil {
		return err
	}
	if len(txs) == 0 {
		return errors.New("eval clv: no transactions")
	}
	start := txs[0].At
	for _, t := range txs {
		if t.At.Before(start) {
			start = t.At
		}
	}
	calEnd := start.Add(time.Duration(*calWeeks)*clv.Week - 24*time.Hour) // the last day of the period
	holdEnd := calEnd.Add(time.Duration(*holdWeeks) * clv.Week)
	_, cs, holdout := clv.Summarise(txs, calEnd, holdEnd, clv.Week)
	p, err := clv.FitBGNBD(cs)
	if err != nil {
		return err
	}
	g, err := clv.FitGammaGamma(cs)
	if err != nil {
		return err
	}
	predicted, actual := 0.0, 0.0
	for i, c := range cs {
		predicted += p.Expected(c, float64(*holdWeeks))
		actual += holdout[i]
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"customers": len(cs), "bgnbd": p, "gamma_gamma": g,
			"holdout": map[string]any{"weeks": *holdWeeks, "predicted": predicted, "actual": actual}})
	}
	fmt.Fprintf(out, "%d customers; calibration %s – %s (%d weeks), holdout to %s (%d weeks)\n\n", len(cs), start.Format("2006-01-02"),
		calEnd.Format("2006-01-02"), *calWeeks, holdEnd.Format("2006-01-02"), *holdWeeks)
	fmt.Fprintf(out, "BG/NBD       r = %.4f   alpha = %.4f   a = %.4f   b = %.4f   log-likelihood = %.2f\n", p.R, p.Alpha, p.A, p.B, p.LL)
	fmt.Fprintf(out, "Gamma-Gamma  p = %.4f   q = %.4f   v = %.4f   log-likelihood = %.2f\n\n", g.P, g.Q, g.V, g.LL)
	fmt.Fprintf(out, "holdout repeat transactions: predicted %.1f, actual %.0f (%+.1f%%)\n", predicted, actual, 100*(predicted-actual)/actual)
	return nil
}

// evalPLS fits the standard ECSI model (image, expectations, quality,
// value → satisfaction → loyalty; every block reflective) on a
// satisfaction table and prints path coefficients, R² and outer weights.
func evalPLS(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("eval pls", flag.ContinueOnError)
	data := fs.String("data", "", "the satisfaction table (CSV with imag1-5, expe1-5, qual1-5, val1-4, sat1-4, loy1-4)")
	scheme := fs.String("scheme", "centroid", "inner weighting: centroid, factorial or path")
	scaled := fs.Bool("scaled", false, "standardise the manifest variables (by default they are only centred)")
	boot := fs.Int("bootstrap", 0, "resamples for 95% intervals of the paths (0: none)")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *data == "" {
		return errors.New("eval pls needs --data FILE.csv")
	}
	f, err := os.Open(*data)
	if err != nil {
		return err
	}
	defer f.Close()
	cols, rows, err := pls.ReadCSV(f)
	if err != nil {
		return fmt.Errorf("%s: %w", *data, err)
	}
	blocks, paths := pls.ECSI()
	o := pls.Options{Scheme: *scheme, Scaled: *scaled}
	res, err := pls.Fit(cols, rows, blocks, paths, o)
	if err != nil {
		return err
	}
	if *boot > 0 {
		if err := pls.Bootstrap(cols, rows, blocks, paths, o, res, *boot, 1); err != nil {
			return err
		}
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"paths": res.Paths, "r2": res.R2, "weights": res.Weights, "loadings": res.Loadings, "iterations": res.Iter,
			"scheme": *scheme, "scaled": *scaled, "rows": len(rows)})
	}
	fmt.Fprintf(out, "ECSI model on %d rows, %s scheme, %s data, %d iterations\n\npaths\n", len(rows), *scheme,
		map[bool]string{true: "standardised", false: "centred"}[*scaled], res.Iter)
	for _, p := range res.Paths {
		fmt.Fprintf(out, "  %-5s → %-5s %8.4f", p.From, p.To, p.Coef)
		if *boot > 0 {
			fmt.Fprintf(out, "   [%.4f, %.4f]", p.CI95[0], p.CI95[1])
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintln(out, "\nR²")
	for _, b := range blocks {
		if v, ok := res.R2[b.Name]; ok {
			fmt.Fprintf(out, "  %-5s %8.4f\n", b.Name, v)
		}
	}
	fmt.Fprintln(out, "\nouter weights (loadings)")
	for _, b := range blocks {
		for _, c := range b.Columns {
			fmt.Fprintf(out, "  %-6s %8.4f  (%.4f)\n", c, res.Weights[c], res.Loadings[c])
		}
	}
	return nil
}
