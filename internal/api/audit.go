package api

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/profile"
)

// class says how the trail records a route: the action and resource it
// names, and whether the route changes configuration or access (Config),
// whose entries keep the state after (the request body, or what the
// handler noted) and before (when noted). Every other route's entries keep
// only action, resource and ids: they touch customers' data, whose bodies
// never reach the trail.
type class struct {
	Action, Resource string
	Config           bool
	ID               string // the path value naming the resource ("id" when empty)
}

// auditRoutes classifies every /api/v1 route that changes something, and
// the reads the trail records (a customer's export). It is the one place
// that decides what the trail keeps of a route: TestEveryChangeIsClassified
// fails for a route that changes something and is missing here. Some routes
// are classified ahead of their handlers.
var auditRoutes = map[string]class{
	// Configuration and access.
	"POST /api/v1/sources":                                       {"create", "source", true, ""},
	"PATCH /api/v1/sources/{id}":                                 {"update", "source", true, ""},
	"DELETE /api/v1/sources/{id}":                                {"delete", "source", true, ""},
	"POST /api/v1/sources/{id}/rotate":                           {"rotate", "source", true, ""},
	"POST /api/v1/sources/{id}/rotate/end":                       {"end_overlap", "source", true, ""},
	"POST /api/v1/segments":                                      {"create", "segment", true, ""},
	"DELETE /api/v1/segments/{id}":                               {"delete", "segment", true, ""},
	"POST /api/v1/surveys":                                       {"create", "survey", true, ""},
	"PATCH /api/v1/surveys/{id}":                                 {"update", "survey", true, ""},
	"DELETE /api/v1/surveys/{id}":                                {"delete", "survey", true, ""},
	"POST /api/v1/teams":                                         {"create", "team", true, ""},
	"PATCH /api/v1/teams/{id}":                                   {"update", "team", true, ""},
	"DELETE /api/v1/teams/{id}":                                  {"delete", "team", true, ""},
	"POST /api/v1/rules":                                         {"create", "rule", true, ""},
	"PATCH /api/v1/rules/{id}":                                   {"update", "rule", true, ""},
	"DELETE /api/v1/rules/{id}":                                  {"delete", "rule", true, ""},
	"POST /api/v1/alerts":                                        {"create", "alert", true, ""},
	"PATCH /api/v1/alerts/{id}":                                  {"update", "alert", true, ""},
	"DELETE /api/v1/alerts/{id}":                                 {"delete", "alert", true, ""},
	"PUT /api/v1/journeys/stages":                                {"update", "journey_stages", true, ""},
	"PUT /api/v1/product-categories/{category}":                  {"update", "product_category", true, "category"},
	"POST /api/v1/nudges":                                        {"create", "nudge", true, ""},
	"PATCH /api/v1/nudges/{id}":                                  {"update", "nudge", true, ""},
	"DELETE /api/v1/nudges/{id}":                                 {"delete", "nudge", true, ""},
	"PUT /api/v1/replenishment/settings":                         {"update", "replenishment_settings", true, ""},
	"PATCH /api/v1/replenishment/settings":                       {"update", "replenishment_settings", true, ""},
	"PATCH /api/v1/display-settings":                             {"update", "display_settings", true, ""},
	"POST /api/v1/loyalty/rules":                                 {"create", "loyalty_rule", true, ""},
	"PATCH /api/v1/loyalty/rules/{id}":                           {"update", "loyalty_rule", true, ""},
	"DELETE /api/v1/loyalty/rules/{id}":                          {"delete", "loyalty_rule", true, ""},
	"PUT /api/v1/loyalty/tiers":                                  {"update", "loyalty_tiers", true, ""},
	"POST /api/v1/guides":                                        {"create", "guide", true, ""},
	"PATCH /api/v1/guides/{id}":                                  {"update", "guide", true, ""},
	"DELETE /api/v1/guides/{id}":                                 {"delete", "guide", true, ""},
	"POST /api/v1/webhooks":                                      {"create", "webhook", true, ""},
	"PATCH /api/v1/webhooks/{id}":                                {"update", "webhook", true, ""},
	"DELETE /api/v1/webhooks/{id}":                               {"delete", "webhook", true, ""},
	"POST /api/v1/webhooks/{id}/deliveries/{delivery}/redeliver": {"redeliver", "webhook", true, ""},
	"POST /api/v1/jobs/{id}/retry":                               {"retry", "job", true, ""},
	"POST /api/v1/jobs/{id}/cancel":                              {"cancel", "job", true, ""},
	"PUT /api/v1/survey-policy":                                  {"update", "survey_policy", true, ""},
	"POST /api/v1/users":                                         {"create", "user", true, ""},
	"PATCH /api/v1/users/{id}":                                   {"update", "user", true, ""},
	"DELETE /api/v1/users/{id}":                                  {"delete", "user", true, ""},
	"POST /api/v1/tokens":                                        {"create", "token", true, ""},
	"PATCH /api/v1/tokens/{id}":                                  {"update", "token", true, ""},
	"DELETE /api/v1/tokens/{id}":                                 {"revoke", "token", true, ""},
	"DELETE /api/v1/suppressions/{id}":                           {"delete", "suppression", true, ""},  // its state: ids, kinds and counts, no identity
	"POST /api/v1/suppressions":                                  {"create", "suppression", false, ""}, // its body names identities: ids only

	// Customers' data: action, resource and ids only.
	"GET /api/v1/customers/{id}/export":          {audit.Export, "customer", false, ""},
	"POST /api/v1/quarantine/{id}/replay":        {"replay", "quarantine", false, ""}, // a message names customers: ids only
	"POST /api/v1/quarantine/{id}/discard":       {"discard", "quarantine", false, ""},
	"DELETE /api/v1/customers/{id}":              {audit.Erase, "customer", false, ""},
	"POST /api/v1/customers/{id}/survey-opt-out": {"opt_out", "customer", false, ""},
	"POST /api/v1/customers/{id}/reorder":        {"reorder", "customer", false, ""},
	"PUT /api/v1/customers/{id}/lists/{name}":    {"save_list", "customer", false, ""},
	"POST /api/v1/customers/{id}/loyalty/redeem": {"redeem", "customer", false, ""},
	"POST /api/v1/surveys/replies":               {"reply", "survey_response", false, ""},
	"POST /api/v1/surveys/{id}/responses":        {"respond", "survey", false, ""},
	"POST /api/v1/surveys/{id}/invitations":      {"invite", "survey", false, ""},
	"POST /api/v1/surveys/{id}/send":             {"send", "survey", false, ""},
	"POST /api/v1/cases/{id}/resolve":            {"resolve", "case", false, ""},
	"POST /api/v1/cases/{id}/notes":              {"note", "case", false, ""},
	"POST /api/v1/cases/{id}/assign":             {"assign", "case", false, ""},
	"POST /api/v1/cases/{id}/status":             {"set_status", "case", false, ""},
	"POST /api/v1/mentions":                      {"create", "mention", false, ""},
	"POST /api/v1/alignment/predictions":         {"create", "prediction", false, ""},
	"POST /api/v1/products":                      {"save", "product", false, ""},
	"POST /api/v1/replenishments/{id}/cancel":    {"cancel", "replenishment", false, ""},
	"POST /api/v1/nudges/{id}/history":           {"import", "nudge", false, ""},
	"POST /api/v1/introductions":                 {"create", "introduction", false, ""},
}

