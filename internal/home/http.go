package home

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/principal"
)

// API holds GET /api/v1/home.
type API struct {
	svc    *Service
	sync   func(r *http.Request)
	logger *slog.Logger
}

// NewAPI returns the handler; sync, when not nil, waits briefly for the
// log's latest events to be read first.
func NewAPI(svc *Service, sync func(r *http.Request), logger *slog.Logger) *API {
	return &API{svc: svc, sync: sync, logger: logger}
}

// DefaultDays is the period a summary covers unless asked otherwise.
const DefaultDays = 30

// Days reads ?days= (7, 30 or 90; DefaultDays when absent).
func Days(r *http.Request) (int, error) {
	v := r.URL.Query().Get("days")
	if v == "" {
		return DefaultDays, nil
	}
	d, err := strconv.Atoi(v)
	if err != nil || !validDays(d) {
		return 0, fault.Field("days", "days is 7, 30 or 90")
	}
	return d, nil
}

// Summary answers GET /api/v1/home?days=30: the home page's figures for
// the caller (cases limited to their teams when they are).
func (a *API) Summary(w http.ResponseWriter, r *http.Request) {
	days, err := Days(r)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if a.sync != nil {
		a.sync(r)
	}
	p, _ := principal.From(r.Context())
	out, err := a.svc.Summary(r.Context(), p, days)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, out)
}
