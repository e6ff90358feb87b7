package privacy

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// Config is what the Service is built from.
type Config struct {
	DB     *store.DB
	Tables []Table
	// Subject resolves any identity or profile id to the customer's Subject
	// (a *fault.Error NotFound when nobody is known by it).
	Subject func(ctx context.Context, ref string) (Subject, error)
	// Profile returns the customer's profile as the API shows it.
	Profile func(ctx context.Context, ref string) (any, error)
	// CaughtUp returns once every consumer has read the log up to its head
	// at the call (or at once on a node without consumers).
	CaughtUp func(ctx context.Context) error
	// Normalize turns a raw identity value into the form profiles store
	// (emails lower-cased, phones in E.164); by kind.
	Normalize func(kind, value string) string
	// Key is the installation's secret the suppression list's hashes are
	// made with.
	Key    []byte
	Now    func() time.Time
	Logger *slog.Logger
}

// Service erases and exports customers and keeps the suppression list.
type Service struct {
	cfg Config

	mu       sync.Mutex
	onErase  []func(context.Context, Subject)
	suppress atomic.Pointer[map[string]bool] // identity hashes; nil or empty: nobody
}

// New returns a Service; Load reads the suppression list.
func New(cfg Config) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Normalize == nil {
		cfg.Normalize = func(_, v string) string { return v }
	}
	return &Service{cfg: cfg}
}

// OnErase registers fn to forget the subject in memory (a model's cache)
// after an erasure.
func (s *Service) OnErase(fn func(context.Context, Subject)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onErase = append(s.onErase, fn)
}

// Erasure reports what an erasure removed.
type Erasure struct {
	Customer      string           `json:"customer"`
	Profiles      []string         `json:"profiles"`
	Identities    int              `json:"identities"`
	Tombstoned    int64            `json:"eventsTombstoned"`
	Scrubbed      int64            `json:"eventsScrubbed"`
	Rows          map[string]int64 `json:"rows"`
	SuppressionID string           `json:"suppressionId,omitempty"`
	ErasedAt      store.Millis     `json:"erasedAt"`
}

// Erase removes everything cxloop holds on the customer ref names
// (docs/privacy.md): their events become tombstones, their rows go from
// every owner's tables, mentions of them are cut from other events and
// messages, and the database files are scrubbed. With suppress, their
// identities are refused from then on. actor is who asked (for the
// suppression's record).
func (s *Service) Erase(ctx context.Context, ref string, suppress bool, actor string) (Erasure, error) {
	sub, err := s.cfg.Subject(ctx, ref)
	if err != nil {
		return Erasure{}, err
	}
	if sub.Empty() {
		return Erasure{}, fault.New(fault.NotFound, "no customer is known by %q", ref)
	}
	out := Erasure{Customer: sub.Customers[0], Profiles: sub.Customers, Identities: len(sub.Values()), ErasedAt: store.Millis(s.cfg.Now().UnixMilli())}
	err = s.cfg.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if out.Tombstoned, out.Scrubbed, err = eventlog.Erase(ctx, tx, sub.UserIDs, sub.AnonymousIDs, sub.Mentions()); err != nil {
			return err
		}
		if out.Rows, err = EraseTables(ctx, tx, sub, s.cfg.Tables); err != nil {
			return err
		}
		if suppress {
			out.SuppressionID, err = s.addSuppression(ctx, tx, sub, actor)
		}
		return err
	})
	if err != nil {
		return Erasure{}, err
	}
	// The log's archives (docs/retention.md) are rewritten the same way.
	tombs, scrubs, err := eventlog.EraseArchived(ctx, s.cfg.DB, sub.UserIDs, sub.AnonymousIDs, sub.Mentions())
	out.Tombstoned, out.Scrubbed = out.Tombstoned+tombs, out.Scrubbed+scrubs
	if err != nil {
		return out, fmt.Errorf("erase the log's archives: %w", err)
	}
	if suppress {
		if err := s.Load(ctx); err != nil {
			return out, err
		}
	}
	// A consumer may have read the customer's events before they became
	// tombstones and apply them after: once every consumer is past the
	// log's head, the second pass removes what such a batch wrote back.
	if s.cfg.CaughtUp != nil {
		wait, cancel := context.WithTimeout(ctx, 30*time.Second)
		err := s.cfg.CaughtUp(wait)
		cancel()
		if err != nil {
			s.cfg.Logger.Warn("erasure: consumers did not catch up; erasing again without waiting", "customer", out.Customer, "err", err)
		}
	}
	err = s.cfg.DB.Tx(ctx, func(tx *store.Tx) error {
		rows, err := EraseTables(ctx, tx, sub, s.cfg.Tables)
		for t, n := range rows {
			out.Rows[t] += n
		}
		return err
	})
	if err != nil {
		return out, err
	}
	s.mu.Lock()
	hooks := slices.Clone(s.onErase)
	s.mu.Unlock()
	for _, fn := range hooks {
		fn(ctx, sub)
	}
	for t, n := range out.Rows {
		if n == 0 {
			delete(out.Rows, t)
		}
	}
	// The identities are what Scrub looks for in the file: a shorter value
	// would be found inside others'.
	var needles []string
	for _, v := range sub.Values() {
		if len([]rune(v)) >= 4 {
			needles = append(needles, v)
		}
	}
	if err := s.cfg.DB.Scrub(ctx, needles...); err != nil {
		s.cfg.Logger.Warn("erasure: scrub", "err", err)
	}
	return out, nil
}

