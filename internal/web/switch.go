package web

import (
	"errors"
	"net/http"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
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
	case "delete":
		var before *outbox.Webhook
		if before, err = c.Outbox.DeleteWebhook(ctx, id); err == nil {
			audit.Note(ctx, audit.Change{Action: "delete", Resource: "webhook", ResourceID: id, Before: before})
		}
	default:
		err = fault.New(fault.NotFound, "a webhook is paused, resumed or deleted")
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
		before, after, key, rerr := c.Sources.Rotate(ctx, id, ingest.DefaultOverlap)
		if rerr != nil {
			err = rerr
			break
		}
		audit.Note(ctx, audit.Change{Action: "rotate", Resource: "source", ResourceID: id, Before: before, After: after})
		c.renderSources(w, r, s, http.StatusOK, "", &sourceSnippet{Source: after, Snippet: ingest.Snippet(c.publicURL(r), key), Rotated: true})
		return
	default:
		err = fault.New(fault.NotFound, "a source is paused, resumed, rotated or deleted")
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/sources#sources", http.StatusSeeOther)
}
