package loyalty

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// Perk is a benefit of a tier: early access to launches, VIP deals,
// priority service or a free service.
type Perk struct {
	Kind        string `json:"kind"` // early_access, vip_deal, priority_service, free_service
	Name        string `json:"name"`
	Hours       int    `json:"hours,omitempty"` // early_access: how long before general release
	Code        string `json:"code,omitempty"`  // vip_deal: the code to use
	Description string `json:"description,omitempty"`
}

// Program is the tiers and their perks, and what qualifies for a tier.
type Program struct {
	// Measure is what the tiers' thresholds count: points earned in this
	// calendar month and the 11 before (the default), spend in the last
	// 365 days (orders less refunds), or the engagement score (0–100).
	Measure string        `json:"measure"`
	Tiers   []ProgramTier `json:"tiers"`
}

// Tier measures.
const (
	ByPoints     = "points"
	BySpend      = "spend"
	ByEngagement = "engagement"
)

// ProgramTier is a tier from a threshold of the program's measure, with its perks.
type ProgramTier struct {
	Name  string `json:"name"`
	From  int64  `json:"from"`
	Perks []Perk `json:"perks"`
}

// DefaultProgram is the program of a new installation.
func DefaultProgram() Program {
	return Program{Measure: ByPoints, Tiers: []ProgramTier{
		{Name: "bronze", From: 0, Perks: []Perk{}},
		{Name: "silver", From: 50, Perks: []Perk{{Kind: "free_service", Name: "Free repairs"}}},
		{Name: "gold", From: 100, Perks: []Perk{{Kind: "early_access", Name: "New collections", Hours: 48}, {Kind: "free_service", Name: "Free repairs"},
			{Kind: "priority_service", Name: "Priority service"}}},
		{Name: "platinum", From: 500, Perks: []Perk{{Kind: "early_access", Name: "New collections", Hours: 72}, {Kind: "vip_deal", Name: "VIP evening", Code: "VIP-NIGHT"},
			{Kind: "free_service", Name: "Free repairs"}, {Kind: "priority_service", Name: "Priority service"}}},
	}}
}

// Validate checks the program: tiers named, rising thresholds from 0, known perk kinds.
func (p *Program) Validate() error {
	switch p.Measure {
	case "":
		p.Measure = ByPoints
	case ByPoints, BySpend, ByEngagement:
	default:
		return fault.Field("measure", "tiers are reached by points, spend or engagement")
	}
	if len(p.Tiers) == 0 {
		return fault.Field("tiers", "a program has at least one tier")
	}
	seen := map[string]bool{}
	for i, t := range p.Tiers {
		f := fmt.Sprintf("tiers[%d]", i)
		t.Name = strings.TrimSpace(t.Name)
		if t.Name == "" || seen[t.Name] {
			return fault.Field(f+".name", "tiers have distinct names")
		}
		seen[t.Name] = true
		if (i == 0 && t.From != 0) || (i > 0 && t.From <= p.Tiers[i-1].From) {
			return fault.Field(f+".from", "the first tier starts at 0 and each next one higher")
		}
		for j, pk := range t.Perks {
			switch pk.Kind {
			case "early_access", "vip_deal", "priority_service", "free_service":
			default:
				return fault.Field(fmt.Sprintf("%s.perks[%d].kind", f, j), "perks are early_access, vip_deal, priority_service or free_service")
			}
			if pk.Kind == "early_access" && pk.Hours <= 0 {
				return fault.Field(fmt.Sprintf("%s.perks[%d].hours", f, j), "early access is some hours before general release")
			}
		}
		if t.Perks == nil {
			p.Tiers[i].Perks = []Perk{}
		}
	}
	return nil
}

// Program returns the tiers and perks in force.
func (s *Service) Program(ctx context.Context) (Program, error) {
	var v sql.NullString
	err := s.db.QueryRowContext(ctx, `SELECT program FROM loyalty_config WHERE id = 1`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !v.Valid) {
		return DefaultProgram(), nil
	}
	if err != nil {
		return Program{}, err
	}
	var p Program
	err = json.Unmarshal([]byte(v.String), &p)
	if p.Measure == "" {
		p.Measure = ByPoints
	}
	return p, err
}

