package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/cxloop/cxloop/internal/analytics"
	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/cases"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
)

// caseQueue lists cases with their SLA state: counts by status, filters
// (team, status, assignee, priority, kind, channel), sort, bulk assign.
func (c *Console) caseQueue(w http.ResponseWriter, r *http.Request, s auth.Session) {
	ctx := r.Context()
	q := r.URL.Query()
	status := q.Get("status")
	if status == "" {
		status = "open"
	}
	f := cases.Filter{Team: q.Get("team"), Kind: q.Get("kind"), Priority: q.Get("priority"), Channel: q.Get("channel"), Limit: queueLimit}
	switch a := q.Get("assignee"); a {
	case "":
	case unassigned:
		f.Unassigned = true
	default:
		f.Assignee = a
	}
	if status != "all" {
		f.Status = status
	}
	f = cases.Scope(f, s.Principal)
	list, err := c.Cases.List(ctx, f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	sortQueue(list, q.Get("sort"))
	counts, err := c.Cases.Counts(ctx, f)
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
	now := c.Profiles.Now().UnixMilli()
	rows := make([]queueRow, len(list))
	for i, cs := range list {
		rows[i] = queueRow{Case: cs, SLA: slaOf(cs, now)}
	}
	// Whoever may be given the cases of a team the queue shows, and
	// whoever has cases now (for the filter).
	seen := map[string]bool{}
	var people []string
	addPeople := func(names ...string) {
		for _, n := range names {
			if n != "" && !seen[n] {
				seen[n] = true
				people = append(people, n)
			}
		}
	}
	workers, err := c.Auth.Workers(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, t := range teams {
		if s.Principal.InTeam(t.ID, t.Name) {
			addPeople(auth.CanWork(workers, t.ID, t.Name)...)
		}
	}
	for _, cs := range list {
		addPeople(cs.Assignee)
	}
	sort.Strings(people)
	tabs := make([]queueTab, 0, 5)
	all := 0
	for _, st := range []string{cases.Open, cases.Pending, cases.Resolved, cases.Closed} {
		tabs = append(tabs, queueTab{Status: st, N: counts[st], On: st == status})
		all += counts[st]
	}
	tabs = append(tabs, queueTab{Status: "all", N: all, On: status == "all"})
	export := url.Values{"status": {status}}
	for _, k := range []string{"team", "priority", "kind", "channel"} {
		if v := q.Get(k); v != "" {
			export.Set(k, v)
		}
	}
	if f.Unassigned {
		export.Set("unassigned", "true")
	} else if f.Assignee != "" {
		export.Set("assignee", f.Assignee)
	}
	c.render(w, r, http.StatusOK, "cases", view{Title: "Cases", Session: &s, Nav: "cases", Data: map[string]any{
		"Export": template.URL(export.Encode()), // encoded here: the template must not encode it again
		"Rows":   rows, "Teams": teams, "Q": q, "Status": status, "Tabs": tabs, "Names": names, "People": people,
		"Kinds":      []string{cases.KindComplaint, cases.KindDetractor, cases.KindReturn, cases.KindQuestion, "alert"},
		"Priorities": []string{"urgent", "high", "normal", "low"}, "Channels": queueChannels, "Unassigned": unassigned,
		"Limited": len(list) == queueLimit, "Limit": queueLimit, "Query": r.URL.RawQuery,
	}})
}

// queueLimit is how many cases the queue shows at once.
const queueLimit = 500

// unassigned is the assignee filter's value for cases assigned to nobody.
const unassigned = "(nobody)"

var queueChannels = []string{"web", "mobile_app", "store", "call_centre", "email", "social", "review_site", "partner", "press", "server"}

// queueTab is one status tab of the queue with its count.
type queueTab struct {
	Status string
	N      int
	On     bool
}

// queueRow is a case in the queue with its SLA said in words.
type queueRow struct {
	*cases.Case
	SLA sla
}

// sla is a case's due time said as a person reads it: State is ok,
// due-soon (under 4 hours left), breached (overdue) or done (resolved or
// closed); Text the countdown ("due in 3 h 10 min", "overdue by 2 d 4 h").
type sla struct{ State, Text string }

// slaOf says where a case stands against its due time at now (Unix ms,
// the app's clock).
func slaOf(cs *cases.Case, now int64) sla {
	due := int64(cs.DueAt)
	switch {
	case cs.Status != cases.Open && cs.Status != cases.Pending && cs.Breached:
		return sla{"done", "resolved " + span(int64(*cs.ResolvedAt)-due) + " late"}
	case cs.Status != cases.Open && cs.Status != cases.Pending:
		return sla{"done", "within its SLA"}
	case cs.Breached:
		return sla{"breached", "overdue by " + span(now-due)}
	case due-now < 4*3600*1000:
		return sla{"due-soon", "due in " + span(due-now)}
	}
	return sla{"ok", "due in " + span(due-now)}
}

// span says a duration in milliseconds in its two largest units.
func span(ms int64) string {
	m := ms / 60000
	d, h, mi := m/1440, m/60%24, m%60
	switch {
	case d > 0 && h > 0:
		return fmt.Sprintf("%d d %d h", d, h)
	case d > 0:
		return fmt.Sprintf("%d d", d)
	case h > 0 && mi > 0:
		return fmt.Sprintf("%d h %d min", h, mi)
	case h > 0:
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d min", max(mi, 1))
}

// sortQueue orders the queue: by due time (the list's own order), the
// newest first, or the most urgent priority first (then by due time).
func sortQueue(list []*cases.Case, by string) {
	rank := map[string]int{"urgent": 0, "high": 1, "normal": 2, "low": 3}
	switch by {
	case "newest":
		sort.SliceStable(list, func(i, j int) bool { return list[i].CreatedAt > list[j].CreatedAt })
	case "priority":
		sort.SliceStable(list, func(i, j int) bool { return rank[list[i].Priority] < rank[list[j].Priority] })
	}
}

// assignCases assigns the cases ticked in the queue to one person.
func (c *Console) assignCases(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAgent) {
		c.fail(w, r, fault.New(fault.Forbidden, "assigning cases needs the agent role"))
		return
	}
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, fault.Field("case", "the form could not be read"))
		return
	}
	ids := r.PostForm["case"]
	if len(ids) == 0 {
		c.fail(w, r, fault.Field("case", "tick the cases to assign"))
		return
	}
	assignee := strings.TrimSpace(r.PostFormValue("assignee"))
	// Every ticked case must be the caller's to work and the assignee's to
	// take before any is assigned.
	workers, err := c.Auth.Workers(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for _, id := range ids {
		cs, err := c.Cases.Allowed(ctx, s.Principal, id)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if assignee != "" && !slices.Contains(auth.CanWork(workers, cs.Team, cs.TeamName), assignee) {
			c.failField(w, r, fault.Field("assignee", "%s does not work cases of %s (case %s); nothing was assigned", assignee, cs.TeamName, cs.ID))
			return
		}
	}
	for _, id := range ids {
		if _, err := c.Cases.Assign(ctx, id, assignee, s.Principal.Name); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	shown := assignee
	if shown == "" {
		shown = "no one"
	}
	audit.Note(ctx, audit.Change{Action: "assign", Resource: "case", ResourceID: strings.Join(ids, ", "),
		After: map[string]any{"assignee": shown, "cases": ids}})
	back := "/cases"
	if q := r.PostFormValue("back"); q != "" {
		back += "?" + q
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// casePage shows a case with its customer's context, notes and actions.
func (c *Console) casePage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	ctx := r.Context()
	cs, err := c.Cases.Allowed(ctx, s.Principal, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	questions := c.questionTexts(ctx) // the opening answer and the recent ones read each survey once
	can, err := c.Auth.Assignable(ctx, cs.Team, cs.TeamName)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	data := map[string]any{"Case": cs, "SLA": slaOf(cs, c.Profiles.Now().UnixMilli()), "Assignable": can}
	// What opened the case: the answer, complaint, post or order.
	if cs.Origin != "" {
		seq, _, ok, err := eventlog.Locate(ctx, c.DB, cs.Origin)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if ok {
			events, err := eventlog.Read(ctx, c.DB, eventlog.Query{After: seq - 1, Through: seq, Limit: 1})
			if err != nil {
				c.fail(w, r, err)
				return
			}
			if len(events) == 1 {
				data["Origin"] = questions(describe(events[0]))
			}
		}
	}
	if cs.Customer != "" {
		if v, err := c.An.ValueOf(ctx, cs.Customer); err == nil {
			data["Value"] = v
		}
	}
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
				recent[i] = questions(describe(e))
			}
			data["Customer"], data["Name"], data["Recent"] = cus, cus.Name(), recent
		}
	}
	c.render(w, r, http.StatusOK, "case", view{Title: cs.Subject, Session: &s, Nav: "cases", Data: data})
}

// caseAction runs a case command from the case page: resolve, note,
// assign, reopen.
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
	case "reopen":
		_, err = c.Cases.SetStatus(ctx, id, cases.Open, note, who)
	default:
		err = fault.New(fault.NotFound, "no case action %q", r.PathValue("action"))
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/cases/"+id, http.StatusSeeOther)
}

