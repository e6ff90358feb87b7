package audit

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
)

// API serves the trail over the management API.
type API struct {
	svc    *Service
	logger *slog.Logger
}

// NewAPI returns the trail's API handlers.
func NewAPI(svc *Service, logger *slog.Logger) *API { return &API{svc: svc, logger: logger} }

// ParseQuery reads a trail query from the request's parameters: actor,
// action, resource, resourceId, from, to (dates or RFC 3339 times), cursor
// and limit (1–500, default 100).
func ParseQuery(r *http.Request) (Query, error) {
	v := r.URL.Query()
	q := Query{Actor: strings.TrimSpace(v.Get("actor")), Action: strings.TrimSpace(v.Get("action")),
		Resource: strings.TrimSpace(v.Get("resource")), ResourceID: strings.TrimSpace(v.Get("resourceId"))}
	var err error
	if q.From, err = httpio.Time(r, "from"); err != nil {
		return q, err
	}
	if q.To, err = httpio.Time(r, "to"); err != nil {
		return q, err
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return q, fault.Field("to", "to must be later than from")
	}
	if c := strings.TrimSpace(v.Get("cursor")); c != "" {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil || n <= 0 {
			return q, fault.Field("cursor", "cursor is the next value of a previous page")
		}
		q.Before = n
	}
	limit, err := httpio.Int(r, "limit", 100)
	if err == nil && (limit < 1 || limit > 500) {
		err = fault.Field("limit", "limit must be between 1 and 500")
	}
	q.Limit = int(limit)
	return q, err
}

// List answers GET /api/v1/audit?actor=&action=&resource=&resourceId=&from=&to=&cursor=&limit=:
// the entries, newest first, and next, the cursor of the following page
// (null on the last).
func (a *API) List(w http.ResponseWriter, r *http.Request) {
	q, err := ParseQuery(r)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	list, next, err := a.svc.List(r.Context(), q)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	var cursor any
	if next > 0 {
		cursor = strconv.FormatInt(next, 10)
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"entries": list, "next": cursor})
}
