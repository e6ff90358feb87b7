package loyalty_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/loyalty"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// BenchmarkLedger measures, on each engine: ledger writes through the
// loyalty consumer (earn entries from Order Completed events), through
// the redemption command (lock, balance, entry and event in one
// transaction), and balance lookups with a million entries stored.
//
//	go test -run '^$' -bench Ledger -benchtime 1x ./internal/loyalty   # with CXLOOP_TEST_POSTGRES for PostgreSQL
func BenchmarkLedger(b *testing.B) {
	for _, engine := range storetest.Engines() {
		b.Run(string(engine), func(b *testing.B) {
			ctx := context.Background()
			db := storetest.Open(b, engine)
			logger := slog.New(slog.NewTextHandler(io.Discard, nil))
			log := eventlog.New(db, logger)
			profiles := profile.NewService(db, nil)
			svc := loyalty.NewService(db, log, profiles, nil, logger)
			if _, err := svc.CreateRule(ctx, &loyalty.Rule{On: "Order Completed", PointsPerUnit: 1}); err != nil {
				b.Fatal(err)
			}
			const members, orders = 2000, 40000
			var events []eventlog.Event
			for i := range orders {
				user := fmt.Sprintf("m-%d", i%members)
				e, _ := eventlog.Own("Order Completed", fmt.Sprintf("bo-%d", i), user, "", "web", time.Now(),
					map[string]any{"order_id": fmt.Sprintf("bo-%d", i), "total": 50})
				events = append(events, e)
			}
			if err := db.Tx(ctx, func(tx *store.Tx) error { return log.AppendTx(ctx, tx, events) }); err != nil {
				b.Fatal(err)
			}
			runner := eventlog.NewRunner(db, log, logger, profile.NewConsumer(db, ""), loyalty.Consumer{})
			for _, c := range runner.Consumers() {
				start := time.Now()
				if _, err := runner.CatchUp(ctx, c); err != nil {
					b.Fatal(err)
				}
				if c.Name() == "loyalty" {
					b.ReportMetric(float64(orders)/time.Since(start).Seconds(), "earn-writes/s")
				}
			}
			// Redemptions, one member after another.
			start := time.Now()
			const redemptions = 2000
			for i := range redemptions {
				if _, _, err := svc.Redeem(ctx, fmt.Sprintf("m-%d", i%members), 1, fmt.Sprintf("k-%d", i), ""); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(redemptions)/time.Since(start).Seconds(), "redeem-writes/s")
			// A million entries, then balance lookups of random members.
			fill := 1_000_000 - orders - redemptions
			for done := 0; done < fill; done += 20000 {
				var rows [][]any
				for j := done; j < min(done+20000, fill); j++ {
					rows = append(rows, []any{fmt.Sprintf("fill-%d", j), fmt.Sprintf("m-%d", j%members), "", "earn", int64(1), "Fill", "", "", "", fmt.Sprintf("fill:%d", j), "", time.Now().UnixMilli()})
				}
				err := db.Tx(ctx, func(tx *store.Tx) error {
					return db.BulkInsert(ctx, tx, `INSERT INTO loyalty_entries (id, user_id, anonymous_id, kind, points, event, message_id, order_id, rule_id, idempotency_key, note, at) VALUES`, ``, 12, rows)
				})
				if err != nil {
					b.Fatal(err)
				}
			}
			// The fill's running sums, as adding its entries one by one would leave them.
			err := db.Tx(ctx, func(tx *store.Tx) error {
				for m := range members {
					n := int64(fill / members)
					if m < fill%members {
						n++
					}
					if _, err := tx.ExecContext(ctx, `INSERT INTO loyalty_balances (identity, points) VALUES ($1, $2)
						ON CONFLICT (identity) DO UPDATE SET points = loyalty_balances.points + $2`, fmt.Sprintf("u:m-%d", m), n); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			var lat []time.Duration
			r := rand.New(rand.NewPCG(1, 2))
			for range 2000 {
				t := time.Now()
				if _, err := svc.Summary(ctx, fmt.Sprintf("m-%d", r.IntN(members))); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(t))
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "lookup-p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "lookup-p99-ms")
		})
	}
}
