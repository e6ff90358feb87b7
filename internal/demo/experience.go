package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http"
	"time"
)

// consumables are products bought again and again, each unit lasting a
// while: the demo's replenishment cycles.
var consumables = []struct {
	ID, Name string
	Price    float64
	Days     float64 // how long a unit lasts, on average
}{
	{"c01", "Camping gas canister", 6.5, 25},
	{"c02", "Trail energy gels (12)", 18, 20},
	{"c03", "Water filter cartridge", 24, 60},
	{"c04", "Sunscreen SPF50", 14, 45},
	{"c05", "Trail coffee beans", 12, 14},
}

// consumablesCategory is the category the demo's consumables are sold in.
const consumablesCategory = "Consumables"

// createCatalog tells the catalog what the events cannot: consumables are
// replenishable, and how long a unit of each usually lasts. Tents, packs,
// boots and the rest stay not replenishable, the default.
func createCatalog(ctx context.Context, baseURL, token string) error {
	if err := send(ctx, http.MethodPut, baseURL+"/api/v1/product-categories/"+consumablesCategory, token, `{"replenishable": true}`, nil); err != nil {
		return err
	}
	for _, c := range consumables {
		b, _ := json.Marshal(map[string]any{"id": c.ID, "name": c.Name, "category": consumablesCategory, "price": c.Price, "usage_days": c.Days})
		if err := postJSON(ctx, baseURL+"/api/v1/products", token, string(b)); err != nil {
			return err
		}
	}
	return nil
}

// The demo's nudges (see loopNudges) by name, and how long they ran
// before the live fortnight: their history, with its outcomes.
const (
	cartsNudge    = "Still thinking about it?"
	runningNudge  = "Running low?"
	nudgeHistory  = 20 * 7 * 24 * time.Hour
	nudgeHoldout  = 0.2 // the demo nudges' holdout_pct, as a share
	cartsOrder    = 0.16
	cartsOrderOff = 0.06 // held out: who come back and order anyway
	runningEarly  = 0.35 // nudged: who order within the week rather than later
)

// pastNudge is a send (or hold-out) of a demo nudge before the live
// fortnight, for Finish to import as the nudge's history.
type pastNudge struct {
	nudge, user, status, product string
	at                           time.Time
}

