package jobs

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
)

// API holds the /api/v1/jobs handlers.
type API struct {
	svc    *Service
	logger *slog.Logger
}

// NewAPI returns the job handlers.
func NewAPI(svc *Service, logger *slog.Logger) *API { return &API{svc: svc, logger: logger} }

// List answers GET /api/v1/jobs?state=&kind=&limit=&cursor=: jobs newest
// first, the counts by kind, queue and state, and the next page's cursor.
func (a *API) List(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			httpio.Error(w, a.logger, fault.Field("limit", "limit is a number from 1 to 1000"))
			return
		}
		limit = n
	}
	list, next, err := a.svc.List(r.Context(), Filter{State: q.Get("state"), Kind: q.Get("kind"), Limit: limit, Cursor: q.Get("cursor")})
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	counts, err := a.svc.Counts(r.Context())
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if list == nil {
		list = []Job{}
	}
	if counts == nil {
		counts = []Count{}
	}
	out := map[string]any{"jobs": list, "counts": counts, "working": a.svc.Working()}
	if next != "" {
		out["next"] = next
	}
	httpio.JSON(w, http.StatusOK, out)
}

func (a *API) id(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		httpio.Error(w, a.logger, fault.New(fault.NotFound, "no job %q", r.PathValue("id")))
		return 0, false
	}
	return id, true
}

// Get answers GET /api/v1/jobs/{id}.
func (a *API) Get(w http.ResponseWriter, r *http.Request) {
	id, ok := a.id(w, r)
	if !ok {
		return
	}
	j, err := a.svc.Get(r.Context(), id)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, j)
}

// Retry answers POST /api/v1/jobs/{id}/retry: a failed, cancelled or
// waiting job runs again now (409 while it runs).
func (a *API) Retry(w http.ResponseWriter, r *http.Request) {
	id, ok := a.id(w, r)
	if !ok {
		return
	}
	before, _ := a.svc.Get(r.Context(), id)
	j, err := a.svc.Retry(r.Context(), id)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "retry", Resource: "job", ResourceID: strconv.FormatInt(id, 10), Before: before, After: j})
	httpio.JSON(w, http.StatusOK, j)
}

// Cancel answers POST /api/v1/jobs/{id}/cancel: a job not yet finished
// does not run (again); 409 once it has finished.
func (a *API) Cancel(w http.ResponseWriter, r *http.Request) {
	id, ok := a.id(w, r)
	if !ok {
		return
	}
	before, _ := a.svc.Get(r.Context(), id)
	j, err := a.svc.Cancel(r.Context(), id)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "cancel", Resource: "job", ResourceID: strconv.FormatInt(id, 10), Before: before, After: j})
	httpio.JSON(w, http.StatusOK, j)
}
