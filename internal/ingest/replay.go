package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// typed returns a single message's body with the type its path named, so
// that a replay, which reads it as a batch item, gives it the same type
// (the path wins over a type in the body, as normalize decides).
func typed(body []byte, typ string) json.RawMessage {
	if typ == "" {
		return body
	}
	m, ok := splitObject(body)
	if !ok || m == nil {
		return body
	}
	if t, ok := plainString(m["type"]); ok && t == typ {
		return body
	}
	m["type"] = quote(typ)
	return encodeObject(m)
}

// QuarantineFilter narrows the quarantine's list: by source id and by field
// name (as FieldName gives it, "" for any).
type QuarantineFilter struct {
	Source, Field string
	Limit, Offset int
}

// FieldName is a quarantined message's field without the place of the
// message in its batch: "batch[3].event" is "event"; a batch item that was
// not a message at all ("batch[3]") has none.
func FieldName(field string) string {
	if !strings.HasPrefix(field, "batch[") {
		return field
	}
	_, rest, ok := strings.Cut(field, "]")
	if !ok {
		return field
	}
	return strings.TrimPrefix(rest, ".")
}

// refusedCols are what a quarantine row is read with: the source's name
// comes from sources, including a removed source's.
const refusedCols = `q.id, q.source_id, COALESCE(s.name, ''), COALESCE(s.deleted_at, 0), q.received_at, q.field, q.reason, q.body
	FROM quarantine q LEFT JOIN sources s ON s.id = q.source_id`

func scanRefused(sc interface{ Scan(...any) error }) (Refused, error) {
	var r Refused
	var body string
	var removed int64
	if err := sc.Scan(&r.ID, &r.SourceID, &r.SourceName, &removed, &r.ReceivedAt, &r.Field, &r.Reason, &body); err != nil {
		return r, err
	}
	r.SourceRemoved = removed != 0 || r.SourceName == ""
	r.Message = json.RawMessage(body)
	return r, nil
}

