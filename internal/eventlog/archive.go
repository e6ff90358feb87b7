package eventlog

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/cxloop/cxloop/internal/store"
)

// The log kept in bounds (docs/retention.md): the oldest events, once
// every consumer has applied them, are written to a compressed file of
// JSON lines and dropped from the events table; what the consumers made
// of them (profiles, scores, cases, ledgers …) stays. Restore puts an
// archive's events back in the log under their own seq, so that a replay
// reads the archive and the live log as one.

// Archive is one archived range of the log: the events with seq in
// [First, Last], in File (gzip, one JSON object a line).
type Archive struct {
	File      string    `json:"file"`
	First     int64     `json:"first"`
	Last      int64     `json:"last"`
	Events    int64     `json:"events"`
	Bytes     int64     `json:"bytes"`
	SHA256    string    `json:"sha256"`
	CreatedAt time.Time `json:"createdAt"`
}

// archived is an event as an archive line holds it: every column of the
// events table, the body as the JSON it is.
type archived struct {
	Seq         int64           `json:"seq"`
	MessageID   string          `json:"messageId"`
	Type        string          `json:"type"`
	Event       string          `json:"event,omitempty"`
	UserID      string          `json:"userId,omitempty"`
	AnonymousID string          `json:"anonymousId,omitempty"`
	Channel     string          `json:"channel"`
	Contact     string          `json:"contact"`
	SourceID    string          `json:"sourceId"`
	Timestamp   int64           `json:"ts"`
	ReceivedAt  int64           `json:"receivedAt"`
	Body        json.RawMessage `json:"body"`
}

// archiveChunk is how many events one transaction drops.
const archiveChunk = 5000

// ArchiveBefore writes the oldest events of the log — those before the
// first one received at or after the time given, and applied by every
// consumer named — to a new file in dir and drops them from the log. The
// newest event always stays (the log's next seq follows it). It returns nil when there is nothing to archive. An archive whose
// dropping was interrupted is finished first.
func ArchiveBefore(ctx context.Context, db *store.DB, dir string, before time.Time, consumers []string, now time.Time) (*Archive, error) {
	if err := finishDrops(ctx, db); err != nil {
		return nil, err
	}
	through, err := appliedByAll(ctx, db, consumers)
	if err != nil || through == 0 {
		return nil, err
	}
	head, err := Head(ctx, db)
	if err != nil {
		return nil, err
	}
	// The archive is a prefix of the log: every event up to the first one
	// received since, that every consumer has applied, short of the head.
	var first, young sql.NullInt64
	if err := db.QueryRowContext(ctx, `SELECT MIN(seq) FROM events`).Scan(&first); err != nil {
		return nil, err
	}
	if err := db.QueryRowContext(ctx, `SELECT MIN(seq) FROM events WHERE received_at >= $1`, before.UnixMilli()).Scan(&young); err != nil {
		return nil, err
	}
	last := min(through, head-1)
	if young.Valid {
		last = min(last, young.Int64-1)
	}
	if !first.Valid || last < first.Int64 {
		return nil, nil
	}
	a := &Archive{First: first.Int64, Last: last, CreatedAt: now.UTC()}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(filepath.Join(dir, fmt.Sprintf("events-%012d-%012d.jsonl.gz", a.First, a.Last)))
	if err != nil {
		return nil, err
	}
	a.File = abs
	if err := writeArchive(ctx, db, a); err != nil {
		return nil, err
	}
	// The file is on disk and checked: record it, then drop its events.
	if err := exec(ctx, db, `INSERT INTO event_archives (file, first_seq, last_seq, events, bytes, sha256, created_at, dropped)
		VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE)`, a.File, a.First, a.Last, a.Events, a.Bytes, a.SHA256, a.CreatedAt.UnixMilli()); err != nil {
		return nil, err
	}
	return a, finishDrops(ctx, db)
}

// appliedByAll is the seq every consumer named has applied (0 when one of
// them has not started).
func appliedByAll(ctx context.Context, db *store.DB, consumers []string) (int64, error) {
	if len(consumers) == 0 {
		return 0, errors.New("archive: no consumers named")
	}
	at := map[string]int64{}
	err := db.Each(ctx, `SELECT name, seq FROM consumer_checkpoints`, nil, func(r *sql.Rows) error {
		var name string
		var seq int64
		err := r.Scan(&name, &seq)
		at[name] = seq
		return err
	})
	if err != nil {
		return 0, err
	}
	through := int64(-1)
	for _, c := range consumers {
		seq, ok := at[c]
		if !ok {
			return 0, nil
		}
		if through < 0 || seq < through {
			through = seq
		}
	}
	return through, nil
}

