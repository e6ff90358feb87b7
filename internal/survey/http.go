package survey

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/csvimport"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
)

// API holds the /api/v1 handlers of surveys, invitations and scores.
type API struct {
	svc    *Service
	logger *slog.Logger
}

// NewAPI returns the survey API handlers.
func NewAPI(svc *Service, logger *slog.Logger) *API { return &API{svc: svc, logger: logger} }

func (a *API) fail(w http.ResponseWriter, err error) { httpio.Error(w, a.logger, err) }

// List answers GET /api/v1/surveys.
func (a *API) List(w http.ResponseWriter, r *http.Request) {
	list, err := a.svc.List(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"surveys": list})
}

// Create answers POST /api/v1/surveys.
func (a *API) Create(w http.ResponseWriter, r *http.Request) {
	var sv Survey
	if err := httpio.Decode(r, &sv); err != nil {
		a.fail(w, err)
		return
	}
	out, err := a.svc.Create(r.Context(), &sv)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, out)
}

// Get answers GET /api/v1/surveys/{id}: the definition and its invitation funnel.
func (a *API) Get(w http.ResponseWriter, r *http.Request) {
	sv, err := a.svc.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	f, err := a.svc.Funnel(r.Context(), sv.ID)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, struct {
		*Survey
		Funnel Funnel `json:"funnel"`
	}{sv, f})
}

// Update answers PATCH /api/v1/surveys/{id} with any survey fields.
func (a *API) Update(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || !json.Valid(body) {
		a.fail(w, fault.Field("body", "body must be a JSON object of survey fields"))
		return
	}
	before, _ := a.svc.Get(r.Context(), r.PathValue("id"))
	sv, err := a.svc.Update(r.Context(), r.PathValue("id"), body)
	if err != nil {
		a.fail(w, err)
		return
	}
	action := "update"
	var keys map[string]json.RawMessage
	if json.Unmarshal(body, &keys) == nil && len(keys) == 1 && keys["status"] != nil && before != nil && before.Status != sv.Status {
		switch sv.Status {
		case Paused:
			action = "pause"
		case Active:
			action = "resume"
		}
	}
	audit.Note(r.Context(), audit.Change{Action: action, Resource: "survey", ResourceID: sv.ID, Before: before, After: sv})
	httpio.JSON(w, http.StatusOK, sv)
}

// Delete answers DELETE /api/v1/surveys/{id}: the survey is archived (it
// sends nothing more and is no longer listed); it and its responses stay
// readable.
func (a *API) Delete(w http.ResponseWriter, r *http.Request) {
	before, err := a.svc.Archive(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "delete", Resource: "survey", ResourceID: before.ID, Before: before})
	w.WriteHeader(http.StatusNoContent)
}

// Respond answers POST /api/v1/surveys/{id}/responses: an imported answer
// (JSON), or a CSV file of them (Content-Type: text/csv).
func (a *API) Respond(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		backfill, err := csvimport.Backfill(r.URL.Query().Get("backfill"))
		if err != nil {
			a.fail(w, err)
			return
		}
		res, err := a.svc.ImportCSV(r.Context(), r.PathValue("id"), http.MaxBytesReader(w, r.Body, 64<<20), backfill)
		if err != nil {
			a.fail(w, err)
			return
		}
		httpio.JSON(w, http.StatusOK, res)
		return
	}
	var in ResponseInput
	if err := httpio.Decode(r, &in); err != nil {
		a.fail(w, err)
		return
	}
	out, err := a.svc.Respond(r.Context(), r.PathValue("id"), in)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, out)
}

