package privacy

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/principal"
)

// API is the /api/v1 surface of erasure, export and suppression.
type API struct {
	s      *Service
	logger *slog.Logger
}

// NewAPI returns the handlers.
func NewAPI(s *Service, logger *slog.Logger) *API { return &API{s: s, logger: logger} }

// Actor names who made a request, for the records an erasure keeps.
func Actor(r *http.Request) string {
	if p, ok := principal.From(r.Context()); ok {
		return p.Name
	}
	return ""
}

// Erase handles DELETE /api/v1/customers/{id}[?suppress=true].
func (a *API) Erase(w http.ResponseWriter, r *http.Request) {
	suppress := false
	if v := r.URL.Query().Get("suppress"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			httpio.Error(w, a.logger, fault.Field("suppress", "suppress must be true or false"))
			return
		}
		suppress = b
	}
	out, err := a.s.Erase(r.Context(), r.PathValue("id"), suppress, Actor(r))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	// The trail keeps the profile id, never the identity it was named by.
	audit.Note(r.Context(), audit.Change{Action: "erase", Resource: "customer", ResourceID: out.Customer,
		After: map[string]any{"profiles": out.Profiles, "suppressionId": out.SuppressionID, "eventsTombstoned": out.Tombstoned}})
	httpio.JSON(w, http.StatusOK, out)
}

// Export handles GET /api/v1/customers/{id}/export: one JSON document,
// offered as a download.
func (a *API) Export(w http.ResponseWriter, r *http.Request) {
	out, err := a.s.Export(r.Context(), r.PathValue("id"))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	id := out.Identities.Customers[0]
	audit.Note(r.Context(), audit.Change{Action: "export", Resource: "customer", ResourceID: id})
	w.Header().Set("Content-Disposition", `attachment; filename="`+strings.ReplaceAll(id, `"`, "")+`-export.json"`)
	httpio.JSON(w, http.StatusOK, out)
}

// Suppressions handles GET /api/v1/suppressions.
func (a *API) Suppressions(w http.ResponseWriter, r *http.Request) {
	csv, err := httpio.WantsCSV(r)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	list, err := a.s.Suppressions(r.Context())
	if csv {
		httpio.CSVList(w, a.logger, "suppressions", list, err, httpio.CSVOptions{})
		return
	}
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"suppressions": list})
}

// Lift handles DELETE /api/v1/suppressions/{id}.
func (a *API) Lift(w http.ResponseWriter, r *http.Request) {
	p, err := a.s.Lift(r.Context(), r.PathValue("id"))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "delete", Resource: "suppression", ResourceID: p.ID, Before: p})
	httpio.JSON(w, http.StatusOK, p)
}

// Suppress handles POST /api/v1/suppressions {userIds, anonymousIds,
// emails, phones}: 201 with the suppression (no identity in clear).
func (a *API) Suppress(w http.ResponseWriter, r *http.Request) {
	var in Identities
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	p, err := a.s.Suppress(r.Context(), in, Actor(r))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "create", Resource: "suppression", ResourceID: p.ID})
	httpio.JSON(w, http.StatusCreated, p)
}
