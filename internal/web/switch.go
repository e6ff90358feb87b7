package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/experience"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/ingest"
	"github.com/cxloop/cxloop/internal/outbox"
)

// formError shows a refusal the operator can act on (a 4xx) on the page
// the form came from; anything else fails the request.
func (c *Console) formError(w http.ResponseWriter, r *http.Request, err error, rerender func(msg string)) {
	var fe *fault.Error
	if !errors.As(err, &fe) || fault.Status(fe.Code) >= 500 {
		c.fail(w, r, err)
		return
	}
	msg := fe.Message
	if fe.Field != "" {
		msg = fe.Field + ": " + msg
	}
	rerender(msg)
}

// webhookAction pauses, resumes or removes a webhook from the settings page.
func (c *Console) webhookAction(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "webhooks need the admin role"))
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	var err error
	switch action := r.PathValue("action"); action {
	case "pause", "resume":
		active := action == "resume"
		var before, after *outbox.Webhook
		if before, after, err = c.Outbox.UpdateWebhook(ctx, id, outbox.WebhookChange{Active: &active}); err == nil {
			audit.Note(ctx, audit.Change{Action: action, Resource: "webhook", ResourceID: id, Before: before, After: after})
		}
	case "edit":
		u, events := strings.TrimSpace(r.PostFormValue("url")), splitList(r.PostFormValue("events"))
		var before, after *outbox.Webhook
		if before, after, err = c.Outbox.UpdateWebhook(ctx, id, outbox.WebhookChange{URL: &u, Events: &events}); err == nil {
			audit.Note(ctx, audit.Change{Action: "update", Resource: "webhook", ResourceID: id, Before: before, After: after})
			if unheard := c.unheard(ctx, events...); unheard != nil {
				c.renderSettings(w, r, s, http.StatusOK, "", &made{Unheard: unheard, UnheardOf: "Webhook"})
				return
			}
		} else if fault.FieldOf(err) != "" {
			c.renderSettings(w, r, s, http.StatusBadRequest, "webhook "+id+": "+formLabel(fault.FieldOf(err))+": "+fault.MessageOf(err), nil)
			return
		}
	case "delete":
		var before *outbox.Webhook
		if before, err = c.Outbox.DeleteWebhook(ctx, id); err == nil {
			audit.Note(ctx, audit.Change{Action: "delete", Resource: "webhook", ResourceID: id, Before: before})
		}
	default:
		err = fault.New(fault.NotFound, "a webhook is edited, paused, resumed or deleted")
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings#webhooks", http.StatusSeeOther)
}

// teamAction removes a team from the settings page; a team with open cases
// or a rule acting for it is refused, with the reason on the page.
func (c *Console) teamAction(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "teams need the admin role"))
		return
	}
	if r.PathValue("action") != "delete" {
		c.fail(w, r, fault.New(fault.NotFound, "a team is deleted here"))
		return
	}
	before, err := c.Cases.DeleteTeam(r.Context(), r.PathValue("id"))
	if err != nil {
		c.formError(w, r, err, func(msg string) { c.renderSettings(w, r, s, fault.Status(fault.Code(err)), msg, nil) })
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "delete", Resource: "team", ResourceID: before.ID, Before: before})
	http.Redirect(w, r, "/settings#teams", http.StatusSeeOther)
}

// sourceAction pauses, resumes, rotates or removes a source from the
// Sources page. A rotation shows the new key's snippet once; the old key
// works for a day.
func (c *Console) sourceAction(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "sources need the admin role"))
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	var err error
	switch action := r.PathValue("action"); action {
	case "pause", "resume":
		paused := action == "pause"
		var before, after ingest.Source
		if before, after, err = c.Sources.Update(ctx, id, ingest.SourceChange{Paused: &paused}); err == nil {
			audit.Note(ctx, audit.Change{Action: action, Resource: "source", ResourceID: id, Before: before, After: after})
		}
	case "delete":
		var before ingest.Source
		if before, err = c.Sources.Delete(ctx, id); err == nil {
			audit.Note(ctx, audit.Change{Action: "delete", Resource: "source", ResourceID: id, Before: before})
		}
	case "rotate":
		overlap := ingest.DefaultOverlap
		if v := strings.TrimSpace(r.PostFormValue("overlap")); v != "" {
			if overlap, err = time.ParseDuration(v); err != nil {
				err = fault.Field("overlap", "overlap is a duration such as \"24h\" or \"0s\"")
				break
			}
		}
		before, after, key, rerr := c.Sources.Rotate(ctx, id, overlap)
		if rerr != nil {
			err = rerr
			break
		}
		audit.Note(ctx, audit.Change{Action: "rotate", Resource: "source", ResourceID: id, Before: before, After: after})
		c.renderSources(w, r, s, http.StatusOK, "", &sourceSnippet{Source: after, Snippet: ingest.Snippet(c.publicURL(r), key), Rotated: true})
		return
	case "end-overlap":
		var before, after ingest.Source
		if before, after, err = c.Sources.EndOverlap(ctx, id); err == nil {
			audit.Note(ctx, audit.Change{Action: "end_overlap", Resource: "source", ResourceID: id, Before: before, After: after})
		}
	default:
		err = fault.New(fault.NotFound, "a source is paused, resumed, rotated, deleted or its old key refused (end-overlap)")
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/sources#sources", http.StatusSeeOther)
}

