package analytics

import (
	"log/slog"
	"net/http"

	"github.com/cxloop/cxloop/internal/httpio"
)

// API holds the /api/v1 analytics handlers.
type API struct {
	svc    *Service
	sync   func(r *http.Request)
	logger *slog.Logger
}

// NewAPI returns the handlers; sync, when not nil, waits briefly for the
// log's latest events to be read.
func NewAPI(svc *Service, sync func(r *http.Request), logger *slog.Logger) *API {
	return &API{svc: svc, sync: sync, logger: logger}
}

func (a *API) answer(w http.ResponseWriter, r *http.Request, fn func() (any, error)) {
	if a.sync != nil {
		a.sync(r)
	}
	out, err := fn()
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, out)
}

// Value answers GET /api/v1/customers/{id}/value.
func (a *API) Value(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, func() (any, error) { return a.svc.ValueOf(r.Context(), r.PathValue("id")) })
}

// AtRisk answers GET /api/v1/analytics/at-risk?silent=true&limit=100.
func (a *API) AtRisk(w http.ResponseWriter, r *http.Request) {
	limit, err := httpio.Int(r, "limit", 100)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	silent := r.URL.Query().Get("silent") == "true"
	a.answer(w, r, func() (any, error) {
		list, err := a.svc.AtRisk(r.Context(), silent, int(limit))
		return map[string]any{"customers": list}, err
	})
}

// Model answers GET /api/v1/analytics/clv-model.
func (a *API) Model(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, func() (any, error) {
		if err := a.svc.fresh(r.Context()); err != nil {
			return nil, err
		}
		return a.svc.Model(r.Context())
	})
}
