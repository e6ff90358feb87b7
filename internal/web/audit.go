package web

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/text"
)

// consoleClass says how the trail records a console form (see class in
// internal/api): Config forms keep their fields (secrets redacted, the CSRF
// token dropped) as the state after; the others keep only action, resource
// and ids. An empty Action or Resource is read from the path value of
// that name (ActionFrom, ResourceFrom).
type consoleClass struct {
	Action, Resource string
	Config           bool
	ActionFrom       string
	ResourceFrom     map[string]string // path value "what" -> resource
	ID               string            // the path value naming the resource ("id" when empty)
	Skip             bool              // changes nothing
	// NotedOnly records the form only when its handler noted a change: a
	// form whose other buttons only come back changed (the survey
	// editor's add, remove, move) saves nothing with them.
	NotedOnly bool
	// Detail keeps what the handler notes as the change's after-state
	// although the form is not configuration (it names no customer data:
	// a bulk assignment's cases and assignee).
	Detail bool
}

// consoleChanges classifies every console form that changes something, and
// the reads the trail records (a customer's export); a POST missing here is
// recorded as customers' data (ids only), and
// TestEveryConsoleChangeIsClassified fails for it.
var consoleChanges = map[string]consoleClass{
	"POST /logout":                         {Action: audit.SignOut, Resource: "session"},
	"GET /customers/{id}/export":           {Action: audit.Export, Resource: "customer"},
	"POST /customers/{id}/erase":           {Action: audit.Erase, Resource: "customer"},
	"POST /privacy/suppressions/{id}/lift": {Action: "delete", Resource: "suppression", Config: true},
	"POST /privacy/suppressions":           {Action: "create", Resource: "suppression"}, // names identities: ids only
	"POST /surveys":                        {Action: "create", Resource: "survey", Config: true, NotedOnly: true},
	"POST /surveys/{id}/edit":              {Action: "update", Resource: "survey", Config: true, NotedOnly: true},
	"POST /surveys/{id}/status":            {Action: "update", Resource: "survey", Config: true},
	"POST /surveys/{id}/web":               {Action: "update", Resource: "survey", Config: true},
	"POST /surveys/{id}/send":              {Action: "send", Resource: "survey"},
	"POST /cases/{id}/{action}":            {Resource: "case", ActionFrom: "action"},
	"POST /cases/assign":                   {Action: "assign", Resource: "case", Detail: true}, // the ticked cases and the assignee; each case records its own Case Assigned
	"POST /customers/{id}/redeem":          {Action: "redeem", Resource: "customer"},
	"POST /customers/{id}/reorder":         {Action: "reorder", Resource: "customer"},
	"POST /replenishments/{id}/cancel":     {Action: "cancel", Resource: "replenishment"},
	"POST /loyalty/rules":                  {Action: "create", Resource: "loyalty_rule", Config: true},
	"POST /loyalty/rules/{id}/delete":      {Action: "delete", Resource: "loyalty_rule", Config: true},
	"POST /product-categories/{category}":  {Action: "update", Resource: "product_category", Config: true, ID: "category"},
	"POST /sources":                        {Action: "create", Resource: "source", Config: true},
	"POST /sources/{what}":                 {Skip: true}, // shows a pasted key's snippet
	"POST /settings/{what}": {Action: "create", Config: true,
		ResourceFrom: map[string]string{"teams": "team", "rules": "rule", "webhooks": "webhook", "users": "user", "tokens": "token",
			"policy": "survey-policy", "currency": "display_settings"}},
	"POST /nudges":                          {Action: "create", Resource: "nudge", Config: true},
	"POST /nudges/{id}/edit":                {Action: "update", Resource: "nudge", Config: true},
	"POST /alerts":                          {Action: "create", Resource: "alert", Config: true},
	"POST /settings/rules/{id}/{action}":    {Resource: "rule", Config: true, ActionFrom: "action"},
	"POST /settings/webhooks/{id}/{action}": {Resource: "webhook", Config: true, ActionFrom: "action"},
	"POST /settings/teams/{id}/{action}":    {Resource: "team", Config: true, ActionFrom: "action"},
	"POST /settings/users/{id}/{action}":    {Resource: "user", Config: true, ActionFrom: "action"},
	"POST /settings/tokens/{id}/{action}":   {Resource: "token", Config: true, ActionFrom: "action"},
	"POST /sources/{id}/{action}":           {Resource: "source", Config: true, ActionFrom: "action"},
	"POST /alerts/{id}/{action}":            {Resource: "alert", Config: true, ActionFrom: "action"},
	"POST /nudges/{id}/{action}":            {Resource: "nudge", Config: true, ActionFrom: "action"},
	"POST /replenishment/{action}":          {Resource: "replenishment_settings", Config: true, ActionFrom: "action"},
	"POST /loyalty/rules/{id}/{action}":     {Resource: "loyalty_rule", Config: true, ActionFrom: "action"},
	"POST /jobs/{id}/{action}":              {Resource: "job", Config: true, ActionFrom: "action"},
	"POST /quarantine/{id}/{action}":        {Resource: "quarantine", ActionFrom: "action"}, // a message names customers: ids only
}

