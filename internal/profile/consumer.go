package profile

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/store"
)

// Consumer projects the event log into profiles. It is the only writer of
// the customers, identities, customer_channels, customer_merges, accounts
// and account_members tables.
type Consumer struct {
	db    *store.DB
	idKey []byte
}

// NewConsumer returns the profile consumer. idKey is the installation's
// secret that customer ids are derived with (IDKey); empty derives them as
// versions before it did, from the identity alone.
func NewConsumer(db *store.DB, idKey string) *Consumer {
	c := &Consumer{db: db}
	if idKey != "" {
		c.idKey = []byte(idKey)
	}
	return c
}

// Name is the consumer's checkpoint name.
func (c *Consumer) Name() string { return "profile" }

// Reset empties every profile table.
func (c *Consumer) Reset(ctx context.Context, tx *store.Tx) error {
	for _, t := range []string{"customers", "identities", "customer_channels", "customer_merges", "accounts", "account_members"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
			return err
		}
	}
	return nil
}

// Apply resolves each event to one customer, merging profiles the event
// shows to be the same person, and updates traits, counts and accounts.
// A batch's identities are read in a few queries and its counters written
// once per customer, so that the statements (on PostgreSQL, round trips)
// grow with the customers a batch touches rather than with its events.
func (c *Consumer) Apply(ctx context.Context, tx *store.Tx, events []eventlog.Event) error {
	b := &batch{ctx: ctx, tx: tx, ids: map[ident]*identState{}}
	b.reset()
	msgs := make([]eventlog.Message, len(events))
	var want []ident
	for i := range events {
		if events[i].SourceID == eventlog.SourceActions {
			continue // what the business did to a customer is not the customer's touchpoint
		}
		m, err := events[i].Message()
		if err != nil {
			continue // the log only holds validated JSON; nothing to project
		}
		msgs[i] = m
		want = append(want, identities(&events[i], &m)...)
		if events[i].Type == eventlog.Alias && m.PreviousID != "" {
			want = append(want, ident{KindUserID, m.PreviousID}, ident{KindAnonymousID, m.PreviousID})
		}
	}
	if err := b.load(want); err != nil {
		return err
	}
	for i := range events {
		if msgs[i].Type == "" {
			continue
		}
		if err := b.apply(c, &events[i], &msgs[i]); err != nil {
			return fmt.Errorf("event %d: %w", events[i].Seq, err)
		}
	}
	return b.flush()
}

// identities are the identities an event names itself.
func identities(e *eventlog.Event, m *eventlog.Message) []ident {
	var ids []ident
	if e.UserID != "" {
		ids = append(ids, ident{KindUserID, e.UserID})
	}
	if e.AnonymousID != "" {
		ids = append(ids, ident{KindAnonymousID, e.AnonymousID})
	}
	traits := m.Context.Traits
	if e.Type == eventlog.Identify {
		traits = m.Traits
	}
	if v := NormalizeEmail(traits["email"]); v != "" {
		ids = append(ids, ident{KindEmail, v})
	}
	if v := NormalizePhone(traits["phone"]); v != "" {
		ids = append(ids, ident{KindPhone, v})
	}
	return ids
}

type identState struct {
	customer  string
	firstSeen int64
	dirty     bool // firstSeen moved earlier and is not written yet
}

type counter struct{ events, first, last int64 }

func (c *counter) add(at int64) {
	if c.events == 0 {
		c.first, c.last = at, at
	}
	c.events++
	c.first, c.last = min(c.first, at), max(c.last, at)
}

type channelKey struct{ customer, channel string }

// batch is the consumer's view of its tables while it applies one batch:
// every identity the batch names, and the changes not yet written.
type batch struct {
	ctx      context.Context
	tx       *store.Tx
	ids      map[ident]*identState
	counts   map[string]*counter
	channels map[channelKey]*counter
	traits   map[string]traitSet
	changed  map[string]bool // customers whose traits changed
}

func (b *batch) reset() {
	b.counts = map[string]*counter{}
	b.channels = map[channelKey]*counter{}
	b.traits = map[string]traitSet{}
	b.changed = map[string]bool{}
}

