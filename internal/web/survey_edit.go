package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/survey"
	"github.com/cxloop/cxloop/internal/vocab"
)

// The survey editor: one form for a new survey and an existing one, with
// any number of questions, the texts of every language side by side, and
// a schedule picker. It works without JavaScript: adding, removing and
// moving a question or adding a language submits the form, which comes
// back with the change and everything typed so far (the op button says
// which); only Save stores the survey.

// editorForm is what the editor shows (again, after a change or an error).
type editorForm struct {
	ID        string // "" for a new survey
	Answered  int    // the survey's answers: its questions' ids and types are fixed
	ReadOnly  bool   // the operator may look but not change (an analyst)
	Values    map[string]string
	Langs     []string // the survey's languages, the default first
	Intro     map[string]string
	Thanks    map[string]string
	Questions []editorQuestion
	Schedule  schedulePicker
	RRule     string // the rule the picker writes, as it stands
	Errors    map[string]string
	Problem   string // the first problem, said at the top of the page
	Segment   string // a segment the editor cannot show: kept as it is
	Types     []string
	Weekdays  []weekday
	// Owners are the names an owner is usually given: the teams, and the
	// owners of the other surveys.
	Owners []string
}

// weekday is a day of the week as an RRULE writes it and as people read it.
type weekday struct{ Value, Label string }

// editorQuestion is one question of the editor, at position N (from 1).
type editorQuestion struct {
	N                        int
	ID, Type                 string
	Required                 bool
	Fixed                    bool // answered before: its type stays and it cannot be removed
	Text, MinLabel, MaxLabel map[string]string
	Min, Max                 string
	Choices                  map[string]string // the choices' texts, one a line, by language
	ChoiceIDs                string            // the choices' ids, in the lines' order
	Error                    string
}

// maxQuestions is the most questions a survey has (survey.Validate's limit).
const maxQuestions = 50

var questionTypes = []string{survey.TypeNPS, survey.TypeCSAT, survey.TypeCES, survey.TypeACSI, survey.TypeScale, survey.TypeSingle, survey.TypeMulti, survey.TypeText}

// editorFields are the plain fields of the form, read as they are.
var editorFields = []string{"name", "owner", "rhythm", "status", "event", "where_channel", "delay", "sample", "start", "segment", "sample_size",
	"reminders", "reminder_after", "expires", "web_on", "web_event", "web_url", "web_delay", "web_exit"}

func (c *Console) editorView(w http.ResponseWriter, r *http.Request, s auth.Session, status int, f *editorForm) {
	f.Types = questionTypes
	for i, d := range weekdays {
		f.Weekdays = append(f.Weekdays, weekday{d, time.Weekday((i + 1) % 7).String()})
	}
	if rule, err := f.Schedule.rule(); err == nil {
		f.RRule = rule
	}
	f.Owners = c.ownerNames(r.Context())
	title := "New survey"
	if f.ID != "" {
		title = "Edit " + f.Values["name"]
	}
	c.render(w, r, status, "survey_edit", view{Title: title, Session: &s, Nav: "surveys", Data: f})
}

// newSurvey shows the editor for a new survey: one NPS question in English.
func (c *Console) newSurvey(w http.ResponseWriter, r *http.Request, s auth.Session) {
	f := &editorForm{Values: map[string]string{"rhythm": survey.Persistent, "status": survey.Active, "delay": "0s", "sample": "1", "expires": "30d"},
		Langs: []string{"en"}, Intro: map[string]string{}, Thanks: map[string]string{},
		Questions: []editorQuestion{{N: 1, Type: survey.TypeNPS, Required: true}},
		Schedule:  schedulePicker{Freq: "quarterly", Interval: "1", Weekday: "MO", MonthDay: "1", Time: "09:00"},
		ReadOnly:  !s.Principal.Can(auth.RoleOwner)}
	c.editorView(w, r, s, http.StatusOK, f)
}

