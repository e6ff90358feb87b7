package experience_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/experience"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

func order(user, id string, at time.Time, lines ...any) map[string]any {
	var products []any
	for i := 0; i+1 < len(lines); i += 2 {
		products = append(products, map[string]any{"product_id": lines[i], "name": "Item " + lines[i].(string), "quantity": lines[i+1], "price": 5})
	}
	return map[string]any{"userId": user, "event": "Order Completed", "timestamp": at.UTC().Format(time.RFC3339),
		"properties": map[string]any{"order_id": id, "total": 10, "products": products}}
}

// The contract examples: recommendations and similar items with
// recommendation ids, buy it again with usual quantities and the next
// need, and a reorder proposal sent as an event.
func TestContractExamples(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		now := fixed
		s, _ := apptest.StartAt(t, dsn, now)
		// Coffee and gas are consumables; tents, stoves, shoes and boots are not. The shop names the coffee
		// and shows its picture; its orders call it "Item coffee".
		coffeeName, coffeeImage := "Trail coffee beans", "https://shop.example/img/coffee.jpg"
		for _, p := range []map[string]any{{"id": "coffee", "replenishable": true, "name": coffeeName, "image_url": coffeeImage}, {"id": "gas", "replenishable": true}} {
			if code := s.API("POST", "/api/v1/products", p, nil); code != 200 {
				t.Fatalf("product %v: %d", p, code)
			}
		}
		// Campers buy tents and stoves together; runners buy shoes and gels.
		for i := range 6 {
			c := fmt.Sprintf("camper-%d", i)
			s.MustSend("track", order(c, c+"-1", now.Add(-48*time.Hour), "tent", 1, "stove", 1))
			if i < 4 {
				s.MustSend("track", order(c, c+"-2", now.Add(-24*time.Hour), "gas", 2))
			}
			r := fmt.Sprintf("runner-%d", i)
			s.MustSend("track", order(r, r+"-1", now.Add(-48*time.Hour), "shoes", 1, "gels", 6))
		}
		// A regular: coffee every 10 days, two bags, the last one 8 days ago.
		for k := range 4 {
			s.MustSend("track", order("regular", fmt.Sprintf("reg-%d", k), now.Add(-time.Duration(38-10*k)*24*time.Hour), "coffee", 2, "filters", 1))
		}
		// The last order's confirmation page reloaded: the order sent again adds nothing.
		s.MustSend("track", order("regular", "reg-3", now.Add(-8*24*time.Hour), "coffee", 2, "filters", 1))
		s.MustSend("track", map[string]any{"userId": "newbie", "event": "Product Viewed", "properties": map[string]any{"product_id": "tent"}})
		// Boots in size 42 twice and 43 once, delivered to the address on file, paid by the saved card.
		for i, size := range []string{"42", "43", "42"} {
			s.MustSend("track", map[string]any{"userId": "hiker", "event": "Order Completed", "timestamp": now.Add(-time.Duration(30-i) * 24 * time.Hour).UTC().Format(time.RFC3339),
				"properties": map[string]any{"order_id": fmt.Sprintf("h-%d", i), "total": 140, "address_id": fmt.Sprintf("addr-%d", i), "payment_method_id": "pm-visa-1",
					"products": []any{map[string]any{"product_id": "boot-" + size, "category": "Footwear", "size": size, "quantity": 1}}}})
		}
		s.Sync()
		if err := s.Exp.Train(t.Context()); err != nil {
			t.Fatal(err)
		}
		var recs struct {
			Items []struct {
				Item  string
				Score float64
				RecID string `json:"rec_id"`
			}
		}
		if code := s.API("GET", "/api/v1/customers/newbie/recommendations?n=10", nil, &recs); code != 200 || len(recs.Items) == 0 {
			t.Fatalf("recommendations: %d %+v", code, recs)
		}
		if recs.Items[0].Item != "stove" || len(recs.Items[0].RecID) < 8 || recs.Items[0].RecID[:4] != "rec_" {
			t.Fatalf("a tent viewer gets the stove first: %+v", recs.Items)
		}
		for _, it := range recs.Items {
			if it.Item == "tent" {
				t.Fatalf("the viewed item is not recommended back: %+v", recs.Items)
			}
		}
		if code := s.API("GET", "/api/v1/customers/nobody-yet/recommendations", nil, nil); code != 404 {
			t.Fatalf("unknown customer: %d", code)
		}
		var sim struct {
			Items []struct{ Item string }
		}
		if code := s.API("GET", "/api/v1/items/shoes/similar?n=10", nil, &sim); code != 200 || len(sim.Items) == 0 || sim.Items[0].Item != "gels" {
			t.Fatalf("similar to shoes: %d %+v", code, sim)
		}
		if code := s.API("GET", "/api/v1/items/shoes/similar?n=0", nil, nil); code != 400 {
			t.Fatalf("n=0: %d", code)
		}
		var again struct {
			Items []struct {
				Item          string
				Orders        int
				UsualQuantity float64   `json:"usual_quantity"`
				NextNeedAt    time.Time `json:"next_need_at"`
			}
		}
		if code := s.API("GET", "/api/v1/customers/regular/buy-again", nil, &again); code != 200 || len(again.Items) != 2 {
			t.Fatalf("buy again: %d %+v", code, again)
		}
		coffee := again.Items[0]
		if coffee.Item != "coffee" || coffee.Orders != 4 || coffee.UsualQuantity != 2 {
			t.Fatalf("coffee: %+v", again.Items)
		}
		if due := now.Add(2 * 24 * time.Hour); coffee.NextNeedAt.Sub(due).Abs() > time.Hour {
			t.Fatalf("coffee next need %s, want about %s", coffee.NextNeedAt, due)
		}
		// Rated 1 of 5, the filters are not offered again, not even to buy again.
		s.MustSend("track", map[string]any{"userId": "regular", "event": "Product Reviewed", "properties": map[string]any{"product_id": "filters", "rating": 1}})
		s.Sync()
		if code := s.API("GET", "/api/v1/customers/regular/buy-again", nil, &again); code != 200 || len(again.Items) != 1 || again.Items[0].Item != "coffee" {
			t.Fatalf("buy again after a poor rating: %d %+v", code, again)
		}
		// A one-off gas buyer's next need comes from everyone's reorders: none here.
		var prop struct {
			Proposal string
			Items    []struct {
				Item, Name string
				ImageURL   string `json:"image_url"`
				Quantity   float64
			}
		}
		if code := s.API("POST", "/api/v1/customers/regular/reorder", map[string]any{"from": "last_order"}, &prop); code != 201 || len(prop.Proposal) < 6 ||
			prop.Proposal[:5] != "prop_" || len(prop.Items) != 2 || prop.Items[0].Item != "coffee" || prop.Items[0].Quantity != 2 ||
			prop.Items[0].Name != coffeeName || prop.Items[0].ImageURL != coffeeImage || prop.Items[1].Name != "Item filters" {
			t.Fatalf("reorder: %d %+v", code, prop)
		}
		if code := s.API("POST", "/api/v1/customers/newbie/reorder", map[string]any{"from": "last_order"}, nil); code != 409 {
			t.Fatalf("reorder without orders: %d", code)
		}
		if code := s.API("POST", "/api/v1/customers/regular/reorder", map[string]any{"from": "wishlist"}, nil); code != 400 {
			t.Fatalf("unknown source: %d", code)
		}
		var prefs struct {
			Sizes      map[string]string
			AddressRef string `json:"address_ref"`
			PaymentRef string `json:"payment_ref"`
		}
		if code := s.API("GET", "/api/v1/customers/hiker/preferences", nil, &prefs); code != 200 || prefs.Sizes["Footwear"] != "42" || prefs.AddressRef != "addr-2" ||
			prefs.PaymentRef != "pm-visa-1" {
			t.Fatalf("preferences: %d %+v", code, prefs)
		}
		if code := s.API("PUT", "/api/v1/customers/hiker/lists/trip", map[string]any{"items": []any{map[string]any{"item": "gels", "quantity": 6}, map[string]any{"item": "gas"}}}, nil); code != 200 {
			t.Fatalf("save list: %d", code)
		}
		if code := s.API("PUT", "/api/v1/customers/hiker/lists/empty", map[string]any{"items": []any{}}, nil); code != 400 {
			t.Fatalf("empty list: %d", code)
		}
		var fromList struct {
			Items []struct {
				Item     string
				Quantity float64
			}
			AddressRef string `json:"address_ref"`
		}
		if code := s.API("POST", "/api/v1/customers/hiker/reorder", map[string]any{"from": "list:trip"}, &fromList); code != 201 || len(fromList.Items) != 2 ||
			fromList.Items[0].Quantity != 6 || fromList.Items[1].Quantity != 1 || fromList.AddressRef != "addr-2" {
			t.Fatalf("reorder a list: %d %+v", code, fromList)
		}
		if code := s.API("POST", "/api/v1/customers/hiker/reorder", map[string]any{"from": "list:nope"}, nil); code != 404 {
			t.Fatalf("reorder an unknown list: %d", code)
		}
		s.MustSend("track", map[string]any{"userId": "regular", "event": "Order Proposal Accepted", "properties": map[string]any{"proposal_id": prop.Proposal}})
		s.Sync()
		var props struct {
			Proposals []struct{ Proposal, Status string }
		}
		s.API("GET", "/api/v1/customers/regular/proposals", nil, &props)
		if len(props.Proposals) != 1 || props.Proposals[0].Status != "accepted" {
			t.Fatalf("proposals: %+v", props)
		}
		var ev struct {
			Events []struct {
				Message struct{ Properties map[string]any }
			}
		}
		s.API("GET", "/api/v1/events?type=Order+Proposed&customer=regular", nil, &ev)
		if len(ev.Events) != 1 || ev.Events[0].Message.Properties["proposal_id"] != prop.Proposal {
			t.Fatalf("Order Proposed events: %+v", ev.Events)
		}
		// The commerce system's webhook reads names and images, not ids alone.
		line := ev.Events[0].Message.Properties["products"].([]any)[0].(map[string]any)
		if line["product_id"] != "coffee" || line["name"] != coffeeName || line["image_url"] != coffeeImage || line["quantity"] != 2.0 {
			t.Fatalf("Order Proposed products: %+v", line)
		}
		// Buy it again and the journey name the products too.
		var again2 struct {
			Items []struct{ Item, Name string }
		}
		if s.API("GET", "/api/v1/customers/regular/buy-again", nil, &again2); again2.Items[0].Name != coffeeName {
			t.Fatalf("buy again names: %+v", again2)
		}
		var touches struct {
			Touches []struct{ Event, Item, Name string }
		}
		s.API("GET", "/api/v1/customers/regular/experiences", nil, &touches)
		proposed := 0
		for _, tc := range touches.Touches {
			if tc.Event == "Order Proposed" {
				proposed++
				if tc.Item != "coffee" || tc.Name != coffeeName {
					t.Fatalf("journey touch: %+v", tc)
				}
			}
		}
		if proposed != 1 {
			t.Fatalf("journey: %+v", touches)
		}
	})
}

