package ingest

import (
	"bytes"
	"context"
	"encoding/json"

	"github.com/cxloop/cxloop/internal/store"
)

// Refused is a message cxloop did not accept, kept with the reason.
type Refused struct {
	ID         string `json:"id"`
	SourceID   string `json:"sourceId"`
	SourceName string `json:"sourceName"` // "" when the source is gone
	// SourceRemoved: the source was removed since; its messages cannot be
	// replayed.
	SourceRemoved bool            `json:"sourceRemoved,omitempty"`
	ReceivedAt    int64           `json:"receivedAt"`
	Field         string          `json:"field"`
	Reason        string          `json:"reason"`
	Message       json.RawMessage `json:"message"`
}

// MarshalJSON writes receivedAt as an RFC 3339 time, as every other time
// the API gives.
func (r Refused) MarshalJSON() ([]byte, error) {
	type plain Refused
	return json.Marshal(struct {
		plain
		ReceivedAt store.Millis `json:"receivedAt"`
	}{plain(r), store.Millis(r.ReceivedAt)})
}

// quarantine keeps refused messages. A retried request quarantines each
// message once: the id is derived from the source and the bytes.
func quarantine(ctx context.Context, db *store.DB, refused []Refused) error {
	if len(refused) == 0 {
		return nil
	}
	return db.Tx(ctx, func(tx *store.Tx) error {
		for _, r := range refused {
			body := string(withoutWriteKey(r.Message))
			if !json.Valid(r.Message) {
				body = string(quote(string(r.Message)))
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO quarantine (id, source_id, received_at, field, reason, body)
				VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
				"q_"+store.Hash(r.SourceID + "\x00" + body)[:24], r.SourceID, r.ReceivedAt, r.Field, r.Reason, body); err != nil {
				return err
			}
		}
		return nil
	})
}

// withoutWriteKey returns a message without its top-level writeKey: a
// refused message is kept, its key never.
func withoutWriteKey(raw json.RawMessage) json.RawMessage {
	if !bytes.Contains(raw, []byte(`"writeKey"`)) {
		return raw
	}
	m, ok := splitObject(raw)
	if !ok || m == nil {
		return raw
	}
	if _, ok := m["writeKey"]; !ok {
		return raw
	}
	delete(m, "writeKey")
	return encodeObject(m)
}

// Quarantined lists refused messages, newest first.
func Quarantined(ctx context.Context, db *store.DB, limit, offset int) ([]Refused, error) {
	return QuarantinedBy(ctx, db, QuarantineFilter{Limit: limit, Offset: offset})
}
