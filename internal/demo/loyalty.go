package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// The demo's affinity groups and how-to guides (created by CreateLoop
// under these ids, so the site's Guide Viewed events can name them).
var (
	communities = []string{"Trail runners", "Alpine club", "Family campers"}
	guides      = []struct {
		ID, Title, URL string
		Minutes        int
	}{
		{"pitch-a-tent", "Pitch a tent in ten minutes", "https://northwind.example/guides/tent", 20},
		{"wax-your-skis", "Wax your skis at home", "https://northwind.example/guides/wax", 45},
		{"fit-your-boots", "Find boots that fit", "https://northwind.example/guides/boots", 30},
	}
)

// relationship adds what a customer does beyond buying: about one in five
// joins an affinity group (and some post, answer and attend events there),
// about one in three reads a how-to guide. It draws from its own random
// stream so the rest of the story stays as it was.
func (c *customer) relationship(seed uint64) {
	r := rand.New(rand.NewPCG(seed^0xc0de, uint64(c.n)+1))
	if r.Float64() < 0.2 {
		g := communities[r.IntN(len(communities))]
		t := c.between(c.signup, c.end)
		c.add("track", t, Message{"userId": c.userID, "event": "Community Joined", "properties": map[string]any{"community": g}}, "web")
		for i := 0; i < r.IntN(6); i++ {
			t = t.Add(time.Duration(1+r.IntN(20*24)) * time.Hour)
			if t.After(c.end) {
				break
			}
			ev := []string{"Community Post Created", "Community Answer Posted", "Community Answer Posted", "Community Event Attended"}[r.IntN(4)]
			c.add("track", t, Message{"userId": c.userID, "event": ev, "properties": map[string]any{"community": g}}, "web")
		}
		if r.Float64() < 0.1 {
			c.add("track", c.between(t, c.end), Message{"userId": c.userID, "event": "Community Left", "properties": map[string]any{"community": g}}, "web")
		}
	}
	if r.Float64() < 0.3 {
		g := guides[r.IntN(len(guides))]
		c.add("track", c.between(c.signup, c.end), Message{"userId": c.userID, "event": "Guide Viewed", "properties": map[string]any{"guide_id": g.ID}}, "web")
	}
}

// loopRules are the demo's earning rules: a point per euro, 20 for a
// review, 5 for answering another member in a community, and for a
// referral whose friend orders, 100 to the sender and 50 to the friend.
var loopRules = []string{
	`{"on": "Order Completed", "points_per_unit": 1}`,
	`{"on": "Product Reviewed", "points": 20}`,
	`{"on": "Community Answer Posted", "points": 5}`,
	`{"on": "Referral Converted", "points": 100, "beneficiary": "sender"}`,
	`{"on": "Referral Converted", "points": 50}`,
}

// loopNudges are the demo's nudges: carts left behind, and consumables
// running out for customers who did not hand them to replenishment.
var loopNudges = []string{
	`{"name": "Still thinking about it?", "kind": "abandoned", "window_hours": 24, "subject": "Your {{item}} is waiting",
	  "message": "Hi {{name}}, the {{item}} you looked at is still in stock.", "holdout_pct": 20}`,
	`{"name": "Running low?", "kind": "running_out", "days_ahead": 3, "channel": "webhook", "subject": "Time to restock",
	  "message": "Hi {{name}}, by our count your {{item}} runs out in a few days.", "holdout_pct": 20}`,
}

// demoProgram is the demo's tiers, by points earned in twelve months (a
// point per euro): most members are bronze, about a fifth silver, one in
// ten gold and a few platinum, as in a real program — the default
// thresholds (50, 100, 500) would make most of the demo's members platinum.
const demoProgram = `{"measure": "points", "tiers": [
  {"name": "bronze", "from": 0},
  {"name": "silver", "from": 500, "perks": [{"kind": "free_service", "name": "Free repairs"}]},
  {"name": "gold", "from": 900, "perks": [{"kind": "early_access", "name": "New collections", "hours": 48}, {"kind": "free_service", "name": "Free repairs"},
    {"kind": "priority_service", "name": "Priority service"}]},
  {"name": "platinum", "from": 1500, "perks": [{"kind": "early_access", "name": "New collections", "hours": 72}, {"kind": "vip_deal", "name": "VIP evening", "code": "VIP-NIGHT"},
    {"kind": "free_service", "name": "Free repairs"}, {"kind": "priority_service", "name": "Priority service"}]}]}`