// editSurvey shows the editor for an existing survey.
func (c *Console) editSurvey(w http.ResponseWriter, r *http.Request, s auth.Session) {
	sv, err := c.Surveys.Get(r.Context(), r.PathValue("id"))
	if err == nil && sv.Status == survey.Archived {
		err = fault.New(fault.NotFound, "no survey %q (it was deleted)", sv.ID)
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	answered, err := c.Surveys.Answered(r.Context(), sv.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	f := formOf(sv, answered)
	f.ReadOnly = !s.Principal.Can(auth.RoleOwner)
	c.editorView(w, r, s, http.StatusOK, f)
}

// formOf is the editor's form for an existing survey.
func formOf(sv *survey.Survey, answered int) *editorForm {
	f := &editorForm{ID: sv.ID, Answered: answered, Values: map[string]string{"name": sv.Name, "owner": sv.Owner, "rhythm": sv.Rhythm, "status": sv.Status,
		"expires": sv.Expires.String(), "delay": "0s", "sample": "1"}, Intro: map[string]string(sv.Intro), Thanks: map[string]string(sv.Thanks)}
	f.Langs = append([]string{sv.DefaultLanguage}, slices.DeleteFunc(slices.Clone(sv.Languages), func(l string) bool { return l == sv.DefaultLanguage })...)
	for i, q := range sv.Questions {
		eq := editorQuestion{N: i + 1, ID: q.ID, Type: q.Type, Required: !q.Optional, Fixed: answered > 0, Text: q.Text, MinLabel: q.MinLabel, MaxLabel: q.MaxLabel,
			Choices: map[string]string{}}
		if q.Min != nil && q.Max != nil {
			eq.Min, eq.Max = strconv.Itoa(*q.Min), strconv.Itoa(*q.Max)
		}
		var ids []string
		for _, l := range f.Langs {
			var lines []string
			for _, ch := range q.Choices {
				lines = append(lines, ch.Text[l])
			}
			eq.Choices[l] = strings.Join(lines, "\n")
		}
		for _, ch := range q.Choices {
			ids = append(ids, ch.ID)
		}
		eq.ChoiceIDs = strings.Join(ids, ",")
		f.Questions = append(f.Questions, eq)
	}
	if t := sv.Trigger; t != nil {
		f.Values["event"], f.Values["delay"] = t.Event, t.Delay.String()
		if ch, ok := t.Where["channel"].(string); ok {
			f.Values["where_channel"] = ch
		}
		if t.Sample != nil {
			f.Values["sample"] = strconv.FormatFloat(*t.Sample, 'f', -1, 64)
		}
	}
	if wt := sv.Web; wt != nil {
		f.Values["web_on"], f.Values["web_event"], f.Values["web_url"], f.Values["web_delay"] = "1", wt.Event, wt.URL, wt.Delay.String()
		if wt.ExitIntent {
			f.Values["web_exit"] = "1"
		}
	}
	f.Schedule = schedulePicker{Freq: "quarterly", Interval: "1", Weekday: "MO", MonthDay: "1", Time: "09:00"}
	if sc := sv.Schedule; sc != nil {
		f.Schedule = pickSchedule(sc.RRule)
		if !sc.Start.IsZero() {
			f.Values["start"] = sc.Start.UTC().Format(time.RFC3339)
			if sc.Start.Equal(sc.Start.Truncate(24 * time.Hour)) {
				f.Values["start"] = sc.Start.UTC().Format("2006-01-02")
			}
		}
	}
	if seg := sv.Segment; seg != nil {
		if lines, ok := traitLines(seg); ok {
			f.Values["segment"] = lines
		} else {
			b, _ := json.Marshal(seg)
			f.Segment = string(b)
		}
	}
	if sv.SampleSize > 0 {
		f.Values["sample_size"] = strconv.Itoa(sv.SampleSize)
	}
	if sv.Reminders.Max > 0 {
		f.Values["reminders"], f.Values["reminder_after"] = strconv.Itoa(sv.Reminders.Max), sv.Reminders.After.String()
	}
	return f
}

// traitLines writes a segment of traits with one text value each as
// trait=value lines; ok is false for any other segment.
func traitLines(q *profile.Query) (string, bool) {
	b, _ := json.Marshal(q)
	var only struct {
		Traits map[string]any `json:"traits"`
	}
	var all map[string]any
	_ = json.Unmarshal(b, &only)
	_ = json.Unmarshal(b, &all)
	if len(all) != 1 || len(only.Traits) == 0 {
		return "", false
	}
	keys := make([]string, 0, len(only.Traits))
	for k, v := range only.Traits {
		if _, ok := v.(string); !ok {
			return "", false
		}
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var lines []string
	for _, k := range keys {
		lines = append(lines, k+"="+only.Traits[k].(string))
	}
	return strings.Join(lines, "\n"), true
}

// readEditor reads the submitted form as the editor shows it.
func readEditor(r *http.Request) *editorForm {
	f := &editorForm{Values: map[string]string{}, Intro: map[string]string{}, Thanks: map[string]string{}, Errors: map[string]string{}}
	for _, k := range editorFields {
		f.Values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	f.Segment = r.PostFormValue("segment_kept")
	for _, l := range strings.Split(r.PostFormValue("langs"), ",") {
		if l = strings.TrimSpace(l); validTag(l) && !slices.Contains(f.Langs, l) {
			f.Langs = append(f.Langs, l)
		}
	}
	if len(f.Langs) == 0 {
		f.Langs = []string{"en"}
	}
	for _, l := range f.Langs {
		f.Intro[l], f.Thanks[l] = r.PostFormValue("intro_"+l), r.PostFormValue("thanks_"+l)
	}
	n, _ := strconv.Atoi(r.PostFormValue("qn"))
	for i := 1; i <= min(n, maxQuestions); i++ {
		p := fmt.Sprintf("q%d_", i)
		q := editorQuestion{N: i, ID: r.PostFormValue(p + "id"), Type: r.PostFormValue(p + "type"), Required: r.PostFormValue(p+"required") != "",
			Fixed: r.PostFormValue(p+"fixed") != "", Min: r.PostFormValue(p + "min"), Max: r.PostFormValue(p + "max"), ChoiceIDs: r.PostFormValue(p + "cids"),
			Text: map[string]string{}, MinLabel: map[string]string{}, MaxLabel: map[string]string{}, Choices: map[string]string{}}
		for _, l := range f.Langs {
			q.Text[l], q.MinLabel[l], q.MaxLabel[l] = r.PostFormValue(p+"text_"+l), r.PostFormValue(p+"min_label_"+l), r.PostFormValue(p+"max_label_"+l)
			q.Choices[l] = r.PostFormValue(p + "choices_" + l)
		}
		f.Questions = append(f.Questions, q)
	}
	f.Schedule = schedulePicker{Freq: r.PostFormValue("sched_freq"), Interval: r.PostFormValue("sched_interval"), Weekday: r.PostFormValue("sched_weekday"),
		MonthDay: r.PostFormValue("sched_monthday"), Time: r.PostFormValue("sched_time"), Custom: r.PostFormValue("sched_custom")}
	return f
}

var tagPattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

func validTag(s string) bool { return tagPattern.MatchString(s) }

// apply makes the change an op button asks for; it reports false for an
// op it does not know.
func (f *editorForm) apply(op string, form func(string) string) bool {
	verb, arg, _ := strings.Cut(op, ":")
	i, _ := strconv.Atoi(arg)
	i-- // positions are from 1
	switch verb {
	case "add":
		if len(f.Questions) >= maxQuestions {
			f.Errors["questions"] = fmt.Sprintf("a survey has at most %d questions", maxQuestions)
			return false
		}
		t := form("add_type")
		if !slices.Contains(questionTypes, t) {
			t = survey.TypeText
		}
		f.Questions = append(f.Questions, editorQuestion{Type: t, Required: t != survey.TypeText, Text: map[string]string{}, MinLabel: map[string]string{},
			MaxLabel: map[string]string{}, Choices: map[string]string{}, Min: "1", Max: "10"})
	case "remove":
		if i < 0 || i >= len(f.Questions) || f.Questions[i].Fixed {
			return false
		}
		f.Questions = slices.Delete(f.Questions, i, i+1)
	case "up", "down":
		j := i - 1
		if verb == "down" {
			j = i + 1
		}
		if i < 0 || i >= len(f.Questions) || j < 0 || j >= len(f.Questions) {
			return false
		}
		f.Questions[i], f.Questions[j] = f.Questions[j], f.Questions[i]
	case "add-lang":
		l := strings.TrimSpace(form("add_lang"))
		switch {
		case !validTag(l):
			f.Errors["add_lang"] = fmt.Sprintf("%q is not a language tag: write it as en, fa or pt-BR", l)
			f.Values["add_lang"] = l
		case slices.Contains(f.Langs, l):
			f.Errors["add_lang"] = fmt.Sprintf("the survey has %s already", l)
		default:
			f.Langs = append(f.Langs, l)
		}
	case "drop-lang":
		if k := slices.Index(f.Langs, arg); k > 0 {
			f.Langs = slices.Delete(f.Langs, k, k+1)
		}
	default:
		return false
	}
	for k := range f.Questions {
		f.Questions[k].N = k + 1
	}
	return true
}

// saveSurvey handles the editor's form: an op button's change comes back
// in the editor; Save creates or updates the survey.
func (c *Console) saveSurvey(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleOwner) {
		c.fail(w, r, fault.New(fault.Forbidden, "changing surveys needs the owner role"))
		return
	}
	ctx := r.Context()
	f := readEditor(r)
	var old *survey.Survey
	if id := r.PathValue("id"); id != "" {
		var err error
		if old, err = c.Surveys.Get(ctx, id); err == nil && old.Status == survey.Archived {
			err = fault.New(fault.NotFound, "no survey %q (it was deleted)", id)
		}
		if err != nil {
			c.fail(w, r, err)
			return
		}
		f.ID = old.ID
		if f.Answered, err = c.Surveys.Answered(ctx, old.ID); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	if op := r.PostFormValue("op"); op != "" && op != "save" {
		if op == "rule" { // without JavaScript, the rule the picker writes
			var fe *fault.Error
			if _, err := f.Schedule.rule(); errors.As(err, &fe) {
				f.Errors["schedule"] = fe.Message
			}
		}
		f.apply(op, r.PostFormValue)
		c.editorView(w, r, s, http.StatusOK, f)
		return
	}
	sv, err := f.survey(old)
	if err == nil {
		if old == nil {
			sv, err = c.Surveys.Create(ctx, sv)
		} else {
			sv, err = c.Surveys.Update(ctx, old.ID, f.patch(old, sv))
		}
	}
	if err != nil {
		var fe *fault.Error
		if !errors.As(err, &fe) || fe.Code == fault.Internal {
			c.fail(w, r, err)
			return
		}
		f.refused(fe)
		c.editorView(w, r, s, fault.Status(fe.Code), f)
		return
	}
	if old == nil {
		audit.Note(ctx, audit.Change{ResourceID: sv.ID, After: sv})
	} else {
		audit.Note(ctx, audit.Change{Action: "update", Resource: "survey", ResourceID: sv.ID, Before: old, After: sv})
	}
	http.Redirect(w, r, "/surveys/"+sv.ID, http.StatusSeeOther)
}

// refused places a refusal next to the field it names.
func (f *editorForm) refused(fe *fault.Error) {
	f.Problem = fe.Message
	field := fe.Field
	if field != "" {
		f.Problem = field + ": " + fe.Message
	}
	if rest, ok := strings.CutPrefix(field, "questions["); ok {
		if k, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, ']'), 0)]); err == nil && k >= 0 && k < len(f.Questions) {
			f.Questions[k].Error = fe.Message
			return
		}
	}
	key := field
	for _, m := range []struct{ prefix, key string }{{"trigger", "trigger"}, {"web", "web"}, {"schedule", "schedule"}, {"start", "schedule"},
		{"segment", "segment"}, {"sampleSize", "segment"}, {"reminders", "reminders"}, {"expires", "reminders"}, {"languages", "langs"},
		{"defaultLanguage", "langs"}, {"intro", "texts"}, {"thanks", "texts"}, {"delay", "trigger"}, {"sample", "trigger"}} {
		if strings.HasPrefix(field, m.prefix) {
			key = m.key
			break
		}
	}
	if key == "" {
		key = "form"
	}
	f.Errors[key] = fe.Message
}

