package eventlog

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// seqs is a consumer that keeps the seqs it applied.
type seqs struct {
	name string
	got  []int64
}

func (c *seqs) Name() string { return c.name }
func (c *seqs) Apply(_ context.Context, _ *store.Tx, events []Event) error {
	for _, e := range events {
		c.got = append(c.got, e.Seq)
	}
	return nil
}
func (c *seqs) Reset(context.Context, *store.Tx) error { c.got = nil; return nil }

// A consumer far behind the others (new, or being replayed) steps in a
// group of its own: the others apply what was just appended at once
// instead of waiting until it has read the whole log.
func TestConsumerFarBehindStepsApart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
		appendN := func(from, n int) {
			var batch []Event
			for i := from; i < from+n; i++ {
				batch = append(batch, Event{MessageID: fmt.Sprint("m-", i), Type: Track, Event: "E", UserID: "u", Channel: "web",
					Contact: "direct", SourceID: "src", Timestamp: 1, ReceivedAt: 1, Body: []byte(`{"type":"track"}`)})
			}
			if err := db.Tx(ctx, func(tx *store.Tx) error { return l.AppendTx(ctx, tx, batch) }); err != nil {
				t.Fatal(err)
			}
		}
		appendN(0, 5000)
		current := &seqs{name: "current"}
		r := NewRunner(db, l, nil, current)
		if _, err := r.CatchUp(ctx, current); err != nil {
			t.Fatal(err)
		}
		late := &seqs{name: "late"}
		r = NewRunner(db, l, nil, current, late)
		appendN(5000, 10)
		if _, _, err := r.stepAll(ctx, r.Consumers()); err != nil {
			t.Fatal(err)
		}
		if at, _ := r.Checkpoint(ctx, "current"); at != 5010 || len(current.got) != 5010 {
			t.Fatalf("the consumer keeping up is at %d (%d events), want 5010", at, len(current.got))
		}
		if at, _ := r.Checkpoint(ctx, "late"); at != batchSize || len(late.got) != batchSize {
			t.Fatalf("the late consumer is at %d (%d events), want %d", at, len(late.got), batchSize)
		}
	})
}
