package loyalty

import (
	"context"
	"strconv"
	"strings"
)

// EngagedBetween lists the customers whose engagement score lies in
// [lo, hi] (the segment condition on engagement).
func (s *Service) EngagedBetween(ctx context.Context, lo, hi float64) ([]string, error) {
	return s.db.Strings(ctx, `SELECT customer_id FROM engagement_scores WHERE score >= $1 AND score <= $2`, lo, hi)
}

// InTiers lists the customers in any of the tiers (the segment condition
// on tiers).
func (s *Service) InTiers(ctx context.Context, tiers []string) ([]string, error) {
	if len(tiers) == 0 {
		return nil, nil
	}
	ph := make([]string, len(tiers))
	args := make([]any, len(tiers))
	for i, t := range tiers {
		ph[i], args[i] = "$"+strconv.Itoa(i+1), t
	}
	return s.db.Strings(ctx, `SELECT customer_id FROM loyalty_tiers WHERE tier IN (`+strings.Join(ph, ", ")+`)`, args...)
}
