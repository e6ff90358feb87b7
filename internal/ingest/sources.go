package ingest

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// Source is a place events come from (a website, a store's tills, the call
// centre's system), with its own write key and default channel.
type Source struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Channel   string `json:"channel,omitempty"`
	KeyHint   string `json:"writeKeyHint"`
	CreatedAt int64  `json:"createdAt"`
}

// Sources stores sources and resolves write keys.
type Sources struct {
	db    *store.DB
	mu    sync.RWMutex
	byKey map[string]Source // key hash -> source
}

// NewSources returns the source store over db.
func NewSources(db *store.DB) *Sources {
	return &Sources{db: db, byKey: map[string]Source{}}
}

// Create adds a source and returns it with its write key, which is shown
// only now: cxloop keeps just its hash. A non-empty key is used as given.
func (s *Sources) Create(ctx context.Context, name, channel, key string) (Source, string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return Source{}, "", fault.Field("name", "a source needs a name")
	}
	if len(name) > 200 {
		return Source{}, "", fault.Field("name", "name is longer than 200 characters")
	}
	if channel != "" {
		c := NormalizeChannel(channel)
		if c == "" {
			return Source{}, "", fault.Field("channel", "channel %q is not a lower-case name such as web, store or call_centre", channel)
		}
		channel = c
	}
	if key == "" {
		key = "wk_" + store.Secret(24)
	}
	src := Source{ID: store.NewID("src"), Name: name, Channel: channel, KeyHint: hint(key), CreatedAt: store.Now()}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sources (id, name, channel, key_hash, key_hint, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			src.ID, src.Name, src.Channel, store.Hash(key), src.KeyHint, src.CreatedAt)
		return err
	})
	if store.IsUniqueViolation(err) {
		return Source{}, "", fault.Field("writeKey", "that write key is already in use")
	}
	if err != nil {
		return Source{}, "", err
	}
	return src, key, nil
}

func hint(key string) string {
	if len(key) <= 7 {
		return "…"
	}
	return key[:7] + "…"
}

// List returns every source, oldest first.
func (s *Sources) List(ctx context.Context) ([]Source, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, channel, key_hint, created_at FROM sources ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Source{}
	for rows.Next() {
		var src Source
		if err := rows.Scan(&src.ID, &src.Name, &src.Channel, &src.KeyHint, &src.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, src)
	}
	return out, rows.Err()
}

// Count returns how many sources exist.
func (s *Sources) Count(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sources`).Scan(&n)
	return n, err
}

// ByKey returns the source whose write key is key.
func (s *Sources) ByKey(ctx context.Context, key string) (Source, error) {
	h := store.Hash(key)
	s.mu.RLock()
	src, ok := s.byKey[h]
	s.mu.RUnlock()
	if ok {
		return src, nil
	}
	err := s.db.QueryRowContext(ctx, `SELECT id, name, channel, key_hint, created_at FROM sources WHERE key_hash = $1`, h).
		Scan(&src.ID, &src.Name, &src.Channel, &src.KeyHint, &src.CreatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return Source{}, fault.New(fault.Unauthorized, "unknown write key")
	}
	if err != nil {
		return Source{}, err
	}
	s.mu.Lock()
	s.byKey[h] = src
	s.mu.Unlock()
	return src, nil
}
