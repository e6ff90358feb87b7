// Package demo generates a realistic sample retailer — customers who browse
// anonymously on the web and in the app, sign up, buy online and in stores,
// call the call centre, post on social media and review sites, return
// products and belong to business accounts — and sends it through the
// Segment-compatible ingestion API, so every consumer sees it as real data.
//
// It imports nothing from cxloop: it speaks only the public HTTP API.
package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// Options shape the generated business.
type Options struct {
	Customers int       // how many people (at least 1)
	Seed      uint64    // the same seed gives the same data
	End       time.Time // the last day of the two years generated
	// Surveys, when set, add the customers' answers to the demo surveys
	// (created first with CreateSurveys).
	Surveys Surveys
	// Live is how much of the end of the two years arrives as live traffic
	// (default 14 days): rules and surveys act on it. Everything older is
	// sent as history (context.backfill), as a business moving to cxloop
	// would load it: counted in reports, acted on by nothing.
	Live time.Duration
}

// liveDefault is the default Options.Live.
const liveDefault = 14 * 24 * time.Hour

// Message is one Segment-spec message.
type Message map[string]any

type product struct {
	ID, SKU, Name, Category string
	Price                   float64
}

var catalogue = func() []product {
	items := []struct {
		cat   string
		names []string
		price float64
	}{
		{"Tents", []string{"Ridge 2 Tent", "Basecamp 4 Tent", "Ultralight Bivy", "Family Dome 6"}, 229},
		{"Backpacks", []string{"Trail 28 Daypack", "Summit 45 Pack", "Expedition 70 Pack", "Commuter 20"}, 119},
		{"Footwear", []string{"Granite Hiking Boot", "Trail Runner GTX", "Camp Sandal", "Winter Insulated Boot"}, 139},
		{"Apparel", []string{"Storm Shell Jacket", "Merino Base Layer", "Fleece Midlayer", "Hiking Pants", "Down Vest"}, 89},
		{"Cooking", []string{"Titanium Pot Set", "Canister Stove", "Insulated Bottle", "Camp Mug"}, 39},
		{"Accessories", []string{"Headlamp 400", "Trekking Poles", "First Aid Kit", "Water Filter", "Map Case"}, 29},
	}
	var out []product
	for ci, it := range items {
		for i, n := range it.names {
			out = append(out, product{
				ID: fmt.Sprintf("p%02d%02d", ci+1, i+1), SKU: fmt.Sprintf("NW-%02d-%03d", ci+1, i*7+11), Name: n, Category: it.cat,
				Price: math.Round((it.price*(0.7+0.15*float64(i)))*100) / 100,
			})
		}
	}
	return out
}()

var firstNames = strings.Fields("Ana Ben Carla David Eva Farid Grace Hugo Ines Jonas Kira Liam Maya Noah Olga Pablo Quinn Rosa Samir Tara Ugo Vera Wen Xavi Yara Zoe Amir Bea Chen Dana Emil Fatima Goran Hana Ivan Jade Kofi Lena Marco Nadia")
var lastNames = strings.Fields("Almeida Brown Chen Dubois Eriksen Fischer García Haddad Ivanova Jensen Kowalski López Müller Nakamura Okafor Petrov Quintero Rossi Schmidt Tanaka Ullah Varga Weber Xu Yilmaz Zhang")
var cities = strings.Fields("Lisbon Madrid Berlin Paris Oslo Vienna Prague Dublin Milan Lyon Porto Seville Munich Zurich Copenhagen")
var networks = []string{"twitter", "instagram", "facebook", "tiktok"}
var reasons = []string{"wrong size", "damaged", "not as described", "changed mind", "arrived late"}
var callReasons = []string{"order status", "return request", "product question", "complaint", "warranty"}
var industries = []string{"Outdoor education", "Scouting", "Tourism", "Event staffing", "Mountain rescue"}

