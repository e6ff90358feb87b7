package experience

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/catalog"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/memo"
	"github.com/cxloop/cxloop/internal/outbox"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// Nudge is a rule that detects a latent need and raises the customer's
// awareness of it: a request abandoned (viewed or added, not ordered), a
// consumable probably running out (for customers who have not handed it to
// automatic replenishment), or a goal in the customer's traits falling
// behind. It sends a message by email or webhook, to customers who
// consented, within frequency caps and outside quiet hours; a random
// holdout share is left unnudged to measure what the nudge changes.
type Nudge struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Kind string `json:"kind"` // abandoned, running_out, goal
	// abandoned: how long after the view or add without an order.
	WindowHours float64 `json:"window_hours,omitempty"`
	// running_out: how many days before the predicted need.
	DaysAhead float64 `json:"days_ahead,omitempty"`
	// goal: the trait holding the target and the one holding progress;
	// the customer is behind below ratio × target.
	GoalTrait     string   `json:"goal_trait,omitempty"`
	ProgressTrait string   `json:"progress_trait,omitempty"`
	BehindRatio   float64  `json:"behind_ratio,omitempty"`
	Channel       string   `json:"channel"` // email or webhook
	Subject       string   `json:"subject"`
	Message       string   `json:"message"`     // {{item}} and {{name}} are filled in
	HoldoutPct    *float64 `json:"holdout_pct"` // share held out, % (default 10; 0 for none)
	// Caps: at most CapCount nudges per customer and channel in CapDays
	// (every nudge counts); no sending from QuietFrom to QuietTo o'clock
	// in the customer's traits.timezone (UTC when unknown) — a window may
	// cross midnight (22–7); the same hour twice (0–0) means none. Left
	// out, 21–8.
	CapCount       int     `json:"cap_count"`
	CapDays        float64 `json:"cap_days"`
	QuietFrom      *int    `json:"quiet_from"`
	QuietTo        *int    `json:"quiet_to"`
	ConversionDays float64 `json:"conversion_days"` // an order within this many days converts
	// Segment, when set, limits the nudge to its customers (any segment
	// query, or a saved one: {"saved": "At risk"}).
	Segment   *profile.Query `json:"segment,omitempty"`
	Active    bool           `json:"active"`
	CreatedAt store.Millis   `json:"createdAt"`
}

// validate fills in defaults and names the first wrong field.
func (n *Nudge) validate() error {
	n.Name = strings.TrimSpace(n.Name)
	if n.Name == "" {
		return fault.Field("name", "a nudge has a name")
	}
	switch n.Kind {
	case "abandoned":
		if n.WindowHours == 0 {
			n.WindowHours = 24
		}
		if n.WindowHours < 1 || n.WindowHours > 24*30 {
			return fault.Field("window_hours", "window_hours is between 1 and 720")
		}
	case "running_out":
		if n.DaysAhead == 0 {
			n.DaysAhead = 3
		}
		if n.DaysAhead < 0 || n.DaysAhead > 60 {
			return fault.Field("days_ahead", "days_ahead is between 0 and 60")
		}
	case "goal":
		if strings.TrimSpace(n.GoalTrait) == "" || strings.TrimSpace(n.ProgressTrait) == "" {
			return fault.Field("goal_trait", "a goal nudge names the goal_trait and the progress_trait")
		}
		if n.BehindRatio == 0 {
			n.BehindRatio = 0.5
		}
		if n.BehindRatio <= 0 || n.BehindRatio > 1 {
			return fault.Field("behind_ratio", "behind_ratio is above 0 and at most 1")
		}
	default:
		return fault.Field("kind", "a nudge is abandoned, running_out or goal")
	}
	if n.Channel == "" {
		n.Channel = "email"
	}
	if n.Channel != "email" && n.Channel != "webhook" {
		return fault.Field("channel", "a nudge goes by email or webhook")
	}
	if strings.TrimSpace(n.Message) == "" {
		return fault.Field("message", "a nudge has a message")
	}
	if n.Subject == "" {
		n.Subject = n.Name
	}
	if n.HoldoutPct == nil {
		ten := 10.0
		n.HoldoutPct = &ten
	}
	if *n.HoldoutPct < 0 || *n.HoldoutPct >= 100 {
		return fault.Field("holdout_pct", "holdout_pct is from 0 to below 100")
	}
	if n.CapCount == 0 {
		n.CapCount = 1
	}
	if n.CapDays == 0 {
		n.CapDays = 7
	}
	if n.CapCount < 1 || n.CapDays <= 0 {
		return fault.Field("cap_count", "a frequency cap is at least one nudge in some days")
	}
	// Only what was left out takes the default: 0 is midnight, not "unset".
	if n.QuietFrom == nil {
		from := 21
		n.QuietFrom = &from
	}
	if n.QuietTo == nil {
		to := 8
		n.QuietTo = &to
	}
	if *n.QuietFrom < 0 || *n.QuietFrom > 23 {
		return fault.Field("quiet_from", "quiet_from is an hour from 0 to 23 (quiet_from = quiet_to: no quiet hours)")
	}
	if *n.QuietTo < 0 || *n.QuietTo > 23 {
		return fault.Field("quiet_to", "quiet_to is an hour from 0 to 23 (quiet_from = quiet_to: no quiet hours)")
	}
	if n.ConversionDays == 0 {
		n.ConversionDays = 7
	}
	if n.ConversionDays < 0 || n.ConversionDays > 90 {
		return fault.Field("conversion_days", "conversion_days is between 0 and 90")
	}
	if n.Segment != nil {
		return n.Segment.Validate()
	}
	return nil
}

