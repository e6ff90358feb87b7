package web

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/cxloop/cxloop/internal/analytics"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/eventlog"
)

const pageSize = 50

func offsetOf(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("offset"))
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func (c *Console) customers(w http.ResponseWriter, r *http.Request, s auth.Session) {
	q := r.URL.Query().Get("q")
	offset := offsetOf(r)
	if r.URL.Query().Has("risk") {
		c.customersAtRisk(w, r, s, offset)
		return
	}
	found, err := c.Profiles.Search(r.Context(), q, pageSize+1, offset)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	more := len(found) > pageSize
	if more {
		found = found[:pageSize]
	}
	c.render(w, r, http.StatusOK, "customers", view{Title: "Customers", Session: &s, Nav: "customers", Data: map[string]any{
		"Q": q, "Customers": found, "Offset": offset, "More": more, "PageSize": pageSize,
	}})
}

// customersAtRisk lists the customers whose risk is ?risk= or more (0.5
// when not a number from 0 to 1), highest first: the customers Home
// counts beside the value at risk.
func (c *Console) customersAtRisk(w http.ResponseWriter, r *http.Request, s auth.Session, offset int) {
	ctx := r.Context()
	floor, err := strconv.ParseFloat(r.URL.Query().Get("risk"), 64)
	if err != nil || floor < 0 || floor > 1 || math.IsNaN(floor) {
		floor = analytics.AtRiskThreshold
	}
	n := min(offset+pageSize+1, analytics.MaxAtRisk)
	list, err := c.An.AtRisk(ctx, false, n)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	for i, v := range list {
		if v.Risk < floor {
			list = list[:i]
			break
		}
	}
	list = list[min(offset, len(list)):]
	more := len(list) > pageSize
	list = list[:min(pageSize, len(list))]
	ids := make([]string, len(list))
	for i, v := range list {
		ids[i] = v.Customer
	}
	names, err := c.Profiles.Names(ctx, ids)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "customers", view{Title: "Customers at risk", Session: &s, Nav: "customers", Data: map[string]any{
		"Risk": strconv.FormatFloat(floor, 'f', -1, 64), "AtRisk": list, "Names": names, "Offset": offset, "More": more, "PageSize": pageSize,
	}})
}

// touchpoint is one event as the timeline shows it.
type touchpoint struct {
	eventlog.Event
	Title   string
	Details []kv
	Answers []kv // a survey answer's answers, each in full
}

type kv struct{ K, V string }

