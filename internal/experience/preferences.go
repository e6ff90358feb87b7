package experience

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// Preferences are what a customer's orders say they want: the items they
// buy again, their size (or variant) by category, and the address and
// payment references they last ordered with.
type Preferences struct {
	Usual      []Usual           `json:"usual_items"`
	Sizes      map[string]string `json:"sizes"` // category → the size or variant bought most
	AddressRef string            `json:"address_ref,omitempty"`
	PaymentRef string            `json:"payment_ref,omitempty"`
}

// Preferences returns a customer's preferences learned from past orders.
func (s *Service) Preferences(ctx context.Context, ref string) (*Preferences, error) {
	usual, err := s.BuyAgain(ctx, ref)
	if err != nil {
		return nil, err
	}
	p := &Preferences{Usual: usual, Sizes: map[string]string{}}
	_, args, ph, err := s.keys(ctx, ref)
	if err != nil || len(args) == 0 {
		return p, err
	}
	best := map[string]float64{}
	err = s.db.Each(ctx, `SELECT category, variant, SUM(quantity) FROM order_lines WHERE identity IN (`+ph+`) AND category <> '' AND variant <> ''
		GROUP BY category, variant ORDER BY category, variant`, args, func(r *sql.Rows) error {
		var cat, v string
		var q float64
		if err := r.Scan(&cat, &v, &q); err != nil {
			return err
		}
		if q > best[cat] {
			best[cat], p.Sizes[cat] = q, v
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p.AddressRef, p.PaymentRef, err = s.refs(ctx, args, ph)
	return p, err
}

// refs are the address and payment references of the customer's latest
// order that named each.
func (s *Service) refs(ctx context.Context, args []any, ph string) (address, payment string, err error) {
	for _, col := range []string{"address_ref", "payment_ref"} {
		var v string
		err := s.db.QueryRowContext(ctx, `SELECT `+col+` FROM order_refs WHERE identity IN (`+ph+`) AND `+col+` <> '' ORDER BY at DESC LIMIT 1`, args...).Scan(&v)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return "", "", err
		}
		if col == "address_ref" {
			address = v
		} else {
			payment = v
		}
	}
	return address, payment, nil
}

// List is a customer's named shopping list.
type List struct {
	Name      string         `json:"name"`
	Items     []ProposalItem `json:"items"`
	UpdatedAt store.Millis   `json:"updatedAt"`
}

// SaveList stores (or replaces) a customer's named list.
func (s *Service) SaveList(ctx context.Context, ref, name string, items []ProposalItem) (*List, error) {
	c, err := s.profiles.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return nil, fault.Field("name", "a list has a name of at most 100 characters")
	}
	if len(items) == 0 || len(items) > 200 {
		return nil, fault.Field("items", "a list has 1 to 200 items")
	}
	for i := range items {
		items[i].Item = strings.TrimSpace(items[i].Item)
		if items[i].Item == "" {
			return nil, fault.Field("items", "each item names its product (item)")
		}
		if items[i].Quantity <= 0 {
			items[i].Quantity = 1
		}
	}
	l := &List{Name: name, Items: items, UpdatedAt: store.Millis(s.now().UnixMilli())}
	b, _ := json.Marshal(items)
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO customer_lists (customer_id, name, items, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (customer_id, name) DO UPDATE SET items = excluded.items, updated_at = excluded.updated_at`, c, name, string(b), int64(l.UpdatedAt))
		return err
	})
	return l, err
}

// Lists returns a customer's named lists.
func (s *Service) Lists(ctx context.Context, ref string) ([]List, error) {
	c, err := s.profiles.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := []List{}
	err = s.db.Each(ctx, `SELECT name, items, updated_at FROM customer_lists WHERE customer_id = $1 ORDER BY name`, []any{c}, func(r *sql.Rows) error {
		var l List
		var items string
		if err := r.Scan(&l.Name, &items, &l.UpdatedAt); err != nil {
			return err
		}
		out = append(out, l)
		return json.Unmarshal([]byte(items), &out[len(out)-1].Items)
	})
	return out, err
}

// list returns one named list's items.
func (s *Service) list(ctx context.Context, customer, name string) ([]ProposalItem, error) {
	var items string
	err := s.db.QueryRowContext(ctx, `SELECT items FROM customer_lists WHERE customer_id = $1 AND name = $2`, customer, name).Scan(&items)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.New(fault.NotFound, "the customer has no list %q", name)
	}
	if err != nil {
		return nil, err
	}
	var out []ProposalItem
	return out, json.Unmarshal([]byte(items), &out)
}