// load reads the stored identities among want.
func (b *batch) load(want []ident) error {
	seen := map[string]bool{}
	var values []any
	for _, id := range want {
		if !seen[id.value] {
			seen[id.value] = true
			values = append(values, id.value)
		}
	}
	const per = 200
	for len(values) > 0 {
		chunk := values[:min(per, len(values))]
		values = values[len(chunk):]
		ph := make([]string, len(chunk))
		for i := range chunk {
			ph[i] = fmt.Sprintf("$%d", i+1)
		}
		rows, err := b.tx.QueryContext(b.ctx, `SELECT kind, value, customer_id, first_seen FROM identities WHERE value IN (`+strings.Join(ph, ",")+`)`, chunk...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id ident
			st := &identState{}
			if err := rows.Scan(&id.kind, &id.value, &st.customer, &st.firstSeen); err != nil {
				rows.Close()
				return err
			}
			b.ids[id] = st
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

// apply resolves one event to its customer, making a profile for an event
// of someone new and merging the profiles it shows to be one person, and
// adds the event to the customer's counts, traits and accounts.
func (b *batch) apply(c *Consumer, e *eventlog.Event, m *eventlog.Message) error {
	ids := b.named(e, m)
	if len(ids) == 0 {
		return nil
	}
	owners, found, missing := b.owners(ids, e.Timestamp)
	var cus string
	switch len(found) {
	case 0:
		cus = c.customerID(ids[0])
		if _, err := b.tx.ExecContext(b.ctx, `INSERT INTO customers (id, traits, trait_times, first_seen, last_seen, event_count, created_seq, search)
			VALUES ($1, '{}', '{}', $2, $2, 0, $3, '') ON CONFLICT (id) DO NOTHING`, cus, e.Timestamp, e.Seq); err != nil {
			return err
		}
	case 1:
		cus = found[0]
	default:
		var err error
		if cus, err = b.mergeAll(c, e, owners, found); err != nil {
			return err
		}
	}
	if err := b.addIdentities(missing, cus, e); err != nil {
		return err
	}
	b.count(cus, e)
	if e.Type == eventlog.Identify && len(m.Traits) > 0 {
		if err := b.identify(cus, m.Traits, e.Timestamp); err != nil {
			return err
		}
	}
	if e.Type == eventlog.Group && m.GroupID != "" {
		if err := c.group(b.ctx, b.tx, cus, m, e.Timestamp); err != nil {
			return err
		}
	}
	return nil
}

// named is the identities an event names: its own, and for an alias the
// previous id.
func (b *batch) named(e *eventlog.Event, m *eventlog.Message) []ident {
	ids := identities(e, m)
	if e.Type == eventlog.Alias && m.PreviousID != "" {
		// previousId names a known userId or anonymousId, else a new userId.
		prev := ident{KindUserID, m.PreviousID}
		if b.ids[prev] == nil && b.ids[ident{KindAnonymousID, m.PreviousID}] != nil {
			prev = ident{KindAnonymousID, m.PreviousID}
		}
		ids = append(ids, prev)
	}
	return ids
}

// owners tells which customers the identities already belong to: for each
// customer the first of ids that is theirs, the customers in the order
// found, and the identities no customer has yet. An identity seen at a
// time before its first seen (events may arrive out of time order) is
// first seen then.
func (b *batch) owners(ids []ident, at int64) (map[string]ident, []string, []ident) {
	owners := map[string]ident{}
	var found []string
	var missing []ident
	for _, id := range ids {
		st := b.ids[id]
		if st == nil {
			missing = append(missing, id)
			continue
		}
		if at < st.firstSeen {
			st.firstSeen, st.dirty = at, true
		}
		if _, ok := owners[st.customer]; !ok {
			owners[st.customer] = id
			found = append(found, st.customer)
		}
	}
	return owners, found, missing
}

// mergeAll merges the profiles an event shows to be one person into the
// oldest of them, and returns it.
func (b *batch) mergeAll(c *Consumer, e *eventlog.Event, owners map[string]ident, found []string) (string, error) {
	// Pending changes are written first, since the merge reads them.
	if err := b.flush(); err != nil {
		return "", err
	}
	sort.Strings(found)
	keep, err := c.oldest(b.ctx, b.tx, found)
	if err != nil {
		return "", err
	}
	for _, other := range found {
		if other == keep {
			continue
		}
		reason := fmt.Sprintf("%s %s links %s (%s) with %s (%s)", e.Type, e.MessageID, owners[keep], keep, owners[other], other)
		if err := c.merge(b.ctx, b.tx, other, keep, reason, e); err != nil {
			return "", err
		}
		for _, st := range b.ids {
			if st.customer == other {
				st.customer = keep
			}
		}
	}
	return keep, nil
}

// addIdentities gives the customer the identities the event named first.
func (b *batch) addIdentities(missing []ident, cus string, e *eventlog.Event) error {
	for _, id := range missing {
		if b.ids[id] != nil {
			continue // named twice by this event
		}
		if _, err := b.tx.ExecContext(b.ctx, `INSERT INTO identities (kind, value, customer_id, first_seen, seq) VALUES ($1, $2, $3, $4, $5)`,
			id.kind, id.value, cus, e.Timestamp, e.Seq); err != nil {
			return err
		}
		b.ids[id] = &identState{customer: cus, firstSeen: e.Timestamp}
	}
	return nil
}

// count adds the event to the customer's counts, overall and on its
// channel. What cxloop did to the customer (an invitation sent, a case
// escalated, points expired) is not the customer's touch: it counts in
// neither their events nor when they were last seen.
func (b *batch) count(cus string, e *eventlog.Event) {
	if e.SourceID == eventlog.SourceActions {
		return
	}
	if b.counts[cus] == nil {
		b.counts[cus] = &counter{}
	}
	b.counts[cus].add(e.Timestamp)
	ck := channelKey{cus, e.Channel}
	if b.channels[ck] == nil {
		b.channels[ck] = &counter{}
	}
	b.channels[ck].add(e.Timestamp)
}

// identify merges traits an identify call gave at a time into the
// customer's traits.
func (b *batch) identify(cus string, traits map[string]any, at int64) error {
	t, ok := b.traits[cus]
	if !ok {
		var err error
		if t, err = loadTraits(b.ctx, b.tx, "customers", cus); err != nil {
			return err
		}
		b.traits[cus] = t
	}
	if t.merge(traitsAt(traits, at)) {
		b.changed[cus] = true
	}
	return nil
}

// flush writes the batch's pending changes once per customer, channel and
// identity, in a fixed order so that a replay writes the same.
func (b *batch) flush() error {
	ctx, tx := b.ctx, b.tx
	for _, cus := range sortedKeys(b.counts) {
		c := b.counts[cus]
		if _, err := tx.ExecContext(ctx, `UPDATE customers SET event_count = event_count + $1,
			first_seen = CASE WHEN first_seen > $2 THEN $2 ELSE first_seen END,
			last_seen = CASE WHEN last_seen < $3 THEN $3 ELSE last_seen END WHERE id = $4`, c.events, c.first, c.last, cus); err != nil {
			return err
		}
	}
	keys := make([]channelKey, 0, len(b.channels))
	for k := range b.channels {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].customer < keys[j].customer || keys[i].customer == keys[j].customer && keys[i].channel < keys[j].channel
	})
	for _, k := range keys {
		c := b.channels[k]
		if _, err := tx.ExecContext(ctx, `INSERT INTO customer_channels (customer_id, channel, events, last_seen) VALUES ($1, $2, $3, $4)
			ON CONFLICT (customer_id, channel) DO UPDATE SET events = customer_channels.events + excluded.events,
			last_seen = CASE WHEN customer_channels.last_seen < excluded.last_seen THEN excluded.last_seen ELSE customer_channels.last_seen END`,
			k.customer, k.channel, c.events, c.last); err != nil {
			return err
		}
	}
	for _, cus := range sortedKeys(b.changed) {
		if err := saveTraits(ctx, tx, cus, b.traits[cus]); err != nil {
			return err
		}
	}
	for id, st := range b.ids {
		if st.dirty {
			if _, err := tx.ExecContext(ctx, `UPDATE identities SET first_seen = $1 WHERE kind = $2 AND value = $3`, st.firstSeen, id.kind, id.value); err != nil {
				return err
			}
			st.dirty = false
		}
	}
	b.reset()
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// customerID derives a stable id from the identity that created the
// profile, so that a replay rebuilds the same ids. With the installation's
// key it is an HMAC: nobody without the key can tell from an email which id
// its customer had (or has, after an erasure, on the suppression list).
func (c *Consumer) customerID(first ident) string {
	msg := []byte(first.kind + "\x00" + first.value)
	var sum []byte
	if c.idKey != nil {
		m := hmac.New(sha256.New, c.idKey)
		m.Write(msg)
		sum = m.Sum(nil)
	} else {
		s := sha256.Sum256(msg)
		sum = s[:]
	}
	return "cus_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum)[:20])
}

// HasProfiles reports whether any profile exists (an installation that
// already derived ids keeps deriving them as it did).
func HasProfiles(ctx context.Context, db *store.DB) (bool, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM customers LIMIT 1) x`).Scan(&n)
	return n > 0, err
}

func (c *Consumer) oldest(ctx context.Context, tx *store.Tx, ids []string) (string, error) {
	best, bestSeq := "", int64(-1)
	for _, id := range ids {
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT created_seq FROM customers WHERE id = $1`, id).Scan(&seq); err != nil {
			return "", fmt.Errorf("customer %s: %w", id, err)
		}
		if bestSeq < 0 || seq < bestSeq {
			best, bestSeq = id, seq
		}
	}
	return best, nil
}

