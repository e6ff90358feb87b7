// Package store opens cxloop's database — embedded SQLite (the default) or
// PostgreSQL — applies the embedded migrations, and holds the few places
// where the two engines differ. All other packages write one portable SQL
// dialect ($1 placeholders, ON CONFLICT, RETURNING, integer times and money).
//
// It imports nothing from cxloop.
package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Engine names a database engine.
type Engine string

// The supported engines.
const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"
)

// DB is an open cxloop database. The embedded *sql.DB serves reads; writes
// go through Tx, which on SQLite uses a single writer connection so that
// writers queue in Go instead of spinning on the file lock.
type DB struct {
	*sql.DB
	w      *sql.DB
	Engine Engine

	stopCheckpoints func()   // ends the SQLite checkpointer
	wal             *walSync // syncs SQLite commits to disk
	path            string   // the SQLite database file
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens the database named by dsn: a postgres:// URL or a SQLite file path.
// It does not migrate; call Migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgres(dsn) {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		// Seven consumers and the background jobs each hold a transaction
		// at times, and a consumer may ask for a reading connection while it
		// holds one: leave room beyond them for requests.
		db.SetMaxOpenConns(32)
		db.SetMaxIdleConns(16)
		db.SetConnMaxIdleTime(5 * time.Minute)
		if err := db.PingContext(ctx); err != nil {
			db.Close()
			return nil, fmt.Errorf("connect postgres: %w", err)
		}
		return &DB{DB: db, w: db, Engine: Postgres}, nil
	}
	path := strings.TrimPrefix(dsn, "sqlite://")
	if path == "" {
		return nil, errors.New("open sqlite: empty path")
	}
	// Durability: in WAL mode a commit is written to the WAL file before it
	// returns (it survives the process's crash); it survives the machine's
	// once the WAL is synced. The writer runs with synchronous=NORMAL and Tx
	// syncs the WAL after the commit, outside the writer's lock (walSync), so
	// that the next transaction need not wait for the disk and concurrent
	// commits share a sync. Checkpoints sync as they always do.
	//
	// secure_delete makes SQLite overwrite what a delete or an update frees
	// with zeros, so an erased customer (docs/privacy.md) is not left
	// readable in free space of the file.
	pragmas := "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_pragma=secure_delete(1)"
	base := "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + pragmas
	// The writer's page cache is 8 MB, four times SQLite's default, which a
	// consumer batch's transaction spilled from. Larger is slower: at every
	// commit SQLite walks the whole cache's hash table to drop pages past
	// the end of the file, and at 64 MB that walk was a sixth of the
	// writer's time under the ingestion benchmark (docs/performance.md).
	//
	// The writer leaves copying the WAL back into the database file to the
	// checkpointer (below) and does it itself only when the WAL has grown
	// past 80 MB, which a checkpointer that cannot keep up lets happen.
	w, err := sql.Open("sqlite", base+"&_txlock=immediate&_pragma=cache_size(-8192)&_pragma=wal_autocheckpoint(20000)")
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	ck, err := sql.Open("sqlite", base)
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	ck.SetMaxOpenConns(1)
	db := &DB{DB: r, w: w, Engine: SQLite, wal: newWALSync(path), path: path}
	db.stopCheckpoints = sync.OnceFunc(checkpointer(ck))
	return db, nil
}

// checkpointInterval is how often the checkpointer copies the WAL's
// committed pages into the database file.
const checkpointInterval = 500 * time.Millisecond

// checkpointer copies committed pages from the WAL into the database file
// on a connection of its own, beside the writer: a passive checkpoint
// neither waits for nor blocks the writer or the readers, so the writer's
// commits no longer include the copy and its file sync. It returns the
// function that stops it and closes its connection.
func checkpointer(ck *sql.DB) func() {
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(checkpointInterval)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				// An error (the database busy, closing) is tried again at the next tick.
				_, _ = ck.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		ck.Close()
	}
}

