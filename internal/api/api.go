// Package api is the management and query surface (/api/v1/*): bearer-token
// authentication with roles, and every route declared in one place. Handlers
// live in the capability packages; this package only wires them.
//
// It may import capability packages; none may import it.
package api

import (
	_ "embed"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/cxloop/cxloop/internal/analytics"
	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/cases"
	"github.com/cxloop/cxloop/internal/catalog"
	"github.com/cxloop/cxloop/internal/display"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/experience"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/home"
	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/ingest"
	"github.com/cxloop/cxloop/internal/jobs"
	"github.com/cxloop/cxloop/internal/loyalty"
	"github.com/cxloop/cxloop/internal/outbox"
	"github.com/cxloop/cxloop/internal/privacy"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/survey"
)

// Deps are what the API's handlers need.
type Deps struct {
	DB       *store.DB
	Auth     *auth.Service
	Ingest   *ingest.API
	Profiles *profile.Service
	Surveys  *survey.Service
	Cases    *cases.API
	Outbox   *outbox.API
	Jobs     *jobs.API
	Loyalty  *loyalty.API
	Exp      *experience.API
	Catalog  *catalog.API
	An       *analytics.API
	Home     *home.API
	Audit    *audit.Service // the trail every change through /api/v1 is recorded in
	Privacy  *privacy.API
	Logger   *slog.Logger
}

// Route is one /api/v1 route: the least role that may call it and its handler.
type Route struct {
	Method, Path, Role string
	Handler            http.HandlerFunc
}

