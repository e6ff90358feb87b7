package analytics

import "context"

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
