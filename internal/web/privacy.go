package web

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/privacy"
)

// privacyPage lists the suppression list and reports an erasure just made.
func (c *Console) privacyPage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "privacy needs the admin role"))
		return
	}
	list, err := c.Privacy.Suppressions(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	c.render(w, r, http.StatusOK, "privacy", view{Title: "Privacy", Session: &s, Nav: "settings", Data: map[string]any{
		"Suppressions": list, "Erased": q.Get("erased"), "Events": q.Get("events"), "Rows": q.Get("rows"), "Suppressed": q.Get("suppressed") != "",
	}})
}

// customerExport offers everything held on a customer as a JSON download.
func (c *Console) customerExport(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "exporting a customer needs the admin role"))
		return
	}
	out, err := c.Privacy.Export(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	id := out.Identities.Customers[0]
	audit.Note(r.Context(), audit.Change{Action: "export", Resource: "customer", ResourceID: id})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", `attachment; filename="`+id+`-export.json"`)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(out)
}

// customerErase erases a customer once the form's confirmation names them.
func (c *Console) customerErase(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "erasing a customer needs the admin role"))
		return
	}
	id := r.PathValue("id")
	if strings.TrimSpace(r.PostFormValue("confirm")) != "erase" {
		c.fail(w, r, fault.Field("confirm", "type erase to confirm: the customer's data cannot be brought back"))
		return
	}
	suppress := r.PostFormValue("suppress") != ""
	out, err := c.Privacy.Erase(r.Context(), id, suppress, s.Principal.Name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "erase", Resource: "customer", ResourceID: out.Customer,
		After: map[string]any{"profiles": out.Profiles, "suppressionId": out.SuppressionID, "eventsTombstoned": out.Tombstoned}})
	var rows int64
	for _, n := range out.Rows {
		rows += n
	}
	v := url.Values{"erased": {out.Customer}, "events": {strconv.FormatInt(out.Tombstoned, 10)}, "rows": {strconv.FormatInt(rows, 10)}}
	if out.SuppressionID != "" {
		v.Set("suppressed", "1")
	}
	http.Redirect(w, r, "/privacy?"+v.Encode(), http.StatusSeeOther)
}

// liftSuppression accepts a suppressed customer's identities again.
func (c *Console) liftSuppression(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "the suppression list needs the admin role"))
		return
	}
	p, err := c.Privacy.Lift(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "delete", Resource: "suppression", ResourceID: p.ID, Before: p})
	http.Redirect(w, r, "/privacy", http.StatusSeeOther)
}

// suppress refuses the identities the form lists, one a line.
func (c *Console) suppress(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "the suppression list needs the admin role"))
		return
	}
	lines := func(k string) []string {
		var out []string
		for _, v := range strings.Split(r.PostFormValue(k), "\n") {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	p, err := c.Privacy.Suppress(r.Context(), privacy.Identities{UserIDs: lines("userIds"), AnonymousIDs: lines("anonymousIds"),
		Emails: lines("emails"), Phones: lines("phones")}, s.Principal.Name)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "create", Resource: "suppression", ResourceID: p.ID})
	http.Redirect(w, r, "/privacy", http.StatusSeeOther)
}
