package cases

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/match"
	"github.com/cxloop/cxloop/internal/outbox"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/survey"
	"github.com/cxloop/cxloop/internal/text"
	"github.com/cxloop/cxloop/internal/vocab"
)

// complaintSLA is the resolution time of a complaint no rule routes.
const complaintSLA = 48 * time.Hour

// Consumer is the cases projection of the log: it opens a formal complaint
// case for each Complaint Submitted event, evaluates the rules (opening
// cases, queueing webhook calls, recording each firing) and projects orders
// and their returns.
type Consumer struct{ svc *Service }

// NewConsumer returns the cases consumer.
func NewConsumer(svc *Service) *Consumer { return &Consumer{svc: svc} }

// Name is the consumer's checkpoint key.
func (c *Consumer) Name() string { return "cases" }

// Reset empties the order and signal projections. Cases and firings are work already
// handed out: a replay finds them by their stable ids and does not repeat them.
func (c *Consumer) Reset(ctx context.Context, tx *store.Tx) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM signals`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM order_returns`); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM orders`)
	return err
}

// builtIn are the events the cases consumer always reads.
var builtIn = []string{"Order Completed", "Order Refunded", "Product Returned", "Complaint Submitted", "Social Mention"}

// Events names what the consumer reads: orders, returns, complaints and
// the events enabled rules watch.
func (c *Consumer) Events(ctx context.Context, tx *store.Tx) ([]string, bool, error) {
	rules, err := listRules(ctx, tx, true)
	if err != nil {
		return nil, false, err
	}
	names := append([]string(nil), builtIn...)
	for _, r := range rules {
		names = append(names, r.When.Event)
	}
	return names, false, nil
}

// Apply handles a batch of events.
func (c *Consumer) Apply(ctx context.Context, tx *store.Tx, events []eventlog.Event) error {
	rules, err := listRules(ctx, tx, true)
	if err != nil {
		return err
	}
	watched := watchedEvents(rules)
	var opened []eventlog.Event
	scorer := survey.NewScorer(tx)
	for i := range events {
		e := &events[i]
		if e.Type != eventlog.Track || !watched[e.Event] {
			continue
		}
		m, err := e.Message()
		if err != nil {
			continue
		}
		props := m.Props()
		if err := project(ctx, tx, e, props); err != nil {
			return err
		}
		// History being loaded (marked as a backfill) opens no cases; an
		// event that arrives now does, however old its own time (a detractor
		// imported with yesterday's date). Rules read what arrived after them.
		if m.Backfill() {
			continue
		}
		var desc caseText
		if e.Event == "Survey Responded" {
			// A client's answer carries answers, not scores: score them as
			// cxloop scores the answers it records.
			props = scorer.Scores(ctx, props)
			// Its case reads the survey, the scores and the customer's words.
			desc.subject, desc.body = scorer.Describe(ctx, props)
		}
		switch e.Event {
		case "Complaint Submitted":
			if ruleOpensCase(rules, e, props) {
				break // the business's own rule routes it, in place of the built-in one
			}
			ev, err := c.openCase(ctx, tx, e, props, "", OpenCase{Team: stringProp(props, "team", "service"), Kind: KindComplaint,
				Formal: boolProp(props, "formal")}, complaintSLA, desc)
			if err != nil {
				return err
			}
			opened = append(opened, ev...)
		}
		ev, err := c.fireRules(ctx, tx, rules, e, props, desc)
		if err != nil {
			return err
		}
		opened = append(opened, ev...)
	}
	if len(opened) == 0 {
		return nil
	}
	// The Case Opened events join the log in this transaction, after the
	// events that caused them; their stable ids keep a replay from adding them twice.
	return c.svc.log.AppendTx(ctx, tx, opened)
}

// watchedEvents are the events cases act on: the built-in ones and those
// the rules start from. Only these matter here; the others are not even
// decoded.
func watchedEvents(rules []*Rule) map[string]bool {
	watched := map[string]bool{}
	for _, n := range builtIn {
		watched[n] = true
	}
	for _, r := range rules {
		watched[r.When.Event] = true
	}
	return watched
}

// project keeps what the case views read of an event: orders, returns and
// refunds, complaints and social mentions.
func project(ctx context.Context, tx *store.Tx, e *eventlog.Event, props map[string]any) error {
	switch e.Event {
	case "Order Completed":
		return projectOrder(ctx, tx, e, props)
	case "Order Refunded", "Product Returned":
		return projectReturn(ctx, tx, e, props)
	case "Complaint Submitted", "Social Mention":
		return projectSignal(ctx, tx, e, props)
	}
	return nil
}

// fireRules runs the rules the event meets (those made before it arrived):
// each opens a case, calls its webhook and notifies its team as it says,
// and the firing is recorded. It returns the Case Opened events.
func (c *Consumer) fireRules(ctx context.Context, tx *store.Tx, rules []*Rule, e *eventlog.Event, props map[string]any, desc caseText) ([]eventlog.Event, error) {
	var opened []eventlog.Event
	// Cases do not open cases: on cxloop's own case events (an SLA
	// breach, say) rules notify and call webhooks only.
	caseEvent := strings.HasPrefix(e.Event, "Case ") && e.SourceID == eventlog.SourceActions
	for _, r := range rules {
		if r.When.Event != e.Event || e.ReceivedAt < int64(r.CreatedAt) || !fires(r.When, e, props) {
			continue
		}
		outcome := []string{}
		if oc := r.Then.OpenCase; oc != nil && !caseEvent {
			ev, err := c.openCase(ctx, tx, e, props, r.ID, *oc, DefaultSLA, desc)
			if err != nil {
				return nil, err
			}
			opened = append(opened, ev...)
			outcome = append(outcome, "open_case")
		}
		if r.Then.Webhook != "" {
			if err := outbox.Enqueue(ctx, tx, r.Then.Webhook, e, c.svc.now()); err != nil {
				return nil, err
			}
			outcome = append(outcome, "webhook")
		}
		if n := r.Then.Notify; n != nil {
			if err := notify(ctx, tx, r, n.Team, e, props, desc, c.svc.now()); err != nil {
				return nil, err
			}
			outcome = append(outcome, "notify")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO rule_firings (id, rule_id, seq, message_id, outcome, at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (id) DO NOTHING`, stableID("fire", r.ID, e.MessageID), r.ID, e.Seq, e.MessageID, strings.Join(outcome, ","), c.svc.now().UnixMilli()); err != nil {
			return nil, err
		}
	}
	return opened, nil
}

