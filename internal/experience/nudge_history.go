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
	var n *Nudge
	list, err := s.Nudges(ctx)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == nudgeID {
			n = &list[i]
		}
	}
	if n == nil {
		return nil, fault.New(fault.NotFound, "no nudge %q", nudgeID)
	}
	if len(rows) == 0 {
		return nil, fault.Field("sends", "sends lists the nudge's past sends")
	}
	if len(rows) > maxPastSends {
		return nil, fault.New(fault.TooLarge, "at most %d sends an import", maxPastSends)
	}
	now := s.now()
	out := &HistoryResult{Refused: []Refused{}}
	type row struct {
		PastSend
		customer, key, id string
	}
	var ok []row
	var items []string
	for i, x := range rows {
		refuse := func(field, reason string) {
			out.Refused = append(out.Refused, Refused{Row: i, Field: field, Reason: reason})
		}
		switch {
		case x.Status != "sent" && x.Status != "held_out":
			refuse("status", "status is sent or held_out")
			continue
		case x.At.IsZero() || x.At.After(now):
			refuse("at", "at is a time in the past")
			continue
		}
		c, err := s.profiles.Resolve(ctx, x.Customer)
		if fault.Code(err) == fault.NotFound || fault.Code(err) == fault.Invalid {
			refuse("customer", "no such customer")
			continue
		}
		if err != nil {
			return nil, err
		}
		x.ProductID = strings.TrimSpace(x.ProductID)
		key := fmt.Sprintf("history:%s@%d", x.ProductID, x.At.UnixMilli()/86400000)
		h := sha256.Sum256([]byte(n.ID + "\x00" + c + "\x00" + key))
		ok = append(ok, row{PastSend: x, customer: c, key: key, id: "nsend_h" + hex.EncodeToString(h[:10])})
		if x.ProductID != "" {
			items = append(items, x.ProductID)
		}
	}
	if len(ok) == 0 {
		return out, nil
	}
	ids := make([]string, len(ok))
	for i, x := range ok {
		ids[i] = x.customer
	}
	who, err := s.profiles.Contacts(ctx, ids)
	if err != nil {
		return nil, err
	}
	products, err := s.catalog.Lookup(ctx, items)
	if err != nil {
		return nil, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		out.Recorded, out.Already = 0, 0
		var events []eventlog.Event
		for _, x := range ok {
			res, err := tx.ExecContext(ctx, `INSERT INTO nudge_sends (id, nudge_id, customer_id, subject_key, item, channel, status, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
				ON CONFLICT (nudge_id, customer_id, subject_key) DO NOTHING`, x.id, n.ID, x.customer, x.key, x.ProductID, n.Channel, x.Status, x.At.UnixMilli())
			if err != nil {
				return err
			}
			if k, _ := res.RowsAffected(); k == 0 {
				out.Already++
				continue
			}
			out.Recorded++
			ct := who[x.customer]
			props := map[string]any{"nudge_id": n.ID, "nudge": n.Name, "kind": n.Kind, "send_id": x.id, "product_id": x.ProductID, "channel": n.Channel,
				"experience": "coach_behaviour", "history": true}
			if p := catalog.Of(products, x.ProductID); p.Name != "" {
				props["name"] = p.Name
			}
			event := map[string]string{"sent": "Nudge Sent", "held_out": "Nudge Held Out"}[x.Status]
			ev, err := eventlog.ActionArrived(event, "nudge-"+x.id, ct.UserID, ct.AnonymousID, n.Channel, x.At, eventlog.Arrival{At: now, Backfill: true}, props)
			if err != nil {
				return err
			}
			events = append(events, ev)
		}
		return s.log.AppendTx(ctx, tx, events)
	})
	if err != nil {
		return nil, err
	}
	if out.Recorded > 0 {
		s.log.Notify()
	}
	return out, nil
}
