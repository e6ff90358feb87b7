package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"
)

// Surveys are the demo's three surveys, one per rhythm, by id.
type Surveys struct {
	PostOrder    string // persistent: after each order
	Relationship string // periodic: quarterly
	Pulse        string // pulse: once, to a sample
}

// surveyDefinitions are the demo surveys as the management API takes them.
var surveyDefinitions = []string{
	`{"name": "Post-order feedback", "rhythm": "persistent", "owner": "service",
	  "trigger": {"event": "Order Completed", "delay": "2d", "sample": 0.5}, "reminders": {"max": 1, "after": "3d"},
	  "questions": [
	    {"id": "nps", "type": "nps", "text": {"en": "How likely are you to recommend Northwind to a friend?", "de": "Wie wahrscheinlich ist es, dass Sie Northwind weiterempfehlen?", "fr": "Quelle est la probabilité que vous recommandiez Northwind ?", "es": "¿Qué probabilidad hay de que recomiende Northwind?", "fa": "چقدر احتمال دارد نورث‌ویند را به دوستان پیشنهاد کنید؟"}},
	    {"id": "why", "type": "text", "text": {"en": "What is the main reason for your score?", "de": "Was ist der Hauptgrund für Ihre Bewertung?", "fr": "Quelle est la raison principale de votre note ?", "es": "¿Cuál es el motivo principal de su puntuación?", "fa": "دلیل اصلی امتیاز شما چیست؟"}}]}`,
	`{"name": "Quarterly relationship", "rhythm": "periodic", "owner": "marketing",
	  "schedule": {"rrule": "FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=1;BYHOUR=9", "start": "2025-01-01T09:00:00Z"},
	  "segment": {"seenWithinDays": 365}, "sampleSize": 400,
	  "questions": [
	    {"id": "acsi", "type": "acsi", "text": {"en": "About Northwind overall", "de": "Über Northwind insgesamt", "fr": "Northwind dans l'ensemble", "es": "Northwind en general", "fa": "درباره نورث‌ویند به طور کلی"}},
	    {"id": "nps", "type": "nps", "text": {"en": "How likely are you to recommend Northwind?", "de": "Wie wahrscheinlich empfehlen Sie Northwind weiter?", "fr": "Recommanderiez-vous Northwind ?", "es": "¿Recomendaría Northwind?", "fa": "چقدر احتمال دارد نورث‌ویند را پیشنهاد کنید؟"}},
	    {"id": "expe_overall", "type": "scale", "min": 1, "max": 10, "optional": true, "text": {"en": "Before you first bought from Northwind, how good did you expect it to be?"}},
	    {"id": "qual_overall", "type": "scale", "min": 1, "max": 10, "optional": true, "text": {"en": "How good are Northwind's products and service?"}},
	    {"id": "value_price", "type": "scale", "min": 1, "max": 10, "optional": true, "text": {"en": "How good is what you get for the price you pay?"}},
	    {"id": "loyalty_repurchase", "type": "scale", "min": 1, "max": 10, "optional": true, "text": {"en": "How likely are you to buy from Northwind again?"}}]}`,
	`{"name": "Returns experience pulse", "rhythm": "pulse", "owner": "logistics",
	  "questions": [
	    {"id": "effort", "type": "ces", "text": {"en": "How easy was it to return or exchange an item?", "de": "Wie einfach war die Rückgabe?", "fr": "Le retour a-t-il été facile ?", "es": "¿Qué tan fácil fue la devolución?", "fa": "بازگرداندن کالا چقدر آسان بود؟"}},
	    {"id": "matters", "type": "single", "text": {"en": "What matters most to you?"}, "choices": [
	      {"id": "speed", "text": {"en": "Fast delivery"}}, {"id": "price", "text": {"en": "Low prices"}},
	      {"id": "advice", "text": {"en": "Expert advice"}}, {"id": "returns", "text": {"en": "Easy returns"}}]}]}`,
}

