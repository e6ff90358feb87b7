package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/cases"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
)

// caseQueue lists a team's cases with their SLA state.
func (c *Console) caseQueue(w http.ResponseWriter, r *http.Request, s auth.Session) {
	ctx := r.Context()
	team, status := r.URL.Query().Get("team"), r.URL.Query().Get("status")
	if status == "" {
		status = "open"
	}
	if status == "all" {
		status = ""
	}
	list, err := c.Cases.List(ctx, cases.Scope(casesFilter(team, status), s.Principal))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	teams, err := c.Cases.Teams(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	refs := make([]string, 0, len(list))
	for _, cs := range list {
		refs = append(refs, cs.Customer)
	}
	names, err := c.Profiles.Names(ctx, refs)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "cases", view{Title: "Cases", Session: &s, Nav: "cases", Data: map[string]any{
		"Cases": list, "Teams": teams, "Team": team, "Status": r.URL.Query().Get("status"), "Now": c.Profiles.Now().UnixMilli(), "Names": names,
	}})
}

// casePage shows a case with its customer's context, notes and actions.
func (c *Console) casePage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	ctx := r.Context()
	cs, err := c.Cases.Allowed(ctx, s.Principal, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	data := map[string]any{"Case": cs}
	if cs.Customer != "" {
		if cus, err := c.Profiles.Get(ctx, cs.Customer); err == nil {
			q := cus.EventQuery()
			q.ByTime, q.Desc, q.Limit = true, true, 12
			events, err := eventlog.Read(ctx, c.DB, q)
			if err != nil {
				c.fail(w, r, err)
				return
			}
			recent := make([]touchpoint, len(events))
			for i, e := range events {
				recent[i] = describe(e)
			}
			data["Customer"], data["Name"], data["Recent"] = cus, cus.Name(), recent
		}
	}
	c.render(w, r, http.StatusOK, "case", view{Title: cs.Subject, Session: &s, Nav: "cases", Data: data})
}

// caseAction runs a case command from the case page: resolve, note, assign.
func (c *Console) caseAction(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAgent) {
		c.fail(w, r, fault.New(fault.Forbidden, "working cases needs the agent role"))
		return
	}
	ctx, id, who := r.Context(), r.PathValue("id"), s.Principal.Name
	note := strings.TrimSpace(r.PostFormValue("note"))
	if _, err := c.Cases.Allowed(ctx, s.Principal, id); err != nil {
		c.fail(w, r, err)
		return
	}
	var err error
	switch r.PathValue("action") {
	case "resolve":
		_, err = c.Cases.Resolve(ctx, id, note, who)
	case "notes":
		_, err = c.Cases.AddNote(ctx, id, note, who)
	case "assign":
		_, err = c.Cases.Assign(ctx, id, r.PostFormValue("assignee"), who)
	default:
		err = fault.New(fault.NotFound, "no case action %q", r.PathValue("action"))
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/cases/"+id, http.StatusSeeOther)
}

// recoveryPage shows complaint recovery, the silent dissatisfied and return rates.
func (c *Console) recoveryPage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	ctx := r.Context()
	rep, err := c.Cases.Recovery(ctx, s.Principal)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	silent, err := c.An.SilentDissatisfied(ctx, 50)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// The share from the counts themselves, not from the API's rounded figure.
	share := "—" // nothing rated yet
	if rep.Rated > 0 {
		share = fmt.Sprintf("%d%%", int(float64(rep.HandledWell)*100/float64(rep.Rated)+0.5))
	}
	refs := make([]string, 0, len(rep.Complainers))
	for _, cm := range rep.Complainers {
		refs = append(refs, cm.Customer)
	}
	names, err := c.Profiles.Names(ctx, refs)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	data := map[string]any{"Recovery": rep, "Silent": silent, "Share": share, "Names": names}
	for _, by := range []string{"channel", "category", "reason"} {
		groups, err := c.Cases.ReturnRates(ctx, by, time.Time{}, time.Time{})
		if err != nil {
			c.fail(w, r, err)
			return
		}
		data["Returns_"+by] = groups
	}
	c.render(w, r, http.StatusOK, "recovery", view{Title: "Recovery and returns", Session: &s, Nav: "recovery", Data: data})
}

func casesFilter(team, status string) cases.Filter {
	return cases.Filter{Team: team, Status: status, Limit: 200}
}