// recoveryPage shows, for the period in the URL, complaint recovery, SLA
// compliance per team and return rates, and the silent dissatisfied now.
func (c *Console) recoveryPage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	per := readPeriod(r.URL.Query(), c.Profiles.Now(), "90d", false)
	c.keptPage(w, r, s, "recovery", "Recovery and returns", "recovery", func(ctx context.Context) (map[string]any, error) {
		return c.recovery(ctx, s, per)
	})
}

// recovery computes the Recovery page's reports for the period.
func (c *Console) recovery(ctx context.Context, s auth.Session, per period) (map[string]any, error) {
	var (
		rep, before *cases.Recovery
		sla         []slaRow
		silent      []analytics.Silent
		silentAll   int
		returns     = map[string][]cases.RateGroup{}
		mu          sync.Mutex
	)
	fns := []func() error{
		func() (err error) { rep, err = c.Cases.Recovery(ctx, s.Principal, per.From, per.To); return err },
		func() (err error) { sla, err = c.slaRows(ctx, s, per); return err },
		func() (err error) { silent, err = c.An.SilentDissatisfied(ctx, 50); return err },
		func() (err error) { silentAll, err = c.An.SilentCount(ctx); return err },
	}
	if per.Compared() {
		fns = append(fns, func() (err error) { before, err = c.Cases.Handling(ctx, s.Principal, per.CFrom, per.CTo); return err })
	}
	for _, by := range []string{"channel", "category", "reason"} {
		fns = append(fns, func() error {
			groups, err := c.Cases.ReturnRates(ctx, by, per.From, per.To)
			mu.Lock()
			returns[by] = groups
			mu.Unlock()
			return err
		})
	}
	// The reports are independent reads: side by side.
	if err := parallel(fns...); err != nil {
		return nil, err
	}
	data := map[string]any{"Recovery": rep, "Period": per, "Share": shareOf(rep.HandledWell, rep.Rated), "Small": rep.Rated < smallSample, "SLA": sla, "Silent": silent, "SilentTotal": silentAll}
	if before != nil {
		data["Before"], data["ShareBefore"] = before, shareOf(before.HandledWell, before.Rated)
	}
	shown := rep.Complainers[:min(len(rep.Complainers), 100)]
	refs := make([]string, 0, len(shown))
	for _, cm := range shown {
		refs = append(refs, cm.Customer)
	}
	var err error
	if data["Names"], err = c.Profiles.Names(ctx, refs); err != nil {
		return nil, err
	}
	data["Complainers"], data["More"] = shown, len(rep.Complainers)-len(shown)
	span := per.Span()
	data["RecoveryCSV"] = "/export/recovery?" + span.Encode()
	for _, by := range []string{"channel", "category", "reason"} {
		q := url.Values{"by": {by}}
		for k, v := range span {
			q[k] = v
		}
		data["ReturnsCSV_"+by] = "/export/returns/rates?" + q.Encode()
		data["Returns_"+by] = returns[by]
	}
	return data, nil
}

