package survey

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/teambition/rrule-go"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/vocab"
)

// Rhythms: how a survey reaches customers.
const (
	Persistent = "persistent" // after each matching touchpoint event
	Periodic   = "periodic"   // to a segment on a recurring schedule
	Pulse      = "pulse"      // once, to a sample or an uploaded list
)

// Statuses of a survey.
const (
	Draft  = "draft"
	Active = "active"
	Paused = "paused"
	Closed = "closed"
	// Archived: removed with DELETE; not listed, not editable, its
	// responses stay readable. Only DELETE sets it.
	Archived = "archived"
)

// Shut reports whether the survey takes no answers on its pages: closed,
// paused or archived.
func (s *Survey) Shut() bool { return s.Status == Closed || s.Status == Paused || s.Status == Archived }

// Question types.
const (
	TypeNPS    = "nps"    // 0–10 likelihood to recommend
	TypeCSAT   = "csat"   // 1–5 satisfaction
	TypeCES    = "ces"    // 1–7 customer effort
	TypeACSI   = "acsi"   // the three ACSI satisfaction items, each 1–10
	TypeScale  = "scale"  // any integer range with labelled ends
	TypeSingle = "single" // one choice
	TypeMulti  = "multi"  // several choices
	TypeText   = "text"   // open text
)

// Survey is a survey definition.
type Survey struct {
	ID              string         `json:"id"`
	Name            string         `json:"name"`
	Rhythm          string         `json:"rhythm"`
	Owner           string         `json:"owner"`
	Status          string         `json:"status"`
	DefaultLanguage string         `json:"defaultLanguage,omitempty"`
	Languages       []string       `json:"languages"`
	Intro           vocab.Text     `json:"intro,omitempty"`
	Thanks          vocab.Text     `json:"thanks,omitempty"`
	Questions       []Question     `json:"questions"`
	Trigger         *Trigger       `json:"trigger,omitempty"`
	Web             *WebTrigger    `json:"web,omitempty"`
	Schedule        *Schedule      `json:"schedule,omitempty"`
	Segment         *profile.Query `json:"segment,omitempty"`
	SampleSize      int            `json:"sampleSize,omitempty"`
	Policy          Policy         `json:"policy"`
	Reminders       Reminders      `json:"reminders"`
	Expires         vocab.Duration `json:"expires"`
	Delivery        string         `json:"delivery"`
	Quota           int            `json:"quota,omitempty"`
	Email           EmailText      `json:"email,omitempty"`
	CreatedAt       store.Millis   `json:"createdAt"`
	UpdatedAt       store.Millis   `json:"updatedAt"`
	ActivatedAt     *store.Millis  `json:"activatedAt,omitempty"`
	NextRun         *store.Millis  `json:"nextRun,omitempty"`
}

// Question is one question of a survey.
type Question struct {
	ID       string     `json:"id"`
	Type     string     `json:"type"`
	Text     vocab.Text `json:"text"`
	Min      *int       `json:"min,omitempty"`
	Max      *int       `json:"max,omitempty"`
	MinLabel vocab.Text `json:"minLabel,omitempty"`
	MaxLabel vocab.Text `json:"maxLabel,omitempty"`
	Choices  []Choice   `json:"choices,omitempty"`
	Items    []Item     `json:"items,omitempty"` // acsi: the three items
	Optional bool       `json:"optional,omitempty"`
}

// Choice is one option of a single or multi question.
type Choice struct {
	ID   string     `json:"id"`
	Text vocab.Text `json:"text"`
}

// Item is one of the three ACSI satisfaction items.
type Item struct {
	ID   string     `json:"id"`
	Text vocab.Text `json:"text"`
}

// Trigger says which touchpoint events invite a customer to a persistent survey.
type Trigger struct {
	Event  string         `json:"event"`
	Where  map[string]any `json:"where,omitempty"`
	Delay  vocab.Duration `json:"delay"`
	Sample *float64       `json:"sample,omitempty"`
}

// WebTrigger shows a persistent or pulse survey inside the pages of a
// website that loads the cxloop widget (/v1/web/cxloop.js): when the
// browser sees Event on a page whose address matches URL, after Delay,
// and, with ExitIntent, once the pointer leaves through the top of the
// window.
type WebTrigger struct {
	// Event is "page" (every page view) or the name of a track event
	// seen in the browser, e.g. "Checkout Started".
	Event string `json:"event"`
	// URL limits the pages: with a * it is a glob that must match the
	// whole address or its path (/checkout/*); without, a part of the
	// address (checkout). Empty is every page.
	URL string `json:"url,omitempty"`
	// Delay is how long after the event the survey waits ("10s", or 10).
	Delay vocab.Duration `json:"delay"`
	// ExitIntent waits, after the delay, for the pointer to leave the
	// window through its top (desktop browsers; never fires on touch screens).
	ExitIntent bool `json:"exitIntent,omitempty"`
}