// Generate calls emit with every message of the sample business, customer
// by customer, each customer's messages in time order.
func Generate(opts Options, emit func(Message) error) error {
	if opts.Customers < 1 {
		return fmt.Errorf("demo: customers must be at least 1")
	}
	if opts.End.IsZero() {
		opts.End = time.Now()
	}
	end := opts.End.UTC()
	start := end.AddDate(-2, 0, 0)
	if opts.Live <= 0 {
		opts.Live = liveDefault
	}
	live := (&customer{}).at(end.Add(-opts.Live))
	accounts := max(1, opts.Customers/40)
	for n := 0; n < opts.Customers; n++ {
		r := rand.New(rand.NewPCG(opts.Seed, uint64(n)+1))
		c := newCustomer(n, r, start, end, accounts)
		c.locale = locales[rand.New(rand.NewPCG(opts.Seed^0x10ca1e, uint64(n)+1)).IntN(len(locales))]
		msgs := c.story()
		c.relationship(opts.Seed)
		c.consume(opts.Seed)
		msgs = c.msgs
		if opts.Surveys.PostOrder != "" {
			c.answers(opts.Surveys, opts.Seed, c.locale)
			msgs = c.msgs
		}
		sort.SliceStable(msgs, func(i, j int) bool { return msgs[i]["timestamp"].(string) < msgs[j]["timestamp"].(string) })
		for _, m := range msgs {
			if m["timestamp"].(string) < live {
				ctx, _ := m["context"].(map[string]any)
				if ctx == nil {
					ctx = map[string]any{}
					m["context"] = ctx
				}
				ctx["backfill"] = true
			}
			if err := emit(m); err != nil {
				return err
			}
		}
	}
	return nil
}

type customer struct {
	n                int
	r                *rand.Rand
	start, end       time.Time
	userID, email    string
	phone            string
	first, last      string
	city             string
	handle           string
	account          string
	role             string
	appUser          bool
	msgs             []Message
	seq              int
	anonWeb, anonApp string
	locale           string
	signup           time.Time
	gone             time.Time // when the customer stopped buying from the range (zero: they stay)
}

// stays is until when the customer buys from the range: when they left,
// else the end.
func (c *customer) stays() time.Time {
	if c.gone.IsZero() {
		return c.end
	}
	return c.gone
}

func newCustomer(n int, r *rand.Rand, start, end time.Time, accounts int) *customer {
	c := &customer{n: n, r: r, start: start, end: end}
	c.first = firstNames[r.IntN(len(firstNames))]
	c.last = lastNames[r.IntN(len(lastNames))]
	c.userID = fmt.Sprintf("user-%05d", n+1)
	c.email = fmt.Sprintf("%s.%s.%d@example.com", strings.ToLower(ascii(c.first)), strings.ToLower(ascii(c.last)), n+1)
	if r.Float64() < 0.7 {
		c.phone = fmt.Sprintf("+3519%08d", 10000000+n*37)
	}
	c.city = cities[r.IntN(len(cities))]
	c.handle = fmt.Sprintf("@%s%s%d", strings.ToLower(ascii(c.first)), strings.ToLower(ascii(c.last[:1])), n+1)
	c.appUser = r.Float64() < 0.45
	c.anonWeb = fmt.Sprintf("anon-web-%05d", n+1)
	c.anonApp = fmt.Sprintf("anon-app-%05d", n+1)
	if r.Float64() < 0.12 {
		c.account = fmt.Sprintf("acct-%03d", r.IntN(accounts)+1)
		c.role = []string{"buyer", "decision_maker", "user", "finance"}[r.IntN(4)]
	}
	return c
}

// ascii keeps the letters a–z of s, for addresses and handles.
func ascii(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case r == 'á' || r == 'à':
			b.WriteRune('a')
		case r == 'é':
			b.WriteRune('e')
		case r == 'í':
			b.WriteRune('i')
		case r == 'ó' || r == 'ö':
			b.WriteRune('o')
		case r == 'ü' || r == 'ú':
			b.WriteRune('u')
		}
	}
	return b.String()
}

