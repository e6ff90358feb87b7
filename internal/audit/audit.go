package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cxloop/cxloop/internal/store"
)

// Actions the surfaces record besides create, update and delete.
const (
	SignIn        = "sign_in"
	SignInFailed  = "sign_in_failed"
	SignInRefused = "sign_in_refused" // refused by the rate limit, before any password was checked
	SignOut       = "sign_out"
	Export        = "export"
	Erase         = "erase"
)

// Entry is one line of the trail.
type Entry struct {
	ID         int64           `json:"id"`
	At         store.Millis    `json:"at"`
	Actor      string          `json:"actor"`             // a user's email or a token's name; for a failed sign-in, the email tried
	ActorID    string          `json:"actorId,omitempty"` // token:<id> or user:<id>
	Role       string          `json:"role,omitempty"`
	Address    string          `json:"address"`
	Action     string          `json:"action"`
	Resource   string          `json:"resource"`
	ResourceID string          `json:"resourceId,omitempty"`
	Method     string          `json:"method"`
	Route      string          `json:"route"`
	Status     int             `json:"status"`
	Before     json.RawMessage `json:"before,omitempty"`
	After      json.RawMessage `json:"after,omitempty"`
}

// Service writes and reads the trail. It offers no way to change or remove
// an entry.
type Service struct {
	db     *store.DB
	now    func() time.Time
	logger *slog.Logger

	writeFailures prometheus.Counter
	tokenFailures *prometheus.CounterVec
	refusals      prometheus.Counter
	lastLog       sync.Map // reason -> unix second of the last log line

	mu      sync.Mutex
	noticed map[string]time.Time // key -> when a refusal of it was last recorded
}

// NewService returns the trail over db; now is the app's clock (time.Now
// when nil).
func NewService(db *store.DB, now func() time.Time, logger *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Service{db: db, now: now, logger: logger, noticed: map[string]time.Time{},
		writeFailures: prometheus.NewCounter(prometheus.CounterOpts{Name: "cxloop_audit_write_failures_total",
			Help: "Audit entries that could not be written (each is also logged as an error)."}),
		tokenFailures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cxloop_api_auth_failures_total",
			Help: "Requests to /api/v1 refused for their bearer token, by reason: missing (no token sent), refused (unknown or revoked) (counted, not recorded in the audit trail)."}, []string{"reason"}),
		refusals: prometheus.NewCounter(prometheus.CounterOpts{Name: "cxloop_signin_refused_total",
			Help: "Console sign-ins refused by the rate limit (the first of each address in five minutes is also recorded in the audit trail)."}),
	}
}

// Collectors are the trail's metrics.
func (s *Service) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.writeFailures, s.tokenFailures, s.refusals}
}

// Now is the trail's clock.
func (s *Service) Now() time.Time { return s.now() }

// Record appends e, stamped with the app's clock unless e.At is set. Its
// states are redacted of secrets (Redact) whatever the caller passed.
//
// The write does not end with the request: a client that hangs up after a
// change still leaves its entry. A failure is logged as an error, counted
// (cxloop_audit_write_failures_total) and returned.
func (s *Service) Record(ctx context.Context, e Entry) error {
	if s == nil {
		return nil
	}
	if e.At == 0 {
		e.At = store.Millis(s.now().UnixMilli())
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, actor_id, role, address, action, resource, resource_id, method, route, status, before_state, after_state)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			int64(e.At), e.Actor, e.ActorID, e.Role, e.Address, e.Action, e.Resource, e.ResourceID, e.Method, e.Route, e.Status,
			string(Redact(e.Before)), string(Redact(e.After)))
		return err
	})
	if err != nil {
		s.writeFailures.Inc()
		s.logger.Error("audit entry not written", "action", e.Action, "resource", e.Resource, "resourceId", e.ResourceID,
			"actor", e.Actor, "route", e.Method+" "+e.Route, "err", err)
	}
	return err
}

// Query selects entries: every field left empty matches all.
type Query struct {
	Actor      string    // an actor's name or email, or its id (token:…, user:…)
	Action     string    // create, update, delete, sign_in …
	Resource   string    // webhook, rule, customer …
	ResourceID string    // with Resource or alone
	From, To   time.Time // From inclusive, To exclusive
	Before     int64     // the cursor: only entries older than this id
	Limit      int
}

