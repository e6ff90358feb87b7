package cases

import (
	"net/http"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
)

// CreateAlert answers POST /api/v1/alerts {name, metric, survey?, by?,
// trait?, window?, direction?, alpha?, min_n?, then}.
func (a *API) CreateAlert(w http.ResponseWriter, r *http.Request) {
	var in Alert
	if err := httpio.Decode(r, &in); err != nil {
		a.fail(w, err)
		return
	}
	out, err := a.svc.CreateAlert(r.Context(), &in)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, out)
}

// Alerts answers GET /api/v1/alerts.
func (a *API) Alerts(w http.ResponseWriter, r *http.Request) {
	list, err := a.svc.Alerts(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"alerts": list})
}

// Alert answers GET /api/v1/alerts/{id}.
func (a *API) Alert(w http.ResponseWriter, r *http.Request) {
	out, err := a.svc.GetAlert(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, out)
}

// DeleteAlert answers DELETE /api/v1/alerts/{id}.
func (a *API) DeleteAlert(w http.ResponseWriter, r *http.Request) {
	before, _ := a.svc.GetAlert(r.Context(), r.PathValue("id"))
	if err := a.svc.DeleteAlert(r.Context(), r.PathValue("id")); err != nil {
		a.fail(w, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "delete", Resource: "alert", ResourceID: r.PathValue("id"), Before: before})
	w.WriteHeader(http.StatusNoContent)
}

// UpdateAlert answers PATCH /api/v1/alerts/{id} {"enabled": false|true}: a
// paused alert is not evaluated and fires nothing.
func (a *API) UpdateAlert(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Enabled *bool `json:"enabled"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		a.fail(w, err)
		return
	}
	if in.Enabled == nil {
		a.fail(w, fault.Field("enabled", "send {\"enabled\": false} to pause the alert or true to resume it"))
		return
	}
	before, after, err := a.svc.SetAlertEnabled(r.Context(), r.PathValue("id"), *in.Enabled)
	if err != nil {
		a.fail(w, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: map[bool]string{true: "resume", false: "pause"}[after.Enabled], Resource: "alert", ResourceID: after.ID, Before: before, After: after})
	httpio.JSON(w, http.StatusOK, after)
}

// CheckAlert answers GET /api/v1/alerts/{id}/check: each group's evidence
// now, without acting on it.
func (a *API) CheckAlert(w http.ResponseWriter, r *http.Request) {
	if a.sync != nil {
		a.sync(r)
	}
	list, err := a.svc.Check(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"groups": list})
}

// AlertFirings answers GET /api/v1/alerts/{id}/firings?limit=&from=&to=:
// when the alert fired (in the period, newest first), for which group,
// with its evidence and case, and how many times in all.
func (a *API) AlertFirings(w http.ResponseWriter, r *http.Request) {
	csv, err := httpio.WantsCSV(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	limit, _, err := httpio.ListPage(r, 100, 1000, csv)
	if err != nil {
		a.fail(w, err)
		return
	}
	from, to, err := httpio.Span(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	list, total, err := a.svc.AlertFiringsIn(r.Context(), r.PathValue("id"), from, to, limit)
	if csv {
		httpio.CSVList(w, a.logger, "alert-firings-"+r.PathValue("id"), list, err, httpio.CSVOptions{})
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"firings": list, "total": total})
}