func (c *customer) at(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (c *customer) add(typ string, t time.Time, m Message, channel string) {
	c.seq++
	if t.After(c.end) {
		return // not happened yet: the demo's story stops at its end, now
	}
	m["type"] = typ
	m["messageId"] = fmt.Sprintf("demo-%05d-%04d", c.n+1, c.seq)
	m["timestamp"] = c.at(t)
	ctx, _ := m["context"].(map[string]any)
	if ctx == nil {
		ctx = map[string]any{}
	}
	ctx["channel"] = channel
	m["context"] = ctx
	c.msgs = append(c.msgs, m)
}

func (c *customer) between(a, b time.Time) time.Time {
	if !b.After(a) {
		return a
	}
	return a.Add(time.Duration(c.r.Int64N(int64(b.Sub(a)))))
}

// story makes the customer's messages over the two years: browsing, signing
// up, the app and their company's account, orders, a call, complaints and
// a social mention, each as likely as in the sample business.
func (c *customer) story() []Message {
	r := c.r
	c.signup = c.arrive()
	c.signUp()
	if c.appUser {
		c.joinApp()
	}
	if c.account != "" {
		c.joinAccount()
	}
	c.shop()
	if r.Float64() < 0.3 {
		c.call()
	}
	c.complain(c.signup)
	if r.Float64() < 0.15 {
		c.mention()
	}
	return c.msgs
}

// arrive is the customer's first visits, browsing the website anonymously
// until they sign up, and returns when they signed up.
func (c *customer) arrive() time.Time {
	r := c.r
	span := c.end.Sub(c.start)
	firstVisit := c.start.Add(time.Duration(r.Float64() * 0.85 * float64(span)))
	signup := firstVisit.Add(time.Duration(1+r.IntN(20*24)) * time.Hour)
	if signup.After(c.end) {
		signup = c.end.Add(-time.Hour)
	}
	// Anonymous browsing before signing up.
	for s := 0; s < 1+r.IntN(3); s++ {
		t := c.between(firstVisit, signup)
		c.browse(t, c.anonWeb, "", "web")
	}
	return signup
}

// signUp is the customer signing up on the website: who they are, and who
// referred them, if anyone.
func (c *customer) signUp() {
	signup := c.signup
	traits := map[string]any{"email": c.email, "firstName": c.first, "lastName": c.last, "name": c.first + " " + c.last,
		"address": map[string]any{"city": c.city}, "createdAt": c.at(signup), "locale": c.locale}
	if c.phone != "" {
		traits["phone"] = c.phone
	}
	if c.role != "" {
		traits["role"] = c.role
	}
	c.add("identify", signup, Message{"userId": c.userID, "anonymousId": c.anonWeb, "traits": traits}, "web")
	signed := map[string]any{"method": "email"}
	// About one customer in eight was brought by an earlier one; a few
	// customers (every 40th) bring most of them.
	if rr := rand.New(rand.NewPCG(uint64(c.n)+7, 0x5e11)); c.n > 40 && rr.Float64() < 0.125 {
		sender := (rr.IntN(c.n/40) * 40) + 1
		if rr.Float64() < 0.3 {
			sender = rr.IntN(c.n) + 1
		}
		signed["referred_by"] = fmt.Sprintf("user-%05d", sender)
	}
	c.add("track", signup.Add(time.Second), Message{"userId": c.userID, "event": "Signed Up", "properties": signed}, "web")
}

// joinApp is the customer starting to use the mobile app some time after
// signing up, and the app's account being joined to theirs.
func (c *customer) joinApp() {
	t := c.between(c.signup, c.end)
	c.browse(t, c.anonApp, "", "mobile_app")
	// The app knew the customer by its own id before the accounts were joined.
	appID := fmt.Sprintf("app-%05d", c.n+1)
	c.add("identify", t.Add(2*time.Minute), Message{"userId": appID, "anonymousId": c.anonApp, "traits": map[string]any{"appVersion": "4." + fmt.Sprint(c.r.IntN(9))}}, "mobile_app")
	c.add("alias", t.Add(3*time.Minute), Message{"previousId": appID, "userId": c.userID}, "mobile_app")
}

// joinAccount puts the customer in their company's account, an hour after
// signing up.
func (c *customer) joinAccount() {
	c.add("group", c.signup.Add(time.Hour), Message{"userId": c.userID, "groupId": c.account, "traits": map[string]any{
		"name": "Account " + strings.TrimPrefix(c.account, "acct-"), "industry": industries[int(c.account[len(c.account)-1])%len(industries)],
		"employees": 20 + int(c.account[len(c.account)-1])*13, "role": c.role}}, "web")
}

// shop is the customer's orders, a few for most, many for loyal repeat
// buyers, on the website, the app or in a store.
//
// Orders come at a rate of the customer's own while they stay (a Poisson
// process: one to four a year, loyal repeat buyers four to ten), and after
// each order the customer leaves with a chance of their own (15–45 %, 30 %
// on average; 3–8 % for the loyal): the process the value model (BG/NBD)
// assumes, so that it has churners to find.
func (c *customer) shop() {
	r := c.r
	rate, drop := 1+3*r.Float64(), 0.15+0.3*r.Float64()
	if r.Float64() < 0.15 { // loyal repeat buyers
		rate, drop = 4+6*r.Float64(), 0.03+0.05*r.Float64()
	}
	type planned struct {
		t       time.Time
		channel string
	}
	var plan []planned
	const year = 365.25 * 24 * float64(time.Hour)
	for t := c.signup; ; {
		t = t.Add(time.Duration(r.ExpFloat64() / rate * year))
		if !t.Before(c.end) {
			break
		}
		channel := []string{"web", "web", "mobile_app", "store"}[r.IntN(4)]
		if channel == "mobile_app" && !c.appUser {
			channel = "web"
		}
		plan = append(plan, planned{t, channel})
		if r.Float64() < drop {
			c.gone = t // nothing more from the range (a consumable's regular buyers may go on: consume)
			break
		}
	}
	// A bad experience (an order that came damaged, late or not as
	// described) makes most of a customer's later orders not happen: the
	// dissatisfied buy less, so satisfaction predicts coming back.
	soured := false
	leave := rand.New(rand.NewPCG(uint64(c.n)+1, 0x50e7ed))
	for o, p := range plan {
		if soured && leave.Float64() < 0.7 {
			continue
		}
		if c.order(o, p.t, p.channel) {
			soured = true
		}
	}
}

// call is the customer calling the call centre once, known by their phone
// number, or by their email when they gave no phone.
func (c *customer) call() {
	r := c.r
	t := c.between(c.signup, c.end)
	reason := callReasons[r.IntN(len(callReasons))]
	ctx := map[string]any{"traits": map[string]any{"phone": c.phone}}
	id := Message{"anonymousId": fmt.Sprintf("call-%05d", c.n+1), "context": ctx}
	if c.phone == "" {
		ctx["traits"] = map[string]any{"email": c.email}
	}
	id["event"] = "Call Completed"
	id["properties"] = map[string]any{"reason": reason, "duration_seconds": 60 + r.IntN(900), "resolved": r.Float64() < 0.7, "agent": fmt.Sprintf("agent-%02d", r.IntN(25)+1)}
	c.add("track", t, id, "call_centre")
}

// mention is the customer mentioning the business on a social network,
// matched to them by social listening more often than not.
func (c *customer) mention() {
	r := c.r
	t := c.between(c.signup, c.end)
	sentiment := []string{"positive", "neutral", "negative"}[r.IntN(3)]
	m := Message{"anonymousId": "social:" + c.handle, "event": "Social Mention", "properties": map[string]any{
		"network": networks[r.IntN(len(networks))], "handle": c.handle, "sentiment": sentiment,
		"text": map[string]string{"positive": "Loving my new gear from Northwind!", "neutral": "Anyone tried Northwind's tents?", "negative": "Still waiting for my Northwind order…"}[sentiment]}}
	if r.Float64() < 0.6 { // matched to the customer by social listening
		m["context"] = map[string]any{"traits": map[string]any{"email": c.email}}
	}
	c.add("track", t, m, "social")
}

func (c *customer) browse(t time.Time, anon, user, channel string) {
	r := c.r
	typ, nameKey := "page", "name"
	if channel == "mobile_app" {
		typ = "screen"
	}
	ids := Message{"anonymousId": anon}
	if user != "" {
		ids["userId"] = user
	}
	page := func(name, path string) {
		m := Message{"name": name, "properties": map[string]any{"path": path, "title": name + " · Northwind Outfitters"}}
		for k, v := range ids {
			m[k] = v
		}
		_ = nameKey
		c.add(typ, t, m, channel)
		t = t.Add(time.Duration(10+r.IntN(120)) * time.Second)
	}
	page("Home", "/")
	p := catalogue[r.IntN(len(catalogue))]
	page(p.Category, "/c/"+strings.ToLower(p.Category))
	for i := 0; i < 1+r.IntN(3); i++ {
		p = catalogue[r.IntN(len(catalogue))]
		m := Message{"event": "Product Viewed", "properties": map[string]any{"product_id": p.ID, "sku": p.SKU, "name": p.Name, "category": p.Category, "price": p.Price, "currency": "EUR"}}
		for k, v := range ids {
			m[k] = v
		}
		c.add("track", t, m, channel)
		t = t.Add(time.Duration(20+r.IntN(200)) * time.Second)
	}
}

// order adds an order and what followed it; it reports whether the order
// went badly (returned damaged, late or not as described).
func (c *customer) order(o int, t time.Time, channel string) (bad bool) {
	r := c.r
	if channel != "store" {
		anon := c.anonWeb
		if channel == "mobile_app" {
			anon = c.anonApp
		}
		c.browse(t.Add(-20*time.Minute), anon, c.userID, channel)
	}
	var products []map[string]any
	total := 0.0
	for i := 0; i < 1+r.IntN(3); i++ {
		p := catalogue[r.IntN(len(catalogue))]
		q := 1 + r.IntN(2)
		products = append(products, map[string]any{"product_id": p.ID, "sku": p.SKU, "name": p.Name, "category": p.Category, "price": p.Price, "quantity": q})
		total += p.Price * float64(q)
	}
	total = math.Round(total*100) / 100
	orderID := fmt.Sprintf("ord-%05d-%02d", c.n+1, o+1)
	props := map[string]any{"order_id": orderID, "total": total, "revenue": math.Round(total/1.23*100) / 100, "tax": math.Round((total-total/1.23)*100) / 100, "currency": "EUR", "products": products}
	m := Message{"event": "Order Completed", "properties": props}
	if channel == "store" {
		// In the store the customer shows a loyalty card that carries their email.
		m["anonymousId"] = fmt.Sprintf("pos-card-%05d", c.n+1)
		m["context"] = map[string]any{"traits": map[string]any{"email": c.email}, "location": map[string]any{"city": c.city}}
		props["store"] = "Northwind " + c.city
	} else {
		m["userId"] = c.userID
	}
	c.add("track", t, m, channel)
	// Returns: 5–10 % in stores, 15–40 % online (apparel and footwear at the
	// top), the app below the web.
	rate := map[string]float64{"store": 0.07, "web": 0.2, "mobile_app": 0.15}[channel]
	if cat := products[0]["category"]; channel != "store" && (cat == "Apparel" || cat == "Footwear") {
		rate *= 1.75
	}
	if r.Float64() < rate {
		rt := t.Add(time.Duration(2+r.IntN(20)) * 24 * time.Hour)
		if rt.Before(c.end) {
			returnChannel := []string{"store", "web", "call_centre"}[r.IntN(3)]
			reason := reasons[r.IntN(len(reasons))]
			c.add("track", rt, Message{"userId": c.userID, "event": "Order Refunded", "properties": map[string]any{
				"order_id": orderID, "total": total, "currency": "EUR", "reason": reason, "products": products[:1]}}, returnChannel)
			bad = reason == "damaged" || reason == "arrived late" || reason == "not as described"
		}
	}
	if r.Float64() < 0.2 {
		rt := t.Add(time.Duration(3+r.IntN(30)) * 24 * time.Hour)
		if rt.Before(c.end) {
			p := products[0]
			rating := 1 + r.IntN(5)
			c.add("track", rt, Message{"userId": c.userID, "event": "Product Reviewed", "properties": map[string]any{
				"product_id": p["product_id"], "review_id": fmt.Sprintf("rev-%05d-%02d", c.n+1, o+1), "rating": rating,
				"review_body": []string{"", "Fell apart on the first trip.", "Not great.", "Does the job.", "Very good.", "Excellent, would buy again."}[rating],
				"site":        []string{"trustpilot", "google", "northwind.example"}[r.IntN(3)]}}, "review_site")
		}
	}
	return bad
}

// complain adds what a dissatisfied customer says: of those with a damaged,
// late or wrong order or an unresolved call, about 12.8 % complain formally
// and about 30 % complain on social media.
func (c *customer) complain(signup time.Time) {
	r := c.r
	var cause Message
	for _, m := range c.msgs {
		p, _ := m["properties"].(map[string]any)
		switch {
		case m["event"] == "Order Refunded" && p["reason"] != "changed mind" && p["reason"] != "wrong size":
			cause = m
		case m["event"] == "Call Completed" && p["resolved"] == false:
			cause = m
		}
	}
	if cause == nil {
		return
	}
	at, _ := time.Parse("2006-01-02T15:04:05.000Z", cause["timestamp"].(string))
	p, _ := cause["properties"].(map[string]any)
	what := "My problem is still not solved."
	if reason, ok := p["reason"].(string); ok {
		what = map[string]string{"damaged": "My order arrived damaged.", "not as described": "The product is not as described.",
			"arrived late": "My order arrived late and nobody told me."}[reason]
	}
	if r.Float64() < 0.128 {
		props := map[string]any{"text": what + " I want this sorted out.", "subject": what}
		if id, ok := p["order_id"]; ok {
			props["order_id"] = id
		}
		channel := []string{"web", "call_centre", "email"}[r.IntN(3)]
		c.add("track", at.Add(time.Duration(1+r.IntN(48))*time.Hour), Message{"userId": c.userID, "event": "Complaint Submitted", "properties": props}, channel)
	}
	if r.Float64() < 0.3 {
		m := Message{"anonymousId": "social:" + c.handle, "event": "Social Mention", "properties": map[string]any{
			"network": networks[r.IntN(len(networks))], "handle": c.handle, "sentiment": "negative",
			"text": "Really disappointed with Northwind. " + what}}
		m["context"] = map[string]any{"traits": map[string]any{"email": c.email}}
		c.add("track", at.Add(time.Duration(2+r.IntN(72))*time.Hour), m, "social")
	}
}