// Routes lists every /api/v1 route in one place; openapi.json documents
// exactly these (a test keeps the two in step).
func Routes(d Deps) []Route {
	in := d.Ingest
	pr := profile.NewAPI(d.Profiles, d.Logger)
	au := auth.NewAPI(d.Auth, d.Logger)
	ev := &events{db: d.DB, profiles: d.Profiles, logger: d.Logger}
	sv := survey.NewAPI(d.Surveys, d.Logger)
	ds := &display.API{DB: d.DB, Logger: d.Logger}
	return []Route{
		{"GET", "/api/v1/sources", auth.RoleAnalyst, in.ListSources},
		{"POST", "/api/v1/sources", auth.RoleAdmin, in.CreateSource},
		{"PATCH", "/api/v1/sources/{id}", auth.RoleAdmin, in.UpdateSource},
		{"DELETE", "/api/v1/sources/{id}", auth.RoleAdmin, in.DeleteSource},
		{"POST", "/api/v1/sources/{id}/rotate", auth.RoleAdmin, in.RotateSource},
		{"POST", "/api/v1/sources/{id}/rotate/end", auth.RoleAdmin, in.EndOverlap},
		{"GET", "/api/v1/quarantine", auth.RoleAnalyst, in.ListQuarantine},
		{"GET", "/api/v1/quarantine/{id}", auth.RoleAnalyst, in.QuarantinedMessage},
		{"POST", "/api/v1/quarantine/{id}/replay", auth.RoleAdmin, in.ReplayQuarantined},
		{"POST", "/api/v1/quarantine/{id}/discard", auth.RoleAdmin, in.DiscardQuarantined},
		{"GET", "/api/v1/events", auth.RoleAnalyst, ev.list},
		{"GET", "/api/v1/customers", auth.RoleAnalyst, pr.Search},
		{"GET", "/api/v1/customers/{id}", auth.RoleAnalyst, pr.GetCustomer},
		{"DELETE", "/api/v1/customers/{id}", auth.RoleAdmin, d.Privacy.Erase},
		{"GET", "/api/v1/customers/{id}/export", auth.RoleAdmin, d.Privacy.Export},
		{"GET", "/api/v1/suppressions", auth.RoleAdmin, d.Privacy.Suppressions},
		{"POST", "/api/v1/suppressions", auth.RoleAdmin, d.Privacy.Suppress},
		{"DELETE", "/api/v1/suppressions/{id}", auth.RoleAdmin, d.Privacy.Lift},
		{"GET", "/api/v1/customers/{id}/timeline", auth.RoleAnalyst, pr.Timeline},
		{"GET", "/api/v1/customers/{id}/invitations", auth.RoleAnalyst, sv.CustomerInvitations},
		{"POST", "/api/v1/customers/{id}/survey-opt-out", auth.RoleOwner, sv.OptOut},
		{"GET", "/api/v1/accounts/{id}", auth.RoleAnalyst, pr.GetAccount},
		{"GET", "/api/v1/segments", auth.RoleAnalyst, pr.Segments},
		{"POST", "/api/v1/segments", auth.RoleOwner, pr.SaveSegment},
		{"GET", "/api/v1/segments/{id}/members", auth.RoleAnalyst, pr.SegmentMembers},
		{"GET", "/api/v1/surveys", auth.RoleAnalyst, sv.List},
		{"POST", "/api/v1/surveys", auth.RoleOwner, sv.Create},
		{"POST", "/api/v1/surveys/replies", auth.RoleOwner, sv.Reply},
		{"GET", "/api/v1/surveys/{id}", auth.RoleAnalyst, sv.Get},
		{"PATCH", "/api/v1/surveys/{id}", auth.RoleOwner, sv.Update},
		{"DELETE", "/api/v1/surveys/{id}", auth.RoleOwner, sv.Delete},
		{"GET", "/api/v1/surveys/{id}/responses", auth.RoleAnalyst, sv.Responses},
		{"POST", "/api/v1/surveys/{id}/responses", auth.RoleOwner, sv.Respond},
		{"GET", "/api/v1/surveys/{id}/verbatims", auth.RoleAnalyst, sv.Verbatims},
		{"GET", "/api/v1/surveys/{id}/invitations", auth.RoleAnalyst, sv.Invitations},
		{"POST", "/api/v1/surveys/{id}/invitations", auth.RoleOwner, sv.Invite},
		{"POST", "/api/v1/surveys/{id}/send", auth.RoleOwner, sv.Send},
		{"GET", "/api/v1/scores", auth.RoleAnalyst, sv.Scores},
		{"GET", "/api/v1/survey-policy", auth.RoleAnalyst, sv.GetPolicy},
		{"GET", "/api/v1/teams", auth.RoleAnalyst, d.Cases.Teams},
		{"POST", "/api/v1/teams", auth.RoleAdmin, d.Cases.CreateTeam},
		{"PATCH", "/api/v1/teams/{id}", auth.RoleAdmin, d.Cases.UpdateTeam},
		{"DELETE", "/api/v1/teams/{id}", auth.RoleAdmin, d.Cases.DeleteTeam},
		{"GET", "/api/v1/rules", auth.RoleAnalyst, d.Cases.Rules},
		{"POST", "/api/v1/rules", auth.RoleAdmin, d.Cases.CreateRule},
		{"PATCH", "/api/v1/rules/{id}", auth.RoleAdmin, d.Cases.UpdateRule},
		{"DELETE", "/api/v1/rules/{id}", auth.RoleAdmin, d.Cases.DeleteRule},
		{"GET", "/api/v1/rules/{id}/firings", auth.RoleAnalyst, d.Cases.Firings},
		{"GET", "/api/v1/alerts", auth.RoleAnalyst, d.Cases.Alerts},
		{"POST", "/api/v1/alerts", auth.RoleAdmin, d.Cases.CreateAlert},
		{"GET", "/api/v1/alerts/{id}", auth.RoleAnalyst, d.Cases.Alert},
		{"PATCH", "/api/v1/alerts/{id}", auth.RoleAdmin, d.Cases.UpdateAlert},
		{"DELETE", "/api/v1/alerts/{id}", auth.RoleAdmin, d.Cases.DeleteAlert},
		{"GET", "/api/v1/alerts/{id}/check", auth.RoleAnalyst, d.Cases.CheckAlert},
		{"GET", "/api/v1/alerts/{id}/firings", auth.RoleAnalyst, d.Cases.AlertFirings},
		{"GET", "/api/v1/cases", auth.RoleAnalyst, d.Cases.Cases},
		{"GET", "/api/v1/cases/{id}", auth.RoleAnalyst, d.Cases.Case},
		{"POST", "/api/v1/cases/{id}/resolve", auth.RoleAgent, d.Cases.Resolve},
		{"POST", "/api/v1/cases/{id}/notes", auth.RoleAgent, d.Cases.Note},
		{"POST", "/api/v1/cases/{id}/assign", auth.RoleAgent, d.Cases.Assign},
		{"POST", "/api/v1/cases/{id}/status", auth.RoleAgent, d.Cases.SetStatus},
		{"POST", "/api/v1/mentions", auth.RoleOwner, d.Cases.Mention},
		{"GET", "/api/v1/returns/rates", auth.RoleAnalyst, d.Cases.ReturnRates},
		{"GET", "/api/v1/returns/repurchase", auth.RoleAnalyst, d.Cases.Repurchase},
		{"GET", "/api/v1/recovery", auth.RoleAnalyst, d.Cases.Recovery},
		{"GET", "/api/v1/sla", auth.RoleAnalyst, d.Cases.SLA},
		{"GET", "/api/v1/home", auth.RoleAnalyst, d.Home.Summary},
		{"GET", "/api/v1/silent-dissatisfied", auth.RoleAnalyst, d.An.Silent},
		{"GET", "/api/v1/customers/{id}/value", auth.RoleAnalyst, d.An.Value},
		{"GET", "/api/v1/analytics/at-risk", auth.RoleAnalyst, d.An.AtRisk},
		{"GET", "/api/v1/analytics/clv-model", auth.RoleAnalyst, d.An.Model},
		{"GET", "/api/v1/analytics/acsi-model", auth.RoleAnalyst, d.An.ACSI},
		{"GET", "/api/v1/journeys/funnel", auth.RoleAnalyst, d.An.Funnel},
		{"GET", "/api/v1/analytics/outcomes", auth.RoleAnalyst, d.An.Outcomes},
		{"GET", "/api/v1/analytics/channels", auth.RoleAnalyst, d.An.Channels},
		{"GET", "/api/v1/journeys/stages", auth.RoleAnalyst, d.An.GetStages},
		{"PUT", "/api/v1/journeys/stages", auth.RoleAdmin, d.An.SetStages},
		{"POST", "/api/v1/alignment/predictions", auth.RoleOwner, d.An.Predict},
		{"GET", "/api/v1/alignment/gap", auth.RoleAnalyst, d.An.Gap},
		{"GET", "/api/v1/products", auth.RoleAnalyst, d.Catalog.List},
		{"POST", "/api/v1/products", auth.RoleOwner, d.Catalog.Save},
		{"GET", "/api/v1/products/{id}", auth.RoleAnalyst, d.Catalog.Get},
		{"GET", "/api/v1/product-categories", auth.RoleAnalyst, d.Catalog.Categories},
		{"PUT", "/api/v1/product-categories/{category}", auth.RoleOwner, d.Catalog.SetCategory},
		{"GET", "/api/v1/customers/{id}/recommendations", auth.RoleAnalyst, d.Exp.Recommendations},
		{"GET", "/api/v1/items/{id}/similar", auth.RoleAnalyst, d.Exp.Similar},
		{"GET", "/api/v1/customers/{id}/buy-again", auth.RoleAnalyst, d.Exp.BuyAgain},
		{"POST", "/api/v1/customers/{id}/reorder", auth.RoleAgent, d.Exp.Reorder},
		{"GET", "/api/v1/customers/{id}/proposals", auth.RoleAnalyst, d.Exp.Proposals},
		{"GET", "/api/v1/customers/{id}/preferences", auth.RoleAnalyst, d.Exp.Preferences},
		{"GET", "/api/v1/customers/{id}/lists", auth.RoleAnalyst, d.Exp.Lists},
		{"PUT", "/api/v1/customers/{id}/lists/{name}", auth.RoleAgent, d.Exp.SaveList},
		{"GET", "/api/v1/customers/{id}/replenishments", auth.RoleAnalyst, d.Exp.Replenishments},
		{"POST", "/api/v1/replenishments/{id}/cancel", auth.RoleAgent, d.Exp.CancelReplenishment},
		{"GET", "/api/v1/replenishment/settings", auth.RoleAnalyst, d.Exp.GetReplenishSettings},
		{"GET", "/api/v1/display-settings", auth.RoleAnalyst, ds.Get},
		{"PATCH", "/api/v1/display-settings", auth.RoleAdmin, ds.Patch},
		{"GET", "/api/v1/nudges", auth.RoleAnalyst, d.Exp.Nudges},
		{"POST", "/api/v1/nudges", auth.RoleOwner, d.Exp.CreateNudge},
		{"GET", "/api/v1/nudges/uplift", auth.RoleAnalyst, d.Exp.Uplift},
		{"PATCH", "/api/v1/nudges/{id}", auth.RoleOwner, d.Exp.UpdateNudge},
		{"DELETE", "/api/v1/nudges/{id}", auth.RoleOwner, d.Exp.DeleteNudge},
		{"POST", "/api/v1/nudges/{id}/history", auth.RoleOwner, d.Exp.ImportHistory},
		{"GET", "/api/v1/experiences/learning", auth.RoleAnalyst, d.Exp.Learning},
		{"GET", "/api/v1/customers/{id}/experiences", auth.RoleAnalyst, d.Exp.Journey},
		{"PUT", "/api/v1/replenishment/settings", auth.RoleAdmin, d.Exp.SetReplenishSettings},
		{"PATCH", "/api/v1/replenishment/settings", auth.RoleAdmin, d.Exp.PatchReplenishSettings},
		{"GET", "/api/v1/loyalty/rules", auth.RoleAnalyst, d.Loyalty.Rules},
		{"POST", "/api/v1/loyalty/rules", auth.RoleAdmin, d.Loyalty.CreateRule},
		{"PATCH", "/api/v1/loyalty/rules/{id}", auth.RoleAdmin, d.Loyalty.UpdateRule},
		{"DELETE", "/api/v1/loyalty/rules/{id}", auth.RoleAdmin, d.Loyalty.DeleteRule},
		{"GET", "/api/v1/customers/{id}/engagement", auth.RoleAnalyst, d.Loyalty.Engagement},
		{"GET", "/api/v1/guides", auth.RoleAnalyst, d.Loyalty.Guides},
		{"POST", "/api/v1/guides", auth.RoleOwner, d.Loyalty.CreateGuide},
		{"GET", "/api/v1/guides/{id}/link", auth.RoleOwner, d.Loyalty.GuideLink},
		{"GET", "/api/v1/loyalty/senders-spenders", auth.RoleAnalyst, d.Loyalty.SendersSpenders},
		{"GET", "/api/v1/loyalty/dashboard", auth.RoleAnalyst, d.Loyalty.Dashboard},
		{"GET", "/api/v1/loyalty/activity", auth.RoleAnalyst, d.Loyalty.Activity},
		{"GET", "/api/v1/communities", auth.RoleAnalyst, d.Loyalty.Communities},
		{"GET", "/api/v1/introductions", auth.RoleAnalyst, d.Loyalty.Introductions},
		{"POST", "/api/v1/introductions", auth.RoleOwner, d.Loyalty.Introduce},
		{"GET", "/api/v1/loyalty/tiers", auth.RoleAnalyst, d.Loyalty.GetProgram},
		{"PUT", "/api/v1/loyalty/tiers", auth.RoleAdmin, d.Loyalty.SetProgram},
		{"GET", "/api/v1/customers/{id}/perks", auth.RoleAnalyst, d.Loyalty.Perks},
		{"GET", "/api/v1/customers/{id}/loyalty", auth.RoleAnalyst, d.Loyalty.Summary},
		{"GET", "/api/v1/customers/{id}/loyalty/ledger", auth.RoleAnalyst, d.Loyalty.Ledger},
		{"POST", "/api/v1/customers/{id}/loyalty/redeem", auth.RoleAgent, d.Loyalty.Redeem},
		{"GET", "/api/v1/webhooks", auth.RoleAdmin, d.Outbox.List},
		{"POST", "/api/v1/webhooks", auth.RoleAdmin, d.Outbox.Create},
		{"PATCH", "/api/v1/webhooks/{id}", auth.RoleAdmin, d.Outbox.Update},
		{"DELETE", "/api/v1/webhooks/{id}", auth.RoleAdmin, d.Outbox.Delete},
		{"GET", "/api/v1/webhooks/{id}/deliveries", auth.RoleAdmin, d.Outbox.Deliveries},
		{"POST", "/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver", auth.RoleAdmin, d.Outbox.Redeliver},
		{"GET", "/api/v1/jobs", auth.RoleAdmin, d.Jobs.List},
		{"GET", "/api/v1/jobs/{id}", auth.RoleAdmin, d.Jobs.Get},
		{"POST", "/api/v1/jobs/{id}/retry", auth.RoleAdmin, d.Jobs.Retry},
		{"POST", "/api/v1/jobs/{id}/cancel", auth.RoleAdmin, d.Jobs.Cancel},
		{"PUT", "/api/v1/survey-policy", auth.RoleAdmin, sv.SetPolicy},
		{"POST", "/api/v1/users", auth.RoleAdmin, au.CreateUser},
		{"GET", "/api/v1/users", auth.RoleAdmin, au.Users},
		{"PATCH", "/api/v1/users/{id}", auth.RoleAdmin, au.UpdateUser},
		{"DELETE", "/api/v1/users/{id}", auth.RoleAdmin, au.DeleteUser},
		{"GET", "/api/v1/tokens", auth.RoleAdmin, au.Tokens},
		{"POST", "/api/v1/tokens", auth.RoleAdmin, au.CreateToken},
		{"PATCH", "/api/v1/tokens/{id}", auth.RoleAdmin, au.UpdateToken},
		{"DELETE", "/api/v1/tokens/{id}", auth.RoleAdmin, au.RevokeToken},
		{"GET", "/api/v1/audit", auth.RoleAdmin, audit.NewAPI(d.Audit, d.Logger).List},
	}
}