// CreateSurveys creates the demo surveys through the management API with
// an admin or editor token.
func CreateSurveys(ctx context.Context, baseURL, token string) (Surveys, error) {
	var ids []string
	for _, def := range surveyDefinitions {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(baseURL, "/")+"/api/v1/surveys", strings.NewReader(def))
		if err != nil {
			return Surveys{}, err
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return Surveys{}, err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return Surveys{}, fmt.Errorf("demo: creating a survey: %s: %s", resp.Status, bytes.TrimSpace(body))
		}
		var out struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &out); err != nil {
			return Surveys{}, err
		}
		ids = append(ids, out.ID)
	}
	return Surveys{PostOrder: ids[0], Relationship: ids[1], Pulse: ids[2]}, nil
}

// experience is what a customer lived through, which their answers reflect.
type experience struct {
	orders, refunds, late, unresolved int
}

// verbatims are open-text answers by language and mood.
var verbatims = map[string]map[string][]string{
	"en": {
		"good": {"Fast delivery and friendly staff.", "Great advice in the store, really helpful.", "Excellent quality, the tent is perfect.", "Easy to order and quick shipping."},
		"meh":  {"The parcel came on Tuesday.", "Fine, nothing special.", "Prices could be lower."},
		"bad":  {"The order arrived late and nobody told me.", "The return was slow and the refund took weeks.", "Called twice, the problem is still not solved. Very disappointed.", "The boots were damaged on arrival."},
	},
	"de": {"good": {"Schnelle Lieferung, sehr freundlich."}, "meh": {"In Ordnung."}, "bad": {"Die Lieferung kam zu spät."}},
	"fr": {"good": {"Livraison rapide, personnel aimable."}, "meh": {"Correct."}, "bad": {"La commande est arrivée en retard."}},
	"es": {"good": {"Entrega rápida y personal amable."}, "meh": {"Normal."}, "bad": {"El pedido llegó tarde."}},
	"fa": {"good": {"ارسال سریع و کارکنان مهربان."}, "meh": {"معمولی بود."}, "bad": {"سفارش دیر رسید."}},
}

var locales = []string{"en", "en", "en", "en", "en", "en", "de", "fr", "es", "fa"}

// answers adds the customer's survey answers: after some orders, in the
// quarterly relationship survey, and in the pulse. Late deliveries, returns
// and unresolved calls lower the scores. A separate random stream keeps the
// behaviour the same with or without surveys.
func (c *customer) answers(s Surveys, seed uint64, locale string) {
	a := &answerer{c: c, r: rand.New(rand.NewPCG(seed^0x5eed5eed, uint64(c.n)+1)), locale: locale}
	a.ex.unresolved = c.unresolvedCalls()
	msgs, lastOrder := a.postOrder(s.PostOrder, c.refundReasons())
	if a.ex.orders > 0 {
		msgs = append(msgs, a.relationship(s.Relationship)...)
	}
	if a.ex.refunds > 0 || a.r.Float64() < 0.1 {
		if answer := a.pulse(s.Pulse, lastOrder); answer != nil {
			msgs = append(msgs, answer)
		}
	}
	c.addAnswers(msgs)
}

// answerer is one customer answering the demo surveys: their own random
// stream for answers, their language, and what they went through so far.
type answerer struct {
	c      *customer
	r      *rand.Rand
	locale string
	ex     experience
}

// unresolvedCalls counts the customer's calls that did not solve their
// problem.
func (c *customer) unresolvedCalls() int {
	n := 0
	for _, m := range c.msgs {
		if m["event"] == "Call Completed" {
			if p, _ := m["properties"].(map[string]any); p != nil && p["resolved"] == false {
				n++
			}
		}
	}
	return n
}

// refundReasons gives the reason each refunded order was refunded, by
// order id: an order that arrived late says so.
func (c *customer) refundReasons() map[string]string {
	refunded := map[string]string{}
	for _, m := range c.msgs {
		if m["event"] == "Order Refunded" {
			p := m["properties"].(map[string]any)
			refunded[p["order_id"].(string)] = p["reason"].(string)
		}
	}
	return refunded
}

