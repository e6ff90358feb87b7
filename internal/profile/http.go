package profile

import (
	"log/slog"
	"net/http"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/principal"
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
	if p, ok := principal.From(r.Context()); ok {
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
		httpio.CSVPages(w, a.logger, "customers", limit, offset, traitColumns, func(limit, offset int) ([]Summary, error) {
			return a.svc.Search(r.Context(), r.URL.Query().Get("q"), limit, offset)
		})
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

// traitColumns give the customers' CSV a column for each trait the
// Segment spec reserves for identify (address and company by their
// parts), and one, traits.other, holding the others as JSON.
var traitColumns = httpio.CSVOptions{
	Expand: map[string][]string{"traits": {"email", "name", "firstName", "lastName", "phone", "username", "title", "company.name",
		"address.street", "address.city", "address.postalCode", "address.state", "address.country", "birthday", "age", "gender", "website", "createdAt"}},
	Others: map[string]bool{"traits": true},
}