// SetProgram replaces the tiers and perks and reviews every member's tier.
func (s *Service) SetProgram(ctx context.Context, p Program) error {
	if err := p.Validate(); err != nil {
		return err
	}
	b, _ := json.Marshal(p)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO loyalty_config (id, program) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET program = excluded.program`, string(b))
		return err
	})
	if err != nil {
		return err
	}
	// Members are placed under the new program now, not at the next hourly
	// review: a program set after its history was loaded shows at once.
	_, err = s.ReviewTiers(ctx)
	return err
}

// tierOf is the tier reached with a value of the measure, and the next.
func (p Program) tierOf(earned int64) (ProgramTier, *ProgramTier) {
	cur := p.Tiers[0]
	var next *ProgramTier
	for i, t := range p.Tiers {
		if earned >= t.From {
			cur, next = t, nil
			if i+1 < len(p.Tiers) {
				n := p.Tiers[i+1]
				next = &n
			}
		}
	}
	return cur, next
}

// Perks returns the member's tier and its perks.
func (s *Service) Perks(ctx context.Context, ref string) (string, []Perk, error) {
	sum, err := s.summary(ctx, ref, false) // the tier is enough
	if err != nil {
		return "", nil, err
	}
	p, err := s.Program(ctx)
	if err != nil {
		return "", nil, err
	}
	for _, t := range p.Tiers {
		if t.Name == sum.Tier {
			return t.Name, t.Perks, nil
		}
	}
	t, _ := p.tierOf(sum.Value)
	return t.Name, t.Perks, nil
}

// PriorityService reports whether the member's tier includes priority service.
func (s *Service) PriorityService(ctx context.Context, ref string) (bool, error) {
	_, perks, err := s.Perks(ctx, ref)
	if fault.Code(err) == fault.NotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, p := range perks {
		if p.Kind == "priority_service" {
			return true, nil
		}
	}
	return false, nil
}

// Grace is how long a member stays in a tier after falling below it.
const Grace = 30 * 24 * time.Hour

// ReviewTiers moves members between tiers: up at once, down only after
// Grace below their tier's threshold. Each change is a Tier Changed event.
// It returns how many members changed tier.
func (s *Service) ReviewTiers(ctx context.Context) (int, error) {
	s.reviewing.Lock() // one review at a time on this node
	defer s.reviewing.Unlock()
	p, err := s.Program(ctx)
	if err != nil {
		return 0, err
	}
	r := tierReview{p: p, rank: map[string]int{}, now: s.now()}
	for i, t := range p.Tiers {
		r.rank[t.Name] = i
	}
	byMember, err := s.measures(ctx, p)
	if err != nil {
		return 0, err
	}
	// Every member is reviewed, also one whose measure is now nothing: a
	// customer with a ledger, or placed in a tier before, counts 0.
	if err := s.everyMember(ctx, byMember); err != nil {
		return 0, err
	}
	changed := 0
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := dropMergedTiers(ctx, tx); err != nil {
			return err
		}
		var events []eventlog.Event
		// Members in a stable order: two reviews at once (two nodes) lock
		// their rows in the same order, so neither waits on the other's
		// next row while holding one it needs (PostgreSQL: deadlock).
		for _, c := range slices.Sorted(maps.Keys(byMember)) {
			pts := byMember[c]
			ev, err := r.review(ctx, tx, c, pts)
			if err != nil {
				return err
			}
			if ev != nil {
				events = append(events, *ev)
				changed++
			}
		}
		return s.log.AppendTx(ctx, tx, events)
	})
	if err == nil && changed > 0 {
		s.log.Notify()
	}
	return changed, err
}

// dropMergedTiers removes the tier of each profile merged into another: it
// is no member of its own any more, and the survivor is reviewed with
// every identity's measure.
func dropMergedTiers(ctx context.Context, tx *store.Tx) error {
	var tiered []string
	rows, err := tx.QueryContext(ctx, `SELECT customer_id FROM loyalty_tiers ORDER BY customer_id`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return err
		}
		tiered = append(tiered, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	surv, err := profile.SurvivorsIn(ctx, tx, tiered)
	if err != nil {
		return err
	}
	for _, c := range tiered {
		if to, ok := surv[c]; ok && to != c {
			if _, err := tx.ExecContext(ctx, `DELETE FROM loyalty_tiers WHERE customer_id = $1`, c); err != nil {
				return err
			}
		}
	}
	return nil
}

// tierReview is one review of the members' tiers under the program in force.
type tierReview struct {
	p    Program
	rank map[string]int // tier → its place in the program, from 0
	now  time.Time
}

// review settles one member's tier by their value of the measure, and
// returns the Tier Changed event when they moved (nil when they stay, or
// enter the program in its first tier).
func (r tierReview) review(ctx context.Context, tx *store.Tx, c string, pts int64) (*eventlog.Event, error) {
	want, _ := r.p.tierOf(pts)
	cur, moved, err := r.place(ctx, tx, c, want.Name)
	if err != nil || !moved {
		return nil, err
	}
	direction := "upgrade"
	if r.rank[want.Name] < r.rank[cur] {
		direction = "downgrade"
	}
	id, err := someIdentity(ctx, tx, c)
	if err != nil {
		return nil, err
	}
	// The program moved the member: the business's act, not the
	// customer's touchpoint (no event count, last-seen or channel).
	ev, err := eventlog.Action("Tier Changed", entryID("tier", c, want.Name, r.now.Format(time.RFC3339)), id.UserID, id.AnonymousID, "server", r.now,
		map[string]any{"from": cur, "to": want.Name, "change": direction, "measure": r.p.Measure, "value": pts})
	if err != nil {
		return nil, err
	}
	return &ev, nil
}

// place stores the member's tier as want, and returns the tier they were
// in and whether they moved. A member below their tier is marked, and
// moves down once Grace has passed; a member back up is unmarked.
func (r tierReview) place(ctx context.Context, tx *store.Tx, c, want string) (string, bool, error) {
	var cur string
	var below sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT tier, below_since FROM loyalty_tiers WHERE customer_id = $1`, c).Scan(&cur, &below)
	if errors.Is(err, sql.ErrNoRows) {
		return r.enter(ctx, tx, c, want)
	}
	if err != nil {
		return "", false, err
	}
	_, known := r.rank[cur]
	switch {
	case want == cur:
		if below.Valid {
			if _, err := tx.ExecContext(ctx, `UPDATE loyalty_tiers SET below_since = NULL WHERE customer_id = $1`, c); err != nil {
				return "", false, err
			}
		}
		return cur, false, nil
	case known && r.rank[want] < r.rank[cur]:
		if !below.Valid {
			_, err := tx.ExecContext(ctx, `UPDATE loyalty_tiers SET below_since = $1 WHERE customer_id = $2`, r.now.UnixMilli(), c)
			return cur, false, err
		}
		if r.now.Sub(time.UnixMilli(below.Int64)) < Grace {
			return cur, false, nil
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE loyalty_tiers SET tier = $1, since = $2, below_since = NULL WHERE customer_id = $3`, want, r.now.UnixMilli(), c); err != nil {
		return "", false, err
	}
	return cur, true, nil
}

// enter places a member never placed before in the tier want. Entering
// above the first tier is a move from the first tier; entering the first
// tier, or a member another review placed meanwhile, is no move.
func (r tierReview) enter(ctx context.Context, tx *store.Tx, c, want string) (string, bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO loyalty_tiers (customer_id, tier, since) VALUES ($1, $2, $3) ON CONFLICT (customer_id) DO NOTHING`,
		c, want, r.now.UnixMilli())
	if err != nil {
		return "", false, err
	}
	if n, _ := res.RowsAffected(); n == 0 || r.rank[want] == 0 {
		return "", false, nil
	}
	return r.p.Tiers[0].Name, true, nil
}

