package eventlog_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A consumer's lag is the events after its checkpoint and how long the
// first of them has waited since it was received; a consumer that has read
// nothing is behind by the whole log; past the bound, the pressure says so.
func TestLags(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := eventlog.New(db, quiet)
		t0 := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
		var batch []eventlog.Event
		for i := range 30 {
			e := event(fmt.Sprintf("lag-%d", i))
			e.ReceivedAt = t0.Add(time.Duration(i) * time.Minute).UnixMilli()
			batch = append(batch, e)
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return l.AppendTx(ctx, tx, batch) }); err != nil {
			t.Fatal(err)
		}
		p := &picky{names: []string{"E"}}
		r := eventlog.NewRunner(db, l, quiet, p)
		if _, err := r.CatchUp(ctx, p); err != nil {
			t.Fatal(err)
		}
		more := event("lag-late")
		more.ReceivedAt = t0.Add(40 * time.Minute).UnixMilli()
		if err := db.Tx(ctx, func(tx *store.Tx) error { return l.AppendTx(ctx, tx, []eventlog.Event{more}) }); err != nil {
			t.Fatal(err)
		}
		now := t0.Add(50 * time.Minute)
		lags, err := eventlog.Lags(ctx, db, now, "picky", "never")
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprint(lags)
		// picky read 30 and waits for the 31st (10 minutes old); never read
		// nothing and waits for the first (50 minutes old).
		if want := "[{never 31 3000} {picky 1 600}]"; got != want {
			t.Errorf("lags %s, want %s", got, want)
		}
		pr := eventlog.NewPressure(db, 10, func() time.Time { return now }, "picky", "never")
		if _, over := pr.Over(); over {
			t.Error("over the bound before reading the lag")
		}
		if err := pr.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		if worst, over := pr.Over(); !over || worst.Consumer != "never" || worst.Events != 31 {
			t.Errorf("pressure: %+v over %v", worst, over)
		}
		if _, over := eventlog.NewPressure(db, 0, nil, "never").Over(); over {
			t.Error("a bound of 0 refuses")
		}
	})
}
