package profile

import (
	"context"
	"database/sql"
	"maps"
	"sync"

	"github.com/cxloop/cxloop/internal/store"
)

// keptRows keeps a map read from a profile table between reads: every
// user and anonymous id's owner (identities, by seq) and every customer's
// merge (customers, by created_seq). The report pages resolve most of them
// at every view, and reading the demo's eight thousand identities cost
// each about 25 ms.
//
// What it holds is checked at every read against the table as it stands,
// so it is exact: rows are only added (each with the seq of the event that
// made it, higher than any before it: the profile consumer applies the log
// in order) except when a merge moves identities to another customer or
// marks a customer merged (a new customer_merges row, with its own seq) or
// an erasure or a replay removes rows. New rows are read and added;
// anything else reads the table again.
type keptRows struct {
	mu    sync.Mutex
	state rowsState
	m     map[string]string // never changed once shared: replaced
}

// rowsState is what the kept rows were read at: how many rows, the highest
// seq among them, how many merges and the latest merge's seq.
type rowsState struct {
	rows, seq, merges, mergeSeq int64
}

// read returns the map of table's rows (columns cols, each added by row),
// kept as keptRows says; seq is the table's column of the event's seq. The
// map is shared: the caller must not change it.
func (k *keptRows) read(ctx context.Context, db *store.DB, table, seq, cols string, row func(*sql.Rows, map[string]string) error) (map[string]string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	var now rowsState
	err := db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM `+table+`), (SELECT COALESCE(MAX(`+seq+`), 0) FROM `+table+`),
		(SELECT COUNT(*) FROM customer_merges), (SELECT COALESCE(MAX(seq), 0) FROM customer_merges)`).Scan(&now.rows, &now.seq, &now.merges, &now.mergeSeq)
	if err != nil {
		return nil, err
	}
	was := k.state
	if k.m != nil && now == was {
		return k.m, nil
	}
	if k.m != nil && now.merges == was.merges && now.mergeSeq == was.mergeSeq && now.seq > was.seq {
		// Only added, if the count agrees: read what came after.
		added := map[string]string{}
		var n int64
		err := db.Each(ctx, `SELECT `+cols+` FROM `+table+` WHERE `+seq+` > $1`, []any{was.seq}, func(r *sql.Rows) error {
			n++
			return row(r, added)
		})
		if err != nil {
			return nil, err
		}
		if was.rows+n == now.rows {
			m := maps.Clone(k.m)
			maps.Copy(m, added)
			k.m, k.state = m, now
			return m, nil
		}
	}
	m := map[string]string{}
	if err := db.Each(ctx, `SELECT `+cols+` FROM `+table, nil, func(r *sql.Rows) error { return row(r, m) }); err != nil {
		return nil, err
	}
	k.m, k.state = m, now
	return m, nil
}

// AllKeys returns the owner of every user id ("u:…") and anonymous id
// ("a:…"), as Keys(ctx, nil) would read them now. The map is shared: the
// caller must not change it.
func (s *Service) AllKeys(ctx context.Context) (map[string]string, error) {
	return s.keys.read(ctx, s.db, "identities", "seq", "kind, value, customer_id", keyRow)
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
	return s.customers.read(ctx, s.db, "customers", "created_seq", "id, merged_into", customerRow)
}