// QuarantinedBy lists refused messages newest first, filtered.
func QuarantinedBy(ctx context.Context, db *store.DB, f QuarantineFilter) ([]Refused, error) {
	where, args := []string{}, []any{}
	if f.Source != "" {
		args = append(args, f.Source)
		where = append(where, "q.source_id = $"+strconv.Itoa(len(args)))
	}
	if f.Field != "" {
		args = append(args, f.Field, `batch[%].`+store.EscapeLike(f.Field))
		where = append(where, "(q.field = $"+strconv.Itoa(len(args)-1)+" OR q.field LIKE $"+strconv.Itoa(len(args))+` ESCAPE '\')`)
	}
	q := `SELECT ` + refusedCols
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	args = append(args, f.Limit, f.Offset)
	q += ` ORDER BY q.received_at DESC, q.id LIMIT $` + strconv.Itoa(len(args)-1) + ` OFFSET $` + strconv.Itoa(len(args))
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Refused{}
	for rows.Next() {
		r, err := scanRefused(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// QuarantineCount is how many messages wait in the quarantine for one
// source and field name.
type QuarantineCount struct {
	SourceID, SourceName, Field string
	N                           int
}

// QuarantineCounts counts the waiting messages by source and field name.
func QuarantineCounts(ctx context.Context, db *store.DB) ([]QuarantineCount, error) {
	rows, err := db.QueryContext(ctx, `SELECT q.source_id, COALESCE(s.name, ''), q.field, COUNT(*)
		FROM quarantine q LEFT JOIN sources s ON s.id = q.source_id GROUP BY q.source_id, s.name, q.field`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	by := map[[2]string]*QuarantineCount{}
	var out []*QuarantineCount
	for rows.Next() {
		var c QuarantineCount
		if err := rows.Scan(&c.SourceID, &c.SourceName, &c.Field, &c.N); err != nil {
			return nil, err
		}
		c.Field = FieldName(c.Field)
		k := [2]string{c.SourceID, c.Field}
		if have := by[k]; have != nil {
			have.N += c.N
			continue
		}
		by[k] = &c
		out = append(out, &c)
	}
	list := make([]QuarantineCount, len(out))
	for i, c := range out {
		list[i] = *c
	}
	return list, rows.Err()
}

// QuarantinedMessage returns one refused message.
func QuarantinedMessage(ctx context.Context, db *store.DB, id string) (Refused, error) {
	r, err := scanRefused(db.QueryRowContext(ctx, `SELECT `+refusedCols+` WHERE q.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, fault.New(fault.NotFound, "no quarantined message %q (replayed, discarded, or never quarantined)", id)
	}
	return r, err
}

// Discard removes a message from the quarantine for good.
func Discard(ctx context.Context, db *store.DB, id string) (Refused, error) {
	r, err := QuarantinedMessage(ctx, db, id)
	if err != nil {
		return r, err
	}
	gone, err := unquarantine(ctx, db, id)
	if err == nil && !gone {
		err = fault.New(fault.NotFound, "no quarantined message %q (replayed, discarded, or never quarantined)", id)
	}
	return r, err
}

// unquarantine removes a message from the quarantine; gone is false when
// it was not there (any more).
func unquarantine(ctx context.Context, db *store.DB, id string) (gone bool, err error) {
	err = db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM quarantine WHERE id = $1`, id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		gone = n > 0
		return err
	})
	return gone, err
}

// Replayed is what a replay of a quarantined message did.
type Replayed struct {
	ID        string `json:"id"`        // the quarantined message's id
	MessageID string `json:"messageId"` // the accepted event's messageId
	// Suppressed: the message names a suppressed identity and was dropped,
	// as /v1 drops it; Erased: it was a delete message, carried out.
	Suppressed bool `json:"suppressed,omitempty"`
	Erased     bool `json:"erased,omitempty"`
}

// Replay runs a quarantined message through the acceptance of /v1 for the
// source that sent it, as arriving when it first arrived: corrected, when
// not empty, is the message to accept in its place. A message accepted is
// appended to the event log and leaves the quarantine; one refused again
// stays and the refusal (a *fault.Error naming the field) is returned as
// refused. A message without messageId gets one derived from its
// quarantine id, so that replaying it again adds no second event. The
// source must still exist (conflict); a paused source's messages are
// replayed, since the admin, not the source's key, asks for it.
func (h *Handler) Replay(r *http.Request, qid string, corrected json.RawMessage) (res Replayed, refused *fault.Error, err error) {
	ctx := r.Context()
	q, err := QuarantinedMessage(ctx, h.db, qid)
	if err != nil {
		return res, nil, err
	}
	res.ID = qid
	src, err := h.sources.Get(ctx, q.SourceID)
	if fault.Code(err) == fault.NotFound {
		name := q.SourceName
		if name == "" {
			name = q.SourceID
		}
		return res, nil, fault.New(fault.Conflict, "source %q was removed: its messages can no longer be replayed; discard this one", name)
	}
	if err != nil {
		return res, nil, err
	}
	raw := q.Message
	if len(corrected) > 0 {
		raw = corrected
	}
	m, ok := splitObject(raw)
	if !ok {
		_ = json.Unmarshal(raw, &m)
	}
	if m != nil {
		if given, err := id(m, "messageId"); err == nil && given == "" {
			m["messageId"] = quote("msg_" + strings.TrimPrefix(q.ID, "q_"))
		}
	}
	rq := &request{source: src, received: time.UnixMilli(q.ReceivedAt), ctx: ctx, checks: &h.checks}
	e, user, err := h.accept(rq, m)
	if err != nil {
		var fe *fault.Error
		if !errors.As(err, &fe) {
			return res, nil, err
		}
		return res, fe, nil
	}
	switch {
	case user != "":
		if err := h.erase(ctx, r, src.ID, []string{user}); err != nil {
			return res, nil, err
		}
		res.Erased = true
	case h.suppressed(&e):
		h.messages.WithLabelValues("suppressed").Inc()
		res.Suppressed = true
	default:
		// Appending a messageId the log holds already adds nothing.
		if err := h.log.Append(ctx, []eventlog.Event{e}); err != nil {
			return res, nil, err
		}
		h.messages.WithLabelValues("accepted").Inc()
		res.MessageID = e.MessageID
	}
	if _, err := unquarantine(ctx, h.db, qid); err != nil {
		return res, nil, err
	}
	return res, nil, nil
}
