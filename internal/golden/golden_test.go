// Package golden_test runs a small business with planted ground truth
// through cxloop's real paths — /v1 as clients send, CSV imports, the
// management API — and checks each report's figure against the value the
// test computes from the business it generated, never through the code
// under test.
package golden_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The business's ground truth, as generated.
type truth struct {
	orders, returns     map[string]int // by channel
	damagedLive         int            // returns for damage that arrive live (a rule opens a case)
	answers             []answer
	negativePosts       int
	consumers, durables []string // who buys filters every month; who bought a tent once
	filterQty           int
	filterCycleDays     int
}

type answer struct {
	user, channel, store, path string
	score                      int
	at                         time.Time
	backfill                   bool
}

// The business's two stores; the second one's NPS drops in the last week.
var stores = []string{"Northwind Porto", "Northwind Lisboa"}

const droppingStore = "Northwind Lisboa"

const day = 24 * time.Hour

// live is how far back traffic counts as live; older history is a backfill.
const live = 14 * day

func generate(seed uint64, now time.Time) (truth, []map[string]any, string, string) {
	r := rand.New(rand.NewPCG(seed, 99))
	tr := truth{orders: map[string]int{}, returns: map[string]int{}, filterQty: 2, filterCycleDays: 30}
	returnRate := map[string]float64{"web": 0.25, "mobile_app": 0.15, "store": 0.06}
	channels := []string{"web", "mobile_app", "store"}
	var msgs []map[string]any
	var csvAnswers strings.Builder
	csvAnswers.WriteString("customer,at,channel,store,nps\n")
	var posts strings.Builder
	posts.WriteString("platform,handle,text,at\n")
	orderN := 0
	msg := func(user, event, channel string, at time.Time, props map[string]any) map[string]any {
		ctx := map[string]any{"channel": channel}
		if now.Sub(at) > live {
			ctx["backfill"] = true
		}
		return map[string]any{"type": "track", "userId": user, "event": event, "timestamp": at.UTC().Format(time.RFC3339),
			"context": ctx, "properties": props}
	}
	order := func(user, channel string, at time.Time, product, category string, qty int, price float64) {
		orderN++
		id := fmt.Sprintf("g-%04d", orderN)
		props := map[string]any{"order_id": id, "total": price * float64(qty), "products": []any{map[string]any{
			"product_id": product, "name": strings.ToUpper(product[:1]) + product[1:], "category": category, "quantity": qty, "price": price}}}
		if channel == "store" {
			props["store"] = stores[r.IntN(len(stores))]
		}
		msgs = append(msgs, msg(user, "Order Completed", channel, at, props))
		tr.orders[channel]++
		if r.Float64() < returnRate[channel] {
			reason := []string{"damaged", "wrong size", "changed mind"}[r.IntN(3)]
			rt := at.Add(time.Duration(1+r.IntN(5)) * day)
			if rt.After(now) {
				rt = now.Add(-time.Hour)
			}
			msgs = append(msgs, msg(user, "Order Refunded", channel, rt, map[string]any{"order_id": id, "reason": reason, "products": props["products"]}))
			tr.returns[channel]++
			if reason == "damaged" && now.Sub(rt) <= live {
				tr.damagedLive++
			}
		}
	}
	for i := range 150 {
		user := fmt.Sprintf("g-%03d", i)
		channel := channels[r.IntN(len(channels))]
		msgs = append(msgs, map[string]any{"type": "identify", "userId": user, "timestamp": now.Add(-300 * day).Format(time.RFC3339),
			"traits": map[string]any{"name": "Golden " + user}, "context": map[string]any{"backfill": true}})
		if i%5 < 2 { // two in five buy a water filter every 30 days, two at a time
			tr.consumers = append(tr.consumers, user)
			start := now.Add(-time.Duration(100+r.IntN(20)) * day)
			for k := range 4 {
				order(user, channel, start.Add(time.Duration(k*tr.filterCycleDays)*day), "filter", "Filters", tr.filterQty, 12)
			}
		} else { // the others buy a tent once
			tr.durables = append(tr.durables, user)
			order(user, channel, now.Add(-time.Duration(1+r.IntN(200))*day), "tent", "Tents", 1, 229)
		}
		if r.Float64() < 0.6 {
			a := answer{user: user, channel: channel, score: r.IntN(11), at: now.Add(-time.Duration(r.IntN(60*24)) * time.Hour),
				path: []string{"v1", "v1", "csv", "api"}[r.IntN(4)]}
			a.backfill = now.Sub(a.at) > live
			tr.answers = append(tr.answers, a)
		}
		if r.Float64() < 0.1 {
			tr.negativePosts++
			fmt.Fprintf(&posts, "twitter,@%s,%q,%s\n", user, "Terrible, my order arrived broken and nobody answers. Awful service.", now.Add(-day).Format(time.RFC3339))
		}
	}
	// Store visits, answered over the last two weeks: 40 answers a store a
	// week, all alike but for the dropping store's last week, which is
	// mostly detractors.
	for si, st := range stores {
		for week := range 2 {
			for k := range 40 {
				user := fmt.Sprintf("s-%d%d%02d", si, week, k)
				msgs = append(msgs, map[string]any{"type": "identify", "userId": user, "timestamp": now.Add(-300 * day).Format(time.RFC3339),
					"traits": map[string]any{"name": "Visitor " + user}, "context": map[string]any{"backfill": true}})
				score := 6 + r.IntN(5) // 6..10
				if st == droppingStore && week == 0 {
					score = r.IntN(8) // 0..7
				}
				at := now.Add(-time.Duration(week)*7*day - time.Hour - time.Duration(r.IntN(6*24*60))*time.Minute)
				tr.answers = append(tr.answers, answer{user: user, channel: "store", store: st, score: score, at: at,
					path: []string{"v1", "csv", "api"}[k%3]})
			}
		}
	}
	return tr, msgs, csvAnswers.String(), posts.String()
}