//go:embed openapi.json
var openapi []byte

// Register declares every /api/v1 route on mux.
func Register(mux *http.ServeMux, d Deps) {
	g := guard{auth: d.Auth, trail: d.Audit, logger: d.Logger}
	rc := recorder{trail: d.Audit, profiles: d.Profiles}
	for _, rt := range Routes(d) {
		mux.Handle(rt.Method+" "+rt.Path, g.need(rt.Role, rc.wrap(rt)))
	}
	mux.HandleFunc("GET /api/v1/openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi)
	})
	mux.Handle("/api/v1/", g.need(auth.RoleAnalyst, func(w http.ResponseWriter, r *http.Request) {
		httpio.Error(w, nil, fault.New(fault.NotFound, "no route %s %s", r.Method, r.URL.Path))
	}))
}

// csvRoutes are the GET routes that answer CSV (?format=csv or Accept:
// text/csv) as well as JSON.
var csvRoutes = []string{
	"/api/v1/cases", "/api/v1/surveys/{id}/responses", "/api/v1/segments/{id}/members", "/api/v1/scores",
	"/api/v1/returns/rates", "/api/v1/returns/repurchase", "/api/v1/recovery", "/api/v1/customers",
	"/api/v1/quarantine", "/api/v1/rules/{id}/firings", "/api/v1/analytics/at-risk", "/api/v1/silent-dissatisfied",
	"/api/v1/suppressions", "/api/v1/surveys/{id}/invitations", "/api/v1/alerts/{id}/firings", "/api/v1/products",
	"/api/v1/audit", "/api/v1/surveys/{id}/verbatims",
}

