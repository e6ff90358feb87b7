package eventlog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cxloop/cxloop/internal/store"
)

// appendLock is the advisory-lock key that keeps appends on several nodes
// in one order, so that seq order is commit order.
const appendLock = 0x6576656e7473 // "events"

// maxGroup bounds how many events one group commit carries.
const maxGroup = 20000

// Log appends to and reads from the event log.
type Log struct {
	db   *store.DB
	log  *slog.Logger
	reqs chan *appendReq

	queued atomic.Int64 // append requests queued or being committed
	load   appendLoad   // how much of the writer's time appends take

	mu      sync.Mutex
	changed chan struct{}
	start   sync.Once
	stopped chan struct{} // closed when the writer has ended
	metrics logMetrics
}

type appendReq struct {
	events []Event
	done   chan error
}

// New returns a Log over db. Call Start before Append.
func New(db *store.DB, log *slog.Logger) *Log {
	return &Log{db: db, log: log, reqs: make(chan *appendReq, 1024), changed: make(chan struct{}), stopped: make(chan struct{}), metrics: newLogMetrics()}
}

// Start runs the group-commit writer until ctx ends.
func (l *Log) Start(ctx context.Context) {
	l.start.Do(func() { go l.writer(ctx) })
}

// Changed returns a channel that is closed at the next append.
func (l *Log) Changed() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.changed
}

// Notify wakes the consumers after a command's transaction that called
// AppendTx has committed.
func (l *Log) Notify() { l.notify() }

func (l *Log) notify() {
	l.mu.Lock()
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// Append writes events to the log and returns once they are durably
// committed. Events whose MessageID is already in the log are skipped.
// Concurrent appends are committed together (group commit).
func (l *Log) Append(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	r := &appendReq{events: events, done: make(chan error, 1)}
	l.queued.Add(1)
	select {
	case l.reqs <- r:
	case <-ctx.Done():
		l.queued.Add(-1)
		return ctx.Err()
	}
	// Once queued the request is committed or failed; wait for the answer
	// even if the caller gives up, so that no write is left half-known.
	select {
	case err := <-r.done:
		return err
	case <-l.stopped:
		select {
		case err := <-r.done:
			return err
		default:
			return errors.New("append: the event log is shutting down")
		}
	}
}

func (l *Log) writer(ctx context.Context) {
	var syncing sync.WaitGroup // groups committed and waiting for their sync
	for {
		var first *appendReq
		select {
		case first = <-l.reqs:
		case <-ctx.Done():
			syncing.Wait()
			close(l.stopped)
			l.drainFailed(ctx.Err())
			return
		}
		group := []*appendReq{first}
		n := len(first.events)
	more:
		for n < maxGroup {
			select {
			case r := <-l.reqs:
				group = append(group, r)
				n += len(r.events)
			default:
				break more
			}
		}
		all := make([]Event, 0, n)
		for _, r := range group {
			all = append(all, r.events...)
		}
		wait, err := l.commit(ctx, all)
		if err == nil {
			l.queued.Add(-int64(len(group)))
		}
		switch {
		case err != nil && len(group) > 1:
			// One request's events may be what the database refused: commit
			// each request on its own so that only that one fails.
			for _, r := range group {
				wait, err := l.commit(ctx, r.events)
				l.queued.Add(-1)
				if err == nil {
					err = wait()
				}
				r.done <- err
			}
			l.notify()
		case err != nil:
			l.queued.Add(-1)
			first.done <- err
		default:
			// The group is acknowledged once its commit is on disk; the next
			// group's transaction runs meanwhile.
			syncing.Add(1)
			go func() {
				defer syncing.Done()
				err := wait()
				for _, r := range group {
					r.done <- err
				}
				l.notify()
			}()
		}
	}
}

// commit appends events in a transaction of their own and returns the
// function that waits until the commit is on disk.
func (l *Log) commit(ctx context.Context, events []Event) (wait func() error, err error) {
	start := time.Now()
	wait, err = l.db.TxThenSync(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		return l.AppendTx(ctx, tx, events)
	})
	if err != nil {
		l.log.Error("append failed", "events", len(events), "err", err)
		return nil, err
	}
	end := time.Now()
	l.load.add(start, end)
	l.metrics.commit.Observe(end.Sub(start).Seconds())
	l.metrics.group.Observe(float64(len(events)))
	l.metrics.appended.Add(float64(len(events)))
	return wait, nil
}

// yieldLimit is the longest the consumers give way to appends before they
// take the writer for one batch anyway.
const yieldLimit = time.Second

