package experience

import (
	"context"
	"fmt"
	"strings"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/match"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// Weights of the interaction events: how strongly each says "I want this".
// A return or a poor rating says the opposite.
var Weights = map[string]float64{
	"Product Viewed":   1,
	"Product Clicked":  1,
	"Product Added":    2,
	"Order Completed":  4,
	"Product Reviewed": 0, // by its rating: 4–5 → +3, 1–2 → −2
	"Order Refunded":   -4,
	"Product Returned": -4,
	// The Repeat loop: a click on a recommendation is interest too.
	"Recommendation Clicked": 1.5,
	"Recommendation Shown":   0,
}

// Consumer keeps interactions and order lines, and proposals' outcomes.
type Consumer struct{}

// Name is the consumer's checkpoint key.
func (Consumer) Name() string { return "experience" }

// Reset removes what the log built; proposals are commands and stay.
func (Consumer) Reset(ctx context.Context, tx *store.Tx) error {
	for _, q := range []string{`DELETE FROM interactions`, `DELETE FROM order_lines`, `DELETE FROM replenish_consents`, `DELETE FROM nudge_consents`, `DELETE FROM rec_outcomes`, `DELETE FROM order_refs`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// Events names what the consumer reads.
func (Consumer) Events(context.Context, *store.Tx) ([]string, bool, error) {
	names := []string{"Order Proposal Accepted", "Order Proposal Declined", "Replenishment Consented", "Replenishment Revoked", "Replenishment Cancelled",
		"Nudges Consented", "Nudges Revoked"}
	for n := range Weights {
		names = append(names, n)
	}
	return names, false, nil
}

// line is a product of an event: its id, name, quantity and price.
type line struct {
	item, name, category, variant string
	quantity, price               float64
}

func lines(props map[string]any) []line {
	var out []line
	one := func(p map[string]any) {
		id, _ := p["product_id"].(string)
		if id == "" {
			id, _ = p["sku"].(string)
		}
		if id = strings.TrimSpace(id); id == "" || len(id) > 200 {
			return
		}
		name, _ := p["name"].(string)
		q, ok := match.Number(p["quantity"])
		if !ok || q <= 0 {
			q = 1
		}
		price, _ := match.Number(p["price"])
		category, _ := p["category"].(string)
		variant, _ := p["size"].(string)
		if variant == "" {
			variant, _ = p["variant"].(string)
		}
		out = append(out, line{item: id, name: name, category: category, variant: variant, quantity: q, price: price})
	}
	if list, ok := props["products"].([]any); ok {
		for _, x := range list {
			if p, ok := x.(map[string]any); ok {
				one(p)
			}
		}
	} else {
		one(props)
	}
	return out
}

// Apply projects a batch of events.
func (Consumer) Apply(ctx context.Context, tx *store.Tx, events []eventlog.Event) error {
	// Purchases are attributed to recommendations only once some were shown.
	var recs bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM rec_outcomes)`).Scan(&recs); err != nil {
		return err
	}
	for i := range events {
		e := &events[i]
		props, ok := e.TrackProps()
		if !ok {
			continue
		}
		key := profile.Key(e.UserID, e.AnonymousID)
		if e.Event == "Order Proposal Accepted" || e.Event == "Order Proposal Declined" {
			if err := decideProposal(ctx, tx, e, props); err != nil {
				return err
			}
			continue
		}
		if done, err := replenishEvent(ctx, tx, e, key, props); done || err != nil {
			if err != nil {
				return err
			}
			continue
		}
		w, ok := interestWeight(e.Event, props)
		if !ok {
			continue
		}
		ls := lines(props)
		if e.Event == "Recommendation Shown" || e.Event == "Recommendation Clicked" {
			recs = true // from here on in the batch, too
		}
		if recs || e.Event != "Order Completed" {
			if err := recOutcome(ctx, tx, e, key, props, ls); err != nil {
				return err
			}
		}
		if w == 0 {
			continue // shown: an outcome, not yet an interest
		}
		order, _ := props["order_id"].(string)
		if len(ls) == 0 && e.Event == "Order Refunded" && order != "" {
			// A refund that names no products returns the whole order.
			var err error
			if ls, err = orderItems(ctx, tx, order); err != nil {
				return err
			}
		}
		if e.Event == "Order Completed" && order != "" {
			if err := orderRefs(ctx, tx, e, key, order, props); err != nil {
				return err
			}
		}
		if err := addInteractions(ctx, tx, e, order, w, ls); err != nil {
			return err
		}
	}
	return nil
}

// decideProposal marks an order proposal accepted or declined, as the
// customer answered it, unless it was decided already.
func decideProposal(ctx context.Context, tx *store.Tx, e *eventlog.Event, props map[string]any) error {
	id, _ := props["proposal_id"].(string)
	status := map[bool]string{true: "accepted", false: "declined"}[e.Event == "Order Proposal Accepted"]
	_, err := tx.ExecContext(ctx, `UPDATE proposals SET status = $1, decided_at = $2 WHERE id = $3 AND status = 'proposed'`, status, e.Timestamp, id)
	return err
}

// interestWeight is how strongly an event says the customer wants its
// products (Weights); a review counts by its rating, and a middling one
// (or none) says nothing: then ok is false.
func interestWeight(event string, props map[string]any) (w float64, ok bool) {
	w = Weights[event]
	if event == "Product Reviewed" {
		r, ok := match.Number(props["rating"])
		switch {
		case ok && r >= 4:
			w = 3
		case ok && r <= 2:
			w = -2
		default:
			return 0, false
		}
	}
	return w, true
}

// orderItems are the items an order was recorded with.
func orderItems(ctx context.Context, tx *store.Tx, order string) ([]line, error) {
	var ls []line
	rows, err := tx.QueryContext(ctx, `SELECT item FROM order_lines WHERE order_id = $1`, order)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var l line
		if err := rows.Scan(&l.item); err != nil {
			rows.Close()
			return nil, err
		}
		ls = append(ls, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return ls, nil
}

// addInteractions records the event's interest of weight w in each of its
// products, and, for a completed order, the order's lines.
func addInteractions(ctx context.Context, tx *store.Tx, e *eventlog.Event, order string, w float64, ls []line) error {
	key := profile.Key(e.UserID, e.AnonymousID)
	// An order's lines: one per item, its quantities added up (an item
	// on two lines); an order sent again states them again, it does not
	// add to them.
	qty := map[string]float64{}
	for _, l := range ls {
		qty[l.item] += l.quantity
	}
	done := map[string]bool{}
	for _, l := range ls {
		if _, err := tx.ExecContext(ctx, `INSERT INTO interactions (message_id, item, identity, kind, weight, at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (message_id, item) DO NOTHING`, e.MessageID, l.item, key, e.Event, w, e.Timestamp); err != nil {
			return err
		}
		if e.Event == "Order Completed" && !done[l.item] {
			done[l.item] = true
			id := order
			if id == "" {
				id = "msg:" + e.MessageID
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO order_lines (order_id, item, identity, name, quantity, price, at, category, variant) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
				ON CONFLICT (order_id, item) DO UPDATE SET quantity = excluded.quantity`,
				id, l.item, key, l.name, qty[l.item], l.price, e.Timestamp, l.category, l.variant); err != nil {
				return fmt.Errorf("order line: %w", err)
			}
		}
	}
	return nil
}

