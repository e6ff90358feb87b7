package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// BenchmarkBulkInsert measures the append's row cost alone: rows shaped like
// the event log's, 2,000 a transaction, into the migrated events table with
// its indexes, on every engine the run covers. Message ids are scattered,
// as clients' random ones are.
//
//	go test -run '^$' -bench BulkInsert ./internal/store
func BenchmarkBulkInsert(b *testing.B) {
	body := `{"type":"track","event":"Order Completed","properties":{` + strings.Repeat(`"k":"vvvvvvvvvv",`, 25) + `"end":1}}`
	for _, e := range storetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			db := storetest.Open(b, e)
			ctx := context.Background()
			seq := 0
			for b.Loop() {
				rows := make([][]any, 2000)
				for i := range rows {
					seq++
					rows[i] = []any{seq, fmt.Sprintf("m-%016x", uint64(seq)*0x9E3779B97F4A7C15), "track", "Order Completed", fmt.Sprintf("user-%d", seq%5000), nil,
						"web", "direct", "src", int64(seq), int64(seq), body}
				}
				if err := db.Tx(ctx, func(tx *store.Tx) error {
					return db.BulkInsert(ctx, tx, `INSERT INTO events (seq, message_id, type, event, user_id, anonymous_id, channel, contact, source_id, ts, received_at, body) VALUES`,
						`ON CONFLICT (message_id) DO NOTHING`, 12, rows)
				}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(seq)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
