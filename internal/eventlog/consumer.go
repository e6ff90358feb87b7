package eventlog

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// Consumer is a named projection of the log into the consumer's own tables.
type Consumer interface {
	// Name is the consumer's stable name, its checkpoint key.
	Name() string
	// Apply projects events (in seq order) inside tx.
	Apply(ctx context.Context, tx *store.Tx, events []Event) error
	// Reset empties the consumer's tables inside tx, before a replay.
	Reset(ctx context.Context, tx *store.Tx) error
}

// Selective is a consumer that projects only track events of some names.
// The runner then reads only those events, skipping the rest of the log
// without decoding it, and moves the checkpoint past what it skipped.
type Selective interface {
	Consumer
	// Events names the track events the consumer reads now (inside the
	// step's transaction); all reports that it wants every event after all.
	Events(ctx context.Context, tx *store.Tx) (names []string, all bool, err error)
}

// skipWindow bounds how far one step of a selective consumer looks ahead
// in the log.
const skipWindow = 20000

// batchSize is how many events one consumer transaction applies, for one
// consumer or a group: large enough to amortise the commit, small enough
// that appends waiting for the writer are not held up for long (with 250
// the consumers fell far behind under full load; see docs/performance.md).
const batchSize = 1000

// Runner drives consumers: each reads the log after its checkpoint and
// commits its state together with the new checkpoint.
type Runner struct {
	db        *store.DB
	log       *Log
	logger    *slog.Logger
	consumers []Consumer
}

// NewRunner returns a runner for the consumers.
func NewRunner(db *store.DB, l *Log, logger *slog.Logger, consumers ...Consumer) *Runner {
	return &Runner{db: db, log: l, logger: logger, consumers: consumers}
}

// Consumers returns the registered consumers.
func (r *Runner) Consumers() []Consumer { return r.consumers }

// Lookup returns the consumer named name.
func (r *Runner) Lookup(name string) (Consumer, error) {
	for _, c := range r.consumers {
		if c.Name() == name {
			return c, nil
		}
	}
	return nil, fault.New(fault.NotFound, "no consumer named %q", name)
}

// retryAlone is how long a consumer that failed waits before trying again.
const retryAlone = 2 * time.Second

// Run keeps every consumer caught up until ctx ends. It wakes at each local
// append and polls for appends made by other nodes. On SQLite, whose one
// writer takes the consumers' transactions in turn, the consumers step
// together (StepGroup): a batch of the log is read and decoded once and
// applied to all of them in one transaction. On PostgreSQL each consumer
// steps on its own connection, in parallel with the others. A consumer
// whose Apply fails in a group leaves it and steps alone, retried after a
// pause, until a step of its own succeeds; the others go on without it.
func (r *Runner) Run(ctx context.Context) {
	if r.db.Engine == store.SQLite {
		go r.loop(ctx, r.consumers)
		return
	}
	for _, c := range r.consumers {
		go r.loop(ctx, []Consumer{c})
	}
}

func (r *Runner) loop(ctx context.Context, consumers []Consumer) {
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	alone := map[string]time.Time{} // consumers stepping alone: their next try
	for {
		changed := r.log.Changed()
		var group []Consumer
		for _, c := range consumers {
			if _, ok := alone[c.Name()]; !ok {
				group = append(group, c)
			}
		}
		if r.db.Engine == store.SQLite {
			r.log.yield(ctx)
		}
		n, failed, err := r.stepAll(ctx, group)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.logger.Error("consumer failed", "consumer", nameOf(failed), "err", err)
			if failed != nil && len(consumers) > 1 {
				alone[failed.Name()] = time.Now()
			} else if !sleep(ctx, retryAlone) {
				return
			}
		}
		for _, c := range consumers {
			next, ok := alone[c.Name()]
			if !ok || time.Now().Before(next) {
				continue
			}
			m, err := r.Step(ctx, c)
			if ctx.Err() != nil {
				return
			}
			if err != nil {
				r.logger.Error("consumer failed", "consumer", c.Name(), "err", err)
				alone[c.Name()] = time.Now().Add(retryAlone)
				continue
			}
			delete(alone, c.Name())
			n += m
		}
		if n > 0 || err != nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-poll.C:
		}
	}
}

// stepAll steps the consumers together, those far behind the others (a
// consumer being replayed, or new) in a group of their own, so that the
// ones keeping up with the log do not wait for them to catch up.
func (r *Runner) stepAll(ctx context.Context, cs []Consumer) (int, Consumer, error) {
	if len(cs) < 2 {
		return r.stepSome(ctx, cs, nil)
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name()
	}
	at, err := r.checkpoints(ctx, r.db, names, false)
	if err != nil {
		return 0, nil, err
	}
	var lead int64
	for _, seq := range at {
		lead = max(lead, seq)
	}
	var current, behind []Consumer
	for _, c := range cs {
		if at[c.Name()] >= lead-batchSize {
			current = append(current, c)
		} else {
			behind = append(behind, c)
		}
	}
	n, failed, err := r.stepSome(ctx, current, at)
	if err != nil || len(behind) == 0 {
		return n, failed, err
	}
	m, failed, err := r.stepSome(ctx, behind, at)
	return n + m, failed, err
}