// replenishEvent projects consents to replenishment and nudges, their
// revocation and a customer's cancellation; it reports whether the event
// was one of those.
func replenishEvent(ctx context.Context, tx *store.Tx, e *eventlog.Event, key string, props map[string]any) (bool, error) {
	item, _ := props["product_id"].(string)
	item = strings.TrimSpace(item)
	if cat, _ := props["category"].(string); item == "" && strings.TrimSpace(cat) != "" {
		item = categoryConsent + strings.TrimSpace(cat) // a consent to a whole category
	}
	var err error
	switch e.Event {
	case "Replenishment Consented":
		_, err = tx.ExecContext(ctx, `INSERT INTO replenish_consents (identity, item, at) VALUES ($1, $2, $3) ON CONFLICT (identity, item) DO NOTHING`, key, item, e.Timestamp)
	case "Replenishment Revoked":
		if item == "" {
			_, err = tx.ExecContext(ctx, `DELETE FROM replenish_consents WHERE identity = $1`, key)
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM replenish_consents WHERE identity = $1 AND item = $2`, key, item)
		}
	case "Nudges Consented":
		_, err = tx.ExecContext(ctx, `INSERT INTO nudge_consents (identity, at) VALUES ($1, $2) ON CONFLICT (identity) DO NOTHING`, key, e.Timestamp)
	case "Nudges Revoked":
		_, err = tx.ExecContext(ctx, `DELETE FROM nudge_consents WHERE identity = $1`, key)
	case "Replenishment Cancelled":
		id, _ := props["replenishment_id"].(string)
		_, err = tx.ExecContext(ctx, `UPDATE replenishments SET status = 'cancelled', decided_at = $1 WHERE id = $2 AND status = 'scheduled'`, e.Timestamp, id)
	default:
		return false, nil
	}
	return true, err
}

// orderRefs keeps the address and payment references an order used
// (references only: cxloop never stores an address or a card).
func orderRefs(ctx context.Context, tx *store.Tx, e *eventlog.Event, key, order string, props map[string]any) error {
	ref := func(names ...string) string {
		for _, n := range names {
			if v, ok := props[n].(string); ok && strings.TrimSpace(v) != "" && len(v) <= 200 {
				return strings.TrimSpace(v)
			}
		}
		return ""
	}
	address, payment := ref("address_id", "shipping_address_id", "address_ref"), ref("payment_method_id", "payment_ref", "payment_method")
	if address == "" && payment == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO order_refs (order_id, identity, address_ref, payment_ref, at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (order_id) DO NOTHING`, order, key, address, payment, e.Timestamp)
	return err
}
