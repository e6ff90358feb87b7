package experience

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/catalog"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// PastSend is one send (or hold-out) of a nudge made before cxloop kept
// them: the history a business brings from the tool that ran the nudge,
// so that its uplift and learning start from what happened.
type PastSend struct {
	Customer  string    `json:"customer"` // any identity of the customer
	Status    string    `json:"status"`   // sent or held_out
	At        time.Time `json:"at"`
	ProductID string    `json:"product_id,omitempty"`
}

// Refused is a row of an import that was not recorded, and why.
type Refused struct {
	Row    int    `json:"row"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
}

// HistoryResult says what an import of past sends recorded.
type HistoryResult struct {
	Recorded int       `json:"recorded"`
	Already  int       `json:"already"` // the same send imported before
	Refused  []Refused `json:"refused"`
}

// maxPastSends is how many past sends one import takes.
const maxPastSends = 5000

// ImportHistory records a nudge's past sends and hold-outs. Each is a
// Nudge Sent or Nudge Held Out event at its own time, arriving as a
// backfill (no rule acts on it, and no message goes out), that uplift and
// the learning report count like the nudge's own; a send imported again
// is recorded once.
func (s *Service) ImportHistory(ctx context.Context, nudgeID string, rows []PastSend) (*HistoryResult, error) {
	n, err := s.NudgeByID(ctx, nudgeID)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fault.Field("sends", "sends lists the nudge's past sends")
	}
	if len(rows) > maxPastSends {
		return nil, fault.New(fault.TooLarge, "at most %d sends an import", maxPastSends)
	}
	h := &historyImport{s: s, nudge: n, now: s.now(), out: &HistoryResult{Refused: []Refused{}}}
	if err := h.check(ctx, rows); err != nil {
		return nil, err
	}
	if len(h.rows) == 0 {
		return h.out, nil
	}
	if err := h.record(ctx); err != nil {
		return nil, err
	}
	if h.out.Recorded > 0 {
		s.log.Notify()
	}
	return h.out, nil
}

// historyImport is one import of a nudge's past sends: the sends accepted
// so far, the products they were about, and what the import says back.
type historyImport struct {
	s     *Service
	nudge *Nudge
	now   time.Time
	out   *HistoryResult
	rows  []pastSendRow
	items []string
}

// pastSendRow is an accepted past send, with the customer it was made to,
// the subject it is kept under (its product and day) and its send id.
type pastSendRow struct {
	PastSend
	customer, key, id string
}

// check accepts the past sends that are a send or hold-out in the past to
// a known customer, and refuses the others with the reason.
func (h *historyImport) check(ctx context.Context, rows []PastSend) error {
	for i, x := range rows {
		refuse := func(field, reason string) {
			h.out.Refused = append(h.out.Refused, Refused{Row: i, Field: field, Reason: reason})
		}
		switch {
		case x.Status != "sent" && x.Status != "held_out":
			refuse("status", "status is sent or held_out")
			continue
		case x.At.IsZero() || x.At.After(h.now):
			refuse("at", "at is a time in the past")
			continue
		}
		c, err := h.s.profiles.Resolve(ctx, x.Customer)
		if fault.Code(err) == fault.NotFound || fault.Code(err) == fault.Invalid {
			refuse("customer", "no such customer")
			continue
		}
		if err != nil {
			return err
		}
		x.ProductID = strings.TrimSpace(x.ProductID)
		key := fmt.Sprintf("history:%s@%d", x.ProductID, x.At.UnixMilli()/86400000)
		sum := sha256.Sum256([]byte(h.nudge.ID + "\x00" + c + "\x00" + key))
		h.rows = append(h.rows, pastSendRow{PastSend: x, customer: c, key: key, id: "nsend_h" + hex.EncodeToString(sum[:10])})
		if x.ProductID != "" {
			h.items = append(h.items, x.ProductID)
		}
	}
	return nil
}

// record keeps the accepted sends not imported before, each with its
// Nudge Sent or Nudge Held Out event, and counts them.
func (h *historyImport) record(ctx context.Context) error {
	ids := make([]string, len(h.rows))
	for i, x := range h.rows {
		ids[i] = x.customer
	}
	who, err := h.s.profiles.Contacts(ctx, ids)
	if err != nil {
		return err
	}
	products, err := h.s.catalog.Lookup(ctx, h.items)
	if err != nil {
		return err
	}
	n := h.nudge
	return h.s.db.Tx(ctx, func(tx *store.Tx) error {
		h.out.Recorded, h.out.Already = 0, 0
		var events []eventlog.Event
		for _, x := range h.rows {
			res, err := tx.ExecContext(ctx, `INSERT INTO nudge_sends (id, nudge_id, customer_id, subject_key, item, channel, status, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (nudge_id, customer_id, subject_key) DO NOTHING`, x.id, n.ID, x.customer, x.key, x.ProductID, n.Channel, x.Status, x.At.UnixMilli())
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				h.out.Already++
				continue
			}
			h.out.Recorded++
			ev, err := h.event(x, who[x.customer], catalog.Of(products, x.ProductID))
			if err != nil {
				return err
			}
			events = append(events, ev)
		}
		return h.s.log.AppendTx(ctx, tx, events)
	})
}

// event is the Nudge Sent or Nudge Held Out event of a past send to the
// customer ct about product p, at the send's own time and arriving now as
// a backfill.
func (h *historyImport) event(x pastSendRow, ct profile.Contact, p catalog.Product) (eventlog.Event, error) {
	n := h.nudge
	props := map[string]any{"nudge_id": n.ID, "nudge": n.Name, "kind": n.Kind, "send_id": x.id, "product_id": x.ProductID, "channel": n.Channel,
		"experience": "coach_behaviour", "history": true}
	if p.Name != "" {
		props["name"] = p.Name
	}
	event := map[string]string{"sent": "Nudge Sent", "held_out": "Nudge Held Out"}[x.Status]
	return eventlog.ActionArrived(event, "nudge-"+x.id, ct.UserID, ct.AnonymousID, n.Channel, x.At, eventlog.Arrival{At: h.now, Backfill: true}, props)
}
