package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/experience"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
)

// The nudge editor: one form for a new nudge and an existing one. What a
// field left blank means is the API's default (shown as the placeholder).

// nudgeKindNames are the kinds of nudge in a word or two, as lists show them.
var nudgeKindNames = map[string]string{"abandoned": "Came back to nothing", "running_out": "Running out", "goal": "Behind on a goal"}

// nudgeKinds are the kinds of nudge, in words.
var nudgeKinds = []struct{ Key, Label string }{
	{"abandoned", "Came back to nothing: viewed or added to the cart, no order"},
	{"running_out", "Running out: a product they buy again is nearly used up"},
	{"goal", "Behind on a goal: progress below a share of their target"},
}

// nudgeForm is what the editor shows (again, after an error).
type nudgeForm struct {
	ID       string
	ReadOnly bool
	Values   map[string]string
	Kinds    []struct{ Key, Label string }
	Segments []profile.Segment
	Segment  string // a segment query the form cannot show: kept as it is
	Hours    []int
	Problem  string
	Field    string
	Emails   bool // an SMTP server is configured: email nudges are sent
}

// nudgeFields are the form's fields, as the API names them.
var nudgeFields = []string{"name", "kind", "window_hours", "days_ahead", "goal_trait", "progress_trait", "behind_ratio",
	"channel", "subject", "message", "holdout_pct", "cap_count", "cap_days", "quiet_from", "quiet_to", "conversion_days", "saved_segment"}

// nudgeValues are a stored nudge's fields as the form shows them.
func nudgeValues(n *experience.Nudge) map[string]string {
	num := func(v float64) string {
		if v == 0 {
			return ""
		}
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	v := map[string]string{"name": n.Name, "kind": n.Kind, "window_hours": num(n.WindowHours), "days_ahead": num(n.DaysAhead),
		"goal_trait": n.GoalTrait, "progress_trait": n.ProgressTrait, "behind_ratio": num(n.BehindRatio), "channel": n.Channel,
		"subject": n.Subject, "message": n.Message, "cap_count": strconv.Itoa(n.CapCount), "cap_days": num(n.CapDays),
		"conversion_days": num(n.ConversionDays)}
	if n.HoldoutPct != nil {
		v["holdout_pct"] = strconv.FormatFloat(*n.HoldoutPct, 'f', -1, 64)
	}
	if n.QuietFrom != nil {
		v["quiet_from"] = strconv.Itoa(*n.QuietFrom)
	}
	if n.QuietTo != nil {
		v["quiet_to"] = strconv.Itoa(*n.QuietTo)
	}
	if n.Segment != nil && n.Segment.Saved != "" {
		v["saved_segment"] = n.Segment.Saved
	}
	return v
}

// otherSegment is a nudge's segment when it is more than a saved one.
func otherSegment(n *experience.Nudge) string {
	if n == nil || n.Segment == nil {
		return ""
	}
	if b, _ := json.Marshal(n.Segment); string(b) != `{"saved":`+strconv.Quote(n.Segment.Saved)+`}` {
		return string(b)
	}
	return ""
}

// findNudge is one live nudge by id.
func (c *Console) findNudge(r *http.Request, id string) (*experience.Nudge, error) {
	list, err := c.Exp.Nudges(r.Context())
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == id {
			return &list[i], nil
		}
	}
	return nil, fault.New(fault.NotFound, "no nudge %q", id)
}