// CreateNudge stores an active nudge rule.
func (s *Service) CreateNudge(ctx context.Context, n *Nudge) (*Nudge, error) {
	if err := n.validate(); err != nil {
		return nil, err
	}
	n.ID, n.Active, n.CreatedAt = store.NewID("nudge"), true, store.Millis(s.now().UnixMilli())
	b, _ := json.Marshal(n)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO nudges (id, name, kind, config, active, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			n.ID, n.Name, n.Kind, string(b), true, int64(n.CreatedAt))
		return err
	})
	return n, err
}

// Nudges lists the nudge rules (not the removed ones).
func (s *Service) Nudges(ctx context.Context) ([]Nudge, error) { return s.nudges(ctx, s.db, false) }

// nudges lists the nudge rules, the removed ones too when removed is true
// (their sends stay measured).
func (s *Service) nudges(ctx context.Context, q eventlog.Querier, removed bool) ([]Nudge, error) {
	where := ` WHERE deleted_at = 0`
	if removed {
		where = ``
	}
	rows, err := q.QueryContext(ctx, `SELECT config, active FROM nudges`+where+` ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Nudge{}
	for rows.Next() {
		var cfg string
		var n Nudge
		if err := rows.Scan(&cfg, &n.Active); err != nil {
			return nil, err
		}
		active := n.Active
		if err := json.Unmarshal([]byte(cfg), &n); err != nil {
			return nil, err
		}
		n.Active = active
		out = append(out, n)
	}
	return out, rows.Err()
}

// NudgeByID returns a nudge; a removed one is not found.
func (s *Service) NudgeByID(ctx context.Context, id string) (*Nudge, error) {
	return nudgeByID(ctx, s.db, s, id)
}

func nudgeByID(ctx context.Context, q eventlog.Querier, s *Service, id string) (*Nudge, error) {
	list, err := s.nudges(ctx, q, false)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == id {
			return &list[i], nil
		}
	}
	return nil, fault.New(fault.NotFound, "no nudge %q", id)
}

// UpdateNudge edits a nudge: patch is a JSON object of the fields to change
// (as POST /api/v1/nudges takes them; "active": false pauses it, true
// resumes it). The result is checked like a new nudge. It returns the nudge
// before and after; a paused nudge sends nothing from now on.
func (s *Service) UpdateNudge(ctx context.Context, id string, patch []byte) (before, after *Nudge, err error) {
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if before, err = nudgeByID(ctx, tx, s, id); err != nil {
			return err
		}
		// Decoding onto a copy changes only the fields the patch names.
		b, _ := json.Marshal(before)
		var next Nudge
		_ = json.Unmarshal(b, &next)
		if err := httpio.DecodeJSON(patch, &next); err != nil {
			return err
		}
		if next.ID != before.ID {
			return fault.Field("id", "a nudge's id cannot change")
		}
		if next.CreatedAt != before.CreatedAt {
			return fault.Field("createdAt", "a nudge's creation time cannot change")
		}
		if err := next.validate(); err != nil {
			return err
		}
		cfg, _ := json.Marshal(next)
		if _, err := tx.ExecContext(ctx, `UPDATE nudges SET name = $1, kind = $2, config = $3, active = $4 WHERE id = $5`,
			next.Name, next.Kind, string(cfg), next.Active, id); err != nil {
			return err
		}
		after = &next
		return nil
	})
	return before, after, err
}

// DeleteNudge removes a nudge: it sends nothing more and is no longer
// listed; its sends stay, and its uplift stays measured.
func (s *Service) DeleteNudge(ctx context.Context, id string) (*Nudge, error) {
	var before *Nudge
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if before, err = nudgeByID(ctx, tx, s, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE nudges SET active = $1, deleted_at = $2 WHERE id = $3`, false, s.now().UnixMilli(), id)
		return err
	})
	return before, err
}

