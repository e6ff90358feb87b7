package cases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/outbox"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/text"
)

// RateGroup is the return rate of one group of orders.
type RateGroup struct {
	Key     string  `json:"key"`
	Orders  int     `json:"orders"`
	Returns int     `json:"returns"`
	Rate    float64 `json:"rate"`
	// Share is, by reason or return channel, the group's returns ÷ all
	// returns (0–1): what the returns are made of.
	Share *float64 `json:"share,omitempty"`
	// Cases counts the returned orders that have a case (a complaint, a return problem …).
	Cases int `json:"cases"`
}

// ReturnRates groups orders by channel (where they were bought), category
// (of the first product) or month, each group's rate its returns ÷ its
// orders; or returns by reason or return_channel, where every group's
// orders are all the orders (a reason is not a kind of order), its rate
// its returns ÷ all orders (the reasons' rates add up to the return rate)
// and its share its returns ÷ all returns. Within [from, to) when given.
func (s *Service) ReturnRates(ctx context.Context, by string, from, to time.Time) ([]RateGroup, error) {
	if rateColumns[by] == "" && by != "" {
		return nil, fault.Field("by", "by is channel, category, reason, return_channel or month")
	}
	withCase, err := s.ordersWithCase(ctx)
	if err != nil {
		return nil, err
	}
	groups, total, err := s.countOrders(ctx, by, from, to, withCase)
	if err != nil {
		return nil, err
	}
	return rates(by, groups, total), nil
}

// rateColumns is the column of orders each grouping of ReturnRates groups by.
var rateColumns = map[string]string{"channel": "channel", "category": "category", "reason": "return_reason", "return_channel": "return_channel", "month": "ordered_at", "": "''"}

// ordersWithCase are the orders that have a case.
func (s *Service) ordersWithCase(ctx context.Context) (map[string]bool, error) {
	withCase := map[string]bool{}
	crows, err := s.db.QueryContext(ctx, `SELECT DISTINCT order_id FROM cases WHERE order_id <> ''`)
	if err != nil {
		return nil, err
	}
	for crows.Next() {
		var id string
		if err := crows.Scan(&id); err != nil {
			crows.Close()
			return nil, err
		}
		withCase[id] = true
	}
	crows.Close()
	return withCase, nil
}

