package survey

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// Config is how the survey capability reaches customers.
type Config struct {
	// PublicURL is where customers reach this cxloop (links in invitations).
	PublicURL string
	// Mail sends invitation emails; nil sends none (invitations become links).
	Mail *Mailer
	// ReplyTo is the address replies to invitation emails go to
	// (surveys@example.com): each email's Reply-To carries the
	// invitation's token as a plus-tag (surveys+<token>@example.com), and
	// the mail system hands replies to POST /api/v1/surveys/replies. ""
	// sets no Reply-To.
	ReplyTo string
	// Now is the clock (tests move it); nil is time.Now.
	Now func() time.Time
	// ProfileSeq is how far the profile consumer has read the log; the
	// dispatcher waits for it before deciding about a triggered invitation.
	ProfileSeq func(ctx context.Context) (int64, error)
	// Sync waits until the survey consumer has read what the log holds now.
	Sync func(ctx context.Context) error
	// Fired counts the events, by messageId, on which a rule fired, once the
	// rules have read them (an import's answer says how many rows did); ok
	// is false when no rules run in this process.
	Fired func(ctx context.Context, messageIDs []string) (n int, ok bool, err error)
}

// Service is the survey capability: definitions, invitations, answers, scores.
type Service struct {
	db       *store.DB
	log      *eventlog.Log
	profiles *profile.Service
	cfg      Config
	logger   *slog.Logger

	keyOnce sync.Once
	key     []byte
	keyErr  error
	dispMu  sync.Mutex

	cacheMu sync.Mutex
	cache   map[string]*Survey // parsed definitions for the survey pages, by id

	stmtOnce sync.Once
	stmt     *sql.Stmt // the survey pages' invitation lookup
	stmtErr  error
	viewGate chan struct{} // views reading their invitation at once (see forView)
}

// NewService returns the survey service.
func NewService(db *store.DB, log *eventlog.Log, profiles *profile.Service, cfg Config, logger *slog.Logger) *Service {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	return &Service{db: db, log: log, profiles: profiles, cfg: cfg, logger: logger, viewGate: make(chan struct{}, viewers(db))}
}

func (s *Service) now() time.Time { return s.cfg.Now() }

// SetPublicURL sets the base of survey links when it was not configured.
func (s *Service) SetPublicURL(url string) {
	if s.cfg.PublicURL == "" {
		s.cfg.PublicURL = strings.TrimRight(url, "/")
	}
}

// Create validates and stores a new survey. A survey created without a
// status is active at once.
func (s *Service) Create(ctx context.Context, sv *Survey) (*Survey, error) {
	sv.Normalize()
	if err := sv.Validate(); err != nil {
		return nil, err
	}
	now := s.now()
	sv.ID = store.NewID("srv")
	sv.CreatedAt, sv.UpdatedAt = store.Millis(now.UnixMilli()), store.Millis(now.UnixMilli())
	sv.ActivatedAt, sv.NextRun = nil, nil
	s.schedule(sv, now, true)
	err := s.db.Tx(ctx, func(tx *store.Tx) error { return insertSurvey(ctx, tx, sv) })
	if err != nil {
		return nil, err
	}
	return sv, nil
}

// schedule records the activation time and, for an active periodic survey,
// its next run.
func (s *Service) schedule(sv *Survey, now time.Time, scheduleChanged bool) {
	if sv.Status != Active {
		return
	}
	if sv.ActivatedAt == nil {
		m := store.Millis(now.UnixMilli())
		sv.ActivatedAt = &m
	}
	if sv.Rhythm == Periodic && (sv.NextRun == nil || scheduleChanged || int64(*sv.NextRun) < now.UnixMilli()) {
		sv.NextRun = nil
		if next := sv.Schedule.Next(now.Add(-time.Millisecond)); !next.IsZero() {
			m := store.Millis(next.UnixMilli())
			sv.NextRun = &m
		}
	}
}

// Get returns a survey.
func (s *Service) Get(ctx context.Context, id string) (*Survey, error) {
	return getSurvey(ctx, s.db, id)
}

// version returns the survey as last updated at version (unix ms), parsing
// its definition only when it changed: the survey pages read it on every view.
func (s *Service) version(ctx context.Context, id string, version int64) (*Survey, error) {
	s.cacheMu.Lock()
	sv := s.cache[id]
	s.cacheMu.Unlock()
	if sv != nil && int64(sv.UpdatedAt) == version {
		return sv, nil
	}
	sv, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	s.cacheMu.Lock()
	if s.cache == nil || len(s.cache) > 1000 {
		s.cache = map[string]*Survey{}
	}
	s.cache[id] = sv
	s.cacheMu.Unlock()
	return sv, nil
}

