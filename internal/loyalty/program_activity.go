package loyalty

import (
	"context"
	"math"
	"time"

	"github.com/cxloop/cxloop/internal/store"
)

// Activity is what the program did in a period [From, To): points
// earned (net of reversals), redeemed and expired, referrals made and
// what referred customers spent. A redemption rate is not given for a
// period: points redeemed in it were often earned before it.
type Activity struct {
	From            *store.Millis `json:"from,omitempty"` // absent: since the start
	To              *store.Millis `json:"to,omitempty"`   // absent: until now
	Earned          int64         `json:"earned"`
	Redeemed        int64         `json:"redeemed"`
	Expired         int64         `json:"expired"`
	Referrals       int           `json:"referrals"`       // referral sign-ups
	ReferralRevenue float64       `json:"referralRevenue"` // orders by referred customers, refunds out
}

// Activity sums up the program's ledger and referrals in [from, to); a
// zero bound is open.
func (s *Service) Activity(ctx context.Context, from, to time.Time) (*Activity, error) {
	lo, hi := store.Span(from, to)
	a := &Activity{}
	if !from.IsZero() {
		m := store.Millis(lo)
		a.From = &m
	}
	if !to.IsZero() {
		m := store.Millis(hi)
		a.To = &m
	}
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN kind IN ('earn', 'reverse') THEN points ELSE 0 END), 0),
		COALESCE(SUM(CASE WHEN kind = 'redeem' THEN -points ELSE 0 END), 0), COALESCE(SUM(CASE WHEN kind = 'expire' THEN -points ELSE 0 END), 0)
		FROM loyalty_entries WHERE at >= $1 AND at < $2`, lo, hi).Scan(&a.Earned, &a.Redeemed, &a.Expired)
	if err != nil {
		return nil, err
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM loyalty_referrals WHERE at >= $1 AND at < $2`, lo, hi).Scan(&a.Referrals); err != nil {
		return nil, err
	}
	err = s.referredOrders(ctx, lo, hi, func(total float64, _ int64) { a.ReferralRevenue += total })
	a.ReferralRevenue = math.Round(a.ReferralRevenue*100) / 100
	return a, err
}

// referredOrders calls fn with each order in [lo, hi) that a referred
// customer placed after their referral, refunds left out.
func (s *Service) referredOrders(ctx context.Context, lo, hi int64, fn func(total float64, at int64)) error {
	// From the referrals (a few) to their customers' orders, each side on
	// its index; UNION keeps an order matched both ways once. An order
	// counts for its user id when it has one, for its anonymous id when the
	// referral had no user id. The unary plus keeps SQLite from starting
	// at the orders' time index instead (a whole-history range).
	rows, err := s.db.QueryContext(ctx, `SELECT o.order_id, o.total, o.at FROM loyalty_referrals r
		JOIN loyalty_orders o ON o.user_id = r.user_id AND o.at >= r.at
		WHERE r.user_id <> '' AND o.refunded_at IS NULL AND +o.at >= $1 AND +o.at < $2
		UNION
		SELECT o.order_id, o.total, o.at FROM loyalty_referrals r
		JOIN loyalty_orders o ON o.anonymous_id = r.anonymous_id AND o.at >= r.at
		WHERE r.user_id = '' AND r.anonymous_id <> '' AND o.refunded_at IS NULL AND +o.at >= $1 AND +o.at < $2`, lo, hi)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var total float64
		var at int64
		if err := rows.Scan(&id, &total, &at); err != nil {
			return err
		}
		fn(total, at)
	}
	return rows.Err()
}