// changes reports whether a route changes something (or is a read the
// trail records).
func changes(method, path string) bool {
	if _, ok := auditRoutes[method+" "+path]; ok {
		return true
	}
	return method != http.MethodGet && method != http.MethodHead
}

// classify is a route's class: from auditRoutes, else (a route not yet
// classified) the action its method names and the resource its path names,
// as customers' data, keeping no body.
func classify(method, path string) class {
	if c, ok := auditRoutes[method+" "+path]; ok {
		return c
	}
	c := class{Action: map[string]string{"POST": "create", "PUT": "update", "PATCH": "update", "DELETE": "delete"}[method]}
	for _, seg := range strings.Split(strings.TrimPrefix(path, "/api/v1/"), "/") {
		if seg != "" && !strings.HasPrefix(seg, "{") {
			c.Resource = strings.TrimSuffix(strings.ReplaceAll(seg, "-", "_"), "s")
		}
	}
	return c
}

// recorder writes the trail's entry of each change made through /api/v1.
type recorder struct {
	trail    *audit.Service
	profiles *profile.Service
}

// wrap records what the route's handler changed once it succeeded: the
// entry is written before the response is sent. A failed write is logged
// and counted (audit.Service.Record) and the response still goes out: the
// change is made by then, and a client told it failed would make it again.
func (rc recorder) wrap(rt Route) http.HandlerFunc {
	if rc.trail != nil && rt.Method == http.MethodGet && slices.Contains(csvRoutes, rt.Path) {
		return rc.csvExport(rt)
	}
	if rc.trail == nil || !changes(rt.Method, rt.Path) {
		return rt.Handler
	}
	cls := classify(rt.Method, rt.Path)
	idParam := cls.ID
	if idParam == "" {
		idParam = "id"
	}
	ofCustomer := strings.HasPrefix(rt.Path, "/api/v1/customers/{id}")
	return func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		// A customer is named by its cus_ id, resolved before the handler
		// runs (an erased customer resolves no more); the path may name it
		// by email or phone, which the trail never holds.
		var customer string
		if ofCustomer {
			customer = rc.customerID(ctx, r.PathValue("id"))
		}
		var body []byte
		if cls.Config && r.Body != nil && r.Method != http.MethodGet {
			body, _ = io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(bytes.NewReader(body), r.Body), r.Body}
			if len(body) > 1<<20 {
				body = nil
			}
		}
		ctx, change := audit.WithChange(ctx)
		buf := audit.NewBuffer(w)
		rt.Handler(buf, r.WithContext(ctx))
		if audit.Succeeded(buf.Status()) {
			e := audit.Entry{Address: audit.ClientAddr(r), Action: cls.Action, Resource: cls.Resource,
				Method: r.Method, Route: rt.Path, Status: buf.Status()}
			if p, ok := auth.From(ctx); ok {
				e.Actor, e.ActorID, e.Role = p.Name, p.Credential, p.Role
			}
			if change.Noted() {
				if change.Action != "" {
					e.Action = change.Action
				}
				if change.Resource != "" {
					e.Resource = change.Resource
				}
				e.ResourceID = change.ResourceID
			}
			switch {
			case ofCustomer:
				if !strings.HasPrefix(e.ResourceID, "cus_") {
					e.ResourceID = customer
				}
			case e.ResourceID == "":
				if e.ResourceID = r.PathValue(idParam); e.ResourceID == "" {
					e.ResourceID = audit.ResponseID(buf.Body())
				}
			}
			if cls.Config {
				e.Before = audit.State(change.Before)
				if change.After != nil {
					e.After = audit.State(change.After)
				} else if body != nil {
					e.After = audit.State(body)
				}
			}
			_ = rc.trail.Record(ctx, e)
		}
		buf.Send()
	}
}