// writeArchive writes a's events to a.File (through a temporary file,
// synced, then renamed), reads it back to check it, and fills in its
// count, size and digest.
func writeArchive(ctx context.Context, db *store.DB, a *Archive) error {
	tmp := a.File + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	zw := gzip.NewWriter(f)
	bw := bufio.NewWriterSize(zw, 1<<16)
	enc := json.NewEncoder(bw)
	var n int64
	for from := a.First - 1; from < a.Last; {
		events, err := Read(ctx, db, Query{After: from, Through: a.Last, Limit: archiveChunk})
		if err != nil {
			f.Close()
			return err
		}
		if len(events) == 0 {
			break
		}
		for _, e := range events {
			if err := enc.Encode(lineOf(e)); err != nil {
				f.Close()
				return err
			}
			n++
		}
		from = events[len(events)-1].Seq
	}
	err = errors.Join(bw.Flush(), zw.Close(), f.Sync(), f.Close())
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, a.File); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(a.File)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	sum, size, count, err := checkArchive(a.File)
	if err != nil {
		return err
	}
	if count != n {
		return fmt.Errorf("archive %s: %d events read back, %d written", a.File, count, n)
	}
	a.Events, a.Bytes, a.SHA256 = n, size, sum
	return nil
}

func lineOf(e Event) archived {
	return archived{Seq: e.Seq, MessageID: e.MessageID, Type: e.Type, Event: e.Event, UserID: e.UserID, AnonymousID: e.AnonymousID,
		Channel: e.Channel, Contact: e.Contact, SourceID: e.SourceID, Timestamp: e.Timestamp, ReceivedAt: e.ReceivedAt, Body: e.Body}
}

// checkArchive reads an archive whole, once: its digest, size and events.
func checkArchive(file string) (sum string, size, events int64, err error) {
	h := sha256.New()
	err = readArchive(file, h, func(archived) error { events++; return nil })
	if err != nil {
		return "", 0, 0, err
	}
	st, err := os.Stat(file)
	if err != nil {
		return "", 0, 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), st.Size(), events, nil
}

// eachArchived calls fn with each event of an archive file, in order.
func eachArchived(file string, fn func(archived) error) error {
	return readArchive(file, io.Discard, fn)
}

// readArchive calls fn with each event of an archive file, in order, and
// copies the file's bytes as read to raw (a digest).
func readArchive(file string, raw io.Writer, fn func(archived) error) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(io.TeeReader(f, raw))
	if err != nil {
		return fmt.Errorf("archive %s: %w", file, err)
	}
	dec := json.NewDecoder(bufio.NewReaderSize(zr, 1<<16))
	for {
		var a archived
		if err := dec.Decode(&a); err == io.EOF {
			if err := zr.Close(); err != nil {
				return err
			}
			_, err := io.Copy(raw, f) // anything after the gzip stream counts in the digest too
			return err
		} else if err != nil {
			return fmt.Errorf("archive %s: %w", file, err)
		}
		if err := fn(a); err != nil {
			return err
		}
	}
}

// finishDrops drops from the log the events of every recorded archive
// not yet dropped, a chunk a transaction, and marks them dropped.
func finishDrops(ctx context.Context, db *store.DB) error {
	var pending []Archive
	err := db.Each(ctx, `SELECT file, first_seq, last_seq FROM event_archives WHERE NOT dropped ORDER BY first_seq`, nil, func(r *sql.Rows) error {
		var a Archive
		err := r.Scan(&a.File, &a.First, &a.Last)
		pending = append(pending, a)
		return err
	})
	if err != nil {
		return err
	}
	for _, a := range pending {
		for lo := a.First; lo <= a.Last; lo += archiveChunk {
			if err := exec(ctx, db, `DELETE FROM events WHERE seq >= $1 AND seq < $2 AND seq <= $3`, lo, lo+archiveChunk, a.Last); err != nil {
				return err
			}
		}
		if err := exec(ctx, db, `UPDATE event_archives SET dropped = TRUE WHERE file = $1`, a.File); err != nil {
			return err
		}
	}
	return nil
}

// exec runs one write statement in a transaction of its own.
func exec(ctx context.Context, db *store.DB, q string, args ...any) error {
	return db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
}

