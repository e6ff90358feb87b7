package cases_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/cases"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
	"github.com/cxloop/cxloop/internal/survey"
)

// benchEvents is a mix the cases consumer sees: orders, returns, survey
// answers and social posts, a fifth of which some rule fires on.
func benchEvents(n int) []eventlog.Event {
	now := time.Now()
	out := make([]eventlog.Event, n)
	for i := range out {
		user := fmt.Sprintf("b-%d", i%5000)
		var name string
		var props map[string]any
		switch i % 5 {
		case 0, 1:
			name, props = "Order Completed", map[string]any{"order_id": fmt.Sprintf("o-%d", i), "total": 40, "products": []any{map[string]any{"category": "Tents"}}}
		case 2:
			name, props = "Order Refunded", map[string]any{"order_id": fmt.Sprintf("o-%d", i-2), "reason": []string{"damaged", "wrong size"}[i%2]}
		case 3:
			name, props = "Survey Responded", map[string]any{"survey_id": "srv_x", "nps": float64(i % 11)}
		case 4:
			name, props = "Social Mention", map[string]any{"text": []string{"Great tents!", "Terrible, the order was late and damaged."}[i%2]}
		}
		e, err := eventlog.Own(name, fmt.Sprintf("bench-%d", i), user, "", "web", now, props)
		if err != nil {
			panic(err)
		}
		out[i] = e
	}
	return out
}

// BenchmarkRuleEvaluation measures the cases consumer over the log with ten
// rules against the same consumer with none (projection only): events per
// second through rule evaluation, case opening and the order projection.
//
//	go test -run '^$' -bench RuleEvaluation -benchtime 3x ./internal/cases   # with CXLOOP_TEST_POSTGRES for PostgreSQL
func BenchmarkRuleEvaluation(b *testing.B) {
	for _, engine := range storetest.Engines() {
		for _, rules := range []int{0, 10} {
			b.Run(fmt.Sprintf("%s/rules=%d", engine, rules), func(b *testing.B) {
				ctx := context.Background()
				events := benchEvents(20000)
				var total time.Duration
				for range b.N {
					db := storetest.Open(b, engine)
					logger := slog.New(slog.NewTextHandler(io.Discard, nil))
					log := eventlog.New(db, logger)
					profiles := profile.NewService(db, nil)
					svc := cases.NewService(db, log, profiles, survey.NewService(db, log, profiles, survey.Config{}, logger), nil, logger)
					if _, err := svc.CreateTeam(ctx, "service"); err != nil {
						b.Fatal(err)
					}
					for r := range rules {
						when := []string{`{"event": "Survey Responded", "nps_max": 6}`, `{"event": "Social Mention", "sentiment": "negative"}`,
							`{"event": "Order Refunded", "reason": "damaged"}`, `{"event": "Order Completed", "where": {"properties.total": {"gt": 1000}}}`,
							`{"event": "Product Viewed"}`}[r%5]
						var rule cases.Rule
						_ = json.Unmarshal([]byte(fmt.Sprintf(`{"name": "r%d", "when": %s, "then": {"open_case": {"team": "service", "kind": "question"}}}`, r, when)), &rule)
						if _, err := svc.CreateRule(ctx, &rule); err != nil {
							b.Fatal(err)
						}
					}
					batch := append([]eventlog.Event(nil), events...)
					if err := db.Tx(ctx, func(tx *store.Tx) error { return log.AppendTx(ctx, tx, batch) }); err != nil {
						b.Fatal(err)
					}
					runner := eventlog.NewRunner(db, log, logger, cases.NewConsumer(svc))
					c, _ := runner.Lookup("cases")
					start := time.Now()
					if _, err := runner.CatchUp(ctx, c); err != nil {
						b.Fatal(err)
					}
					total += time.Since(start)
				}
				b.ReportMetric(float64(len(events)*b.N)/total.Seconds(), "events/s")
			})
		}
	}
}
