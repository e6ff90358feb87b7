package analytics

import (
	"context"
	"database/sql"
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

// ValueAtRisk sums, over customers not merged into another, their lifetime
// value times their risk (the value the business can expect to lose), and
// counts those whose risk is AtRiskThreshold or more.
func (s *Service) ValueAtRisk(ctx context.Context) (customers int, value float64, err error) {
	if err := s.fresh(ctx); err != nil {
		return 0, 0, err
	}
	type cv struct {
		id        string
		clv, risk float64
	}
	var list []cv
	var ids []string
	err = s.db.Each(ctx, `SELECT customer_id, clv, risk FROM customer_values`, nil, func(r *sql.Rows) error {
		var x cv
		err := r.Scan(&x.id, &x.clv, &x.risk)
		list, ids = append(list, x), append(ids, x.id)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	live, err := s.profiles.Live(ctx, ids)
	if err != nil {
		return 0, 0, err
	}
	for _, x := range list {
		if !live[x.id] {
			continue
		}
		value += x.clv * x.risk
		if x.risk >= AtRiskThreshold {
			customers++
		}
	}
	return customers, round(value, 2), nil
}