// yield waits, up to yieldLimit, while appends are queued for the writer or
// being committed, or have lately taken much of the writer's time. On
// SQLite, where appends and consumer batches take turns on one writer, the
// consumers call it before each batch: a burst of events is acknowledged at
// the rate the log alone can store them and the consumers catch up after
// it, instead of every client waiting behind the consumers' work. Under
// lighter load the consumers wait only for a commit in progress and stay
// current; under sustained full load they still step at least once every
// yieldLimit.
func (l *Log) yield(ctx context.Context) {
	deadline := time.Now().Add(yieldLimit)
	for time.Now().Before(deadline) && (l.queued.Load() > 0 || l.load.heavy(time.Now())) {
		if !sleep(ctx, 2*time.Millisecond) {
			return
		}
	}
}

// loadWindow is the period over which appendLoad measures the writer's
// time taken by appends, and heavyShare the smoothed share of it past
// which the consumers give way.
const (
	loadWindow = 100 * time.Millisecond
	heavyShare = 0.4
)

// appendLoad estimates the share of the writer's time that group commits
// take: their transactions' time in each loadWindow, smoothed over the
// last few windows so that the window a consumer batch held the writer
// does not read as the end of a burst.
type appendLoad struct {
	mu    sync.Mutex
	start time.Time     // the current window's start
	busy  time.Duration // commit time in the current window
	share float64       // smoothed share of the windows before
	last  time.Time     // when the last commit ended
}

// add records a group commit's transaction from began to ended.
func (a *appendLoad) add(began, ended time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.start.IsZero() || ended.Sub(a.start) > 10*loadWindow {
		a.start, a.busy, a.share = began, 0, 0 // the first commit, or after a quiet spell
	}
	for ended.Sub(a.start) >= loadWindow {
		a.share = 0.7*a.share + 0.3*min(1, float64(a.busy)/float64(loadWindow))
		a.busy = 0
		a.start = a.start.Add(loadWindow)
	}
	a.busy += ended.Sub(began)
	a.last = ended
}

// heavy reports whether appends have lately taken much of the writer's
// time and are still coming.
func (a *appendLoad) heavy(now time.Time) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return !a.last.IsZero() && now.Sub(a.last) < 2*loadWindow && a.share >= heavyShare
}

func (l *Log) drainFailed(err error) {
	for {
		select {
		case r := <-l.reqs:
			l.queued.Add(-1)
			r.done <- err
		default:
			return
		}
	}
}

// AppendTx writes events inside the caller's transaction, for commands that
// change their own tables and record the matching event atomically. It
// assigns each new event its seq; duplicates of a stored MessageID are skipped.
func (l *Log) AppendTx(ctx context.Context, tx *store.Tx, events []Event) error {
	if err := l.db.Lock(ctx, tx, appendLock); err != nil {
		return fmt.Errorf("lock log: %w", err)
	}
	var head int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&head); err != nil {
		return fmt.Errorf("log head: %w", err)
	}
	seen := make(map[string]bool, len(events))
	rows := make([]*Event, 0, len(events))
	for i := range events {
		e := &events[i]
		if e.MessageID == "" {
			return errors.New("append: event without messageId")
		}
		if seen[e.MessageID] {
			continue
		}
		seen[e.MessageID] = true
		head++
		e.Seq = head
		rows = append(rows, e)
	}
	args := make([][]any, len(rows))
	for i, e := range rows {
		args[i] = []any{e.Seq, e.MessageID, e.Type, e.Event, nullable(e.UserID), nullable(e.AnonymousID),
			e.Channel, e.Contact, e.SourceID, e.Timestamp, e.ReceivedAt, string(e.Body)}
	}
	err := l.db.BulkInsert(ctx, tx, `INSERT INTO events (seq, message_id, type, event, user_id, anonymous_id, channel, contact, source_id, ts, received_at, body) VALUES`,
		`ON CONFLICT (message_id) DO NOTHING`, 12, args)
	if err != nil {
		return fmt.Errorf("append events: %w", err)
	}
	return nil
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Querier is satisfied by *sql.DB and *store.Tx.
type Querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// EachTracked calls fn with the identities (userId, anonymousId; "" when
// absent) of every track event named event at or after since (Unix ms).
func EachTracked(ctx context.Context, q Querier, event string, since int64, fn func(user, anon string) error) error {
	rows, err := q.QueryContext(ctx, `SELECT COALESCE(user_id, ''), COALESCE(anonymous_id, '') FROM events
		WHERE type = 'track' AND event = $1 AND ts >= $2`, event, since)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var user, anon string
		if err := rows.Scan(&user, &anon); err != nil {
			return err
		}
		if err := fn(user, anon); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Locate finds the stored message of that messageId: its log position and
// its timestamp (Unix ms); ok is false when the log does not hold it.
func Locate(ctx context.Context, q Querier, messageID string) (seq, ts int64, ok bool, err error) {
	err = q.QueryRowContext(ctx, `SELECT seq, ts FROM events WHERE message_id = $1`, messageID).Scan(&seq, &ts)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, nil
	}
	return seq, ts, err == nil, err
}

