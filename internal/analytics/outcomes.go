package analytics

import (
	"context"
	"database/sql"
	"time"
)

// OutcomeMonth is one month of the outcomes dashboard.
type OutcomeMonth struct {
	Month        string  `json:"month"`
	Satisfaction float64 `json:"satisfaction"` // mean latest-score share of the month's responses, 0–100
	Responses    int     `json:"responses"`
	NewCustomers int     `json:"new_customers"` // first order in the month
	Buyers       int     `json:"buyers"`        // customers who ordered in the month
	RepeatRate   float64 `json:"repeat_rate"`   // buyers who had ordered before
	Retention    float64 `json:"retention"`     // last month's buyers who bought again within the month
	Revenue      float64 `json:"revenue"`       // orders, refunds taken out
	Complaints   int     `json:"complaints"`
	Returns      int     `json:"returns"`
}

// Outcomes is the bottom line month by month: satisfaction, acquisition,
// repeat buying and retention, revenue, complaints and returns.
func (s *Service) Outcomes(ctx context.Context, months int) ([]OutcomeMonth, error) {
	now := s.now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -(months - 1), 0)
	out := make([]OutcomeMonth, months)
	index := map[string]int{}
	for i := range out {
		m := start.AddDate(0, i, 0).Format("2006-01")
		out[i].Month, index[m] = m, i
	}
	monthOf := func(at int64) (int, bool) {
		i, ok := index[time.UnixMilli(at).UTC().Format("2006-01")]
		return i, ok
	}
	hist, err := s.histories(ctx)
	if err != nil {
		return nil, err
	}
	buyers := make([]map[string]bool, months)
	for i := range buyers {
		buyers[i] = map[string]bool{}
	}
	for c, ps := range hist {
		for k, p := range ps {
			i, ok := monthOf(p.day * 86400000)
			if !ok {
				continue
			}
			out[i].Revenue += p.value
			if k == 0 {
				out[i].NewCustomers++
			}
			if !buyers[i][c] {
				buyers[i][c] = true
				out[i].Buyers++
				if k > 0 {
					out[i].RepeatRate++
				}
			}
		}
	}
	for i := range out {
		if out[i].Buyers > 0 {
			out[i].RepeatRate = round(out[i].RepeatRate/float64(out[i].Buyers), 3)
		}
		out[i].Revenue = round(out[i].Revenue, 2)
		if i > 0 && len(buyers[i-1]) > 0 {
			kept := 0
			for c := range buyers[i-1] {
				if buyers[i][c] {
					kept++
				}
			}
			out[i].Retention = round(float64(kept)/float64(len(buyers[i-1])), 3)
		}
	}
	err = s.scan(ctx, `SELECT kind, value, at FROM an_signals WHERE at >= $1`, []any{start.UnixMilli()}, func(r *sql.Rows) error {
		var kind string
		var v float64
		var at int64
		if err := r.Scan(&kind, &v, &at); err != nil {
			return err
		}
		i, ok := monthOf(at)
		if !ok {
			return nil
		}
		switch kind {
		case "score":
			out[i].Satisfaction += v
			out[i].Responses++
		case "complaint":
			out[i].Complaints++
		case "return":
			out[i].Returns++
		}
		return nil
	})
	for i := range out {
		if out[i].Responses > 0 {
			out[i].Satisfaction = round(out[i].Satisfaction/float64(out[i].Responses)*100, 1)
		}
	}
	return out, err
}
