package catalog

import (
	"context"
	"database/sql"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// Product is a product as experiences and the console see it: what the
// events said, overridden field by field by what the business set.
type Product struct {
	ID       string   `json:"id"`
	SKU      string   `json:"sku,omitempty"`
	Name     string   `json:"name,omitempty"`
	Category string   `json:"category,omitempty"`
	Brand    string   `json:"brand,omitempty"`
	Price    *float64 `json:"price,omitempty"`
	ImageURL string   `json:"image_url,omitempty"`
	URL      string   `json:"url,omitempty"`
	// Replenishable says the product is a consumable that is bought again
	// when it runs out, so replenishment, running-out nudges and the
	// next-need prediction apply to it; ReplenishableFrom says who decided:
	// "product" (set on it), "category" (its category's default) or
	// "default" (nothing set: not replenishable).
	Replenishable     bool   `json:"replenishable"`
	ReplenishableFrom string `json:"replenishable_from"`
	// PackSize is how many units are sold together: quantities ordered
	// for the customer are whole packs.
	PackSize int `json:"pack_size"`
	// UsageDays is how long a unit usually lasts, when known.
	UsageDays   *float64      `json:"usage_days,omitempty"`
	FirstSeenAt *store.Millis `json:"first_seen_at,omitempty"` // the first event naming it, or its creation
	LastSeenAt  *store.Millis `json:"last_seen_at,omitempty"`  // the latest event naming it
}

// Label is what a customer reads for the product: its name, else its id.
func (p Product) Label() string {
	if p.Name != "" {
		return p.Name
	}
	return p.ID
}

// Units rounds a quantity to whole packs: at least one pack, to the
// nearest number of packs otherwise.
func (p Product) Units(q float64) float64 {
	pack := float64(max(p.PackSize, 1))
	if math.IsNaN(q) || q <= 0 {
		return pack
	}
	return max(1, math.Round(q/pack)) * pack
}

// Input is a product as the API writes it: a field left out (null) keeps
// what was set before, or what the events say.
type Input struct {
	ID            string   `json:"id"`
	SKU           *string  `json:"sku"`
	Name          *string  `json:"name"`
	Category      *string  `json:"category"`
	Brand         *string  `json:"brand"`
	Price         *float64 `json:"price"`
	ImageURL      *string  `json:"image_url"`
	URL           *string  `json:"url"`
	Replenishable *bool    `json:"replenishable"`
	PackSize      *int     `json:"pack_size"`
	UsageDays     *float64 `json:"usage_days"`
}

// Validate trims the fields and names the first wrong one.
func (in *Input) Validate() error {
	in.ID = strings.TrimSpace(in.ID)
	if in.ID == "" || len(in.ID) > 200 {
		return fault.Field("id", "a product has an id of 1–200 characters (the product_id its events carry)")
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"sku", in.SKU, 200}, {"name", in.Name, 500}, {"category", in.Category, 200}, {"brand", in.Brand, 200}} {
		if f.v == nil {
			continue
		}
		*f.v = strings.TrimSpace(*f.v)
		if len(*f.v) > f.max {
			return fault.Field(f.name, "%s is at most %d characters", f.name, f.max)
		}
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"image_url", in.ImageURL}, {"url", in.URL}} {
		if f.v == nil || *f.v == "" {
			continue
		}
		if !webURL(*f.v) {
			return fault.Field(f.name, "%s is an http or https address", f.name)
		}
	}
	if in.Price != nil && (math.IsNaN(*in.Price) || *in.Price < 0 || math.IsInf(*in.Price, 0)) {
		return fault.Field("price", "price is a number from 0")
	}
	if in.PackSize != nil && (*in.PackSize < 1 || *in.PackSize > 10000) {
		return fault.Field("pack_size", "pack_size is a whole number of units from 1 to 10000")
	}
	return validUsage(in.UsageDays)
}

func validUsage(d *float64) error {
	if d != nil && (math.IsNaN(*d) || *d <= 0 || *d > 3650) {
		return fault.Field("usage_days", "usage_days is above 0 and at most 3650")
	}
	return nil
}

// webURL accepts absolute http and https addresses only: they are shown
// as links and images in the console.
func webURL(s string) bool {
	if len(s) > 2000 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// Category is a category's defaults for its products.
type Category struct {
	Category      string   `json:"category"`
	Replenishable bool     `json:"replenishable"`
	UsageDays     *float64 `json:"usage_days,omitempty"`
	Products      int      `json:"products"`
}

// Service reads and writes the catalog.
type Service struct {
	db  *store.DB
	now func() time.Time
}

// NewService returns the catalog; now is the clock (nil: time.Now).
func NewService(db *store.DB, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, now: now}
}

