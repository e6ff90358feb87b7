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

// consume adds recommendations shown to some customers (a fifth clicked, some
// bought), consent to nudges for half, and, for about one customer in
// three, one or two consumables
// bought on the customer's own cycle (a unit lasts their own time; two
// units last twice as long, give or take), with consent to replenishment
// for some of them, and for one in ten a cart left without an order. It
// draws from its own random stream so the rest of the story stays as it
// was.
func (c *customer) consume(seed uint64) {
	r := rand.New(rand.NewPCG(seed^0xc0ff, uint64(c.n)+1))
	if r.Float64() < 0.1 {
		p := catalogue[r.IntN(len(catalogue))]
		c.add("track", c.between(c.signup, c.end), Message{"userId": c.userID, "event": "Product Added",
			"properties": map[string]any{"product_id": p.ID, "name": p.Name, "price": p.Price, "quantity": 1}}, "web")
	}
	if r.Float64() < 0.5 {
		c.add("track", c.signup.Add(time.Minute), Message{"userId": c.userID, "event": "Nudges Consented"}, "web")
	}
	// Recommendations shown on the site, some clicked, some of those bought.
	if r.Float64() < 0.3 {
		for k := 0; k < 1+r.IntN(4); k++ {
			p := catalogue[r.IntN(len(catalogue))]
			rec := fmt.Sprintf("rec_demo_%05d_%d", c.n+1, k)
			t := c.between(c.signup, c.end)
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
	if r.Float64() >= 0.35 {
		return
	}
	for k := 0; k < 1+r.IntN(2); k++ {
		item := consumables[r.IntN(len(consumables))]
		rate := item.Days * math.Exp(r.NormFloat64()*0.3)
		t := c.signup.Add(time.Duration(r.Float64() * rate * float64(24*time.Hour)))
		for o := 0; t.Before(c.end); o++ {
			q := 1 + r.IntN(3)
			c.add("track", t, Message{"userId": c.userID, "event": "Order Completed", "properties": map[string]any{
				"order_id": fmt.Sprintf("ord-%05d-%s-%03d", c.n+1, item.ID, o+1), "total": item.Price * float64(q), "currency": "EUR",
				"products": []any{map[string]any{"product_id": item.ID, "name": item.Name, "price": item.Price, "quantity": q, "category": consumablesCategory}}}}, "web")
			t = t.Add(time.Duration(rate * float64(q) * math.Exp(r.NormFloat64()*0.15) * float64(24*time.Hour)))
		}
	}
	if r.Float64() < 0.4 {
		c.add("track", c.between(c.signup, c.end), Message{"userId": c.userID, "event": "Replenishment Consented"}, "web")
	}
}
