package auth

import (
	"log/slog"
	"net/http"

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
		Email    string `json:"email"`
		Password string `json:"password"`
		Role     string `json:"role"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if err := a.svc.CreateUser(r.Context(), in.Email, in.Password, in.Role); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, map[string]string{"email": in.Email, "role": in.Role})
}

// CreateToken answers POST /api/v1/tokens {name, role} with the new token, shown once.
func (a *API) CreateToken(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name string `json:"name"`
		Role string `json:"role"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	secret, err := a.svc.CreateToken(r.Context(), in.Name, in.Role, "")
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, map[string]string{"name": in.Name, "role": in.Role, "token": secret})
}
