// Package auth owns who may operate cxloop: API tokens with roles, console
// users with passwords, and console sessions with their CSRF tokens.
//
// It imports store, fault, httpio and audit (to name what a request changed) only.
package auth

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/principal"
	"github.com/cxloop/cxloop/internal/store"
)

// Roles, from most to least powerful (package principal).
const (
	RoleAdmin   = principal.RoleAdmin
	RoleOwner   = principal.RoleOwner
	RoleAgent   = principal.RoleAgent
	RoleAnalyst = principal.RoleAnalyst
)

// NormalizeRole maps an earlier role name to today's.
func NormalizeRole(r string) string { return principal.NormalizeRole(r) }

// ValidRole reports whether r is a known role (or an earlier name of one).
func ValidRole(r string) bool { return principal.ValidRole(r) }

const roleHelp = "role must be admin, owner, agent or analyst"

// Principal is an authenticated operator (package principal).
type Principal = principal.Principal

func joinTeams(teams []string) (string, error) {
	var out []string
	for _, t := range teams {
		t = strings.TrimSpace(t)
		if t == "" {
			continue
		}
		if strings.Contains(t, ",") {
			return "", fault.Field("teams", "a team name has no commas")
		}
		out = append(out, t)
	}
	return strings.Join(out, ","), nil
}

func splitTeams(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Service stores tokens, users and sessions.
type Service struct {
	db     *store.DB
	mu     sync.RWMutex
	tokens map[string]cachedToken // token hash -> principal

	keyMu     sync.Mutex
	deviceKey []byte // the installation's key for device cookies, once read
}

// cachedToken is a token read recently; it is read again after tokenTTL so
// that a revocation on any node takes effect everywhere within that time.
type cachedToken struct {
	p  Principal
	at time.Time
}

const tokenTTL = 30 * time.Second

// NewService returns the auth service over db.
func NewService(db *store.DB) *Service {
	return &Service{db: db, tokens: map[string]cachedToken{}}
}

// DeviceKey is the installation's secret for signing the console's device
// cookies (which browser signed in to which account before): made at
// random the first time it is asked for, kept in the settings, the same on
// every node.
func (s *Service) DeviceKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.deviceKey != nil {
		return s.deviceKey, nil
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE auth_state SET device_cookie_key = $1 WHERE device_cookie_key = ''`, store.Secret(32))
		return err
	})
	var v string
	if err == nil {
		err = s.db.QueryRowContext(ctx, `SELECT device_cookie_key FROM auth_state`).Scan(&v)
	}
	if err != nil {
		return nil, err
	}
	s.deviceKey = []byte(v)
	return s.deviceKey, nil
}

// CreateToken stores an API token with the role and returns its secret,
// shown only now. A non-empty secret is used as given.
func (s *Service) CreateToken(ctx context.Context, name, role, secret string) (string, error) {
	_, secret, err := s.CreateScopedToken(ctx, name, role, nil, secret)
	return secret, err
}

// TokenInfo describes a token without its secret.
type TokenInfo struct {
	ID        string        `json:"id"`
	Name      string        `json:"name"`
	Role      string        `json:"role"`
	Teams     []string      `json:"teams,omitempty"`
	CreatedAt store.Millis  `json:"createdAt"`
	RevokedAt *store.Millis `json:"revokedAt,omitempty"`
}

// CreateScopedToken stores a token whose case work is limited to teams
// (none: every team) and returns its id and secret.
func (s *Service) CreateScopedToken(ctx context.Context, name, role string, teams []string, secret string) (string, string, error) {
	if !ValidRole(role) {
		return "", "", fault.Field("role", roleHelp)
	}
	joined, err := joinTeams(teams)
	if err != nil {
		return "", "", err
	}
	if secret == "" {
		secret = "cxt_" + store.Secret(24)
	}
	id := store.NewID("tok")
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, name, token_hash, role, created_at, teams) VALUES ($1, $2, $3, $4, $5, $6)`,
			id, name, store.Hash(secret), NormalizeRole(role), store.Now(), joined)
		return err
	})
	if store.IsUniqueViolation(err) {
		return "", "", fault.New(fault.Conflict, "that token already exists")
	}
	return id, secret, err
}

