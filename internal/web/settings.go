package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/cases"
	"github.com/cxloop/cxloop/internal/display"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/outbox"
	"github.com/cxloop/cxloop/internal/survey"
)

// settings lists teams, rules and webhooks; admins also get the forms
// that add them.
func (c *Console) settings(w http.ResponseWriter, r *http.Request, s auth.Session) {
	c.renderSettings(w, r, s, http.StatusOK, "", nil)
}

// made is what an action created and shows once: a webhook's signing
// secret or an API token.
type made struct {
	Webhook   *outbox.Webhook
	Token     *madeToken
	Unheard   []string // a saved webhook's or rule's event names cxloop neither knows nor has heard lately
	UnheardOf string   // "Webhook" or "Rule"
}

type madeToken struct{ ID, Name, Secret string }

func (c *Console) renderSettings(w http.ResponseWriter, r *http.Request, s auth.Session, status int, msg string, created *made) {
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
	policy, err := c.Surveys.Policy(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	shown, err := display.Get(ctx, c.DB)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// A refused new rule comes back with what was typed in it.
	typed := map[string]string{}
	if r.Method == http.MethodPost && status >= 400 && r.PathValue("what") == "rules" && r.PathValue("id") == "" {
		for k, v := range r.PostForm {
			if k != "csrf" && k != "password" && len(v) > 0 {
				typed[k] = v[0]
			}
		}
	}
	data := map[string]any{"Teams": teams, "Rules": rules, "TypedRule": typed, "KnownEvents": eventlog.Known, "Admin": s.Principal.Can(auth.RoleAdmin), "Created": created, "Display": shown,
		"Policy": policyView(policy), "HookURL": map[string]string{}, "Roles": []string{auth.RoleAnalyst, auth.RoleAgent, auth.RoleOwner, auth.RoleAdmin}}
	if s.Principal.Can(auth.RoleAdmin) {
		hooks, err := c.Outbox.Webhooks(ctx)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		data["Webhooks"] = hooks
		urls := map[string]string{}
		for _, h := range hooks {
			urls[h.ID] = h.URL
		}
		data["HookURL"] = urls
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
	var created *made
	switch r.PathValue("what") {
	case "teams":
		var t *cases.Team
		if t, err = c.Cases.CreateTeam(ctx, f("name"), f("email")); err == nil {
			audit.Note(ctx, audit.Change{ResourceID: t.ID})
		}
	case "rules":
		var rule *cases.Rule
		if rule, err = ruleForm(r, &cases.Rule{}); err != nil {
			break
		}
		var saved *cases.Rule
		if saved, err = c.Cases.CreateRule(ctx, rule); err == nil {
			audit.Note(ctx, audit.Change{ResourceID: saved.ID})
			if unheard := c.unheard(ctx, saved.When.Event); unheard != nil {
				created = &made{Unheard: unheard, UnheardOf: "Rule"}
			}
		}
	case "webhooks":
		events := splitList(f("events"))
		var hook *outbox.Webhook
		if hook, err = c.Outbox.CreateWebhook(ctx, &outbox.Webhook{URL: f("url"), Events: events}); err == nil {
			audit.Note(ctx, audit.Change{ResourceID: hook.ID})
			created = &made{Webhook: hook, Unheard: c.unheard(ctx, events...), UnheardOf: "Webhook"}
		}
	case "users":
		email := strings.ToLower(f("email"))
		if err = c.Auth.CreateUser(ctx, email, r.PostFormValue("password"), f("role"), r.PostForm["teams"]...); err == nil {
			audit.Note(ctx, audit.Change{Action: "create", Resource: "user", ResourceID: email,
				After: map[string]any{"email": email, "role": auth.NormalizeRole(f("role")), "teams": r.PostForm["teams"]}})
		}
	case "tokens":
		var id, secret string
		if f("name") == "" {
			err = fault.Field("name", "a token needs a name that says who or what uses it")
			break
		}
		if id, secret, err = c.Auth.CreateScopedToken(ctx, f("name"), f("role"), r.PostForm["teams"], ""); err == nil {
			audit.Note(ctx, audit.Change{Action: "create", Resource: "token", ResourceID: id,
				After: map[string]any{"name": f("name"), "role": auth.NormalizeRole(f("role")), "teams": r.PostForm["teams"]}})
			created = &made{Token: &madeToken{ID: id, Name: f("name"), Secret: secret}}
		}
	case "currency":
		before, _ := display.Get(ctx, c.DB)
		var after display.Settings
		if after, err = display.Set(ctx, c.DB, display.Settings{Currency: f("currency")}); err == nil {
			audit.Note(ctx, audit.Change{Action: "update", Resource: "display_settings", Before: before, After: after})
		}
	case "policy":
		var p survey.ContactPolicy
		if p, err = policyForm(f); err != nil {
			break
		}
		before, _ := c.Surveys.Policy(ctx)
		if err = c.Surveys.SetPolicy(ctx, p); err == nil {
			audit.Note(ctx, audit.Change{Action: "update", Resource: "survey-policy", Before: before, After: p})
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
				msg = formLabel(fe.Field) + ": " + msg
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
	http.Redirect(w, r, "/settings#"+r.PathValue("what"), http.StatusSeeOther)
}

// limitView is one contact-policy limit as the form shows it.
type limitView struct {
	Key, Label string
	Max, Days  int // 0: no limit
}

// policyView lists the contact policy's limits, the global one first.
func policyView(p survey.ContactPolicy) []limitView {
	out := []limitView{{Key: "global", Label: "All surveys together"}}
	for _, r := range []struct{ key, label string }{
		{survey.Persistent, "After each touchpoint (persistent)"},
		{survey.Periodic, "Relationship (periodic)"},
		{survey.Pulse, "Pulse (ad hoc)"},
	} {
		out = append(out, limitView{Key: r.key, Label: r.label})
	}
	set := func(v *limitView, l *survey.Limit) {
		if l != nil {
			v.Max, v.Days = l.Max, l.Days
		}
	}
	set(&out[0], p.Global)
	for i := 1; i < len(out); i++ {
		set(&out[i], p.Rhythms[out[i].Key])
	}
	return out
}

// policyForm reads the contact policy form: a limit left blank is none.
func policyForm(f func(string) string) (survey.ContactPolicy, error) {
	p := survey.ContactPolicy{Rhythms: map[string]*survey.Limit{}}
	for _, key := range []string{"global", survey.Persistent, survey.Periodic, survey.Pulse} {
		maxS, daysS := f(key+"_max"), f(key+"_days")
		if maxS == "" && daysS == "" {
			continue
		}
		field := "rhythms." + key
		if key == "global" {
			field = "global"
		}
		max, err1 := strconv.Atoi(maxS)
		days, err2 := strconv.Atoi(daysS)
		if err1 != nil || err2 != nil {
			return p, fault.Field(field, "a limit is a whole number of invitations in a whole number of days; leave both blank for none")
		}
		l := &survey.Limit{Max: max, Days: days}
		if key == "global" {
			p.Global = l
		} else {
			p.Rhythms[key] = l
		}
	}
	return p, nil
}

// ruleForm reads the rule builder's fields over base: what the form does
// not show (filters on properties, CSAT or CES limits) or does not send
// (a priority) stays as base has it.
func ruleForm(req *http.Request, base *cases.Rule) (*cases.Rule, error) {
	f := func(k string) string { return strings.TrimSpace(req.PostFormValue(k)) }
	r := *base
	r.Name = f("name")
	r.When.Event, r.When.Sentiment, r.When.Reason, r.When.NPSMax = f("event"), f("sentiment"), f("reason"), nil
	if v := f("nps_max"); v != "" {
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fault.Field("nps_max", "NPS at most is a number from 0 to 10")
		}
		r.When.NPSMax = &n
	}
	var prev cases.OpenCase
	if base.Then.OpenCase != nil {
		prev = *base.Then.OpenCase
	}
	r.Then.OpenCase = nil
	if t := f("team"); t != "" {
		priority := prev.Priority
		if _, sent := req.PostForm["priority"]; sent { // read: f parsed the form
			priority = f("priority") // "": the default (normal, one higher for a VIP)
		}
		r.Then.OpenCase = &cases.OpenCase{Team: t, Kind: f("kind"), SLA: f("sla"), Priority: priority}
	}
	r.Then.Notify = nil
	if t := f("notify"); t != "" {
		r.Then.Notify = &cases.Notify{Team: t}
	}
	r.Then.Webhook = f("webhook")
	return &r, nil
}

// unheard are the event names among events that a saved rule or webhook
// watches and that nobody sends (eventlog.Unheard), nil when none. It is
// advice only: the change is saved whatever, and a failed read gives none.
func (c *Console) unheard(ctx context.Context, events ...string) []string {
	names, err := eventlog.Unheard(ctx, c.DB, events)
	if err != nil || len(names) == 0 {
		return nil
	}
	return names
}

// formLabels are the settings forms' labels for the fields the API names
// in its refusals.
var formLabels = map[string]string{"name": "Name", "email": "Email", "when.event": "When event", "nps_max": "NPS at most", "when.nps_max": "NPS at most",
	"when.sentiment": "Sentiment", "then": "Then", "then.open_case.team": "Open a case for team", "then.open_case.kind": "Kind",
	"then.open_case.sla": "SLA", "then.open_case.priority": "Priority", "then.notify.team": "Notify team", "then.webhook": "Webhook",
	"url": "URL", "events": "Events", "role": "Role", "teams": "Teams", "password": "Password", "currency": "ISO 4217 code"}

// formLabel is the label of the form field the API calls field.
func formLabel(field string) string {
	if l, ok := formLabels[field]; ok {
		return l
	}
	return label(field)
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
	case "edit":
		var before, edited *cases.Rule
		if before, err = c.Cases.Rule(ctx, id); err != nil {
			break
		}
		if edited, err = ruleForm(r, before); err != nil {
			break
		}
		var after *cases.Rule
		if _, after, err = c.Cases.EditRule(ctx, id, cases.RuleChange{Name: &edited.Name, When: &edited.When, Then: &edited.Then}); err == nil {
			audit.Note(ctx, audit.Change{Action: "update", Resource: "rule", ResourceID: id, Before: before, After: after})
			if unheard := c.unheard(ctx, after.When.Event); unheard != nil {
				c.renderSettings(w, r, s, http.StatusOK, "", &made{Unheard: unheard, UnheardOf: "Rule"})
				return
			}
		}
		if fault.Code(err) == fault.Invalid {
			msg := fault.MessageOf(err)
			if fe := fault.FieldOf(err); fe != "" {
				msg = formLabel(fe) + ": " + msg
			}
			c.renderSettings(w, r, s, http.StatusBadRequest, msg, nil)
			return
		}
	default:
		err = fault.New(fault.NotFound, "a rule is paused, resumed, edited or deleted")
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings#rules", http.StatusSeeOther)
}