// userAction disables, enables or removes a console user from the settings
// page; their sessions end at once.
func (c *Console) userAction(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "users need the admin role"))
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	var err error
	switch action := r.PathValue("action"); action {
	case "disable", "enable":
		disabled := action == "disable"
		var before, after auth.UserInfo
		if before, after, err = c.Auth.UpdateUser(ctx, id, auth.UserChange{Disabled: &disabled}); err == nil {
			audit.Note(ctx, audit.Change{Action: action, Resource: "user", ResourceID: id, Before: before, After: after})
		}
	case "delete":
		var before auth.UserInfo
		if before, err = c.Auth.DeleteUser(ctx, id); err == nil {
			audit.Note(ctx, audit.Change{Action: "delete", Resource: "user", ResourceID: id, Before: before})
		}
	default:
		err = fault.New(fault.NotFound, "a user is disabled, enabled or deleted")
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/settings#users", http.StatusSeeOther)
}

// tokenAction revokes an API token from the settings page.
func (c *Console) tokenAction(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "tokens need the admin role"))
		return
	}
	if r.PathValue("action") != "revoke" {
		c.fail(w, r, fault.New(fault.NotFound, "a token is revoked here"))
		return
	}
	id := r.PathValue("id")
	if err := c.Auth.RevokeToken(r.Context(), id); err != nil {
		c.fail(w, r, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "revoke", Resource: "token", ResourceID: id})
	http.Redirect(w, r, "/settings#tokens", http.StatusSeeOther)
}

// alertAction pauses or resumes an alert from the Alerts page.
func (c *Console) alertAction(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "alerts need the admin role"))
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	switch action := r.PathValue("action"); action {
	case "pause", "resume":
		before, after, err := c.Cases.SetAlertEnabled(ctx, id, action == "resume")
		if err != nil {
			c.fail(w, r, err)
			return
		}
		audit.Note(ctx, audit.Change{Action: action, Resource: "alert", ResourceID: after.ID, Before: before, After: after})
		http.Redirect(w, r, "/alerts#alert-"+after.ID, http.StatusSeeOther)
	case "delete":
		before, err := c.Cases.GetAlert(ctx, id)
		if err == nil {
			err = c.Cases.DeleteAlert(ctx, id)
		}
		if err != nil {
			c.fail(w, r, err)
			return
		}
		audit.Note(ctx, audit.Change{Action: "delete", Resource: "alert", ResourceID: id, Before: before})
		http.Redirect(w, r, "/alerts", http.StatusSeeOther)
	default:
		c.fail(w, r, fault.New(fault.NotFound, "an alert is paused, resumed or removed here"))
	}
}

// nudgeAction pauses, resumes or removes a nudge from the Experiences page.
func (c *Console) nudgeAction(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleOwner) {
		c.fail(w, r, fault.New(fault.Forbidden, "nudges need the owner role"))
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	var err error
	switch action := r.PathValue("action"); action {
	case "pause", "resume":
		patch := `{"active": false}`
		if action == "resume" {
			patch = `{"active": true}`
		}
		var before, after *experience.Nudge
		if before, after, err = c.Exp.UpdateNudge(ctx, id, []byte(patch)); err == nil {
			audit.Note(ctx, audit.Change{Action: action, Resource: "nudge", ResourceID: id, Before: before, After: after})
		}
	case "delete":
		var before *experience.Nudge
		if before, err = c.Exp.DeleteNudge(ctx, id); err == nil {
			audit.Note(ctx, audit.Change{Action: "delete", Resource: "nudge", ResourceID: id, Before: before})
		}
	default:
		err = fault.New(fault.NotFound, "a nudge is paused, resumed or deleted")
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/experiences#nudges", http.StatusSeeOther)
}

// replenishAction pauses or resumes automatic replenishment.
func (c *Console) replenishAction(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "replenishment settings need the admin role"))
		return
	}
	action := r.PathValue("action")
	if action != "pause" && action != "resume" {
		c.fail(w, r, fault.New(fault.NotFound, "replenishment is paused or resumed here"))
		return
	}
	ctx := r.Context()
	before, err := c.Exp.ReplenishSettings(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	after := before
	after.Paused = action == "pause"
	if err := c.Exp.SetReplenishSettings(ctx, after); err != nil {
		c.fail(w, r, err)
		return
	}
	audit.Note(ctx, audit.Change{Action: action, Resource: "replenishment_settings", Before: before, After: after})
	http.Redirect(w, r, "/experiences#replenish-switch", http.StatusSeeOther)
}

// splitList reads a comma-separated list, without blanks.
func splitList(v string) []string {
	var out []string
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}