// Writer is the pool write transactions use: on SQLite its one
// connection, on PostgreSQL the shared pool. The job system runs on it, so
// that a job enqueued in a decision's transaction and the job system's own
// writes queue behind the same writer.
func (db *DB) Writer() *sql.DB { return db.w }

// DB is the database the transaction writes to.
func (tx *Tx) DB() *DB { return tx.db }

// Close closes both pools.
func (db *DB) Close() error {
	if db.stopCheckpoints != nil {
		db.stopCheckpoints()
	}
	err := db.DB.Close()
	if db.wal != nil {
		db.wal.close()
	}
	if db.w != db.DB {
		if werr := db.w.Close(); err == nil {
			err = werr
		}
	}
	return err
}

// Tx is a write transaction. On SQLite, whose driver parses every query
// it runs, its Exec and Query methods prepare each distinct query once per
// transaction and reuse it, so a consumer's loop of small statements over a
// batch of events does not parse the same SQL again for each event.
type Tx struct {
	*sql.Tx
	db    *DB
	stmts map[string]*sql.Stmt
}

// maxCachedStmts bounds the per-transaction cache; queries past it are parsed each time.
const maxCachedStmts = 256

// On SQLite a statement in a transaction runs without its context's
// cancellation: for every statement run under a cancellable context the
// driver starts a goroutine to watch it, which cost the event log's appends
// and the consumers' batches a goroutine per row. SQLite's statements in a
// write transaction are short, and the transaction's own context still ends
// it between statements (database/sql rolls it back).
func sqliteCtx(ctx context.Context, tx *Tx) context.Context {
	if tx.db.Engine != SQLite {
		return ctx
	}
	return context.WithoutCancel(ctx)
}

func (tx *Tx) stmt(ctx context.Context, query string) *sql.Stmt {
	if tx.db.Engine != SQLite {
		return nil // pgx keeps its own statement cache per connection
	}
	if st, ok := tx.stmts[query]; ok {
		return st
	}
	if len(tx.stmts) >= maxCachedStmts {
		return nil
	}
	st, err := tx.Tx.PrepareContext(ctx, query)
	if err != nil {
		return nil // let the uncached path report the error
	}
	if tx.stmts == nil {
		tx.stmts = map[string]*sql.Stmt{}
	}
	tx.stmts[query] = st
	return st
}

// ExecContext executes a statement in the transaction.
func (tx *Tx) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	ctx = sqliteCtx(ctx, tx)
	if st := tx.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return tx.Tx.ExecContext(ctx, query, args...)
}

// QueryContext runs a query in the transaction.
func (tx *Tx) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	ctx = sqliteCtx(ctx, tx)
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return tx.Tx.QueryContext(ctx, query, args...)
}

// QueryRowContext runs a query expected to return at most one row.
func (tx *Tx) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	ctx = sqliteCtx(ctx, tx)
	if st := tx.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return tx.Tx.QueryRowContext(ctx, query, args...)
}

// TxRecomputable runs fn in a write transaction whose commit need not wait
// for the disk: state that can be rebuilt from the event log, such as a
// consumer's projection committed with its checkpoint. A crash of the
// machine may lose the last such commits, never corrupt them, and the
// consumer then reads those events again. Appends never use it.
func (db *DB) TxRecomputable(ctx context.Context, fn func(tx *Tx) error) error {
	if db.Engine == Postgres {
		return db.Tx(ctx, func(tx *Tx) error {
			if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
				return err
			}
			return fn(tx)
		})
	}
	return db.tx(ctx, fn)
}

// Tx runs fn in a write transaction and commits it when fn returns nil;
// when it returns nil the commit is on disk.
func (db *DB) Tx(ctx context.Context, fn func(tx *Tx) error) error {
	wait, err := db.TxThenSync(ctx, fn)
	if err != nil {
		return err
	}
	return wait()
}

