package experience

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/catalog"
	"github.com/cxloop/cxloop/internal/experience/recommend"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
)

// TrainIfNew trains the recommender when interactions came in since the
// model in use was trained; it reports whether it trained. One training
// runs at a time.
func (s *Service) TrainIfNew(ctx context.Context) (bool, error) {
	s.training.Lock()
	defer s.training.Unlock()
	n, err := s.interactions(ctx)
	if err != nil {
		return false, err
	}
	if s.model.Load() != nil && n == s.trainedN.Load() {
		return false, nil
	}
	return true, s.train(ctx, n)
}

// interactions counts the interactions recorded.
func (s *Service) interactions(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM interactions`).Scan(&n)
	return n, err
}

// SettleAfter is how long interactions that keep coming in may hold back
// the background training.
const SettleAfter = 10 * time.Minute

// TrainSettled is a round of background training. seen is the number of
// interactions at the previous round (-1: none), since the time since the
// background last trained. It trains when interactions came in since the
// model in use was trained and either none came in since the previous
// round (the burst has settled), the model in use was trained on nothing,
// or they have kept coming for SettleAfter. With no interactions there is
// nothing to learn: it does not train. It returns the interactions now.
func (s *Service) TrainSettled(ctx context.Context, seen int64, since time.Duration) (int64, bool, error) {
	n, err := s.interactions(ctx)
	if err != nil || n == 0 {
		return n, false, err
	}
	empty := s.model.Load() == nil || s.trainedN.Load() == 0
	if !empty && n != seen && since < SettleAfter {
		return n, false, nil // still coming in
	}
	did, err := s.TrainIfNew(ctx)
	return n, did, err
}

// Train fits popularity, item-kNN and ALS on every interaction, by
// customer (a customer's identities count as one), and puts the new model
// in service.
func (s *Service) Train(ctx context.Context) error {
	s.training.Lock()
	defer s.training.Unlock()
	n, err := s.interactions(ctx)
	if err != nil {
		return err
	}
	return s.train(ctx, n)
}

// trainingData is every interaction by customer (a customer's identities
// count as one), with recommendations shown a week ago and ignored as a
// small negative: what the models train on.
func (s *Service) trainingData(ctx context.Context) ([]recommend.Interaction, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT identity, item, weight, at FROM interactions`)
	if err != nil {
		return nil, err
	}
	var list []recommend.Interaction
	for rows.Next() {
		var key string
		var x recommend.Interaction
		if err := rows.Scan(&key, &x.Item, &x.Weight, &x.At); err != nil {
			rows.Close()
			return nil, err
		}
		x.User = key
		list = append(list, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Recommendations shown a week ago and never clicked nor bought count
	// a little against their item.
	ignored := s.now().Add(-AttributionDays * 24 * time.Hour).UnixMilli()
	err = s.db.Each(ctx, `SELECT o.identity, o.item, o.at FROM rec_outcomes o WHERE o.outcome = 'shown' AND o.at < $1
		AND NOT EXISTS (SELECT 1 FROM rec_outcomes x WHERE x.rec_id = o.rec_id AND x.outcome <> 'shown')`, []any{ignored}, func(r *sql.Rows) error {
		x := recommend.Interaction{Weight: -0.25}
		err := r.Scan(&x.User, &x.Item, &x.At)
		list = append(list, x)
		return err
	})
	if err != nil {
		return nil, err
	}
	byKey, err := profile.OwnersBy(ctx, s.profiles, list, func(x recommend.Interaction) string { return x.User })
	if err != nil {
		return nil, err
	}
	for i := range list {
		if c := byKey[list[i].User]; c != "" {
			list[i].User = c
		}
	}
	return list, nil
}

// train is Train for n interactions recorded (the count TrainIfNew
// compares with), under the training lock.
func (s *Service) train(ctx context.Context, n int64) error {
	list, err := s.trainingData(ctx)
	if err != nil {
		return err
	}
	d := recommend.Index(list)
	t := &trained{data: d, pop: recommend.TrainPopularity(d), knn: recommend.TrainItemKNN(d, 30), at: s.now()}
	t.als = recommend.TrainALS(d, recommend.ALSOptions{Factors: 16, Seed: 1})
	scores := make([]float32, len(d.Items))
	t.pop.Scores(0, scores)
	t.popular = recommend.Top(scores, 100, nil)
	h := sha256.Sum256([]byte(fmt.Sprint(len(list), t.at.UnixNano())))
	t.version = hex.EncodeToString(h[:4])
	s.model.Store(t)
	s.trainedN.Store(n)
	return nil
}

// Recommendation is an item for a customer, with the id its outcome
// events carry back (shown, clicked, purchased) and why it is there.
type Recommendation struct {
	Item     string  `json:"item"`
	Name     string  `json:"name,omitempty"`
	ImageURL string  `json:"image_url,omitempty"`
	Score    float64 `json:"score"`
	RecID    string  `json:"rec_id"`
	Model    string  `json:"model"`
	Why      *Why    `json:"why,omitempty"`
}

// Why is the reason a recommendation gives the customer: because you
// bought (or looked at) an item it goes with, new in a category you buy
// from, customers like you chose it, or popular.
type Why struct {
	Kind     string `json:"kind"` // bought, viewed, context, new_in_category, similar_customers, popular
	Item     string `json:"product_id,omitempty"`
	Name     string `json:"name,omitempty"`
	Category string `json:"category,omitempty"`
	Text     string `json:"text"`
}

// newDays is how recently a product first appeared to be new in its category.
const newDays = 30

// customerItems is what a customer did with products, for what not to
// recommend and why: each product's kinds of interaction, and the
// customer's categories.
type customerItems struct {
	kinds    map[string]map[string]bool // item → kind → true (Order Completed, Order Refunded, …; "rated_low")
	products map[string]catalog.Product
}

// customerItems reads a customer's interactions (every identity).
func (s *Service) customerItems(ctx context.Context, ref string) (*customerItems, error) {
	_, args, ph, err := s.keys(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := &customerItems{kinds: map[string]map[string]bool{}}
	if len(args) == 0 {
		return out, nil
	}
	err = s.db.Each(ctx, `SELECT item, kind, weight FROM interactions WHERE identity IN (`+ph+`)`, args, func(r *sql.Rows) error {
		var item, kind string
		var w float64
		if err := r.Scan(&item, &kind, &w); err != nil {
			return err
		}
		if kind == "Product Reviewed" && w < 0 {
			kind = "rated_low" // a rating of 1–2
		}
		if out.kinds[item] == nil {
			out.kinds[item] = map[string]bool{}
		}
		out.kinds[item][kind] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(out.kinds))
	for item := range out.kinds {
		ids = append(ids, item)
	}
	out.products, err = s.catalog.Lookup(ctx, ids)
	return out, err
}

// refused reports whether an item must not be recommended to the
// customer: they returned it, rated it 2 or less, or own it and it is not
// a consumable they would buy again.
func (h *customerItems) refused(item string) bool {
	k := h.kinds[item]
	return k["Order Refunded"] || k["Product Returned"] || k["rated_low"] || (k["Order Completed"] && !catalog.Of(h.products, item).Replenishable)
}

// disliked reports whether the customer returned the item or rated it 2
// or less: never offered to them again, not even to buy it again.
func (h *customerItems) disliked(item string) bool {
	k := h.kinds[item]
	return k["Order Refunded"] || k["Product Returned"] || k["rated_low"]
}

// liked reports whether the customer showed a positive interest in the
// item (and how: bought or viewed), for "because you bought X".
func (h *customerItems) liked(item string) (string, bool) {
	k := h.kinds[item]
	if k["Order Refunded"] || k["Product Returned"] || k["rated_low"] {
		return "", false
	}
	if k["Order Completed"] {
		return "bought", true
	}
	if k["Product Viewed"] || k["Product Clicked"] || k["Product Added"] || k["Recommendation Clicked"] {
		return "viewed", true
	}
	return "", false
}

// categories are the categories of the products the customer likes.
func (h *customerItems) categories() map[string]bool {
	out := map[string]bool{}
	for item := range h.kinds {
		if _, ok := h.liked(item); ok {
			if c := catalog.Of(h.products, item).Category; c != "" {
				out[c] = true
			}
		}
	}
	return out
}

// freshUpTo is the size up to which a model is retrained while serving
// when interactions came in (it takes milliseconds); larger ones retrain
// in the background.
const freshUpTo = 10_000

// serving is the model in use, trained first if there is none yet, or
// retrained if it is small and interactions came in since.
func (s *Service) serving(ctx context.Context) (*trained, error) {
	t := s.model.Load()
	if t != nil && s.trainedN.Load() >= freshUpTo {
		return t, nil
	}
	if _, err := s.TrainIfNew(ctx); err != nil {
		return nil, err
	}
	return s.model.Load(), nil
}

// recID names one recommendation: the model version, customer and item.
func recID(version, customer, item string) string {
	h := sha256.Sum256([]byte(version + "\x00" + customer + "\x00" + item))
	return "rec_" + hex.EncodeToString(h[:8])
}

// Recommendations ranks items for a customer: the factorisation for a
// customer with a history of at least three items, item neighbours for a
// shorter one, popularity for a customer nothing is known about. Items the
// customer already bought or showed strong interest in are left out
// (buy-again lists those). context, when it names an item ("item:p42" or
// "p42"), leans toward that item's neighbours.
func (s *Service) Recommendations(ctx context.Context, ref string, n int, context string) ([]Recommendation, error) {
	t, err := s.serving(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.profiles.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	mine, err := s.customerItems(ctx, c)
	if err != nil {
		return nil, err
	}
	d := t.data
	out := []Recommendation{}
	u, known := d.UserIndex[c]
	scores := make([]float32, len(d.Items))
	model := "popularity"
	switch {
	case known && len(d.ByUser[u]) >= 3:
		t.als.Scores(u, scores)
		model = "als"
	case known:
		t.knn.Scores(u, scores)
		model = "item-knn"
	case len(t.popular) > 0:
		t.pop.Scores(0, scores)
		top := scores[t.popular[0].Item]
		for i := range scores {
			scores[i] /= max(top, 1)
		}
	}
	ctxItem := int32(-1)
	if it, ok := d.ItemIndex[strings.TrimPrefix(context, "item:")]; ok && context != "" {
		for _, nb := range t.knn.Near[it] {
			scores[nb.Item] += nb.Sim
		}
		scores[it] = float32(math.Inf(-1))
		model += "+context"
		ctxItem = it
	}
	skip := func(i int32) bool { return (known && d.Seen(u, i)) || mine.refused(d.Items[i]) }
	top := recommend.Top(scores, n, skip)
	ids := make([]string, 0, len(top)+1)
	for _, x := range top {
		ids = append(ids, d.Items[x.Item])
	}
	if ctxItem >= 0 {
		ids = append(ids, d.Items[ctxItem])
	}
	products, err := s.catalog.Lookup(ctx, ids)
	if err != nil {
		return nil, err
	}
	cats := mine.categories()
	now := s.now()
	for _, x := range top {
		item := d.Items[x.Item]
		p := catalog.Of(products, item)
		r := Recommendation{Item: item, Name: p.Name, ImageURL: p.ImageURL, Score: math.Round(float64(x.Score)*10000) / 10000, RecID: recID(t.version, c, item), Model: model}
		r.Why = t.why(x.Item, ctxItem, p, mine, cats, products, now, model)
		out = append(out, r)
	}
	return out, nil
}

// why explains a recommendation: the item it was asked about, a product
// new in one of the customer's categories, the customer's own product it
// goes with most (bought before viewed), or the model's crowd.
func (t *trained) why(i, ctxItem int32, p catalog.Product, mine *customerItems, cats map[string]bool, products map[string]catalog.Product, now time.Time, model string) *Why {
	label := func(item string) string {
		if name := catalog.Of(products, item).Name; name != "" {
			return name
		}
		if name := catalog.Of(mine.products, item).Name; name != "" {
			return name
		}
		return item
	}
	if ctxItem >= 0 {
		item := t.data.Items[ctxItem]
		return &Why{Kind: "context", Item: item, Name: label(item), Text: "Goes with " + label(item)}
	}
	if p.Category != "" && cats[p.Category] && p.FirstSeenAt != nil && now.Sub(time.UnixMilli(int64(*p.FirstSeenAt))) <= newDays*24*time.Hour {
		return &Why{Kind: "new_in_category", Category: p.Category, Text: "New in " + p.Category}
	}
	var best *Why
	var bestSim float32
	for item := range mine.kinds {
		how, ok := mine.liked(item)
		own, known := t.data.ItemIndex[item]
		if !ok || !known {
			continue
		}
		for _, nb := range t.knn.Near[own] {
			if nb.Item != i {
				continue
			}
			// A purchase explains better than a view; then the closer, then the id (stable).
			better := best == nil || (how == "bought" && best.Kind != "bought") ||
				(how == best.Kind && (nb.Sim > bestSim || (nb.Sim == bestSim && item < best.Item)))
			if better {
				verb := map[string]string{"bought": "Because you bought ", "viewed": "Because you looked at "}[how]
				best, bestSim = &Why{Kind: how, Item: item, Name: label(item), Text: verb + label(item)}, nb.Sim
			}
		}
	}
	if best != nil {
		return best
	}
	if strings.HasPrefix(model, "popularity") {
		return &Why{Kind: "popular", Text: "Popular with customers right now"}
	}
	return &Why{Kind: "similar_customers", Text: "Customers like you chose it"}
}

// Similar is an item's nearest neighbours by who else wanted them.
func (s *Service) Similar(ctx context.Context, item string, n int) ([]Recommendation, error) {
	t, err := s.serving(ctx)
	if err != nil {
		return nil, err
	}
	i, ok := t.data.ItemIndex[item]
	if !ok {
		return nil, fault.New(fault.NotFound, "no interactions with item %q yet", item)
	}
	out := []Recommendation{}
	for _, nb := range t.knn.Near[i] {
		if len(out) == n {
			break
		}
		it := t.data.Items[nb.Item]
		out = append(out, Recommendation{Item: it, Score: math.Round(float64(nb.Sim)*10000) / 10000, RecID: recID(t.version, "item:"+item, it), Model: "item-knn"})
	}
	ids := make([]string, len(out))
	for i, r := range out {
		ids[i] = r.Item
	}
	products, err := s.catalog.Lookup(ctx, ids)
	for i := range out {
		p := catalog.Of(products, out[i].Item)
		out[i].Name, out[i].ImageURL = p.Name, p.ImageURL
	}
	return out, err
}

// keys are the identity keys of a customer's lines, as query arguments.
func (s *Service) keys(ctx context.Context, ref string) (string, []any, string, error) {
	id, q, err := s.profiles.EventFilter(ctx, ref)
	if err != nil {
		return "", nil, "", err
	}
	var args []any
	var ph []string
	for _, u := range q.UserIDs {
		args = append(args, "u:"+u)
		ph = append(ph, fmt.Sprintf("$%d", len(args)))
	}
	for _, a := range q.AnonymousIDs {
		args = append(args, "a:"+a)
		ph = append(ph, fmt.Sprintf("$%d", len(args)))
	}
	if len(ph) == 0 {
		return id, nil, "''", nil
	}
	return id, args, strings.Join(ph, ","), nil
}

// Usual is an item a customer buys again, with the usual quantity and
// when the need probably returns.
type Usual struct {
	Item          string     `json:"item"`
	Name          string     `json:"name,omitempty"`
	ImageURL      string     `json:"image_url,omitempty"`
	Orders        int        `json:"orders"`
	UsualQuantity float64    `json:"usual_quantity"`
	LastOrderedAt time.Time  `json:"last_ordered_at"`
	IntervalDays  float64    `json:"interval_days,omitempty"`
	NextNeedAt    *time.Time `json:"next_need_at,omitempty"`
	Score         float64    `json:"score"`
	durable       bool       // see Need
}

// BuyAgain lists what a customer ordered and did not return or rate 2 or
// less, durable goods left out (the catalog's replenishable setting), ranked by how often and how
// due it is: orders × (1 + the share of the expected interval already
// passed, at most 1). The usual quantity is the quantity bought most
// often, in whole packs; the next need, for replenishable products only,
// is the replenishment model's (days a unit lasts, shrunk toward the
// product's population rate).
func (s *Service) BuyAgain(ctx context.Context, ref string) ([]Usual, error) {
	c, args, ph, err := s.keys(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := []Usual{}
	if len(args) == 0 {
		return out, nil
	}
	list, err := s.customerNeeds(ctx, c, args, ph)
	if err != nil {
		return nil, err
	}
	items, err := s.customerItems(ctx, ref)
	if err != nil {
		return nil, err
	}
	now := s.now()
	for _, n := range list {
		// Not what they disliked, nor a durable good (a tent bought last
		// week is not bought again; the catalog says which are).
		if items.disliked(n.Item) || n.durable {
			continue
		}
		u := Usual{Item: n.Item, Name: n.Name, ImageURL: n.ImageURL, Orders: n.Purchases, UsualQuantity: n.Quantity, LastOrderedAt: n.LastAt, durable: n.durable}
		due := 0.0
		if !n.NextNeedAt.IsZero() {
			next := n.NextNeedAt
			u.NextNeedAt = &next
			u.IntervalDays = math.Round(next.Sub(n.LastAt).Hours()/24*10) / 10
			if u.IntervalDays > 0 {
				due = math.Min(1, math.Max(0, now.Sub(n.LastAt).Hours()/24/u.IntervalDays))
			}
		}
		u.Score = math.Round(float64(u.Orders)*(1+due)*100) / 100
		out = append(out, u)
	}
	sortUsual(out)
	return out, nil
}

// lastOrder is the lines of a customer's latest order.
func (s *Service) lastOrder(ctx context.Context, args []any, ph string) (string, []Usual, error) {
	var order string
	err := s.db.QueryRowContext(ctx, `SELECT order_id FROM order_lines WHERE identity IN (`+ph+`) ORDER BY at DESC, order_id DESC LIMIT 1`, args...).Scan(&order)
	if err == sql.ErrNoRows {
		return "", nil, fault.New(fault.Conflict, "the customer has no order to repeat")
	}
	if err != nil {
		return "", nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT item, name, quantity FROM order_lines WHERE order_id = $1 ORDER BY item`, order)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	var out []Usual
	for rows.Next() {
		var u Usual
		if err := rows.Scan(&u.Item, &u.Name, &u.UsualQuantity); err != nil {
			return "", nil, err
		}
		out = append(out, u)
	}
	return order, out, rows.Err()
}

// Ready reports whether a trained model is in service (one trained on
// no interactions is not).
func (s *Service) Ready() bool { return s.model.Load() != nil && s.trainedN.Load() > 0 }

// ModelInfo describes the model in service. A model trained on no
// interactions is not trained: it knows nothing to recommend from.
type ModelInfo struct {
	Trained      bool      `json:"trained"`
	At           time.Time `json:"at"`
	Version      string    `json:"version"`
	Customers    int       `json:"customers"`
	Items        int       `json:"items"`
	Interactions int64     `json:"interactions"`
}

// ModelInfo returns what the recommender in service was trained on.
func (s *Service) ModelInfo() ModelInfo {
	t := s.model.Load()
	if t == nil || s.trainedN.Load() == 0 || len(t.data.Users) == 0 {
		return ModelInfo{}
	}
	return ModelInfo{Trained: true, At: t.at, Version: t.version, Customers: len(t.data.Users), Items: len(t.data.Items), Interactions: s.trainedN.Load()}
}
