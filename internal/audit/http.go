package audit

import (
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

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

// params are the query parameters GET /api/v1/audit takes.
var params = []string{"actor", "action", "resource", "resourceId", "from", "to", "cursor", "limit", "format"}

// dateOnly is how a to= given as a date alone is written.
const dateOnly = "2006-01-02"

// ParseQuery reads a trail query from the request's parameters: actor,
// action, resource, resourceId, from, to (dates or RFC 3339 times), cursor
// and limit (1–500, default 100). A to given as a date alone (2026-01-31)
// includes that whole day: the entries before the next day's midnight UTC.
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
	if _, err := time.Parse(dateOnly, strings.TrimSpace(v.Get("to"))); err == nil {
		q.To = q.To.AddDate(0, 0, 1)
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

// knownParams refuses a query parameter the trail does not take, naming
// it: a misspelt filter would otherwise silently match everything.
func knownParams(r *http.Request) error {
	var unknown []string
	for k := range r.URL.Query() {
		if !slices.Contains(params, k) {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	slices.Sort(unknown)
	return fault.Field(unknown[0], "unknown parameter %q; the trail takes %s", unknown[0], strings.Join(params, ", "))
}

// exportPage is how many entries a CSV export reads at a time.
const exportPage = 500

// List answers GET /api/v1/audit?actor=&action=&resource=&resourceId=&from=&to=&cursor=&limit=&format=:
// the entries, newest first, and next, the cursor of the following page
// (null on the last). As CSV (?format=csv or Accept: text/csv) it is every
// entry the filters select, from the cursor on (limit, when given, caps
// the rows, without a maximum), read a page at a time.
func (a *API) List(w http.ResponseWriter, r *http.Request) {
	if err := knownParams(r); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	csv, err := httpio.WantsCSV(r)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	left := httpio.All // an export's rows: every entry unless limit is given (then without a maximum)
	if csv && r.URL.Query().Get("limit") != "" {
		n, err := httpio.Int(r, "limit", 0)
		if err == nil && n < 1 {
			err = fault.Field("limit", "limit must be at least 1")
		}
		if err != nil {
			httpio.Error(w, a.logger, err)
			return
		}
		left = int(min(n, int64(httpio.All)))
		v := r.URL.Query()
		v.Del("limit")
		r = r.Clone(r.Context())
		r.URL.RawQuery = v.Encode()
	}
	q, err := ParseQuery(r)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if csv {
		out := httpio.NewCSV(w, a.logger, "audit", Entry{}, httpio.CSVOptions{})
		out.Finish(func() error {
			for left > 0 {
				q.Limit = min(left, exportPage)
				list, next, err := a.svc.List(r.Context(), q)
				if err != nil {
					return err
				}
				for i := range list {
					if err := out.Write(&list[i]); err != nil {
						return err
					}
				}
				left -= len(list)
				if next == 0 {
					return nil
				}
				q.Before = next
			}
			return nil
		}())
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
