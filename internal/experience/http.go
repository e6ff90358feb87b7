package experience

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/cxloop/cxloop/internal/audit"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
)

// API holds the /api/v1 handlers of the connected experiences.
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

func (a *API) answer(w http.ResponseWriter, r *http.Request, status int, fn func() (any, error)) {
	httpio.Answer(w, r, a.logger, a.sync, status, fn)
}

// Recommendations answers GET /api/v1/customers/{id}/recommendations?n=10&context=.
func (a *API) Recommendations(w http.ResponseWriter, r *http.Request) {
	n, err := count(r)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	a.answer(w, r, http.StatusOK, func() (any, error) {
		list, err := a.svc.Recommendations(r.Context(), r.PathValue("id"), n, r.URL.Query().Get("context"))
		return map[string]any{"items": list}, err
	})
}

// Similar answers GET /api/v1/items/{id}/similar?n=10.
func (a *API) Similar(w http.ResponseWriter, r *http.Request) {
	n, err := count(r)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	a.answer(w, r, http.StatusOK, func() (any, error) {
		list, err := a.svc.Similar(r.Context(), r.PathValue("id"), n)
		return map[string]any{"items": list}, err
	})
}

// BuyAgain answers GET /api/v1/customers/{id}/buy-again.
func (a *API) BuyAgain(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, http.StatusOK, func() (any, error) {
		list, err := a.svc.BuyAgain(r.Context(), r.PathValue("id"))
		return map[string]any{"items": list}, err
	})
}

