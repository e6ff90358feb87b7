package analytics

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/analytics/pls"
	"github.com/cxloop/cxloop/internal/fault"
)

// The ACSI model's constructs and the question ids that measure them: a
// survey's questions named with these prefixes (expectations_overall,
// quality_reliability, value_price …), and the three items of an acsi
// question for satisfaction.
var constructs = []struct{ name, prefix string }{
	{"customer_expectations", "expe"},
	{"perceived_quality", "qual"},
	{"perceived_value", "val"},
	{"satisfaction", "sat"},
	{"complaints", "comp"},
	{"loyalty", "loy"},
}

// acsiPaths is the ACSI structure.
var acsiPaths = [][2]string{
	{"customer_expectations", "perceived_quality"}, {"customer_expectations", "perceived_value"}, {"customer_expectations", "satisfaction"},
	{"perceived_quality", "perceived_value"}, {"perceived_quality", "satisfaction"}, {"perceived_value", "satisfaction"},
	{"satisfaction", "complaints"}, {"satisfaction", "loyalty"}, {"complaints", "loyalty"},
}

// Driver is a construct's importance for satisfaction (its total effect)
// and its performance (its items' mean on 0–100).
type Driver struct {
	Driver      string  `json:"driver"`
	Importance  float64 `json:"importance"`
	Performance float64 `json:"performance"`
}

// ACSIModel is the estimated model.
type ACSIModel struct {
	Responses int                `json:"responses"`
	Paths     []pls.Path         `json:"paths"`
	R2        map[string]float64 `json:"r2"`
	Weights   map[string]float64 `json:"weights"`
	Index     float64            `json:"index"` // satisfaction, 0–100, weighted by the estimated weights
	Drivers   []Driver           `json:"drivers"`
	Scheme    string             `json:"scheme"`
	// FittedAt is when the model was estimated: on large data a fit is
	// kept until the data moves (see largeData).
	FittedAt time.Time `json:"fitted_at"`
}

// ACSI estimates the ACSI model from survey answers (of one survey, or
// all): standardised items, the given inner weighting scheme (path by
// default), bootstrap intervals of the paths from that many resamples
// (none when 0).
func (s *Service) ACSI(ctx context.Context, survey, scheme string, resamples int) (*ACSIModel, error) {
	if scheme == "" {
		scheme = "path"
	}
	// Intervals asked for are a fit of their own (their resamples took
	// 0.7–1.5 s a call on the demo), kept as the point fit is.
	key := fmt.Sprintf("acsi|%s|%s|%d", survey, scheme, resamples)
	m, _, err := kept(ctx, s, key, func() (*ACSIModel, error) { return s.fitACSI(ctx, survey, scheme, resamples) })
	return m, err
}

// fitACSI estimates the ACSI model (see ACSI).
func (s *Service) fitACSI(ctx context.Context, survey, scheme string, resamples int) (*ACSIModel, error) {
	cols, rows, err := s.acsiData(ctx, survey)
	if err != nil {
		return nil, err
	}
	var blocks []pls.Block
	present := map[string]bool{}
	for _, c := range constructs {
		b := pls.Block{Name: c.name, Mode: "A"}
		for _, col := range cols {
			if constructOf(col) == c.name {
				b.Columns = append(b.Columns, col)
			}
		}
		if len(b.Columns) > 0 {
			blocks = append(blocks, b)
			present[c.name] = true
		}
	}
	if !present["satisfaction"] || len(blocks) < 2 {
		return nil, fault.New(fault.Conflict, "the ACSI model needs satisfaction items (an acsi question) and at least one of expectations, quality or value answered")
	}
	if len(rows) < 30 {
		return nil, fault.New(fault.Conflict, "the ACSI model needs at least 30 responses with its items (has %d)", len(rows))
	}
	var paths []pls.Path
	for _, p := range acsiPaths {
		if present[p[0]] && present[p[1]] {
			paths = append(paths, pls.Path{From: p[0], To: p[1]})
		}
	}
	o := pls.Options{Scheme: scheme, Scaled: true}
	res, err := pls.Fit(cols, rows, blocks, paths, o)
	if err != nil {
		return nil, fault.New(fault.Conflict, "the ACSI model could not be estimated: %v", err)
	}
	if resamples > 0 {
		if err := pls.Bootstrap(cols, rows, blocks, paths, o, res, resamples, 1); err != nil {
			return nil, fault.New(fault.Conflict, "the ACSI model's bootstrap failed: %v", err)
		}
	}
	m := &ACSIModel{Responses: len(rows), Paths: res.Paths, R2: res.R2, Weights: res.Weights, Scheme: scheme, Drivers: []Driver{}, FittedAt: s.now().UTC()}
	perf := performance(cols, rows, res.Weights)
	for _, b := range blocks {
		if b.Name == "satisfaction" {
			m.Index = perf(b, true)
			continue
		}
		if e, ok := res.Effects[b.Name+"→satisfaction"]; ok {
			m.Drivers = append(m.Drivers, Driver{Driver: b.Name, Importance: round(e, 3), Performance: perf(b, false)})
		}
	}
	return m, nil
}