// Reply answers POST /api/v1/surveys/replies: a reply to an invitation
// email, as a raw message (Content-Type: message/rfc822) that a mail
// system pipes or an inbound-mail webhook forwards.
func (a *API) Reply(w http.ResponseWriter, r *http.Request) {
	media, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if media != "message/rfc822" {
		httpio.JSON(w, http.StatusUnsupportedMediaType, map[string]any{"error": fault.Field("Content-Type",
			"send the raw email as Content-Type: message/rfc822")})
		return
	}
	raw, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 10<<20))
	if err != nil {
		a.fail(w, fault.New(fault.TooLarge, "a reply is at most 10 MB"))
		return
	}
	res, err := a.svc.Reply(r.Context(), bytes.NewReader(raw))
	var noScore ErrNoScore
	if errors.As(err, &noScore) {
		httpio.JSON(w, http.StatusUnprocessableEntity, map[string]any{"error": noScore.Fault})
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, res)
}

// Responses answers GET /api/v1/surveys/{id}/responses?limit=&offset=.
func (a *API) Responses(w http.ResponseWriter, r *http.Request) {
	csv, err := httpio.WantsCSV(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	limit, offset, err := httpio.ListPage(r, 100, 1000, csv)
	if err != nil {
		a.fail(w, err)
		return
	}
	from, to, err := httpio.Span(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	if csv {
		// One column per question: answers.<question id>.
		sv, err := a.svc.Get(r.Context(), r.PathValue("id"))
		if err != nil {
			a.fail(w, err)
			return
		}
		ids := make([]string, len(sv.Questions))
		for i, q := range sv.Questions {
			ids[i] = q.ID
		}
		out := httpio.NewCSV(w, a.logger, "responses-"+sv.ID, StoredResponse{}, httpio.CSVOptions{Expand: map[string][]string{"answers": ids}})
		out.Finish(a.svc.EachResponse(r.Context(), sv.ID, from, to, limit, offset, func(sr StoredResponse) error { return out.Write(sr) }))
		return
	}
	list, err := a.svc.Responses(r.Context(), r.PathValue("id"), from, to, limit, offset)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"responses": list})
}

// Invite answers POST /api/v1/surveys/{id}/invitations: a link for the
// caller's own channel, or the reason none may be sent now.
func (a *API) Invite(w http.ResponseWriter, r *http.Request) {
	var in InviteInput
	if err := httpio.Decode(r, &in); err != nil {
		a.fail(w, err)
		return
	}
	inv, err := a.svc.Invite(r.Context(), r.PathValue("id"), in)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, inv)
}

// Invitations answers GET /api/v1/surveys/{id}/invitations?status=&limit=&offset=.
func (a *API) Invitations(w http.ResponseWriter, r *http.Request) {
	csv, err := httpio.WantsCSV(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	limit, offset, err := httpio.ListPage(r, 100, 1000, csv)
	if err != nil {
		a.fail(w, err)
		return
	}
	if _, err := a.svc.Get(r.Context(), r.PathValue("id")); err != nil {
		a.fail(w, err)
		return
	}
	if csv {
		httpio.CSVPages(w, a.logger, "invitations-"+r.PathValue("id"), limit, offset, httpio.CSVOptions{}, func(limit, offset int) ([]*Invitation, error) {
			return a.svc.SurveyInvitations(r.Context(), r.PathValue("id"), r.URL.Query().Get("status"), limit, offset)
		})
		return
	}
	list, err := a.svc.SurveyInvitations(r.Context(), r.PathValue("id"), r.URL.Query().Get("status"), limit, offset)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"invitations": list})
}

// Send answers POST /api/v1/surveys/{id}/send: one wave of a pulse survey.
func (a *API) Send(w http.ResponseWriter, r *http.Request) {
	var in SendInput
	if err := httpio.Decode(r, &in); err != nil {
		a.fail(w, err)
		return
	}
	res, err := a.svc.Send(r.Context(), r.PathValue("id"), in)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusAccepted, res)
}

// CustomerInvitations answers GET /api/v1/customers/{id}/invitations.
func (a *API) CustomerInvitations(w http.ResponseWriter, r *http.Request) {
	id, list, err := a.svc.CustomerInvitations(r.Context(), r.PathValue("id"), true)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"customerId": id, "invitations": list})
}

