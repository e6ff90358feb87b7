package eventlog

import (
	"context"
	"fmt"
	"strings"

	"github.com/cxloop/cxloop/internal/store"
)

// Erased is the type of a tombstone: an event whose customer was erased
// (docs/privacy.md). It keeps its seq, messageId, event name, channel,
// source and times, so the log's order and counts by time stay, but no
// identity and no body. Consumers never see tombstones (Live), so a replay
// rebuilds nothing of the customer.
const Erased = "erased"

// tombstone is the body every erased event is left with.
const tombstone = `{"type":"erased"}`

// Live returns events without tombstones, reusing events' array.
func Live(events []Event) []Event {
	for i := range events {
		if events[i].Type == Erased {
			out := events[:i:i]
			for _, e := range events[i+1:] {
				if e.Type != Erased {
					out = append(out, e)
				}
			}
			return out
		}
	}
	return events
}

// Erase turns every event of the given identities into a tombstone, and
// in the bodies of other events replaces each string value that is exactly
// one of mentions (an introduction's member named by email, a referral's
// friend), in any case, by "[erased]": a whole value, never part of one, so
// other customers' names and emails stay as they are. It returns the
// number of tombstones and of scrubbed events.
func Erase(ctx context.Context, tx *store.Tx, userIDs, anonymousIDs, mentions []string) (int64, int64, error) {
	var args []any
	list := func(vs []string) string {
		if len(vs) == 0 {
			return "NULL"
		}
		ps := make([]string, len(vs))
		for i, v := range vs {
			args = append(args, v)
			ps[i] = fmt.Sprintf("$%d", len(args))
		}
		return strings.Join(ps, ", ")
	}
	where := "user_id IN (" + list(userIDs) + ") OR anonymous_id IN (" + list(anonymousIDs) + ")"
	res, err := tx.ExecContext(ctx, `UPDATE events SET type = '`+Erased+`', user_id = NULL, anonymous_id = NULL, contact = '', body = '`+tombstone+`'
		WHERE `+where, args...)
	if err != nil {
		return 0, 0, fmt.Errorf("erase events: %w", err)
	}
	erased, _ := res.RowsAffected()
	if len(mentions) == 0 {
		return erased, 0, nil
	}
	// Mentions in other events: found by a scan of the bodies, replaced in Go.
	args = nil
	ors := make([]string, len(mentions))
	for i, v := range mentions {
		args = append(args, `%"`+store.EscapeLike(strings.ToLower(v))+`"%`)
		ors[i] = fmt.Sprintf("LOWER(body) LIKE $%d ESCAPE '\\'", len(args))
	}
	rows, err := tx.QueryContext(ctx, `SELECT seq, body FROM events WHERE type <> '`+Erased+`' AND (`+strings.Join(ors, " OR ")+`)`, args...)
	if err != nil {
		return 0, 0, fmt.Errorf("find mentions: %w", err)
	}
	type hit struct {
		seq  int64
		body string
	}
	var hits []hit
	for rows.Next() {
		var h hit
		if err := rows.Scan(&h.seq, &h.body); err != nil {
			rows.Close()
			return 0, 0, err
		}
		hits = append(hits, h)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, err
	}
	for _, h := range hits {
		body := h.body
		for _, v := range mentions {
			body = replaceFold(body, `"`+v+`"`, `"[erased]"`)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE events SET body = $1 WHERE seq = $2`, body, h.seq); err != nil {
			return 0, 0, err
		}
	}
	return erased, int64(len(hits)), nil
}

// replaceFold replaces every case-insensitive (ASCII) occurrence of old in
// s. Erase gives it whole JSON strings, quotes included, so a body stays
// valid JSON.
func replaceFold(s, old, repl string) string {
	if old == "" {
		return s
	}
	lower, lo := strings.ToLower(s), strings.ToLower(old)
	if len(lower) != len(s) {
		return strings.ReplaceAll(s, old, repl) // case folding changed lengths: exact matches only
	}
	var b strings.Builder
	for {
		i := strings.Index(lower, lo)
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		b.WriteString(repl)
		s, lower = s[i+len(old):], lower[i+len(lo):]
	}
}