// TxThenSync commits like Tx but returns before the commit is on disk,
// with the function that waits until it is. The writer is free again when
// it returns: the event log's group commit starts the next group's
// transaction while the last one's sync runs. The commit must not be
// reported durable to anyone before wait returns nil. On PostgreSQL the
// commit is on disk when TxThenSync returns.
func (db *DB) TxThenSync(ctx context.Context, fn func(tx *Tx) error) (wait func() error, err error) {
	if err := db.tx(ctx, fn); err != nil {
		return nil, err
	}
	if db.wal == nil {
		return func() error { return nil }, nil
	}
	return db.wal.sync, nil
}

func (db *DB) tx(ctx context.Context, fn func(tx *Tx) error) error {
	sqltx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	return finish(&Tx{Tx: sqltx, db: db}, fn)
}

func finish(tx *Tx, fn func(tx *Tx) error) error {
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Lock takes a transaction-scoped exclusive lock named by key, so that
// writers on several nodes serialise. On SQLite the write transaction
// already excludes every other writer.
func (db *DB) Lock(ctx context.Context, tx *Tx, key int64) error {
	if db.Engine != Postgres {
		return nil
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, key)
	return err
}

// ForUpdate is the row-locking suffix for a SELECT inside a write transaction.
func (db *DB) ForUpdate() string {
	if db.Engine == Postgres {
		return " FOR UPDATE"
	}
	return ""
}

// MaxParams is how many bind parameters one statement may carry.
func (db *DB) MaxParams() int {
	if db.Engine == Postgres {
		return 65535
	}
	return 32766
}

// IsUniqueViolation reports whether err is a unique-constraint failure.
func IsUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || se.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	return false
}

// Now is the current time in unix milliseconds, the unit of every stored time.
func Now() int64 { return time.Now().UnixMilli() }

// NewID returns a random identifier with the prefix, such as "src_5kq3…".
func NewID(prefix string) string {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return prefix + "_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Secret returns a random URL-safe secret of n bytes of entropy.
func Secret(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash is the stored form of a high-entropy secret (write keys, tokens).
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Millis is a stored time (unix milliseconds) that reads as RFC 3339 in JSON.
type Millis int64

// MarshalJSON writes the time as an RFC 3339 string, or null for zero.
func (m Millis) MarshalJSON() ([]byte, error) {
	if m == 0 {
		return []byte("null"), nil
	}
	return []byte(`"` + time.UnixMilli(int64(m)).UTC().Format("2006-01-02T15:04:05.000Z07:00") + `"`), nil
}

// UnmarshalJSON reads what MarshalJSON writes (an RFC 3339 time or null),
// or a number of unix milliseconds.
func (m *Millis) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*m = 0
		return nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		*m = Millis(n)
		return nil
	}
	var t time.Time
	if err := t.UnmarshalJSON(b); err != nil {
		return fmt.Errorf("a time is an RFC 3339 string or unix milliseconds")
	}
	*m = Millis(t.UnixMilli())
	return nil
}

// BulkInsert inserts rows (each of len cols) as "head (…values…) tail" in
// the form each engine takes fastest: on SQLite one prepared single-row
// statement run per row (SQLite resolves numbered parameters in time that
// grows with their count squared), on PostgreSQL multi-row statements.
func (db *DB) BulkInsert(ctx context.Context, tx *Tx, head, tail string, cols int, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if db.Engine == SQLite {
		// Anonymous parameters: SQLite binds them by position without
		// looking each one's name up, which numbered ones cost at every row.
		q := head + " (" + strings.TrimSuffix(strings.Repeat("?,", cols), ",") + ") " + tail
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, q, r...); err != nil {
				return err
			}
		}
		return nil
	}
	per := min(500, db.MaxParams()/cols)
	for len(rows) > 0 {
		chunk := rows[:min(per, len(rows))]
		rows = rows[len(chunk):]
		args := make([]any, 0, len(chunk)*cols)
		for _, r := range chunk {
			args = append(args, r...)
		}
		if _, err := tx.ExecContext(ctx, head+" "+placeholders(1, len(chunk), cols)+" "+tail, args...); err != nil {
			return err
		}
	}
	return nil
}