// consume adds recommendations shown to some customers (a fifth clicked, some
// bought), consent to nudges for half, and, for about one customer in
// three, one or two consumables
// bought on the customer's own cycle (a unit lasts their own time; two
// units last twice as long, give or take), with consent to replenishment
// for some of them, and for one in ten a cart left without an order. It
// draws from its own random stream so the rest of the story stays as it
// was. It returns what the demo's nudges did in the weeks before the live
// fortnight (see nudged).
func (c *customer) consume(seed uint64) []pastNudge {
	r := rand.New(rand.NewPCG(seed^0xc0ff, uint64(c.n)+1))
	if r.Float64() < 0.1 {
		p := catalogue[r.IntN(len(catalogue))]
		c.add("track", c.between(c.signup, c.end), Message{"userId": c.userID, "event": "Product Added",
			"properties": map[string]any{"product_id": p.ID, "name": p.Name, "price": p.Price, "quantity": 1}}, "web")
	}
	consents := r.Float64() < 0.5
	if consents {
		c.add("track", c.signup.Add(time.Minute), Message{"userId": c.userID, "event": "Nudges Consented"}, "web")
	}
	// Recommendations shown on the site, some clicked, some of those bought.
	if r.Float64() < 0.3 {
		for k := 0; k < 1+r.IntN(4); k++ {
			p := catalogue[r.IntN(len(catalogue))]
			rec := fmt.Sprintf("rec_demo_%05d_%d", c.n+1, k)
			t := c.between(c.signup, c.stays())
			props := map[string]any{"rec_id": rec, "product_id": p.ID}
			c.add("track", t, Message{"userId": c.userID, "event": "Recommendation Shown", "properties": props}, "web")
			if r.Float64() < 0.2 {
				c.add("track", t.Add(time.Minute), Message{"userId": c.userID, "event": "Recommendation Clicked", "properties": props}, "web")
				if r.Float64() < 0.4 && t.Add(48*time.Hour).Before(c.end) {
					c.add("track", t.Add(time.Duration(1+r.IntN(47))*time.Hour), Message{"userId": c.userID, "event": "Order Completed", "properties": map[string]any{
						"order_id": fmt.Sprintf("ord-%05d-r%d", c.n+1, k), "total": p.Price, "currency": "EUR",
						"products": []any{map[string]any{"product_id": p.ID, "name": p.Name, "price": p.Price, "quantity": 1, "category": p.Category}}}}, "web")
				}
			}
		}
	}
	h := rand.New(rand.NewPCG(seed^0x6e75, uint64(c.n)+1)) // the nudges' own stream
	var past []pastNudge
	if consents {
		past = c.leftCarts(h)
	}
	if r.Float64() >= 0.35 {
		return past
	}
	type bought struct {
		at  time.Time
		q   int
		msg int // its index in c.msgs
	}
	// Each cycle's orders have ids of their own, also when both cycles buy
	// the same item.
	cycleMark := []string{"", "b"}
	var cycles [][]bought
	var items []int
	var rates []float64
	for k := 0; k < 1+r.IntN(2); k++ {
		i := r.IntN(len(consumables))
		item := consumables[i]
		rate := item.Days * math.Exp(r.NormFloat64()*0.3)
		t := c.signup.Add(time.Duration(r.Float64() * rate * float64(24*time.Hour)))
		var cycle []bought
		// A consumable's buyers stay longer than the shop's: after each
		// purchase one in twenty-five stops buying it.
		for o := 0; t.Before(c.end); o++ {
			q := 1 + r.IntN(3)
			c.add("track", t, Message{"userId": c.userID, "event": "Order Completed", "properties": map[string]any{
				"order_id": fmt.Sprintf("ord-%05d-%s-%03d%s", c.n+1, item.ID, o+1, cycleMark[k]), "total": item.Price * float64(q), "currency": "EUR",
				"products": []any{map[string]any{"product_id": item.ID, "name": item.Name, "price": item.Price, "quantity": q, "category": consumablesCategory}}}}, "web")
			cycle = append(cycle, bought{t, q, len(c.msgs) - 1})
			t = t.Add(time.Duration(rate * float64(q) * math.Exp(r.NormFloat64()*0.15) * float64(24*time.Hour)))
			if r.Float64() < 0.04 {
				break
			}
		}
		cycles, items, rates = append(cycles, cycle), append(items, i), append(rates, rate)
	}
	handed := r.Float64() < 0.4
	if handed {
		c.add("track", c.between(c.signup, c.end), Message{"userId": c.userID, "event": "Replenishment Consented"}, "web")
	}
	if !consents || handed {
		return past
	}
	// Running low: from the third purchase on, a nudge three days before the
	// need the last purchase predicts; a third of the nudged whose next
	// purchase was more than a week away buy within the week instead.
	from, to := c.end.Add(-liveDefault-nudgeHistory), c.end.Add(-liveDefault)
	for k, cycle := range cycles {
		item := consumables[items[k]]
		for o := 2; o < len(cycle); o++ {
			prev := cycle[o-1]
			at := prev.at.Add(time.Duration((rates[k]*float64(prev.q) - 3 + h.Float64()*2 - 1) * float64(24*time.Hour)))
			if at.Before(from) || !at.Before(to) || !at.After(prev.at) || !cycle[o].at.After(at) {
				continue
			}
			status := "sent"
			if h.Float64() < nudgeHoldout {
				status = "held_out"
			}
			past = append(past, pastNudge{runningNudge, c.userID, status, item.ID, at})
			if status == "sent" && cycle[o].at.Sub(at) > 7*24*time.Hour && h.Float64() < runningEarly {
				c.msgs[cycle[o].msg]["timestamp"] = c.at(at.Add(time.Duration(12+h.IntN(108)) * time.Hour))
			}
		}
	}
	return past
}

