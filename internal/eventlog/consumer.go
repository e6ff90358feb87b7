package eventlog

import (
	"context"
	"fmt"
	"log/slog"
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

// batchSize is how many events one consumer transaction applies: large
// enough to amortise the commit, small enough that appends waiting for the
// writer are not held up for long.
const batchSize = 250

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

// Run keeps every consumer caught up until ctx ends. It wakes at each local
// append and polls for appends made by other nodes.
func (r *Runner) Run(ctx context.Context) {
	for _, c := range r.consumers {
		go r.run(ctx, c)
	}
}

func (r *Runner) run(ctx context.Context, c Consumer) {
	poll := time.NewTicker(time.Second)
	defer poll.Stop()
	for {
		changed := r.log.Changed()
		n, err := r.Step(ctx, c)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.logger.Error("consumer failed", "consumer", c.Name(), "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Second):
			}
			continue
		}
		if n > 0 {
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
			names, all, err := sc.Events(ctx, tx)
			if err != nil {
				return err
			}
			if !all {
				head, err := Head(ctx, tx)
				if err != nil || head <= at {
					return err
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
		if len(events) > 0 {
			if err := c.Apply(ctx, tx, events); err != nil {
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

// Checkpoint returns the seq c has read up to.
func (r *Runner) Checkpoint(ctx context.Context, name string) (int64, error) {
	var at int64
	err := r.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM consumer_checkpoints WHERE name = $1`, name).Scan(&at)
	return at, err
}

// Wait blocks until every consumer has read the log up to seq.
func (r *Runner) Wait(ctx context.Context, seq int64) error {
	names := make([]string, len(r.consumers))
	for i, c := range r.consumers {
		names[i] = c.Name()
	}
	return r.WaitFor(ctx, seq, names...)
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
