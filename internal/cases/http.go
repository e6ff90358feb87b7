package cases

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/csvimport"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/principal"
)

// API holds the /api/v1 handlers of teams, rules, cases, mentions and returns.
type API struct {
	svc     *Service
	sync    func(r *http.Request)
	members func(ctx context.Context) (map[string][]principal.Member, error)
	logger  *slog.Logger
}

// NewAPI returns the handlers; sync, when not nil, waits briefly for the
// log's latest events to be read before a case list is answered; members
// lists who works each team's cases.
func NewAPI(svc *Service, sync func(r *http.Request), members func(ctx context.Context) (map[string][]principal.Member, error), logger *slog.Logger) *API {
	return &API{svc: svc, sync: sync, members: members, logger: logger}
}

func (a *API) fail(w http.ResponseWriter, err error) { httpio.Error(w, a.logger, err) }

// CreateTeam answers POST /api/v1/teams {name, email?}.
func (a *API) CreateTeam(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		a.fail(w, err)
		return
	}
	t, err := a.svc.CreateTeam(r.Context(), in.Name, in.Email)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, t)
}

// Teams answers GET /api/v1/teams: each team with its members (the users
// and tokens limited to it).
func (a *API) Teams(w http.ResponseWriter, r *http.Request) {
	list, err := a.svc.Teams(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	members := map[string][]principal.Member{}
	if a.members != nil {
		if members, err = a.members(r.Context()); err != nil {
			a.fail(w, err)
			return
		}
	}
	type withMembers struct {
		Team
		Members []principal.Member `json:"members"`
	}
	out := make([]withMembers, len(list))
	for i, t := range list {
		out[i] = withMembers{Team: t, Members: members[strings.ToLower(t.Name)]}
		if out[i].Members == nil {
			out[i].Members = []principal.Member{}
		}
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"teams": out})
}

// Firings answers GET /api/v1/rules/{id}/firings?limit=: when the rule fired and what it did.
func (a *API) Firings(w http.ResponseWriter, r *http.Request) {
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
	list, err := a.svc.Firings(r.Context(), r.PathValue("id"), limit)
	if csv {
		httpio.CSVList(w, a.logger, "rule-firings-"+r.PathValue("id"), list, err, httpio.CSVOptions{})
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"firings": list})
}

