package home

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

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

// Summary answers GET /api/v1/home?days=30 (or ?from=&to=, with
// compare_from= and compare_to=): the home page's figures for the caller
// (cases limited to their teams when they are).
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
	var out *Summary
	if q := r.URL.Query(); q.Has("from") || q.Has("to") {
		out, err = a.period(r, p)
	} else {
		out, err = a.svc.Summary(r.Context(), p, days)
	}
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, out)
}

// period is the summary of ?from= to ?to= (now when absent), compared with
// ?compare_from= to ?compare_to= (by default the period of the same
// length just before).
func (a *API) period(r *http.Request, p principal.Principal) (*Summary, error) {
	var t [4]time.Time
	for i, name := range []string{"from", "to", "compare_from", "compare_to"} {
		v, err := httpio.Time(r, name)
		if err != nil {
			return nil, err
		}
		t[i] = v
	}
	from, to, cfrom, cto := t[0], t[1], t[2], t[3]
	if from.IsZero() {
		return nil, fault.Field("from", "from is required with to")
	}
	if to.IsZero() {
		to = a.svc.Now().UTC().Add(time.Millisecond)
	}
	if cfrom.IsZero() != cto.IsZero() {
		return nil, fault.Field("compare_to", "comparing needs both compare_from and compare_to")
	}
	if cfrom.IsZero() {
		cfrom, cto = from.Add(-to.Sub(from)), from
	}
	return a.svc.SummaryFor(r.Context(), p, from, to, cfrom, cto)
}
