package experience

import (
	"context"
	"database/sql"
	"slices"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/catalog"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/memo"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// Outcome events of recommendations. A purchase of a recommended item
// within AttributionDays of it being shown or clicked is the
// recommendation's purchase.
const AttributionDays = 7

// recOutcome projects Recommendation Shown / Clicked (rec_id, product_id)
// and attributes an order's lines to the recommendations that led to them.
// A click is also an interaction for the next training (weight 1.5); a
// recommendation shown and never clicked weighs −0.25 once it is a week old
// (see Train).
func recOutcome(ctx context.Context, tx *store.Tx, e *eventlog.Event, key string, props map[string]any, ls []line) error {
	switch e.Event {
	case "Recommendation Shown", "Recommendation Clicked":
		rec, _ := props["rec_id"].(string)
		item, _ := props["product_id"].(string)
		if rec == "" || item == "" {
			return nil
		}
		outcome := strings.ToLower(strings.TrimPrefix(e.Event, "Recommendation "))
		_, err := tx.ExecContext(ctx, `INSERT INTO rec_outcomes (message_id, rec_id, identity, item, outcome, at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (message_id, rec_id, outcome) DO NOTHING`, e.MessageID, rec, key, item, outcome, e.Timestamp)
		return err
	case "Order Completed":
		for _, l := range ls {
			_, err := tx.ExecContext(ctx, `INSERT INTO rec_outcomes (message_id, rec_id, identity, item, outcome, at)
				SELECT DISTINCT CAST($1 AS TEXT), rec_id, identity, item, 'purchased', CAST($2 AS BIGINT) FROM rec_outcomes
				WHERE identity = $3 AND item = $4 AND outcome IN ('shown', 'clicked') AND at <= CAST($2 AS BIGINT) AND at > $5 ON CONFLICT (message_id, rec_id, outcome) DO NOTHING`,
				e.MessageID, e.Timestamp, key, l.item, e.Timestamp-AttributionDays*86400000)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// Month is one month of the learning report.
type Month struct {
	Month       string           `json:"month"` // 2026-11
	Experiences []ExperienceStat `json:"experiences"`
}

// ExperienceStat is how one experience did in a month, for new and
// returning customers. An offer is judged once its outcome is known: a
// recommendation once bought or a week (AttributionDays) after it was
// shown, a nudge once the customer ordered or its conversion days are
// over, a proposal once accepted or declined, a replenishment once placed
// or cancelled. Offers not judged yet are counted apart (Pending) and
// nowhere else: a month still in its windows does not read as 0 %.
type ExperienceStat struct {
	Experience string   `json:"experience"` // curated_offering, coach_behaviour, respond_to_desire, automatic_execution
	Stage      string   `json:"stage"`      // the journey stage it smooths
	Segment    string   `json:"segment"`    // new (first seen that month) or returning
	Offered    int      `json:"offered"`    // judged offers: recommendations shown, nudges sent, proposals made, replenishments scheduled
	Accepted   int      `json:"accepted"`   // of those: clicked, ordered within the window, accepted, placed (not cancelled)
	Rate       *float64 `json:"rate"`       // accepted ÷ offered; null while no offer is judged
	Purchased  int      `json:"purchased,omitempty"`
	Accuracy   *float64 `json:"accuracy"` // recommendations: purchased ÷ shown; nudges: ordered ÷ sent; proposals: accepted ÷ made; replenishment: placed ÷ decided; null while no offer is judged
	Pending    int      `json:"pending"`  // offers whose outcome is not known yet
	accurate   int      // judged offers that proved accurate (Accuracy's numerator)
}

var stages = map[string]string{"curated_offering": "Request", "coach_behaviour": "Recognize", "respond_to_desire": "Respond", "automatic_execution": "Recognize → Request → Respond"}

// Learning is the flywheel month by month: for each experience, how often
// what cxloop offered was taken up, for new and for returning customers.
func (s *Service) Learning(ctx context.Context, months int) ([]Month, error) {
	ctx = memo.Ensure(ctx) // every send asks the same index of order times (7.7 s a call on the demo without it)
	now := s.now().UTC()
	start := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -(months - 1), 0)
	return s.learning(ctx, start, now)
}

// LearningIn is the learning report for the calendar months (UTC) that
// [from, to) touches; a zero from is 12 months back, a zero to is now.
func (s *Service) LearningIn(ctx context.Context, from, to time.Time) ([]Month, error) {
	ctx = memo.Ensure(ctx) // every send asks the same index of order times
	now := s.now().UTC()
	end := now
	if !to.IsZero() && to.Before(now) {
		end = to.Add(-time.Millisecond).UTC()
	}
	if from.IsZero() {
		from = time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -11, 0)
	}
	from = from.UTC()
	return s.learning(ctx, time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC), end)
}

// learning tallies the months from start (the first of one) to the month
// of end.
func (s *Service) learning(ctx context.Context, start, now time.Time) ([]Month, error) {
	t := learningTally{firstSeen: map[string]string{}, agg: map[learningKey]*ExperienceStat{}, now: s.now().UnixMilli()}
	err := s.profiles.EachLive(ctx, func(c profile.Live) error {
		t.firstSeen[c.ID] = time.UnixMilli(c.FirstSeen).UTC().Format("2006-01")
		return nil
	})
	if err != nil {
		return nil, err
	}
	since := start.UnixMilli()
	for _, learn := range []func(context.Context, int64, *learningTally) error{s.learnOffers, s.learnNudges, s.learnDecisions} {
		if err := learn(ctx, since, &t); err != nil {
			return nil, err
		}
	}
	var out []Month
	for m := start; !m.After(now); m = m.AddDate(0, 1, 0) {
		month := Month{Month: m.Format("2006-01"), Experiences: []ExperienceStat{}}
		for _, exp := range []string{"coach_behaviour", "curated_offering", "respond_to_desire", "automatic_execution"} {
			for _, seg := range []string{"new", "returning"} {
				if x := t.agg[learningKey{month.Month, exp, seg}]; x != nil {
					if x.Offered > 0 {
						rate, acc := round3(float64(x.Accepted)/float64(x.Offered)), round3(float64(x.accurate)/float64(x.Offered))
						x.Rate, x.Accuracy = &rate, &acc
					}
					month.Experiences = append(month.Experiences, *x)
				}
			}
		}
		out = append(out, month)
	}
	return out, nil
}

type learningKey struct{ month, exp, seg string }

// learningTally adds up offers and their uptake by month, experience and
// whether the customer was new that month.
type learningTally struct {
	firstSeen map[string]string // customer → month first seen
	agg       map[learningKey]*ExperienceStat
	now       int64
}

// add counts one offer: judged (its outcome known) or pending.
func (t *learningTally) add(customer string, at int64, exp string, judged, accepted, purchased, accurate bool) {
	m := time.UnixMilli(at).UTC().Format("2006-01")
	seg := "returning"
	if t.firstSeen[customer] == m {
		seg = "new"
	}
	k := learningKey{m, exp, seg}
	x := t.agg[k]
	if x == nil {
		x = &ExperienceStat{Experience: exp, Stage: stages[exp], Segment: seg}
		t.agg[k] = x
	}
	if !judged {
		x.Pending++
		return
	}
	x.Offered++
	x.Accepted += b(accepted)
	x.Purchased += b(purchased)
	x.accurate += b(accurate)
}

// learnOffers tallies the curated offering: recommendations by rec_id,
// shown → clicked → purchased.
func (s *Service) learnOffers(ctx context.Context, since int64, t *learningTally) error {
	type rec struct {
		key                      string
		at                       int64
		shown, clicked, purchase bool
	}
	recs := map[string]*rec{}
	var keys []string
	err := s.db.Each(ctx, `SELECT rec_id, identity, outcome, at FROM rec_outcomes WHERE at >= $1 ORDER BY at`, []any{since}, func(r *sql.Rows) error {
		var id, key, outcome string
		var at int64
		if err := r.Scan(&id, &key, &outcome, &at); err != nil {
			return err
		}
		x := recs[id]
		if x == nil {
			x = &rec{key: key, at: at}
			recs[id] = x
			keys = append(keys, key)
		}
		switch outcome {
		case "shown":
			x.shown = true
		case "clicked":
			x.clicked = true
		case "purchased":
			x.purchase = true
		}
		return nil
	})
	if err != nil {
		return err
	}
	owner, err := s.profiles.KeyOwners(ctx, slices.Values(keys))
	if err != nil {
		return err
	}
	for _, x := range recs {
		judged := x.purchase || x.at+AttributionDays*86400000 <= t.now
		t.add(owner[x.key], x.at, "curated_offering", judged, x.clicked, x.purchase, x.purchase)
	}
	return nil
}

// learnNudges tallies coaching: nudges sent, and whether the customer
// ordered within the nudge's conversion window.
func (s *Service) learnNudges(ctx context.Context, since int64, t *learningTally) error {
	nudges, err := s.nudges(ctx, s.db, true)
	if err != nil {
		return err
	}
	window := map[string]int64{}
	for _, n := range nudges {
		window[n.ID] = int64(n.ConversionDays * 86400000)
	}
	type sent struct {
		nudge, customer string
		at              int64
	}
	var sends []sent
	err = s.db.Each(ctx, `SELECT nudge_id, customer_id, at FROM nudge_sends WHERE status = 'sent' AND at >= $1`, []any{since}, func(r *sql.Rows) error {
		var x sent
		err := r.Scan(&x.nudge, &x.customer, &x.at)
		sends = append(sends, x)
		return err
	})
	if err != nil {
		return err
	}
	for _, x := range sends {
		ordered, err := s.orderedWithin(ctx, x.customer, x.at, x.at+window[x.nudge])
		if err != nil {
			return err
		}
		judged := ordered || x.at+window[x.nudge] <= t.now
		t.add(x.customer, x.at, "coach_behaviour", judged, ordered, ordered, ordered)
	}
	return nil
}

// learnDecisions tallies responding to desire (proposals made and
// accepted) and automatic execution (replenishments scheduled; placed ones
// were accepted).
func (s *Service) learnDecisions(ctx context.Context, since int64, t *learningTally) error {
	for _, d := range []struct{ q, exp, taken, open string }{
		{`SELECT customer_id, status, created_at FROM proposals WHERE created_at >= $1`, "respond_to_desire", "accepted", "proposed"},
		{`SELECT customer_id, status, created_at FROM replenishments WHERE created_at >= $1`, "automatic_execution", "placed", "scheduled"},
	} {
		err := s.db.Each(ctx, d.q, []any{since}, func(r *sql.Rows) error {
			var c, status string
			var at int64
			if err := r.Scan(&c, &status, &at); err != nil {
				return err
			}
			took := status == d.taken
			t.add(c, at, d.exp, status != d.open, took, took, took)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func b(v bool) int {
	if v {
		return 1
	}
	return 0
}

func round3(v float64) float64 { return float64(int(v*1000+0.5)) / 1000 }

// orderedWithin reports whether the customer ordered anything in (from, to].
// customer is a customer id as nudge sends keep it (maybe merged since).
func (s *Service) orderedWithin(ctx context.Context, customer string, from, to int64) (bool, error) {
	idx, err := s.orderIndex(ctx)
	if err != nil {
		return false, err
	}
	return idx.within(customer, from, to), nil
}

// orders is every customer's order times, sorted, by customer, with where
// merged customers went: what orderedWithin asks of every send at once,
// read once (once a request under a memo).
type orders struct {
	times  map[string][]int64
	merged map[string]string
}

func (s *Service) orderIndex(ctx context.Context) (*orders, error) {
	return memo.Get(ctx, "experience.orders", func() (*orders, error) {
		// The times of every customer's order lines (as histories holds
		// them: by owner, else by key), each time once: from the lines'
		// (identity, at) index alone.
		type line struct {
			key string
			at  int64
		}
		var lines []line
		err := s.db.Each(ctx, `SELECT DISTINCT identity, at FROM order_lines`, nil, func(r *sql.Rows) error {
			var l line
			err := r.Scan(&l.key, &l.at)
			lines = append(lines, l)
			return err
		})
		if err != nil {
			return nil, err
		}
		owner, err := profile.OwnersBy(ctx, s.profiles, lines, func(l line) string { return l.key })
		if err != nil {
			return nil, err
		}
		o := &orders{times: map[string][]int64{}}
		for _, l := range lines {
			c := owner[l.key]
			if c == "" {
				c = l.key
			}
			o.times[c] = append(o.times[c], l.at)
		}
		for c, ts := range o.times {
			slices.Sort(ts)
			o.times[c] = slices.Compact(ts)
		}
		o.merged, err = s.profiles.MergedInto(ctx)
		return o, err
	})
}

// within tells whether the customer ordered in (from, to].
func (o *orders) within(customer string, from, to int64) bool {
	if into, ok := o.merged[customer]; ok {
		customer = into
	}
	ts := o.times[customer]
	i, _ := slices.BinarySearch(ts, from+1)
	return i < len(ts) && ts[i] <= to
}

// Touch is one moment an experience touched a customer's journey.
type Touch struct {
	At         time.Time `json:"at"`
	Experience string    `json:"experience"`
	Stage      string    `json:"stage"`
	Event      string    `json:"event"`
	Item       string    `json:"item,omitempty"`
	Name       string    `json:"name,omitempty"`
	Ref        string    `json:"ref,omitempty"` // rec_id, nudge send, proposal or replenishment id
}

// touchEvents are the events of the experiences, by experience.
var touchEvents = map[string]string{
	"Nudge Sent": "coach_behaviour", "Recommendation Shown": "curated_offering", "Recommendation Clicked": "curated_offering",
	"Order Proposed": "respond_to_desire", "Order Proposal Accepted": "respond_to_desire", "Order Proposal Declined": "respond_to_desire",
	"Replenishment Scheduled": "automatic_execution", "Order Auto-Placed": "automatic_execution", "Replenishment Cancelled": "automatic_execution",
}

// Journey lists the experiences that touched a customer, newest first,
// with the stage each smooths.
func (s *Service) Journey(ctx context.Context, ref string) ([]Touch, error) {
	_, q, err := s.profiles.EventFilter(ctx, ref)
	if err != nil {
		return nil, err
	}
	q.ByTime, q.Desc, q.Limit, q.Type = true, true, 1000, eventlog.Track
	events, err := eventlog.Read(ctx, s.db, q)
	if err != nil {
		return nil, err
	}
	out := []Touch{}
	for _, e := range events {
		exp, ok := touchEvents[e.Event]
		if !ok {
			continue
		}
		m, err := e.Message()
		if err != nil {
			continue
		}
		p := m.Props()
		t := Touch{At: time.UnixMilli(e.Timestamp).UTC(), Experience: exp, Stage: stages[exp], Event: e.Event}
		t.Item, _ = p["product_id"].(string)
		if t.Item == "" {
			// Proposals and placed orders name their products in a list.
			if list, ok := p["products"].([]any); ok && len(list) > 0 {
				first, _ := list[0].(map[string]any)
				t.Item, _ = first["product_id"].(string)
				if t.Item == "" {
					t.Item, _ = first["item"].(string)
				}
			}
		}
		for _, k := range []string{"rec_id", "send_id", "proposal_id", "replenishment_id"} {
			if v, _ := p[k].(string); v != "" {
				t.Ref = v
				break
			}
		}
		out = append(out, t)
	}
	var ids []string
	for _, t := range out {
		if t.Item != "" {
			ids = append(ids, t.Item)
		}
	}
	products, err := s.catalog.Lookup(ctx, ids)
	for i := range out {
		if out[i].Item != "" {
			out[i].Name = catalog.Of(products, out[i].Item).Name
		}
	}
	return out, err
}
