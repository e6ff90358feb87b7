package ingest

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"time"

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
	// Paused: its write key is refused (403) until it is resumed.
	Paused bool `json:"paused"`
	// OldKeyUntil: after a rotation, the previous write key is taken until
	// then (unix ms); 0 when no old key is valid.
	OldKeyUntil int64 `json:"oldKeyValidUntil,omitempty"`
}

// Sources stores sources and resolves write keys.
type Sources struct {
	db    *store.DB
	now   func() time.Time
	mu    sync.RWMutex
	byKey map[string]cachedKey // key hash -> source
}

// cachedKey is what a write key resolved to, kept for a second so that a
// change made on another node is seen within a second (a change made on
// this node empties the cache at once).
type cachedKey struct {
	src     Source
	old     bool  // the key is the source's previous one, valid until src.OldKeyUntil
	deleted bool  // the source was removed
	loaded  int64 // monotonic time of the lookup (ns since start)
}

// cacheFor is how long a resolved write key is trusted before it is looked up again.
const cacheFor = time.Second

var started = time.Now()

// NewSources returns the source store over db; now is the clock a rotated
// key's overlap is measured on (nil: time.Now).
func NewSources(db *store.DB, now func() time.Time) *Sources {
	if now == nil {
		now = time.Now
	}
	return &Sources{db: db, now: now, byKey: map[string]cachedKey{}}
}