// Tokens lists the tokens, without their secrets.
func (s *Service) Tokens(ctx context.Context) ([]TokenInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, role, teams, created_at, revoked_at FROM api_tokens ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TokenInfo{}
	for rows.Next() {
		var t TokenInfo
		var teams string
		var revoked sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Name, &t.Role, &teams, &t.CreatedAt, &revoked); err != nil {
			return nil, err
		}
		t.Teams = splitTeams(teams)
		if revoked.Valid {
			m := store.Millis(revoked.Int64)
			t.RevokedAt = &m
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// RevokeToken stops a token from working (on every node within 30 s).
func (s *Service) RevokeToken(ctx context.Context, id string) error {
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL`, store.Now(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.New(fault.NotFound, "no live token %q", id)
		}
		return nil
	})
	if err == nil {
		s.mu.Lock()
		s.tokens = map[string]cachedToken{}
		s.mu.Unlock()
	}
	return err
}

// CountTokens returns how many API tokens exist.
func (s *Service) CountTokens(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM api_tokens`).Scan(&n)
	return n, err
}

// Token returns the principal of an API token.
func (s *Service) Token(ctx context.Context, secret string) (Principal, error) {
	h := store.Hash(secret)
	s.mu.RLock()
	c, ok := s.tokens[h]
	s.mu.RUnlock()
	if ok && time.Since(c.at) < tokenTTL {
		return c.p, nil
	}
	var p Principal
	var id, teams string
	var revoked sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, role, teams, revoked_at FROM api_tokens WHERE token_hash = $1`, h).Scan(&id, &p.Name, &p.Role, &teams, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, fault.New(fault.Unauthorized, "unknown token")
	}
	if err != nil {
		return Principal{}, err
	}
	if revoked.Valid {
		return Principal{}, fault.New(fault.Unauthorized, "this token was revoked")
	}
	p.Role, p.Teams, p.Credential = NormalizeRole(p.Role), splitTeams(teams), "token:"+id
	s.mu.Lock()
	s.tokens[h] = cachedToken{p: p, at: time.Now()}
	s.mu.Unlock()
	return p, nil
}

// CreateUser adds a console user who signs in with email and password;
// teams, when given, limit an owner's or agent's cases to those teams.
func (s *Service) CreateUser(ctx context.Context, email, password, role string, teams ...string) error {
	email = strings.ToLower(strings.TrimSpace(email))
	if !strings.Contains(email, "@") {
		return fault.Field("email", "a user needs an email address")
	}
	if len(password) < 10 {
		return fault.Field("password", "a password needs at least 10 characters")
	}
	if !ValidRole(role) {
		return fault.Field("role", roleHelp)
	}
	joined, err := joinTeams(teams)
	if err != nil {
		return err
	}
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, password_hash, role, created_at, teams) VALUES ($1, $2, $3, $4, $5, $6)`,
			store.NewID("usr"), email, hash, NormalizeRole(role), store.Now(), joined)
		return err
	})
	if store.IsUniqueViolation(err) {
		return fault.Field("email", "a user with that email exists")
	}
	return err
}

// Login checks a user's password.
func (s *Service) Login(ctx context.Context, email, password string) (Principal, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var id, hash, teams string
	var disabled sql.NullInt64
	p := Principal{Name: email}
	err := s.db.QueryRowContext(ctx, `SELECT id, password_hash, role, teams, disabled_at FROM users WHERE email = $1`, email).Scan(&id, &hash, &p.Role, &teams, &disabled)
	p.Role, p.Teams, p.Credential = NormalizeRole(p.Role), splitTeams(teams), "user:"+id
	if errors.Is(err, sql.ErrNoRows) {
		_, _ = hashPassword(password) // same work either way
		return Principal{}, fault.New(fault.Unauthorized, "wrong email or password")
	}
	if err != nil {
		return Principal{}, err
	}
	if !checkPassword(hash, password) || disabled.Valid {
		return Principal{}, fault.New(fault.Unauthorized, "wrong email or password")
	}
	return p, nil
}

