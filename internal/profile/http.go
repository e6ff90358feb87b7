package profile

import (
	"log/slog"
	"net/http"

	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/httpio"
)

// API serves profiles over the management API.
type API struct {
	svc    *Service
	logger *slog.Logger
}

// NewAPI returns the profile API handlers.
func NewAPI(svc *Service, logger *slog.Logger) *API { return &API{svc: svc, logger: logger} }

// GetCustomer answers GET /api/v1/customers/{id}; id is any known identity.
func (a *API) GetCustomer(w http.ResponseWriter, r *http.Request) {
	c, err := a.svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, c)
}

// Timeline answers GET /api/v1/customers/{id}/timeline?limit=&offset=.
func (a *API) Timeline(w http.ResponseWriter, r *http.Request) {
	limit, offset, err := httpio.Page(r, 100, 1000)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	id, events, err := a.svc.Timeline(r.Context(), r.PathValue("id"), limit+1, offset)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if p, ok := auth.From(r.Context()); ok {
		events = eventlog.ScopeCases(events, func(team string) bool { return p.InTeam(team) })
	}
	resp := map[string]any{"customerId": id}
	page(resp, events, limit, offset)
	httpio.JSON(w, http.StatusOK, resp)
}

// page fills resp with up to limit events and the offset of the next page.
func page(resp map[string]any, events []eventlog.Event, limit, offset int) {
	var next any
	if len(events) > limit {
		events = events[:limit]
		next = offset + limit
	}
	out := make([]EventView, len(events))
	for i, e := range events {
		out[i] = View(e, resp["customerId"].(string))
	}
	resp["events"] = out
	resp["nextOffset"] = next
}

// Search answers GET /api/v1/customers?q=&limit=&offset=.
func (a *API) Search(w http.ResponseWriter, r *http.Request) {
	csv, err := httpio.WantsCSV(r)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	limit, offset, err := httpio.ListPage(r, 50, 500, csv)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if csv {
		// Page by page, each read as the one before is written.
		out := httpio.NewCSV(w, a.logger, "customers", Summary{}, httpio.CSVOptions{})
		for left := limit; left > 0; {
			page, err := a.svc.Search(r.Context(), r.URL.Query().Get("q"), min(left, 500), offset)
			for i := 0; err == nil && i < len(page); i++ {
				err = out.Write(page[i])
			}
			if err != nil || len(page) < min(left, 500) {
				out.Finish(err)
				return
			}
			left, offset = left-len(page), offset+len(page)
		}
		out.Finish(nil)
		return
	}
	found, err := a.svc.Search(r.Context(), r.URL.Query().Get("q"), limit+1, offset)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	var next any
	if len(found) > limit {
		found, next = found[:limit], offset+limit
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"customers": found, "nextOffset": next})
}

// GetAccount answers GET /api/v1/accounts/{id}.
func (a *API) GetAccount(w http.ResponseWriter, r *http.Request) {
	acc, err := a.svc.Account(r.Context(), r.PathValue("id"))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, acc)
}
