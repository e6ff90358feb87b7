package loyalty

import (
	"context"
	"fmt"
	"time"

	"github.com/cxloop/cxloop/internal/store"
)

// Lifetime is how long earned points last.
const Lifetime = 365 * 24 * time.Hour

// Expire adds, per identity, an expire entry for points earned more than
// Lifetime ago that were not used since (redeemed, reversed or expired
// before): the oldest points go first. Each run is keyed by its day, so a
// repeated run the same day adds nothing.
func (s *Service) Expire(ctx context.Context) (int, error) {
	now := s.now()
	cutoff := now.Add(-Lifetime).UnixMilli()
	day := now.UTC().Format("2006-01-02")
	n := 0
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT user_id, anonymous_id,
			SUM(CASE WHEN kind = 'earn' AND at < $1 THEN points ELSE 0 END),
			SUM(CASE WHEN kind IN ('redeem', 'expire', 'reverse') THEN -points ELSE 0 END)
			FROM loyalty_entries GROUP BY user_id, anonymous_id ORDER BY user_id, anonymous_id`, cutoff) // rows locked in one order (two nodes)
		if err != nil {
			return err
		}
		type due struct {
			user, anon string
			points     int64
		}
		var list []due
		for rows.Next() {
			var d due
			var old, used int64
			if err := rows.Scan(&d.user, &d.anon, &old, &used); err != nil {
				rows.Close()
				return err
			}
			if old > used {
				d.points = old - used
				list = append(list, d)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, d := range list {
			key := "expire:" + identity(d.user, d.anon) + ":" + day
			added, err := add(ctx, tx, entryID("expire", key), d.user, d.anon, Expire, -d.points, "", "", "", "", key,
				fmt.Sprintf("points earned before %s", time.UnixMilli(cutoff).UTC().Format("2006-01-02")), now.UnixMilli())
			if err != nil {
				return err
			}
			if added {
				n++
			}
		}
		return nil
	})
	return n, err
}
