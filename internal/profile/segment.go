package profile

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
)

// Query selects a segment of customers by traits and behaviour. Every
// condition given must hold.
type Query struct {
	// Traits: each trait equals the value; a list means any of its values;
	// true / false for {"exists": …} test presence.
	Traits map[string]any `json:"traits,omitempty"`
	// Channels: the customer used at least one of these channels.
	Channels []string `json:"channels,omitempty"`
	// SeenWithinDays: the customer's last touchpoint is this recent.
	SeenWithinDays int `json:"seenWithinDays,omitempty"`
	// Did: the customer did an event at least Min times in the last WithinDays days.
	Did *Did `json:"did,omitempty"`
	// Account: the customer belongs to this business account.
	Account string `json:"account,omitempty"`
	// Engagement: the customer's engagement score (0–100) is in the range.
	Engagement *Range `json:"engagement,omitempty"`
	// CLV and Risk: the customer's computed lifetime value and risk (0–1)
	// are in the ranges.
	CLV  *Range `json:"clv,omitempty"`
	Risk *Range `json:"risk,omitempty"`
	// Saved: the customer is in this saved segment (by id or name).
	Saved string `json:"saved,omitempty"`
	// Tiers: the customer's loyalty tier is one of these.
	Tiers []string `json:"tiers,omitempty"`
}

// Range is a closed interval of a score; a bound left out is open.
type Range struct {
	Min *float64 `json:"min,omitempty"`
	Max *float64 `json:"max,omitempty"`
}

// Did is a behaviour condition of a segment.
type Did struct {
	Event      string `json:"event"`
	WithinDays int    `json:"withinDays,omitempty"`
	Min        int    `json:"min,omitempty"`
}

// Validate reports the first problem with the query, naming its field.
func (q *Query) Validate() error {
	if q.SeenWithinDays < 0 {
		return fault.Field("segment.seenWithinDays", "seenWithinDays cannot be negative")
	}
	for _, r := range []*Range{q.CLV, q.Risk} {
		if r != nil && r.Min != nil && r.Max != nil && *r.Min > *r.Max {
			return fault.Field("segment.clv", "a range's min is not above its max")
		}
	}
	if e := q.Engagement; e != nil {
		if (e.Min != nil && (*e.Min < 0 || *e.Min > 100)) || (e.Max != nil && (*e.Max < 0 || *e.Max > 100)) || (e.Min != nil && e.Max != nil && *e.Min > *e.Max) {
			return fault.Field("segment.engagement", "an engagement range lies within 0–100, min not above max")
		}
	}
	if q.Did != nil {
		if strings.TrimSpace(q.Did.Event) == "" {
			return fault.Field("segment.did.event", "a behaviour condition names an event")
		}
		if q.Did.WithinDays < 0 || q.Did.Min < 0 {
			return fault.Field("segment.did", "withinDays and min cannot be negative")
		}
	}
	return nil
}

// Contact is what reaching a customer needs: the identities to write their
// events under, the address, the language and their B2B role.
type Contact struct {
	ID          string
	UserID      string
	AnonymousID string
	Email       string
	Locale      string
	Role        string
	AccountID   string
	Traits      map[string]any
}

// SegmentSources answer the segment conditions on what other capabilities
// own: engagement and tiers (loyalty), lifetime value and risk
// (analytics). Each returns the customer ids that meet it; app wires them.
// A condition without its source matches no customer.
type SegmentSources struct {
	Engagement func(ctx context.Context, lo, hi float64) ([]string, error)
	CLV        func(ctx context.Context, lo, hi float64) ([]string, error)
	Risk       func(ctx context.Context, lo, hi float64) ([]string, error)
	Tiers      func(ctx context.Context, tiers []string) ([]string, error)
}

// SetSegmentSources gives segments the other capabilities' answers.
func (s *Service) SetSegmentSources(src SegmentSources) { s.sources = src }

