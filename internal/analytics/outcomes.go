package analytics

import (
	"context"
	"database/sql"
	"time"
)

// OutcomeMonth is one month of the outcomes dashboard. A rate or mean is
// absent when it has no base (no responses, no buyers, no customers
// acquired, no buyers the month before).
type OutcomeMonth struct {
	Month string `json:"month"`
	// Partial marks the month under way: its figures run to now.
	Partial      bool     `json:"partial,omitempty"`
	Satisfaction *float64 `json:"satisfaction,omitempty"` // mean score of the month's responses as a share of their scale, 0–100
	Responses    int      `json:"responses"`
	NPS          *float64 `json:"nps,omitempty"`         // % promoters − % detractors of the month's NPS answers
	NewCustomers int      `json:"new_customers"`         // first order in the month
	Buyers       int      `json:"buyers"`                // customers who ordered in the month
	RepeatRate   *float64 `json:"repeat_rate,omitempty"` // buyers who had ordered before the month
	// Retention is, of the customers who bought in the month before (the
	// cohort, taken from the whole history), the share who bought in this month.
	Retention  *float64 `json:"retention,omitempty"`
	Revenue    float64  `json:"revenue"` // orders, refunds taken out
	Complaints int      `json:"complaints"`
	Returns    int      `json:"returns"`
	// CLVNew is the mean lifetime value of the customers acquired in the month.
	CLVNew *float64 `json:"clv_new_customers,omitempty"`
	// ReferralRevenue is what referred customers spent in the month (from
	// the loyalty program, when present).
	ReferralRevenue float64 `json:"referral_revenue"`
}

// SetReferralRevenue lets the outcomes include referral revenue by month
// (the loyalty program provides it).
func (s *Service) SetReferralRevenue(fn func(ctx context.Context, since time.Time) (map[string]float64, error)) {
	s.referrals = fn
}

// Outcomes is the bottom line month by month: satisfaction and NPS,
// acquisition and the new customers' lifetime value, repeat buying and
// retention, revenue and referral revenue, complaints and returns.
func (s *Service) Outcomes(ctx context.Context, months int) ([]OutcomeMonth, error) {
	if err := s.fresh(ctx); err != nil { // the new customers' lifetime values
		return nil, err
	}
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
	out[months-1].Partial = true
	hist, err := s.histories(ctx)
	if err != nil {
		return nil, err
	}
	// buyers[0] is the month before the window: the first month's cohort.
	buyers := make([]map[string]bool, months+1)
	for i := range buyers {
		buyers[i] = map[string]bool{}
	}
	before := start.AddDate(0, -1, 0).Format("2006-01")
	clv := map[string]float64{}
	err = s.db.Each(ctx, `SELECT customer_id, clv FROM customer_values`, nil, func(r *sql.Rows) error {
		var c string
		var v float64
		err := r.Scan(&c, &v)
		clv[c] = v
		return err
	})
	if err != nil {
		return nil, err
	}
	clvNew, valued := make([]float64, months), make([]int, months)
	repeat := make([]int, months)
	for c, ps := range hist {
		for k, p := range ps {
			at := p.day * 86400000
			i, ok := monthOf(at)
			if !ok {
				if time.UnixMilli(at).UTC().Format("2006-01") == before {
					buyers[0][c] = true
				}
				continue
			}
			out[i].Revenue += p.value
			if k == 0 {
				out[i].NewCustomers++
				if v, ok := clv[c]; ok {
					clvNew[i] += v
					valued[i]++
				}
			}
			if !buyers[i+1][c] {
				buyers[i+1][c] = true
				out[i].Buyers++
				if k > 0 {
					repeat[i]++
				}
			}
		}
	}
	for i := range out {
		if n := valued[i]; n > 0 {
			v := round(clvNew[i]/float64(n), 2)
			out[i].CLVNew = &v
		}
		out[i].RepeatRate = share(repeat[i], out[i].Buyers)
		out[i].Revenue = round(out[i].Revenue, 2)
		kept := 0
		for c := range buyers[i] {
			if buyers[i+1][c] {
				kept++
			}
		}
		out[i].Retention = share(kept, len(buyers[i]))
	}
	nps := make([][3]int, months) // answers, promoters, detractors
	sat := make([]float64, months)
	err = s.db.Each(ctx, `SELECT kind, value, at FROM an_signals WHERE at >= $1`, []any{start.UnixMilli()}, func(r *sql.Rows) error {
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
			if v < 0 || v > 1 {
				return nil // outside its scale: not a score
			}
			sat[i] += v
			out[i].Responses++
		case "nps":
			if v < 0 || v > 10 {
				return nil
			}
			nps[i][0]++
			if v >= 9 {
				nps[i][1]++
			} else if v <= 6 {
				nps[i][2]++
			}
		case "complaint":
			out[i].Complaints++
		case "return":
			out[i].Returns++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].Responses > 0 {
			v := round(sat[i]/float64(out[i].Responses)*100, 1)
			out[i].Satisfaction = &v
		}
		if n := nps[i][0]; n > 0 {
			v := round(100*float64(nps[i][1]-nps[i][2])/float64(n), 1)
			out[i].NPS = &v
		}
	}
	if s.referrals != nil {
		byMonth, err := s.referrals(ctx, start)
		if err != nil {
			return nil, err
		}
		for m, v := range byMonth {
			if i, ok := index[m]; ok {
				out[i].ReferralRevenue = round(v, 2)
			}
		}
	}
	return out, nil
}