func TestGoldenBusiness(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		now := time.Date(2026, 9, 15, 12, 0, 0, 0, time.UTC)
		clock := apptest.NewClock(now.Add(-400 * day)) // the setup predates the business's history
		s := apptest.StartWith(t, dsn, func(c *app.Config) { c.Now = clock.Now })
		for _, team := range []string{"service", "social care", "logistics"} {
			s.API("POST", "/api/v1/teams", map[string]any{"name": team}, nil)
		}
		for _, rule := range []string{
			`{"name": "Detractors", "when": {"event": "Survey Responded", "nps_max": 6}, "then": {"open_case": {"team": "service", "kind": "detractor"}}}`,
			`{"name": "Negative posts", "when": {"event": "Social Mention", "sentiment": "negative"}, "then": {"open_case": {"team": "social care", "kind": "complaint"}}}`,
			`{"name": "Damaged", "when": {"event": "Order Refunded", "reason": "damaged"}, "then": {"open_case": {"team": "logistics", "kind": "return"}}}`,
		} {
			if code := s.API("POST", "/api/v1/rules", json.RawMessage(rule), nil); code != 201 {
				t.Fatalf("rule: %d", code)
			}
		}
		var sv struct{ ID string }
		if code := s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "Relationship", "rhythm": "pulse", "owner": "service",
			"questions": [{"id": "nps", "type": "nps", "text": {"en": "Recommend us?"}}]}`), &sv); code != 201 {
			t.Fatalf("survey: %d", code)
		}
		if code := s.API("PUT", "/api/v1/product-categories/Filters", map[string]any{"replenishable": true}, nil); code != 200 {
			t.Fatalf("filters are consumables: %d", code)
		}
		clock.Add(400 * day) // now the business arrives, history and live traffic alike

		tr, msgs, csvAnswers, posts := generate(7, now)
		sort.SliceStable(msgs, func(i, j int) bool { return msgs[i]["timestamp"].(string) < msgs[j]["timestamp"].(string) })
		for i := 0; i < len(msgs); i += 100 {
			s.MustSend("batch", map[string]any{"batch": msgs[i:min(len(msgs), i+100)]})
		}
		csv := map[bool]*strings.Builder{false: {}, true: {}}
		for _, a := range tr.answers {
			switch a.path {
			case "v1":
				m := map[string]any{"userId": a.user, "event": "Survey Responded", "timestamp": a.at.Format(time.RFC3339),
					"context":    map[string]any{"channel": "web", "backfill": a.backfill},
					"properties": map[string]any{"survey_id": sv.ID, "answers": map[string]any{"nps": a.score}, "touchpoint_channel": a.channel}}
				if a.store != "" {
					m["properties"].(map[string]any)["touchpoint_store"] = a.store
				}
				s.MustSend("track", m)
			case "api":
				if code := s.API("POST", "/api/v1/surveys/"+sv.ID+"/responses", map[string]any{"customer": a.user, "channel": a.channel, "store": a.store,
					"answers": map[string]any{"nps": a.score}, "at": a.at.Format(time.RFC3339), "backfill": a.backfill}, nil); code != 201 {
					t.Fatalf("api answer: %d", code)
				}
			case "csv":
				b := csv[a.backfill]
				if b.Len() == 0 {
					b.WriteString(csvAnswers)
				}
				fmt.Fprintf(b, "%s,%s,%s,%s,%d\n", a.user, a.at.Format(time.RFC3339), a.channel, a.store, a.score)
			}
		}
		for backfill, b := range csv {
			if b.Len() == 0 {
				continue
			}
			if code, body := s.Do("POST", fmt.Sprintf("/api/v1/surveys/%s/responses?backfill=%t", sv.ID, backfill), []byte(b.String()),
				"Authorization: Bearer "+apptest.Token, "Content-Type: text/csv"); code != 200 {
				t.Fatalf("csv import: %d %s", code, body)
			}
		}
		if code, body := s.Do("POST", "/api/v1/mentions", []byte(posts), "Authorization: Bearer "+apptest.Token, "Content-Type: text/csv"); code != 200 {
			t.Fatalf("posts: %d %s", code, body)
		}
		s.Sync()

		// nps is the NPS of the answers keep picks, and how many it picked.
		nps := func(keep func(answer) bool) (float64, int) {
			p, d, n := 0, 0, 0
			for _, a := range tr.answers {
				if !keep(a) {
					continue
				}
				n++
				switch {
				case a.score >= 9:
					p++
				case a.score <= 6:
					d++
				}
			}
			// reported to one decimal
			return math.Round(float64(1000*(p-d))/float64(n)) / 10, n
		}

		t.Run("return rates by channel", func(t *testing.T) {
			var got struct {
				Groups []struct {
					Key             string
					Orders, Returns int
					Rate            float64
				}
			}
			s.API("GET", "/api/v1/returns/rates?by=channel", nil, &got)
			if len(got.Groups) != len(tr.orders) {
				t.Fatalf("groups %+v, want %v orders", got.Groups, tr.orders)
			}
			for _, g := range got.Groups {
				want := float64(tr.returns[g.Key]) / float64(tr.orders[g.Key])
				if g.Orders != tr.orders[g.Key] || g.Returns != tr.returns[g.Key] || math.Abs(g.Rate-want) > 0.00005 {
					t.Errorf("%s: %d orders, %d returns, rate %v; want %d, %d, %.4f", g.Key, g.Orders, g.Returns, g.Rate, tr.orders[g.Key], tr.returns[g.Key], want)
				}
			}
		})

		t.Run("NPS overall and by channel, every answer path", func(t *testing.T) {
			var got struct {
				Groups []struct {
					Key   string
					Value float64
					N     int
				}
			}
			s.API("GET", "/api/v1/scores?metric=nps&survey="+sv.ID+"&by=channel", nil, &got)
			if len(got.Groups) != 3 {
				t.Fatalf("groups %+v", got.Groups)
			}
			for _, g := range got.Groups {
				want, n := nps(func(a answer) bool { return a.channel == g.Key })
				if g.N != n || math.Abs(g.Value-want) > 1e-9 {
					t.Errorf("%s: NPS %v over %d, want %.1f over %d", g.Key, g.Value, g.N, want, n)
				}
			}
		})

		t.Run("cases: detractors, negative posts and damaged returns that arrived live", func(t *testing.T) {
			want := map[string]int{"complaint": tr.negativePosts, "return": tr.damagedLive}
			for _, a := range tr.answers {
				if a.score <= 6 && !a.backfill {
					want["detractor"]++
				}
			}
			var got struct{ Cases []struct{ Kind string } }
			s.API("GET", "/api/v1/cases?limit=1000", nil, &got)
			have := map[string]int{}
			for _, c := range got.Cases {
				have[c.Kind]++
			}
			t.Logf("cases %v; orders %v returns %v; answers %d", have, tr.orders, tr.returns, len(tr.answers))
			if fmt.Sprint(have) != fmt.Sprint(want) {
				t.Fatalf("cases by kind %v, want %v", have, want)
			}
		})

		t.Run("NPS by store", func(t *testing.T) {
			var got struct {
				Groups []struct {
					Key   string
					Value float64
					N     int
				}
			}
			s.API("GET", "/api/v1/scores?metric=nps&survey="+sv.ID+"&by=store", nil, &got)
			seen := 0
			for _, g := range got.Groups {
				key := g.Key
				if key == "unknown" {
					key = ""
				}
				want, n := nps(func(a answer) bool { return a.store == key })
				if g.N != n || math.Abs(g.Value-want) > 1e-9 {
					t.Errorf("%s: NPS %v over %d, want %.1f over %d", g.Key, g.Value, g.N, want, n)
				}
				seen++
			}
			if seen != len(stores)+1 {
				t.Errorf("groups %+v, want the two stores and unknown", got.Groups)
			}
		})

		t.Run("replenishment: consumables only, in whole usual quantities", func(t *testing.T) {
			for _, u := range tr.consumers[:5] {
				var got struct {
					Needs []struct {
						Item      string
						Quantity  float64
						DaysAUnit float64 `json:"days_per_unit"`
					}
				}
				s.API("GET", "/api/v1/customers/"+u+"/replenishments", nil, &got)
				wantDays := float64(tr.filterCycleDays) / float64(tr.filterQty)
				if len(got.Needs) != 1 || got.Needs[0].Item != "filter" || got.Needs[0].Quantity != float64(tr.filterQty) || math.Abs(got.Needs[0].DaysAUnit-wantDays) > 0.5 {
					t.Errorf("%s needs %+v, want filters ×%d every %.0f days a unit", u, got.Needs, tr.filterQty, wantDays)
				}
			}
			for _, u := range tr.durables[:5] {
				var got struct{ Needs []struct{ Item string } }
				s.API("GET", "/api/v1/customers/"+u+"/replenishments", nil, &got)
				if len(got.Needs) != 0 {
					t.Errorf("%s bought a tent once and needs %+v", u, got.Needs)
				}
			}
		})

		t.Run("an alert on NPS by store fires for the dropping store only", func(t *testing.T) {
			var al struct{ ID string }
			if code := s.API("POST", "/api/v1/alerts", map[string]any{"name": "Store NPS", "metric": "nps", "survey": sv.ID, "by": "store",
				"window": "7d", "then": map[string]any{"open_case": map[string]any{"team": "service"}}}, &al); code != 201 {
				t.Fatalf("alert: %d", code)
			}
			var check struct {
				Groups []struct {
					Group           string
					Status          string
					Before, After   *float64
					NBefore, NAfter int
					P               *float64
				}
			}
			if code := s.API("GET", "/api/v1/alerts/"+al.ID+"/check", nil, &check); code != 200 {
				t.Fatalf("check: %d", code)
			}
			window := func(st string, w int) func(answer) bool {
				return func(a answer) bool {
					age := now.Sub(a.at)
					return a.store == st && age > time.Duration(w)*7*day && age <= time.Duration(w+1)*7*day
				}
			}
			found := 0
			for _, g := range check.Groups {
				if g.Group == "unknown" {
					continue
				}
				found++
				after, na := nps(window(g.Group, 0))
				before, nb := nps(window(g.Group, 1))
				if g.NBefore != nb || g.NAfter != na || g.Before == nil || g.After == nil ||
					math.Abs(*g.Before-before) > 1e-9 || math.Abs(*g.After-after) > 1e-9 {
					t.Errorf("%s: before %v (n %d), after %v (n %d); want %.1f (n %d), %.1f (n %d)", g.Group, g.Before, g.NBefore, g.After, g.NAfter, before, nb, after, na)
				}
				want := "not_significant"
				if g.Group == droppingStore {
					want = "significant"
				}
				if g.Status != want {
					t.Errorf("%s: %s (p %v), want %s", g.Group, g.Status, g.P, want)
				}
			}
			if found != len(stores) {
				t.Fatalf("groups %+v, want both stores", check.Groups)
			}
			// It fires here or in the alerts worker's own round; the cases say how often.
			if _, err := s.Cases.EvaluateAlerts(t.Context()); err != nil {
				t.Fatal(err)
			}
			var cs struct {
				Cases []struct{ Kind, Subject string }
			}
			s.API("GET", "/api/v1/cases?limit=1000", nil, &cs)
			alerts := 0
			for _, c := range cs.Cases {
				if c.Kind == "alert" {
					alerts++
					if !strings.Contains(c.Subject, droppingStore) {
						t.Errorf("alert case %q does not name the store", c.Subject)
					}
				}
			}
			if alerts != 1 {
				t.Errorf("%d alert cases, want 1", alerts)
			}
		})
	})
}