// Analyze refreshes PostgreSQL's planner statistics of tables after a bulk
// change, so that the next queries see their new size (autovacuum would,
// but only a minute or more later). SQLite plans without them: a no-op.
func (db *DB) Analyze(ctx context.Context, tables ...string) error {
	if db.Engine != Postgres {
		return nil
	}
	for _, t := range tables {
		if _, err := db.w.ExecContext(ctx, "ANALYZE "+t); err != nil {
			return err
		}
	}
	return nil
}

// Column names a column of a bulk update and its SQL type (text, bigint, double precision).
type Column struct{ Name, Type string }

// BulkUpdate sets cols of many rows found by key; each row holds the cols'
// values and then the key's. SQLite runs one prepared statement a row (no
// round trips to save); PostgreSQL runs one UPDATE … FROM (VALUES …) for
// up to 500 rows, saving a round trip a row.
func (db *DB) BulkUpdate(ctx context.Context, tx *Tx, table string, cols []Column, key Column, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	if db.Engine == SQLite {
		set := make([]string, len(cols))
		for i, c := range cols {
			set[i] = fmt.Sprintf("%s = $%d", c.Name, i+1)
		}
		q := fmt.Sprintf("UPDATE %s SET %s WHERE %s = $%d", table, strings.Join(set, ", "), key.Name, len(cols)+1)
		for _, r := range rows {
			if _, err := tx.ExecContext(ctx, q, r...); err != nil {
				return err
			}
		}
		return nil
	}
	all := append(append([]Column(nil), cols...), key)
	set := make([]string, len(cols))
	for i, c := range cols {
		set[i] = fmt.Sprintf("%s = v.column%d", c.Name, i+1)
	}
	per := min(500, db.MaxParams()/len(all))
	for len(rows) > 0 {
		chunk := rows[:min(per, len(rows))]
		rows = rows[len(chunk):]
		var b strings.Builder
		args := make([]any, 0, len(chunk)*len(all))
		for i, r := range chunk {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j, c := range all {
				if j > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "$%d::%s", len(args)+j+1, c.Type)
			}
			b.WriteByte(')')
			args = append(args, r...)
		}
		q := fmt.Sprintf("UPDATE %s SET %s FROM (VALUES %s) AS v WHERE %s.%s = v.column%d", table, strings.Join(set, ", "), b.String(), table, key.Name, len(all))
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// placeholders writes n groups of cols numbered parameters from $first.
func placeholders(first, n, cols int) string {
	var b strings.Builder
	p := first
	for r := 0; r < n; r++ {
		if r > 0 {
			b.WriteByte(',')
		}
		b.WriteByte('(')
		for c := 0; c < cols; c++ {
			if c > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(p))
			p++
		}
		b.WriteByte(')')
	}
	return b.String()
}