// stepSome steps the consumers as a group, or a consumer on its own with a
// plain Step, which reads only the events a selective consumer names.
func (r *Runner) stepSome(ctx context.Context, cs []Consumer, at map[string]int64) (int, Consumer, error) {
	if len(cs) != 1 {
		return r.stepGroup(ctx, cs, at)
	}
	n, err := r.Step(ctx, cs[0])
	if err != nil {
		return n, cs[0], err
	}
	return n, nil, nil
}

func nameOf(c Consumer) string {
	if c == nil {
		return ""
	}
	return c.Name()
}

func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// StepGroup applies the next batch of the log to the consumers together:
// the batch after the furthest-behind checkpoint is read and decoded once,
// outside the write transaction, then each consumer applies the part after
// its own checkpoint (only the events it reads, for a selective one) and
// advances its checkpoint, all in one transaction. It returns how many
// events it read, and the consumer whose Apply failed, if one did (then
// nothing of the step is committed).
func (r *Runner) StepGroup(ctx context.Context, cs []Consumer) (int, Consumer, error) {
	return r.stepGroup(ctx, cs, nil)
}

// stepGroup is StepGroup with the consumers' checkpoints as last read (nil
// to read them now); a missing one is a consumer without a checkpoint yet.
func (r *Runner) stepGroup(ctx context.Context, cs []Consumer, at map[string]int64) (int, Consumer, error) {
	if len(cs) == 0 {
		return 0, nil, nil
	}
	names := make([]string, len(cs))
	for i, c := range cs {
		names[i] = c.Name()
	}
	if at == nil {
		var err error
		if at, err = r.checkpoints(ctx, r.db, names, false); err != nil {
			return 0, nil, err
		}
	}
	from := int64(-1)
	for _, name := range names {
		if seq, ok := at[name]; !ok || from < 0 || seq < from {
			from = seq
		}
	}
	events, err := Read(ctx, r.db, Query{After: from, Limit: batchSize})
	if err != nil || len(events) == 0 {
		return 0, nil, err
	}
	// Decode every body up front, outside the write transaction, when a
	// consumer of the group reads every event anyway; selective ones
	// decode only the few they read.
	for _, c := range cs {
		if _, ok := c.(Selective); !ok {
			Prepare(events)
			break
		}
	}
	to := events[len(events)-1].Seq
	var failed Consumer
	moved := false
	err = r.db.TxRecomputable(ctx, func(tx *store.Tx) error {
		failed, moved = nil, false
		for _, name := range names {
			if _, ok := at[name]; !ok {
				if _, err := tx.ExecContext(ctx, `INSERT INTO consumer_checkpoints (name, seq, updated_at) VALUES ($1, 0, $2)
					ON CONFLICT (name) DO NOTHING`, name, store.Now()); err != nil {
					return err
				}
			}
		}
		// Locking every checkpoint row first, in one order, makes this
		// node the consumers' owner for the step without waiting for a
		// row while holding another lock a consumer's Apply took.
		cur, err := r.checkpoints(ctx, tx, names, true)
		if err != nil {
			return err
		}
		for _, c := range cs {
			seq := cur[c.Name()]
			if seq >= to || seq < from {
				continue // ahead of this batch, or rewound since it was read
			}
			part := events[sort.Search(len(events), func(i int) bool { return events[i].Seq > seq }):]
			if sc, ok := c.(Selective); ok {
				want, all, err := sc.Events(ctx, tx)
				if err != nil {
					failed = c
					return fmt.Errorf("%s: %w", c.Name(), err)
				}
				if !all {
					part = only(part, want)
				}
			}
			if part = Live(part); len(part) > 0 {
				if err := c.Apply(ctx, tx, part); err != nil {
					failed = c
					return fmt.Errorf("%s: %w", c.Name(), err)
				}
			}
			if _, err := tx.ExecContext(ctx, `UPDATE consumer_checkpoints SET seq = $1, updated_at = $2 WHERE name = $3`,
				to, store.Now(), c.Name()); err != nil {
				return err
			}
			moved = true
		}
		return nil
	})
	if err != nil || !moved {
		return 0, failed, err
	}
	return len(events), nil, nil
}

// only returns the track events of the names given.
func only(events []Event, names []string) []Event {
	var out []Event
	for _, e := range events {
		if e.Type == Track && slices.Contains(names, e.Event) {
			out = append(out, e)
		}
	}
	return out
}

// checkpoints returns the stored checkpoints of the named consumers (a
// consumer without one is missing from the map), locking their rows when
// lock is set.
func (r *Runner) checkpoints(ctx context.Context, q Querier, names []string, lock bool) (map[string]int64, error) {
	args := make([]any, len(names))
	ps := make([]string, len(names))
	for i, n := range names {
		args[i] = n
		ps[i] = fmt.Sprintf("$%d", i+1)
	}
	s := `SELECT name, seq FROM consumer_checkpoints WHERE name IN (` + strings.Join(ps, ",") + `) ORDER BY name`
	if lock {
		s += r.db.ForUpdate()
	}
	rows, err := q.QueryContext(ctx, s, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[string]int64, len(names))
	for rows.Next() {
		var name string
		var seq int64
		if err := rows.Scan(&name, &seq); err != nil {
			return nil, err
		}
		out[name] = seq
	}
	return out, rows.Err()
}