// ruleOpensCase reports whether one of the rules opens a case on the event.
func ruleOpensCase(rules []*Rule, e *eventlog.Event, props map[string]any) bool {
	for _, r := range rules {
		if r.Then.OpenCase != nil && r.When.Event == e.Event && e.ReceivedAt >= int64(r.CreatedAt) && fires(r.When, e, props) {
			return true
		}
	}
	return false
}

// fires reports whether an event meets a rule's further conditions.
func fires(w When, e *eventlog.Event, props map[string]any) bool {
	score := func(key string) (float64, bool) { return match.Number(props[key]) }
	if w.NPSMax != nil {
		if v, ok := score("nps"); !ok || v > *w.NPSMax {
			return false
		}
	}
	if w.NPSMin != nil {
		if v, ok := score("nps"); !ok || v < *w.NPSMin {
			return false
		}
	}
	if w.CSATMax != nil {
		if v, ok := score("csat"); !ok || v > *w.CSATMax {
			return false
		}
	}
	if w.CESMin != nil {
		if v, ok := score("ces"); !ok || v < *w.CESMin {
			return false
		}
	}
	if w.Reason != "" && !match.Equal(props["reason"], w.Reason) {
		return false
	}
	if w.Sentiment != "" && sentimentOf(props) != w.Sentiment {
		return false
	}
	for k, want := range w.Where {
		var v any
		var ok bool
		switch k {
		case "channel":
			v, ok = e.Channel, true
		case "contact":
			v, ok = e.Contact, true
		default:
			v, ok = match.Lookup(props, strings.Split(strings.TrimPrefix(k, "properties."), "."))
		}
		if !match.Matches(v, ok, want) {
			return false
		}
	}
	return true
}