// Members returns the ids of the customers in the segment, in id order.
func (s *Service) Members(ctx context.Context, q Query, now time.Time) ([]string, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	var c candidates
	if err := s.askSources(ctx, q, &c); err != nil {
		return nil, err
	}
	if err := s.ownConditions(ctx, q, &c); err != nil {
		return nil, err
	}
	if q.Saved != "" {
		list, err := s.savedMembers(ctx, q.Saved, now)
		if err != nil {
			return nil, err
		}
		c.restrictTo(list)
	}
	if q.Did != nil {
		ids, err := s.did(ctx, *q.Did, now)
		if err != nil {
			return nil, err
		}
		c.restrict(ids)
	}
	return s.matching(ctx, q, now, c.allow)
}

// candidates is who may be in a segment: the customers that every
// condition answered so far allows.
type candidates struct {
	allow map[string]bool // nil: no condition answered yet, anyone
}

// restrict keeps the candidates among ids.
func (c *candidates) restrict(ids map[string]bool) {
	if c.allow == nil {
		c.allow = ids
		return
	}
	for id := range c.allow {
		if !ids[id] {
			delete(c.allow, id)
		}
	}
}

// restrictTo keeps the candidates in list.
func (c *candidates) restrictTo(list []string) {
	ids := map[string]bool{}
	for _, id := range list {
		ids[id] = true
	}
	c.restrict(ids)
}

// askSources keeps the candidates that other capabilities place in the
// query's engagement, value and risk ranges and its tiers.
func (s *Service) askSources(ctx context.Context, q Query, c *candidates) error {
	for _, r := range []struct {
		rng    *Range
		source func(ctx context.Context, lo, hi float64) ([]string, error)
	}{{q.Engagement, s.sources.Engagement}, {q.CLV, s.sources.CLV}, {q.Risk, s.sources.Risk}} {
		if r.rng == nil {
			continue
		}
		lo, hi := -math.MaxFloat64, math.MaxFloat64
		if r.rng.Min != nil {
			lo = *r.rng.Min
		}
		if r.rng.Max != nil {
			hi = *r.rng.Max
		}
		if r.source == nil {
			c.restrict(map[string]bool{})
			continue
		}
		list, err := r.source(ctx, lo, hi)
		if err != nil {
			return err
		}
		c.restrictTo(list)
	}
	if len(q.Tiers) > 0 {
		if s.sources.Tiers == nil {
			c.restrict(map[string]bool{})
			return nil
		}
		list, err := s.sources.Tiers(ctx, q.Tiers)
		if err != nil {
			return err
		}
		c.restrictTo(list)
	}
	return nil
}

// ownConditions keeps the candidates who used one of the query's channels
// and who belong to its account.
func (s *Service) ownConditions(ctx context.Context, q Query, c *candidates) error {
	// Each condition that a query answers is a set of customer ids.
	type cond struct {
		q    string
		args []any
	}
	var conds []cond
	if len(q.Channels) > 0 {
		args := make([]any, len(q.Channels))
		for i, ch := range q.Channels {
			args[i] = ch
		}
		conds = append(conds, cond{`SELECT DISTINCT customer_id FROM customer_channels WHERE channel IN (` + params(1, len(args)) + `)`, args})
	}
	if q.Account != "" {
		conds = append(conds, cond{`SELECT customer_id FROM account_members WHERE account_id = $1`, []any{q.Account}})
	}
	for _, cd := range conds {
		ids := map[string]bool{}
		err := s.eachArgs(ctx, cd.q, cd.args, func(r *sql.Rows) error {
			var id string
			err := r.Scan(&id)
			ids[id] = true
			return err
		})
		if err != nil {
			return err
		}
		c.restrict(ids)
	}
	return nil
}

