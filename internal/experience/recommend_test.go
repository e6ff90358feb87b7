package experience_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type recs struct {
	Items []struct {
		Item, Name string
		ImageURL   string `json:"image_url"`
		Why        struct {
			Kind, Text, Name, Category string
			Item                       string `json:"product_id"`
		}
	}
}

// Recommendations never offer what the customer returned, rated 2 or
// less, or already owns (not being a consumable); each says why, and
// names the product.
func TestRecommendationsRespectTheCustomer(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, _ := apptest.StartAt(t, dsn, fixed)
		at := func(days int) string { return fixed.AddDate(0, 0, days).Format(time.RFC3339) }
		catalog := map[string][2]string{ // id → name, category
			"tent": {"Ridge 2 Tent", "Tents"}, "stove": {"Canister Stove", "Cooking"}, "lamp": {"Headlamp 400", "Lighting"},
			"mat": {"Sleeping Mat", "Sleeping"}, "pot": {"Titanium Pot", "Cooking"}, "boots": {"Granite Boot", "Footwear"},
			"footprint": {"Tent Footprint", "Tents"},
		}
		line := func(id string) map[string]any {
			return map[string]any{"product_id": id, "name": catalog[id][0], "category": catalog[id][1], "quantity": 1, "price": 10,
				"image_url": "https://shop.example/img/" + id + ".jpg"}
		}
		orderOf := func(user, id string, days int, items ...string) map[string]any {
			var ps []any
			for _, it := range items {
				ps = append(ps, line(it))
			}
			return map[string]any{"userId": user, "event": "Order Completed", "timestamp": at(days), "properties": map[string]any{"order_id": id, "products": ps}}
		}
		crowd := []string{"tent", "stove", "lamp", "mat", "pot", "boots"}
		for i := range 8 {
			u := fmt.Sprintf("camper-%d", i)
			s.MustSend("track", orderOf(u, u+"-1", -60, crowd...))
			// A footprint for the tent, new in the shop two days ago.
			s.MustSend("track", map[string]any{"userId": u, "event": "Product Viewed", "timestamp": at(-2), "properties": line("footprint")})
		}
		// Ann bought the tent and the stove, rated the stove 2/5 and returned it as not as described;
		// looked at the lamp and rated it 1/5; bought boots and sent them back.
		s.MustSend("track", orderOf("ann", "a-1", -20, "tent", "stove"))
		s.MustSend("track", map[string]any{"userId": "ann", "event": "Product Reviewed", "timestamp": at(-18), "properties": map[string]any{"product_id": "stove", "rating": 2}})
		s.MustSend("track", map[string]any{"userId": "ann", "event": "Order Refunded", "timestamp": at(-15), "properties": map[string]any{"order_id": "a-1", "reason": "not as described",
			"products": []any{map[string]any{"product_id": "stove"}}}})
		s.MustSend("track", map[string]any{"userId": "ann", "event": "Product Viewed", "timestamp": at(-10), "properties": line("lamp")})
		s.MustSend("track", map[string]any{"userId": "ann", "event": "Product Reviewed", "timestamp": at(-9), "properties": map[string]any{"product_id": "lamp", "rating": 1}})
		s.MustSend("track", orderOf("ann", "a-2", -12, "boots"))
		s.MustSend("track", map[string]any{"userId": "ann", "event": "Product Returned", "timestamp": at(-5), "properties": map[string]any{"order_id": "a-2",
			"products": []any{map[string]any{"product_id": "boots"}}}})
		s.MustSend("identify", map[string]any{"userId": "newbie", "traits": map[string]any{"name": "New"}})
		s.Sync()

		refused := map[string]bool{"tent": true, "stove": true, "lamp": true, "boots": true}
		var want []string
		for _, it := range append(crowd, "footprint") {
			if !refused[it] {
				want = append(want, it)
			}
		}
		var got recs
		if code := s.API("GET", "/api/v1/customers/ann/recommendations?n=10", nil, &got); code != 200 {
			t.Fatalf("recommendations: %d", code)
		}
		var items []string
		for _, r := range got.Items {
			items = append(items, r.Item)
			if r.Name != catalog[r.Item][0] || r.ImageURL != "https://shop.example/img/"+r.Item+".jpg" {
				t.Errorf("%s is shown as %q %q", r.Item, r.Name, r.ImageURL)
			}
			switch {
			case catalog[r.Item][1] == "Tents": // new, in the category of the tent she kept
				if r.Why.Kind != "new_in_category" || r.Why.Category != "Tents" || !strings.Contains(r.Why.Text, "Tents") {
					t.Errorf("why %s: %+v", r.Item, r.Why)
				}
			default: // goes with the tent she bought and kept
				if r.Why.Kind != "bought" || r.Why.Item != "tent" || r.Why.Text != "Because you bought "+catalog["tent"][0] {
					t.Errorf("why %s: %+v", r.Item, r.Why)
				}
			}
		}
		slices.Sort(items)
		slices.Sort(want)
		if !slices.Equal(items, want) {
			t.Fatalf("ann is recommended %v, want %v", items, want)
		}
		// Someone nothing is known about gets what is popular, and is told so.
		if s.API("GET", "/api/v1/customers/newbie/recommendations?n=3", nil, &got); len(got.Items) != 3 || got.Items[0].Why.Kind != "popular" || got.Items[0].Name == "" {
			t.Fatalf("newbie: %+v", got)
		}
	})
}