// Schedule is a periodic survey's recurrence: an RFC 5545 RRULE from Start.
type Schedule struct {
	RRule string    `json:"rrule"`
	Start time.Time `json:"start"`
}

// Policy is a survey's own contact rule: at most Max invitations of this
// survey per customer in Days days, and whether it is exempt from the
// global and rhythm limits.
type Policy struct {
	Max    int  `json:"max,omitempty"`
	Days   int  `json:"days,omitempty"`
	Exempt bool `json:"exempt,omitempty"`
}

// Reminders re-send an unanswered emailed invitation up to Max times, After
// the previous contact.
type Reminders struct {
	Max   int            `json:"max"`
	After vocab.Duration `json:"after"`
}

// EmailText overrides the invitation email's subject and first line.
type EmailText struct {
	Subject vocab.Text `json:"subject,omitempty"`
	Body    vocab.Text `json:"body,omitempty"`
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// scaleOf is the answer range of a rating question.
func (q Question) scaleOf() (lo, hi int) {
	switch q.Type {
	case TypeNPS:
		return 0, 10
	case TypeCSAT:
		return 1, 5
	case TypeCES:
		return 1, 7
	case TypeACSI:
		return 1, 10
	}
	if q.Min != nil && q.Max != nil {
		return *q.Min, *q.Max
	}
	return 1, 5
}

// acsiItems are the three ACSI satisfaction items, in the index's order.
var acsiItems = []Item{
	{ID: "satisfaction", Text: vocab.Text{
		"en": "Overall, how satisfied are you with us?",
		"de": "Wie zufrieden sind Sie insgesamt mit uns?",
		"fr": "Dans l'ensemble, dans quelle mesure êtes-vous satisfait de nous ?",
		"es": "En general, ¿qué tan satisfecho está con nosotros?",
		"fa": "به طور کلی چقدر از ما راضی هستید؟",
	}},
	{ID: "expectations", Text: vocab.Text{
		"en": "How well did we meet your expectations?",
		"de": "Wie gut haben wir Ihre Erwartungen erfüllt?",
		"fr": "Dans quelle mesure avons-nous répondu à vos attentes ?",
		"es": "¿En qué medida cumplimos sus expectativas?",
		"fa": "تا چه اندازه انتظارات شما را برآورده کردیم؟",
	}},
	{ID: "ideal", Text: vocab.Text{
		"en": "How close are we to the ideal company of our kind?",
		"de": "Wie nah sind wir an einem idealen Unternehmen unserer Art?",
		"fr": "À quel point sommes-nous proches de l'entreprise idéale de notre type ?",
		"es": "¿Qué tan cerca estamos de la empresa ideal de nuestro tipo?",
		"fa": "چقدر به شرکت ایده‌آل در حوزه خودمان نزدیک هستیم؟",
	}},
}

// Normalize fills defaults: status, languages, delivery, expiry, ACSI items.
func (s *Survey) Normalize() {
	s.Name = strings.TrimSpace(s.Name)
	s.Owner = strings.TrimSpace(s.Owner)
	if s.Status == "" {
		s.Status = Active
	}
	if s.Delivery == "" {
		s.Delivery = "auto"
	}
	if s.Expires == 0 {
		s.Expires = vocab.Duration(30 * 24 * time.Hour)
	}
	for i := range s.Questions {
		q := &s.Questions[i]
		if q.Type == TypeACSI && len(q.Items) == 0 {
			q.Items = acsiItems
		}
	}
	langs := map[string]bool{}
	add := func(t vocab.Text) {
		for l := range t {
			langs[l] = true
		}
	}
	for _, q := range s.Questions {
		add(q.Text)
	}
	if len(s.Languages) == 0 {
		s.Languages = slices.Sorted(func(yield func(string) bool) {
			for l := range langs {
				if !yield(l) {
					return
				}
			}
		})
	}
	if s.DefaultLanguage == "" && len(s.Languages) > 0 {
		s.DefaultLanguage = s.Languages[0]
		if slices.Contains(s.Languages, "en") {
			s.DefaultLanguage = "en"
		}
	}
	if s.Web != nil {
		s.Web.Event = strings.TrimSpace(s.Web.Event)
		s.Web.URL = strings.TrimSpace(s.Web.URL)
		if s.Web.Event == "" {
			s.Web.Event = "page"
		}
	}
	if s.Trigger != nil && s.Trigger.Sample == nil {
		one := 1.0
		s.Trigger.Sample = &one
	}
}

// Validate reports the first problem with the definition, naming its field.
func (s *Survey) Validate() error {
	if s.Name == "" {
		return fault.Field("name", "a survey needs a name")
	}
	if s.Owner == "" {
		return fault.Field("owner", "a survey needs an owner team (for example service, marketing, product)")
	}
	switch s.Rhythm {
	case Persistent, Periodic, Pulse:
	default:
		return fault.Field("rhythm", "rhythm must be persistent, periodic or pulse")
	}
	switch s.Status {
	case Draft, Active, Paused, Closed:
	default:
		return fault.Field("status", "status must be draft, active, paused or closed")
	}
	switch s.Delivery {
	case "auto", "email", "link":
	default:
		return fault.Field("delivery", "delivery must be auto, email or link")
	}
	if len(s.Questions) == 0 {
		return fault.Field("questions", "a survey needs at least one question")
	}
	if len(s.Questions) > 50 {
		return fault.Field("questions", "a survey has at most 50 questions")
	}
	seen := map[string]bool{}
	for i, q := range s.Questions {
		if err := q.validate(fmt.Sprintf("questions[%d]", i), seen); err != nil {
			return err
		}
	}
	for _, l := range s.Languages {
		if !validLanguage(l) {
			return fault.Field("languages", "%q is not a language tag", l)
		}
	}
	if s.DefaultLanguage != "" && !slices.Contains(s.Languages, s.DefaultLanguage) {
		return fault.Field("defaultLanguage", "the default language must be one of the survey's languages")
	}
	if err := s.validateWhen(); err != nil {
		return err
	}
	if err := s.Web.validate(s.Rhythm); err != nil {
		return err
	}
	if s.SampleSize < 0 {
		return fault.Field("sampleSize", "sampleSize cannot be negative")
	}
	if s.Segment != nil {
		if err := s.Segment.Validate(); err != nil {
			return err
		}
	}
	if s.Policy.Max < 0 || s.Policy.Days < 0 || (s.Policy.Max > 0) != (s.Policy.Days > 0) {
		return fault.Field("policy", "a survey's contact rule needs both max and days (or neither)")
	}
	if s.Reminders.Max < 0 || s.Reminders.Max > 5 {
		return fault.Field("reminders.max", "at most 5 reminders")
	}
	if s.Reminders.Max > 0 && s.Reminders.After < vocab.Duration(time.Hour) {
		return fault.Field("reminders.after", "reminders need a wait of at least 1h")
	}
	if s.Expires < vocab.Duration(time.Hour) {
		return fault.Field("expires", "links expire no sooner than 1h after sending")
	}
	if s.Quota < 0 {
		return fault.Field("quota", "quota cannot be negative")
	}
	return nil
}

// validate reports the first problem with a question at field f; seen
// holds the ids of the questions before it.
func (q Question) validate(f string, seen map[string]bool) error {
	if !idPattern.MatchString(q.ID) {
		return fault.Field(f+".id", "a question id is 1–64 letters, digits, _ or -")
	}
	if seen[q.ID] {
		return fault.Field(f+".id", "question id %q is used twice", q.ID)
	}
	seen[q.ID] = true
	if len(q.Text) == 0 {
		return fault.Field(f+".text", "a question needs its text in at least one language, e.g. {\"en\": \"…\"}")
	}
	for l, t := range q.Text {
		if !validLanguage(l) {
			return fault.Field(f+".text", "%q is not a language tag", l)
		}
		if strings.TrimSpace(t) == "" {
			return fault.Field(f+".text."+l, "the text is empty")
		}
	}
	switch q.Type {
	case TypeNPS, TypeCSAT, TypeCES, TypeText:
	case TypeACSI:
		if len(q.Items) != 3 {
			return fault.Field(f+".items", "an acsi question has exactly three items")
		}
	case TypeScale:
		if q.Min == nil || q.Max == nil || *q.Min >= *q.Max || *q.Max-*q.Min > 100 {
			return fault.Field(f+".min", "a scale question needs integer min < max, at most 100 apart")
		}
	case TypeSingle, TypeMulti:
		if len(q.Choices) < 2 {
			return fault.Field(f+".choices", "a choice question needs at least two choices")
		}
		ids := map[string]bool{}
		for j, c := range q.Choices {
			if !idPattern.MatchString(c.ID) || ids[c.ID] {
				return fault.Field(fmt.Sprintf("%s.choices[%d].id", f, j), "choice ids are unique, 1–64 letters, digits, _ or -")
			}
			ids[c.ID] = true
			if len(c.Text) == 0 {
				return fault.Field(fmt.Sprintf("%s.choices[%d].text", f, j), "a choice needs its text")
			}
		}
	default:
		return fault.Field(f+".type", "type must be nps, csat, ces, acsi, scale, single, multi or text")
	}
	return nil
}

// validateWhen checks what starts the survey: a persistent survey's
// trigger, a periodic one's schedule.
func (s *Survey) validateWhen() error {
	switch s.Rhythm {
	case Persistent:
		if s.Trigger == nil && s.Web != nil {
			break // shown in web pages only
		}
		if s.Trigger == nil || strings.TrimSpace(s.Trigger.Event) == "" {
			return fault.Field("trigger.event", "a persistent survey needs a trigger event, e.g. \"Order Completed\", or a web trigger")
		}
		if s.Trigger.Delay < 0 {
			return fault.Field("trigger.delay", "the delay cannot be negative")
		}
		if p := *s.Trigger.Sample; p < 0 || p > 1 || math.IsNaN(p) {
			return fault.Field("trigger.sample", "sample is a rate between 0 and 1")
		}
		for k := range s.Trigger.Where {
			if _, err := wherePath(k); err != nil {
				return fault.Field("trigger.where."+k, "%s", err.Error())
			}
		}
	case Periodic:
		if s.Schedule == nil || s.Schedule.RRule == "" {
			return fault.Field("schedule.rrule", "a periodic survey needs a schedule, e.g. {\"rrule\": \"FREQ=MONTHLY;INTERVAL=3\"}")
		}
		if _, err := s.Schedule.rule(); err != nil {
			return fault.Field("schedule.rrule", "%s", err.Error())
		}
	}
	return nil
}

// validate checks a web trigger; a nil trigger is valid (no web intercept).
func (w *WebTrigger) validate(rhythm string) error {
	if w == nil {
		return nil
	}
	if rhythm != Persistent && rhythm != Pulse {
		return fault.Field("web", "a web trigger is for persistent or pulse surveys; a periodic survey goes to a segment on its schedule")
	}
	if utf8.RuneCountInString(w.Event) > 200 || strings.IndexFunc(w.Event, unicode.IsControl) >= 0 {
		return fault.Field("web.event", "the event is \"page\" or a track event name of at most 200 characters")
	}
	if len(w.URL) > 1000 || strings.IndexFunc(w.URL, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fault.Field("web.url", "the URL pattern is at most 1000 characters without spaces, e.g. /checkout/* or checkout")
	}
	if w.Delay < 0 || w.Delay > vocab.Duration(time.Hour) {
		return fault.Field("web.delay", "the delay is between 0 and 1h (a number of seconds or a duration such as \"10s\")")
	}
	return nil
}

var languagePattern = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

func validLanguage(l string) bool { return languagePattern.MatchString(l) }

// rule is the schedule as an RRULE anchored at Start.
func (s *Schedule) rule() (*rrule.RRule, error) {
	opt, err := rrule.StrToROption(strings.TrimPrefix(strings.TrimSpace(s.RRule), "RRULE:"))
	if err != nil {
		return nil, fmt.Errorf("not an RFC 5545 RRULE: %v", err)
	}
	start := s.Start
	if start.IsZero() {
		start = time.Date(2000, 1, 1, 9, 0, 0, 0, time.UTC)
	}
	opt.Dtstart = start
	return rrule.NewRRule(*opt)
}

// Next is the schedule's first occurrence strictly after t (zero when none is left).
func (s *Schedule) Next(t time.Time) time.Time {
	r, err := s.rule()
	if err != nil {
		return time.Time{}
	}
	return r.After(t, false)
}

// Question returns the question with id.
func (s *Survey) Question(id string) (Question, bool) {
	for _, q := range s.Questions {
		if q.ID == id {
			return q, true
		}
	}
	return Question{}, false
}

// Language picks the survey language for a customer's locale: the exact
// tag, then its base language, then the survey's default.
func (s *Survey) Language(locale string) string {
	locale = strings.ReplaceAll(strings.TrimSpace(locale), "_", "-")
	for _, l := range s.Languages {
		if strings.EqualFold(l, locale) {
			return l
		}
	}
	base, _, _ := strings.Cut(strings.ToLower(locale), "-")
	for _, l := range s.Languages {
		if b, _, _ := strings.Cut(strings.ToLower(l), "-"); b == base {
			return l
		}
	}
	return s.DefaultLanguage
}

// rtl reports whether a language is written right to left.
func rtl(lang string) bool {
	base, _, _ := strings.Cut(strings.ToLower(lang), "-")
	switch base {
	case "ar", "fa", "he", "ur", "ps", "yi", "dv", "ku", "sd", "ug":
		return true
	}
	return false
}