// savedMembers returns the members of the saved segment named (by id or
// name); a saved segment cannot contain itself.
func (s *Service) savedMembers(ctx context.Context, name string, now time.Time) ([]string, error) {
	saved, err := s.savedQuery(ctx, name)
	if err != nil {
		return nil, err
	}
	if saved.Saved != "" && saved.Saved == name {
		return nil, fault.Field("segment.saved", "a segment cannot contain itself")
	}
	return s.Members(ctx, saved, now)
}

// matching returns, in id order, the live customers among those allowed
// (anyone when nil) who were seen within the query's days and whose traits
// match its own.
func (s *Service) matching(ctx context.Context, q Query, now time.Time, allow map[string]bool) ([]string, error) {
	var since int64
	if q.SeenWithinDays > 0 {
		since = now.Add(-time.Duration(q.SeenWithinDays) * 24 * time.Hour).UnixMilli()
	}
	var out []string
	err := s.eachArgs(ctx, `SELECT id, traits FROM customers WHERE merged_into IS NULL AND last_seen >= $1 ORDER BY id`, []any{since}, func(r *sql.Rows) error {
		var id, traits string
		if err := r.Scan(&id, &traits); err != nil {
			return err
		}
		if allow != nil && !allow[id] {
			return nil
		}
		if len(q.Traits) > 0 {
			var t map[string]any
			if err := json.Unmarshal([]byte(traits), &t); err != nil {
				return err
			}
			if !traitsMatch(t, q.Traits) {
				return nil
			}
		}
		out = append(out, id)
		return nil
	})
	return out, err
}