const pbkdf2Iterations = 210_000

func hashPassword(pw string) (string, error) {
	salt := []byte(store.Secret(16))
	key, err := pbkdf2.Key(sha256.New, pw, salt, pbkdf2Iterations, 32)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("pbkdf2-sha256$%d$%s$%s", pbkdf2Iterations, salt, base64.RawStdEncoding.EncodeToString(key)), nil
}

func checkPassword(stored, pw string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 4 || parts[0] != "pbkdf2-sha256" {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil {
		return false
	}
	key, err := pbkdf2.Key(sha256.New, pw, []byte(parts[2]), iter, 32)
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(base64.RawStdEncoding.EncodeToString(key)), []byte(parts[3])) == 1
}

// Session is a signed-in console visitor.
type Session struct {
	Principal
	CSRF string
}

// SessionTTL is how long a console session lasts.
const SessionTTL = 12 * time.Hour

// StartSession stores a new session and returns its secret id.
func (s *Service) StartSession(ctx context.Context, p Principal) (string, error) {
	id := store.Secret(32)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at < $1`, store.Now()); err != nil {
			return err
		}
		teams, _ := joinTeams(p.Teams)
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, principal, role, csrf, expires_at, teams, credential) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			store.Hash(id), p.Name, p.Role, store.Secret(24), time.Now().Add(SessionTTL).UnixMilli(), teams, p.Credential)
		return err
	})
	return id, err
}

// Session returns the live session with the secret id: one that has not
// expired and whose credential still works (a revoked token or a disabled
// user ends every session it opened, at once).
func (s *Service) Session(ctx context.Context, id string) (Session, error) {
	var ss Session
	var expires int64
	var teams string
	err := s.db.QueryRowContext(ctx, `SELECT principal, role, csrf, expires_at, teams, credential FROM sessions WHERE id_hash = $1`, store.Hash(id)).
		Scan(&ss.Name, &ss.Role, &ss.CSRF, &expires, &teams, &ss.Credential)
	ss.Role, ss.Teams = NormalizeRole(ss.Role), splitTeams(teams)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && expires < store.Now()) {
		return Session{}, fault.New(fault.Unauthorized, "not signed in")
	}
	if err != nil {
		return Session{}, err
	}
	live, err := s.credentialLive(ctx, ss.Credential)
	if err != nil {
		return Session{}, err
	}
	if !live {
		return Session{}, fault.New(fault.Unauthorized, "not signed in")
	}
	return ss, nil
}

// credentialLive reports whether a session's credential still works.
func (s *Service) credentialLive(ctx context.Context, cred string) (bool, error) {
	kind, id, _ := strings.Cut(cred, ":")
	var q string
	switch kind {
	case "token":
		q = `SELECT COUNT(*) FROM api_tokens WHERE id = $1 AND revoked_at IS NULL`
	case "user":
		q = `SELECT COUNT(*) FROM users WHERE id = $1 AND disabled_at IS NULL`
	default:
		return false, nil
	}
	var n int
	err := s.db.QueryRowContext(ctx, q, id).Scan(&n)
	return n == 1, err
}

// UserInfo describes a console user without their password.
type UserInfo struct {
	ID         string        `json:"id"`
	Email      string        `json:"email"`
	Role       string        `json:"role"`
	Teams      []string      `json:"teams,omitempty"`
	CreatedAt  store.Millis  `json:"createdAt"`
	DisabledAt *store.Millis `json:"disabledAt,omitempty"`
}

// Users lists the console users.
func (s *Service) Users(ctx context.Context) ([]UserInfo, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, email, role, teams, created_at, disabled_at FROM users ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []UserInfo{}
	for rows.Next() {
		var u UserInfo
		var teams string
		var disabled sql.NullInt64
		if err := rows.Scan(&u.ID, &u.Email, &u.Role, &teams, &u.CreatedAt, &disabled); err != nil {
			return nil, err
		}
		u.Role, u.Teams = NormalizeRole(u.Role), splitTeams(teams)
		if disabled.Valid {
			m := store.Millis(disabled.Int64)
			u.DisabledAt = &m
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// SetUserDisabled disables a user (they can no longer sign in and their
// sessions end at once) or enables them again. ref is the user's id or email.
func (s *Service) SetUserDisabled(ctx context.Context, ref string, disabled bool) (UserInfo, error) {
	var at any
	if disabled {
		at = store.Now()
	}
	ref = strings.TrimSpace(ref)
	var u UserInfo
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = $1 WHERE id = $2 OR email = $3`, at, ref, strings.ToLower(ref))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.New(fault.NotFound, "no user %q", ref)
		}
		if !disabled {
			return nil
		}
		// Ended, not suspended: enabling the user again does not revive them.
		_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE credential IN (SELECT 'user:' || id FROM users WHERE id = $1 OR email = $2)`, ref, strings.ToLower(ref))
		return err
	})
	if err != nil {
		return u, err
	}
	list, err := s.Users(ctx)
	if err != nil {
		return u, err
	}
	for _, x := range list {
		if x.ID == ref || x.Email == strings.ToLower(ref) {
			return x, nil
		}
	}
	return u, fault.New(fault.NotFound, "no user %q", ref)
}

// UserChange is an edit of a user: the fields sent are changed.
type UserChange struct {
	Disabled *bool     `json:"disabled"`
	Role     *string   `json:"role"`
	Teams    *[]string `json:"teams"`
}

// user returns one user by id or email.
func user(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, ref string) (UserInfo, error) {
	var u UserInfo
	var teams string
	var disabled sql.NullInt64
	ref = strings.TrimSpace(ref)
	err := q.QueryRowContext(ctx, `SELECT id, email, role, teams, created_at, disabled_at FROM users WHERE id = $1 OR email = $2`, ref, strings.ToLower(ref)).
		Scan(&u.ID, &u.Email, &u.Role, &teams, &u.CreatedAt, &disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return u, fault.New(fault.NotFound, "no user %q", ref)
	}
	u.Role, u.Teams = NormalizeRole(u.Role), splitTeams(teams)
	if disabled.Valid {
		m := store.Millis(disabled.Int64)
		u.DisabledAt = &m
	}
	return u, err
}

// UpdateUser disables or enables a user, or changes their role or teams,
// and returns them before and after. ref is the user's id or email.
// Disabling ends their sessions at once; a new role or teams end them too,
// so that the user signs in again under what they now may do.
func (s *Service) UpdateUser(ctx context.Context, ref string, c UserChange) (before, after UserInfo, err error) {
	if c.Disabled == nil && c.Role == nil && c.Teams == nil {
		return before, after, fault.Field("disabled", "send disabled (true or false), role or teams")
	}
	if c.Role != nil && !ValidRole(*c.Role) {
		return before, after, fault.Field("role", roleHelp)
	}
	var joined string
	if c.Teams != nil {
		if joined, err = joinTeams(*c.Teams); err != nil {
			return before, after, err
		}
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if before, err = user(ctx, tx, ref); err != nil {
			return err
		}
		if c.Disabled != nil {
			var at any
			if *c.Disabled {
				at = store.Now()
			}
			if before.DisabledAt == nil || !*c.Disabled { // keep the first time it was disabled
				if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = $1 WHERE id = $2`, at, before.ID); err != nil {
					return err
				}
			}
			if *c.Disabled { // ended, not suspended: enabling the user again does not revive them
				if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE credential = $1`, "user:"+before.ID); err != nil {
					return err
				}
			}
		}
		if c.Role != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET role = $1 WHERE id = $2`, NormalizeRole(*c.Role), before.ID); err != nil {
				return err
			}
		}
		if c.Teams != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE users SET teams = $1 WHERE id = $2`, joined, before.ID); err != nil {
				return err
			}
		}
		if after, err = user(ctx, tx, before.ID); err != nil {
			return err
		}
		if after.Role != before.Role || strings.Join(after.Teams, ",") != strings.Join(before.Teams, ",") {
			_, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE credential = $1`, "user:"+before.ID)
		}
		return err
	})
	return before, after, err
}

