package eventlog_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

func event(id string) eventlog.Event {
	return eventlog.Event{MessageID: id, Type: "track", Event: "E", UserID: "u", Channel: "web", Contact: "direct", SourceID: "src",
		Timestamp: 1, ReceivedAt: 1, Body: []byte(`{"type":"track"}`)}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// Concurrent appends are committed together, each messageId once, in one
// gapless-per-new-event seq order.
func TestAppend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		l := eventlog.New(db, quiet)
		l.Start(ctx)
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for n := 0; n < 25; n++ {
					batch := []eventlog.Event{event(fmt.Sprintf("%d-%d-a", w, n)), event(fmt.Sprintf("%d-%d-b", w, n)),
						event(fmt.Sprintf("%d-%d-a", w, n)), // a duplicate inside the request
						event(fmt.Sprintf("shared-%d", n))}  // sent by every worker
					if err := l.Append(ctx, batch); err != nil {
						t.Error(err)
						return
					}
				}
			}(w)
		}
		wg.Wait()
		all, err := eventlog.Read(ctx, db, eventlog.Query{Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		if want := 8*25*2 + 25; len(all) != want {
			t.Fatalf("%d events stored, want %d", len(all), want)
		}
		seen := map[string]bool{}
		for i, e := range all {
			if seen[e.MessageID] {
				t.Fatalf("%s stored twice", e.MessageID)
			}
			seen[e.MessageID] = true
			if i > 0 && e.Seq <= all[i-1].Seq {
				t.Fatalf("seq %d after %d", e.Seq, all[i-1].Seq)
			}
		}
	})
}

// counting is a consumer that records how often each event reached it.
type counting struct {
	mu      sync.Mutex
	applied map[int64]int
}

func (c *counting) Name() string { return "counting" }
func (c *counting) Apply(ctx context.Context, tx *store.Tx, events []eventlog.Event) error {
	for _, e := range events {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, 'x')`, fmt.Sprint("seen-", e.Seq)); err != nil {
			return err
		}
	}
	c.mu.Lock()
	for _, e := range events {
		c.applied[e.Seq]++
	}
	c.mu.Unlock()
	return nil
}
func (c *counting) Reset(ctx context.Context, tx *store.Tx) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM settings WHERE key LIKE 'seen-%'`)
	return err
}

// Two nodes running the same consumer apply every event exactly once: the
// state and the checkpoint commit together, under the checkpoint's lock.
func TestConsumersOnTwoNodes(t *testing.T) {
	for _, e := range storetest.Engines() {
		t.Run(string(e), func(t *testing.T) {
			dsn := storetest.DSN(t, e)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			db1, db2 := storetest.OpenDSN(t, dsn), storetest.OpenDSN(t, dsn)
			l1, l2 := eventlog.New(db1, quiet), eventlog.New(db2, quiet)
			l1.Start(ctx)
			l2.Start(ctx)
			c := &counting{applied: map[int64]int{}}
			r1 := eventlog.NewRunner(db1, l1, quiet, c)
			r2 := eventlog.NewRunner(db2, l2, quiet, c)
			r1.Run(ctx)
			r2.Run(ctx)
			for n := 0; n < 40; n++ {
				l := l1
				if n%2 == 1 {
					l = l2
				}
				batch := make([]eventlog.Event, 30)
				for i := range batch {
					batch[i] = event(fmt.Sprintf("n%d-%d", n, i))
				}
				if err := l.Append(ctx, batch); err != nil {
					t.Fatal(err)
				}
			}
			head, err := eventlog.Head(ctx, db1)
			if err != nil {
				t.Fatal(err)
			}
			wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
			defer wcancel()
			if err := r1.Wait(wctx, head); err != nil {
				t.Fatal(err)
			}
			c.mu.Lock()
			defer c.mu.Unlock()
			if len(c.applied) != 1200 {
				t.Fatalf("%d events applied, want 1200", len(c.applied))
			}
			for seq, n := range c.applied {
				if n != 1 {
					t.Fatalf("event %d applied %d times", seq, n)
				}
			}
		})
	}
}

// picky reads only the track events it names.
type picky struct {
	names []string
	got   []int64
}

func (p *picky) Name() string { return "picky" }
func (p *picky) Apply(_ context.Context, _ *store.Tx, events []eventlog.Event) error {
	for _, e := range events {
		p.got = append(p.got, e.Seq)
	}
	return nil
}
func (p *picky) Reset(context.Context, *store.Tx) error { p.got = nil; return nil }
func (p *picky) Events(context.Context, *store.Tx) ([]string, bool, error) {
	return p.names, false, nil
}

// A selective consumer gets exactly its events, in order, across batches
// and skipped stretches, and its checkpoint reaches the head.
func TestSelectiveConsumer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		l := eventlog.New(db, quiet)
		var batch []eventlog.Event
		var want []int64
		for i := range 1200 {
			e := event(fmt.Sprintf("s-%d", i))
			if i%3 == 0 || (i >= 100 && i < 500) {
				e.Event = "Wanted"
				want = append(want, int64(i+1))
			}
			batch = append(batch, e)
		}
		if err := db.Tx(ctx, func(tx *store.Tx) error { return l.AppendTx(ctx, tx, batch) }); err != nil {
			t.Fatal(err)
		}
		p := &picky{names: []string{"Wanted"}}
		r := eventlog.NewRunner(db, l, quiet, p)
		if _, err := r.CatchUp(ctx, p); err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(p.got) != fmt.Sprint(want) {
			t.Fatalf("got %d events, want %d", len(p.got), len(want))
		}
		if at, _ := r.Checkpoint(ctx, "picky"); at != 1200 {
			t.Fatalf("checkpoint %d", at)
		}
		// Wanting nothing still moves the checkpoint along.
		p.names, p.got = nil, nil
		if _, err := r.Replay(ctx, p); err != nil {
			t.Fatal(err)
		}
		if at, _ := r.Checkpoint(ctx, "picky"); at != 1200 || len(p.got) != 0 {
			t.Fatalf("wanting nothing: checkpoint %d, %d events", at, len(p.got))
		}
	})
}
