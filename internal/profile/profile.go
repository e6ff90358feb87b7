package profile

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// Customer is the merged profile of one person: the customer 360 core.
type Customer struct {
	ID         string         `json:"id"`
	Identities []Identity     `json:"identities"`
	Traits     map[string]any `json:"traits"`
	FirstSeen  store.Millis   `json:"firstSeen"`
	LastSeen   store.Millis   `json:"lastSeen"`
	EventCount int64          `json:"eventCount"`
	Channels   []ChannelUse   `json:"channels"`
	Accounts   []Membership   `json:"accounts"`
	Merges     []Merge        `json:"merges"`
}

// Identity is one way the customer was known.
type Identity struct {
	Kind      string       `json:"kind"`
	Value     string       `json:"value"`
	FirstSeen store.Millis `json:"firstSeen"`
}

// ChannelUse counts a customer's touchpoints in one channel.
type ChannelUse struct {
	Channel  string       `json:"channel"`
	Events   int64        `json:"events"`
	LastSeen store.Millis `json:"lastSeen"`
}

// Membership is a customer's place in a business account.
type Membership struct {
	AccountID string `json:"accountId"`
	Role      string `json:"role"`
}

// Merge records that profile From became part of this one, and why.
type Merge struct {
	From   string       `json:"from"`
	Reason string       `json:"reason"`
	At     store.Millis `json:"at"`
}

// Summary is a customer as listed in search results.
type Summary struct {
	ID string `json:"id"`
	// Name is what the business calls the customer, as Names gives it: a
	// name, else an email, else a user id or social handle ("" for a
	// visitor known by nothing else).
	Name       string         `json:"name"`
	Traits     map[string]any `json:"traits"`
	FirstSeen  store.Millis   `json:"firstSeen"`
	LastSeen   store.Millis   `json:"lastSeen"`
	EventCount int64          `json:"eventCount"`
}

// Name is the customer's display name from their traits, or "".
func (c Customer) Name() string { return displayName(c.Traits) }

func displayName(t map[string]any) string {
	if n, ok := t["name"].(string); ok && n != "" {
		return n
	}
	first, _ := t["firstName"].(string)
	last, _ := t["lastName"].(string)
	if n := strings.TrimSpace(first + " " + last); n != "" {
		return n
	}
	if e, ok := t["email"].(string); ok {
		return e
	}
	return ""
}

// Account is a business account (a Segment group) and its members.
type Account struct {
	ID        string         `json:"id"`
	Traits    map[string]any `json:"traits"`
	FirstSeen store.Millis   `json:"firstSeen"`
	LastSeen  store.Millis   `json:"lastSeen"`
	Members   []Member       `json:"members"`
}

// Member is a customer in an account, with their role there.
type Member struct {
	CustomerID string       `json:"customerId"`
	Name       string       `json:"name,omitempty"`
	Email      string       `json:"email,omitempty"`
	Role       string       `json:"role"`
	JoinedAt   store.Millis `json:"joinedAt"`
}

// Service reads profiles.
type Service struct {
	db        *store.DB
	now       func() time.Time
	sources   SegmentSources
	keys      keptRows // every key's owner, kept while exact (AllKeys)
	customers keptRows // every customer's merge, kept while exact (allMerged)
}

// NewService returns the profile read service; now is the clock segments
// are evaluated by (time.Now when nil).
func NewService(db *store.DB, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, now: now}
}

// Now is the service's clock.
func (s *Service) Now() time.Time { return s.now() }

// Resolve returns the id of the customer that ref names: a cus_ id (also of
// a profile since merged), a userId, an anonymousId, an email or a phone.
func (s *Service) Resolve(ctx context.Context, ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return "", fault.Field("id", "a customer id or identity is required")
	}
	if strings.HasPrefix(ref, "cus_") {
		var merged sql.NullString
		err := s.db.QueryRowContext(ctx, `SELECT merged_into FROM customers WHERE id = $1`, ref).Scan(&merged)
		if err == nil {
			if merged.Valid {
				return merged.String, nil
			}
			return ref, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", err
		}
	}
	rows, err := s.db.QueryContext(ctx, `SELECT kind, customer_id FROM identities WHERE
		(kind IN ('user_id', 'anonymous_id') AND value = $1) OR (kind = 'email' AND value = $2) OR (kind = 'phone' AND value = $3)`,
		ref, NormalizeEmail(ref), NormalizePhone(ref))
	if err != nil {
		return "", err
	}
	defer rows.Close()
	rank := map[string]int{KindUserID: 0, KindEmail: 1, KindAnonymousID: 2, KindPhone: 3}
	best, bestRank := "", 99
	for rows.Next() {
		var kind, cus string
		if err := rows.Scan(&kind, &cus); err != nil {
			return "", err
		}
		if rank[kind] < bestRank {
			best, bestRank = cus, rank[kind]
		}
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	if best == "" {
		return "", fault.New(fault.NotFound, "no customer is known by %q", ref)
	}
	return best, nil
}

