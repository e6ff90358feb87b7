package profile

import (
	"context"
	"database/sql"
	"maps"
	"sync"
)

// allKeys keeps every user and anonymous id's owner between reads: the
// report pages resolve most keys there are at every view, and reading the
// eight thousand identities of the demo cost each about 25 ms.
//
// What it holds is checked at every read against the identities as they
// stand, so it is exact: identities are only added (each with the seq of
// the event that first named it, higher than any before it: the profile
// consumer applies the log in order) except when a merge moves them to
// another customer (a new customer_merges row, with its own seq) or an
// erasure or a replay removes them. New rows are read and added; anything
// else reads every identity again.
type allKeys struct {
	mu    sync.Mutex
	state keysState
	owner map[string]string // never changed once shared: replaced
}

// keysState is what the kept keys were read at: how many identities, the
// highest seq among them, how many merges and the latest merge's seq.
type keysState struct {
	identities, seq, merges, mergeSeq int64
}

func (s *Service) keysState(ctx context.Context) (keysState, error) {
	var k keysState
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM identities), (SELECT COALESCE(MAX(seq), 0) FROM identities),
		(SELECT COUNT(*) FROM customer_merges), (SELECT COALESCE(MAX(seq), 0) FROM customer_merges)`).Scan(&k.identities, &k.seq, &k.merges, &k.mergeSeq)
	return k, err
}

// AllKeys returns the owner of every user id ("u:…") and anonymous id
// ("a:…"), as Keys(ctx, nil) would read them now. The map is shared: the
// caller must not change it.
func (s *Service) AllKeys(ctx context.Context) (map[string]string, error) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	now, err := s.keysState(ctx)
	if err != nil {
		return nil, err
	}
	was := s.keys.state
	if s.keys.owner != nil && now == was {
		return s.keys.owner, nil
	}
	if s.keys.owner != nil && now.merges == was.merges && now.mergeSeq == was.mergeSeq && now.seq > was.seq {
		// Only added, if the count agrees: read what came after.
		added := map[string]string{}
		var n int64
		err := s.db.Each(ctx, `SELECT kind, value, customer_id FROM identities WHERE seq > $1`, []any{was.seq}, func(r *sql.Rows) error {
			n++
			return keyRow(r, added)
		})
		if err != nil {
			return nil, err
		}
		if was.identities+n == now.identities {
			owner := maps.Clone(s.keys.owner)
			maps.Copy(owner, added)
			s.keys.owner, s.keys.state = owner, now
			return owner, nil
		}
	}
	owner, err := s.Keys(ctx, nil)
	if err != nil {
		return nil, err
	}
	s.keys.owner, s.keys.state = owner, now
	return owner, nil
}

// allCustomers keeps every customer id and where each merged one went,
// between reads, on the rule of allKeys: customers are only added (each
// with the created_seq of the event that made it) but for a merge (a new
// customer_merges row) or an erasure or a replay.
type allCustomers struct {
	mu    sync.Mutex
	state keysState         // identities: customers; seq: their newest created_seq
	into  map[string]string // never changed once shared: replaced; "" for a live customer
}

func (s *Service) customersState(ctx context.Context) (keysState, error) {
	var k keysState
	err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM customers), (SELECT COALESCE(MAX(created_seq), 0) FROM customers),
		(SELECT COUNT(*) FROM customer_merges), (SELECT COALESCE(MAX(seq), 0) FROM customer_merges)`).Scan(&k.identities, &k.seq, &k.merges, &k.mergeSeq)
	return k, err
}

// customerRow adds one customer's row (id, merged_into) to into.
func customerRow(r *sql.Rows, into map[string]string) error {
	var id string
	var m sql.NullString
	if err := r.Scan(&id, &m); err != nil {
		return err
	}
	into[id] = m.String
	return nil
}

// allMerged returns every customer id, each with the customer it was
// merged into ("" for one not merged), as the customers stand now. The
// map is shared: the caller must not change it.
func (s *Service) allMerged(ctx context.Context) (map[string]string, error) {
	s.customers.mu.Lock()
	defer s.customers.mu.Unlock()
	now, err := s.customersState(ctx)
	if err != nil {
		return nil, err
	}
	was := s.customers.state
	if s.customers.into != nil && now == was {
		return s.customers.into, nil
	}
	if s.customers.into != nil && now.merges == was.merges && now.mergeSeq == was.mergeSeq && now.seq > was.seq {
		added := map[string]string{}
		var n int64
		err := s.db.Each(ctx, `SELECT id, merged_into FROM customers WHERE created_seq > $1`, []any{was.seq}, func(r *sql.Rows) error {
			n++
			return customerRow(r, added)
		})
		if err != nil {
			return nil, err
		}
		if was.identities+n == now.identities {
			into := maps.Clone(s.customers.into)
			maps.Copy(into, added)
			s.customers.into, s.customers.state = into, now
			return into, nil
		}
	}
	into := map[string]string{}
	if err := s.db.Each(ctx, `SELECT id, merged_into FROM customers`, nil, func(r *sql.Rows) error { return customerRow(r, into) }); err != nil {
		return nil, err
	}
	s.customers.into, s.customers.state = into, now
	return into, nil
}