// countOrders counts the orders placed within [from, to) (when given) into
// the groups of ReturnRates: their orders, returns and returns with a case.
// Grouped by reason or return channel, only returns are counted, and total
// is every order.
func (s *Service) countOrders(ctx context.Context, by string, from, to time.Time, withCase map[string]bool) (groups map[string]*RateGroup, total int, err error) {
	where, args := "1 = 1", []any{}
	if !from.IsZero() {
		args = append(args, from.UnixMilli())
		where += fmt.Sprintf(" AND ordered_at >= $%d", len(args))
	}
	if !to.IsZero() {
		args = append(args, to.UnixMilli())
		where += fmt.Sprintf(" AND ordered_at < $%d", len(args))
	}
	if by != "month" {
		return s.sumOrders(ctx, by, where, args, withCase)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+rateColumns[by]+`, returned_at IS NOT NULL, order_id FROM orders WHERE `+where, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	groups = map[string]*RateGroup{}
	for rows.Next() {
		var key any
		var returned bool
		var order string
		if err := rows.Scan(&key, &returned, &order); err != nil {
			return nil, 0, err
		}
		k := fmt.Sprint(key)
		switch by {
		case "month":
			if n, ok := key.(int64); ok {
				k = time.UnixMilli(n).UTC().Format("2006-01")
			}
		case "":
			k = "all"
		case "reason", "return_channel":
			total++
			if !returned {
				continue
			}
		}
		if k == "" {
			k = "unknown"
		}
		g := groups[k]
		if g == nil {
			g = &RateGroup{Key: k}
			groups[k] = g
		}
		g.Orders++
		if returned {
			g.Returns++
			if withCase[order] {
				g.Cases++
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return groups, total, nil
}

// sumOrders is countOrders grouped by a column of its own (not by month),
// summed in the database: each group's orders, returns and returns with a
// case (withCase), and every order.
func (s *Service) sumOrders(ctx context.Context, by, where string, args []any, withCase map[string]bool) (groups map[string]*RateGroup, total int, err error) {
	returnsOnly := by == "reason" || by == "return_channel"
	if returnsOnly {
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE `+where, args...).Scan(&total); err != nil {
			return nil, 0, err
		}
		where += " AND returned_at IS NOT NULL"
	}
	groups = map[string]*RateGroup{}
	group := ""
	if by != "" { // (PostgreSQL refuses to group by a constant)
		group = " GROUP BY " + rateColumns[by]
	}
	err = s.db.Each(ctx, `SELECT `+rateColumns[by]+`, COUNT(*), COALESCE(SUM(CASE WHEN returned_at IS NOT NULL THEN 1 ELSE 0 END), 0) FROM orders WHERE `+where+group,
		args, func(r *sql.Rows) error {
			var k string
			var g RateGroup
			if err := r.Scan(&k, &g.Orders, &g.Returns); err != nil {
				return err
			}
			k = rateKey(by, k)
			if !returnsOnly {
				total += g.Orders
			}
			if g.Orders == 0 {
				return nil // no order at all (the ungrouped count)
			}
			g.Key = k
			groups[k] = &g
			return nil
		})
	if err != nil || len(withCase) == 0 {
		return groups, total, err
	}
	// The returned orders with a case are few: looked up by the cases'
	// orders.
	ids := make([]any, 0, len(withCase))
	for id := range withCase {
		ids = append(ids, id)
	}
	err = s.db.EachIn(ctx, `SELECT `+rateColumns[by]+` FROM orders WHERE returned_at IS NOT NULL AND `+where+` AND order_id IN `, args, ids, func(r *sql.Rows) error {
		var k string
		if err := r.Scan(&k); err != nil {
			return err
		}
		k = rateKey(by, k)
		if g := groups[k]; g != nil {
			g.Cases++
		}
		return nil
	})
	return groups, total, err
}

// rateKey is the group of ReturnRates a row's column value k falls in.
func rateKey(by, k string) string {
	switch {
	case by == "":
		return "all"
	case k == "":
		return "unknown"
	}
	return k
}

// rates gives each group its return rate (and, by reason or return
// channel, its share of the returns, its orders all total orders), months
// in order and other groups the largest first.
func rates(by string, groups map[string]*RateGroup, total int) []RateGroup {
	returns := 0
	for _, g := range groups {
		returns += g.Returns
	}
	out := make([]RateGroup, 0, len(groups))
	for _, g := range groups {
		if by == "reason" || by == "return_channel" {
			g.Orders = total
			share := math.Round(float64(g.Returns)/float64(returns)*10000) / 10000
			g.Share = &share
		}
		g.Rate = math.Round(float64(g.Returns)/float64(g.Orders)*10000) / 10000
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if by == "month" {
			return out[i].Key < out[j].Key
		}
		if out[i].Orders != out[j].Orders {
			return out[i].Orders > out[j].Orders
		}
		if out[i].Returns != out[j].Returns {
			return out[i].Returns > out[j].Returns
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// Mention is a post about the business on a social network or review site.
type Mention struct {
	ID       string     `json:"id"`
	Platform string     `json:"platform"`
	Handle   string     `json:"handle"`
	Text     string     `json:"text"`
	URL      string     `json:"url,omitempty"`
	At       *time.Time `json:"at,omitempty"`
	Customer string     `json:"customer,omitempty"`
	Matched  bool       `json:"matched"`
	// Backfill marks a post loaded as history: reports count it, rules do not act on it.
	Backfill  bool     `json:"backfill,omitempty"`
	Sentiment string   `json:"sentiment"`
	Keywords  []string `json:"keywords"`
	Seq       int64    `json:"seq"`
	// Duplicate is true when the same post was recorded before: nothing new was stored.
	Duplicate bool `json:"duplicate,omitempty"`
}

// reviewSites are platforms whose mentions come from the review_site channel.
var reviewSites = map[string]bool{"trustpilot": true, "google": true, "yelp": true, "tripadvisor": true, "amazon": true, "reviews": true}

// Mention records an informal complaint or praise: a Social Mention event
// under the customer whose handle it is (a known anonymousId
// "social:<handle>", or a profile whose traits name the handle), else under
// the handle alone, with its sentiment. Rules on Social Mention (for
// example sentiment negative) open informal cases from it.
func (s *Service) Mention(ctx context.Context, m Mention) (*Mention, error) {
	m.Platform = strings.ToLower(strings.TrimSpace(m.Platform))
	m.Handle = strings.TrimSpace(m.Handle)
	m.Text = strings.TrimSpace(m.Text)
	switch {
	case m.Platform == "":
		return nil, fault.Field("platform", "platform is required (twitter, instagram, trustpilot …)")
	case m.Handle == "":
		return nil, fault.Field("handle", "handle is required: the author's name on the platform")
	case m.Text == "":
		return nil, fault.Field("text", "text is required")
	case len(m.Text) > 10000:
		return nil, fault.Field("text", "text is longer than 10,000 characters")
	}
	at := s.now()
	if m.At != nil {
		if m.At.Sub(at) > 24*time.Hour {
			return nil, fault.Field("at", "at is %s, in the future: a post is made by now", m.At.UTC().Format(time.RFC3339))
		}
		at = *m.At
	}
	anon := "social:" + m.Handle
	user := ""
	if cus, err := s.profiles.Resolve(ctx, anon); err == nil {
		m.Customer, m.Matched = cus, true
		contacts, err := s.profiles.Contacts(ctx, []string{cus})
		if err != nil {
			return nil, err
		}
		user = contacts[cus].UserID
	} else if fault.Code(err) != fault.NotFound {
		return nil, err
	}
	a := text.Analyze(m.Text, "en")
	m.Sentiment, m.Keywords = a.Sentiment, a.Keywords
	channel := "social"
	if reviewSites[m.Platform] {
		channel = "review_site"
	}
	m.ID = stableID("mnt", m.Platform, m.Handle, m.Text, at.UTC().Format(time.RFC3339))
	props := map[string]any{"network": m.Platform, "platform": m.Platform, "handle": m.Handle, "text": m.Text, "sentiment": m.Sentiment,
		"keywords": m.Keywords, "mention_id": m.ID}
	if m.URL != "" {
		props["url"] = m.URL
	}
	ev, err := eventlog.OwnArrived("Social Mention", m.ID, user, anon, channel, at, eventlog.Arrival{At: s.now(), Backfill: m.Backfill}, props)
	if err != nil {
		return nil, err
	}
	events := []eventlog.Event{ev}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		// The same post recorded before (a repeated import) is not recorded again.
		seq, _, found, err := eventlog.Locate(ctx, tx, m.ID)
		if err != nil {
			return err
		}
		if found {
			m.Seq, m.Duplicate = seq, true
			return nil
		}
		if err := s.log.AppendTx(ctx, tx, events); err != nil {
			return err
		}
		m.Seq = events[0].Seq
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Notify()
	return &m, nil
}

// Escalate marks open cases whose resolution time has passed, raises their
// priority to urgent, emails the team's address (its lead) and records a
// Case SLA Breached event for each, on which rules can act further.
func (s *Service) Escalate(ctx context.Context) (int, error) {
	now := s.now()
	n := 0
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, caseCols+` WHERE c.status IN ('open', 'pending') AND c.escalated_at IS NULL AND c.due_at < $1 LIMIT 500`, now.UnixMilli())
		if err != nil {
			return err
		}
		var list []*Case
		for rows.Next() {
			c, err := scanCase(rows, now.UnixMilli())
			if err != nil {
				rows.Close()
				return err
			}
			list = append(list, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var events []eventlog.Event
		for _, c := range list {
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET escalated_at = $1, priority = 'urgent', updated_at = $1 WHERE id = $2`, now.UnixMilli(), c.ID); err != nil {
				return err
			}
			// The team's lead hears of it at the team's address.
			var email string
			if err := tx.QueryRowContext(ctx, `SELECT email FROM teams WHERE id = $1`, c.Team).Scan(&email); err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if email != "" {
				body := fmt.Sprintf("Case %s (%s, %s) for customer %s was due %s and is not resolved.\n\n%s\n",
					c.ID, c.Kind, c.Channel, c.Customer, time.UnixMilli(int64(c.DueAt)).UTC().Format("2006-01-02 15:04 MST"), c.Subject)
				if err := outbox.EnqueueMail(ctx, tx, stableID("mail", c.ID, "breached"), email, "[cxloop] SLA breached: "+c.Subject, body, now); err != nil {
					return err
				}
			}
			// The breach happened when the case fell due, whenever the job
			// noticed it: the event carries the due time and arrives now.
			ev, err := eventlog.ActionArrived("Case SLA Breached", stableID("msg", c.ID, "breached"), c.UserID, c.AnonymousID, "server",
				time.UnixMilli(int64(c.DueAt)), eventlog.Arrival{At: now}, map[string]any{"case_id": c.ID, "kind": c.Kind, "team": c.TeamName, "due_at": time.UnixMilli(int64(c.DueAt)).UTC().Format(time.RFC3339)})
			if err != nil {
				return err
			}
			if c.UserID != "" || c.AnonymousID != "" {
				events = append(events, ev)
			}
			n++
		}
		return s.log.AppendTx(ctx, tx, events)
	})
	if err == nil && n > 0 {
		s.log.Notify()
	}
	return n, err
}

// Repurchase groups the returns of [from, to) by the returned order's
// category (or channel, or reason) and tells how many returners ordered
// again within days of the return, under any identity of their profile.
func (s *Service) Repurchase(ctx context.Context, by string, days int) ([]RepurchaseGroup, error) {
	switch by {
	case "", "category", "channel", "reason":
	default:
		return nil, fault.Field("by", "by is category, channel or reason")
	}
	if days <= 0 || days > 3650 {
		return nil, fault.Field("days", "days is between 1 and 3650")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT order_id, customer_ref, channel, category, ordered_at, returned_at, return_reason FROM orders`)
	if err != nil {
		return nil, err
	}
	type order struct {
		id, ref, channel, category, reason string
		at                                 int64
		returned                           *int64
	}
	var all []order
	var refs []eventlog.Event
	seen := map[string]bool{}
	for rows.Next() {
		var o order
		var ret sql.NullInt64
		if err := rows.Scan(&o.id, &o.ref, &o.channel, &o.category, &o.at, &ret, &o.reason); err != nil {
			rows.Close()
			return nil, err
		}
		if ret.Valid {
			v := ret.Int64
			o.returned = &v
		}
		all = append(all, o)
		if !seen[o.ref] {
			seen[o.ref] = true
			refs = append(refs, eventlog.Event{UserID: o.ref}, eventlog.Event{AnonymousID: o.ref})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	owners, err := s.profiles.Owners(ctx, refs)
	if err != nil {
		return nil, err
	}
	customer := func(ref string) string {
		if c := profile.OwnerOf(owners, eventlog.Event{UserID: ref}); c != "" {
			return c
		}
		if c := profile.OwnerOf(owners, eventlog.Event{AnonymousID: ref}); c != "" {
			return c
		}
		return "ref:" + ref
	}
	orders := map[string][]int64{}
	for _, o := range all {
		c := customer(o.ref)
		orders[c] = append(orders[c], o.at)
	}
	window := int64(days) * 24 * int64(time.Hour/time.Millisecond)
	groups := map[string]*RepurchaseGroup{}
	for _, o := range all {
		if o.returned == nil {
			continue
		}
		key := map[string]string{"": "all", "category": o.category, "channel": o.channel, "reason": o.reason}[by]
		if key == "" {
			key = "unknown"
		}
		g := groups[key]
		if g == nil {
			g = &RepurchaseGroup{Key: key}
			groups[key] = g
		}
		g.Returns++
		for _, at := range orders[customer(o.ref)] {
			if at > *o.returned && at <= *o.returned+window {
				g.BoughtAgain++
				break
			}
		}
	}
	out := make([]RepurchaseGroup, 0, len(groups))
	for _, g := range groups {
		g.Rate = math.Round(float64(g.BoughtAgain)/float64(g.Returns)*10000) / 10000
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Returns != out[j].Returns {
			return out[i].Returns > out[j].Returns
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// RepurchaseGroup says how many returns of a group were followed by a new order.
type RepurchaseGroup struct {
	Key         string  `json:"key"`
	Returns     int     `json:"returns"`
	BoughtAgain int     `json:"boughtAgain"`
	Rate        float64 `json:"rate"`
}
