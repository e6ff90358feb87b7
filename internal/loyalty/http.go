package loyalty

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

// API holds the /api/v1 loyalty handlers.
type API struct {
	svc    *Service
	sync   func(r *http.Request)
	logger *slog.Logger
}

// NewAPI returns the handlers; sync, when not nil, waits briefly for the
// log's latest events to be read before a balance is answered.
func NewAPI(svc *Service, sync func(r *http.Request), logger *slog.Logger) *API {
	return &API{svc: svc, sync: sync, logger: logger}
}

// CreateRule answers POST /api/v1/loyalty/rules {on, points_per_unit, points, property}.
func (a *API) CreateRule(w http.ResponseWriter, r *http.Request) {
	var in Rule
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	out, err := a.svc.CreateRule(r.Context(), &in)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, out)
}

// Rules answers GET /api/v1/loyalty/rules.
func (a *API) Rules(w http.ResponseWriter, r *http.Request) {
	list, err := a.svc.Rules(r.Context())
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"rules": list})
}

// Summary answers GET /api/v1/customers/{id}/loyalty.
func (a *API) Summary(w http.ResponseWriter, r *http.Request) {
	a.read(w, r, func() (any, error) { return a.svc.Summary(r.Context(), r.PathValue("id")) })
}

// Ledger answers GET /api/v1/customers/{id}/loyalty/ledger?limit=.
func (a *API) Ledger(w http.ResponseWriter, r *http.Request) {
	limit, _, err := httpio.Page(r, 100, 1000)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if a.sync != nil {
		a.sync(r)
	}
	list, err := a.svc.Ledger(r.Context(), r.PathValue("id"), limit)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"entries": list})
}

// Redeem answers POST /api/v1/customers/{id}/loyalty/redeem {points, idempotency_key, note?}:
// 200 with the entry and the balance left, 409 when the balance is too low.
func (a *API) Redeem(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Points int64  `json:"points"`
		Key    string `json:"idempotency_key"`
		Note   string `json:"note"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if a.sync != nil {
		a.sync(r)
	}
	e, left, err := a.svc.Redeem(r.Context(), r.PathValue("id"), in.Points, in.Key, in.Note)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"entry": e, "balance": left})
}

// SendersSpenders answers GET /api/v1/loyalty/senders-spenders.
func (a *API) SendersSpenders(w http.ResponseWriter, r *http.Request) {
	a.read(w, r, func() (any, error) { return a.svc.SendersSpenders(r.Context()) })
}

// GetProgram answers GET /api/v1/loyalty/tiers.
func (a *API) GetProgram(w http.ResponseWriter, r *http.Request) {
	p, err := a.svc.Program(r.Context())
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, p)
}

// SetProgram answers PUT /api/v1/loyalty/tiers {tiers: [{name, from, perks}]}.
func (a *API) SetProgram(w http.ResponseWriter, r *http.Request) {
	var p Program
	if err := httpio.Decode(r, &p); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if a.sync != nil {
		a.sync(r) // the review that follows reads the latest ledger
	}
	before, _ := a.svc.Program(r.Context())
	if err := a.svc.SetProgram(r.Context(), p); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Before: before, After: p})
	httpio.JSON(w, http.StatusOK, p)
}

// Perks answers GET /api/v1/customers/{id}/perks.
func (a *API) Perks(w http.ResponseWriter, r *http.Request) {
	if a.sync != nil {
		a.sync(r)
	}
	tier, perks, err := a.svc.Perks(r.Context(), r.PathValue("id"))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"tier": tier, "perks": perks})
}

// Dashboard answers GET /api/v1/loyalty/dashboard.
func (a *API) Dashboard(w http.ResponseWriter, r *http.Request) {
	a.read(w, r, func() (any, error) { return a.svc.Dashboard(r.Context()) })
}

// Activity answers GET /api/v1/loyalty/activity?from=&to=: points
// earned, redeemed and expired, referrals and referred revenue in the
// period.
func (a *API) Activity(w http.ResponseWriter, r *http.Request) {
	from, to, err := httpio.Span(r)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	a.read(w, r, func() (any, error) { return a.svc.Activity(r.Context(), from, to) })
}

// Communities answers GET /api/v1/communities.
func (a *API) Communities(w http.ResponseWriter, r *http.Request) {
	a.read(w, r, func() (any, error) {
		list, err := a.svc.Communities(r.Context())
		return map[string]any{"communities": list}, err
	})
}

// Introduce answers POST /api/v1/introductions {from, to, note?}.
func (a *API) Introduce(w http.ResponseWriter, r *http.Request) {
	var in struct {
		From string `json:"from"`
		To   string `json:"to"`
		Note string `json:"note"`
		At   string `json:"at"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	var at time.Time
	if in.At != "" {
		var err error
		if at, err = httpio.ParseTime(in.At); err != nil {
			httpio.Error(w, a.logger, fault.Field("at", "at is a time (RFC 3339)"))
			return
		}
	}
	out, err := a.svc.Introduce(r.Context(), in.From, in.To, in.Note, at)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, out)
}

