package analytics

import "context"

// ValuedBetween lists the customers whose lifetime value lies in [lo, hi]
// (the segment condition on value).
func (s *Service) ValuedBetween(ctx context.Context, lo, hi float64) ([]string, error) {
	return s.valueIDs(ctx, `SELECT customer_id FROM customer_values WHERE clv >= $1 AND clv <= $2`, lo, hi)
}

// AtRiskBetween lists the customers whose risk of leaving lies in [lo, hi]
// (the segment condition on risk).
func (s *Service) AtRiskBetween(ctx context.Context, lo, hi float64) ([]string, error) {
	return s.valueIDs(ctx, `SELECT customer_id FROM customer_values WHERE risk >= $1 AND risk <= $2`, lo, hi)
}

func (s *Service) valueIDs(ctx context.Context, q string, lo, hi float64) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, q, lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