// candidate is a customer a nudge applies to, about an item (or a goal);
// name is the item's name as its events gave it, when the catalog has none.
type candidate struct {
	customer, key, item, name string
}

// Nudge runs every active nudge once and returns how many messages it sent
// and how many customers it held out.
func (s *Service) Nudge(ctx context.Context) (sent, held int, err error) {
	list, err := s.Nudges(ctx)
	if err != nil {
		return 0, 0, err
	}
	now := s.now()
	for _, n := range list {
		if !n.Active || (n.Channel == "email" && !s.emails) {
			continue
		}
		cands, err := s.candidates(ctx, n, now)
		if err != nil {
			return sent, held, err
		}
		var in map[string]bool
		if n.Segment != nil && len(cands) > 0 {
			members, err := s.profiles.Members(ctx, *n.Segment, now)
			if err != nil {
				return sent, held, err
			}
			in = map[string]bool{}
			for _, m := range members {
				in[m] = true
			}
		}
		for _, c := range cands {
			if in != nil && !in[c.customer] {
				continue
			}
			st, err := s.deliver(ctx, n, c, now)
			if err != nil {
				return sent, held, err
			}
			switch st {
			case "sent":
				sent++
			case "held_out":
				held++
			}
		}
	}
	if sent+held > 0 {
		s.log.Notify()
	}
	return sent, held, nil
}