// acsiData returns the model's items (question ids, sorted) and one row a
// response that answered at least half of them (NaN: not answered), of one
// survey or all.
func (s *Service) acsiData(ctx context.Context, survey string) ([]string, [][]float64, error) {
	all, err := s.answers(ctx)
	if err != nil {
		return nil, nil, err
	}
	byResp := map[string]map[string]float64{}
	colSet := map[string]bool{}
	for _, a := range all {
		if (survey != "" && a.survey != survey) || constructOf(a.question) == "" {
			continue
		}
		if byResp[a.msg] == nil {
			byResp[a.msg] = map[string]float64{}
		}
		byResp[a.msg][a.question] = a.value
		colSet[a.question] = true
	}
	cols := make([]string, 0, len(colSet))
	for c := range colSet {
		cols = append(cols, c)
	}
	sort.Strings(cols)
	var rows [][]float64
	for _, answers := range byResp {
		row := make([]float64, len(cols))
		n := 0
		for i, c := range cols {
			v, ok := answers[c]
			if !ok {
				v = math.NaN()
			} else {
				n++
			}
			row[i] = v
		}
		if n*2 >= len(cols) { // at least half the items answered
			rows = append(rows, row)
		}
	}
	return cols, rows, nil
}

// performance returns a block's score 0–100 on its items' own scale (0–10
// or 1–10): their mean, weighted by the model's outer weights brought back
// to that scale when weighted.
func performance(cols []string, rows [][]float64, weights map[string]float64) func(block pls.Block, weighted bool) float64 {
	stats := map[string][3]float64{} // mean, sd, scale lo (0 or 1)
	for i, c := range cols {
		var v []float64
		lo := 1.0
		for _, r := range rows {
			if !math.IsNaN(r[i]) {
				v = append(v, r[i])
				if r[i] < 1 {
					lo = 0
				}
			}
		}
		stats[c] = [3]float64{mean(v), math.Sqrt(variance(v)), lo}
	}
	return func(block pls.Block, weighted bool) float64 {
		num, den := 0.0, 0.0
		for _, c := range block.Columns {
			st := stats[c]
			w := 1.0
			if weighted && st[1] > 0 {
				w = math.Abs(weights[c]) / st[1] // back to the items' own scale
			}
			num += w * (st[0] - st[2]) / (10 - st[2]) * 100
			den += w
		}
		return round(num/den, 1)
	}
}

// constructOf names the construct a question id measures ("" for none).
func constructOf(question string) string {
	q := strings.ToLower(question)
	if strings.Contains(q, ".") {
		return "satisfaction" // the items of an acsi question
	}
	for _, c := range constructs {
		if strings.HasPrefix(q, c.prefix) {
			return c.name
		}
	}
	return ""
}