// forget empties the write-key cache after a change.
func (s *Sources) forget() {
	s.mu.Lock()
	s.byKey = map[string]cachedKey{}
	s.mu.Unlock()
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

const sourceCols = `id, name, channel, key_hint, created_at, paused, old_key_until`

func scanSource(sc interface{ Scan(...any) error }, src *Source, extra ...any) error {
	var paused int
	if err := sc.Scan(append([]any{&src.ID, &src.Name, &src.Channel, &src.KeyHint, &src.CreatedAt, &paused, &src.OldKeyUntil}, extra...)...); err != nil {
		return err
	}
	src.Paused = paused == 1
	return nil
}

// List returns every source (not the removed ones), oldest first.
func (s *Sources) List(ctx context.Context) ([]Source, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE deleted_at = 0 ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	now := s.now().UnixMilli()
	out := []Source{}
	for rows.Next() {
		var src Source
		if err := scanSource(rows, &src); err != nil {
			return nil, err
		}
		if src.OldKeyUntil <= now {
			src.OldKeyUntil = 0
		}
		out = append(out, src)
	}
	return out, rows.Err()
}

// Get returns a source; a removed one is not found.
func (s *Sources) Get(ctx context.Context, id string) (Source, error) {
	return s.get(ctx, s.db, id)
}

func (s *Sources) get(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (Source, error) {
	var src Source
	err := scanSource(q.QueryRowContext(ctx, `SELECT `+sourceCols+` FROM sources WHERE id = $1 AND deleted_at = 0`, id), &src)
	if errors.Is(err, sql.ErrNoRows) {
		return Source{}, fault.New(fault.NotFound, "no source %q", id)
	}
	if src.OldKeyUntil <= s.now().UnixMilli() {
		src.OldKeyUntil = 0
	}
	return src, err
}

// SourceChange is an edit of a source: the fields sent are changed.
type SourceChange struct {
	Name   *string `json:"name"`
	Paused *bool   `json:"paused"`
}

// Update renames, pauses or resumes a source and returns it before and
// after. A paused source's write key is refused at once.
func (s *Sources) Update(ctx context.Context, id string, c SourceChange) (before, after Source, err error) {
	if c.Name == nil && c.Paused == nil {
		return before, after, fault.Field("paused", "send name, or paused (true pauses the source, false resumes it)")
	}
	if c.Name != nil {
		n := strings.TrimSpace(*c.Name)
		if n == "" {
			return before, after, fault.Field("name", "a source needs a name")
		}
		if len(n) > 200 {
			return before, after, fault.Field("name", "name is longer than 200 characters")
		}
		c.Name = &n
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if before, err = s.get(ctx, tx, id); err != nil {
			return err
		}
		after = before
		if c.Name != nil {
			after.Name = *c.Name
		}
		if c.Paused != nil {
			after.Paused = *c.Paused
		}
		paused := 0
		if after.Paused {
			paused = 1
		}
		_, err := tx.ExecContext(ctx, `UPDATE sources SET name = $1, paused = $2 WHERE id = $3`, after.Name, paused, id)
		return err
	})
	s.forget()
	return before, after, err
}

// Delete removes a source: its write keys are refused; the events it sent
// stay. It returns the source as it was.
func (s *Sources) Delete(ctx context.Context, id string) (Source, error) {
	var before Source
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if before, err = s.get(ctx, tx, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE sources SET deleted_at = $1, old_key_hash = '', old_key_until = 0 WHERE id = $2`, s.now().UnixMilli(), id)
		return err
	})
	s.forget()
	return before, err
}

// DefaultOverlap is how long a rotated write key stays valid by default.
const DefaultOverlap = 24 * time.Hour

// Rotate gives a source a new write key and returns the source and the key
// (shown only now). The previous key stays valid for overlap (0: refused at
// once); a key rotated out before that is refused from now on.
func (s *Sources) Rotate(ctx context.Context, id string, overlap time.Duration) (before, after Source, key string, err error) {
	if overlap < 0 || overlap > 30*24*time.Hour {
		return before, after, "", fault.Field("overlap", "overlap is between 0 and 720h")
	}
	key = "wk_" + store.Secret(24)
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if before, err = s.get(ctx, tx, id); err != nil {
			return err
		}
		var current string
		if err := tx.QueryRowContext(ctx, `SELECT key_hash FROM sources WHERE id = $1`, id).Scan(&current); err != nil {
			return err
		}
		until := s.now().Add(overlap).UnixMilli()
		if overlap == 0 {
			current, until = "", 0
		}
		after = before
		after.KeyHint, after.OldKeyUntil = hint(key), until
		_, err := tx.ExecContext(ctx, `UPDATE sources SET key_hash = $1, key_hint = $2, old_key_hash = $3, old_key_until = $4 WHERE id = $5`,
			store.Hash(key), after.KeyHint, current, until, id)
		return err
	})
	s.forget()
	return before, after, key, err
}

// EndOverlap refuses a source's previous write key from now on, before its
// overlap would have ended; the current key is untouched. It is a conflict
// when no previous key is still taken.
func (s *Sources) EndOverlap(ctx context.Context, id string) (before, after Source, err error) {
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if before, err = s.get(ctx, tx, id); err != nil {
			return err
		}
		if before.OldKeyUntil == 0 { // get shows only a key still taken
			return fault.New(fault.Conflict, "source %q has no old write key that is still taken", before.Name)
		}
		after = before
		after.OldKeyUntil = 0
		_, err := tx.ExecContext(ctx, `UPDATE sources SET old_key_hash = '', old_key_until = 0 WHERE id = $1`, id)
		return err
	})
	s.forget()
	return before, after, err
}

// Count returns how many sources were ever made, removed ones included (so
// that removing every source does not make the next start bootstrap one).
func (s *Sources) Count(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sources`).Scan(&n)
	return n, err
}

// ByKey returns the source whose write key is key: a paused source's key is
// refused (403), a removed source's or a key rotated out whose overlap has
// ended is unknown (401).
func (s *Sources) ByKey(ctx context.Context, key string) (Source, error) {
	h := store.Hash(key)
	s.mu.RLock()
	c, ok := s.byKey[h]
	s.mu.RUnlock()
	if !ok || time.Since(started)-time.Duration(c.loaded) > cacheFor {
		var deletedAt int64
		var isNew bool
		err := scanSource(s.db.QueryRowContext(ctx, `SELECT `+sourceCols+`, deleted_at, key_hash = $1 FROM sources WHERE key_hash = $1 OR old_key_hash = $1
			ORDER BY created_at LIMIT 1`, h), &c.src, &deletedAt, &isNew)
		if errors.Is(err, sql.ErrNoRows) {
			return Source{}, fault.New(fault.Unauthorized, "unknown write key")
		}
		if err != nil {
			return Source{}, err
		}
		c.old, c.deleted, c.loaded = !isNew, deletedAt != 0, int64(time.Since(started))
		s.mu.Lock()
		s.byKey[h] = c
		s.mu.Unlock()
	}
	switch {
	case c.deleted:
		return Source{}, fault.New(fault.Unauthorized, "unknown write key: its source was removed")
	case c.old && c.src.OldKeyUntil <= s.now().UnixMilli():
		return Source{}, fault.New(fault.Unauthorized, "this write key was replaced and its overlap has ended: use the source's new key")
	case c.src.Paused:
		return Source{}, fault.New(fault.Forbidden, "source %q is paused: its events are refused until it is resumed", c.src.Name)
	}
	return c.src, nil
}