// candidates finds the customers a nudge applies to now.
func (s *Service) candidates(ctx context.Context, n Nudge, now time.Time) ([]candidate, error) {
	var out []candidate
	switch n.Kind {
	case "abandoned":
		// Viewed or added between a week and the window ago, with no order
		// of the item since (by any of the customer's identities).
		until := now.Add(-time.Duration(n.WindowHours * float64(time.Hour)))
		rows, err := s.db.QueryContext(ctx, `SELECT identity, item, MAX(at) FROM interactions WHERE kind IN ('Product Viewed', 'Product Added')
			AND at > $1 AND at <= $2 GROUP BY identity, item`, until.Add(-7*24*time.Hour).UnixMilli(), until.UnixMilli())
		if err != nil {
			return nil, err
		}
		type seen struct {
			key, item string
			at        int64
		}
		var list []seen
		for rows.Next() {
			var x seen
			if err := rows.Scan(&x.key, &x.item, &x.at); err != nil {
				rows.Close()
				return nil, err
			}
			list = append(list, x)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		owner, err := profile.OwnersBy(ctx, s.profiles, list, func(x seen) string { return x.key })
		if err != nil {
			return nil, err
		}
		for _, x := range list {
			c := owner[x.key]
			if c == "" {
				continue
			}
			ordered, err := s.orderedSince(ctx, c, x.item, x.at)
			if err != nil {
				return nil, err
			}
			if !ordered {
				out = append(out, candidate{customer: c, item: x.item, key: fmt.Sprintf("%s@%d", x.item, x.at/86400000)})
			}
		}
	case "running_out":
		all, err := s.histories(ctx)
		if err != nil {
			return nil, err
		}
		consents, err := s.consents(ctx)
		if err != nil {
			return nil, err
		}
		pri := priors(all)
		products, err := s.products(ctx, all, nil)
		if err != nil {
			return nil, err
		}
		for c, items := range all.byCustomer {
			for _, need := range needs(items, pri, all.names, products) {
				if consented(consents[c], need.Item, need.Category) || need.Purchases < 2 {
					continue // automatic execution has it, or no habit yet
				}
				if need.NextNeedAt.After(now.Add(time.Duration(n.DaysAhead*24)*time.Hour)) || need.NextNeedAt.Before(now.Add(-7*24*time.Hour)) {
					continue
				}
				out = append(out, candidate{customer: c, item: need.Item, name: need.Name, key: fmt.Sprintf("%s@%d", need.Item, need.LastAt.UnixMilli())})
			}
		}
	case "goal":
		err := s.profiles.EachLive(ctx, func(c profile.Live) error {
			id, traits := c.ID, c.Traits
			if !strings.Contains(traits, n.GoalTrait) {
				return nil
			}
			var t map[string]any
			if json.Unmarshal([]byte(traits), &t) != nil {
				return nil
			}
			goal, ok1 := number(t[n.GoalTrait])
			progress, ok2 := number(t[n.ProgressTrait])
			if ok1 && ok2 && goal > 0 && progress < n.BehindRatio*goal {
				// One nudge per goal value per week.
				out = append(out, candidate{customer: id, key: fmt.Sprintf("goal:%v@%d", goal, now.Unix()/(7*86400))})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

func number(v any) (float64, bool) {
	f, ok := v.(float64)
	return f, ok && !math.IsNaN(f)
}

// orderedSince reports whether the customer ordered the item after at.
func (s *Service) orderedSince(ctx context.Context, customer, item string, at int64) (bool, error) {
	_, args, ph, err := s.keys(ctx, customer)
	if err != nil || len(args) == 0 {
		return false, err
	}
	var n int
	args = append(args, item, at)
	err = s.db.QueryRowContext(ctx, fmt.Sprintf(`SELECT COUNT(*) FROM order_lines WHERE identity IN (%s) AND item = $%d AND at >= $%d`, ph, len(args)-1, len(args)), args...).Scan(&n)
	return n > 0, err
}

// inHoldout places a customer in a nudge's holdout group, at random but
// the same every time.
func inHoldout(nudge, customer string, pct float64) bool {
	h := sha256.Sum256([]byte(nudge + "\x00" + customer))
	return float64(binary.BigEndian.Uint64(h[:8])%10000) < pct*100
}

// quiet reports whether it is within quiet hours where the customer lives.
func quiet(now time.Time, tz string, from, to int) bool {
	loc, err := time.LoadLocation(tz)
	if tz == "" || err != nil {
		loc = time.UTC
	}
	h := now.In(loc).Hour()
	if from == to {
		return false
	}
	if from < to {
		return h >= from && h < to
	}
	return h >= from || h < to
}

// deliver sends (or holds out) one nudge, once per subject; a customer
// without consent, capped, or in quiet hours is left for later.
func (s *Service) deliver(ctx context.Context, n Nudge, c candidate, now time.Time) (string, error) {
	var exists int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM nudge_sends WHERE nudge_id = $1 AND customer_id = $2 AND subject_key = $3`,
		n.ID, c.customer, c.key).Scan(&exists); err != nil || exists > 0 {
		return "", err
	}
	who, err := s.profiles.Contacts(ctx, []string{c.customer})
	if err != nil {
		return "", err
	}
	ct := who[c.customer]
	consented, err := s.nudgeConsent(ctx, c.customer, ct.Traits)
	if err != nil || !consented {
		return "", err
	}
	tz, _ := ct.Traits["timezone"].(string)
	from, to := 21, 8 // a rule stored without them: the defaults
	if n.QuietFrom != nil && n.QuietTo != nil {
		from, to = *n.QuietFrom, *n.QuietTo
	}
	if quiet(now, tz, from, to) {
		return "", nil
	}
	if n.Channel == "email" && ct.Email == "" {
		return "", nil
	}
	status := "sent"
	if inHoldout(n.ID, c.customer, *n.HoldoutPct) {
		status = "held_out"
	} else {
		var recent int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM nudge_sends WHERE customer_id = $1 AND channel = $2 AND status = 'sent' AND at > $3`,
			c.customer, n.Channel, now.Add(-time.Duration(n.CapDays*24*float64(time.Hour))).UnixMilli()).Scan(&recent); err != nil {
			return "", err
		}
		if recent >= n.CapCount {
			return "", nil // capped: perhaps later
		}
	}
	id := store.NewID("nsend")
	name, _ := ct.Traits["firstName"].(string)
	// The customer reads the product's name, never its id.
	var product catalog.Product
	if c.item != "" {
		found, err := s.catalog.Lookup(ctx, []string{c.item})
		if err != nil {
			return "", err
		}
		product = catalog.Of(found, c.item)
		if product.Name == "" {
			product.Name = c.name
		}
	}
	fill := strings.NewReplacer("{{item}}", product.Label(), "{{name}}", name)
	text, subject := fill.Replace(n.Message), fill.Replace(n.Subject)
	event := map[string]string{"sent": "Nudge Sent", "held_out": "Nudge Held Out"}[status]
	props := map[string]any{"nudge_id": n.ID, "nudge": n.Name, "kind": n.Kind, "send_id": id, "product_id": c.item, "channel": n.Channel, "subject": subject,
		"message": text, "experience": "coach_behaviour"}
	if product.Name != "" {
		props["name"] = product.Name
	}
	if product.ImageURL != "" {
		props["image_url"] = product.ImageURL
	}
	ev, err := eventlog.Action(event, "nudge-"+id, ct.UserID, ct.AnonymousID, n.Channel, now, props)
	if err != nil {
		return "", err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO nudge_sends (id, nudge_id, customer_id, subject_key, item, channel, status, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (nudge_id, customer_id, subject_key) DO NOTHING`, id, n.ID, c.customer, c.key, c.item, n.Channel, status, now.UnixMilli())
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			status = ""
			return nil
		}
		if status == "sent" && n.Channel == "email" {
			if err := outbox.EnqueueMailAt(ctx, tx, "nudge-"+id, ct.Email, subject, text, now.UnixMilli()); err != nil {
				return err
			}
		}
		return s.log.AppendTx(ctx, tx, []eventlog.Event{ev})
	})
	return status, err
}

// nudgeConsent: a Nudges Consented event (until Nudges Revoked), or a
// nudge_consent trait that is true.
func (s *Service) nudgeConsent(ctx context.Context, customer string, traits map[string]any) (bool, error) {
	if v, ok := traits["nudge_consent"].(bool); ok {
		return v, nil
	}
	_, args, ph, err := s.keys(ctx, customer)
	if err != nil || len(args) == 0 {
		return false, err
	}
	var n int
	err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM nudge_consents WHERE identity IN (`+ph+`)`, args...).Scan(&n)
	return n > 0, err
}

// Uplift is a nudge's effect: conversion of the nudged against the held-out.
type Uplift struct {
	Nudge          string  `json:"nudge"`
	Name           string  `json:"name"`
	Channel        string  `json:"channel"` // email or webhook
	ConversionDays float64 `json:"conversion_days"`
	Treated        Group   `json:"treated"`
	Holdout        Group   `json:"holdout"`
	// Measured: both arms have customers whose conversion window has
	// closed; only then are Uplift and its interval figures.
	Measured bool    `json:"measured"`
	Uplift   float64 `json:"uplift"`  // treated rate − holdout rate, −1 to 1
	CILow    float64 `json:"ci_low"`  // 95% interval of the difference (Newcombe's,
	CIHigh   float64 `json:"ci_high"` // from the two arms' Wilson intervals), within −1 to 1
	// SmallSample: an arm has fewer than MinArm customers or the arms
	// together fewer than MinConversions conversions — too few to tell,
	// whatever the interval says; Note says so in words.
	SmallSample bool   `json:"small_sample"`
	Note        string `json:"note,omitempty"`
	Conclusive  bool   `json:"significant"` // measured, not small, the interval excludes 0
}

// Group is the size and conversion of one arm.
type Group struct {
	N         int     `json:"n"` // customers whose conversion window has closed
	Converted int     `json:"converted"`
	Rate      float64 `json:"rate"`    // converted ÷ n, 0 to 1
	Pending   int     `json:"pending"` // customers still within their window, not counted yet
}

// The least an uplift is told from: customers in each arm, and
// conversions in the two arms together.
const (
	MinArm         = 30
	MinConversions = 10
)

// Uplifts measures each nudge. Each customer counts once, in the arm of
// their first send or hold-out, and converts when they order (any
// product) within the nudge's conversion days after it; a customer whose
// window has not closed yet is pending, counted in neither rate.
func (s *Service) Uplifts(ctx context.Context) ([]Uplift, error) {
	return s.UpliftsIn(ctx, time.Time{}, time.Time{})
}

// UpliftsIn measures each nudge on the customers whose first send or
// hold-out fell in [from, to) (a zero bound is open): the cohort the
// period brought in, followed through their conversion window.
func (s *Service) UpliftsIn(ctx context.Context, from, to time.Time) ([]Uplift, error) {
	ctx = memo.Ensure(ctx) // every send asks the same index of order times
	lo, hi := store.Span(from, to)
	list, err := s.nudges(ctx, s.db, true)
	if err != nil {
		return nil, err
	}
	now := s.now().UnixMilli()
	out := []Uplift{}
	for _, n := range list {
		u := Uplift{Nudge: n.ID, Name: n.Name, Channel: n.Channel, ConversionDays: n.ConversionDays}
		window := int64(n.ConversionDays * 86400000)
		type send struct {
			customer, status string
			at               int64
		}
		var sends []send
		err := s.db.Each(ctx, `SELECT customer_id, status, at FROM nudge_sends WHERE nudge_id = $1 AND status IN ('sent', 'held_out')
			ORDER BY customer_id, at, id`, []any{n.ID}, func(r *sql.Rows) error {
			var x send
			if err := r.Scan(&x.customer, &x.status, &x.at); err != nil {
				return err
			}
			if len(sends) == 0 || sends[len(sends)-1].customer != x.customer {
				sends = append(sends, x) // the customer's first
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for _, x := range sends {
			if x.at < lo || x.at >= hi {
				continue
			}
			g := &u.Treated
			if x.status == "held_out" {
				g = &u.Holdout
			}
			if x.at+window > now {
				g.Pending++
				continue
			}
			g.N++
			ordered, err := s.orderedWithin(ctx, x.customer, x.at, x.at+window)
			if err != nil {
				return nil, err
			}
			if ordered {
				g.Converted++
			}
		}
		u.measure()
		out = append(out, u)
	}
	return out, nil
}

// measure fills in the rates, the difference and its interval, and says
// whether the arms are too small to tell.
func (u *Uplift) measure() {
	for _, g := range []*Group{&u.Treated, &u.Holdout} {
		if g.N > 0 {
			g.Rate = float64(g.Converted) / float64(g.N)
		}
	}
	u.Measured = u.Treated.N > 0 && u.Holdout.N > 0
	u.SmallSample = u.Treated.N < MinArm || u.Holdout.N < MinArm || u.Treated.Converted+u.Holdout.Converted < MinConversions
	switch {
	case !u.Measured:
		u.Note = "no uplift yet: both the nudged and the held-out need customers whose conversion window has closed"
	case u.SmallSample:
		u.Note = fmt.Sprintf("too few to tell: %d nudged and %d held out, %d conversions (at least %d in each arm and %d conversions)",
			u.Treated.N, u.Holdout.N, u.Treated.Converted+u.Holdout.Converted, MinArm, MinConversions)
	}
	if !u.Measured {
		return
	}
	u.Uplift, u.CILow, u.CIHigh = newcombe(u.Treated.Converted, u.Treated.N, u.Holdout.Converted, u.Holdout.N)
	u.Conclusive = !u.SmallSample && (u.CILow > 0 || u.CIHigh < 0)
}

// z95 is the normal quantile of a two-sided 95% interval.
const z95 = 1.959964

// wilson is the 95% Wilson score interval of x successes in n trials.
func wilson(x, n int) (lo, hi float64) {
	p, nf, z2 := float64(x)/float64(n), float64(n), z95*z95
	centre := (p + z2/(2*nf)) / (1 + z2/nf)
	half := z95 / (1 + z2/nf) * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, centre-half), math.Min(1, centre+half)
}

// newcombe is the difference of two proportions, x1/n1 − x0/n0, with its
// 95% interval by Newcombe's hybrid score method (his method 10): it
// stays within −1 to 1 and keeps its coverage with few conversions, where
// the Wald interval collapses to a point at 0 % or 100 %.
func newcombe(x1, n1, x0, n0 int) (d, lo, hi float64) {
	p1, p0 := float64(x1)/float64(n1), float64(x0)/float64(n0)
	l1, u1 := wilson(x1, n1)
	l0, u0 := wilson(x0, n0)
	d = p1 - p0
	lo = d - math.Sqrt((p1-l1)*(p1-l1)+(u0-p0)*(u0-p0))
	hi = d + math.Sqrt((u1-p1)*(u1-p1)+(p0-l0)*(p0-l0))
	return d, math.Max(-1, lo), math.Min(1, hi)
}