// Export is everything cxloop holds on one customer (docs/privacy.md).
type Export struct {
	Format     string                      `json:"format"`
	ExportedAt store.Millis                `json:"exportedAt"`
	Customer   any                         `json:"customer"`
	Identities Subject                     `json:"identities"`
	Events     []json.RawMessage           `json:"events"`
	Tables     map[string][]map[string]any `json:"tables"`
}

// ExportFormat names the shape of an Export; it changes when the shape does.
const ExportFormat = "cxloop.customer-export.v1"

// Export gathers the customer's profile, every event of theirs (as they
// were sent, with cxloop's own) and their rows in every owner's tables.
func (s *Service) Export(ctx context.Context, ref string) (Export, error) {
	sub, err := s.cfg.Subject(ctx, ref)
	if err != nil {
		return Export{}, err
	}
	if sub.Empty() {
		return Export{}, fault.New(fault.NotFound, "no customer is known by %q", ref)
	}
	out := Export{Format: ExportFormat, ExportedAt: store.Millis(s.cfg.Now().UnixMilli()), Identities: sub, Events: []json.RawMessage{}}
	if s.cfg.Profile != nil {
		if out.Customer, err = s.cfg.Profile(ctx, ref); err != nil {
			return Export{}, err
		}
	}
	if len(sub.UserIDs)+len(sub.AnonymousIDs) > 0 {
		after := int64(0)
		for {
			evs, err := eventlog.Read(ctx, s.cfg.DB, eventlog.Query{After: after, Limit: 1000, UserIDs: nonNil(sub.UserIDs), AnonymousIDs: nonNil(sub.AnonymousIDs)})
			if err != nil {
				return Export{}, err
			}
			for _, e := range evs {
				out.Events = append(out.Events, json.RawMessage(e.Body))
			}
			if len(evs) < 1000 {
				break
			}
			after = evs[len(evs)-1].Seq
		}
	}
	if out.Tables, err = ExportTables(ctx, s.cfg.DB, sub, s.cfg.Tables); err != nil {
		return Export{}, err
	}
	return out, nil
}

func nonNil(vs []string) []string {
	if vs == nil {
		return []string{}
	}
	return vs
}

// Identity kinds a suppression covers.
var kinds = []string{"user_id", "anonymous_id", "email", "phone"}

func (s *Service) addSuppression(ctx context.Context, tx *store.Tx, sub Subject, actor string) (string, error) {
	id := store.NewID("sup")
	var used []string
	add := func(kind string, vs []string) error {
		for _, v := range vs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO suppressed_identities (hash, suppression_id) VALUES ($1, $2)
				ON CONFLICT (hash) DO UPDATE SET suppression_id = $2`, Hash(s.cfg.Key, kind, v), id); err != nil {
				return err
			}
		}
		if len(vs) > 0 {
			used = append(used, kind)
		}
		return nil
	}
	for i, vs := range [][]string{sub.UserIDs, sub.AnonymousIDs, sub.Emails, sub.Phones} {
		if err := add(kinds[i], vs); err != nil {
			return "", err
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO suppressions (id, customer_id, kinds, created_by, created_at) VALUES ($1, $2, $3, $4, $5)`,
		id, sub.Customers[0], strings.Join(used, ","), actor, s.cfg.Now().UnixMilli())
	return id, err
}

// Load reads the suppression list into memory; ingestion checks it.
func (s *Service) Load(ctx context.Context) error {
	set := map[string]bool{}
	err := s.cfg.DB.Each(ctx, `SELECT hash FROM suppressed_identities`, nil, func(r *sql.Rows) error {
		var h string
		if err := r.Scan(&h); err != nil {
			return err
		}
		set[h] = true
		return nil
	})
	if err != nil {
		return fmt.Errorf("load suppressions: %w", err)
	}
	s.suppress.Store(&set)
	return nil
}

// Suppressed reports whether any of the identities is suppressed. kind is
// user_id, anonymous_id, email or phone; values are as a client sent them.
// It costs nothing while the list is empty.
func (s *Service) Suppressed(ids map[string]string) bool {
	set := s.suppress.Load()
	if set == nil || len(*set) == 0 {
		return false
	}
	for kind, v := range ids {
		if v == "" {
			continue
		}
		if n := s.cfg.Normalize(kind, v); n != "" && (*set)[Hash(s.cfg.Key, kind, n)] {
			return true
		}
	}
	return false
}