// List returns the entries q selects, newest first, and the cursor of the
// next page (0 when this is the last).
func (s *Service) List(ctx context.Context, q Query) ([]Entry, int64, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Actor != "" {
		// Emails are stored in lower case, token names as given: equalities
		// the actor indexes answer.
		raw := strings.TrimSpace(q.Actor)
		p, l := arg(raw), arg(strings.ToLower(raw))
		where = append(where, fmt.Sprintf("(actor = %s OR actor = %s OR actor_id = %s)", p, l, p))
	}
	if q.Action != "" {
		where = append(where, "action = "+arg(q.Action))
	}
	if q.Resource != "" {
		where = append(where, "resource = "+arg(q.Resource))
	}
	if q.ResourceID != "" {
		where = append(where, "resource_id = "+arg(q.ResourceID))
	}
	if !q.From.IsZero() {
		where = append(where, "at >= "+arg(q.From.UnixMilli()))
	}
	if !q.To.IsZero() {
		where = append(where, "at < "+arg(q.To.UnixMilli()))
	}
	if q.Before > 0 {
		where = append(where, "seq < "+arg(q.Before))
	}
	sqlq := `SELECT seq, at, actor, actor_id, role, address, action, resource, resource_id, method, route, status, before_state, after_state FROM audit_log`
	if len(where) > 0 {
		sqlq += " WHERE " + strings.Join(where, " AND ")
	}
	sqlq += " ORDER BY seq DESC LIMIT " + arg(q.Limit+1)
	rows, err := s.db.QueryContext(ctx, sqlq, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		var before, after string
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.ActorID, &e.Role, &e.Address, &e.Action, &e.Resource, &e.ResourceID,
			&e.Method, &e.Route, &e.Status, &before, &after); err != nil {
			return nil, 0, err
		}
		if before != "" {
			e.Before = json.RawMessage(before)
		}
		if after != "" {
			e.After = json.RawMessage(after)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > q.Limit {
		out = out[:q.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// TokenRefused counts a request to /api/v1 refused for its bearer token
// (reason: missing or refused) and logs it at most once a second per
// reason. Such requests are not written to the trail: anyone can send them
// as fast as the network allows, and each would otherwise be a row.
func (s *Service) TokenRefused(r *http.Request, reason string) {
	if s == nil {
		return
	}
	s.tokenFailures.WithLabelValues(reason).Inc()
	now := time.Now().Unix()
	if last, ok := s.lastLog.Load(reason); !ok || last.(int64) < now {
		s.lastLog.Store(reason, now)
		s.logger.Info("api refused a bearer token", "reason", reason, "route", r.Method+" "+r.URL.Path, "address", ClientAddr(r))
	}
}

// noticeWindow is how long a refused sign-in from one address is recorded
// only once.
const noticeWindow = 5 * time.Minute

// Refused reports whether a sign-in refused by the rate limit from address
// should be recorded: the first from each address in five minutes is,
// the rest are only counted (cxloop_signin_refused_total) — refusals cost
// an attacker nothing, so recording each would let anyone fill the trail.
func (s *Service) Refused(address string) bool {
	if s == nil {
		return false
	}
	s.refusals.Inc()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if len(s.noticed) > 10_000 {
		for k, t := range s.noticed {
			if now.Sub(t) >= noticeWindow {
				delete(s.noticed, k)
			}
		}
	}
	if t, ok := s.noticed[address]; ok && now.Sub(t) < noticeWindow && !now.Before(t) {
		return false
	}
	s.noticed[address] = now
	return true
}

// ClientAddr is the address a request came from: the connection's peer.
// cxloop trusts no forwarding header (X-Forwarded-For and the like can be
// written by anyone), so behind a proxy every client has the proxy's
// address — the same address the console's sign-in limit counts.
func ClientAddr(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Latest is the id of the newest entry that may have changed data (0
// when there is none; sign-ins, sign-outs and exports change nothing): it
// moves with every change made through the API or the console, so a reader
// of what changes may make can tell whether any was made since.
func Latest(ctx context.Context, db *store.DB) (int64, error) {
	var id int64
	err := db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM audit_log WHERE action NOT IN ($1, $2, $3, $4, $5)`,
		SignIn, SignInFailed, SignInRefused, SignOut, Export).Scan(&id)
	return id, err
}
