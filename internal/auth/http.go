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
	id := r.PathValue("id")
	var before *TokenInfo
	if list, err := a.svc.Tokens(r.Context()); err == nil {
		for i := range list {
			if list[i].ID == id {
				before = &list[i]
			}
		}
	}
	if err := a.svc.RevokeToken(r.Context(), id); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "revoke", Resource: "token", ResourceID: id, Before: before})
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

// UpdateUser answers PATCH /api/v1/users/{id} {disabled, role, teams}: a
// disabled user cannot sign in and their console sessions end at once; a
// new role or teams end their sessions too.
func (a *API) UpdateUser(w http.ResponseWriter, r *http.Request) {
	var in UserChange
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	before, after, err := a.svc.UpdateUser(r.Context(), r.PathValue("id"), in)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	action := "update"
	if in.Role == nil && in.Teams == nil && (before.DisabledAt == nil) != (after.DisabledAt == nil) {
		action = map[bool]string{true: "disable", false: "enable"}[after.DisabledAt != nil]
	}
	audit.Note(r.Context(), audit.Change{Action: action, Resource: "user", ResourceID: after.ID, Before: before, After: after})
	httpio.JSON(w, http.StatusOK, after)
}

// DeleteUser answers DELETE /api/v1/users/{id} (an id or an email): the
// user can no longer sign in and their sessions end at once.
func (a *API) DeleteUser(w http.ResponseWriter, r *http.Request) {
	before, err := a.svc.DeleteUser(r.Context(), r.PathValue("id"))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "delete", Resource: "user", ResourceID: before.ID, Before: before})
	w.WriteHeader(http.StatusNoContent)
}

// UpdateToken answers PATCH /api/v1/tokens/{id} {name}.
func (a *API) UpdateToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name *string `json:"name"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if in.Name == nil {
		httpio.Error(w, a.logger, fault.Field("name", "send the token's new name"))
		return
	}
	before, after, err := a.svc.RenameToken(r.Context(), r.PathValue("id"), *in.Name)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "update", Resource: "token", ResourceID: after.ID, Before: before, After: after})
	httpio.JSON(w, http.StatusOK, after)
}