func (c *Console) renderNudgeForm(w http.ResponseWriter, r *http.Request, s auth.Session, status int, f nudgeForm) {
	segs, err := c.Profiles.Segments(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	f.Segments, f.Kinds, f.ReadOnly, f.Emails = segs, nudgeKinds, !s.Principal.Can(auth.RoleOwner), c.Surveys.Emails()
	for h := range 24 {
		f.Hours = append(f.Hours, h)
	}
	title := "New nudge"
	if f.ID != "" {
		title = "Nudge · " + f.Values["name"]
	}
	c.render(w, r, status, "nudge_edit", view{Title: title, Session: &s, Nav: "experiences", Data: f})
}

// newNudge shows the editor for a new nudge.
func (c *Console) newNudge(w http.ResponseWriter, r *http.Request, s auth.Session) {
	c.renderNudgeForm(w, r, s, http.StatusOK, nudgeForm{Values: map[string]string{"kind": "abandoned", "channel": "email"}})
}

// editNudge shows the editor for a nudge.
func (c *Console) editNudge(w http.ResponseWriter, r *http.Request, s auth.Session) {
	n, err := c.findNudge(r, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.renderNudgeForm(w, r, s, http.StatusOK, nudgeForm{ID: n.ID, Values: nudgeValues(n), Segment: otherSegment(n)})
}

// nudgePatch turns the form into the API's JSON: a blank number is left
// out (the default, or for an edit what the nudge has).
func nudgePatch(values map[string]string, editing bool) (map[string]any, error) {
	p := map[string]any{}
	for _, k := range []string{"name", "kind", "goal_trait", "progress_trait", "channel", "subject", "message"} {
		p[k] = values[k]
	}
	for _, k := range []string{"window_hours", "days_ahead", "behind_ratio", "holdout_pct", "cap_days", "conversion_days"} {
		if v := values[k]; v != "" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				return nil, fault.Field(k, "%s is a number", strings.ReplaceAll(k, "_", " "))
			}
			p[k] = f
		}
	}
	for _, k := range []string{"cap_count", "quiet_from", "quiet_to"} {
		if v := values[k]; v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				return nil, fault.Field(k, "%s is a whole number", strings.ReplaceAll(k, "_", " "))
			}
			p[k] = n
		}
	}
	switch seg := values["saved_segment"]; {
	case seg != "":
		p["segment"] = map[string]any{"saved": seg}
	case editing && values["keep_segment"] == "":
		p["segment"] = nil
	}
	return p, nil
}

// saveNudge creates a nudge (POST /nudges) or changes one (POST
// /nudges/{id}/edit) from the editor.
func (c *Console) saveNudge(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleOwner) {
		c.fail(w, r, fault.New(fault.Forbidden, "nudges need the owner role"))
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	values := map[string]string{}
	for _, k := range append(nudgeFields, "keep_segment") {
		values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	values["message"] = r.PostFormValue("message")
	form := nudgeForm{ID: id, Values: values}
	var current *experience.Nudge
	if id != "" {
		var err error
		if current, err = c.findNudge(r, id); err != nil {
			c.fail(w, r, err)
			return
		}
		form.Segment = otherSegment(current)
	}
	again := func(err error) {
		c.formError(w, r, err, func(msg string) {
			form.Problem = msg
			var fe *fault.Error
			if errors.As(err, &fe) {
				form.Field = fe.Field
			}
			c.renderNudgeForm(w, r, s, http.StatusBadRequest, form)
		})
	}
	patch, err := nudgePatch(values, id != "")
	if err != nil {
		again(err)
		return
	}
	b, _ := json.Marshal(patch)
	if id == "" {
		var n experience.Nudge
		if err := json.Unmarshal(b, &n); err != nil {
			again(fault.New(fault.Invalid, "%v", err))
			return
		}
		made, err := c.Exp.CreateNudge(ctx, &n)
		if err != nil {
			again(err)
			return
		}
		audit.Note(ctx, audit.Change{Action: "create", Resource: "nudge", ResourceID: made.ID, After: made})
		http.Redirect(w, r, "/experiences#nudge-"+made.ID, http.StatusSeeOther)
		return
	}
	before, after, err := c.Exp.UpdateNudge(ctx, id, b)
	if err != nil {
		again(err)
		return
	}
	audit.Note(ctx, audit.Change{Action: "update", Resource: "nudge", ResourceID: id, Before: before, After: after})
	http.Redirect(w, r, "/experiences#nudge-"+id, http.StatusSeeOther)
}
