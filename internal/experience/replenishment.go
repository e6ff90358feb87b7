package experience

import (
	"context"
	"database/sql"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/catalog"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/experience/replenish"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/jobs"
	"github.com/cxloop/cxloop/internal/memo"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// ReplenishSettings say how early cxloop proposes a replenishment and how
// long the customer has to cancel it before it is placed.
type ReplenishSettings struct {
	LeadDays    float64 `json:"lead_days"`    // propose this many days before the predicted need
	CancelHours float64 `json:"cancel_hours"` // the customer may cancel within this window
	// Paused: nothing is scheduled and nothing scheduled is placed until
	// it is resumed (scheduled orders then due are placed then).
	Paused bool `json:"paused"`
}

// DefaultReplenishSettings: three days ahead, two days to cancel.
func DefaultReplenishSettings() ReplenishSettings {
	return ReplenishSettings{LeadDays: 3, CancelHours: 48}
}

// ReplenishSettings returns the settings in force.
func (s *Service) ReplenishSettings(ctx context.Context) (ReplenishSettings, error) {
	var out ReplenishSettings
	err := s.db.QueryRowContext(ctx, `SELECT replenish_lead_days, replenish_cancel_hours, replenish_paused FROM experience_state`).
		Scan(&out.LeadDays, &out.CancelHours, &out.Paused)
	return out, err
}

// SetReplenishSettings validates and stores the settings.
func (s *Service) SetReplenishSettings(ctx context.Context, in ReplenishSettings) error {
	if in.LeadDays < 0 || in.LeadDays > 60 || math.IsNaN(in.LeadDays) {
		return fault.Field("lead_days", "lead_days is between 0 and 60")
	}
	if in.CancelHours < 1 || in.CancelHours > 24*30 || math.IsNaN(in.CancelHours) {
		return fault.Field("cancel_hours", "cancel_hours is between 1 and 720")
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE experience_state SET replenish_lead_days = $1, replenish_cancel_hours = $2, replenish_paused = $3`,
			in.LeadDays, in.CancelHours, in.Paused)
		return err
	})
}

// Need is the predicted next need of a product for a customer.
type Need struct {
	Item       string    `json:"item"`
	Name       string    `json:"name,omitempty"`
	ImageURL   string    `json:"image_url,omitempty"`
	Category   string    `json:"category,omitempty"`
	Purchases  int       `json:"purchases"`
	DaysAUnit  float64   `json:"days_per_unit"`
	Quantity   float64   `json:"quantity"` // what a replenishment would order: the usual quantity, in whole packs
	LastAt     time.Time `json:"last_purchased_at"`
	NextNeedAt time.Time `json:"next_need_at"`
	Consented  bool      `json:"consented"`
	// durable is a product the catalog (the product or its category) says
	// is not bought again as it runs out: never part of a usual reorder.
	durable bool
}

// Replenishment is an order cxloop scheduled for a customer who consented.
type Replenishment struct {
	ID        string        `json:"id"`
	Customer  string        `json:"customer"`
	Item      string        `json:"item"`
	Name      string        `json:"name,omitempty"`
	ImageURL  string        `json:"image_url,omitempty"`
	Quantity  float64       `json:"quantity"`
	NeedAt    store.Millis  `json:"needAt"`
	PlaceAt   store.Millis  `json:"placeAt"` // placed then unless cancelled
	Status    string        `json:"status"`  // scheduled, placed, cancelled
	CreatedAt store.Millis  `json:"createdAt"`
	DecidedAt *store.Millis `json:"decidedAt,omitempty"`
}

// history is each customer's purchases by product, from the order lines.
type history struct {
	byCustomer map[string]map[string][]replenish.Purchase
	names      map[string]string
}

// histories reads every order line by customer and product.
func (s *Service) histories(ctx context.Context) (*history, error) {
	return memo.Get(ctx, "experience.histories", func() (*history, error) { return s.readHistories(ctx) })
}

// readHistories reads every order line, by customer and item.
func (s *Service) readHistories(ctx context.Context) (*history, error) {
	type line struct {
		key, item string
		p         replenish.Purchase
	}
	var lines []line
	h := &history{byCustomer: map[string]map[string][]replenish.Purchase{}, names: map[string]string{}}
	err := s.db.Each(ctx, `SELECT identity, item, name, quantity, at FROM order_lines`, nil, func(rows *sql.Rows) error {
		var l line
		var name string
		var at int64
		if err := rows.Scan(&l.key, &l.item, &name, &l.p.Quantity, &at); err != nil {
			return err
		}
		l.p.At = time.UnixMilli(at).UTC()
		if name != "" {
			h.names[l.item] = name
		}
		lines = append(lines, l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	owner, err := profile.OwnersBy(ctx, s.profiles, lines, func(l line) string { return l.key })
	if err != nil {
		return nil, err
	}
	for _, l := range lines {
		c := owner[l.key]
		if c == "" {
			c = l.key
		}
		if h.byCustomer[c] == nil {
			h.byCustomer[c] = map[string][]replenish.Purchase{}
		}
		h.byCustomer[c][l.item] = append(h.byCustomer[c][l.item], l.p)
	}
	return h, nil
}

// priors are each product's population rate over every customer's purchases.
func priors(h *history) map[string]replenish.Prior {
	rates := map[string][]float64{}
	for _, items := range h.byCustomer {
		for item, ps := range items {
			rates[item] = append(rates[item], replenish.Rates(replenish.Merge(ps))...)
		}
	}
	out := map[string]replenish.Prior{}
	for item, r := range rates {
		out[item] = replenish.NewPrior(r)
	}
	return out
}

// needs predicts a customer's next needs of the replenishable products
// among theirs; a product the catalog does not call replenishable has no
// next need (a tent bought twice is not a habit).
func needs(items map[string][]replenish.Purchase, pri map[string]replenish.Prior, names map[string]string, products map[string]catalog.Product) []Need {
	var out []Need
	for item, ps := range items {
		p := catalog.Of(products, item)
		if !p.Replenishable {
			continue
		}
		m := replenish.Merge(ps)
		next, rate, ok := replenish.Predict(m, prior(pri[item], p))
		if !ok {
			continue
		}
		out = append(out, need(p, names[item], m, next, rate))
	}
	slices.SortFunc(out, func(a, b Need) int {
		if c := a.NextNeedAt.Compare(b.NextNeedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Item, b.Item)
	})
	return out
}

// prior is the population's rate of a product, or, when no one bought it
// twice yet, the days a unit usually lasts from the catalog.
func prior(pop replenish.Prior, p catalog.Product) replenish.Prior {
	if pop.N == 0 && p.UsageDays != nil {
		return replenish.NewPrior([]float64{*p.UsageDays})
	}
	return pop
}

func need(p catalog.Product, lineName string, m []replenish.Purchase, next time.Time, rate float64) Need {
	name := p.Name
	if name == "" {
		name = lineName
	}
	n := Need{Item: p.ID, Name: name, ImageURL: p.ImageURL, Category: p.Category, Purchases: len(m), DaysAUnit: math.Round(rate*10) / 10,
		Quantity: usualQuantity(m, p), LastAt: m[len(m)-1].At, durable: !p.Replenishable && p.ReplenishableFrom != "default"}
	if !next.IsZero() && p.Replenishable {
		n.NextNeedAt = next.Truncate(time.Minute)
	}
	return n
}

// usualQuantity is what a customer buys of a product at a time: the
// quantity, in whole packs, they bought most often (the latest when
// tied) — a quantity they actually bought, never a median between two.
func usualQuantity(m []replenish.Purchase, p catalog.Product) float64 {
	count := map[float64]int{}
	best, most := p.Units(1), 0
	for _, x := range m { // oldest first
		q := p.Units(x.Quantity)
		count[q]++
		if count[q] >= most {
			best, most = q, count[q]
		}
	}
	return best
}

// customerNeeds reads one customer's order lines and, for the products in
// them only, every customer's rates (the priors); products with no
// prediction come with a zero next need.
func (s *Service) customerNeeds(ctx context.Context, c string, args []any, ph string) ([]Need, error) {
	own := map[string][]replenish.Purchase{}
	names := map[string]string{}
	err := s.db.Each(ctx, `SELECT item, name, quantity, at FROM order_lines WHERE identity IN (`+ph+`)`, args, func(rows *sql.Rows) error {
		var item, name string
		var p replenish.Purchase
		var at int64
		if err := rows.Scan(&item, &name, &p.Quantity, &at); err != nil {
			return err
		}
		p.At = time.UnixMilli(at).UTC()
		own[item] = append(own[item], p)
		if name != "" {
			names[item] = name
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The population's rates of these products, by identity (close enough
	// to by customer for a prior), without this customer's identities.
	mine := map[string]bool{}
	for _, a := range args {
		mine[a.(string)] = true
	}
	series := map[string]map[string][]replenish.Purchase{}
	var items []any
	for item := range own {
		items = append(items, item)
	}
	err = s.db.EachIn(ctx, `SELECT identity, item, quantity, at FROM order_lines WHERE item IN `, nil, items, func(r *sql.Rows) error {
		var key, item string
		var p replenish.Purchase
		var at int64
		if err := r.Scan(&key, &item, &p.Quantity, &at); err != nil || mine[key] {
			return err
		}
		p.At = time.UnixMilli(at).UTC()
		if series[item] == nil {
			series[item] = map[string][]replenish.Purchase{}
		}
		series[item][key] = append(series[item][key], p)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(own))
	for item := range own {
		ids = append(ids, item)
	}
	products, err := s.catalog.Lookup(ctx, ids)
	if err != nil {
		return nil, err
	}
	var out []Need
	for item, ps := range own {
		var rates []float64
		for _, other := range series[item] {
			rates = append(rates, replenish.Rates(replenish.Merge(other))...)
		}
		m := replenish.Merge(ps)
		p := catalog.Of(products, item)
		next, rate, _ := replenish.Predict(m, prior(replenish.NewPrior(rates), p))
		out = append(out, need(p, names[item], m, next, rate))
	}
	slices.SortFunc(out, func(a, b Need) int {
		if c := a.NextNeedAt.Compare(b.NextNeedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Item, b.Item)
	})
	return out, nil
}

// Needs returns a customer's predicted next needs, soonest first, with
// whether the customer consented to their replenishment, and the
// replenishments scheduled or done.
func (s *Service) Needs(ctx context.Context, ref string) ([]Need, []Replenishment, error) {
	c, args, ph, err := s.keys(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	if len(args) == 0 {
		return []Need{}, []Replenishment{}, nil
	}
	all, err := s.customerNeeds(ctx, c, args, ph)
	if err != nil {
		return nil, nil, err
	}
	list := []Need{}
	for _, n := range all {
		if !n.NextNeedAt.IsZero() {
			list = append(list, n)
		}
	}
	consent := map[string]bool{}
	err = s.db.Each(ctx, `SELECT item FROM replenish_consents WHERE identity IN (`+ph+`)`, args, func(rows *sql.Rows) error {
		var item string
		err := rows.Scan(&item)
		consent[item] = err == nil
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	for i := range list {
		list[i].Consented = consented(consent, list[i].Item, list[i].Category)
	}
	reps, err := s.replenishments(ctx, `WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT 100`, c)
	if err != nil {
		return nil, nil, err
	}
	return list, reps, s.describe(ctx, reps)
}

// categoryConsent is the consent row's item for a consent to a whole
// category (product ids never start with it in practice; a product id
// that did would read as a category).
const categoryConsent = "category:"

// consented reports whether the customer's consents (product ids, "" for
// every replenishable product, "category:NAME" for a category) cover the
// product.
func consented(items map[string]bool, item, category string) bool {
	return items[""] || items[item] || (category != "" && items[categoryConsent+category])
}

// describe fills in the replenishments' product names and images.
func (s *Service) describe(ctx context.Context, reps []Replenishment) error {
	ids := make([]string, len(reps))
	for i, r := range reps {
		ids[i] = r.Item
	}
	products, err := s.catalog.Lookup(ctx, ids)
	for i := range reps {
		p := catalog.Of(products, reps[i].Item)
		reps[i].Name, reps[i].ImageURL = p.Name, p.ImageURL
	}
	return err
}

func (s *Service) replenishments(ctx context.Context, where string, args ...any) ([]Replenishment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, customer_id, item, quantity, need_at, place_at, status, created_at, decided_at FROM replenishments `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Replenishment{}
	for rows.Next() {
		var r Replenishment
		var dec *int64
		if err := rows.Scan(&r.ID, &r.Customer, &r.Item, &r.Quantity, &r.NeedAt, &r.PlaceAt, &r.Status, &r.CreatedAt, &dec); err != nil {
			return nil, err
		}
		if dec != nil {
			m := store.Millis(*dec)
			r.DecidedAt = &m
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Replenish runs automatic execution once: it places the scheduled orders
// whose cancel window has passed (Order Auto-Placed), and schedules an
// order for each consented customer and product whose need falls within
// the lead time (Replenishment Scheduled, which tells the customer when it
// will be placed and how to cancel). It returns how many it scheduled and
// placed.
func (s *Service) Replenish(ctx context.Context) (scheduled, placed int, err error) {
	set, err := s.ReplenishSettings(ctx)
	if err != nil || set.Paused {
		return 0, 0, err
	}
	now := s.now()
	if placed, err = s.placeDue(ctx, now); err != nil {
		return 0, placed, err
	}
	consents, err := s.consents(ctx)
	if err != nil || len(consents) == 0 {
		return scheduled, placed, err
	}
	all, err := s.histories(ctx)
	if err != nil {
		return scheduled, placed, err
	}
	pri := priors(all)
	products, err := s.products(ctx, all, consents)
	if err != nil {
		return scheduled, placed, err
	}
	lead := time.Duration(set.LeadDays * float64(24*time.Hour))
	for c, items := range consents {
		for _, n := range needs(all.byCustomer[c], pri, all.names, products) {
			if !consented(items, n.Item, n.Category) {
				continue
			}
			// Within the lead time, and not a need long past (the customer moved on).
			if now.Before(n.NextNeedAt.Add(-lead)) || now.After(n.NextNeedAt.Add(7*24*time.Hour)) {
				continue
			}
			ok, err := s.schedule(ctx, c, n, now, set)
			if err != nil {
				return scheduled, placed, err
			}
			if ok {
				scheduled++
			}
		}
	}
	if scheduled+placed > 0 {
		s.log.Notify()
	}
	return scheduled, placed, nil
}

// placeDue places the scheduled replenishments whose cancel window has
// passed (Order Auto-Placed), or cancels those whose product is no longer
// replenishable, and returns how many it placed.
func (s *Service) placeDue(ctx context.Context, now time.Time) (int, error) {
	due, err := s.replenishments(ctx, `WHERE status = 'scheduled' AND place_at <= $1 ORDER BY place_at`, now.UnixMilli())
	if err != nil {
		return 0, err
	}
	ids := make([]string, len(due))
	for i, r := range due {
		ids[i] = r.Item
	}
	products, err := s.catalog.Lookup(ctx, ids)
	if err != nil {
		return 0, err
	}
	placed := 0
	for _, r := range due {
		status, event := "placed", "Order Auto-Placed"
		if !catalog.Of(products, r.Item).Replenishable {
			// Scheduled before the catalog said otherwise: not placed.
			status, event = "cancelled", "Replenishment Cancelled"
		}
		ok, err := s.decide(ctx, r, status, event, now)
		if err != nil {
			return placed, err
		}
		if ok && status == "placed" {
			placed++
		}
	}
	return placed, nil
}

// products looks up the products of the given customers' histories.
func (s *Service) products(ctx context.Context, h *history, customers map[string]map[string]bool) (map[string]catalog.Product, error) {
	seen := map[string]bool{}
	var ids []string
	for c, items := range h.byCustomer {
		if customers != nil && customers[c] == nil {
			continue
		}
		for item := range items {
			if !seen[item] {
				seen[item] = true
				ids = append(ids, item)
			}
		}
	}
	return s.catalog.Lookup(ctx, ids)
}

// consents are the consented products by customer ("" for all).
func (s *Service) consents(ctx context.Context) (map[string]map[string]bool, error) {
	type row struct{ key, item string }
	var list []row
	err := s.db.Each(ctx, `SELECT identity, item FROM replenish_consents`, nil, func(rows *sql.Rows) error {
		var r row
		err := rows.Scan(&r.key, &r.item)
		list = append(list, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	owner, err := profile.OwnersBy(ctx, s.profiles, list, func(r row) string { return r.key })
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]bool{}
	for _, r := range list {
		c := owner[r.key]
		if c == "" {
			continue
		}
		if out[c] == nil {
			out[c] = map[string]bool{}
		}
		out[c][r.item] = true
	}
	return out, nil
}

// schedule records a replenishment once per customer, product and last purchase.
func (s *Service) schedule(ctx context.Context, c string, n Need, now time.Time, set ReplenishSettings) (bool, error) {
	r := Replenishment{ID: store.NewID("repl"), Customer: c, Item: n.Item, Quantity: n.Quantity, NeedAt: store.Millis(n.NextNeedAt.UnixMilli()),
		PlaceAt: store.Millis(now.Add(time.Duration(set.CancelHours * float64(time.Hour))).UnixMilli()), Status: "scheduled", CreatedAt: store.Millis(now.UnixMilli())}
	who, err := s.profiles.Contacts(ctx, []string{c})
	if err != nil {
		return false, err
	}
	ct := who[c]
	created := false
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO replenishments (id, customer_id, item, quantity, after_at, need_at, place_at, status, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (customer_id, item, after_at) DO NOTHING`,
			r.ID, c, r.Item, r.Quantity, n.LastAt.UnixMilli(), int64(r.NeedAt), int64(r.PlaceAt), r.Status, int64(r.CreatedAt))
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return nil
		}
		created = true
		ev, err := eventlog.Action("Replenishment Scheduled", "replenishment-"+r.ID, ct.UserID, ct.AnonymousID, "server", now, map[string]any{
			"replenishment_id": r.ID, "product_id": r.Item, "name": n.Name, "image_url": n.ImageURL, "quantity": r.Quantity, "need_at": n.NextNeedAt.UTC().Format(time.RFC3339),
			"place_at": time.UnixMilli(int64(r.PlaceAt)).UTC().Format(time.RFC3339), "experience": "automatic_execution"})
		if err != nil {
			return err
		}
		// The order is placed by a job at the end of the cancel window.
		if _, err := jobs.InsertTx(ctx, tx, PlaceArgs{Replenishment: r.ID}, jobs.At(tx, time.UnixMilli(int64(r.PlaceAt)))); err != nil {
			return err
		}
		return s.log.AppendTx(ctx, tx, []eventlog.Event{ev})
	})
	return created, err
}

// decide moves a scheduled replenishment to placed or cancelled, once,
// with its event.
func (s *Service) decide(ctx context.Context, r Replenishment, status, event string, now time.Time) (bool, error) {
	who, err := s.profiles.Contacts(ctx, []string{r.Customer})
	if err != nil {
		return false, err
	}
	p, err := s.catalog.Lookup(ctx, []string{r.Item})
	if err != nil {
		return false, err
	}
	product := catalog.Of(p, r.Item)
	ct := who[r.Customer]
	done := false
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE replenishments SET status = $1, decided_at = $2 WHERE id = $3 AND status = 'scheduled'`, status, now.UnixMilli(), r.ID)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return nil
		}
		done = true
		ev, err := eventlog.Action(event, strings.ToLower(strings.ReplaceAll(event, " ", "-"))+"-"+r.ID, ct.UserID, ct.AnonymousID, "server", now, map[string]any{
			"replenishment_id": r.ID, "products": []map[string]any{productLine(product, r.Quantity)}, "experience": "automatic_execution"})
		if err != nil {
			return err
		}
		return s.log.AppendTx(ctx, tx, []eventlog.Event{ev})
	})
	return done, err
}

// productLine is a product as an event's products[] names it for the
// systems that act on it: id, name, image and the quantity.
func productLine(p catalog.Product, quantity float64) map[string]any {
	line := map[string]any{"product_id": p.ID, "quantity": quantity}
	if p.Name != "" {
		line["name"] = p.Name
	}
	if p.SKU != "" {
		line["sku"] = p.SKU
	}
	if p.ImageURL != "" {
		line["image_url"] = p.ImageURL
	}
	return line
}

// Cancel stops a scheduled replenishment before it is placed.
func (s *Service) Cancel(ctx context.Context, id string) (*Replenishment, error) {
	list, err := s.replenishments(ctx, `WHERE id = $1`, id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fault.New(fault.NotFound, "no replenishment %q", id)
	}
	r := list[0]
	if r.Status != "scheduled" {
		return nil, fault.New(fault.Conflict, "the replenishment is %s already", r.Status)
	}
	ok, err := s.decide(ctx, r, "cancelled", "Replenishment Cancelled", s.now())
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fault.New(fault.Conflict, "the replenishment was decided meanwhile")
	}
	s.log.Notify()
	r.Status = "cancelled"
	return &r, nil
}

// Backtest evaluates the replenishment model on the order history: mean
// absolute error in days of each predicted next purchase, against the
// naive baseline (the customer's last interval again).
//
// On large data (memo.LargeData order lines) the evaluation is kept
// between reads until the lines move by 1 % or ten minutes pass.
func (s *Service) Backtest(ctx context.Context) (model, naive float64, n int, err error) {
	b, _, err := s.BacktestKept(ctx)
	return b.Model, b.Naive, b.N, err
}

// BacktestResult is the replenishment model's backtest: its mean absolute
// error in days, the naive baseline's, over how many repurchases.
type BacktestResult struct {
	Model, Naive float64
	N            int
}

// BacktestKept is Backtest and when it was evaluated.
func (s *Service) BacktestKept(ctx context.Context) (BacktestResult, time.Time, error) {
	var lines int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM order_lines`).Scan(&lines); err != nil {
		return BacktestResult{}, time.Time{}, err
	}
	return memo.Keep(&s.fits, "backtest", lines, s.now(), func() (BacktestResult, error) {
		var b BacktestResult
		var err error
		b.Model, b.Naive, b.N, err = s.backtest(ctx)
		return b, err
	})
}

// backtest evaluates the model on every order line (see Backtest).
func (s *Service) backtest(ctx context.Context) (model, naive float64, n int, err error) {
	h, err := s.histories(ctx)
	if err != nil {
		return 0, 0, 0, err
	}
	products, err := s.products(ctx, h, nil)
	if err != nil {
		return 0, 0, 0, err
	}
	series := map[string][][]replenish.Purchase{}
	for _, items := range h.byCustomer {
		for item, ps := range items {
			if catalog.Of(products, item).Replenishable {
				series[item] = append(series[item], ps)
			}
		}
	}
	model, naive, n = replenish.Backtest(series)
	return model, naive, n, nil
}
