package loyalty_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// Two nodes on one database review the tiers at the same moment (each
// node runs one review at a time; two nodes may not): both finish, since
// they lock the members' rows in the same order, and every member ends in
// one tier.
func TestTierReviewsOnTwoNodes(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		a := apptest.Start(t, dsn)
		b := apptest.Start(t, dsn)
		a.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, nil)
		const members = 300
		round := func(r int, total float64) {
			var batch []map[string]any
			for i := range members {
				batch = append(batch, map[string]any{"type": "track", "messageId": fmt.Sprintf("r%d-%d", r, i), "userId": fmt.Sprintf("m-%03d", i),
					"event": "Order Completed", "properties": map[string]any{"order_id": fmt.Sprintf("o%d-%d", r, i), "total": total}})
			}
			a.MustSend("batch", map[string]any{"batch": batch})
			a.Sync()
			b.Sync()
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, s := range []*apptest.Server{a, b} {
				wg.Go(func() { _, errs[i] = s.Loyalty.ReviewTiers(context.Background()) })
			}
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Fatalf("round %d: node %d's review: %v", r, i, err)
				}
			}
		}
		round(1, 60)  // every member enters and moves up
		round(2, 500) // and up again
		var sum struct{ Tier string }
		a.API("GET", "/api/v1/customers/m-150/loyalty", nil, &sum)
		if sum.Tier == "" {
			t.Fatalf("m-150 has no tier after two reviews")
		}
	})
}