// csvExport records each CSV export of a list or report (action export, the
// list as resource, the path's id), once it has streamed: never its query,
// which may name a customer. The answer is not held back.
func (rc recorder) csvExport(rt Route) http.HandlerFunc {
	cls := classify(http.MethodPost, rt.Path)
	return func(w http.ResponseWriter, r *http.Request) {
		if csv, err := httpio.WantsCSV(r); err != nil || !csv {
			rt.Handler(w, r)
			return
		}
		sw := &statusWriter{ResponseWriter: w}
		rt.Handler(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		if !audit.Succeeded(sw.status) {
			return
		}
		e := audit.Entry{Address: audit.ClientAddr(r), Action: "export", Resource: cls.Resource, ResourceID: r.PathValue("id"),
			Method: r.Method, Route: rt.Path, Status: sw.status}
		if p, ok := auth.From(r.Context()); ok {
			e.Actor, e.ActorID, e.Role = p.Name, p.Credential, p.Role
		}
		_ = rc.trail.Record(r.Context(), e)
	}
}

// statusWriter passes an answer through, keeping its status.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController flush and set deadlines.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// customerID is the cus_ id ref names ("" when it names none).
func (rc recorder) customerID(ctx context.Context, ref string) string {
	if rc.profiles != nil {
		if id, err := rc.profiles.Resolve(ctx, ref); err == nil && strings.HasPrefix(id, "cus_") {
			return id
		}
	}
	if strings.HasPrefix(ref, "cus_") {
		return ref
	}
	return ""
}

// Classified reports whether auditRoutes decides what the trail keeps of a
// route.
func Classified(method, path string) bool {
	_, ok := auditRoutes[method+" "+path]
	return ok
}