// Save creates or updates a product's settings: the fields given replace
// what was set before; the others keep it.
func (s *Service) Save(ctx context.Context, in Input) (*Product, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	now := s.now().UnixMilli()
	var pack *int64
	if in.PackSize != nil {
		v := int64(*in.PackSize)
		pack = &v
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO product_settings (id, sku, name, category, brand, price, image_url, url, replenishable, pack_size, usage_days, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
			ON CONFLICT (id) DO UPDATE SET sku = COALESCE(excluded.sku, product_settings.sku), name = COALESCE(excluded.name, product_settings.name),
				category = COALESCE(excluded.category, product_settings.category), brand = COALESCE(excluded.brand, product_settings.brand),
				price = COALESCE(excluded.price, product_settings.price), image_url = COALESCE(excluded.image_url, product_settings.image_url),
				url = COALESCE(excluded.url, product_settings.url), replenishable = COALESCE(excluded.replenishable, product_settings.replenishable),
				pack_size = COALESCE(excluded.pack_size, product_settings.pack_size), usage_days = COALESCE(excluded.usage_days, product_settings.usage_days),
				updated_at = excluded.updated_at`,
			in.ID, in.SKU, in.Name, in.Category, in.Brand, in.Price, in.ImageURL, in.URL, in.Replenishable, pack, in.UsageDays, now)
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, in.ID)
}

// SetCategory sets a category's default: whether its products are
// replenishable (unless set on a product) and how long a unit lasts.
func (s *Service) SetCategory(ctx context.Context, c Category) (*Category, error) {
	c.Category = strings.TrimSpace(c.Category)
	if c.Category == "" || len(c.Category) > 200 {
		return nil, fault.Field("category", "a category is named, in at most 200 characters")
	}
	if err := validUsage(c.UsageDays); err != nil {
		return nil, err
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO product_categories (category, replenishable, usage_days, updated_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (category) DO UPDATE SET replenishable = excluded.replenishable, usage_days = excluded.usage_days, updated_at = excluded.updated_at`,
			c.Category, c.Replenishable, c.UsageDays, s.now().UnixMilli())
		return err
	})
	if err != nil {
		return nil, err
	}
	list, err := s.Categories(ctx)
	for _, x := range list {
		if x.Category == c.Category {
			return &x, err
		}
	}
	return &c, err
}