// merge folds customer from into customer into, keeping a record of why.
func (c *Consumer) merge(ctx context.Context, tx *store.Tx, from, into, reason string, e *eventlog.Event) error {
	f, err := loadTraits(ctx, tx, "customers", from)
	if err != nil {
		return err
	}
	var fromFirst, fromLast, fromCount int64
	if err := tx.QueryRowContext(ctx, `SELECT first_seen, last_seen, event_count FROM customers WHERE id = $1`, from).
		Scan(&fromFirst, &fromLast, &fromCount); err != nil {
		return err
	}
	stmts := []struct {
		q    string
		args []any
	}{
		{`UPDATE identities SET customer_id = $1 WHERE customer_id = $2`, []any{into, from}},
		{`UPDATE customers SET merged_into = $1 WHERE id = $2 OR merged_into = $2`, []any{into, from}},
		{`UPDATE customers SET event_count = event_count + $1,
			first_seen = CASE WHEN first_seen > $2 THEN $2 ELSE first_seen END,
			last_seen = CASE WHEN last_seen < $3 THEN $3 ELSE last_seen END WHERE id = $4`, []any{fromCount, fromFirst, fromLast, into}},
		{`INSERT INTO customer_channels (customer_id, channel, events, last_seen)
			SELECT $1, channel, events, last_seen FROM customer_channels WHERE customer_id = $2
			ON CONFLICT (customer_id, channel) DO UPDATE SET events = customer_channels.events + excluded.events,
			last_seen = CASE WHEN customer_channels.last_seen < excluded.last_seen THEN excluded.last_seen ELSE customer_channels.last_seen END`, []any{into, from}},
		{`DELETE FROM customer_channels WHERE customer_id = $1`, []any{from}},
		{`INSERT INTO account_members (account_id, customer_id, role, joined_at)
			SELECT account_id, $1, role, joined_at FROM account_members WHERE customer_id = $2
			ON CONFLICT (account_id, customer_id) DO NOTHING`, []any{into, from}},
		{`DELETE FROM account_members WHERE customer_id = $1`, []any{from}},
		{`INSERT INTO customer_merges (from_id, into_id, reason, seq, at) VALUES ($1, $2, $3, $4, $5)`, []any{from, into, reason, e.Seq, e.Timestamp}},
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s.q, s.args...); err != nil {
			return err
		}
	}
	return c.setTraits(ctx, tx, into, f)
}

