package analytics

import (
	"cmp"
	"log/slog"
	"net/http"

	"github.com/cxloop/cxloop/internal/audit"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/profile"
)

// API holds the /api/v1 analytics handlers.
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

func (a *API) answer(w http.ResponseWriter, r *http.Request, fn func() (any, error)) {
	httpio.Answer(w, r, a.logger, a.sync, http.StatusOK, fn)
}

// Value answers GET /api/v1/customers/{id}/value.
func (a *API) Value(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, func() (any, error) { return a.svc.ValueOf(r.Context(), r.PathValue("id")) })
}

// AtRisk answers GET /api/v1/analytics/at-risk?silent=true&limit=100.
func (a *API) AtRisk(w http.ResponseWriter, r *http.Request) {
	csv, err := httpio.WantsCSV(r)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	limit, err := httpio.Int(r, "limit", map[bool]int64{false: 100, true: MaxAtRisk}[csv])
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	silent := r.URL.Query().Get("silent") == "true"
	if csv {
		if a.sync != nil {
			a.sync(r)
		}
		list, err := a.svc.AtRisk(r.Context(), silent, int(limit))
		httpio.CSVList(w, a.logger, "at-risk", list, err, httpio.CSVOptions{})
		return
	}
	a.answer(w, r, func() (any, error) {
		list, err := a.svc.AtRisk(r.Context(), silent, int(limit))
		return map[string]any{"customers": list}, err
	})
}

// Silent answers GET /api/v1/silent-dissatisfied?limit=100: the customers
// of at-risk?silent=true, with the evidence.
func (a *API) Silent(w http.ResponseWriter, r *http.Request) {
	csv, err := httpio.WantsCSV(r)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	limit, err := httpio.Int(r, "limit", map[bool]int64{false: 100, true: MaxAtRisk}[csv])
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if csv {
		if a.sync != nil {
			a.sync(r)
		}
		list, err := a.svc.SilentDissatisfied(r.Context(), int(limit))
		httpio.CSVList(w, a.logger, "silent-dissatisfied", list, err, httpio.CSVOptions{})
		return
	}
	a.answer(w, r, func() (any, error) {
		list, err := a.svc.SilentDissatisfied(r.Context(), int(limit))
		return map[string]any{"customers": list}, err
	})
}

// Model answers GET /api/v1/analytics/clv-model.
func (a *API) Model(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, func() (any, error) {
		if err := a.svc.fresh(r.Context()); err != nil {
			return nil, err
		}
		return a.svc.Model(r.Context())
	})
}

// Funnel answers GET /api/v1/journeys/funnel?by=channel|experience&segment=saved&from=&to=.
func (a *API) Funnel(w http.ResponseWriter, r *http.Request) {
	var seg *profile.Query
	if v := r.URL.Query().Get("segment"); v != "" {
		seg = &profile.Query{Saved: v}
	}
	from, err := httpio.Time(r, "from")
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	to, err := httpio.Time(r, "to")
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	a.answer(w, r, func() (any, error) {
		list, err := a.svc.Funnel(r.Context(), r.URL.Query().Get("by"), seg, from, to)
		return map[string]any{"groups": list}, err
	})
}

// GetStages answers GET /api/v1/journeys/stages.
func (a *API) GetStages(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, func() (any, error) { return Stages(r.Context(), a.svc.db) })
}

// SetStages answers PUT /api/v1/journeys/stages {recognize: [...], request: [...], respond: [...]}.
func (a *API) SetStages(w http.ResponseWriter, r *http.Request) {
	var in map[string][]string
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	before, _ := Stages(r.Context(), a.svc.db)
	a.answer(w, r, func() (any, error) {
		if err := a.svc.SetStages(r.Context(), in); err != nil {
			return nil, err
		}
		audit.Note(r.Context(), audit.Change{Before: before, After: in})
		return in, nil
	})
}

// ACSI answers GET /api/v1/analytics/acsi-model?survey=&scheme=.
func (a *API) ACSI(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	a.answer(w, r, func() (any, error) { return a.svc.ACSI(r.Context(), q.Get("survey"), q.Get("scheme"), 200) })
}

// Predict answers POST /api/v1/alignment/predictions {team, answers: {question: value}}: 201.
func (a *API) Predict(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Team    string             `json:"team"`
		Answers map[string]float64 `json:"answers"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	id, err := a.svc.Predict(r.Context(), in.Team, in.Answers)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, map[string]any{"id": id, "team": in.Team, "answers": in.Answers})
}

// Gap answers GET /api/v1/alignment/gap?by=team.
func (a *API) Gap(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, func() (any, error) {
		list, err := a.svc.Gaps(r.Context(), r.URL.Query().Get("by") == "team")
		return map[string]any{"items": list}, err
	})
}

// surveyParam is the survey asked for: nil when the query names none,
// "" (responses that name no survey) when it is empty.
func surveyParam(r *http.Request) *string {
	q := r.URL.Query()
	if !q.Has("survey") {
		return nil
	}
	v := q.Get("survey")
	return &v
}

// Outcomes answers GET /api/v1/analytics/outcomes?months=12&survey=, or
// ?from=&to= for the calendar months a period touches, or ?all=true for
// every month since the first activity (at most 60, the latest).
func (a *API) Outcomes(w http.ResponseWriter, r *http.Request) {
	months, err := httpio.Int(r, "months", 12)
	if err == nil && (months < 1 || months > 60) {
		err = fault.Field("months", "months is between 1 and 60")
	}
	from, to, err2 := httpio.Span(r)
	all, err3 := httpio.Bool(r, "all")
	err = cmp.Or(err, err2, err3)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	byPeriod := r.URL.Query().Has("from") || r.URL.Query().Has("to")
	a.answer(w, r, func() (any, error) {
		if all {
			return a.svc.OutcomesSince(r.Context(), surveyParam(r))
		}
		if byPeriod {
			return a.svc.OutcomesIn(r.Context(), from, to, surveyParam(r))
		}
		return a.svc.Outcomes(r.Context(), int(months), surveyParam(r))
	})
}

// Channels answers GET /api/v1/analytics/channels: online against in-person.
func (a *API) Channels(w http.ResponseWriter, r *http.Request) {
	a.answer(w, r, func() (any, error) {
		list, err := a.svc.Channels(r.Context())
		return map[string]any{"groups": list}, err
	})
}
