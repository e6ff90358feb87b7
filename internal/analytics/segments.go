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

// ValueAtRisk is the value the business can expect to lose.
type ValueAtRisk struct {
	// Value is the sum over live customers of lifetime value × risk.
	Value float64 `json:"value"`
	// Customers counts those whose risk is AtRiskThreshold or more.
	Customers int `json:"customers"`
	// Top are the customers who weigh most in Value, the heaviest first.
	Top []RiskShare `json:"top"`
}

// RiskShare is one customer's part of the value at risk.
type RiskShare struct {
	Customer string  `json:"customer"`
	CLV      float64 `json:"clv"`
	Risk     float64 `json:"risk"`
	Value    float64 `json:"value"` // CLV × risk
}

// AtRiskValue sums, over customers not merged into another, their lifetime
// value times their risk, counts those whose risk is AtRiskThreshold or
// more, and names the top customers who weigh most in it.
func (s *Service) AtRiskValue(ctx context.Context, top int) (*ValueAtRisk, error) {
	if err := s.fresh(ctx); err != nil {
		return nil, err
	}
	var list []RiskShare
	var ids []string
	err := s.db.Each(ctx, `SELECT customer_id, clv, risk FROM customer_values`, nil, func(r *sql.Rows) error {
		var x RiskShare
		err := r.Scan(&x.Customer, &x.CLV, &x.Risk)
		x.Value = x.CLV * x.Risk
		list, ids = append(list, x), append(ids, x.Customer)
		return err
	})
	if err != nil {
		return nil, err
	}
	live, err := s.profiles.Live(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := &ValueAtRisk{Top: []RiskShare{}}
	var kept []RiskShare
	for _, x := range list {
		if !live[x.Customer] {
			continue
		}
		out.Value += x.Value
		if x.Risk >= AtRiskThreshold {
			out.Customers++
		}
		kept = append(kept, x)
	}
	out.Value = round(out.Value, 2)
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
