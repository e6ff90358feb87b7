package eventlog

import (
	"context"
	"database/sql"
	"errors"
	"maps"
	"slices"
	"sync/atomic"
	"time"
)

// Lag is how far one consumer is behind the log: the events it has not
// applied yet, and how long the oldest of them has waited (since it was
// received; 0 when it is caught up).
type Lag struct {
	Consumer string  `json:"consumer"`
	Events   int64   `json:"events"`
	Seconds  float64 `json:"seconds"`
}

// Lags reads every consumer's lag from the database (every node's
// consumers: the checkpoints are shared), by consumer name, as of now;
// a consumer named in known that has read nothing yet is behind by the
// whole log.
func Lags(ctx context.Context, q Querier, now time.Time, known ...string) ([]Lag, error) {
	head, err := Head(ctx, q)
	if err != nil {
		return nil, err
	}
	read := map[string]int64{} // consumer → the seq it has read up to
	for _, name := range known {
		read[name] = 0
	}
	rows, err := q.QueryContext(ctx, `SELECT name, seq FROM consumer_checkpoints`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var name string
		var seq int64
		if err := rows.Scan(&name, &seq); err != nil {
			rows.Close()
			return nil, err
		}
		read[name] = seq
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]Lag, 0, len(read))
	for _, name := range slices.Sorted(maps.Keys(read)) {
		l := Lag{Consumer: name, Events: max(0, head-read[name])}
		if l.Events > 0 {
			// The oldest event not applied: the first after the checkpoint.
			var received int64
			err := q.QueryRowContext(ctx, `SELECT received_at FROM events WHERE seq > $1 ORDER BY seq LIMIT 1`, read[name]).Scan(&received)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return nil, err
			}
			if err == nil {
				l.Seconds = max(0, now.Sub(time.UnixMilli(received)).Seconds())
			}
		}
		out = append(out, l)
	}
	return out, nil
}

// Pressure watches the consumers' lag for ingestion: past a bound (in
// events) new events wait, so that lag stays bounded instead of growing
// while clients send faster than every consumer applies.
type Pressure struct {
	db    Querier
	bound int64 // events; 0: no bound
	now   func() time.Time
	names []string // the consumers there are, whether they have read yet or not
	worst atomic.Pointer[Lag]
}

// NewPressure watches the lag of the consumers named (and of any other
// with a checkpoint) against bound (events behind; 0 disables it); now is
// the clock (nil: time.Now).
func NewPressure(db Querier, bound int64, now func() time.Time, names ...string) *Pressure {
	if now == nil {
		now = time.Now
	}
	return &Pressure{db: db, bound: bound, now: now, names: names}
}

// Lags reads every consumer's lag now (see Lags).
func (p *Pressure) Lags(ctx context.Context) ([]Lag, error) {
	return Lags(ctx, p.db, p.now(), p.names...)
}

// Bound is the lag, in events, past which ingestion waits (0: none).
func (p *Pressure) Bound() int64 { return p.bound }

// Refresh reads the lag now.
func (p *Pressure) Refresh(ctx context.Context) error {
	lags, err := p.Lags(ctx)
	if err != nil {
		return err
	}
	worst := Lag{}
	for _, l := range lags {
		if l.Events > worst.Events {
			worst = l
		}
	}
	p.worst.Store(&worst)
	return nil
}

// Run refreshes the lag every second until ctx ends.
func (p *Pressure) Run(ctx context.Context) {
	if p.bound <= 0 {
		return
	}
	go func() {
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			_ = p.Refresh(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
}

// Over returns the consumer furthest behind and whether it is past the
// bound, as of the last refresh.
func (p *Pressure) Over() (Lag, bool) {
	w := p.worst.Load()
	if w == nil || p.bound <= 0 {
		return Lag{}, false
	}
	return *w, w.Events > p.bound
}