// mood is how an answer scored 0–10 reads: good, meh or bad.
func mood(score int) string {
	switch {
	case score >= 9:
		return "good"
	case score >= 7:
		return "meh"
	}
	return "bad"
}

// verbatim picks an open-text answer in the customer's language that fits
// the score.
func (a *answerer) verbatim(score int) string {
	v := verbatims[a.locale][mood(score)]
	return v[a.r.IntN(len(v))]
}

// clampInt keeps v between lo and hi.
func clampInt(v, lo, hi int) int { return max(lo, min(hi, v)) }

// answered makes m an answer by this customer, given at t.
func (a *answerer) answered(m Message, t time.Time) Message {
	m["userId"] = a.c.userID
	return withTime(m, t)
}

// postOrder goes through the customer's orders, counting what went wrong
// with them, and answers the post-order survey after some of them. It
// returns the answers and when the last order was placed.
func (a *answerer) postOrder(survey string, refunded map[string]string) (msgs []Message, lastOrder time.Time) {
	for _, m := range a.c.msgs {
		if m["event"] != "Order Completed" {
			continue
		}
		answer, at := a.afterOrder(survey, m, refunded)
		lastOrder = at
		if answer != nil {
			msgs = append(msgs, answer)
		}
	}
	return msgs, lastOrder
}

// afterOrder counts one completed order into the customer's experience and,
// for about four orders in ten, answers the post-order survey about it a
// few days later: high unless it was refunded, late or damaged, the
// customer has a call left unresolved, or the web checkout lost its
// delivery slot. It returns the answer (nil when none) and when the order
// was placed.
func (a *answerer) afterOrder(survey string, m Message, refunded map[string]string) (Message, time.Time) {
	p := m["properties"].(map[string]any)
	order := p["order_id"].(string)
	at, _ := time.Parse("2006-01-02T15:04:05.000Z", m["timestamp"].(string))
	a.ex.orders++
	reason, wasRefunded := refunded[order]
	if wasRefunded {
		a.ex.refunds++
	}
	if reason == "arrived late" {
		a.ex.late++
	}
	if a.r.Float64() > 0.4 {
		return nil, at
	}
	base := 9.0
	if wasRefunded {
		base = 5
	}
	if reason == "arrived late" || reason == "damaged" {
		base = 3
	}
	if a.ex.unresolved > 0 {
		base -= 2
	}
	ch, _ := m["context"].(map[string]any)
	slot := checkoutSlotLost(ch["channel"], order, at, a.c.end)
	if slot {
		base -= 4
	}
	score := clampInt(int(math.Round(base+a.r.NormFloat64()*1.4)), 0, 10)
	why := a.verbatim(score)
	if slot && score <= 6 {
		why = slotVerbatims[int(order[len(order)-1])%len(slotVerbatims)]
	}
	answer := Message{"event": "Survey Responded", "properties": map[string]any{
		"survey_id": survey, "response_id": fmt.Sprintf("demo-po-%s", order), "answers": map[string]any{"nps": score, "why": why},
		"touchpoint_channel": ch["channel"], "order_id": order, "trigger_event": "Order Completed", "language": a.locale,
	}}
	if p["store"] != nil {
		answer["properties"].(map[string]any)["touchpoint_store"] = p["store"]
	}
	return a.answered(answer, at.Add(time.Duration(2*24+a.r.IntN(72))*time.Hour)), at
}

// relationship answers the quarterly relationship survey: each quarter
// since they became a customer, a quarter of customers answer.
func (a *answerer) relationship(survey string) []Message {
	var msgs []Message
	first := a.c.start
	for q := time.Date(first.Year(), 1, 1, 9, 0, 0, 0, time.UTC); q.Before(a.c.end); q = q.AddDate(0, 3, 0) {
		if q.Before(a.c.signup) || a.r.Float64() > 0.25 {
			continue
		}
		msgs = append(msgs, a.quarter(survey, q))
	}
	return msgs
}

