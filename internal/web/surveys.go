package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/netguard"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/survey"
	"github.com/cxloop/cxloop/internal/vocab"
)

// latestVerbatims is how many verbatims the survey's page shows.
const latestVerbatims = 5

type surveyRow struct {
	*survey.Survey
	Funnel    survey.Funnel
	Responses int // every answer, invited or not
}

func (c *Console) surveys(w http.ResponseWriter, r *http.Request, s auth.Session) {
	list, err := c.Surveys.List(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rows := make([]surveyRow, len(list))
	for i, sv := range list {
		f, err := c.Surveys.Funnel(r.Context(), sv.ID)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		n, err := c.Surveys.Answered(r.Context(), sv.ID)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		rows[i] = surveyRow{sv, f, n}
	}
	c.render(w, r, http.StatusOK, "surveys", view{Title: "Surveys", Session: &s, Nav: "surveys", Data: map[string]any{"Surveys": rows}})
}

// eventTrigger reads when a persistent survey is sent from a form: after
// which event (event, where_channel), how long after (delay) and to what
// share of customers (sample).
func eventTrigger(v map[string]string) (*survey.Trigger, error) {
	t := &survey.Trigger{Event: v["event"]}
	if ch := v["where_channel"]; ch != "" {
		t.Where = map[string]any{"channel": ch}
	}
	d, err := vocab.ParseDuration(v["delay"])
	if err != nil {
		return nil, fault.Field("delay", "%s", err.Error())
	}
	t.Delay = vocab.Duration(d)
	if v["sample"] != "" {
		p, err := strconv.ParseFloat(v["sample"], 64)
		if err != nil {
			return nil, fault.Field("sample", "the sample rate is a number from 0 to 1")
		}
		t.Sample = &p
	}
	return t, nil
}

// schedule reads when a periodic survey runs from a form: its repeat rule
// (rrule) and first run (start).
func schedule(v map[string]string) (*survey.Schedule, error) {
	sc := &survey.Schedule{RRule: v["rrule"]}
	if v["start"] != "" {
		t, err := httpio.ParseTime(v["start"])
		if err != nil {
			return nil, fault.Field("start", "the first run is a date (2026-01-31) or date and time")
		}
		sc.Start = t
	}
	return sc, nil
}

// audience reads whom a periodic or pulse survey goes to from a form: the
// customers with the traits of the segment (trait=value, one a line), and
// how many of them (sample_size).
func audience(sv *survey.Survey, v map[string]string) error {
	if seg := strings.TrimSpace(v["segment"]); seg != "" {
		sv.Segment = &profile.Query{}
		traits := map[string]any{}
		for _, line := range strings.Split(seg, "\n") {
			k, val, ok := strings.Cut(line, "=")
			if !ok {
				return fault.Field("segment", "segment lines are trait=value")
			}
			traits[strings.TrimSpace(k)] = strings.TrimSpace(val)
		}
		sv.Segment.Traits = traits
	}
	if n := v["sample_size"]; n != "" {
		size, err := strconv.Atoi(n)
		if err != nil {
			return fault.Field("sample_size", "the sample size is a whole number")
		}
		sv.SampleSize = size
	}
	return nil
}

// followUp reads what happens after an invitation is sent from a form:
// how many reminders, how long apart (reminders, reminder_after), and when
// the invitation expires (expires).
func followUp(sv *survey.Survey, v map[string]string) error {
	if n := v["reminders"]; n != "" && n != "0" {
		m, err := strconv.Atoi(n)
		if err != nil {
			return fault.Field("reminders", "reminders is a whole number")
		}
		d, err := vocab.ParseDuration(v["reminder_after"])
		if err != nil {
			return fault.Field("reminder_after", "%s", err.Error())
		}
		sv.Reminders = survey.Reminders{Max: m, After: vocab.Duration(d)}
	}
	if v["expires"] != "" {
		d, err := vocab.ParseDuration(v["expires"])
		if err != nil {
			return fault.Field("expires", "%s", err.Error())
		}
		sv.Expires = vocab.Duration(d)
	}
	return nil
}

// webTrigger reads the web trigger fields of a form (web_event, web_url,
// web_delay, web_exit).
func webTrigger(v map[string]string) (*survey.WebTrigger, error) {
	d, err := vocab.ParseDuration(v["web_delay"])
	if err != nil {
		return nil, fault.Field("web.delay", "%s", err.Error())
	}
	return &survey.WebTrigger{Event: v["web_event"], URL: v["web_url"], Delay: vocab.Duration(d), ExitIntent: v["web_exit"] != ""}, nil
}

// setWebTrigger sets or removes a survey's web trigger from the survey page.
func (c *Console) setWebTrigger(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleOwner) {
		c.fail(w, r, fault.New(fault.Forbidden, "changing surveys needs the owner role"))
		return
	}
	var web *survey.WebTrigger
	if r.PostFormValue("remove") == "" {
		v := map[string]string{}
		for _, k := range []string{"web_event", "web_url", "web_delay", "web_exit"} {
			v[k] = strings.TrimSpace(r.PostFormValue(k))
		}
		var err error
		if web, err = webTrigger(v); err != nil {
			c.failField(w, r, err)
			return
		}
	}
	body, _ := json.Marshal(map[string]any{"web": web})
	if _, err := c.Surveys.Update(r.Context(), r.PathValue("id"), body); err != nil {
		c.failField(w, r, err)
		return
	}
	http.Redirect(w, r, "/surveys/"+r.PathValue("id"), http.StatusSeeOther)
}