// CSVRoutes lists the GET routes that answer CSV.
func CSVRoutes() []string { return slices.Clone(csvRoutes) }

// Exports serves the console's downloads: GET /export/… runs the CSV form
// of the /api/v1/… route of the same name (the same handler, so the same
// query and figures) for the principal the console put in the request's
// context, under the route's least role and the principal's team scope.
func Exports(d Deps) http.Handler {
	mux := http.NewServeMux()
	rc := recorder{trail: d.Audit, profiles: d.Profiles}
	for _, rt := range Routes(d) {
		if rt.Method != http.MethodGet || !slices.Contains(csvRoutes, rt.Path) {
			continue
		}
		role, h := rt.Role, rc.wrap(rt)
		mux.HandleFunc("GET /export/"+strings.TrimPrefix(rt.Path, "/api/v1/"), func(w http.ResponseWriter, r *http.Request) {
			p, ok := auth.From(r.Context())
			if !ok {
				httpio.Error(w, d.Logger, fault.New(fault.Unauthorized, "sign in to download"))
				return
			}
			if !p.Can(role) {
				httpio.Error(w, d.Logger, fault.New(fault.Forbidden, "this needs the %s role; you have %s", role, p.Role))
				return
			}
			q := r.URL.Query()
			q.Set("format", "csv")
			r.URL.RawQuery = q.Encode()
			h(w, r)
		})
	}
	mux.HandleFunc("/export/", func(w http.ResponseWriter, r *http.Request) {
		httpio.Error(w, d.Logger, fault.New(fault.NotFound, "no export %s", r.URL.Path))
	})
	return mux
}