// List returns every survey, newest first.
func (s *Service) List(ctx context.Context) ([]*Survey, error) {
	return listSurveys(ctx, s.db, `WHERE status <> 'archived'`)
}

// Archive removes a survey (DELETE /api/v1/surveys/{id}): it sends nothing
// more, its pages say it is closed, it is no longer listed or editable; it
// and its responses stay readable. It returns the survey as it was.
func (s *Service) Archive(ctx context.Context, id string) (*Survey, error) {
	var before *Survey
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if before, err = getSurvey(ctx, tx, id); err != nil {
			return err
		}
		if before.Status == Archived {
			return fault.New(fault.NotFound, "no survey %q (it was deleted)", id)
		}
		_, err = tx.ExecContext(ctx, `UPDATE surveys SET status = $1, next_run = NULL, updated_at = $2 WHERE id = $3`,
			Archived, nextVersion(before, s.now()), id)
		return err
	})
	return before, err
}

// nextVersion is the updated_at of a survey changed at now: later than its
// last, so that the pages' cache sees the change even within a millisecond.
func nextVersion(old *Survey, now time.Time) int64 {
	return max(now.UnixMilli(), int64(old.UpdatedAt)+1)
}

// Update applies a partial definition (any fields of Survey) to a survey.
// Question ids and types stay fixed once answers exist, so that scores
// already given keep their meaning.
func (s *Service) Update(ctx context.Context, id string, patch json.RawMessage) (*Survey, error) {
	var out *Survey
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		old, err := getSurvey(ctx, tx, id)
		if err != nil {
			return err
		}
		if old.Status == Archived {
			return fault.New(fault.NotFound, "no survey %q (it was deleted)", id)
		}
		base, err := json.Marshal(old)
		if err != nil {
			return err
		}
		var merged map[string]json.RawMessage
		if err := json.Unmarshal(base, &merged); err != nil {
			return err
		}
		var changes map[string]json.RawMessage
		if err := json.Unmarshal(patch, &changes); err != nil {
			return fault.Field("body", "the body must be a JSON object of survey fields")
		}
		for k, v := range changes {
			switch k {
			case "id", "createdAt", "updatedAt", "activatedAt", "nextRun", "funnel":
				continue
			}
			merged[k] = v
		}
		b, _ := json.Marshal(merged)
		var sv Survey
		if err := httpio.DecodeJSON(b, &sv); err != nil {
			return err
		}
		sv.ID, sv.CreatedAt, sv.ActivatedAt, sv.NextRun = old.ID, old.CreatedAt, old.ActivatedAt, old.NextRun
		if _, ok := changes["languages"]; !ok {
			sv.Languages = nil
		}
		if _, ok := changes["defaultLanguage"]; !ok {
			sv.DefaultLanguage = ""
		}
		sv.Normalize()
		if err := sv.Validate(); err != nil {
			return err
		}
		if _, ok := changes["questions"]; ok {
			var answered int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM survey_responses WHERE survey_id = $1`, id).Scan(&answered); err != nil {
				return err
			}
			if answered > 0 && !sameQuestionShape(old, &sv) {
				return fault.Field("questions", "this survey has answers: question ids and types cannot change (texts can); create a new survey instead")
			}
		}
		now := s.now()
		sv.UpdatedAt = store.Millis(nextVersion(old, now))
		_, schedChanged := changes["schedule"]
		s.schedule(&sv, now, schedChanged || old.Status != Active)
		if err := updateSurvey(ctx, tx, &sv); err != nil {
			return err
		}
		out = &sv
		return nil
	})
	return out, err
}

func sameQuestionShape(a, b *Survey) bool {
	types := map[string]string{}
	for _, q := range a.Questions {
		types[q.ID] = q.Type
	}
	for _, q := range b.Questions {
		if t, ok := types[q.ID]; ok && t != q.Type {
			return false
		}
		delete(types, q.ID)
	}
	return len(types) == 0
}

// tokenKey is the installation's secret for signing survey links, made on
// first use and kept in survey_state.
func (s *Service) tokenKey(ctx context.Context) ([]byte, error) {
	s.keyOnce.Do(func() {
		err := s.db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE survey_state SET link_key = $1 WHERE link_key = ''`, store.Secret(32))
			return err
		})
		var v string
		if err == nil {
			err = s.db.QueryRowContext(ctx, `SELECT link_key FROM survey_state`).Scan(&v)
		}
		s.key, s.keyErr = []byte(v), err
	})
	if s.keyErr != nil {
		// Try again next time rather than keep a failure forever.
		err := s.keyErr
		s.keyOnce = sync.Once{}
		return nil, err
	}
	return s.key, nil
}

