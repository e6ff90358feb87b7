package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/jobs"
)

// jobWords names each kind of job in words.
var jobWords = map[string]string{
	"webhook.deliver":     "Webhook delivery",
	"mail.notify":         "Notification email",
	"survey.mail":         "Survey email",
	"survey.dispatch":     "Survey decisions",
	"outbox.sweep":        "Queue unsent messages",
	"cases.escalate":      "SLA escalation",
	"cases.alerts":        "Alert evaluation",
	"loyalty.engage":      "Engagement scores",
	"loyalty.review":      "Points expiry and tier review",
	"experience.round":    "Recommender, replenishment and nudges",
	"replenishment.place": "Replenishment order",
	"analytics.refresh":   "Customer values",
}

// stateWords says what each state means to the reader.
var stateWords = map[string]string{
	"available": "queued", "scheduled": "scheduled", "running": "running", "retryable": "retrying",
	"completed": "done", "cancelled": "cancelled", "discarded": "failed", "pending": "pending",
}

// jobRow is a job as the page shows it.
type jobRow struct {
	jobs.Job
	Name, StateWord, About string
	CanRetry, CanCancel    bool
}

// kindCounts is one kind's jobs by state.
type kindCounts struct {
	Kind, Name, Queue                                             string
	Queued, Scheduled, Running, Retrying, Failed, Done, Cancelled int
}

// jobsPage lists the jobs with counts by kind, filtered by state and kind,
// with retry and cancel.
func (c *Console) jobsPage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "jobs need the admin role"))
		return
	}
	q := r.URL.Query()
	state := q.Get("state")
	for word, st := range map[string]string{"failed": "discarded", "retrying": "retryable", "queued": "available", "done": "completed"} {
		if state == word {
			state = st
		}
	}
	list, next, err := c.Jobs.List(r.Context(), jobs.Filter{State: state, Kind: q.Get("kind"), Limit: 50, Cursor: q.Get("cursor")})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	counts, err := c.Jobs.Counts(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	byKind := map[string]*kindCounts{}
	for _, n := range counts {
		k := byKind[n.Kind]
		if k == nil {
			k = &kindCounts{Kind: n.Kind, Name: jobName(n.Kind), Queue: n.Queue}
			byKind[n.Kind] = k
		}
		switch n.State {
		case "available", "pending":
			k.Queued += n.N
		case "scheduled":
			k.Scheduled += n.N
		case "running":
			k.Running += n.N
		case "retryable":
			k.Retrying += n.N
		case "discarded":
			k.Failed += n.N
		case "completed":
			k.Done += n.N
		case "cancelled":
			k.Cancelled += n.N
		}
	}
	var kinds []kindCounts
	for _, k := range byKind {
		kinds = append(kinds, *k)
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].Name < kinds[j].Name })
	rows := make([]jobRow, 0, len(list))
	for _, j := range list {
		about := jobAbout(j.Args)
		if j.Kind == "webhook.deliver" && c.Outbox != nil {
			// Which endpoint, in words: the event and the URL.
			var a struct{ Delivery string }
			if json.Unmarshal(j.Args, &a) == nil {
				if event, url, err := c.Outbox.DeliveryTarget(r.Context(), a.Delivery); err == nil && url != "" {
					about = event + " to " + url
				}
			}
		}
		rows = append(rows, jobRow{Job: j, Name: jobName(j.Kind), StateWord: stateWords[j.State], About: about,
			CanRetry:  slices.Contains([]string{"discarded", "cancelled", "retryable", "scheduled"}, j.State),
			CanCancel: !slices.Contains([]string{"completed", "cancelled", "discarded"}, j.State)})
	}
	var more string
	if next != "" {
		nv := r.URL.Query()
		nv.Set("cursor", next)
		more = "/jobs?" + nv.Encode()
	}
	var names [][2]string
	for kind, name := range jobWords {
		names = append(names, [2]string{kind, name})
	}
	sort.Slice(names, func(i, j int) bool { return names[i][1] < names[j][1] })
	// How far each consumer is behind the log, and the bound past which
	// ingestion waits.
	var lags []consumerLag
	var bound int64
	if c.Pressure != nil {
		list, err := c.Pressure.Lags(r.Context())
		if err != nil {
			c.fail(w, r, err)
			return
		}
		bound = c.Pressure.Bound()
		for _, l := range list {
			waited := "—" // caught up
			if l.Events > 0 {
				sec := l.Seconds
				waited = duration(&sec)
			}
			lags = append(lags, consumerLag{Lag: l, Waited: waited, Over: bound > 0 && l.Events > bound})
		}
	}
	c.render(w, r, http.StatusOK, "jobs", view{Title: "Jobs", Session: &s, Nav: "jobs",
		Data: map[string]any{"Jobs": rows, "Kinds": kinds, "Names": names, "State": q.Get("state"), "Kind": q.Get("kind"),
			"More": more, "Working": c.Jobs.Working(), "Lags": lags, "Bound": bound}})
}

// consumerLag is a consumer's lag as the Jobs page shows it.
type consumerLag struct {
	eventlog.Lag
	Waited string // the oldest unapplied event's wait, in words ("—" caught up)
	Over   bool   // past the bound: ingestion waits
}

func jobName(kind string) string {
	if n, ok := jobWords[kind]; ok {
		return n
	}
	return kind
}

// jobAbout says what a job works on, from its arguments: ids as they are,
// a time ("at", Unix ms) as a time.
func jobAbout(args json.RawMessage) string {
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(args))
	d.UseNumber()
	if d.Decode(&m) != nil || len(m) == 0 {
		return ""
	}
	if n, ok := m["at"].(json.Number); ok {
		if ms, err := n.Int64(); err == nil {
			m["at"] = time.UnixMilli(ms).UTC().Format("2006-01-02 15:04:05")
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %v", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

// jobAction retries or cancels a job from the Jobs page.
func (c *Console) jobAction(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "jobs need the admin role"))
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		c.fail(w, r, fault.New(fault.NotFound, "no job %q", r.PathValue("id")))
		return
	}
	before, _ := c.Jobs.Get(r.Context(), id)
	var after *jobs.Job
	switch action := r.PathValue("action"); action {
	case "retry":
		after, err = c.Jobs.Retry(r.Context(), id)
	case "cancel":
		after, err = c.Jobs.Cancel(r.Context(), id)
	default:
		err = fault.New(fault.NotFound, "a job is retried or cancelled here")
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: r.PathValue("action"), Resource: "job", ResourceID: strconv.FormatInt(id, 10), Before: before, After: after})
	back := "/jobs"
	if ref, err := url.Parse(r.Referer()); err == nil && ref.Path == "/jobs" {
		back += "?" + ref.RawQuery
	}
	http.Redirect(w, r, back+"#job-"+strconv.FormatInt(id, 10), http.StatusSeeOther)
}