// Query selects events from the log.
type Query struct {
	After        int64    // only events with seq > After
	Limit        int      // at most this many (default 100)
	Type         string   // message type, or empty
	Event        string   // track event name, or empty
	Events       []string // with Through: only track events of these names
	Through      int64    // when > 0, only events with seq <= Through
	UserIDs      []string // with AnonymousIDs: only events of these identities
	AnonymousIDs []string
	ByTime       bool // order by timestamp instead of seq (timelines)
	Desc         bool // with ByTime: newest first
	Offset       int  // with ByTime: skip this many
}

const eventCols = `seq, message_id, type, event, COALESCE(user_id, ''), COALESCE(anonymous_id, ''), channel, contact, source_id, ts, received_at, body`

// Read returns the events q selects, in seq order (or time order with ByTime).
func Read(ctx context.Context, db Querier, q Query) ([]Event, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if q.After > 0 {
		where = append(where, "seq > "+arg(q.After))
	}
	if q.Type != "" {
		where = append(where, "type = "+arg(q.Type))
	}
	if q.Event != "" {
		where = append(where, "event = "+arg(q.Event))
	}
	if q.Through > 0 {
		where = append(where, "seq <= "+arg(q.Through))
	}
	if q.Events != nil {
		if len(q.Events) == 0 {
			return nil, nil
		}
		where = append(where, "type = 'track' AND event IN ("+list(arg, q.Events)+")")
	}
	if q.UserIDs != nil || q.AnonymousIDs != nil {
		var ors []string
		if len(q.UserIDs) > 0 {
			ors = append(ors, "user_id IN ("+list(arg, q.UserIDs)+")")
		}
		if len(q.AnonymousIDs) > 0 {
			ors = append(ors, "anonymous_id IN ("+list(arg, q.AnonymousIDs)+")")
		}
		if len(ors) == 0 {
			return nil, nil
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	s := `SELECT ` + eventCols + ` FROM events`
	if len(where) > 0 {
		s += " WHERE " + strings.Join(where, " AND ")
	}
	if q.ByTime {
		order := " ORDER BY ts, seq"
		if q.Desc {
			order = " ORDER BY ts DESC, seq DESC"
		}
		s += order + " LIMIT " + arg(limit) + " OFFSET " + arg(q.Offset)
	} else {
		s += " ORDER BY seq LIMIT " + arg(limit)
	}
	rows, err := db.QueryContext(ctx, s, args...)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		var body string
		if err := rows.Scan(&e.Seq, &e.MessageID, &e.Type, &e.Event, &e.UserID, &e.AnonymousID, &e.Channel, &e.Contact,
			&e.SourceID, &e.Timestamp, &e.ReceivedAt, &body); err != nil {
			return nil, err
		}
		e.Body = []byte(body)
		out = append(out, e)
	}
	return out, rows.Err()
}

func list(arg func(any) string, vs []string) string {
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = arg(v)
	}
	return strings.Join(ps, ",")
}

// Head returns the highest seq in the log (0 when empty).
func Head(ctx context.Context, db Querier) (int64, error) {
	var head int64
	err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&head)
	return head, err
}

// Count returns how many events of q's identities (and, when q.Event is
// set, of that name) happened in [from, to) by timestamp, the events cxloop
// writes about its own actions left out.
func Count(ctx context.Context, db Querier, q Query, from, to int64) (int, error) {
	var conds []string
	args := []any{from, to, SourceActions}
	for _, u := range q.UserIDs {
		args = append(args, u)
		conds = append(conds, fmt.Sprintf("user_id = $%d", len(args)))
	}
	for _, a := range q.AnonymousIDs {
		args = append(args, a)
		conds = append(conds, fmt.Sprintf("anonymous_id = $%d", len(args)))
	}
	if len(conds) == 0 {
		return 0, nil
	}
	where := `ts >= $1 AND ts < $2 AND source_id <> $3 AND (` + strings.Join(conds, " OR ") + `)`
	if q.Event != "" {
		args = append(args, q.Event)
		where += fmt.Sprintf(" AND event = $%d", len(args))
	}
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM events WHERE `+where, args...).Scan(&n)
	return n, err
}
