package analytics

import (
	"context"
	"database/sql"
	"sort"
)

// ValuedBetween lists the customers whose lifetime value lies in [lo, hi]
// (the segment condition on value).
func (s *Service) ValuedBetween(ctx context.Context, lo, hi float64) ([]string, error) {
	return s.db.Strings(ctx, `SELECT customer_id FROM customer_values WHERE clv >= $1 AND clv <= $2`, lo, hi)
}

// AtRiskBetween lists the customers whose risk of leaving lies in [lo, hi]
// (the segment condition on risk).
func (s *Service) AtRiskBetween(ctx context.Context, lo, hi float64) ([]string, error) {
	return s.db.Strings(ctx, `SELECT customer_id FROM customer_values WHERE risk >= $1 AND risk <= $2`, lo, hi)
}

// AtRiskThreshold is the risk from which a customer counts as at risk.
const AtRiskThreshold = 0.5

// ValueAtRisk is the value the business can expect to lose: that of the
// customers at risk (risk AtRiskThreshold or more).
type ValueAtRisk struct {
	// Value is the sum over the live customers at risk of lifetime value ×
	// risk. (Before, every customer's was summed: customers at no real
	// risk made 95 % of it on the demo.)
	Value float64 `json:"value"`
	// CLV is those customers' lifetime value.
	CLV float64 `json:"clv"`
	// Customers counts them.
	Customers int `json:"customers"`
	// Top are the customers at risk who weigh most in Value, the heaviest first.
	Top []RiskShare `json:"top"`
}

// RiskShare is one customer's part of the value at risk.
type RiskShare struct {
	Customer string  `json:"customer"`
	CLV      float64 `json:"clv"`
	Risk     float64 `json:"risk"`
	Value    float64 `json:"value"` // CLV × risk
}

// AtRiskValue sums, over the customers at risk (risk AtRiskThreshold or
// more) not merged into another, their lifetime value times their risk
// and their lifetime value, counts them, and names the top ones who weigh
// most in it.
func (s *Service) AtRiskValue(ctx context.Context, top int) (*ValueAtRisk, error) {
	if err := s.fresh(ctx); err != nil {
		return nil, err
	}
	kept, err := liveValues(ctx, s, `SELECT customer_id, clv, risk FROM customer_values WHERE risk >= $1`, []any{AtRiskThreshold},
		func(r *sql.Rows) (string, RiskShare, error) {
			var x RiskShare
			err := r.Scan(&x.Customer, &x.CLV, &x.Risk)
			x.Value = x.CLV * x.Risk
			return x.Customer, x, err
		})
	if err != nil {
		return nil, err
	}
	out := &ValueAtRisk{Customers: len(kept), Top: []RiskShare{}}
	for _, x := range kept {
		out.Value += x.Value
		out.CLV += x.CLV
	}
	out.Value, out.CLV = round(out.Value, 2), round(out.CLV, 2)
	sort.Slice(kept, func(i, j int) bool {
		if kept[i].Value != kept[j].Value {
			return kept[i].Value > kept[j].Value
		}
		return kept[i].Customer < kept[j].Customer
	})
	for _, x := range kept[:min(top, len(kept))] {
		x.Value, x.CLV, x.Risk = round(x.Value, 2), round(x.CLV, 2), round(x.Risk, 3)
		out.Top = append(out.Top, x)
	}
	return out, nil
}