// everyMember adds to byMember, with the value 0, the customers who have a
// ledger or a reviewed tier but no value of the measure now.
func (s *Service) everyMember(ctx context.Context, byMember map[string]int64) error {
	var keys []string
	err := s.db.Each(ctx, `SELECT identity FROM loyalty_balances`, nil, func(r *sql.Rows) error {
		var k string
		err := r.Scan(&k)
		keys = append(keys, k)
		return err
	})
	if err != nil {
		return err
	}
	owners, err := profile.OwnersBy(ctx, s.profiles, keys, func(k string) string { return k })
	if err != nil {
		return err
	}
	for _, c := range owners {
		if _, ok := byMember[c]; !ok {
			byMember[c] = 0
		}
	}
	tiers, err := s.liveTiers(ctx)
	for c := range tiers {
		if _, ok := byMember[c]; !ok {
			byMember[c] = 0
		}
	}
	return err
}

// storedTier is the member's reviewed tier ("" when never reviewed).
func (s *Service) storedTier(ctx context.Context, customer string) (string, error) {
	var t string
	err := s.db.QueryRowContext(ctx, `SELECT tier FROM loyalty_tiers WHERE customer_id = $1`, customer).Scan(&t)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return t, err
}

// measures is every member's value of the program's measure.
func (s *Service) measures(ctx context.Context, p Program) (map[string]int64, error) {
	now := s.now()
	byMember := map[string]int64{}
	var q string
	var args []any
	switch p.Measure {
	case ByEngagement:
		var ids []string
		err := s.db.Each(ctx, `SELECT customer_id, score FROM engagement_scores`, nil, func(r *sql.Rows) error {
			var c string
			var v float64
			err := r.Scan(&c, &v)
			byMember[c] = int64(v)
			ids = append(ids, c)
			return err
		})
		if err != nil {
			return nil, err
		}
		ok, err := s.live(ctx, ids)
		for c := range byMember {
			if !ok[c] {
				delete(byMember, c)
			}
		}
		return byMember, err
	case BySpend:
		q, args = `SELECT user_id, anonymous_id, SUM(total) FROM loyalty_orders WHERE at >= $1 AND refunded_at IS NULL GROUP BY user_id, anonymous_id`,
			[]any{now.Add(-365 * 24 * time.Hour).UnixMilli()}
	default:
		q, args = `SELECT CASE WHEN identity LIKE 'u:%' THEN SUBSTR(identity, 3) ELSE '' END, CASE WHEN identity LIKE 'a:%' THEN SUBSTR(identity, 3) ELSE '' END,
			SUM(points) FROM loyalty_earned WHERE month >= $1 GROUP BY identity`, []any{now.UTC().AddDate(0, -11, 0).Format("2006-01")}
	}
	// By identity, then by member.
	var refs []eventlog.Event
	var values []float64
	err := s.db.Each(ctx, q, args, func(r *sql.Rows) error {
		var e eventlog.Event
		var v float64
		if err := r.Scan(&e.UserID, &e.AnonymousID, &v); err != nil {
			return err
		}
		refs, values = append(refs, e), append(values, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	owners, err := s.profiles.Owners(ctx, refs)
	if err != nil {
		return nil, err
	}
	sums := map[string]float64{}
	for i, r := range refs {
		if c := profile.OwnerOf(owners, r); c != "" {
			sums[c] += values[i]
		}
	}
	for c, v := range sums {
		byMember[c] = int64(math.Floor(v))
	}
	return byMember, nil
}

// measure is one member's value of the program's measure.
func (s *Service) measure(ctx context.Context, p Program, m member, earned12m int64) (int64, error) {
	switch p.Measure {
	case ByEngagement:
		e, err := s.EngagementOf(ctx, m.id)
		if err != nil {
			return 0, err
		}
		return int64(e.Score), nil
	case BySpend:
		where, args := m.where(2)
		var v float64
		err := s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(total), 0) FROM loyalty_orders WHERE at >= $1 AND refunded_at IS NULL AND `+where,
			append([]any{s.now().Add(-365 * 24 * time.Hour).UnixMilli()}, args...)...).Scan(&v)
		return int64(math.Floor(v)), err
	}
	return earned12m, nil
}

// someIdentity is an identity of a customer to write an event under.
func someIdentity(ctx context.Context, tx *store.Tx, customer string) (eventlog.Event, error) {
	user, anon, err := profile.SomeIdentityIn(ctx, tx, customer)
	return eventlog.Event{UserID: user, AnonymousID: anon}, err
}

// live tells which of the customers are live: known to profiles and not
// merged into another.
func (s *Service) live(ctx context.Context, ids []string) (map[string]bool, error) {
	surv, err := s.profiles.Survivors(ctx, ids)
	out := make(map[string]bool, len(surv))
	for id, to := range surv {
		if id == to {
			out[id] = true
		}
	}
	return out, err
}

// liveTiers is the tier of each live customer placed in one.
func (s *Service) liveTiers(ctx context.Context) (map[string]string, error) {
	tiers := map[string]string{}
	var ids []string
	err := s.db.Each(ctx, `SELECT customer_id, tier FROM loyalty_tiers`, nil, func(r *sql.Rows) error {
		var c, t string
		err := r.Scan(&c, &t)
		tiers[c] = t
		ids = append(ids, c)
		return err
	})
	if err != nil {
		return nil, err
	}
	ok, err := s.live(ctx, ids)
	for c := range tiers {
		if !ok[c] {
			delete(tiers, c)
		}
	}
	return tiers, err
}