// recorded writes the trail's entry of a console form that changed
// something, before its answer is sent (see recorder in internal/api).
func (c *Console) recorded(h func(http.ResponseWriter, *http.Request, auth.Session)) func(http.ResponseWriter, *http.Request, auth.Session) {
	if c.Audit == nil {
		return h
	}
	return func(w http.ResponseWriter, r *http.Request, s auth.Session) {
		cls, known := consoleChanges[r.Pattern]
		if (r.Method != http.MethodPost && !known) || cls.Skip {
			h(w, r, s)
			return
		}
		if !known {
			cls = consoleClass{Action: "create", Resource: "unclassified"}
		}
		idParam := cls.ID
		if idParam == "" {
			idParam = "id"
		}
		ofCustomer := strings.Contains(r.Pattern, " /customers/{id}")
		var customer string
		if ofCustomer {
			customer = c.customerID(r, r.PathValue("id"))
		}
		ctx, change := audit.WithChange(r.Context())
		buf := audit.NewBuffer(w)
		h(buf, r.WithContext(ctx), s)
		if !audit.Succeeded(buf.Status()) || cls.NotedOnly && !change.Noted() {
			buf.Send()
			return
		}
		e := audit.Entry{Actor: s.Name, ActorID: s.Credential, Role: s.Role, Address: audit.ClientAddr(r),
			Action: cls.Action, Resource: cls.Resource, Method: r.Method, Route: r.Pattern[strings.IndexByte(r.Pattern, ' ')+1:], Status: buf.Status()}
		if cls.ActionFrom != "" {
			e.Action = r.PathValue(cls.ActionFrom)
		}
		if cls.ResourceFrom != nil {
			e.Resource = cls.ResourceFrom[r.PathValue("what")]
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
			e.ResourceID = customer
		case e.ResourceID == "":
			e.ResourceID = r.PathValue(idParam)
		}
		if cls.Config {
			e.Before = audit.State(change.Before)
			if change.After != nil {
				e.After = audit.State(change.After)
			} else {
				e.After = audit.State(formState(r))
			}
		} else if cls.Detail && change.After != nil {
			e.After = audit.State(change.After)
		}
		_ = c.Audit.Record(ctx, e)
		buf.Send()
	}
}