// Names returns a display name (name, first and last name, else email,
// else userId or anonymousId) for each ref that names a known customer; refs are cus_ ids or any
// identity Resolve reads. Refs without a name are left out, for the caller
// to show the ref itself.
func (s *Service) Names(ctx context.Context, refs []string) (map[string]string, error) {
	idOf := map[string]string{}
	var ids []string
	for _, ref := range refs {
		if _, done := idOf[ref]; done || ref == "" {
			continue
		}
		if strings.HasPrefix(ref, "cus_") {
			// Contacts reads cus_ ids (following merges) in one query.
			idOf[ref] = ref
			ids = append(ids, ref)
			continue
		}
		id, err := s.Resolve(ctx, ref)
		if fault.Code(err) == fault.NotFound || fault.Code(err) == fault.Invalid {
			idOf[ref] = ""
			continue
		}
		if err != nil {
			return nil, err
		}
		idOf[ref] = id
		ids = append(ids, id)
	}
	contacts, err := s.Contacts(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for ref, id := range idOf {
		if c, ok := contacts[id]; ok {
			// A name, else an email, else the identities the business knows
			// them by (a social handle as the handle).
			anon := c.AnonymousID
			if h, ok := strings.CutPrefix(anon, "social:"); ok && h != "" {
				anon = h + " (social)"
			}
			for _, n := range []string{displayName(c.Traits), c.Email, c.UserID, anon} {
				if n != "" {
					out[ref] = n
					break
				}
			}
		}
	}
	return out, nil
}

// Get returns the merged profile of the customer ref names.
func (s *Service) Get(ctx context.Context, ref string) (Customer, error) {
	id, err := s.Resolve(ctx, ref)
	if err != nil {
		return Customer{}, err
	}
	c := Customer{ID: id, Identities: []Identity{}, Channels: []ChannelUse{}, Accounts: []Membership{}, Merges: []Merge{}}
	var traits string
	var first, last int64
	err = s.db.QueryRowContext(ctx, `SELECT traits, first_seen, last_seen, event_count FROM customers WHERE id = $1`, id).
		Scan(&traits, &first, &last, &c.EventCount)
	if errors.Is(err, sql.ErrNoRows) {
		return Customer{}, fault.New(fault.NotFound, "no customer %s", id)
	}
	if err != nil {
		return Customer{}, err
	}
	c.FirstSeen, c.LastSeen = store.Millis(first), store.Millis(last)
	if err := json.Unmarshal([]byte(traits), &c.Traits); err != nil {
		return Customer{}, err
	}
	if err := s.each(ctx, `SELECT kind, value, first_seen FROM identities WHERE customer_id = $1 ORDER BY first_seen, kind, value`, id, func(r *sql.Rows) error {
		var i Identity
		err := r.Scan(&i.Kind, &i.Value, &i.FirstSeen)
		c.Identities = append(c.Identities, i)
		return err
	}); err != nil {
		return Customer{}, err
	}
	if err := s.each(ctx, `SELECT channel, events, last_seen FROM customer_channels WHERE customer_id = $1 ORDER BY events DESC, channel`, id, func(r *sql.Rows) error {
		var u ChannelUse
		err := r.Scan(&u.Channel, &u.Events, &u.LastSeen)
		c.Channels = append(c.Channels, u)
		return err
	}); err != nil {
		return Customer{}, err
	}
	if err := s.each(ctx, `SELECT account_id, role FROM account_members WHERE customer_id = $1 ORDER BY account_id`, id, func(r *sql.Rows) error {
		var m Membership
		err := r.Scan(&m.AccountID, &m.Role)
		c.Accounts = append(c.Accounts, m)
		return err
	}); err != nil {
		return Customer{}, err
	}
	if err := s.each(ctx, `SELECT from_id, reason, at FROM customer_merges WHERE from_id IN (SELECT id FROM customers WHERE merged_into = $1) ORDER BY seq`, id, func(r *sql.Rows) error {
		var m Merge
		err := r.Scan(&m.From, &m.Reason, &m.At)
		c.Merges = append(c.Merges, m)
		return err
	}); err != nil {
		return Customer{}, err
	}
	return c, nil
}

func (s *Service) each(ctx context.Context, q string, arg any, fn func(*sql.Rows) error) error {
	return s.db.Each(ctx, q, []any{arg}, fn)
}

// Timeline returns the id of the customer ref names and their events across
// every channel in time order.
func (s *Service) Timeline(ctx context.Context, ref string, limit, offset int) (string, []eventlog.Event, error) {
	id, q, err := s.EventFilter(ctx, ref)
	if err != nil {
		return "", nil, err
	}
	q.ByTime, q.Limit, q.Offset = true, limit, offset
	events, err := eventlog.Read(ctx, s.db, q)
	return id, events, err
}

// EventFilter resolves ref and returns the customer's id with the log query
// that selects their events: those sent under any userId or anonymousId
// the customer used.
func (s *Service) EventFilter(ctx context.Context, ref string) (string, eventlog.Query, error) {
	id, err := s.Resolve(ctx, ref)
	if err != nil {
		return "", eventlog.Query{}, err
	}
	var ids []Identity
	err = s.each(ctx, `SELECT kind, value, first_seen FROM identities WHERE customer_id = $1 AND kind IN ('user_id', 'anonymous_id')`, id, func(r *sql.Rows) error {
		var i Identity
		err := r.Scan(&i.Kind, &i.Value, &i.FirstSeen)
		ids = append(ids, i)
		return err
	})
	return id, eventQuery(ids), err
}

// EventQuery is the log query that selects the events of a profile already read.
func (c Customer) EventQuery() eventlog.Query { return eventQuery(c.Identities) }

func eventQuery(ids []Identity) eventlog.Query {
	q := eventlog.Query{UserIDs: []string{}, AnonymousIDs: []string{}}
	for _, i := range ids {
		switch i.Kind {
		case KindUserID:
			q.UserIDs = append(q.UserIDs, i.Value)
		case KindAnonymousID:
			q.AnonymousIDs = append(q.AnonymousIDs, i.Value)
		}
	}
	return q
}

// Owners maps the userIds and anonymousIds of events to their customers.
func (s *Service) Owners(ctx context.Context, events []eventlog.Event) (map[string]string, error) {
	out := map[string]string{}
	seen := map[string]bool{}
	var values []any
	for _, e := range events {
		for _, v := range []string{e.UserID, e.AnonymousID} {
			if v != "" && !seen[v] {
				seen[v] = true
				values = append(values, v)
			}
		}
	}
	if len(values) >= wholeKeys {
		// Most of the customers: every key's owner, kept (AllKeys).
		all, err := s.AllKeys(ctx)
		if err != nil {
			return nil, err
		}
		for _, e := range events {
			if c := all["u:"+e.UserID]; e.UserID != "" && c != "" {
				out[KindUserID+":"+e.UserID] = c
			}
			if c := all["a:"+e.AnonymousID]; e.AnonymousID != "" && c != "" {
				out[KindAnonymousID+":"+e.AnonymousID] = c
			}
		}
		return out, nil
	}
	for len(values) > 0 {
		chunk := values[:min(200, len(values))]
		values = values[len(chunk):]
		ph := make([]string, len(chunk))
		for i := range chunk {
			ph[i] = fmt.Sprintf("$%d", i+1)
		}
		rows, err := s.db.QueryContext(ctx, `SELECT kind, value, customer_id FROM identities
			WHERE kind IN ('user_id', 'anonymous_id') AND value IN (`+strings.Join(ph, ",")+`)`, chunk...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var kind, value, cus string
			if err := rows.Scan(&kind, &value, &cus); err != nil {
				rows.Close()
				return nil, err
			}
			out[kind+":"+value] = cus
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// OwnerOf returns the customer of e from a map made by Owners.
func OwnerOf(owners map[string]string, e eventlog.Event) string {
	if c := owners[KindUserID+":"+e.UserID]; c != "" && e.UserID != "" {
		return c
	}
	if e.AnonymousID != "" {
		return owners[KindAnonymousID+":"+e.AnonymousID]
	}
	return ""
}

// Search finds customers by any identity (exact or prefix) or trait text.
// An empty q lists the most recently seen customers.
func (s *Service) Search(ctx context.Context, q string, limit, offset int) ([]Summary, error) {
	q = strings.ToLower(strings.TrimSpace(q))
	var rows *sql.Rows
	var err error
	const cols = `SELECT id, traits, first_seen, last_seen, event_count FROM customers`
	if q == "" {
		rows, err = s.db.QueryContext(ctx, cols+` WHERE merged_into IS NULL ORDER BY last_seen DESC, id LIMIT $1 OFFSET $2`, limit, offset)
	} else {
		like := "%" + store.EscapeLike(q) + "%"
		rows, err = s.db.QueryContext(ctx, cols+` WHERE merged_into IS NULL AND (id = $1 OR search LIKE $2 ESCAPE '\'
			OR id IN (SELECT customer_id FROM identities WHERE LOWER(value) LIKE $3 ESCAPE '\'))
			ORDER BY last_seen DESC, id LIMIT $4 OFFSET $5`, q, like, store.EscapeLike(q)+"%", limit, offset)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Summary{}
	for rows.Next() {
		var c Summary
		var traits string
		if err := rows.Scan(&c.ID, &traits, &c.FirstSeen, &c.LastSeen, &c.EventCount); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(traits), &c.Traits); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	ids := make([]string, len(out))
	for i, c := range out {
		ids[i] = c.ID
	}
	names, err := s.Names(ctx, ids)
	for i := range out {
		out[i].Name = names[out[i].ID]
	}
	return out, err
}

// Account returns a business account and its members with their roles.
func (s *Service) Account(ctx context.Context, id string) (Account, error) {
	a := Account{ID: id, Members: []Member{}}
	var traits string
	err := s.db.QueryRowContext(ctx, `SELECT traits, first_seen, last_seen FROM accounts WHERE id = $1`, id).Scan(&traits, &a.FirstSeen, &a.LastSeen)
	if errors.Is(err, sql.ErrNoRows) {
		return Account{}, fault.New(fault.NotFound, "no account %q", id)
	}
	if err != nil {
		return Account{}, err
	}
	if err := json.Unmarshal([]byte(traits), &a.Traits); err != nil {
		return Account{}, err
	}
	err = s.each(ctx, `SELECT m.customer_id, m.role, m.joined_at, c.traits FROM account_members m JOIN customers c ON c.id = m.customer_id
		WHERE m.account_id = $1 ORDER BY m.joined_at, m.customer_id`, id, func(r *sql.Rows) error {
		var m Member
		var traits string
		if err := r.Scan(&m.CustomerID, &m.Role, &m.JoinedAt, &traits); err != nil {
			return err
		}
		var t map[string]any
		_ = json.Unmarshal([]byte(traits), &t)
		m.Name = displayName(t)
		m.Email, _ = t["email"].(string)
		if m.Role == "" {
			m.Role, _ = t["role"].(string)
		}
		a.Members = append(a.Members, m)
		return nil
	})
	return a, err
}

// EachCustomer calls fn with the id of every customer (not merged away)
// until fn returns false.
func (s *Service) EachCustomer(ctx context.Context, fn func(id string) bool) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id FROM customers WHERE merged_into IS NULL`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		if !fn(id) {
			return nil
		}
	}
	return rows.Err()
}

// Key is the short key of an identity that projections store: "u:" and a
// userId, or "a:" and an anonymousId when there is no userId.
func Key(user, anon string) string {
	if user != "" {
		return "u:" + user
	}
	return "a:" + anon
}

// wholeKeys is how many keys KeyOwners looks up one by one (in chunks)
// before it reads every identity instead.
const wholeKeys = 1000

// KeyOwners maps identity keys (see Key) to their customers; a key whose
// identity is unknown is left out.
func (s *Service) KeyOwners(ctx context.Context, keys func(yield func(string) bool)) (map[string]string, error) {
	var refs []eventlog.Event
	seen := map[string]bool{}
	for k := range keys {
		if seen[k] {
			continue
		}
		seen[k] = true
		kind, v, _ := strings.Cut(k, ":")
		if kind == "u" {
			refs = append(refs, eventlog.Event{UserID: v})
		} else {
			refs = append(refs, eventlog.Event{AnonymousID: v})
		}
	}
	if len(refs) >= wholeKeys {
		// Most of the customers: one read of every identity (shared by
		// the reports of one request) costs less than a lookup each.
		all, err := s.AllKeys(ctx)
		if err != nil {
			return nil, err
		}
		out := make(map[string]string, len(seen))
		for k := range seen {
			if c := all[k]; c != "" {
				out[k] = c
			}
		}
		return out, nil
	}
	o, err := s.Owners(ctx, refs)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, r := range refs {
		if c := OwnerOf(o, r); c != "" {
			out[Key(r.UserID, r.AnonymousID)] = c
		}
	}
	return out, nil
}

// OwnersBy maps the identity keys of list's items (key gives each item's
// key, see Key) to their customers.
func OwnersBy[T any](ctx context.Context, s *Service, list []T, key func(T) string) (map[string]string, error) {
	return s.KeyOwners(ctx, func(yield func(string) bool) {
		for _, x := range list {
			if !yield(key(x)) {
				return
			}
		}
	})
}

// MergedInto maps every customer merged into another to the one it was
// merged into.
func (s *Service) MergedInto(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := s.db.Each(ctx, `SELECT id, merged_into FROM customers WHERE merged_into IS NOT NULL`, nil, func(r *sql.Rows) error {
		var id, into string
		err := r.Scan(&id, &into)
		out[id] = into
		return err
	})
	return out, err
}

// Live is a customer not merged into another, as EachLive gives it.
type Live struct {
	ID        string
	FirstSeen int64  // Unix ms
	LastSeen  int64  // Unix ms
	Traits    string // the traits as stored JSON
}

// EachLive calls fn for every customer not merged into another.
func (s *Service) EachLive(ctx context.Context, fn func(Live) error) error {
	return s.LiveOf(ctx, nil, fn)
}