// failField is fail for a form: a refused field is named in the message.
func (c *Console) failField(w http.ResponseWriter, r *http.Request, err error) {
	var fe *fault.Error
	if errors.As(err, &fe) && fe.Field != "" {
		err = &fault.Error{Code: fe.Code, Message: fe.Field + ": " + fe.Message}
	}
	c.fail(w, r, err)
}

func (c *Console) setSurveyStatus(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleOwner) {
		c.fail(w, r, fault.New(fault.Forbidden, "changing surveys needs the owner role"))
		return
	}
	body, _ := json.Marshal(map[string]string{"status": r.PostFormValue("status")})
	before, _ := c.Surveys.Get(r.Context(), r.PathValue("id"))
	after, err := c.Surveys.Update(r.Context(), r.PathValue("id"), body)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	action := "update"
	switch after.Status {
	case survey.Paused:
		action = "pause"
	case survey.Active:
		action = "resume"
	}
	audit.Note(r.Context(), audit.Change{Action: action, Resource: "survey", ResourceID: after.ID, Before: before, After: after})
	http.Redirect(w, r, "/surveys/"+r.PathValue("id"), http.StatusSeeOther)
}

// sendSurvey sends one wave of a pulse (or periodic) survey to the list of
// identities pasted in, or to a segment of trait=value lines, optionally sampled.
func (c *Console) sendSurvey(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleOwner) {
		c.fail(w, r, fault.New(fault.Forbidden, "sending surveys needs the owner role"))
		return
	}
	in := survey.SendInput{}
	for _, line := range strings.FieldsFunc(r.PostFormValue("customers"), func(r rune) bool { return r == '\n' || r == ',' || r == ';' }) {
		if line = strings.TrimSpace(line); line != "" {
			in.Customers = append(in.Customers, line)
		}
	}
	if seg := strings.TrimSpace(r.PostFormValue("segment")); seg != "" && len(in.Customers) == 0 {
		in.Segment = &profile.Query{Traits: map[string]any{}}
		for _, line := range strings.Split(seg, "\n") {
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				c.fail(w, r, fault.Field("segment", "segment lines are trait=value"))
				return
			}
			in.Segment.Traits[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if n := strings.TrimSpace(r.PostFormValue("sample")); n != "" {
		size, err := strconv.Atoi(n)
		if err != nil {
			c.fail(w, r, fault.Field("sample", "the sample size is a whole number"))
			return
		}
		in.Sample = size
	}
	res, err := c.Surveys.Send(r.Context(), r.PathValue("id"), in)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/surveys/%s?sent=%d&unknown=%d", r.PathValue("id"), res.Invitations, len(res.Unknown)), http.StatusSeeOther)
}

// results is the survey's results page: the score with its trend and
// confidence band, breakdowns, the answer distributions and the verbatims.
func (c *Console) results(w http.ResponseWriter, r *http.Request, s auth.Session) {
	ctx := r.Context()
	sv, err := c.Surveys.Get(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	per := readPeriod(r.URL.Query(), c.Profiles.Now(), "90d", false)
	funnel, err := c.Surveys.FunnelIn(ctx, sv.ID, per.From, per.To)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	data := map[string]any{"Survey": sv, "Funnel": funnel, "Metric": sv.Metric(), "Sent": r.URL.Query().Get("sent"), "Unknown": r.URL.Query().Get("unknown"), "Period": per}
	if m := sv.Metric(); m != "" {
		if err := c.surveyScores(ctx, sv.ID, m, per, data); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	counts, err := c.Surveys.Counts(ctx, sv.ID, per.From, per.To)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	data["Distributions"] = distributions(sv, counts)
	if data["Responses"], err = c.Surveys.Answered(ctx, sv.ID); err != nil {
		c.fail(w, r, err)
		return
	}
	// The latest few verbatims; the verbatims page has them all.
	latest, err := c.Surveys.FindVerbatims(ctx, survey.VerbatimQuery{Survey: sv.ID, From: per.From, To: per.To, Limit: latestVerbatims})
	if err != nil {
		c.fail(w, r, err)
		return
	}
	sentiments, err := c.Surveys.SentimentsIn(ctx, sv.ID, per.From, per.To)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	all := newVerbatimLinks(sv.ID, per.Values())
	sentimentLinks, order := map[string]string{}, []string{}
	for _, k := range []string{"positive", "neutral", "negative", "unknown"} {
		if sentiments[k] > 0 {
			sentimentLinks[k], order = all.with("sentiment", k), append(order, k)
		}
	}
	data["Verbatims"], data["VerbatimTotal"], data["AllVerbatims"] = verbatimItems(sv.ID, latest.Metric, latest.Verbatims, all), latest.Total, all.with()
	data["Sentiments"], data["SentimentLinks"], data["SentimentOrder"] = sentiments, sentimentLinks, order
	hasText := false
	for _, q := range sv.Questions {
		hasText = hasText || q.Type == survey.TypeText
	}
	data["HasText"] = hasText
	fatigue := 0
	for reason, n := range funnel.Skipped {
		if reason == survey.ReasonRecontactWait {
			fatigue += n
		}
	}
	data["Fatigue"] = fatigue
	link, err := c.Surveys.OpenLink(ctx, sv.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	data["Link"], data["LocalLink"] = link, localHost(link)
	data["Emails"], data["CanEdit"] = c.Surveys.Emails(), s.Principal.Can(auth.RoleOwner)
	def, _ := json.MarshalIndent(sv, "", "  ")
	data["Definition"] = string(def)
	c.render(w, r, http.StatusOK, "survey", view{Title: sv.Name, Session: &s, Nav: "surveys", Data: data})
}

type bar struct {
	Label string
	N     int
	Pct   float64
	Kind  string // an NPS answer's kind: promoter, passive or detractor
}

type distribution struct {
	Question string
	Bars     []bar
}

// distributions lists each rating or choice question's answers as bars.
func distributions(sv *survey.Survey, counts map[string]map[string]int) []distribution {
	var out []distribution
	for _, q := range sv.Questions {
		c := counts[q.ID]
		if len(c) == 0 || q.Type == survey.TypeText || q.Type == survey.TypeACSI {
			continue
		}
		total := 0
		for _, n := range c {
			total += n
		}
		d := distribution{Question: q.Text.In(sv.DefaultLanguage, sv.DefaultLanguage)}
		keys := make([]string, 0, len(c))
		for k := range c {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			a, errA := strconv.ParseFloat(keys[i], 64)
			b, errB := strconv.ParseFloat(keys[j], 64)
			if errA == nil && errB == nil {
				return a < b
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			label := k
			for _, ch := range q.Choices {
				if ch.ID == k {
					label = ch.Text.In(sv.DefaultLanguage, sv.DefaultLanguage)
				}
			}
			b := bar{Label: label, N: c[k], Pct: math.Round(1000*float64(c[k])/float64(total)) / 10}
			if v, err := strconv.Atoi(k); err == nil && q.Type == survey.TypeNPS {
				b.Kind = map[bool]string{true: "detractor", false: "passive"}[v <= 6]
				if v >= 9 {
					b.Kind = "promoter"
				}
			}
			d.Bars = append(d.Bars, b)
		}
		out = append(out, d)
	}
	return out
}

// smallSample is the number of answers below which a score is a small
// sample: shown, but not as a headline, and drawn hollow in a trend.
const smallSample = 30

// surveyScores fills the survey page's score for the period (with the
// comparison period's), its trend and its breakdowns.
func (c *Console) surveyScores(ctx context.Context, id, metric string, per period, data map[string]any) error {
	head, err := c.Surveys.Scores(ctx, survey.ScoreQuery{Metric: metric, Survey: id, From: per.From, To: per.To, CompareFrom: per.CFrom, CompareTo: per.CTo})
	if err != nil {
		return err
	}
	if len(head.Groups) > 0 && head.Groups[0].N > 0 {
		g := head.Groups[0]
		data["Score"], data["Small"] = g, g.N < smallSample
		if metric == survey.TypeNPS {
			data["Split"] = npsSplit(g.Distribution)
		}
	}
	scores, err := c.Surveys.Breakdowns(ctx, metric, id, per.From, per.To, "week", "month", "channel", "role")
	if err != nil {
		return err
	}
	data["Trend"], data["TrendNote"] = trendChart(metric, scores["week"], scores["month"])
	var breakdowns []map[string]any
	for _, by := range []string{"channel", "role", "month"} {
		if g := scores[by]; len(g) > 1 || (len(g) == 1 && g[0].Key != "unknown") {
			breakdowns = append(breakdowns, map[string]any{"By": by, "Groups": g})
		}
	}
	data["Breakdowns"] = breakdowns
	return nil
}

// split is an NPS score's answers by kind.
type split struct{ Promoters, Passives, Detractors int }

func npsSplit(dist map[string]int) split {
	return split{Promoters: dist["promoters"], Passives: dist["passives"], Detractors: dist["detractors"]}
}

var metricScale = map[string][2]float64{survey.TypeNPS: {-100, 100}, survey.TypeCSAT: {0, 100}, survey.TypeCES: {1, 7}, survey.TypeACSI: {0, 100}}

// trendChart draws the score by week inside its 95 % confidence band,
// from the first week with a meaningful number of answers (smallSample);
// later weeks with fewer are drawn hollow and say so. When no week has that
// many answers it draws months instead, and when no month has either it
// draws nothing and says why.
func trendChart(metric string, weeks, months []survey.ScoreGroup) (template.HTML, string) {
	groups, unit := weeks, "week"
	start := firstMeaningful(weeks)
	if start < 0 {
		groups, unit, start = months, "month", firstMeaningful(months)
	}
	if start < 0 {
		most := 0
		for _, g := range append(weeks, months...) {
			most = max(most, g.N)
		}
		if most == 0 {
			return "", ""
		}
		return "", fmt.Sprintf("Too few answers for a trend: no month of this period has %d answers (the most is %d).", smallSample, most)
	}
	groups = groups[start:]
	scale := metricScale[metric]
	ch := chart{
		ID:    "trend",
		Label: fmt.Sprintf("%s by %s, with its 95%% confidence band", strings.ToUpper(metric), unit),
		Spec:  chartSpec{Kind: "trend", YName: strings.ToUpper(metric), YMin: ptr(scale[0]), YMax: ptr(scale[1]), Zero: scale[0] < 0, SmallN: smallSample},
		Table: chartTable{Head: []string{strings.ToUpper(unit[:1]) + unit[1:], strings.ToUpper(metric), "95% CI", "n"}},
	}
	for _, g := range groups {
		t := g.Key
		if unit == "month" {
			t += "-01"
		}
		if w, err := isoWeekStart(g.Key); err == nil && unit == "week" {
			t = w
		}
		pt := chartPoint{Name: g.Key, T: t, Y: g.Value, N: g.N}
		ci := "—"
		if g.CI95 != nil {
			pt.Lo, pt.Hi = ptr(g.CI95[0]), ptr(g.CI95[1])
			ci = fmt.Sprintf("%.1f to %.1f", g.CI95[0], g.CI95[1])
		}
		ch.Spec.Points = append(ch.Spec.Points, pt)
		n := strconv.Itoa(g.N)
		if g.N < smallSample {
			n += " (small sample)"
		}
		ch.Table.Rows = append(ch.Table.Rows, chartRow{Key: g.Key, Cells: []string{g.Key, fmt.Sprintf("%.1f", g.Value), ci, n}})
	}
	note := fmt.Sprintf("By %s, from the first %s with %d answers", unit, unit, smallSample)
	if start > 0 {
		note += " (" + counted(start, "earlier "+unit) + " had fewer)"
	}
	return ch.HTML(), note + "; hollow points are smaller samples. Hover a point for its n."
}

func firstMeaningful(groups []survey.ScoreGroup) int {
	for i, g := range groups {
		if g.N >= smallSample {
			return i
		}
	}
	return -1
}

// isoWeekStart turns a week key (2026-W07) into its Monday's date.
func isoWeekStart(key string) (string, error) {
	var y, w int
	if _, err := fmt.Sscanf(key, "%d-W%d", &y, &w); err != nil {
		return "", err
	}
	jan4 := time.Date(y, 1, 4, 0, 0, 0, 0, time.UTC)
	monday := jan4.AddDate(0, 0, -((int(jan4.Weekday())+6)%7)+(w-1)*7)
	return monday.Format(time.DateOnly), nil
}

// localHost is the host of a link that only this machine or its private
// network reaches (localhost, or an address netguard counts internal),
// else "".
func localHost(link string) string {
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	h := u.Hostname()
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return h
	}
	if ip, ok := netguard.ParseHostIP(h); ok && netguard.Blocked(ip) {
		return h
	}
	return ""
}