// formState is a configuration form's fields, without its CSRF token and
// without empty fields; a field sent more than once keeps every value.
func formState(r *http.Request) map[string]any {
	out := map[string]any{}
	for k, vs := range r.PostForm {
		if k == "csrf" {
			continue
		}
		var kept []string
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" {
				kept = append(kept, v)
			}
		}
		switch len(kept) {
		case 0:
		case 1:
			out[k] = kept[0]
		default:
			out[k] = kept
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// customerID is the cus_ id ref names ("" when it names none): the trail
// never holds a customer's email or phone.
func (c *Console) customerID(r *http.Request, ref string) string {
	if c.Profiles != nil {
		if id, err := c.Profiles.Resolve(r.Context(), ref); err == nil && strings.HasPrefix(id, "cus_") {
			return id
		}
	}
	if strings.HasPrefix(ref, "cus_") {
		return ref
	}
	return ""
}

// maxAttempted bounds the email a failed sign-in records (the longest an
// address may be), so that nobody can write large rows by failing.
const maxAttempted = 254

// signInEntry is the trail's entry of a sign-in attempt. The attempted
// email is an operator's identity, never a customer's; a token is never
// recorded, only that one was tried.
func signInEntry(r *http.Request, action string, status int) audit.Entry {
	e := audit.Entry{Address: audit.ClientAddr(r), Action: action, Resource: "session", Method: r.Method, Route: "/login", Status: status}
	if strings.TrimSpace(r.PostFormValue("token")) != "" {
		e.ActorID = "token"
		return e
	}
	e.Actor = strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	if len(e.Actor) > maxAttempted {
		e.Actor = e.Actor[:maxAttempted]
	}
	return e
}

// auditPage lists the trail, newest first, filtered like GET /api/v1/audit.
func (c *Console) auditPage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "the audit trail needs the admin role"))
		return
	}
	q, err := audit.ParseQuery(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	if q.Limit == 100 && r.URL.Query().Get("limit") == "" {
		q.Limit = 50
	}
	list, next, err := c.Audit.List(r.Context(), q)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := r.URL.Query()
	filter := map[string]string{"actor": v.Get("actor"), "action": v.Get("action"), "resource": v.Get("resource"),
		"resourceId": v.Get("resourceId"), "from": v.Get("from"), "to": v.Get("to")}
	// The download: every entry the filter selects, not just this page.
	ev := url.Values{}
	for k, val := range filter {
		if val != "" {
			ev.Set(k, val)
		}
	}
	export := "/export/audit"
	if len(ev) > 0 {
		export += "?" + ev.Encode()
	}
	var more string
	if next > 0 {
		nv := r.URL.Query()
		nv.Set("cursor", strconv.FormatInt(next, 10))
		more = "/audit?" + nv.Encode()
	}
	c.render(w, r, http.StatusOK, "audit", view{Title: "Audit trail", Session: &s, Nav: "audit",
		Data: map[string]any{"Entries": list, "Filter": filter, "More": more, "Export": export}})
}

// fieldChange is one field of an audited change, in words.
type fieldChange struct{ Field, Before, After string }

// auditChanges lays an audited change out field by field: the fields that
// differ between the states before and after (all of them when one side
// is absent: a creation, a removal), each value in words. A state that is
// not an object is one row without a field name.
func auditChanges(before, after json.RawMessage) []fieldChange {
	var b, a any
	if len(before) > 0 {
		_ = json.Unmarshal(before, &b)
	}
	if len(after) > 0 {
		_ = json.Unmarshal(after, &a)
	}
	words := func(v any) string {
		if v == nil {
			return "—"
		}
		s := format(v)
		if s == "" {
			return "(empty)"
		}
		return text.Clip(s, 300)
	}
	bm, bok := b.(map[string]any)
	am, aok := a.(map[string]any)
	if (!bok && b != nil) || (!aok && a != nil) {
		if reflect.DeepEqual(a, b) {
			return nil
		}
		return []fieldChange{{Before: words(b), After: words(a)}}
	}
	keys := map[string]bool{}
	for k := range bm {
		keys[k] = true
	}
	for k := range am {
		keys[k] = true
	}
	var out []fieldChange
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		switch k {
		case "updatedAt", "updated_at":
			continue // every change moves it
		}
		if reflect.DeepEqual(bm[k], am[k]) {
			continue
		}
		out = append(out, fieldChange{Field: label(k), Before: words(bm[k]), After: words(am[k])})
	}
	return out
}