// Reorder answers POST /api/v1/customers/{id}/reorder {"from": "last_order" | "usual"}: 201 with the proposal.
func (a *API) Reorder(w http.ResponseWriter, r *http.Request) {
	var in struct {
		From string `json:"from"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	a.answer(w, r, http.StatusCreated, func() (any, error) { return a.svc.Reorder(r.Context(), r.PathValue("id"), in.From) })
}

// Proposals answers GET /api/v1/customers/{id}/proposals.
func (a *API) Proposals(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, http.StatusOK, func() (any, error) {
		list, err := a.svc.Proposals(r.Context(), r.PathValue("id"))
		return map[string]any{"proposals": list}, err
	})
}

// count reads n, how many items to answer: 1–100, 10 by default.
func count(r *http.Request) (int, error) {
	n, err := httpio.Int(r, "n", 10)
	if err == nil && (n < 1 || n > 100) {
		err = fault.Field("n", "n is between 1 and 100")
	}
	return int(n), err
}

// Replenishments answers GET /api/v1/customers/{id}/replenishments: the
// predicted next needs and the replenishments scheduled or done.
func (a *API) Replenishments(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, http.StatusOK, func() (any, error) {
		needs, reps, err := a.svc.Needs(r.Context(), r.PathValue("id"))
		return map[string]any{"needs": needs, "replenishments": reps}, err
	})
}

// CancelReplenishment answers POST /api/v1/replenishments/{id}/cancel.
func (a *API) CancelReplenishment(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, http.StatusOK, func() (any, error) { return a.svc.Cancel(r.Context(), r.PathValue("id")) })
}

// GetReplenishSettings answers GET /api/v1/replenishment/settings.
func (a *API) GetReplenishSettings(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, http.StatusOK, func() (any, error) { return a.svc.ReplenishSettings(r.Context()) })
}

// SetReplenishSettings answers PUT /api/v1/replenishment/settings {lead_days, cancel_hours}.
func (a *API) SetReplenishSettings(w http.ResponseWriter, r *http.Request) {
	var in ReplenishSettings
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	before, err := a.svc.ReplenishSettings(r.Context())
	if err == nil {
		err = a.svc.SetReplenishSettings(r.Context(), in)
	}
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "update", Resource: "replenishment_settings", Before: before, After: in})
	httpio.JSON(w, http.StatusOK, in)
}

// PatchReplenishSettings answers PATCH /api/v1/replenishment/settings with
// the fields to change ({"paused": true} pauses automatic replenishment:
// nothing is scheduled or placed until it is resumed).
func (a *API) PatchReplenishSettings(w http.ResponseWriter, r *http.Request) {
	before, err := a.svc.ReplenishSettings(r.Context())
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	after := before
	if err := httpio.Decode(r, &after); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if err := a.svc.SetReplenishSettings(r.Context(), after); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	action := "update"
	if before.Paused != after.Paused && before.LeadDays == after.LeadDays && before.CancelHours == after.CancelHours {
		action = map[bool]string{true: "pause", false: "resume"}[after.Paused]
	}
	audit.Note(r.Context(), audit.Change{Action: action, Resource: "replenishment_settings", Before: before, After: after})
	httpio.JSON(w, http.StatusOK, after)
}

// CreateNudge answers POST /api/v1/nudges.
func (a *API) CreateNudge(w http.ResponseWriter, r *http.Request) {
	var in Nudge
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	a.answer(w, r, http.StatusCreated, func() (any, error) { return a.svc.CreateNudge(r.Context(), &in) })
}

// UpdateNudge answers PATCH /api/v1/nudges/{id} with the fields to change
// ({"active": false} pauses the nudge, true resumes it).
func (a *API) UpdateNudge(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		httpio.Error(w, a.logger, fault.Field("body", "the body could not be read: %v", err))
		return
	}
	before, after, err := a.svc.UpdateNudge(r.Context(), r.PathValue("id"), b)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	action := "update"
	var keys map[string]json.RawMessage
	if json.Unmarshal(b, &keys) == nil && len(keys) == 1 && keys["active"] != nil && before.Active != after.Active {
		action = map[bool]string{true: "resume", false: "pause"}[after.Active]
	}
	audit.Note(r.Context(), audit.Change{Action: action, Resource: "nudge", ResourceID: after.ID, Before: before, After: after})
	httpio.JSON(w, http.StatusOK, after)
}

// DeleteNudge answers DELETE /api/v1/nudges/{id}: the nudge sends nothing
// more; its sends and uplift stay.
func (a *API) DeleteNudge(w http.ResponseWriter, r *http.Request) {
	before, err := a.svc.DeleteNudge(r.Context(), r.PathValue("id"))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "delete", Resource: "nudge", ResourceID: before.ID, Before: before})
	w.WriteHeader(http.StatusNoContent)
}

// Nudges answers GET /api/v1/nudges.
func (a *API) Nudges(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, http.StatusOK, func() (any, error) {
		list, err := a.svc.Nudges(r.Context())
		return map[string]any{"nudges": list}, err
	})
}

// ImportHistory answers POST /api/v1/nudges/{id}/history {sends: [{customer, status, at, product_id}]}.
func (a *API) ImportHistory(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Sends []PastSend `json:"sends"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	a.answer(w, r, http.StatusOK, func() (any, error) { return a.svc.ImportHistory(r.Context(), r.PathValue("id"), in.Sends) })
}

// Uplift answers GET /api/v1/nudges/uplift?from=&to=: treated against
// holdout per nudge, for the customers first nudged or held out in the
// period (every customer without one).
func (a *API) Uplift(w http.ResponseWriter, r *http.Request) {
	from, to, err := httpio.Span(r)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	a.answer(w, r, http.StatusOK, func() (any, error) {
		list, err := a.svc.UpliftsIn(r.Context(), from, to)
		return map[string]any{"nudges": list}, err
	})
}

// Learning answers GET /api/v1/experiences/learning?months=12, or
// ?from=&to= for the months a period touches.
func (a *API) Learning(w http.ResponseWriter, r *http.Request) {
	months, err := httpio.Int(r, "months", 12)
	if err == nil && (months < 1 || months > 60) {
		err = fault.Field("months", "months is between 1 and 60")
	}
	from, to, err2 := httpio.Span(r)
	if err == nil {
		err = err2
	}
	if err == nil && !from.IsZero() {
		end := to
		if end.IsZero() {
			end = a.svc.now()
		}
		if end.Sub(from) > 60*31*24*time.Hour {
			err = fault.Field("from", "a learning report spans at most 60 months")
		}
	}
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	byPeriod := r.URL.Query().Has("from") || r.URL.Query().Has("to")
	a.answer(w, r, http.StatusOK, func() (any, error) {
		var list []Month
		var err error
		if byPeriod {
			list, err = a.svc.LearningIn(r.Context(), from, to)
		} else {
			list, err = a.svc.Learning(r.Context(), int(months))
		}
		return map[string]any{"months": list}, err
	})
}

// Journey answers GET /api/v1/customers/{id}/experiences.
func (a *API) Journey(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, http.StatusOK, func() (any, error) {
		list, err := a.svc.Journey(r.Context(), r.PathValue("id"))
		return map[string]any{"touches": list}, err
	})
}

// Preferences answers GET /api/v1/customers/{id}/preferences.
func (a *API) Preferences(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, http.StatusOK, func() (any, error) { return a.svc.Preferences(r.Context(), r.PathValue("id")) })
}

// Lists answers GET /api/v1/customers/{id}/lists.
func (a *API) Lists(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, http.StatusOK, func() (any, error) {
		list, err := a.svc.Lists(r.Context(), r.PathValue("id"))
		return map[string]any{"lists": list}, err
	})
}

// SaveList answers PUT /api/v1/customers/{id}/lists/{name} {items: [{item, quantity, name?}]}.
func (a *API) SaveList(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Items []ProposalItem `json:"items"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	a.answer(w, r, http.StatusOK, func() (any, error) {
		return a.svc.SaveList(r.Context(), r.PathValue("id"), r.PathValue("name"), in.Items)
	})
}
