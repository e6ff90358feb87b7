package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/cxloop/cxloop/internal/app"
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
	if len(args) > 0 && args[0] == "churn" {
		return evalChurn(ctx, args[1:], out)
	}
	if len(args) == 0 || args[0] != "recommend" {
		return errors.New("eval: name what to evaluate: recommend, replenish, clv, churn or pls")
	}
	fs := flag.NewFlagSet("eval recommend", flag.ContinueOnError)
	data := fs.String("data", "", "a MovieLens folder (ratings.csv: userId,movieId,rating,timestamp), instead of a database's own interactions")
	asJSON := fs.Bool("json", false, "print the results as JSON")
	db := dbFlag(fs)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	var rep app.RecommendReport
	var err error
	if *data != "" {
		rep, err = app.EvaluateRecommend(*data)
	} else {
		var a *app.App
		if a, err = app.New(ctx, app.Config{DB: *db, Logger: logger()}); err != nil {
			return err
		}
		defer a.Close()
		rep, err = a.Exp.EvaluateRecommendOwn(ctx)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"models": rep.Models, "validation": rep.Validation, "interactions": rep.Interactions})
	}
	fmt.Fprintf(out, "%d interactions; per user the latest held out, ranked against every item the user has not interacted with\n\n", rep.Interactions)
	table := func(list []app.RecommendResult) {
		fmt.Fprintf(out, "%-12s %8s %8s %9s %9s %8s\n", "model", "HR@10", "NDCG@10", "coverage", "training", "users")
		for _, r := range list {
			fmt.Fprintf(out, "%-12s %8.4f %8.4f %8.1f%% %8.2fs %8d\n", r.Name, r.HR10, r.NDCG10, 100*r.Coverage, r.TrainSeconds, r.Users)
		}
	}
	table(rep.Models)
	fmt.Fprintf(out, "\nvalidation: the second-to-last held out, the latest left out (where the settings are chosen)\n\n")
	table(rep.Validation)
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
	r, err := app.EvaluateCLV(*data, *calWeeks, *holdWeeks)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"customers": r.Customers, "bgnbd": r.BGNBD, "gamma_gamma": r.GammaGamma,
			"holdout": map[string]any{"weeks": r.HoldoutWeeks, "predicted": r.Predicted, "actual": r.Actual}})
	}
	p, g := r.BGNBD, r.GammaGamma
	fmt.Fprintf(out, "%d customers; calibration %s – %s (%d weeks), holdout to %s (%d weeks)\n\n", r.Customers, r.Start.Format("2006-01-02"),
		r.CalibrationEnd.Format("2006-01-02"), r.CalibrationWeeks, r.HoldoutEnd.Format("2006-01-02"), r.HoldoutWeeks)
	fmt.Fprintf(out, "BG/NBD       r = %.4f   alpha = %.4f   a = %.4f   b = %.4f   log-likelihood = %.2f\n", p.R, p.Alpha, p.A, p.B, p.LL)
	fmt.Fprintf(out, "Gamma-Gamma  p = %.4f   q = %.4f   v = %.4f   log-likelihood = %.2f\n\n", g.P, g.Q, g.V, g.LL)
	fmt.Fprintf(out, "holdout repeat transactions: predicted %.1f, actual %.0f (%+.1f%%)\n", r.Predicted, r.Actual, 100*(r.Predicted-r.Actual)/r.Actual)
	return nil
}