// quarter is the customer's relationship answer for the quarter starting
// at q: satisfaction, recommendation and the ACSI model's items all follow
// how many refunds, late orders and unresolved calls they had.
func (a *answerer) quarter(survey string, q time.Time) Message {
	r, ex := a.r, a.ex
	sat := 8.5 - 1.5*float64(min(ex.refunds, 2)) - 2*float64(min(ex.late, 1)) - 2*float64(min(ex.unresolved, 1))
	item := func(shift float64) int { return clampInt(int(math.Round(sat+shift+r.NormFloat64())), 1, 10) }
	nps := clampInt(int(math.Round(sat+0.5+r.NormFloat64()*1.3)), 0, 10)
	// The ACSI model's other items, from a stream of their own so the rest stays as it was:
	// quality and value follow the experience, expectations barely.
	rr := rand.New(rand.NewPCG(uint64(a.c.n)+1, uint64(q.Unix())))
	scale := func(v float64) int { return clampInt(int(math.Round(v+rr.NormFloat64()*0.9)), 1, 10) }
	answers := map[string]any{"acsi": map[string]any{"satisfaction": item(0), "expectations": item(-0.5), "ideal": item(-1)}, "nps": nps,
		"expe_overall": scale(7.5 + 0.2*(sat-7)), "qual_overall": scale(sat + 0.3), "value_price": scale(sat - 0.4), "loyalty_repurchase": scale(sat)}
	answer := Message{"event": "Survey Responded", "properties": map[string]any{
		"survey_id": survey, "response_id": fmt.Sprintf("demo-rel-%05d-%s", a.c.n+1, q.Format("2006-01")), "language": a.locale,
		"answers": answers,
	}}
	if a.c.role != "" {
		answer["properties"].(map[string]any)["role"] = a.c.role
		answer["properties"].(map[string]any)["account_id"] = a.c.account
	}
	return a.answered(answer, q.Add(time.Duration(r.IntN(10*24))*time.Hour))
}

// pulse is the customer's answer to the returns pulse, two months before
// the end: easier for those who never returned anything, hardest for those
// with a late order or an unresolved call. It is nil when the customer
// signed up after it, or last ordered more than a year before it.
func (a *answerer) pulse(survey string, lastOrder time.Time) Message {
	at := a.c.end.AddDate(0, -2, 0).Add(time.Duration(a.r.IntN(5*24)) * time.Hour)
	if !at.After(a.c.signup) || !at.After(lastOrder.Add(-365*24*time.Hour)) {
		return nil
	}
	effort := 6
	if a.ex.refunds > 0 {
		effort = 4
	}
	if a.ex.late > 0 || a.ex.unresolved > 0 {
		effort = 2
	}
	choice := []string{"speed", "price", "advice", "returns"}[a.r.IntN(4)]
	answer := Message{"event": "Survey Responded", "properties": map[string]any{
		"survey_id": survey, "response_id": fmt.Sprintf("demo-pulse-%05d", a.c.n+1), "language": a.locale,
		"answers": map[string]any{"effort": clampInt(effort+a.r.IntN(3)-1, 1, 7), "matters": choice},
	}}
	return a.answered(answer, at)
}

// addAnswers adds the answers given by the demo's end to the customer's
// messages, as web tracks after everything else they did.
func (c *customer) addAnswers(msgs []Message) {
	for _, m := range msgs {
		if t, _ := time.Parse("2006-01-02T15:04:05.000Z", m["timestamp"].(string)); t.After(c.end) {
			continue
		}
		c.seq++
		m["type"] = "track"
		m["messageId"] = fmt.Sprintf("demo-%05d-s%04d", c.n+1, c.seq)
		m["context"] = map[string]any{"channel": "web"}
		c.msgs = append(c.msgs, m)
	}
}

// The demo's planted incident: eight days before the end, a web checkout
// release began dropping the delivery slot of about three web orders in
// four (those whose id's hash is not a multiple of four), which then
// arrived late. Their post-order
// answers, given two to five days later, in the last week, are lower; the "Web NPS" alert created
// by CreateLoop sees the drop against the week before (a Welch t-test on
// some 40 to 60 answers a week) and opens a case for the service team.
func checkoutSlotLost(channel any, order string, ordered, end time.Time) bool {
	if channel != "web" || ordered.Before(end.Add(-8*24*time.Hour)) {
		return false
	}
	h := fnv.New32a()
	h.Write([]byte(order))
	return h.Sum32()%4 != 0
}

