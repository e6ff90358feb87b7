package auth

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
)

// API serves operators (users and tokens) over the management API.
type API struct {
	svc    *Service
	logger *slog.Logger
}

// NewAPI returns the auth API handlers.
func NewAPI(svc *Service, logger *slog.Logger) *API { return &API{svc: svc, logger: logger} }

// CreateUser answers POST /api/v1/users {email, password, role}.
func (a *API) CreateUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Email    string   `json:"email"`
		Password string   `json:"password"`
		Role     string   `json:"role"`
		Teams    []string `json:"teams"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if err := a.svc.CreateUser(r.Context(), in.Email, in.Password, in.Role, in.Teams...); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	// A user is named by the email they sign in with (an operator's, not a customer's).
	audit.Note(r.Context(), audit.Change{ResourceID: strings.ToLower(strings.TrimSpace(in.Email))})
	httpio.JSON(w, http.StatusCreated, map[string]any{"email": in.Email, "role": NormalizeRole(in.Role), "teams": in.Teams})
}

// CreateToken answers POST /api/v1/tokens {name, role, teams?} with the new
// token, shown once; teams limit an owner's or agent's cases.
func (a *API) CreateToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name  string   `json:"name"`
		Role  string   `json:"role"`
		Teams []string `json:"teams"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	id, secret, err := a.svc.CreateScopedToken(r.Context(), in.Name, in.Role, in.Teams, "")
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, map[string]any{"id": id, "name": in.Name, "role": NormalizeRole(in.Role), "teams": in.Teams, "token": secret})
}

// Tokens answers GET /api/v1/tokens: every token, without secrets.
func (a *API) Tokens(w http.ResponseWriter, r *http.Request) {
	list, err := a.svc.Tokens(r.Context())
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"tokens": list})
}

// RevokeToken answers DELETE /api/v1/tokens/{id}.
func (a *API) RevokeToken(w http.ResponseWriter, r *http.Request) {
	if err := a.svc.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"revoked": true})
}

// Users answers GET /api/v1/users: every console user, without passwords.
func (a *API) Users(w http.ResponseWriter, r *http.Request) {
	list, err := a.svc.Users(r.Context())
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"users": list})
}

// UpdateUser answers PATCH /api/v1/users/{id} {"disabled": true|false}: a
// disabled user cannot sign in and their console sessions end at once.
func (a *API) UpdateUser(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Disabled *bool `json:"disabled"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if in.Disabled == nil {
		httpio.Error(w, a.logger, fault.Field("disabled", "say whether the user is disabled: true or false"))
		return
	}
	u, err := a.svc.SetUserDisabled(r.Context(), r.PathValue("id"), *in.Disabled)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, u)
}