// Step applies the next batch of events to c and returns how many it applied.
func (r *Runner) Step(ctx context.Context, c Consumer) (int, error) {
	var n int
	err := r.db.TxRecomputable(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO consumer_checkpoints (name, seq, updated_at) VALUES ($1, 0, $2)
			ON CONFLICT (name) DO NOTHING`, c.Name(), store.Now()); err != nil {
			return err
		}
		var at int64
		// The row lock makes one node at a time the consumer's owner.
		if err := tx.QueryRowContext(ctx, `SELECT seq FROM consumer_checkpoints WHERE name = $1`+r.db.ForUpdate(), c.Name()).Scan(&at); err != nil {
			return err
		}
		q := Query{After: at, Limit: batchSize}
		var through int64
		if sc, ok := c.(Selective); ok {
			// The head first, then the names: every event up to the head
			// arrived after what it is read for (a survey, a rule) was
			// made, so the names read next include it. Read the other way
			// round on PostgreSQL, where each statement sees the data as
			// it then stands, an event arriving between the two reads
			// would be skipped for names that did not include it yet.
			head, err := Head(ctx, tx)
			if err != nil {
				return err
			}
			names, all, err := sc.Events(ctx, tx)
			if err != nil {
				return err
			}
			if !all {
				if head <= at {
					return nil
				}
				through = min(head, at+skipWindow)
				q.Through, q.Events = through, names
				if names == nil {
					q.Events = []string{}
				}
			}
		}
		events, err := Read(ctx, tx, q)
		if err != nil {
			return err
		}
		to := through
		if len(events) == batchSize || (through == 0 && len(events) > 0) {
			to = events[len(events)-1].Seq
		}
		if to <= at {
			return nil
		}
		if live := Live(events); len(live) > 0 {
			if err := c.Apply(ctx, tx, live); err != nil {
				return fmt.Errorf("%s: %w", c.Name(), err)
			}
		}
		// A step that skipped events without applying any still counts, so
		// that catching up ends.
		n = max(len(events), 1)
		_, err = tx.ExecContext(ctx, `UPDATE consumer_checkpoints SET seq = $1, updated_at = $2 WHERE name = $3`,
			to, store.Now(), c.Name())
		return err
	})
	return n, err
}

// CatchUp applies events to c until it has read the whole log.
func (r *Runner) CatchUp(ctx context.Context, c Consumer) (int, error) {
	total := 0
	for {
		n, err := r.Step(ctx, c)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// Replay empties c's state, rewinds its checkpoint and rebuilds it from the
// whole log. It returns how many events it applied.
func (r *Runner) Replay(ctx context.Context, c Consumer) (int, error) {
	err := r.db.TxRecomputable(ctx, func(tx *store.Tx) error {
		if err := c.Reset(ctx, tx); err != nil {
			return fmt.Errorf("reset %s: %w", c.Name(), err)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO consumer_checkpoints (name, seq, updated_at) VALUES ($1, 0, $2)
			ON CONFLICT (name) DO UPDATE SET seq = 0, updated_at = $2`, c.Name(), store.Now())
		return err
	})
	if err != nil {
		return 0, err
	}
	return r.CatchUp(ctx, c)
}

// Names are the runner's consumers' names.
func (r *Runner) Names() []string {
	names := make([]string, len(r.consumers))
	for i, c := range r.consumers {
		names[i] = c.Name()
	}
	return names
}

// Checkpoint returns the seq c has read up to.
func (r *Runner) Checkpoint(ctx context.Context, name string) (int64, error) {
	var at int64
	err := r.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM consumer_checkpoints WHERE name = $1`, name).Scan(&at)
	return at, err
}

// Wait blocks until every consumer has read the log up to seq.
func (r *Runner) Wait(ctx context.Context, seq int64) error {
	return r.WaitFor(ctx, seq, r.Names()...)
}

// WaitFor blocks until the named consumers have read the log up to seq.
func (r *Runner) WaitFor(ctx context.Context, seq int64, names ...string) error {
	for {
		behind := false
		for _, name := range names {
			at, err := r.Checkpoint(ctx, name)
			if err != nil {
				return err
			}
			if at < seq {
				behind = true
			}
		}
		if !behind {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Positions says where every consumer has read the log up to, as one
// string ("analytics:120,profile:118,…"): it changes whenever any
// consumer applies an event, so a reader of projections can tell whether
// they moved since it last read them.
func Positions(ctx context.Context, q Querier) (string, error) {
	var b strings.Builder
	rows, err := q.QueryContext(ctx, `SELECT name, seq FROM consumer_checkpoints ORDER BY name`)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var seq int64
		if err := rows.Scan(&name, &seq); err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s:%d,", name, seq)
	}
	return b.String(), rows.Err()
}