// leftCarts adds, for some customers who consented to nudges, a cart left
// in the weeks before the live fortnight and the carts nudge's send (or
// hold-out) a day later; some order the item within days, more of the
// nudged than of the held out.
func (c *customer) leftCarts(h *rand.Rand) []pastNudge {
	from, to := c.end.Add(-liveDefault-nudgeHistory), c.end.Add(-liveDefault-48*time.Hour)
	if c.signup.After(from) {
		from = c.signup.Add(time.Hour)
	}
	if h.Float64() >= 0.45 || !to.After(from) {
		return nil
	}
	t := from.Add(time.Duration(h.Int64N(int64(to.Sub(from)))))
	p := catalogue[h.IntN(len(catalogue))]
	props := map[string]any{"product_id": p.ID, "sku": p.SKU, "name": p.Name, "category": p.Category, "price": p.Price, "currency": "EUR"}
	c.add("track", t, Message{"userId": c.userID, "event": "Product Viewed", "properties": props}, "web")
	added := map[string]any{"quantity": 1}
	for k, v := range props {
		added[k] = v
	}
	c.add("track", t.Add(2*time.Minute), Message{"userId": c.userID, "event": "Product Added", "properties": added}, "web")
	at := t.Add(time.Duration(24+h.IntN(10)) * time.Hour)
	status, rate := "sent", cartsOrder
	if h.Float64() < nudgeHoldout {
		status, rate = "held_out", cartsOrderOff
	}
	if h.Float64() < rate {
		c.add("track", at.Add(time.Duration(6+h.IntN(144))*time.Hour), Message{"userId": c.userID, "event": "Order Completed", "properties": map[string]any{
			"order_id": fmt.Sprintf("ord-%05d-cart", c.n+1), "total": p.Price, "currency": "EUR",
			"products": []any{map[string]any{"product_id": p.ID, "sku": p.SKU, "name": p.Name, "price": p.Price, "quantity": 1, "category": p.Category}}}}, "web")
	}
	return []pastNudge{{cartsNudge, c.userID, status, p.ID, at}}
}

// nudged is what the demo's nudges did before the live fortnight: the
// same customers as Generate, drawn again from the same seed.
func nudged(opts Options) []pastNudge {
	end := opts.End.UTC()
	start := end.AddDate(-2, 0, 0)
	accounts := max(1, opts.Customers/40)
	var out []pastNudge
	for n := 0; n < opts.Customers; n++ {
		c := newCustomer(n, rand.New(rand.NewPCG(opts.Seed, uint64(n)+1)), start, end, accounts)
		c.story()
		c.relationship(opts.Seed)
		out = append(out, c.consume(opts.Seed)...)
	}
	return out
}

// importNudgeHistory gives the demo's nudges their history, so that their
// uplift shows from the start.
func importNudgeHistory(ctx context.Context, baseURL, token string, opts Options) error {
	var list struct {
		Nudges []struct{ ID, Name string }
	}
	if err := getJSON(ctx, baseURL+"/api/v1/nudges", token, &list); err != nil {
		return err
	}
	ids := map[string]string{}
	for _, n := range list.Nudges {
		ids[n.Name] = n.ID
	}
	by := map[string][]map[string]any{}
	for _, p := range nudged(opts) {
		if ids[p.nudge] == "" {
			continue
		}
		by[p.nudge] = append(by[p.nudge], map[string]any{"customer": p.user, "status": p.status, "at": p.at.UTC().Format(time.RFC3339), "product_id": p.product})
	}
	for name, sends := range by {
		for i := 0; i < len(sends); i += 2000 {
			b, _ := json.Marshal(map[string]any{"sends": sends[i:min(len(sends), i+2000)]})
			if err := postJSON(ctx, baseURL+"/api/v1/nudges/"+ids[name]+"/history", token, string(b)); err != nil {
				return err
			}
		}
	}
	return nil
}