// did returns the customers who did d.Event at least d.Min times recently.
func (s *Service) did(ctx context.Context, d Did, now time.Time) (map[string]bool, error) {
	var since int64
	if d.WithinDays > 0 {
		since = now.Add(-time.Duration(d.WithinDays) * 24 * time.Hour).UnixMilli()
	}
	perIdentity := map[string]int{} // "user_id:x" or "anonymous_id:y" → events
	err := eventlog.EachTracked(ctx, s.db, d.Event, since, func(user, anon string) error {
		if user != "" {
			perIdentity[KindUserID+":"+user]++
		} else if anon != "" {
			perIdentity[KindAnonymousID+":"+anon]++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	values := map[string]bool{}
	for k := range perIdentity {
		_, v, _ := strings.Cut(k, ":")
		values[v] = true
	}
	counts := map[string]int{}
	err = s.chunks(ctx, keys(values), `SELECT kind, value, customer_id FROM identities
		WHERE kind IN ('user_id', 'anonymous_id') AND value IN (%s)`, func(r *sql.Rows) error {
		var kind, value, id string
		if err := r.Scan(&kind, &value, &id); err != nil {
			return err
		}
		counts[id] += perIdentity[kind+":"+value]
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Identities point at the profile they joined; follow later merges.
	ids := map[string]bool{}
	need := max(d.Min, 1)
	final, err := s.current(ctx, keys(counts))
	if err != nil {
		return nil, err
	}
	total := map[string]int{}
	for id, n := range counts {
		total[final[id]] += n
	}
	for id, n := range total {
		if n >= need {
			ids[id] = true
		}
	}
	return ids, nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// current maps customer ids to the profile each now belongs to.
func (s *Service) current(ctx context.Context, ids []string) (map[string]string, error) {
	out := make(map[string]string, len(ids))
	err := s.chunks(ctx, ids, `SELECT id, COALESCE(merged_into, id) FROM customers WHERE id IN (%s)`, func(r *sql.Rows) error {
		var id, into string
		err := r.Scan(&id, &into)
		out[id] = into
		return err
	})
	for _, id := range ids {
		if out[id] == "" {
			out[id] = id
		}
	}
	return out, err
}

// Live tells which of ids are customers not merged into another.
func (s *Service) Live(ctx context.Context, ids []string) (map[string]bool, error) {
	out := make(map[string]bool, len(ids))
	err := s.chunks(ctx, ids, `SELECT id FROM customers WHERE merged_into IS NULL AND id IN (%s)`, func(r *sql.Rows) error {
		var id string
		err := r.Scan(&id)
		out[id] = true
		return err
	})
	return out, err
}

// Contacts returns, for each customer id (merged-away ids follow their
// merge), how to reach them. Unknown ids are left out.
func (s *Service) Contacts(ctx context.Context, ids []string) (map[string]Contact, error) {
	final, err := s.current(ctx, ids)
	if err != nil {
		return nil, err
	}
	want := map[string]bool{}
	for _, id := range final {
		want[id] = true
	}
	byID := map[string]*Contact{}
	err = s.chunks(ctx, keys(want), `SELECT id, traits FROM customers WHERE id IN (%s)`, func(r *sql.Rows) error {
		c := &Contact{}
		var traits string
		if err := r.Scan(&c.ID, &traits); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(traits), &c.Traits); err != nil {
			return err
		}
		c.Email = NormalizeEmail(c.Traits["email"])
		c.Locale, _ = c.Traits["locale"].(string)
		c.Role, _ = c.Traits["role"].(string)
		byID[c.ID] = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The kinds are picked in Go: a kind condition in SQL leads SQLite to the
	// (kind, value) key and a scan of every identity of those kinds.
	err = s.chunks(ctx, keys(want), `SELECT customer_id, kind, value FROM identities
		WHERE customer_id IN (%s) ORDER BY first_seen, value`, func(r *sql.Rows) error {
		var id, kind, value string
		if err := r.Scan(&id, &kind, &value); err != nil {
			return err
		}
		c := byID[id]
		if c == nil {
			return nil
		}
		switch {
		case kind == KindUserID && c.UserID == "":
			c.UserID = value
		case kind == KindAnonymousID && c.AnonymousID == "":
			c.AnonymousID = value
		case kind == KindEmail && c.Email == "":
			c.Email = value
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = s.chunks(ctx, keys(want), `SELECT customer_id, account_id, role FROM account_members WHERE customer_id IN (%s) ORDER BY joined_at, account_id`, func(r *sql.Rows) error {
		var id, account, role string
		if err := r.Scan(&id, &account, &role); err != nil {
			return err
		}
		if c := byID[id]; c != nil && c.AccountID == "" {
			c.AccountID = account
			if role != "" {
				c.Role = role
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make(map[string]Contact, len(ids))
	for _, id := range ids {
		if c := byID[final[id]]; c != nil {
			out[id] = *c
		}
	}
	return out, nil
}

// chunks runs a query whose %s is an IN list over ids, 200 at a time.
func (s *Service) chunks(ctx context.Context, ids []string, query string, fn func(*sql.Rows) error) error {
	for len(ids) > 0 {
		n := min(200, len(ids))
		args := make([]any, n)
		for i := range n {
			args[i] = ids[i]
		}
		ids = ids[n:]
		if err := s.eachArgs(ctx, fmt.Sprintf(query, params(1, n)), args, fn); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) eachArgs(ctx context.Context, q string, args []any, fn func(*sql.Rows) error) error {
	return s.db.Each(ctx, q, args, fn)
}

func params(first, n int) string {
	ph := make([]string, n)
	for i := range ph {
		ph[i] = fmt.Sprintf("$%d", first+i)
	}
	return strings.Join(ph, ",")
}

// traitsMatch reports whether every wanted trait holds.
func traitsMatch(t map[string]any, want map[string]any) bool {
	for k, w := range want {
		v, ok := t[k]
		switch w := w.(type) {
		case map[string]any:
			if e, has := w["exists"].(bool); has && e != ok {
				return false
			}
		case []any:
			hit := false
			for _, x := range w {
				if ok && sameValue(v, x) {
					hit = true
					break
				}
			}
			if !hit {
				return false
			}
		default:
			if !ok || !sameValue(v, w) {
				return false
			}
		}
	}
	return true
}

func sameValue(a, b any) bool {
	return strings.EqualFold(fmt.Sprint(a), fmt.Sprint(b))
}