// sentimentOf is the event's sentiment as given, else read from its text.
func sentimentOf(props map[string]any) string {
	if s, ok := props["sentiment"].(string); ok && s != "" {
		return strings.ToLower(s)
	}
	for _, k := range []string{"text", "review_body", "body", "comment"} {
		if t, ok := props[k].(string); ok && t != "" {
			lang, _ := props["language"].(string)
			if lang == "" {
				lang = "en"
			}
			return text.Analyze(t, lang).Sentiment
		}
	}
	return ""
}

// caseText is a case's subject and body when the event's own properties
// do not say them (a survey answer's survey, scores and comments).
type caseText struct{ subject, body string }

// openCase opens the case an event calls for (once: its id comes from the
// event and the rule) and returns its Case Opened event.
func (c *Consumer) openCase(ctx context.Context, tx *store.Tx, e *eventlog.Event, props map[string]any, rule string, oc OpenCase, sla time.Duration, desc caseText) ([]eventlog.Event, error) {
	if e.UserID == "" && e.AnonymousID == "" {
		return nil, nil
	}
	team, err := teamID(ctx, tx, oc.Team)
	if err != nil {
		return nil, err
	}
	if oc.SLA != "" {
		if d, err := vocab.ParseDuration(oc.SLA); err == nil && d > 0 {
			sla = d
		}
	}
	formal := oc.Kind == KindComplaint && e.Contact != "indirect"
	if oc.Formal != nil {
		formal = *oc.Formal
	}
	priority := oc.Priority
	if priority == "" {
		priority = "normal"
	}
	vip, err := c.valued(ctx, tx, e)
	if err != nil {
		return nil, err
	}
	if vip {
		priority = map[string]string{"low": "normal", "normal": "high", "high": "urgent", "urgent": "urgent"}[priority]
	}
	if c.svc.priority != nil {
		ref := e.UserID
		if ref == "" {
			ref = e.AnonymousID
		}
		if ok, err := c.svc.priority(ctx, ref); err == nil && ok {
			// A perk of the customer's loyalty tier: higher priority, half the time.
			if !vip {
				priority = map[string]string{"low": "normal", "normal": "high", "high": "urgent", "urgent": "urgent"}[priority]
			}
			sla /= 2
		}
	}
	subject := firstText(props, "subject")
	if subject == "" {
		subject = desc.subject
	}
	if subject == "" {
		subject = firstText(props, "text", "review_body", "reason")
	}
	if subject == "" {
		subject = e.Event
	}
	body := desc.body
	if body == "" {
		body = firstText(props, "text", "review_body", "body")
	}
	now := c.svc.now().UnixMilli()
	// A case opens when the customer spoke: at the event's time, never
	// ahead of its arrival. A complaint that arrives late (an app that was
	// offline, history sent through /v1) has been waiting since then, and
	// its SLA runs from then.
	created := e.Timestamp
	if created <= 0 || (e.ReceivedAt > 0 && created > e.ReceivedAt) {
		created = e.ReceivedAt
	}
	// An answer revised from a survey email (props "revises": the first
	// answer's message) is the same answer: at most one case per rule.
	origin := e.MessageID
	if r, ok := props["revises"].(string); ok && r != "" && e.SourceID == eventlog.SourceCxloop && e.Event == "Survey Responded" {
		origin = r
	}
	id := stableID("case", rule, origin)
	res, err := tx.ExecContext(ctx, `INSERT INTO cases (id, customer_id, user_id, anonymous_id, kind, formal, channel, team_id, assignee, priority, status,
		subject, body, order_id, rule_id, origin_message, sla_ms, due_at, first_response_due, created_at, updated_at)
		VALUES ($1, '', $2, $3, $4, $5, $6, $7, '', $8, 'open', $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) ON CONFLICT (id) DO NOTHING`,
		id, e.UserID, e.AnonymousID, oc.Kind, boolInt(formal), e.Channel, team, priority, text.Clip(subject, 200), text.Clip(body, 5000),
		stringProp(props, "order_id", ""), rule, e.MessageID, sla.Milliseconds(), created+sla.Milliseconds(), created+sla.Milliseconds()/4, created, now)
	if err != nil {
		return nil, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, nil
	}
	ev, err := eventlog.ActionArrived("Case Opened", stableID("msg", id, "opened"), e.UserID, e.AnonymousID, e.Channel, time.UnixMilli(created), arrivedWith(e),
		map[string]any{"case_id": id, "kind": oc.Kind, "formal": formal, "team": oc.Team, "priority": priority, "rule_id": rule,
			"source_event": e.Event, "source_message_id": e.MessageID, "order_id": stringProp(props, "order_id", ""), "sla_hours": sla.Hours()})
	if err != nil {
		return nil, err
	}
	return []eventlog.Event{ev}, nil
}