type traitSet struct {
	values map[string]any
	times  map[string]int64
}

func loadTraits(ctx context.Context, tx *store.Tx, table, id string) (traitSet, error) {
	t := traitSet{values: map[string]any{}, times: map[string]int64{}}
	var values, times string
	if err := tx.QueryRowContext(ctx, `SELECT traits, trait_times FROM `+table+` WHERE id = $1`, id).Scan(&values, &times); err != nil {
		return t, err
	}
	if err := json.Unmarshal([]byte(values), &t.values); err != nil {
		return t, err
	}
	return t, json.Unmarshal([]byte(times), &t.times)
}

// traitsAt is a set of traits all observed at one time.
func traitsAt(values map[string]any, at int64) traitSet {
	t := traitSet{values: values, times: make(map[string]int64, len(values))}
	for k := range values {
		t.times[k] = at
	}
	return t
}

// merge takes each trait of in that is not older than the one held, so
// that a late-arriving older identify never overwrites a newer value.
func (t traitSet) merge(in traitSet) bool {
	changed := false
	for k, v := range in.values {
		at := in.times[k]
		if held, ok := t.times[k]; ok && held > at {
			continue
		}
		t.values[k] = v
		t.times[k] = at
		changed = true
	}
	return changed
}

func (c *Consumer) setTraits(ctx context.Context, tx *store.Tx, cus string, in traitSet) error {
	t, err := loadTraits(ctx, tx, "customers", cus)
	if err != nil {
		return err
	}
	if !t.merge(in) {
		return nil
	}
	return saveTraits(ctx, tx, cus, t)
}

