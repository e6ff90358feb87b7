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

// recorder is a consumer that records each event it applies as a row of
// its own (a second application of an event would break the row's key) and
// checks the decoded properties; with failAt set it refuses every batch
// holding that event.
type recorder struct {
	name   string
	wanted []string // a selective consumer's names, when set
	mu     sync.Mutex
	failAt int64
	bad    []string
}

func (c *recorder) Name() string { return c.name }
func (c *recorder) Apply(ctx context.Context, tx *store.Tx, events []eventlog.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range events {
		if e.Seq == c.failAt {
			return fmt.Errorf("event %d refused", e.Seq)
		}
	}
	for _, e := range events {
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, 'x')`, fmt.Sprintf("%s-%d", c.name, e.Seq)); err != nil {
			return err
		}
		m, err := e.Message()
		if n, ok := m.Props()["n"].(float64); err != nil || !ok || int64(n) != e.Seq {
			c.bad = append(c.bad, fmt.Sprintf("%d: %v %v", e.Seq, m.Props(), err))
		}
	}
	return nil
}
func (c *recorder) Reset(context.Context, *store.Tx) error { return nil }

type selectiveRecorder struct{ *recorder }

func (c selectiveRecorder) Events(context.Context, *store.Tx) ([]string, bool, error) {
	return c.wanted, false, nil
}

// check compares the events the consumer applied with those it should have.
func (c *recorder) check(t *testing.T, db *store.DB, want func(seq int64) bool, through int64) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bad) > 0 {
		t.Fatalf("%s decoded wrongly: %v", c.name, c.bad[:min(3, len(c.bad))])
	}
	got := map[int64]bool{}
	rows, err := db.Query(`SELECT key FROM settings WHERE key LIKE $1`, c.name+"-%")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var seq int64
		if err := rows.Scan(&key); err != nil {
			t.Fatal(err)
		}
		fmt.Sscanf(key[len(c.name)+1:], "%d", &seq)
		got[seq] = true
	}
	for seq := int64(1); seq <= through; seq++ {
		if got[seq] != want(seq) {
			t.Fatalf("%s: event %d applied %t", c.name, seq, got[seq])
		}
	}
	if len(got) > int(through) {
		t.Fatalf("%s applied %d events", c.name, len(got))
	}
}

// Consumers stepping together each apply every event after their own
// checkpoint exactly once, with the body decoded once for all; one that
// fails leaves the group and the others go on; it catches up once it works.
func TestConsumersStepTogether(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		l := eventlog.New(db, quiet)
		var batch []eventlog.Event
		for i := 1; i <= 2500; i++ {
			e := event(fmt.Sprintf("g-%d", i))
			if i%4 == 0 {
				e.Event = "Wanted"
			}
			e.Body = fmt.Appendf(nil, `{"type":"track","event":%q,"properties":{"n":%d}}`, e.Event, i)
			batch = append(batch, e)
		}
		appendTx := func(events []eventlog.Event) {
			if err := db.Tx(ctx, func(tx *store.Tx) error { return l.AppendTx(ctx, tx, events) }); err != nil {
				t.Fatal(err)
			}
		}
		all := &recorder{name: "all"}
		picky := &recorder{name: "picky", wanted: []string{"Wanted"}}
		failing := &recorder{name: "failing", failAt: 1700}
		r := eventlog.NewRunner(db, l, quiet, all, selectiveRecorder{picky}, failing)
		// One consumer starts ahead of the others, within one batch.
		appendTx(batch[:400])
		if n, err := r.Step(ctx, all); err != nil || n == 0 {
			t.Fatalf("step: %d %v", n, err)
		}
		appendTx(batch[400:])
		at, _ := r.Checkpoint(ctx, "all")
		n, failed, err := r.StepGroup(ctx, r.Consumers())
		if err != nil || failed != nil || n == 0 {
			t.Fatalf("group step: %d %v %v", n, failed, err)
		}
		if a, _ := r.Checkpoint(ctx, "all"); a <= at {
			t.Fatalf("the consumer ahead did not move: %d", a)
		}

		l.Start(ctx)
		r.Run(ctx)
		wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
		defer wcancel()
		if err := r.WaitFor(wctx, 2500, "all", "picky"); err != nil {
			t.Fatal(err)
		}
		if at, _ := r.Checkpoint(ctx, "failing"); at >= 1700 {
			t.Fatalf("the failing consumer's checkpoint passed its bad event: %d", at)
		}
		all.check(t, db, func(int64) bool { return true }, 2500)
		picky.check(t, db, func(seq int64) bool { return seq%4 == 0 }, 2500)
		failing.mu.Lock()
		failing.failAt = 0
		failing.mu.Unlock()
		if err := r.WaitFor(wctx, 2500, "failing"); err != nil {
			t.Fatal(err)
		}
		failing.check(t, db, func(int64) bool { return true }, 2500)
	})
}

// lateNames is a selective consumer whose names change while it reads
// them, as when a survey is made and its trigger event arrives at once:
// during its first Events the event arrives and the names come to
// include it.
type lateNames struct {
	picky
	arrive func()
	calls  int
}

func (c *lateNames) Events(ctx context.Context, tx *store.Tx) ([]string, bool, error) {
	c.calls++
	names := c.names
	if c.calls == 1 {
		c.arrive()
		c.names = []string{"Wanted"}
	}
	return names, false, nil
}

// An event that arrives while a selective consumer reads what it wants is
// applied, not skipped for names read before it arrived. (On PostgreSQL,
// where another connection can append during the consumer's transaction.)
func TestSelectiveConsumerSeesLateNames(t *testing.T) {
	db := storetest.Open(t, store.Postgres)
	ctx := context.Background()
	l := eventlog.New(db, quiet)
	if err := db.Tx(ctx, func(tx *store.Tx) error { return l.AppendTx(ctx, tx, []eventlog.Event{event("before")}) }); err != nil {
		t.Fatal(err)
	}
	c := &lateNames{picky: picky{names: []string{"Other"}}}
	c.arrive = func() {
		e := event("late")
		e.Event = "Wanted"
		if err := db.Tx(ctx, func(tx *store.Tx) error { return l.AppendTx(ctx, tx, []eventlog.Event{e}) }); err != nil {
			t.Error(err)
		}
	}
	r := eventlog.NewRunner(db, l, quiet, c)
	if _, err := r.CatchUp(ctx, c); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(c.got) != "[2]" {
		t.Errorf("applied %v, want the late event (seq 2)", c.got)
	}
}