// Categories lists every category products are in or that has defaults,
// with how many products it holds.
func (s *Service) Categories(ctx context.Context) ([]Category, error) {
	defaults, err := s.categoryDefaults(ctx)
	if err != nil {
		return nil, err
	}
	counts := map[string]int{}
	err = s.db.Each(ctx, `SELECT COALESCE(s.category, p.category), COUNT(*) FROM (SELECT id FROM products UNION SELECT id FROM product_settings) i
		LEFT JOIN products p ON p.id = i.id LEFT JOIN product_settings s ON s.id = i.id GROUP BY COALESCE(s.category, p.category)`, nil, func(r *sql.Rows) error {
		var c sql.NullString
		var n int
		if err := r.Scan(&c, &n); err != nil {
			return err
		}
		if c.String != "" {
			counts[c.String] += n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for c := range counts {
		if _, ok := defaults[c]; !ok {
			defaults[c] = Category{Category: c}
		}
	}
	out := []Category{}
	for name, c := range defaults {
		c.Products = counts[name]
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b Category) int { return strings.Compare(a.Category, b.Category) })
	return out, nil
}

func (s *Service) categoryDefaults(ctx context.Context) (map[string]Category, error) {
	out := map[string]Category{}
	err := s.db.Each(ctx, `SELECT category, replenishable, usage_days FROM product_categories`, nil, func(r *sql.Rows) error {
		var c Category
		var d sql.NullFloat64
		if err := r.Scan(&c.Category, &c.Replenishable, &d); err != nil {
			return err
		}
		if d.Valid {
			c.UsageDays = &d.Float64
		}
		out[c.Category] = c
		return nil
	})
	return out, err
}

// Get returns one product.
func (s *Service) Get(ctx context.Context, id string) (*Product, error) {
	m, err := s.Lookup(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	p, ok := m[id]
	if !ok {
		return nil, fault.New(fault.NotFound, "no product %q", id)
	}
	return &p, nil
}

// Lookup returns the known products among ids (a product no event named
// and no one set is left out; Product{ID: id} stands for it).
func (s *Service) Lookup(ctx context.Context, ids []string) (map[string]Product, error) {
	out := map[string]Product{}
	if len(ids) == 0 {
		return out, nil
	}
	vals := make([]any, 0, len(ids))
	for _, id := range ids {
		vals = append(vals, id)
	}
	err := s.db.EachIn(ctx, `SELECT id, sku, name, category, brand, price, image_url, url, first_seen_at, last_seen_at FROM products WHERE id IN `, nil, vals, func(r *sql.Rows) error {
		var p Product
		var price sql.NullFloat64
		var first, last store.Millis
		if err := r.Scan(&p.ID, &p.SKU, &p.Name, &p.Category, &p.Brand, &price, &p.ImageURL, &p.URL, &first, &last); err != nil {
			return err
		}
		if price.Valid {
			p.Price = &price.Float64
		}
		p.FirstSeenAt, p.LastSeenAt = &first, &last
		out[p.ID] = p
		return nil
	})
	if err != nil {
		return nil, err
	}
	set := map[string]setting{}
	err = s.db.EachIn(ctx, `SELECT id, sku, name, category, brand, price, image_url, url, replenishable, pack_size, usage_days, created_at FROM product_settings WHERE id IN `, nil, vals, func(r *sql.Rows) error {
		var x setting
		if err := r.Scan(&x.id, &x.sku, &x.name, &x.category, &x.brand, &x.price, &x.imageURL, &x.url, &x.replenishable, &x.pack, &x.usage, &x.created); err != nil {
			return err
		}
		set[x.id] = x
		return nil
	})
	if err != nil {
		return nil, err
	}
	cats, err := s.categoryDefaults(ctx)
	if err != nil {
		return nil, err
	}
	for id, x := range set {
		p, ok := out[id]
		if !ok {
			p = Product{ID: id}
		}
		x.apply(&p)
		out[id] = p
	}
	for id, p := range out {
		resolve(&p, set[id], cats)
		out[id] = p
	}
	return out, nil
}

// setting is a product_settings row: NULL is not set.
type setting struct {
	id                                        string
	sku, name, category, brand, imageURL, url sql.NullString
	price, usage                              sql.NullFloat64
	replenishable                             sql.NullBool
	pack                                      sql.NullInt64
	created                                   int64
}

func (x setting) apply(p *Product) {
	for _, f := range []struct {
		from sql.NullString
		to   *string
	}{{x.sku, &p.SKU}, {x.name, &p.Name}, {x.category, &p.Category}, {x.brand, &p.Brand}, {x.imageURL, &p.ImageURL}, {x.url, &p.URL}} {
		if f.from.Valid {
			*f.to = f.from.String
		}
	}
	if x.price.Valid {
		v := x.price.Float64
		p.Price = &v
	}
	if c := store.Millis(x.created); p.FirstSeenAt == nil || c < *p.FirstSeenAt {
		p.FirstSeenAt = &c
	}
}

// resolve decides the attributes: the product's own setting, else its
// category's default, else not replenishable, a pack of one.
func resolve(p *Product, x setting, cats map[string]Category) {
	p.PackSize, p.ReplenishableFrom = 1, "default"
	if x.pack.Valid {
		p.PackSize = int(x.pack.Int64)
	}
	c, hasCat := cats[p.Category]
	if hasCat {
		p.Replenishable, p.ReplenishableFrom = c.Replenishable, "category"
		p.UsageDays = c.UsageDays
	}
	if x.replenishable.Valid {
		p.Replenishable, p.ReplenishableFrom = x.replenishable.Bool, "product"
	}
	if x.usage.Valid {
		v := x.usage.Float64
		p.UsageDays = &v
	}
}

// List pages through the catalog by id, optionally in one category.
func (s *Service) List(ctx context.Context, category string, limit, offset int) ([]Product, error) {
	q := `SELECT i.id FROM (SELECT id FROM products UNION SELECT id FROM product_settings) i
		LEFT JOIN products p ON p.id = i.id LEFT JOIN product_settings s ON s.id = i.id`
	args := []any{limit, offset}
	if category != "" {
		q += ` WHERE COALESCE(s.category, p.category) = $3`
		args = append(args, category)
	}
	var ids []string
	err := s.db.Each(ctx, q+` ORDER BY i.id LIMIT $1 OFFSET $2`, args, func(r *sql.Rows) error {
		var id string
		err := r.Scan(&id)
		ids = append(ids, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	m, err := s.Lookup(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make([]Product, 0, len(ids))
	for _, id := range ids {
		if p, ok := m[id]; ok {
			out = append(out, p)
		}
	}
	return out, nil
}

// Of is the product with the id in m, or, for a product the catalog does
// not know, one with only its id: not replenishable, a pack of one.
func Of(m map[string]Product, id string) Product {
	if p, ok := m[id]; ok {
		return p
	}
	return Product{ID: id, PackSize: 1, ReplenishableFrom: "default"}
}