// notify queues the email that tells a team a rule fired.
func notify(ctx context.Context, tx *store.Tx, r *Rule, team string, e *eventlog.Event, props map[string]any, desc caseText, now time.Time) error {
	var email string
	if err := tx.QueryRowContext(ctx, `SELECT email FROM teams WHERE id = $1 OR name = $1`, team).Scan(&email); err != nil || email == "" {
		return nil // the team or its address went away; the firing is still recorded
	}
	who := e.UserID
	if who == "" {
		who = e.AnonymousID
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Rule %q fired on %s from %s (channel %s) at %s.\n", r.Name, e.Event, who, e.Channel,
		time.UnixMilli(e.Timestamp).UTC().Format("2006-01-02 15:04 MST"))
	for _, k := range []string{"text", "reason", "order_id", "nps", "csat", "sentiment"} {
		if v, ok := props[k]; ok {
			fmt.Fprintf(&b, "%s: %v\n", k, v)
		}
	}
	if desc.body != "" {
		fmt.Fprintf(&b, "\n%s\n", desc.body) // a survey answer: its survey, scores and comments
	}
	fmt.Fprintf(&b, "\nmessageId %s, log position %d.\n", e.MessageID, e.Seq)
	return outbox.EnqueueMail(ctx, tx, stableID("mail", r.ID, e.MessageID), email, fmt.Sprintf("[cxloop] %s: %s", r.Name, e.Event), b.String(), now)
}

// highValue is the spend (in the orders' currency) from which a customer's
// cases get a higher priority.
const highValue = 1000

// valued reports whether the event's customer is a VIP (traits vip: true,
// or a tier of vip, gold or platinum) or has spent highValue or more.
func (c *Consumer) valued(ctx context.Context, tx *store.Tx, e *eventlog.Event) (bool, error) {
	owners, err := c.svc.profiles.Owners(ctx, []eventlog.Event{*e})
	if err != nil {
		return false, err
	}
	cus := profile.OwnerOf(owners, *e)
	refs := []any{e.UserID, e.AnonymousID}
	if cus != "" {
		contacts, err := c.svc.profiles.Contacts(ctx, []string{cus})
		if err != nil {
			return false, err
		}
		t := contacts[cus].Traits
		if v, _ := t["vip"].(bool); v {
			return true, nil
		}
		if tier, _ := t["tier"].(string); tier != "" && strings.Contains(" vip gold platinum ", " "+strings.ToLower(tier)+" ") {
			return true, nil
		}
		refs = append(refs, contacts[cus].UserID, contacts[cus].AnonymousID)
	}
	var spent float64
	err = tx.QueryRowContext(ctx, `SELECT COALESCE(SUM(total), 0) FROM orders WHERE customer_ref IN ($1, $2, $3, $4)`, append(refs, "", "")[:4]...).Scan(&spent)
	return spent >= highValue, err
}