// evalChurn checks the value model's churn scores on a holdout of the last
// days of a database's orders (--db) or of the CDNOW sample (--data).
func evalChurn(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("eval churn", flag.ContinueOnError)
	data := fs.String("data", "", "the CDNOW folder (CDNOW_sample.txt), instead of a database")
	days := fs.Int("holdout-days", app.ChurnHoldoutDays, "days held out at the end of the orders")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	db := dbFlag(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var r app.ChurnReport
	var err error
	if *data != "" {
		r, err = app.CheckChurnCDNOW(*data, *days)
	} else {
		var a *app.App
		if a, err = app.New(ctx, app.Config{DB: *db, Logger: logger()}); err != nil {
			return err
		}
		defer a.Close()
		r, err = a.An.CheckChurn(ctx, *days)
	}
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	c := r.Check
	fmt.Fprintf(out, "%s: %d customers who ordered by %s; in the %d days held out, to %s, %d of them (%.0f%%) ordered nothing\n\n",
		r.Source, c.Customers, r.Cut.Format("2006-01-02"), r.HoldoutDays, r.End.Format("2006-01-02"), c.Churned, 100*float64(c.Churned)/float64(max(1, c.Customers)))
	fmt.Fprintf(out, "BG/NBD fitted before the holdout: r = %.4f  alpha = %.4f  a = %.4f  b = %.4f (a customer leaves after an order with chance %.2f%%)\n", r.BGNBD.R, r.BGNBD.Alpha, r.BGNBD.A, r.BGNBD.B, 100*r.Dropout)
	if r.Note != "" {
		fmt.Fprintf(out, "NOTE: %s\n", r.Note)
	}
	fmt.Fprintln(out)
	fmt.Fprintf(out, "%-44s %8s %14s\n", "ranking those who ordered nothing", "AUC", "top-10% lift")
	fmt.Fprintf(out, "%-44s %8.3f %14.2f\n", "model: chance of no order in the holdout", c.Model.AUC, c.Model.LiftTop10)
	fmt.Fprintf(out, "%-44s %8.3f %14.2f\n", "recency: weeks since the last order", c.Recency.AUC, c.Recency.LiftTop10)
	if r.Risk != nil {
		fmt.Fprintf(out, "%-44s %8.3f %14.2f\n", "risk score (as the console shows it)", r.Risk.AUC, r.Risk.LiftTop10)
	}
	fmt.Fprintf(out, "(the highest lift possible is %.2f: 1 ÷ the share who ordered nothing)\n", r.BestLift)
	fmt.Fprintf(out, "\nAUC gain %+.3f (95%% interval %+.3f to %+.3f): %s\n", c.Gain, c.GainLow, c.GainHigh, c.Verdict)
	fmt.Fprintln(out, "\ncalibration, tenths of the customers by prediction:")
	for _, b := range c.Calibration {
		fmt.Fprintf(out, "  predicted %5.1f%%  observed %5.1f%%  (%d)\n", 100*b.Predicted, 100*b.Observed, b.Customers)
	}
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
	r, err := app.EvaluatePLS(*data, *scheme, *scaled, *boot)
	if err != nil {
		return err
	}
	res := r.Fit
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(map[string]any{"paths": res.Paths, "r2": res.R2, "weights": res.Weights, "loadings": res.Loadings, "iterations": res.Iter,
			"scheme": r.Scheme, "scaled": r.Scaled, "rows": r.Rows})
	}
	fmt.Fprintf(out, "ECSI model on %d rows, %s scheme, %s data, %d iterations\n\npaths\n", r.Rows, r.Scheme,
		map[bool]string{true: "standardised", false: "centred"}[r.Scaled], res.Iter)
	for _, p := range res.Paths {
		fmt.Fprintf(out, "  %-5s → %-5s %8.4f", p.From, p.To, p.Coef)
		if r.Bootstrap > 0 {
			fmt.Fprintf(out, "   [%.4f, %.4f]", p.CI95[0], p.CI95[1])
		}
		fmt.Fprintln(out)
	}
	fmt.Fprintln(out, "\nR²")
	for _, b := range r.Blocks {
		if v, ok := res.R2[b.Name]; ok {
			fmt.Fprintf(out, "  %-5s %8.4f\n", b.Name, v)
		}
	}
	fmt.Fprintln(out, "\nouter weights (loadings)")
	for _, b := range r.Blocks {
		for _, c := range b.Columns {
			fmt.Fprintf(out, "  %-6s %8.4f  (%.4f)\n", c, res.Weights[c], res.Loadings[c])
		}
	}
	return nil
}