// Archives lists the archives of the log, oldest first.
func Archives(ctx context.Context, db Querier) ([]Archive, error) {
	rows, err := db.QueryContext(ctx, `SELECT file, first_seq, last_seq, events, bytes, sha256, created_at FROM event_archives ORDER BY first_seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Archive{}
	for rows.Next() {
		var a Archive
		var at int64
		if err := rows.Scan(&a.File, &a.First, &a.Last, &a.Events, &a.Bytes, &a.SHA256, &at); err != nil {
			return nil, err
		}
		a.CreatedAt = time.UnixMilli(at).UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// Restore puts every archive's events back in the log under their own
// seq (an event whose messageId the live log holds again stays out) and
// forgets the archives; the files stay where they are. It checks each
// file against its digest first. It returns how many events it put back.
func Restore(ctx context.Context, db *store.DB) (int64, error) {
	list, err := Archives(ctx, db)
	if err != nil {
		return 0, err
	}
	var restored int64
	for _, a := range list {
		sum, _, _, err := checkArchive(a.File)
		if err != nil {
			return restored, err
		}
		if sum != a.SHA256 {
			return restored, fmt.Errorf("archive %s: its digest is %s, %s was recorded", a.File, sum, a.SHA256)
		}
		var batch [][]any
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			err := db.Tx(ctx, func(tx *store.Tx) error {
				return db.BulkInsert(ctx, tx, `INSERT INTO events (seq, message_id, type, event, user_id, anonymous_id, channel, contact, source_id, ts, received_at, body) VALUES`,
					`ON CONFLICT DO NOTHING`, 12, batch)
			})
			restored += int64(len(batch))
			batch = batch[:0]
			return err
		}
		err = eachArchived(a.File, func(e archived) error {
			batch = append(batch, []any{e.Seq, e.MessageID, e.Type, e.Event, nullable(e.UserID), nullable(e.AnonymousID),
				e.Channel, e.Contact, e.SourceID, e.Timestamp, e.ReceivedAt, string(e.Body)})
			if len(batch) == archiveChunk {
				return flush()
			}
			return nil
		})
		if err = errors.Join(err, flush()); err != nil {
			return restored, err
		}
		if err := exec(ctx, db, `DELETE FROM event_archives WHERE file = $1`, a.File); err != nil {
			return restored, err
		}
	}
	return restored, nil
}

// EraseArchived does to the archives what Erase does to the log: every
// event of the identities given becomes a tombstone, and each string value
// that is exactly one of mentions becomes "[erased]". Each file changed is
// written anew (through a synced temporary file) and its digest recorded.
// It returns the tombstones and scrubbed events.
func EraseArchived(ctx context.Context, db *store.DB, userIDs, anonymousIDs, mentions []string) (int64, int64, error) {
	list, err := Archives(ctx, db)
	if err != nil {
		return 0, 0, err
	}
	var erased, scrubbed int64
	for _, a := range list {
		tmp := a.File + ".tmp"
		f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
		if err != nil {
			return erased, scrubbed, err
		}
		zw := gzip.NewWriter(f)
		bw := bufio.NewWriterSize(zw, 1<<16)
		enc := json.NewEncoder(bw)
		changed := false
		err = eachArchived(a.File, func(e archived) error {
			switch {
			case e.Type == Erased:
			case e.UserID != "" && slices.Contains(userIDs, e.UserID) || e.AnonymousID != "" && slices.Contains(anonymousIDs, e.AnonymousID):
				e.Type, e.UserID, e.AnonymousID, e.Contact, e.Body = Erased, "", "", "", json.RawMessage(tombstone)
				erased++
				changed = true
			default:
				body := string(e.Body)
				for _, v := range mentions {
					body = replaceFold(body, `"`+v+`"`, `"[erased]"`)
				}
				if body != string(e.Body) {
					e.Body = json.RawMessage(body)
					scrubbed++
					changed = true
				}
			}
			return enc.Encode(e)
		})
		err = errors.Join(err, bw.Flush(), zw.Close(), f.Sync(), f.Close())
		if err != nil || !changed {
			os.Remove(tmp)
			if err != nil {
				return erased, scrubbed, err
			}
			continue
		}
		if err := os.Rename(tmp, a.File); err != nil {
			return erased, scrubbed, err
		}
		sum, size, _, err := checkArchive(a.File)
		if err != nil {
			return erased, scrubbed, err
		}
		if err := exec(ctx, db, `UPDATE event_archives SET sha256 = $1, bytes = $2 WHERE file = $3`, sum, size, a.File); err != nil {
			return erased, scrubbed, err
		}
	}
	return erased, scrubbed, nil
}