func stableID(prefix string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return prefix + "_" + hex.EncodeToString(h[:10])
}

func stringProp(props map[string]any, key, def string) string {
	if v, ok := props[key]; ok && v != nil {
		if s := strings.TrimSpace(fmt.Sprint(v)); s != "" {
			return s
		}
	}
	return def
}

func boolProp(props map[string]any, key string) *bool {
	if b, ok := props[key].(bool); ok {
		return &b
	}
	return nil
}

func firstText(props map[string]any, keys ...string) string {
	for _, k := range keys {
		if s, ok := props[k].(string); ok && strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// projectOrder records an order for return rates.
func projectOrder(ctx context.Context, tx *store.Tx, e *eventlog.Event, props map[string]any) error {
	order := stringProp(props, "order_id", "")
	if order == "" {
		return nil
	}
	category := ""
	if list, ok := props["products"].([]any); ok && len(list) > 0 {
		if p, ok := list[0].(map[string]any); ok {
			category = stringProp(p, "category", "")
		}
	}
	total, _ := match.Number(props["total"])
	who := e.UserID
	if who == "" {
		who = e.AnonymousID
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO orders (order_id, customer_ref, channel, category, total, ordered_at, store) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (order_id) DO UPDATE SET channel = $3, category = $4, total = $5, ordered_at = $6, store = $7`, order, who, e.Channel, category, total,
		e.Timestamp, stringProp(props, "store", "")); err != nil {
		return err
	}
	// A return read before its order (order_returns) marks it at once.
	_, err := tx.ExecContext(ctx, `UPDATE orders SET returned_at = (SELECT returned_at FROM order_returns WHERE order_id = $1),
		return_reason = (SELECT reason FROM order_returns WHERE order_id = $1), return_channel = (SELECT channel FROM order_returns WHERE order_id = $1)
		WHERE order_id = $1 AND returned_at IS NULL AND EXISTS (SELECT 1 FROM order_returns WHERE order_id = $1)`, order)
	return err
}

// projectSignal records a complaint or a social mention, history included,
// for the alerts that watch complaint volume and negative mentions.
func projectSignal(ctx context.Context, tx *store.Tx, e *eventlog.Event, props map[string]any) error {
	team, sentiment := "", ""
	if e.Event == "Complaint Submitted" {
		team = stringProp(props, "team", "service")
	} else {
		sentiment = sentimentOf(props)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO signals (message_id, event, user_id, anonymous_id, channel, team, store, order_id, sentiment, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (message_id) DO NOTHING`, e.MessageID, e.Event, e.UserID, e.AnonymousID,
		e.Channel, team, stringProp(props, "store", ""), stringProp(props, "order_id", ""), sentiment, e.Timestamp)
	return err
}

// projectReturn marks an order returned, with the reason and the channel of the return.
func projectReturn(ctx context.Context, tx *store.Tx, e *eventlog.Event, props map[string]any) error {
	order := stringProp(props, "order_id", "")
	if order == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE orders SET returned_at = COALESCE(returned_at, $1), return_reason = $2, return_channel = $3 WHERE order_id = $4`,
		e.Timestamp, stringProp(props, "reason", "unknown"), e.Channel, order); err != nil {
		return err
	}
	// Kept for an order that has not arrived yet (projectOrder applies it).
	_, err := tx.ExecContext(ctx, `INSERT INTO order_returns (order_id, returned_at, reason, channel) VALUES ($1, $2, $3, $4)
		ON CONFLICT (order_id) DO UPDATE SET reason = excluded.reason, channel = excluded.channel`, order, e.Timestamp, stringProp(props, "reason", "unknown"), e.Channel)
	return err
}

// arrivedWith is the arrival of what an event causes: with the event.
func arrivedWith(e *eventlog.Event) eventlog.Arrival {
	if e.ReceivedAt <= 0 {
		return eventlog.Arrival{}
	}
	return eventlog.Arrival{At: time.UnixMilli(e.ReceivedAt)}
}