// Each runs a query and calls fn for each row.
func (db *DB) Each(ctx context.Context, q string, args []any, fn func(*sql.Rows) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// EachIn runs q, which ends in "IN ", with the lead arguments first and
// the values in groups small enough for either engine's parameter limit,
// calling fn for each row.
// Strings runs q and returns its rows' single text column.
func (db *DB) Strings(ctx context.Context, q string, args ...any) ([]string, error) {
	var out []string
	err := db.Each(ctx, q, args, func(r *sql.Rows) error {
		var v string
		err := r.Scan(&v)
		out = append(out, v)
		return err
	})
	return out, err
}

func (db *DB) EachIn(ctx context.Context, q string, lead, values []any, fn func(*sql.Rows) error) error {
	for len(values) > 0 {
		n := min(len(values), 500)
		ph := make([]string, n)
		for i := range ph {
			ph[i] = "$" + strconv.Itoa(len(lead)+i+1)
		}
		args := append(append([]any{}, lead...), values[:n]...)
		if err := db.Each(ctx, q+"("+strings.Join(ph, ",")+")", args, fn); err != nil {
			return err
		}
		values = values[n:]
	}
	return nil
}

// Scrub makes what was deleted unreadable in the database's files, as far
// as the engine allows (docs/privacy.md). On SQLite, deleted content is
// zeroed as it is freed (secure_delete); Scrub then copies the WAL into the
// database file and truncates the WAL, whose frames still hold the pages as
// they were before. secure_delete does not reach everything: now and then a
// page split leaves an old copy of a moved cell in a page's free space, and
// when the cell is deleted later that copy stays. So Scrub reads the file
// for each of needles (what was erased) and, when one is still there,
// rewrites the file (VACUUM) and looks again. On PostgreSQL it does
// nothing: deleted rows stay in the table files until a VACUUM reclaims
// their space and later writes reuse it, and in the WAL and backups until
// they are recycled.
func (db *DB) Scrub(ctx context.Context, needles ...string) error {
	if db.Engine != SQLite {
		return nil
	}
	if err := db.truncateWAL(ctx); err != nil {
		return err
	}
	left, err := db.fileHolds(needles)
	if err != nil || left == "" {
		return err
	}
	if _, err := db.w.ExecContext(ctx, `VACUUM`); err != nil {
		return fmt.Errorf("scrub: %w", err)
	}
	if err := db.truncateWAL(ctx); err != nil {
		return err
	}
	if left, err = db.fileHolds(needles); err == nil && left != "" {
		err = fmt.Errorf("scrub: %q is still in the database file after VACUUM", left)
	}
	return err
}

// truncateWAL copies the WAL into the database file and empties it.
func (db *DB) truncateWAL(ctx context.Context) error {
	for try := 0; ; try++ {
		var busy, frames, done int
		err := db.w.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &done)
		if err != nil {
			return fmt.Errorf("scrub: %w", err)
		}
		if busy == 0 {
			return nil
		}
		if try == 300 { // 30 s: a busy machine's readers may hold old snapshots that long
			return errors.New("scrub: readers kept the WAL from being truncated; it will be at the next checkpoint")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// fileHolds returns the first of needles found in the database file's
// bytes, or "".
func (db *DB) fileHolds(needles []string) (string, error) {
	var longest int
	for _, n := range needles {
		longest = max(longest, len(n))
	}
	if longest == 0 {
		return "", nil
	}
	f, err := os.Open(db.path)
	if err != nil {
		return "", fmt.Errorf("scrub: %w", err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20+longest)
	kept := 0 // the last chunk's tail, so that a needle across two reads is seen
	for {
		n, err := io.ReadFull(f, buf[kept:])
		chunk := buf[:kept+n]
		for _, s := range needles {
			if s != "" && bytes.Contains(chunk, []byte(s)) {
				return s, nil
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return "", nil
		}
		if err != nil {
			return "", fmt.Errorf("scrub: %w", err)
		}
		kept = min(longest-1, len(chunk))
		copy(buf, chunk[len(chunk)-kept:])
	}
}

// Vacuum rewrites the whole database so that nothing deleted before
// secure_delete was on (databases created by earlier versions) stays in its
// free space: SQLite's VACUUM, then a truncated WAL; PostgreSQL's VACUUM
// FULL, which rewrites every table and locks each while it does.
func (db *DB) Vacuum(ctx context.Context) error {
	if db.Engine == Postgres {
		_, err := db.w.ExecContext(ctx, `VACUUM FULL`)
		return err
	}
	if _, err := db.w.ExecContext(ctx, `VACUUM`); err != nil {
		return err
	}
	return db.truncateWAL(ctx)
}

// Span is a report period's bounds [from, to) in Unix ms, for a query's
// "at >= lo AND at < hi"; a zero bound is open.
func Span(from, to time.Time) (lo, hi int64) {
	lo, hi = math.MinInt64, math.MaxInt64
	if !from.IsZero() {
		lo = from.UnixMilli()
	}
	if !to.IsZero() {
		hi = to.UnixMilli()
	}
	return lo, hi
}

// likeEscaper escapes LIKE's wildcards for a pattern with ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// EscapeLike makes s match itself in a LIKE pattern written with
// ESCAPE '\'.
func EscapeLike(s string) string { return likeEscaper.Replace(s) }