// shareOf is part ÷ whole as a whole percentage, from the counts
// themselves; "—" when whole is 0.
func shareOf(part, whole int) string {
	if whole == 0 {
		return "—"
	}
	return fmt.Sprintf("%d%%", int(float64(part)*100/float64(whole)+0.5))
}

// slaRow is a team's SLA compliance in the period and, when compared, in
// the period before.
type slaRow struct {
	cases.TeamSLA
	Share, ShareBefore string
	FirstShare         string // first-response compliance
	Before             *cases.TeamSLA
}

func (c *Console) slaRows(ctx context.Context, s auth.Session, per period) ([]slaRow, error) {
	now, err := c.Cases.SLA(ctx, s.Principal, per.From, per.To)
	if err != nil {
		return nil, err
	}
	before := map[string]cases.TeamSLA{}
	if per.Compared() {
		prev, err := c.Cases.SLA(ctx, s.Principal, per.CFrom, per.CTo)
		if err != nil {
			return nil, err
		}
		for _, t := range prev {
			before[t.Team] = t
		}
	}
	out := make([]slaRow, 0, len(now))
	for _, t := range now {
		row := slaRow{TeamSLA: t, Share: shareOf(t.Met, t.Met+t.Breached), FirstShare: shareOf(t.FirstMet, t.FirstMet+t.FirstBreached)}
		if b, ok := before[t.Team]; ok {
			row.Before, row.ShareBefore = &b, shareOf(b.Met, b.Met+b.Breached)
		}
		out = append(out, row)
	}
	return out, nil
}

func casesFilter(team, status string) cases.Filter {
	return cases.Filter{Team: team, Status: status, Limit: 200}
}
