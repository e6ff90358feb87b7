package profile

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/eventlog"
)

// The lookups below answer other capabilities' questions about customers
// and identities. Those ending in In read through q: a caller inside its
// own transaction passes it, to see what the transaction wrote (on SQLite
// a projection step's transaction holds what the profile consumer wrote
// before it in the same step).

// eachIn runs q's query head + "(…)" for the values, in chunks.
func eachIn(ctx context.Context, q eventlog.Querier, head string, values []string, fn func(*sql.Rows) error) error {
	for len(values) > 0 {
		n := min(len(values), 500)
		ph := make([]string, n)
		args := make([]any, n)
		for i := range ph {
			ph[i], args[i] = "$"+strconv.Itoa(i+1), values[i]
		}
		rows, err := q.QueryContext(ctx, head+"("+strings.Join(ph, ",")+")", args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := fn(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		values = values[n:]
	}
	return nil
}

// SurvivorsIn maps each of ids that is a customer's id, also of a profile
// since merged into another, to the id of the customer that holds it now
// (itself when not merged). Ids no customer has are left out.
func SurvivorsIn(ctx context.Context, q eventlog.Querier, ids []string) (map[string]string, error) {
	live := map[string]bool{}
	into := map[string]string{} // a merged profile → the one it joined
	asked := map[string]bool{}
	next := ids
	// A merge repoints the profiles merged before into the one that
	// joined: one step is the rule, a few more are followed to be safe.
	for range 16 {
		var ask []string
		for _, id := range next {
			asked[id] = true
		}
		err := eachIn(ctx, q, `SELECT id, merged_into FROM customers WHERE id IN `, next, func(r *sql.Rows) error {
			var id string
			var m sql.NullString
			if err := r.Scan(&id, &m); err != nil {
				return err
			}
			if !m.Valid {
				live[id] = true
				return nil
			}
			into[id] = m.String
			if !asked[m.String] {
				asked[m.String] = true
				ask = append(ask, m.String)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if next = ask; len(next) == 0 {
			break
		}
	}
	out := map[string]string{}
	for _, id := range ids {
		at := id
		for range 16 {
			if live[at] {
				out[id] = at
				break
			}
			m, ok := into[at]
			if !ok {
				break
			}
			at = m
		}
	}
	return out, nil
}

// Survivors is SurvivorsIn on the profiles' database.
//
// Most customers' survivors are found in every customer's merges, kept
// between reads (allMerged), rather than asked for in chunks.
func (s *Service) Survivors(ctx context.Context, ids []string) (map[string]string, error) {
	if len(ids) < wholeKeys {
		return SurvivorsIn(ctx, s.db, ids)
	}
	into, err := s.allMerged(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, id := range ids {
		at := id
		for range 16 { // as SurvivorsIn follows them
			m, ok := into[at]
			if !ok {
				break // no such customer
			}
			if m == "" {
				out[id] = at
				break
			}
			at = m
		}
	}
	return out, nil
}

// SurvivorIn is the id of the customer that holds the profile id now: id
// itself when it is not merged into another, or when no customer has it.
func SurvivorIn(ctx context.Context, q eventlog.Querier, id string) (string, error) {
	m, err := SurvivorsIn(ctx, q, []string{id})
	if c, ok := m[id]; ok {
		return c, err
	}
	return id, err
}

// ByIdentityIn is the customer known by value as a userId, an email (as
// stored) or an anonymousId, in that order ("" when none).
func ByIdentityIn(ctx context.Context, q eventlog.Querier, value string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT customer_id FROM identities WHERE value = $1 AND kind IN ('user_id', 'anonymous_id', 'email')
		ORDER BY kind DESC LIMIT 1`, value).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// IDsIn lists the id of every customer, also of the profiles merged into
// another, but for those in except.
func IDsIn(ctx context.Context, q eventlog.Querier, except map[string]bool) ([]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT id FROM customers`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if !except[id] {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}

// SomeIdentityIn is an identity of a customer to write an event under: its
// first userId, else its first anonymousId (both "" when it has neither).
func SomeIdentityIn(ctx context.Context, q eventlog.Querier, customer string) (userID, anonymousID string, err error) {
	var kind, value string
	err = q.QueryRowContext(ctx, `SELECT kind, value FROM identities WHERE customer_id = $1 AND kind IN ('user_id', 'anonymous_id')
		ORDER BY kind DESC, first_seen LIMIT 1`, customer).Scan(&kind, &value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if kind == KindUserID {
		return value, "", err
	}
	return "", value, err
}

// LiveOf calls fn for each customer among ids that is not merged into
// another (every such customer when ids is nil).
func (s *Service) LiveOf(ctx context.Context, ids []string, fn func(Live) error) error {
	const q = `SELECT id, first_seen, last_seen, traits FROM customers WHERE merged_into IS NULL`
	each := func(r *sql.Rows) error {
		var c Live
		if err := r.Scan(&c.ID, &c.FirstSeen, &c.LastSeen, &c.Traits); err != nil {
			return err
		}
		return fn(c)
	}
	if ids == nil {
		return s.db.Each(ctx, q, nil, each)
	}
	return eachIn(ctx, s.db, q+` AND id IN `, ids, each)
}

// Keys maps the identity keys (see Key) of the customers' userIds and
// anonymousIds to the customers (of every customer when customers is nil).
func (s *Service) Keys(ctx context.Context, customers []string) (map[string]string, error) {
	out := map[string]string{}
	const q = `SELECT kind, value, customer_id FROM identities WHERE kind IN ('user_id', 'anonymous_id')`
	each := func(r *sql.Rows) error { return keyRow(r, out) }
	if customers == nil {
		return out, s.db.Each(ctx, q, nil, each)
	}
	return out, eachIn(ctx, s.db, q+` AND customer_id IN `, customers, each)
}

// keyRow adds one identity's row (kind, value, customer_id) to out by its
// key (see Key).
func keyRow(r *sql.Rows, out map[string]string) error {
	var kind, value, c string
	if err := r.Scan(&kind, &value, &c); err != nil {
		return err
	}
	switch kind {
	case KindUserID:
		out[Key(value, "")] = c
	case KindAnonymousID:
		out["a:"+value] = c
	}
	return nil
}
