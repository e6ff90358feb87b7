package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/cxloop/cxloop/internal/experience/recommend"
)

func eval(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "recommend" {
		return errors.New("eval: name what to evaluate: recommend")
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