func saveTraits(ctx context.Context, tx *store.Tx, cus string, t traitSet) error {
	values, _ := json.Marshal(t.values)
	times, _ := json.Marshal(t.times)
	_, err := tx.ExecContext(ctx, `UPDATE customers SET traits = $1, trait_times = $2, search = $3 WHERE id = $4`,
		string(values), string(times), searchText(t.values), cus)
	return err
}

// searchText is the lower-cased text of a profile's trait values (nested
// ones too) that ?q= matches.
func searchText(traits map[string]any) string {
	var b strings.Builder
	var walk func(v any, depth int)
	walk = func(v any, depth int) {
		switch t := v.(type) {
		case string:
			b.WriteString(strings.ToLower(t))
			b.WriteByte('\n')
		case float64, bool:
			fmt.Fprintf(&b, "%v\n", t)
		case map[string]any:
			if depth > 3 {
				return
			}
			keys := make([]string, 0, len(t))
			for k := range t {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(t[k], depth+1)
			}
		case []any:
			if depth > 3 {
				return
			}
			for _, x := range t {
				walk(x, depth+1)
			}
		}
	}
	walk(traits, 0)
	return b.String()
}

// group records the customer as a member of the business account.
func (c *Consumer) group(ctx context.Context, tx *store.Tx, cus string, m *eventlog.Message, at int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (id, traits, trait_times, first_seen, last_seen) VALUES ($1, '{}', '{}', $2, $2)
		ON CONFLICT (id) DO UPDATE SET
		first_seen = CASE WHEN accounts.first_seen > excluded.first_seen THEN excluded.first_seen ELSE accounts.first_seen END,
		last_seen = CASE WHEN accounts.last_seen < excluded.last_seen THEN excluded.last_seen ELSE accounts.last_seen END`, m.GroupID, at); err != nil {
		return err
	}
	role, _ := m.Traits["role"].(string)
	accountTraits := map[string]any{}
	for k, v := range m.Traits {
		if k != "role" {
			accountTraits[k] = v
		}
	}
	if len(accountTraits) > 0 {
		t, err := loadTraits(ctx, tx, "accounts", m.GroupID)
		if err != nil {
			return err
		}
		if t.merge(traitsAt(accountTraits, at)) {
			values, _ := json.Marshal(t.values)
			times, _ := json.Marshal(t.times)
			if _, err := tx.ExecContext(ctx, `UPDATE accounts SET traits = $1, trait_times = $2 WHERE id = $3`, string(values), string(times), m.GroupID); err != nil {
				return err
			}
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO account_members (account_id, customer_id, role, joined_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (account_id, customer_id) DO UPDATE SET role = CASE WHEN excluded.role <> '' THEN excluded.role ELSE account_members.role END`,
		m.GroupID, cus, role, at)
	return err
}