// Introductions answers GET /api/v1/introductions.
func (a *API) Introductions(w http.ResponseWriter, r *http.Request) {
	a.read(w, r, func() (any, error) {
		list, err := a.svc.Introductions(r.Context())
		return map[string]any{"introductions": list}, err
	})
}

// read answers a GET with what fn returns, after the log's latest events are read.
func (a *API) read(w http.ResponseWriter, r *http.Request, fn func() (any, error)) {
	httpio.Answer(w, r, a.logger, a.sync, http.StatusOK, fn)
}

// DeleteRule answers DELETE /api/v1/loyalty/rules/{id}: 204.
func (a *API) DeleteRule(w http.ResponseWriter, r *http.Request) {
	var before *Rule
	if list, err := a.svc.Rules(r.Context()); err == nil {
		for i := range list {
			if list[i].ID == r.PathValue("id") {
				before = &list[i]
			}
		}
	}
	if err := a.svc.DeleteRule(r.Context(), r.PathValue("id")); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "delete", Resource: "loyalty_rule", ResourceID: r.PathValue("id"), Before: before})
	w.WriteHeader(http.StatusNoContent)
}

// UpdateRule answers PATCH /api/v1/loyalty/rules/{id} with the fields to
// change ({"paused": true} pauses the rule, false resumes it).
func (a *API) UpdateRule(w http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		httpio.Error(w, a.logger, fault.Field("body", "the body could not be read: %v", err))
		return
	}
	before, after, err := a.svc.UpdateRule(r.Context(), r.PathValue("id"), b)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	action := "update"
	var keys map[string]json.RawMessage
	if json.Unmarshal(b, &keys) == nil && len(keys) == 1 && keys["paused"] != nil && before.Paused != after.Paused {
		action = map[bool]string{true: "pause", false: "resume"}[after.Paused]
	}
	audit.Note(r.Context(), audit.Change{Action: action, Resource: "loyalty_rule", ResourceID: after.ID, Before: before, After: after})
	httpio.JSON(w, http.StatusOK, after)
}

// Engagement answers GET /api/v1/customers/{id}/engagement.
func (a *API) Engagement(w http.ResponseWriter, r *http.Request) {
	a.read(w, r, func() (any, error) { return a.svc.EngagementOf(r.Context(), r.PathValue("id")) })
}

// Guides answers GET /api/v1/guides.
func (a *API) Guides(w http.ResponseWriter, r *http.Request) {
	a.read(w, r, func() (any, error) {
		list, err := a.svc.Guides(r.Context())
		return map[string]any{"guides": list}, err
	})
}

// CreateGuide answers POST /api/v1/guides {title, url, topic?, minutes_saved?}.
func (a *API) CreateGuide(w http.ResponseWriter, r *http.Request) {
	var in Guide
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	out, err := a.svc.CreateGuide(r.Context(), &in)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, out)
}

// GuideLink answers GET /api/v1/guides/{id}/link?user_id= (or
// anonymous_id=): the guide's signed tracked link for that customer.
func (a *API) GuideLink(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	link, err := a.svc.GuideLink(r.Context(), r.PathValue("id"), q.Get("user_id"), q.Get("anonymous_id"))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"link": link})
}

// OpenGuide answers GET /g/{id}?u=userId (or a=anonymousId)&s=signature:
// it records a Guide Viewed event for that customer when the link is one
// cxloop signed, and redirects to the guide.
func (a *API) OpenGuide(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	user, anon := q.Get("u"), q.Get("a")
	if len(user) > 200 || len(anon) > 200 {
		user, anon = "", ""
	}
	u, err := a.svc.Opened(r.Context(), r.PathValue("id"), user, anon, q.Get("s"))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	http.Redirect(w, r, u, http.StatusFound)
}