// CreateRule answers POST /api/v1/rules {name, when, then}.
func (a *API) CreateRule(w http.ResponseWriter, r *http.Request) {
	// A rule is made from its name, condition and action, enabled unless
	// "enabled": false says to start it paused; its id and time are cxloop's.
	var in struct {
		Name    string `json:"name"`
		When    When   `json:"when"`
		Then    Then   `json:"then"`
		Enabled *bool  `json:"enabled"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		a.fail(w, err)
		return
	}
	create := a.svc.CreateRule
	if in.Enabled != nil && !*in.Enabled {
		create = a.svc.CreatePausedRule
	}
	out, err := create(r.Context(), &Rule{Name: in.Name, When: in.When, Then: in.Then})
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, out)
}

// UpdateRule answers PATCH /api/v1/rules/{id} {name?, when?, then?,
// enabled?}: edit, pause or resume a rule.
func (a *API) UpdateRule(w http.ResponseWriter, r *http.Request) {
	var in RuleChange
	if err := httpio.Decode(r, &in); err != nil {
		a.fail(w, err)
		return
	}
	if in.Name == nil && in.When == nil && in.Then == nil && in.Enabled == nil {
		a.fail(w, fault.Field("enabled", "send the fields to change (name, when, then), or {\"enabled\": false} to pause the rule and true to resume it"))
		return
	}
	before, out, err := a.svc.EditRule(r.Context(), r.PathValue("id"), in)
	if err != nil {
		a.fail(w, err)
		return
	}
	action := "update"
	if in.Name == nil && in.When == nil && in.Then == nil {
		action = map[bool]string{true: "resume", false: "pause"}[out.Enabled]
	}
	audit.Note(r.Context(), audit.Change{Action: action, Resource: "rule", ResourceID: out.ID, Before: before, After: out})
	httpio.JSON(w, http.StatusOK, out)
}

// DeleteRule answers DELETE /api/v1/rules/{id}.
func (a *API) DeleteRule(w http.ResponseWriter, r *http.Request) {
	before, _ := a.svc.rule(r.Context(), r.PathValue("id"))
	if err := a.svc.DeleteRule(r.Context(), r.PathValue("id")); err != nil {
		a.fail(w, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "delete", Resource: "rule", ResourceID: r.PathValue("id"), Before: before})
	w.WriteHeader(http.StatusNoContent)
}

// UpdateTeam answers PATCH /api/v1/teams/{id} {name, email} (id or name).
func (a *API) UpdateTeam(w http.ResponseWriter, r *http.Request) {
	var in TeamChange
	if err := httpio.Decode(r, &in); err != nil {
		a.fail(w, err)
		return
	}
	before, after, err := a.svc.UpdateTeam(r.Context(), r.PathValue("id"), in)
	if err != nil {
		a.fail(w, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "update", Resource: "team", ResourceID: after.ID, Before: before, After: after})
	httpio.JSON(w, http.StatusOK, after)
}

// DeleteTeam answers DELETE /api/v1/teams/{id}: 409 naming cases or rules
// while the team has open cases or a live rule acts for it.
func (a *API) DeleteTeam(w http.ResponseWriter, r *http.Request) {
	before, err := a.svc.DeleteTeam(r.Context(), r.PathValue("id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "delete", Resource: "team", ResourceID: before.ID, Before: before})
	w.WriteHeader(http.StatusNoContent)
}

// Rules answers GET /api/v1/rules.
func (a *API) Rules(w http.ResponseWriter, r *http.Request) {
	list, err := a.svc.Rules(r.Context())
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"rules": list})
}

// Cases answers GET /api/v1/cases?team=&status=&kind=&customer=&limit=&offset=
// (status "all", like none, is every status).
func (a *API) Cases(w http.ResponseWriter, r *http.Request) {
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
	if a.sync != nil {
		a.sync(r)
	}
	q := r.URL.Query()
	p, _ := principal.From(r.Context())
	status := q.Get("status")
	if status == "all" { // as the console's filter says it: every status
		status = ""
	}
	f := Scope(Filter{Team: q.Get("team"), Status: status, Kind: q.Get("kind"), Customer: q.Get("customer"), Assignee: q.Get("assignee"),
		Priority: q.Get("priority"), Channel: q.Get("channel"), Limit: limit, Offset: offset}, p)
	switch q.Get("unassigned") {
	case "", "false":
	case "true":
		f.Unassigned = true
	default:
		a.fail(w, fault.Field("unassigned", "unassigned is true or false"))
		return
	}
	if csv {
		out := httpio.NewCSV(w, a.logger, "cases", Case{}, httpio.CSVOptions{Omit: []string{"notes"}})
		out.Finish(a.svc.Each(r.Context(), f, func(c *Case) error { return out.Write(c) }))
		return
	}
	list, err := a.svc.List(r.Context(), f)
	if err != nil {
		a.fail(w, err)
		return
	}
	counts, err := a.svc.Counts(r.Context(), f)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"cases": list, "counts": counts})
}

// Case answers GET /api/v1/cases/{id}.
func (a *API) Case(w http.ResponseWriter, r *http.Request) {
	p, _ := principal.From(r.Context())
	c, err := a.svc.Allowed(r.Context(), p, r.PathValue("id"))
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, c)
}

// allowed refuses, with 403, work on a case of a team the caller is not in.
func (a *API) allowed(w http.ResponseWriter, r *http.Request) bool {
	p, _ := principal.From(r.Context())
	if _, err := a.svc.Allowed(r.Context(), p, r.PathValue("id")); err != nil {
		a.fail(w, err)
		return false
	}
	return true
}

func who(r *http.Request) string {
	if p, ok := principal.From(r.Context()); ok {
		return p.Name
	}
	return "api"
}

// caseCommand is the body of a case command.
type caseCommand struct {
	Note     string `json:"note"`
	Assignee string `json:"assignee"`
	Status   string `json:"status"`
	// ResolvedAt: when the case was resolved, for work done elsewhere.
	ResolvedAt *time.Time `json:"resolvedAt"`
}

// command decodes a case command (an empty body is allowed when optional),
// checks the caller may work the case, runs it and answers the case.
func (a *API) command(w http.ResponseWriter, r *http.Request, optional bool, run func(id string, in caseCommand, who string) (*Case, error)) {
	var in caseCommand
	if !optional || r.ContentLength != 0 {
		if err := httpio.Decode(r, &in); err != nil {
			a.fail(w, err)
			return
		}
	}
	if !a.allowed(w, r) {
		return
	}
	c, err := run(r.PathValue("id"), in, who(r))
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, c)
}

// Resolve answers POST /api/v1/cases/{id}/resolve {note?, resolvedAt?}:
// resolvedAt (RFC 3339, between the case's opening and now) records work
// done elsewhere at its time.
func (a *API) Resolve(w http.ResponseWriter, r *http.Request) {
	a.command(w, r, true, func(id string, in caseCommand, who string) (*Case, error) {
		var at time.Time
		if in.ResolvedAt != nil {
			at = *in.ResolvedAt
		}
		return a.svc.ResolveAt(r.Context(), id, in.Note, who, at)
	})
}

// Note answers POST /api/v1/cases/{id}/notes {note}.
func (a *API) Note(w http.ResponseWriter, r *http.Request) {
	a.command(w, r, false, func(id string, in caseCommand, who string) (*Case, error) {
		return a.svc.AddNote(r.Context(), id, in.Note, who)
	})
}

// Assign answers POST /api/v1/cases/{id}/assign {assignee}.
func (a *API) Assign(w http.ResponseWriter, r *http.Request) {
	a.command(w, r, false, func(id string, in caseCommand, who string) (*Case, error) {
		return a.svc.Assign(r.Context(), id, in.Assignee, who)
	})
}

// SetStatus answers POST /api/v1/cases/{id}/status {status, note?}.
func (a *API) SetStatus(w http.ResponseWriter, r *http.Request) {
	a.command(w, r, false, func(id string, in caseCommand, who string) (*Case, error) {
		return a.svc.SetStatus(r.Context(), id, in.Status, in.Note, who)
	})
}

// Mention answers POST /api/v1/mentions {platform, handle, text, url, at},
// or a CSV file of them (Content-Type: text/csv).
func (a *API) Mention(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		backfill, err := csvimport.Backfill(r.URL.Query().Get("backfill"))
		if err != nil {
			a.fail(w, err)
			return
		}
		res, err := a.svc.ImportMentions(r.Context(), http.MaxBytesReader(w, r.Body, 64<<20), backfill)
		if err != nil {
			a.fail(w, err)
			return
		}
		httpio.JSON(w, http.StatusOK, res)
		return
	}
	var in Mention
	if err := httpio.Decode(r, &in); err != nil {
		a.fail(w, err)
		return
	}
	m, err := a.svc.Mention(r.Context(), in)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, m)
}

// ReturnRates answers GET /api/v1/returns/rates?by=&from=&to=.
func (a *API) ReturnRates(w http.ResponseWriter, r *http.Request) {
	csv, err := httpio.WantsCSV(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	if a.sync != nil {
		a.sync(r)
	}
	q := r.URL.Query()
	from, err := httpio.Time(r, "from")
	if err != nil {
		a.fail(w, err)
		return
	}
	to, err := httpio.Time(r, "to")
	if err != nil {
		a.fail(w, err)
		return
	}
	groups, err := a.svc.ReturnRates(r.Context(), q.Get("by"), from, to)
	if csv {
		httpio.CSVList(w, a.logger, "return-rates", groups, err, httpio.CSVOptions{})
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"by": q.Get("by"), "groups": groups})
}

// Recovery answers GET /api/v1/recovery: how complaints were handled and
// which complainers came back.
func (a *API) Recovery(w http.ResponseWriter, r *http.Request) {
	csv, err := httpio.WantsCSV(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	if a.sync != nil {
		a.sync(r)
	}
	from, to, err := httpio.Span(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	p, _ := principal.From(r.Context())
	rep, err := a.svc.Recovery(r.Context(), p, from, to)
	if csv { // the complainers, one a row
		var list []Complainer
		if err == nil {
			list = rep.Complainers
		}
		httpio.CSVList(w, a.logger, "recovery", list, err, httpio.CSVOptions{})
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, rep)
}

// SLA answers GET /api/v1/sla?from=&to=: each team's SLA compliance over
// the cases opened in the period.
func (a *API) SLA(w http.ResponseWriter, r *http.Request) {
	if a.sync != nil {
		a.sync(r)
	}
	from, to, err := httpio.Span(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	p, _ := principal.From(r.Context())
	teams, err := a.svc.SLA(r.Context(), p, from, to)
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"teams": teams})
}

// Repurchase answers GET /api/v1/returns/repurchase?by=category|channel|reason&days=90.
func (a *API) Repurchase(w http.ResponseWriter, r *http.Request) {
	csv, err := httpio.WantsCSV(r)
	if err != nil {
		a.fail(w, err)
		return
	}
	if a.sync != nil {
		a.sync(r)
	}
	days, err := httpio.Int(r, "days", 90)
	if err != nil {
		a.fail(w, err)
		return
	}
	groups, err := a.svc.Repurchase(r.Context(), r.URL.Query().Get("by"), int(days))
	if csv {
		httpio.CSVList(w, a.logger, "repurchase", groups, err, httpio.CSVOptions{})
		return
	}
	if err != nil {
		a.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"by": r.URL.Query().Get("by"), "days": days, "groups": groups})
}