// Suppression is one erased customer's refused identities.
type Suppression struct {
	ID        string       `json:"id"`
	Customer  string       `json:"customer"`
	Kinds     []string     `json:"kinds"`
	Count     int          `json:"identities"`
	CreatedBy string       `json:"createdBy"`
	CreatedAt store.Millis `json:"createdAt"`
}

// Suppressions lists the suppression list, newest first.
func (s *Service) Suppressions(ctx context.Context) ([]Suppression, error) {
	out := []Suppression{}
	err := s.cfg.DB.Each(ctx, `SELECT p.id, p.customer_id, p.kinds, p.created_by, p.created_at,
		(SELECT COUNT(*) FROM suppressed_identities i WHERE i.suppression_id = p.id)
		FROM suppressions p ORDER BY p.created_at DESC, p.id`, nil, func(r *sql.Rows) error {
		var p Suppression
		var k string
		var at int64
		if err := r.Scan(&p.ID, &p.Customer, &k, &p.CreatedBy, &at, &p.Count); err != nil {
			return err
		}
		p.Kinds = strings.Split(k, ",")
		if k == "" {
			p.Kinds = []string{}
		}
		p.CreatedAt = store.Millis(at)
		out = append(out, p)
		return nil
	})
	return out, err
}

// Lift removes a suppression: its identities are accepted again.
func (s *Service) Lift(ctx context.Context, id string) (Suppression, error) {
	list, err := s.Suppressions(ctx)
	if err != nil {
		return Suppression{}, err
	}
	i := slices.IndexFunc(list, func(p Suppression) bool { return p.ID == id })
	if i < 0 {
		return Suppression{}, fault.New(fault.NotFound, "no suppression %s", id)
	}
	err = s.cfg.DB.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM suppressed_identities WHERE suppression_id = $1`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM suppressions WHERE id = $1`, id)
		return err
	})
	if err != nil {
		return Suppression{}, err
	}
	return list[i], s.Load(ctx)
}

// Active reports whether any identity is suppressed.
func (s *Service) Active() bool {
	set := s.suppress.Load()
	return set != nil && len(*set) > 0
}

// reloadEvery is how often a node rereads the suppression list, so that a
// change made on another node reaches it.
const reloadEvery = 30 * time.Second

// Run rereads the suppression list every 30 s until ctx ends.
func (s *Service) Run(ctx context.Context) {
	go func() {
		t := time.NewTicker(reloadEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := s.Load(ctx); err != nil && ctx.Err() == nil {
					s.cfg.Logger.Warn("reading the suppression list", "err", err)
				}
			}
		}
	}()
}

// Identities are identity values to suppress, by kind, as a client sends
// them.
type Identities struct {
	UserIDs      []string `json:"userIds"`
	AnonymousIDs []string `json:"anonymousIds"`
	Emails       []string `json:"emails"`
	Phones       []string `json:"phones"`
}

// Suppress refuses identities from now on without erasing anything (a
// customer erased before, whose devices keep sending; or someone who asked
// not to be tracked). The suppression names the profile the first of them
// belongs to, if any.
func (s *Service) Suppress(ctx context.Context, in Identities, actor string) (Suppression, error) {
	sub := Subject{}
	fields := []struct {
		field, kind string
		in          []string
		out         *[]string
	}{{"userIds", "user_id", in.UserIDs, &sub.UserIDs}, {"anonymousIds", "anonymous_id", in.AnonymousIDs, &sub.AnonymousIDs},
		{"emails", "email", in.Emails, &sub.Emails}, {"phones", "phone", in.Phones, &sub.Phones}}
	n := 0
	for _, f := range fields {
		for i, v := range f.in {
			norm := s.cfg.Normalize(f.kind, strings.TrimSpace(v))
			if norm == "" {
				return Suppression{}, fault.Field(fmt.Sprintf("%s[%d]", f.field, i), "%q is not a %s", v, strings.ReplaceAll(f.kind, "_", " "))
			}
			*f.out = append(*f.out, norm)
			n++
		}
	}
	if n == 0 {
		return Suppression{}, fault.Field("userIds", "name at least one identity: userIds, anonymousIds, emails or phones")
	}
	customer := ""
	for _, v := range sub.Values() {
		if known, err := s.cfg.Subject(ctx, v); err == nil && len(known.Customers) > 0 {
			customer = known.Customers[0]
			break
		}
	}
	sub.Customers = []string{customer}
	var id string
	err := s.cfg.DB.Tx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = s.addSuppression(ctx, tx, sub, actor)
		return err
	})
	if err != nil {
		return Suppression{}, err
	}
	if err := s.Load(ctx); err != nil {
		return Suppression{}, err
	}
	list, err := s.Suppressions(ctx)
	for _, p := range list {
		if p.ID == id {
			return p, err
		}
	}
	return Suppression{}, err
}