// createGuides adds the demo's how-to guides.
func createGuides(ctx context.Context, baseURL, token string) error {
	for _, g := range guides {
		b, _ := json.Marshal(map[string]any{"id": g.ID, "title": g.Title, "url": g.URL, "topic": "how-to", "minutes_saved": g.Minutes})
		if err := postJSON(ctx, baseURL+"/api/v1/guides", token, string(b)); err != nil {
			return err
		}
	}
	return nil
}

// Finish adds what the demo's members did after their events were read:
// managers' predictions of the survey answers (the alignment gap),
// redemptions at the till for some members with points, and introductions
// between business customers (bridges), recorded when they were made, that
// convert where the introduced customer ordered within 90 days, the
// history of the demo's nudges (their sends and hold-outs before the live
// fortnight). Last it sets the demo's tiers, which places every member at
// once. opts.End must be the End the data was sent with.
func Finish(ctx context.Context, baseURL, token string, opts Options) error {
	end := opts.End
	if end.IsZero() {
		end = time.Now()
	}
	// The demo retailer's orders are in euros.
	if err := send(ctx, http.MethodPatch, baseURL+"/api/v1/display-settings", token, `{"currency": "EUR"}`, nil); err != nil {
		return err
	}
	for n := 1; n <= opts.Customers; n += 9 {
		user := fmt.Sprintf("user-%05d", n)
		var m struct{ Balance int64 }
		if err := getJSON(ctx, baseURL+"/api/v1/customers/"+user+"/loyalty", token, &m); err != nil || m.Balance < 150 {
			continue
		}
		b, _ := json.Marshal(map[string]any{"points": 100 * (m.Balance/300 + 1) / 2, "idempotency_key": "demo-redeem-" + user, "note": "voucher at the till"})
		if err := send(ctx, http.MethodPost, baseURL+"/api/v1/customers/"+user+"/loyalty/redeem", token, string(b), nil); err != nil && !strings.Contains(err.Error(), "409") {
			return err
		}
	}
	// Managers say how they believe customers answer the relationship survey.
	for _, body := range []string{
		`{"team": "marketing", "answers": {"acsi.satisfaction": 8.9, "nps": 9, "value_price": 8.6, "qual_overall": 9}}`,
		`{"team": "service", "answers": {"acsi.satisfaction": 8.2, "nps": 8, "value_price": 7.5, "qual_overall": 8.5}}`,
	} {
		if err := postJSON(ctx, baseURL+"/api/v1/alignment/predictions", token, body); err != nil {
			return err
		}
	}
	r := rand.New(rand.NewPCG(opts.Seed, 0xb41d6e))
	for i := 0; i < max(3, opts.Customers/100); i++ {
		from, to := 1+r.IntN(opts.Customers), 1+r.IntN(opts.Customers)
		if from == to {
			continue
		}
		b, _ := json.Marshal(map[string]any{"from": fmt.Sprintf("user-%05d", from), "to": fmt.Sprintf("user-%05d", to),
			"note": "looking for a supplier of group gear", "at": end.AddDate(0, 0, -30-r.IntN(400)).UTC().Format(time.RFC3339)})
		if err := postJSON(ctx, baseURL+"/api/v1/introductions", token, string(b)); err != nil && !strings.Contains(err.Error(), "404") {
			return err
		}
	}
	if !opts.End.IsZero() {
		if err := importNudgeHistory(ctx, baseURL, token, opts); err != nil {
			return err
		}
	}
	return send(ctx, http.MethodPut, baseURL+"/api/v1/loyalty/tiers", token, demoProgram, nil)
}