func (c *Console) customer(w http.ResponseWriter, r *http.Request, s auth.Session) {
	ctx := r.Context()
	cus, err := c.Profiles.Get(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	offset := offsetOf(r)
	q := cus.EventQuery()
	q.ByTime, q.Desc, q.Limit, q.Offset = true, true, pageSize+1, offset
	events, err := eventlog.Read(ctx, c.DB, q)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	more := len(events) > pageSize
	if more {
		events = events[:pageSize]
	}
	events = eventlog.ScopeCases(events, func(team string) bool { return s.Principal.InTeam(team) })
	timeline := make([]touchpoint, len(events))
	questions := c.questionTexts(ctx)
	for i, e := range events {
		timeline[i] = questions(describe(e))
	}
	_, invitations, err := c.Surveys.CustomerInvitations(ctx, cus.ID, false)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	member, err := c.Loyalty.Summary(ctx, cus.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	ledger, err := c.Loyalty.Ledger(ctx, cus.ID, 10)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	_, perks, err := c.Loyalty.Perks(ctx, cus.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	exp, err := c.customerExperiences(r, cus.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	value, err := c.An.ValueOf(ctx, cus.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	// Named as everywhere else: a name, an email, else a user id or handle.
	names, err := c.Profiles.Names(ctx, []string{cus.ID})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	name := names[cus.ID]
	c.render(w, r, http.StatusOK, "customer", view{Title: displayOr(name, cus.ID), Session: &s, Nav: "customers", Data: map[string]any{
		"Customer": cus, "Invitations": invitations, "Member": member, "Ledger": ledger, "Perks": perks, "Name": name, "Traits": sortedTraits(cus.Traits), "Timeline": timeline,
		"Offset": offset, "More": more, "PageSize": pageSize, "Exp": exp, "Agent": s.Principal.Can(auth.RoleAgent), "Value": value, "Admin": s.Principal.Can(auth.RoleAdmin),
	}})
}

func displayOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func sortedTraits(t map[string]any) []kv {
	out := make([]kv, 0, len(t))
	for k, v := range t {
		out = append(out, kv{label(k), format(v)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].K < out[j].K })
	return out
}

// labels are property and trait names as people say them.
var labels = map[string]string{"nps": "NPS", "csat": "CSAT", "ces": "CES", "acsi": "ACSI", "order_id": "order",
	"product_id": "product", "survey_name": "survey", "userId": "user id", "anonymousId": "anonymous id", "id": "id"}

// label is a property or trait name in words: its own, or snake_case and
// camelCase split into lower-case words.
func label(k string) string {
	if l, ok := labels[k]; ok {
		return l
	}
	var b strings.Builder
	for i, r := range k {
		switch {
		case r == '_' || r == '-' || r == '.':
			b.WriteByte(' ')
		case unicode.IsUpper(r) && i > 0 && !unicode.IsUpper(rune(k[i-1])):
			b.WriteByte(' ')
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// format is a value in words: text as it is, yes or no, a number as
// written, a list joined, an object's fields one after another (a
// product by its name and quantity).
func format(v any) string {
	switch t := v.(type) {
	case string:
		// A timestamp reads as the console writes times (UTC, to the minute).
		if len(t) >= 20 && t[4] == '-' && t[10] == 'T' {
			if at, err := time.Parse(time.RFC3339Nano, t); err == nil {
				return at.UTC().Format("2006-01-02 15:04")
			}
		}
		return t
	case nil:
		return ""
	case bool:
		if t {
			return "yes"
		}
		return "no"
	case float64:
		if t != math.Trunc(t) && math.Abs(t) < 1e6 {
			t = math.Round(t*100) / 100 // two decimals are enough to read
		}
		return strconv.FormatFloat(t, 'f', -1, 64)
	case json.Number:
		return t.String()
	case []any:
		parts := make([]string, 0, len(t))
		for _, x := range t {
			if s := format(x); s != "" {
				parts = append(parts, s)
			}
		}
		return strings.Join(parts, ", ")
	case map[string]any:
		if name, ok := t["name"].(string); ok && name != "" {
			if q, ok := t["quantity"].(float64); ok && q != 1 {
				return strconv.FormatFloat(q, 'f', -1, 64) + " × " + name
			}
			return name
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, 0, len(keys))
		for _, k := range keys {
			if s := format(t[k]); s != "" {
				parts = append(parts, label(k)+": "+s)
			}
		}
		return strings.Join(parts, " · ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// questionTexts relabels a survey answer's answers by their questions'
// texts (in the survey's default language) instead of the questions' ids;
// the surveys are read once each.
func (c *Console) questionTexts(ctx context.Context) func(touchpoint) touchpoint {
	texts := map[string]map[string]string{}
	return func(tp touchpoint) touchpoint {
		if len(tp.Answers) == 0 {
			return tp
		}
		msg, _ := tp.Event.Message()
		id, _ := msg.Props()["survey_id"].(string)
		if id == "" {
			return tp
		}
		qs, ok := texts[id]
		if !ok {
			qs = map[string]string{}
			if sv, err := c.Surveys.Get(ctx, id); err == nil {
				for _, q := range sv.Questions {
					qs[q.ID] = q.Text.In(sv.DefaultLanguage, sv.DefaultLanguage)
				}
			}
			texts[id] = qs
		}
		for i, a := range tp.Answers {
			if t := qs[a.K]; t != "" {
				tp.Answers[i].K = t
			}
		}
		return tp
	}
}

// internalID matches the ids cxloop gives its own records (a case, a
// rule, an alert…): the timeline says what happened without them.
var internalID = regexp.MustCompile(`^(case|rule|alert|nudge|tok|src|srv|rsp|team|cus|q|job|hook|wh)_[a-z0-9]{12,}$|^[a-z]{2,6}_([a-z2-7]{20}|[0-9a-f]{20})$`)

// codeProps are properties whose values are codes cxloop or the spec
// defines (a channel, a rhythm, a status): shown in words.
var codeProps = map[string]bool{"channel": true, "touchpoint_channel": true, "rhythm": true, "status": true, "kind": true, "reason": true,
	"delivery": true, "change": true, "outcome": true, "experience": true}

// describe turns an event into a timeline line: what happened, and the few
// properties that say the most about it.
func describe(e eventlog.Event) touchpoint {
	tp := touchpoint{Event: e}
	m, _ := e.Message()
	switch e.Type {
	case eventlog.Track:
		tp.Title = e.Event
	case eventlog.Page:
		tp.Title = "Viewed page " + m.Name
	case eventlog.Screen:
		tp.Title = "Viewed screen " + m.Name
	case eventlog.Identify:
		tp.Title = "Identified"
	case eventlog.Group:
		tp.Title = "Joined account " + m.GroupID
	case eventlog.Alias:
		tp.Title = "Alias of " + m.PreviousID
	}
	props := m.Props()
	if e.Type == eventlog.Identify {
		props = m.Traits
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if e.Type == eventlog.Track && e.Event == "Survey Responded" {
		// An answer reads as the survey, its scores and every answer in
		// full, however long the customer's comment.
		for _, k := range []string{"survey_name", "nps", "csat", "ces", "acsi"} {
			if v, ok := props[k]; ok {
				tp.Details = append(tp.Details, kv{label(k), format(v)})
			}
		}
		if answers, ok := props["answers"].(map[string]any); ok {
			ids := make([]string, 0, len(answers))
			for id := range answers {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				tp.Answers = append(tp.Answers, kv{id, format(answers[id])})
			}
		} else if v, ok := props["answers"]; ok {
			tp.Answers = append(tp.Answers, kv{"answers", format(v)})
		}
		return tp
	}
	for _, k := range keys {
		if len(tp.Details) == 6 {
			break
		}
		if h, ok := props[k].(float64); ok && strings.HasPrefix(k, "hours_to_") {
			// A time taken, as a duration: "time to resolve 1.6 days".
			sec := h * 3600
			tp.Details = append(tp.Details, kv{"time to " + label(strings.TrimPrefix(k, "hours_to_")), duration(&sec)})
			continue
		}
		if s := format(props[k]); s != "" && len(s) <= 80 && !internalID.MatchString(s) {
			if codeProps[k] {
				s = say(s) // a code in words: mobile_app → mobile app
			}
			tp.Details = append(tp.Details, kv{label(k), s})
		}
	}
	return tp
}