// The background training waits for a burst of interactions to settle:
// with none there is no model to speak of, the first ones train at once,
// more arriving hold training back until a round finds no new ones (or
// SettleAfter has passed), and the console says what the model in use was
// trained on — or that it is not trained yet.
func TestTrainingAfterTheBurstSettles(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, _ := apptest.StartAt(t, dsn, fixed)
		ctx := t.Context()
		// Once the background's first round is done, only this test trains.
		afterFirstRound(t, s)
		if n, did, err := s.Exp.TrainSettled(ctx, -1, 0); err != nil || did || n != 0 || s.Exp.ModelInfo().Trained {
			t.Fatalf("no interactions: %d, trained %v (%v), %+v", n, did, err, s.Exp.ModelInfo())
		}
		if page := s.Page("/experiences"); !strings.Contains(page, "Not trained yet") || strings.Contains(page, "on 0 interactions") {
			t.Fatalf("the experiences page without interactions: %q", page)
		}
		customers := 0
		burst := func(k int) int64 {
			for i := range 8 {
				c := fmt.Sprintf("burst%d-%d", k, i)
				s.MustSend("track", order(c, c+"-1", fixed.Add(-time.Duration(k*24+i)*time.Hour), "tent", 1, fmt.Sprintf("item-%d", i%3), 1))
				customers++
			}
			s.Sync()
			var n int64
			if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM interactions`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		trainedOn := func(n int64) {
			t.Helper()
			if m := s.Exp.ModelInfo(); !m.Trained || m.Interactions != n || m.Customers != customers {
				t.Fatalf("model %+v, want trained on %d interactions of %d customers", m, n, customers)
			}
		}
		n1 := burst(1)
		if n, _, err := s.Exp.TrainSettled(ctx, 0, time.Minute); err != nil || n != n1 {
			t.Fatalf("first interactions: %d of %d (%v)", n, n1, err)
		}
		trainedOn(n1) // the first ones train at once
		n2 := burst(2)
		if _, did, err := s.Exp.TrainSettled(ctx, n1, time.Minute); err != nil || did {
			t.Fatalf("trained while interactions kept coming (%v)", err)
		}
		customers -= 8
		trainedOn(n1)
		customers += 8
		if _, did, err := s.Exp.TrainSettled(ctx, n2, 2*time.Minute); err != nil || !did {
			t.Fatalf("did not train once the burst settled (%v)", err)
		}
		trainedOn(n2)
		if page := s.Page("/experiences"); !strings.Contains(page, fmt.Sprintf("on %d interactions of %d customers", n2, customers)) {
			t.Fatalf("the experiences page: %q", page)
		}
		n3 := burst(3)
		if _, did, err := s.Exp.TrainSettled(ctx, n2, experience.SettleAfter); err != nil || !did {
			t.Fatalf("interactions coming for %v held training back (%v)", experience.SettleAfter, err)
		}
		trainedOn(n3)
	})
}

// afterFirstRound waits until the background's first round (run at start;
// the next a minute later) is done, so that a test's own rounds are the
// only ones.
func afterFirstRound(t *testing.T, s *apptest.Server) {
	t.Helper()
	for i := 0; s.Exp.Rounds() == 0; i++ {
		if i == 1000 {
			t.Fatal("the background's first round did not finish")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