// DeleteUser removes a user: they can no longer sign in and their sessions
// end at once. It returns them as they were.
func (s *Service) DeleteUser(ctx context.Context, ref string) (UserInfo, error) {
	var before UserInfo
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if before, err = user(ctx, tx, ref); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE credential = $1`, "user:"+before.ID); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, before.ID)
		return err
	})
	return before, err
}

// RenameToken renames a token and returns it before and after.
func (s *Service) RenameToken(ctx context.Context, id, name string) (before, after TokenInfo, err error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return before, after, fault.Field("name", "a token's name is 1 to 200 characters")
	}
	list, err := s.Tokens(ctx)
	if err != nil {
		return before, after, err
	}
	found := false
	for _, t := range list {
		if t.ID == id {
			before, found = t, true
		}
	}
	if !found {
		return before, after, fault.New(fault.NotFound, "no token %q", id)
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET name = $1 WHERE id = $2`, name, id)
		return err
	})
	after = before
	after.Name = name
	s.mu.Lock()
	s.tokens = map[string]cachedToken{}
	s.mu.Unlock()
	return before, after, err
}

// EndSession deletes a session.
func (s *Service) EndSession(ctx context.Context, id string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, store.Hash(id))
		return err
	})
}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return principal.With(ctx, p)
}

