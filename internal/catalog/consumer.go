package catalog

import (
	"context"
	"strings"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/match"
	"github.com/cxloop/cxloop/internal/store"
)

// productEvents are the e-commerce events that describe products: one in
// the properties, or a list in properties.products[].
var productEvents = []string{
	"Product Viewed", "Product Clicked", "Product Added", "Product Removed", "Product Added to Wishlist",
	"Product Removed from Wishlist", "Wishlist Product Added to Cart", "Product Shared", "Product Reviewed",
	"Product List Viewed", "Product List Filtered", "Cart Viewed", "Checkout Started", "Order Updated",
	"Order Completed", "Order Refunded", "Order Cancelled", "Product Returned",
}

// Consumer projects what events say about products into the products
// table; settings the business made are not its to touch.
type Consumer struct{}

// Name is the consumer's checkpoint key.
func (Consumer) Name() string { return "catalog" }

// Events names what the consumer reads.
func (Consumer) Events(context.Context, *store.Tx) ([]string, bool, error) {
	return productEvents, false, nil
}

// Reset removes what the log built.
func (Consumer) Reset(ctx context.Context, tx *store.Tx) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM products`)
	return err
}

// seen is what a batch says about one product: each field the latest
// non-empty value, and when it was first and last named.
type seen struct {
	id, sku, name, category, brand, image, url string
	price                                      *float64
	first, last                                int64
}

// Apply projects a batch: one write per product named in it.
func (Consumer) Apply(ctx context.Context, tx *store.Tx, events []eventlog.Event) error {
	batch := map[string]*seen{}
	var order []string
	for i := range events {
		e := &events[i]
		if e.SourceID == eventlog.SourceActions {
			continue // cxloop's own proposals name products; the customer's events describe them
		}
		props, ok := e.TrackProps()
		if !ok {
			continue
		}
		each(props, func(p map[string]any) {
			id := productID(p)
			if id == "" {
				return
			}
			x := batch[id]
			if x == nil {
				x = &seen{id: id, first: e.Timestamp, last: e.Timestamp}
				batch[id] = x
				order = append(order, id)
			}
			newer := e.Timestamp >= x.last
			x.first, x.last = min(x.first, e.Timestamp), max(x.last, e.Timestamp)
			set := func(to *string, key string, max int, ok func(string) bool) {
				v, _ := p[key].(string)
				if v = strings.TrimSpace(v); v == "" || len(v) > max || (ok != nil && !ok(v)) {
					return
				}
				if newer || *to == "" {
					*to = v
				}
			}
			set(&x.sku, "sku", 200, nil)
			set(&x.name, "name", 500, nil)
			set(&x.category, "category", 200, nil)
			set(&x.brand, "brand", 200, nil)
			set(&x.image, "image_url", 2000, webURL)
			set(&x.url, "url", 2000, webURL)
			if v, ok := match.Number(p["price"]); ok && v >= 0 && (newer || x.price == nil) {
				x.price = &v
			}
		})
	}
	for _, id := range order {
		x := batch[id]
		if _, err := tx.ExecContext(ctx, `INSERT INTO products (id, sku, name, category, brand, price, image_url, url, first_seen_at, last_seen_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (id) DO UPDATE SET
				sku = CASE WHEN excluded.sku <> '' AND (excluded.last_seen_at >= products.last_seen_at OR products.sku = '') THEN excluded.sku ELSE products.sku END,
				name = CASE WHEN excluded.name <> '' AND (excluded.last_seen_at >= products.last_seen_at OR products.name = '') THEN excluded.name ELSE products.name END,
				category = CASE WHEN excluded.category <> '' AND (excluded.last_seen_at >= products.last_seen_at OR products.category = '') THEN excluded.category ELSE products.category END,
				brand = CASE WHEN excluded.brand <> '' AND (excluded.last_seen_at >= products.last_seen_at OR products.brand = '') THEN excluded.brand ELSE products.brand END,
				image_url = CASE WHEN excluded.image_url <> '' AND (excluded.last_seen_at >= products.last_seen_at OR products.image_url = '') THEN excluded.image_url ELSE products.image_url END,
				url = CASE WHEN excluded.url <> '' AND (excluded.last_seen_at >= products.last_seen_at OR products.url = '') THEN excluded.url ELSE products.url END,
				price = CASE WHEN excluded.price IS NOT NULL AND (excluded.last_seen_at >= products.last_seen_at OR products.price IS NULL) THEN excluded.price ELSE products.price END,
				first_seen_at = CASE WHEN excluded.first_seen_at < products.first_seen_at THEN excluded.first_seen_at ELSE products.first_seen_at END,
				last_seen_at = CASE WHEN excluded.last_seen_at > products.last_seen_at THEN excluded.last_seen_at ELSE products.last_seen_at END`,
			x.id, x.sku, x.name, x.category, x.brand, x.price, x.image, x.url, x.first, x.last); err != nil {
			return err
		}
	}
	return nil
}

// each calls fn for the event's products: properties.products[] when it
// is a list, else the properties themselves.
func each(props map[string]any, fn func(map[string]any)) {
	if list, ok := props["products"].([]any); ok {
		for _, x := range list {
			if p, ok := x.(map[string]any); ok {
				fn(p)
			}
		}
		return
	}
	fn(props)
}

// productID is the product's id as the experiences key it: product_id,
// else sku.
func productID(p map[string]any) string {
	id, _ := p["product_id"].(string)
	if strings.TrimSpace(id) == "" {
		id, _ = p["sku"].(string)
	}
	if id = strings.TrimSpace(id); len(id) > 200 {
		return ""
	}
	return id
}