type guard struct {
	auth   *auth.Service
	trail  *audit.Service
	logger *slog.Logger
}

// need admits requests whose bearer token has at least role.
func (g guard) need(role string, h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		secret, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || secret == "" {
			g.trail.TokenRefused(r, "missing")
			w.Header().Set("WWW-Authenticate", `Bearer realm="cxloop"`)
			httpio.Error(w, g.logger, fault.New(fault.Unauthorized, "send an API token as Authorization: Bearer <token>"))
			return
		}
		p, err := g.auth.Token(r.Context(), strings.TrimSpace(secret))
		if err != nil {
			if fault.Code(err) == fault.Unauthorized {
				// Counted, not recorded: see audit.Service.TokenRefused.
				g.trail.TokenRefused(r, "refused")
			}
			httpio.Error(w, g.logger, err)
			return
		}
		httpio.Authenticated(r.Context())
		if !p.Can(role) {
			httpio.Error(w, g.logger, fault.New(fault.Forbidden, "this needs the %s role; the token has %s", role, p.Role))
			return
		}
		h(w, r.WithContext(auth.WithPrincipal(r.Context(), p)))
	})
}

type events struct {
	db       *store.DB
	profiles *profile.Service
	logger   *slog.Logger
}

// list answers GET /api/v1/events?customer=&type=&after=&limit=. type is a
// message type (track, identify, …) or a track event name.
func (e *events) list(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := eventlog.Query{}
	var err error
	if q.After, err = httpio.Int(r, "after", 0); err != nil {
		httpio.Error(w, e.logger, err)
		return
	}
	limit, err := httpio.Int(r, "limit", 100)
	if err == nil && (limit < 1 || limit > 1000) {
		err = fault.Field("limit", "limit must be between 1 and 1000")
	}
	if err != nil {
		httpio.Error(w, e.logger, err)
		return
	}
	q.Limit = int(limit)
	if t := r.URL.Query().Get("type"); eventlog.IsType(t) || t == eventlog.Erased {
		q.Type = t
	} else {
		q.Event = t
	}
	if c := r.URL.Query().Get("customer"); c != "" {
		_, f, err := e.profiles.EventFilter(ctx, c)
		if err != nil {
			httpio.Error(w, e.logger, err)
			return
		}
		q.UserIDs, q.AnonymousIDs = f.UserIDs, f.AnonymousIDs
	}
	list, err := eventlog.Read(ctx, e.db, q)
	if err != nil {
		httpio.Error(w, e.logger, err)
		return
	}
	if p, ok := auth.From(ctx); ok {
		list = eventlog.ScopeCases(list, func(team string) bool { return p.InTeam(team) })
	}
	owners, err := e.profiles.Owners(ctx, list)
	if err != nil {
		httpio.Error(w, e.logger, err)
		return
	}
	out := make([]profile.EventView, len(list))
	var next any
	for i, ev := range list {
		out[i] = profile.View(ev, profile.OwnerOf(owners, ev))
	}
	if len(list) == q.Limit {
		next = list[len(list)-1].Seq
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"events": out, "next": next})
}
