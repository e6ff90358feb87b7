package experience

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/cxloop/cxloop/internal/catalog"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// ProposalItem is a line of an order proposal.
type ProposalItem struct {
	Item     string  `json:"item"`
	Name     string  `json:"name,omitempty"`
	ImageURL string  `json:"image_url,omitempty"`
	Quantity float64 `json:"quantity"`
}

// Proposal is an order cxloop prepared for a customer and sent to the
// commerce system, which answers with Order Proposal Accepted or Declined.
type Proposal struct {
	ID        string         `json:"proposal"`
	Customer  string         `json:"customer"`
	Source    string         `json:"from"`
	Items     []ProposalItem `json:"items"`
	Status    string         `json:"status"` // proposed, accepted, declined
	CreatedAt store.Millis   `json:"createdAt"`
	OrderID   string         `json:"order_id,omitempty"` // the order repeated (from last_order)
	// The references the customer last ordered with, for the commerce
	// system to fill in.
	AddressRef string `json:"address_ref,omitempty"`
	PaymentRef string `json:"payment_ref,omitempty"`
}

// Reorder builds an order proposal for a customer — from their last order
// ("last_order", the default), from what they usually buy ("usual": the
// items ordered at least twice, in their usual quantities, but never a
// product the catalog says is durable) or from one of
// their named lists ("list:NAME") — with the address and payment
// references they last used, and sends it
// to the commerce system as an Order Proposed event (a webhook subscribed
// to it delivers it, signed).
func (s *Service) Reorder(ctx context.Context, ref, from string) (*Proposal, error) {
	from = strings.TrimSpace(from)
	if from == "" {
		from = "last_order"
	}
	listName, fromList := strings.CutPrefix(from, "list:")
	if from != "last_order" && from != "usual" && !fromList {
		return nil, fault.Field("from", "a reorder repeats the last_order, the usual items or a named list (list:NAME)")
	}
	c, args, ph, err := s.keys(ctx, ref)
	if err != nil {
		return nil, err
	}
	if len(args) == 0 && !fromList {
		return nil, fault.New(fault.Conflict, "the customer has no order to repeat")
	}
	p := &Proposal{ID: store.NewID("prop"), Customer: c, Source: from, Status: "proposed", CreatedAt: store.Millis(s.now().UnixMilli())}
	var lines []Usual
	switch {
	case fromList:
		items, err := s.list(ctx, c, listName)
		if err != nil {
			return nil, err
		}
		for _, it := range items {
			lines = append(lines, Usual{Item: it.Item, Name: it.Name, UsualQuantity: it.Quantity})
		}
	case from == "last_order":
		if p.OrderID, lines, err = s.lastOrder(ctx, args, ph); err != nil {
			return nil, err
		}
	default:
		usual, err := s.BuyAgain(ctx, ref)
		if err != nil {
			return nil, err
		}
		for _, u := range usual {
			if u.Orders >= 2 && !u.durable {
				lines = append(lines, u)
			}
		}
		if len(lines) == 0 {
			return nil, fault.New(fault.Conflict, "the customer has nothing they buy again")
		}
	}
	ids := make([]string, len(lines))
	for i, l := range lines {
		ids[i] = l.Item
	}
	products, err := s.catalog.Lookup(ctx, ids)
	if err != nil {
		return nil, err
	}
	var lineEvents []map[string]any
	for _, l := range lines {
		// The catalog's name and image over what an order line or list said;
		// whole packs whatever the source.
		pr := catalog.Of(products, l.Item)
		it := ProposalItem{Item: l.Item, Name: pr.Name, ImageURL: pr.ImageURL, Quantity: pr.Units(l.UsualQuantity)}
		if it.Name == "" {
			it.Name = l.Name
		}
		p.Items = append(p.Items, it)
		line := productLine(pr, it.Quantity)
		line["item"] = it.Item // the name this event used before product_id
		if it.Name != "" {
			line["name"] = it.Name
		}
		lineEvents = append(lineEvents, line)
	}
	if len(args) > 0 {
		if p.AddressRef, p.PaymentRef, err = s.refs(ctx, args, ph); err != nil {
			return nil, err
		}
	}
	who, err := s.profiles.Contacts(ctx, []string{c})
	if err != nil {
		return nil, err
	}
	ct := who[c]
	ev, err := eventlog.Action("Order Proposed", "proposal-"+p.ID, ct.UserID, ct.AnonymousID, "server", s.now(), map[string]any{
		"proposal_id": p.ID, "from": from, "order_id": p.OrderID, "products": lineEvents, "address_ref": p.AddressRef, "payment_ref": p.PaymentRef,
		"experience": "respond_to_desire"})
	if err != nil {
		return nil, err
	}
	items, _ := json.Marshal(p.Items)
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO proposals (id, customer_id, source, items, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			p.ID, c, from, string(items), p.Status, int64(p.CreatedAt)); err != nil {
			return err
		}
		return s.log.AppendTx(ctx, tx, []eventlog.Event{ev})
	})
	if err != nil {
		return nil, err
	}
	s.log.Notify()
	return p, nil
}

// Proposals lists a customer's order proposals, newest first.
func (s *Service) Proposals(ctx context.Context, ref string) ([]Proposal, error) {
	c, err := s.profiles.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, source, items, status, created_at FROM proposals WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT 100`, c)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Proposal{}
	for rows.Next() {
		p := Proposal{Customer: c}
		var items string
		if err := rows.Scan(&p.ID, &p.Source, &items, &p.Status, &p.CreatedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(items), &p.Items); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func sortUsual(list []Usual) {
	slices.SortStableFunc(list, func(a, b Usual) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		}
		return strings.Compare(a.Item, b.Item)
	})
}