// From returns the principal ctx carries.
func From(ctx context.Context) (Principal, bool) { return principal.From(ctx) }

// Member is a person or token whose case work a team includes.
type Member = principal.Member

// Members lists, by team name, the users and live tokens limited to each team.
func (s *Service) Members(ctx context.Context) (map[string][]Member, error) {
	out := map[string][]Member{}
	err := s.eachPrincipal(ctx, true, func(kind string, p Principal) {
		for _, t := range p.Teams {
			out[strings.ToLower(t)] = append(out[strings.ToLower(t)], Member{Kind: kind, Name: p.Name, Role: p.Role})
		}
	})
	return out, err
}

// Workers lists the active users and live tokens that work cases (admin,
// owner or agent), each with the teams it is limited to.
func (s *Service) Workers(ctx context.Context) ([]Principal, error) {
	var out []Principal
	err := s.eachPrincipal(ctx, false, func(_ string, p Principal) {
		if p.Role != RoleAnalyst {
			out = append(out, p)
		}
	})
	return out, err
}

// Assignable lists, sorted, who may be given a team's cases (the team
// named by its id or name): of the workers, those limited to that team or
// to no team at all.
func (s *Service) Assignable(ctx context.Context, team ...string) ([]string, error) {
	workers, err := s.Workers(ctx)
	if err != nil {
		return nil, err
	}
	return CanWork(workers, team...), nil
}

// CanWork are the names, sorted and once each, of the workers who may work
// the cases of the team named by its id or name.
func CanWork(workers []Principal, team ...string) []string {
	var out []string
	for _, p := range workers {
		if p.InTeam(team...) && !slices.Contains(out, p.Name) {
			out = append(out, p.Name)
		}
	}
	sort.Strings(out)
	return out
}

// eachPrincipal calls fn with every user (disabled ones too when
// withDisabled) and every live token, as the principal each signs in as.
func (s *Service) eachPrincipal(ctx context.Context, withDisabled bool, fn func(kind string, p Principal)) error {
	users := `SELECT email, role, teams FROM users`
	if !withDisabled {
		users += ` WHERE disabled_at IS NULL`
	}
	for _, q := range []struct{ kind, query string }{
		{"user", users + ` ORDER BY email`},
		{"token", `SELECT name, role, teams FROM api_tokens WHERE revoked_at IS NULL ORDER BY name`},
	} {
		rows, err := s.db.QueryContext(ctx, q.query)
		if err != nil {
			return err
		}
		for rows.Next() {
			var name, role, teams string
			if err := rows.Scan(&name, &role, &teams); err != nil {
				rows.Close()
				return err
			}
			fn(q.kind, Principal{Name: name, Role: NormalizeRole(role), Teams: splitTeams(teams)})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}
