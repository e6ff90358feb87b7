package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/cases"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/outbox"
)

// settings lists teams, rules and webhooks; admins also get the forms
// that add them.
func (c *Console) settings(w http.ResponseWriter, r *http.Request, s auth.Session) {
	c.renderSettings(w, r, s, http.StatusOK, "", nil)
}

func (c *Console) renderSettings(w http.ResponseWriter, r *http.Request, s auth.Session, status int, msg string, created *outbox.Webhook) {
	ctx := r.Context()
	teams, err := c.Cases.Teams(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rules, err := c.Cases.Rules(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	data := map[string]any{"Teams": teams, "Rules": rules, "Admin": s.Principal.Can(auth.RoleAdmin), "Created": created}
	if s.Principal.Can(auth.RoleAdmin) {
		hooks, err := c.Outbox.Webhooks(ctx)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		data["Webhooks"] = hooks
		if data["Users"], err = c.Auth.Users(ctx); err != nil {
			c.fail(w, r, err)
			return
		}
		if data["Tokens"], err = c.Auth.Tokens(ctx); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	c.render(w, r, status, "settings", view{Title: "Settings", Session: &s, Nav: "settings", Error: msg, Data: data})
}

// settingsAction adds a team, a rule or a webhook from the settings forms.
func (c *Console) settingsAction(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "settings need the admin role"))
		return
	}
	ctx := r.Context()
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	var err error
	var created *outbox.Webhook
	switch r.PathValue("what") {
	case "teams":
		var t *cases.Team
		if t, err = c.Cases.CreateTeam(ctx, f("name"), f("email")); err == nil {
			audit.Note(ctx, audit.Change{ResourceID: t.ID})
		}
	case "rules":
		rule := &cases.Rule{Name: f("name"), When: cases.When{Event: f("event"), Sentiment: f("sentiment"), Reason: f("reason")}}
		if v := f("nps_max"); v != "" {
			n, perr := strconv.ParseFloat(v, 64)
			if perr != nil {
				err = fault.Field("nps_max", "NPS at most is a number from 0 to 10")
				break
			}
			rule.When.NPSMax = &n
		}
		if t := f("team"); t != "" {
			rule.Then.OpenCase = &cases.OpenCase{Team: t, Kind: f("kind"), SLA: f("sla")}
		}
		if t := f("notify"); t != "" {
			rule.Then.Notify = &cases.Notify{Team: t}
		}
		rule.Then.Webhook = f("webhook")
		var made *cases.Rule
		if made, err = c.Cases.CreateRule(ctx, rule); err == nil {
			audit.Note(ctx, audit.Change{ResourceID: made.ID})
		}
	case "webhooks":
		var events []string
		for _, e := range strings.Split(f("events"), ",") {
			if e = strings.TrimSpace(e); e != "" {
				events = append(events, e)
			}
		}
		if created, err = c.Outbox.CreateWebhook(ctx, &outbox.Webhook{URL: f("url"), Events: events}); err == nil {
			audit.Note(ctx, audit.Change{ResourceID: created.ID})
		}
	default:
		err = fault.New(fault.NotFound, "nothing to add at %q", r.PathValue("what"))
	}
	if err != nil {
		var msg string
		var fe *fault.Error
		if errors.As(err, &fe) {
			msg = fe.Message
			if fe.Field != "" {
				msg = fe.Field + ": " + msg
			}
		} else {
			c.fail(w, r, err)
			return
		}
		c.renderSettings(w, r, s, http.StatusBadRequest, msg, nil)
		return
	}
	if created != nil {
		// The secret is shown this once.
		c.renderSettings(w, r, s, http.StatusOK, "", created)
		return
	}
	http.Redirect(w, r, "/settings", http.StatusSeeOther)
}

// ruleAction pauses, resumes or removes a case rule from the settings page.
func (c *Console) ruleAction(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "rules need the admin role"))
		return
	}
	var err error
	ctx := r.Context()
	switch id, action := r.PathValue("id"), r.PathValue("action"); action {
	case "pause", "resume":
		var after *cases.Rule
		if after, err = c.Cases.SetRuleEnabled(ctx, id, action == "resume"); err == nil {
			audit.Note(ctx, audit.Change{Action: action, Resource: "rule", ResourceID: id, After: after})
		}
	case "delete":
		if err = c.Cases.DeleteRule(ctx, id); err == nil {
			audit.Note(ctx, audit.Change{Action: "delete", Resource: "rule", ResourceID: id})
		}
	default:
		err = fault.New(fault.NotFound, "a rule is paused, resumed or deleted")
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings#rules", http.StatusSeeOther)
}