// OptOut answers POST /api/v1/customers/{id}/survey-opt-out.
func (a *API) OptOut(w http.ResponseWriter, r *http.Request) {
	if err := a.svc.OptOut(r.Context(), r.PathValue("id"), "api"); err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"optedOut": true})
}

// Scores answers GET /api/v1/scores?metric=&survey=&from=&to=&by=&trait=&account=&compare_from=&compare_to=.
func (a *API) Scores(w http.ResponseWriter, r *http.Request) {
	csv, err := httpio.WantsCSV(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	v := r.URL.Query()
	q := ScoreQuery{Metric: v.Get("metric"), Survey: v.Get("survey"), By: v.Get("by"), Account: v.Get("account"), Trait: v.Get("trait")}
	for _, p := range []struct {
		name string
		to   *time.Time
	}{{"from", &q.From}, {"to", &q.To}, {"compare_from", &q.CompareFrom}, {"compare_to", &q.CompareTo}} {
		t, err := httpio.Time(r, p.name)
		if err != nil {
			a.fail(w, err)
			return
		}
		*p.to = t
	}
	out, err := a.svc.Scores(r.Context(), q)
	if csv { // the groups, one a row, then the overall one
		var list []ScoreGroup
		if err == nil {
			list = out.Groups
			if out.Overall != nil {
				list = append(list[:len(list):len(list)], *out.Overall)
			}
		}
		httpio.CSVList(w, a.logger, "scores-"+q.Metric, list, err, httpio.CSVOptions{})
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, out)
}

// GetPolicy answers GET /api/v1/survey-policy.
func (a *API) GetPolicy(w http.ResponseWriter, r *http.Request) {
	p, err := a.svc.Policy(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, p)
}

// SetPolicy answers PUT /api/v1/survey-policy.
func (a *API) SetPolicy(w http.ResponseWriter, r *http.Request) {
	var p ContactPolicy
	if err := httpio.Decode(r, &p); err != nil {
		a.fail(w, err)
		return
	}
	before, _ := a.svc.Policy(r.Context())
	if err := a.svc.SetPolicy(r.Context(), p); err != nil {
		a.fail(w, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Before: before, After: p})
	httpio.JSON(w, http.StatusOK, p)
}

// Verbatims answers GET /api/v1/surveys/{id}/verbatims?q=&score=&sentiment=&keyword=&language=&from=&to=&limit=&offset=:
// the open-text answers that match, newest first, each with its customer
// and score, and how many match.
func (a *API) Verbatims(w http.ResponseWriter, r *http.Request) {
	csv, err := httpio.WantsCSV(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	q := VerbatimQuery{Survey: r.PathValue("id")}
	if q.Limit, q.Offset, err = httpio.ListPage(r, 50, 1000, csv); err != nil {
		a.fail(w, err)
		return
	}
	if err := ParseVerbatimFilter(r.URL.Query(), &q); err != nil {
		a.fail(w, err)
		return
	}
	if q.From, err = httpio.Time(r, "from"); err != nil {
		a.fail(w, err)
		return
	}
	if q.To, err = httpio.Time(r, "to"); err != nil {
		a.fail(w, err)
		return
	}
	if csv {
		if _, err := a.svc.Get(r.Context(), q.Survey); err != nil {
			a.fail(w, err)
			return
		}
		httpio.CSVPages(w, a.logger, "verbatims-"+q.Survey, q.Limit, q.Offset, httpio.CSVOptions{}, func(limit, offset int) ([]VerbatimRow, error) {
			q.Limit, q.Offset = limit, offset
			p, err := a.svc.FindVerbatims(r.Context(), q)
			return p.Verbatims, err
		})
		return
	}
	page, err := a.svc.FindVerbatims(r.Context(), q)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, page)
}