var slotVerbatims = []string{
	"The new checkout lost my delivery slot and the order came days late.",
	"Picked a delivery slot, the website ignored it. Nobody told me the order was late.",
	"Checkout on the website is broken since the update, my delivery was late.",
}

func withTime(m Message, t time.Time) Message {
	m["timestamp"] = t.UTC().Format("2006-01-02T15:04:05.000Z")
	return m
}

// CreateLoop creates the demo's loyalty rules (loopRules) and how-to
// guides, teams and the rules that route signals to them: detractors to
// service, negative social posts to social care, damaged returns to logistics.
func CreateLoop(ctx context.Context, baseURL, token string) error {
	for _, body := range []string{
		`{"name": "service"}`, `{"name": "social care"}`, `{"name": "logistics"}`,
	} {
		if err := postJSON(ctx, baseURL+"/api/v1/teams", token, body); err != nil {
			return err
		}
	}
	for _, body := range loopRules {
		if err := postJSON(ctx, baseURL+"/api/v1/loyalty/rules", token, body); err != nil {
			return err
		}
	}
	if err := createGuides(ctx, baseURL, token); err != nil {
		return err
	}
	if err := createCatalog(ctx, baseURL, token); err != nil {
		return err
	}
	for _, body := range loopNudges {
		if err := postJSON(ctx, baseURL+"/api/v1/nudges", token, body); err != nil {
			return err
		}
	}
	for _, body := range []string{
		`{"name": "Detractor follow-up", "when": {"event": "Survey Responded", "nps_max": 6},
		  "then": {"open_case": {"team": "service", "kind": "detractor", "sla": "48h"}}}`,
		`{"name": "Negative social posts", "when": {"event": "Social Mention", "sentiment": "negative"},
		  "then": {"open_case": {"team": "social care", "kind": "complaint", "sla": "8h", "priority": "high"}}}`,
		`{"name": "Damaged returns", "when": {"event": "Order Refunded", "reason": "damaged"},
		  "then": {"open_case": {"team": "logistics", "kind": "return", "sla": "72h"}}}`,
	} {
		if err := postJSON(ctx, baseURL+"/api/v1/rules", token, body); err != nil {
			return err
		}
	}
	return createAlerts(ctx, baseURL, token)
}

// createAlerts watches post-order NPS per channel, week on week: the
// demo's planted checkout incident (checkoutSlotLost) makes it fire once,
// for web, right after the demo loads.
func createAlerts(ctx context.Context, baseURL, token string) error {
	var surveys struct {
		Surveys []struct{ ID, Name string }
	}
	if err := getJSON(ctx, baseURL+"/api/v1/surveys", token, &surveys); err != nil {
		return err
	}
	for _, sv := range surveys.Surveys {
		if sv.Name != "Post-order feedback" {
			continue
		}
		b, _ := json.Marshal(map[string]any{"name": "Post-order NPS by channel", "metric": "nps", "survey": sv.ID, "by": "channel",
			"window": "7d", "then": map[string]any{"open_case": map[string]any{"team": "service", "priority": "high", "sla": "24h"}}})
		return postJSON(ctx, baseURL+"/api/v1/alerts", token, string(b))
	}
	return nil
}

func postJSON(ctx context.Context, url, token, body string) error {
	return send(ctx, http.MethodPost, url, token, body, nil)
}

func getJSON(ctx context.Context, url, token string, out any) error {
	return send(ctx, http.MethodGet, url, token, "", out)
}

// send calls the management API; a conflict (already there) counts as done.
func send(ctx context.Context, method, url, token, body string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(url, "/"), strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 && resp.StatusCode != http.StatusConflict {
		return fmt.Errorf("demo: %s %s: %s: %s", method, url, resp.Status, bytes.TrimSpace(msg))
	}
	if out != nil && resp.StatusCode < 300 {
		return json.Unmarshal(msg, out)
	}
	return nil
}