// token signs an invitation id: the link a customer answers through.
func (s *Service) token(ctx context.Context, invitation string) (string, error) {
	key, err := s.tokenKey(ctx)
	if err != nil {
		return "", err
	}
	return invitation + "." + sign(key, invitation), nil
}

func sign(key []byte, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// invitationOf checks a token's signature and returns the invitation id.
func (s *Service) invitationOf(ctx context.Context, token string) (string, error) {
	id, sig, ok := strings.Cut(token, ".")
	if !ok || !strings.HasPrefix(id, "inv_") || len(id) > 64 {
		return "", errForged
	}
	key, err := s.tokenKey(ctx)
	if err != nil {
		return "", err
	}
	if !hmac.Equal([]byte(sig), []byte(sign(key, id))) {
		return "", errForged
	}
	return id, nil
}

var errForged = fault.New(fault.NotFound, "this survey link is not valid")

// URL is the public address of a survey link.
func (s *Service) URL(token string) string { return s.cfg.PublicURL + "/s/" + token }

// derivedID is a stable id made from parts, so that repeating a decision
// (a replay, a retried run) finds the row it made before.
func derivedID(prefix string, parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return prefix + "_" + hex.EncodeToString(h[:10])
}

// fraction maps parts to a stable number in [0, 1): sampling decisions
// that come out the same every time they are made.
func fraction(parts ...string) float64 {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	var v uint64
	for _, b := range h[:8] {
		v = v<<8 | uint64(b)
	}
	return float64(v>>11) / float64(1<<53)
}

// OptOut records that a customer never wants to be surveyed again.
func (s *Service) OptOut(ctx context.Context, ref, source string) error {
	c, err := s.profiles.Resolve(ctx, ref)
	if err != nil {
		return err
	}
	contacts, err := s.profiles.Contacts(ctx, []string{c})
	if err != nil {
		return err
	}
	ct := contacts[c]
	now := s.now()
	ev, err := eventlog.Own("Survey Opted Out", derivedID("msg", "optout", c, now.String()), ct.UserID, ct.AnonymousID, "web", now,
		map[string]any{"source": source})
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO survey_optouts (customer_id, at, source) VALUES ($1, $2, $3) ON CONFLICT (customer_id) DO NOTHING`,
			c, now.UnixMilli(), source)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 || (ct.UserID == "" && ct.AnonymousID == "") {
			return nil
		}
		return s.log.AppendTx(ctx, tx, []eventlog.Event{ev})
	})
	if err == nil {
		s.log.Notify()
	}
	return err
}

// optedOut returns which of the customers opted out.
func optedOut(ctx context.Context, q eventlog.Querier, ids []string) (map[string]bool, error) {
	out := map[string]bool{}
	err := inChunks(ids, func(args []any, ph string) error {
		rows, err := q.QueryContext(ctx, `SELECT customer_id FROM survey_optouts WHERE customer_id IN (`+ph+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return err
			}
			out[id] = true
		}
		return rows.Err()
	})
	return out, err
}

// inChunks calls fn with at most 200 ids at a time as query arguments and
// their placeholder list.
func inChunks(ids []string, fn func(args []any, ph string) error) error {
	for len(ids) > 0 {
		n := min(200, len(ids))
		args := make([]any, n)
		ph := make([]string, n)
		for i := range n {
			args[i] = ids[i]
			ph[i] = "$" + strconv.Itoa(i+1)
		}
		ids = ids[n:]
		if err := fn(args, strings.Join(ph, ",")); err != nil {
			return err
		}
	}
	return nil
}

// viewers is how many survey page views read their invitation at once:
// on SQLite twice the cores (the reads are CPU work; the rest wait their
// turn in order), on PostgreSQL more (there they mostly wait on the
// network).
func viewers(db *store.DB) int {
	if db.Engine == store.Postgres {
		return 16
	}
	return 2 * runtime.GOMAXPROCS(0)
}