// texts reads one text in each language; empty ones are left out.
func (f *editorForm) texts(by map[string]string) vocab.Text {
	out := vocab.Text{}
	for _, l := range f.Langs {
		if t := strings.TrimSpace(by[l]); t != "" {
			out[l] = t
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// survey builds the definition the form describes; old is the survey
// being edited (nil for a new one), whose parts the editor does not show
// are kept.
func (f *editorForm) survey(old *survey.Survey) (*survey.Survey, error) {
	v := f.Values
	sv := &survey.Survey{Name: v["name"], Owner: v["owner"], Rhythm: v["rhythm"], Status: v["status"], Languages: f.Langs, DefaultLanguage: f.Langs[0],
		Intro: f.texts(f.Intro), Thanks: f.texts(f.Thanks)}
	if old != nil {
		sv.Status = old.Status
	}
	used := map[string]bool{}
	for _, q := range f.Questions {
		used[q.ID] = q.ID != ""
	}
	fresh := func(prefix string, used map[string]bool) string {
		for k := 1; ; k++ {
			if id := fmt.Sprintf("%s%d", prefix, k); !used[id] {
				used[id] = true
				return id
			}
		}
	}
	for i, q := range f.Questions {
		field := fmt.Sprintf("questions[%d]", i)
		if q.ID == "" {
			q.ID = fresh("q", used)
			f.Questions[i].ID = q.ID
		}
		qq := survey.Question{ID: q.ID, Type: q.Type, Optional: !q.Required, Text: f.texts(q.Text)}
		switch q.Type {
		case survey.TypeScale:
			lo, err1 := strconv.Atoi(strings.TrimSpace(q.Min))
			hi, err2 := strconv.Atoi(strings.TrimSpace(q.Max))
			if err1 != nil || err2 != nil {
				return nil, fault.Field(field+".min", "a scale needs whole numbers for its ends")
			}
			qq.Min, qq.Max = &lo, &hi
			qq.MinLabel, qq.MaxLabel = f.texts(q.MinLabel), f.texts(q.MaxLabel)
		case survey.TypeSingle, survey.TypeMulti:
			var was []survey.Choice
			if old != nil {
				if o, ok := old.Question(q.ID); ok {
					was = o.Choices
				}
			}
			choices, ids, err := f.choices(q, was, field)
			if err != nil {
				return nil, err
			}
			qq.Choices = choices
			f.Questions[i].ChoiceIDs = ids
		case survey.TypeACSI:
			if old != nil {
				if o, ok := old.Question(q.ID); ok && o.Type == survey.TypeACSI {
					qq.Items = o.Items
				}
			}
		}
		sv.Questions = append(sv.Questions, qq)
	}
	var err error
	if v["web_on"] != "" {
		if sv.Web, err = webTrigger(v); err != nil {
			return nil, err
		}
	}
	switch sv.Rhythm {
	case survey.Persistent:
		if sv.Web == nil || v["event"] != "" {
			if sv.Trigger, err = eventTrigger(v); err != nil {
				return nil, err
			}
			if old != nil && old.Trigger != nil && old.Trigger.Where != nil {
				// Conditions the editor does not show stay as they were.
				where := map[string]any{}
				for k, x := range old.Trigger.Where {
					if k != "channel" {
						where[k] = x
					}
				}
				for k, x := range sv.Trigger.Where {
					where[k] = x
				}
				sv.Trigger.Where = where
			}
		}
	case survey.Periodic:
		rule, err := f.Schedule.rule()
		if err != nil {
			return nil, err
		}
		if sv.Schedule, err = schedule(map[string]string{"rrule": rule, "start": v["start"]}); err != nil {
			return nil, err
		}
	}
	if sv.Rhythm != survey.Persistent {
		if f.Segment != "" {
			sv.Segment = &profile.Query{}
			if err := json.Unmarshal([]byte(f.Segment), sv.Segment); err != nil {
				return nil, fault.Field("segment", "the segment kept from before cannot be read")
			}
			v["segment"] = ""
		}
		if err := audience(sv, v); err != nil {
			return nil, err
		}
	}
	if err := followUp(sv, v); err != nil {
		return nil, err
	}
	return sv, nil
}

// choices reads a choice question's lines: line i of every language is
// choice i; a line left empty in the default language drops the choice.
// A choice keeps its id: the id of the stored choice (of was, the
// question as stored, if any) with the same text in the default language,
// so that moving lines does not change what past answers chose; else the
// id its line had when the form was shown; a new line gets a new one.
func (f *editorForm) choices(q editorQuestion, was []survey.Choice, field string) ([]survey.Choice, string, error) {
	lines := map[string][]string{}
	n := 0
	for _, l := range f.Langs {
		ls := strings.Split(strings.ReplaceAll(strings.TrimRight(q.Choices[l], "\r\n \t"), "\r\n", "\n"), "\n")
		if strings.TrimSpace(q.Choices[l]) == "" {
			ls = nil
		}
		lines[l], n = ls, max(n, len(ls))
	}
	ids := strings.Split(q.ChoiceIDs, ",")
	used := map[string]bool{}
	for _, id := range ids {
		used[id] = id != ""
	}
	def := f.Langs[0]
	byText := map[string]string{}
	for _, c := range was {
		used[c.ID] = true // a dropped choice's id is not given to another
		if t := strings.TrimSpace(c.Text[def]); t != "" {
			byText[t] = c.ID
		}
	}
	// Lines whose text a stored choice has take its id first.
	claimed := map[int]string{}
	taken := map[string]bool{}
	for k := range n {
		if k < len(lines[def]) {
			if id, ok := byText[strings.TrimSpace(lines[def][k])]; ok && !taken[id] {
				claimed[k], taken[id] = id, true
			}
		}
	}
	var out []survey.Choice
	var kept []string
	for k := range n {
		text := vocab.Text{}
		for _, l := range f.Langs {
			if k < len(lines[l]) {
				if t := strings.TrimSpace(lines[l][k]); t != "" {
					text[l] = t
				}
			}
		}
		if text[def] == "" {
			if len(text) > 0 {
				return nil, "", fault.Field(fmt.Sprintf("%s.choices[%d].text", field, k), "choice %d has a translation but no text in %s, the default language", k+1, def)
			}
			continue
		}
		id := claimed[k]
		if id == "" && k < len(ids) && !taken[strings.TrimSpace(ids[k])] {
			id = strings.TrimSpace(ids[k])
			taken[id] = id != ""
		}
		if id == "" {
			for j := len(out) + 1; ; j++ {
				if c := fmt.Sprintf("c%d", j); !used[c] && !taken[c] {
					id, used[c], taken[c] = c, true, true
					break
				}
			}
		}
		out = append(out, survey.Choice{ID: id, Text: text})
		kept = append(kept, id)
	}
	return out, strings.Join(kept, ","), nil
}

// patch is the PATCH body that turns old into sv: the parts the editor
// owns. The schedule is sent only when it changed, so that saving other
// parts does not move a periodic survey's next wave; a segment the editor
// cannot show is sent back as it was.
func (f *editorForm) patch(old, sv *survey.Survey) json.RawMessage {
	m := map[string]any{"name": sv.Name, "owner": sv.Owner, "rhythm": sv.Rhythm, "languages": sv.Languages, "defaultLanguage": sv.DefaultLanguage,
		"intro": sv.Intro, "thanks": sv.Thanks, "questions": sv.Questions, "trigger": sv.Trigger, "web": sv.Web, "segment": sv.Segment,
		"sampleSize": sv.SampleSize, "reminders": sv.Reminders, "expires": sv.Expires}
	oldRule, oldStart := "", time.Time{}
	if old.Schedule != nil {
		oldRule, oldStart = old.Schedule.RRule, old.Schedule.Start
	}
	newRule, newStart := "", time.Time{}
	if sv.Schedule != nil {
		newRule, newStart = sv.Schedule.RRule, sv.Schedule.Start
	}
	if oldRule != newRule || !oldStart.Equal(newStart) {
		m["schedule"] = sv.Schedule
	}
	b, _ := json.Marshal(m)
	return b
}

// ownerNames are the teams' names and the other surveys' owners, sorted,
// offered for a survey's owner so that one team is not written two ways.
func (c *Console) ownerNames(ctx context.Context) []string {
	seen := map[string]bool{}
	var out []string
	add := func(n string) {
		if k := strings.ToLower(strings.TrimSpace(n)); k != "" && !seen[k] {
			seen[k] = true
			out = append(out, strings.TrimSpace(n))
		}
	}
	if teams, err := c.Cases.Teams(ctx); err == nil {
		for _, t := range teams {
			add(t.Name)
		}
	}
	if list, err := c.Surveys.List(ctx); err == nil {
		for _, sv := range list {
			add(sv.Owner)
		}
	}
	sort.Strings(out)
	return out
}
