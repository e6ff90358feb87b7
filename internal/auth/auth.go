// Package auth owns who may operate cxloop: API tokens with roles, console
// users with passwords, and console sessions with their CSRF tokens.
//
// It imports store and fault only.
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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// Roles, from most to least powerful.
const (
	RoleAdmin  = "admin"  // everything, including sources, tokens and users
	RoleEditor = "editor" // reads and changes customer-facing data
	RoleViewer = "viewer" // reads only
)

var rank = map[string]int{RoleAdmin: 3, RoleEditor: 2, RoleViewer: 1}

// ValidRole reports whether r is a known role.
func ValidRole(r string) bool { return rank[r] > 0 }

// Principal is an authenticated operator.
type Principal struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// Can reports whether p's role is at least role.
func (p Principal) Can(role string) bool { return rank[p.Role] >= rank[role] && rank[role] > 0 }

// Service stores tokens, users and sessions.
type Service struct {
	db     *store.DB
	mu     sync.RWMutex
	tokens map[string]Principal // token hash -> principal
}

// NewService returns the auth service over db.
func NewService(db *store.DB) *Service {
	return &Service{db: db, tokens: map[string]Principal{}}
}

// CreateToken stores an API token with the role and returns its secret,
// shown only now. A non-empty secret is used as given.
func (s *Service) CreateToken(ctx context.Context, name, role, secret string) (string, error) {
	if !ValidRole(role) {
		return "", fault.Field("role", "role must be admin, editor or viewer")
	}
	if secret == "" {
		secret = "cxt_" + store.Secret(24)
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (id, name, token_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)`,
			store.NewID("tok"), name, store.Hash(secret), role, store.Now())
		return err
	})
	if store.IsUniqueViolation(err) {
		return "", fault.New(fault.Conflict, "that token already exists")
	}
	return secret, err
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
	p, ok := s.tokens[h]
	s.mu.RUnlock()
	if ok {
		return p, nil
	}
	err := s.db.QueryRowContext(ctx, `SELECT name, role FROM api_tokens WHERE token_hash = $1`, h).Scan(&p.Name, &p.Role)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, fault.New(fault.Unauthorized, "unknown token")
	}
	if err != nil {
		return Principal{}, err
	}
	s.mu.Lock()
	s.tokens[h] = p
	s.mu.Unlock()
	return p, nil
}

// CreateUser adds a console user who signs in with email and password.
func (s *Service) CreateUser(ctx context.Context, email, password, role string) error {
	email = strings.ToLower(strings.TrimSpace(email))
	if !strings.Contains(email, "@") {
		return fault.Field("email", "a user needs an email address")
	}
	if len(password) < 10 {
		return fault.Field("password", "a password needs at least 10 characters")
	}
	if !ValidRole(role) {
		return fault.Field("role", "role must be admin, editor or viewer")
	}
	hash, err := hashPassword(password)
	if err != nil {
		return err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)`,
			store.NewID("usr"), email, hash, role, store.Now())
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
	var hash string
	p := Principal{Name: email}
	err := s.db.QueryRowContext(ctx, `SELECT password_hash, role FROM users WHERE email = $1`, email).Scan(&hash, &p.Role)
	if errors.Is(err, sql.ErrNoRows) {
		_, _ = hashPassword(password) // same work either way
		return Principal{}, fault.New(fault.Unauthorized, "wrong email or password")
	}
	if err != nil {
		return Principal{}, err
	}
	if !checkPassword(hash, password) {
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
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (id_hash, principal, role, csrf, expires_at) VALUES ($1, $2, $3, $4, $5)`,
			store.Hash(id), p.Name, p.Role, store.Secret(24), time.Now().Add(SessionTTL).UnixMilli())
		return err
	})
	return id, err
}

// Session returns the live session with the secret id.
func (s *Service) Session(ctx context.Context, id string) (Session, error) {
	var ss Session
	var expires int64
	err := s.db.QueryRowContext(ctx, `SELECT principal, role, csrf, expires_at FROM sessions WHERE id_hash = $1`, store.Hash(id)).
		Scan(&ss.Name, &ss.Role, &ss.CSRF, &expires)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && expires < store.Now()) {
		return Session{}, fault.New(fault.Unauthorized, "not signed in")
	}
	return ss, err
}

// EndSession deletes a session.
func (s *Service) EndSession(ctx context.Context, id string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = $1`, store.Hash(id))
		return err
	})
}

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal ctx carries.
func From(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
