package survey

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/vocab"
)

// The web intercept: persistent and pulse surveys with a web trigger are
// shown inside a website's pages by the cxloop widget (/v1/web/cxloop.js).
// The widget asks which surveys the visitor may see now (the contact policy
// decides, as for every invitation), arms their triggers in the page, and
// when one fires asks to show it: that records a sent invitation with
// delivery "web". The visitor answers in place (the same path as the survey
// page) or dismisses it (a contact that was not answered).

// Visitor is who looks at a page: the identities the widget knows.
type Visitor struct {
	UserID      string `json:"userId,omitempty"`
	AnonymousID string `json:"anonymousId,omitempty"`
}

func (v *Visitor) check() error {
	v.UserID, v.AnonymousID = strings.TrimSpace(v.UserID), strings.TrimSpace(v.AnonymousID)
	if v.UserID == "" && v.AnonymousID == "" {
		return fault.Field("anonymousId", "a visitor needs a userId or an anonymousId")
	}
	if len(v.UserID) > 256 {
		return fault.Field("userId", "userId is longer than 256 characters")
	}
	if len(v.AnonymousID) > 256 {
		return fault.Field("anonymousId", "anonymousId is longer than 256 characters")
	}
	return nil
}

// WebSurvey is a survey as the widget shows it, in one language.
type WebSurvey struct {
	ID        string        `json:"id"`
	Trigger   WebArm        `json:"trigger"`
	Language  string        `json:"language"`
	Dir       string        `json:"dir"`
	Intro     string        `json:"intro,omitempty"`
	Questions []WebQuestion `json:"questions"`
	Words     WebWords      `json:"words"`
}

// WebArm is a web trigger as the widget arms it.
type WebArm struct {
	Event      string `json:"event"`
	URL        string `json:"url,omitempty"`
	DelayMs    int64  `json:"delayMs"`
	ExitIntent bool   `json:"exitIntent,omitempty"`
}

// WebQuestion is one question in the widget's language.
type WebQuestion struct {
	ID       string      `json:"id"`
	Type     string      `json:"type"`
	Text     string      `json:"text"`
	Min      int         `json:"min"`
	Max      int         `json:"max"`
	Low      string      `json:"low,omitempty"`
	High     string      `json:"high,omitempty"`
	Optional bool        `json:"optional,omitempty"`
	Choices  []WebChoice `json:"choices,omitempty"` // single, multi
	Items    []WebChoice `json:"items,omitempty"`   // acsi
}

// WebChoice is a choice or an ACSI item.
type WebChoice struct {
	ID   string `json:"id"`
	Text string `json:"text"`
}

// WebWords are the widget's fixed texts.
type WebWords struct {
	Submit   string `json:"submit"`
	Close    string `json:"close"`
	Thanks   string `json:"thanks"`
	Optional string `json:"optional"`
}

// webLanguage picks the survey language for the browser's languages, in
// their order of preference: an exact tag, then a base language, then the
// survey's default.
func webLanguage(sv *Survey, langs []string) string {
	for _, l := range langs {
		l = strings.ReplaceAll(strings.TrimSpace(l), "_", "-")
		if l == "" {
			continue
		}
		if got := sv.Language(l); got != sv.DefaultLanguage || strings.EqualFold(baseOf(got), baseOf(l)) {
			return got
		}
	}
	return sv.DefaultLanguage
}

func baseOf(tag string) string {
	b, _, _ := strings.Cut(strings.ToLower(tag), "-")
	return b
}

// webView is the survey in the language the browser prefers.
func webView(sv *Survey, langs []string) WebSurvey {
	lang := webLanguage(sv, langs)
	wd := words(lang)
	in := func(t vocab.Text) string { return t.In(lang, sv.DefaultLanguage) }
	out := WebSurvey{ID: sv.ID, Language: lang, Dir: "ltr", Intro: in(sv.Intro),
		Trigger: WebArm{Event: sv.Web.Event, URL: sv.Web.URL, DelayMs: time.Duration(sv.Web.Delay).Milliseconds(), ExitIntent: sv.Web.ExitIntent},
		Words:   WebWords{Submit: wd.Submit, Close: wd.Close, Thanks: wd.Thanks, Optional: wd.Optional}}
	if rtl(lang) {
		out.Dir = "rtl"
	}
	if t := in(sv.Thanks); t != "" {
		out.Words.Thanks = t
	}
	for _, q := range sv.Questions {
		wq := WebQuestion{ID: q.ID, Type: q.Type, Text: in(q.Text), Optional: q.Optional || q.Type == TypeText}
		switch q.Type {
		case TypeNPS, TypeCSAT, TypeCES, TypeScale, TypeACSI:
			wq.Min, wq.Max = q.scaleOf()
			wq.Low, wq.High = in(q.MinLabel), in(q.MaxLabel)
			if wq.Low == "" {
				wq.Low, wq.High = wd.Low, wd.High
				if q.Type == TypeNPS {
					wq.Low, wq.High = wd.NotLikely, wd.VeryLikely
				}
			}
		}
		for _, c := range q.Choices {
			wq.Choices = append(wq.Choices, WebChoice{ID: c.ID, Text: in(c.Text)})
		}
		for _, it := range q.Items {
			wq.Items = append(wq.Items, WebChoice{ID: it.ID, Text: in(it.Text)})
		}
		out.Questions = append(out.Questions, wq)
	}
	return out
}

// visitorCustomer is the profile a visitor's identities belong to now, or
// "" when no profile knows them yet.
func (s *Service) visitorCustomer(ctx context.Context, v Visitor) (string, error) {
	e := eventlog.Event{UserID: v.UserID, AnonymousID: v.AnonymousID}
	owners, err := s.profiles.Owners(ctx, []eventlog.Event{e})
	if err != nil {
		return "", err
	}
	c := profile.OwnerOf(owners, e)
	if c == "" {
		return "", nil
	}
	contacts, err := s.profiles.Contacts(ctx, []string{c})
	if err != nil {
		return "", err
	}
	if ct, ok := contacts[c]; ok && ct.ID != "" {
		return ct.ID, nil
	}
	return c, nil
}

// WebSurveys lists the active surveys with a web trigger that the contact
// policy lets the visitor see now, each in the first of the browser's
// languages it speaks.
func (s *Service) WebSurveys(ctx context.Context, v Visitor, langs []string) ([]WebSurvey, error) {
	if err := v.check(); err != nil {
		return nil, err
	}
	out := []WebSurvey{}
	list, err := listSurveys(ctx, s.db, `WHERE web_trigger <> '' AND status = 'active'`)
	if err != nil || len(list) == 0 {
		return out, err
	}
	customer, err := s.visitorCustomer(ctx, v)
	if err != nil {
		return nil, err
	}
	policy, err := s.Policy(ctx)
	if err != nil {
		return nil, err
	}
	now := s.now().UnixMilli()
	for _, sv := range list {
		reason, err := s.webRefusal(ctx, s.db, sv, customer, v, policy, now)
		if err != nil {
			return nil, err
		}
		if reason == "" {
			out = append(out, webView(sv, langs))
		}
	}
	return out, nil
}

// webRefusal is why a visitor may not see a web survey now ("" when they may).
func (s *Service) webRefusal(ctx context.Context, q eventlog.Querier, sv *Survey, customer string, v Visitor, policy ContactPolicy, now int64) (string, error) {
	if sv.Status != Active || sv.Web == nil {
		return ReasonInactive, nil
	}
	if customer != "" {
		out, err := optedOut(ctx, q, []string{customer})
		if err != nil {
			return "", err
		}
		if out[customer] {
			return ReasonOptedOut, nil
		}
	}
	if sv.Quota > 0 {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM survey_responses WHERE survey_id = $1`, sv.ID).Scan(&n); err != nil {
			return "", err
		}
		if n >= sv.Quota {
			return ReasonQuotaFull, nil
		}
	}
	history, err := visitorHistory(ctx, q, customer, v, now-policy.longest([]*Survey{sv}).Milliseconds())
	if err != nil {
		return "", err
	}
	if policy.allows(sv, history, now) != "" {
		return ReasonRecontactWait, nil
	}
	return "", nil
}

// visitorHistory is the invitations that reached a visitor since: through
// their profile, or through their identities when no profile knows them.
func visitorHistory(ctx context.Context, q eventlog.Querier, customer string, v Visitor, since int64) ([]contact, error) {
	var or []string
	var args []any
	for _, c := range []struct{ col, val string }{{"customer_id", customer}, {"user_id", v.UserID}, {"anonymous_id", v.AnonymousID}} {
		if c.val != "" {
			args = append(args, c.val)
			or = append(or, c.col+` = $`+strconv.Itoa(len(args)))
		}
	}
	args = append(args, since)
	rows, err := q.QueryContext(ctx, `SELECT survey_id, rhythm, sent_at FROM survey_invitations WHERE (`+strings.Join(or, " OR ")+`)
		AND sent_at > $`+strconv.Itoa(len(args))+` AND status IN `+contactedStatuses, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []contact
	for rows.Next() {
		var c contact
		if err := rows.Scan(&c.survey, &c.rhythm, &c.at); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Shown is the answer to a request to show a web survey: its token when
// it may be shown, else the reason it may not.
type Shown struct {
	Shown      bool   `json:"shown"`
	Invitation string `json:"invitation,omitempty"`
	Token      string `json:"token,omitempty"`
	Reason     string `json:"reason,omitempty"`
}

// ShowWeb decides whether the visitor may see a web survey now and, if so,
// records a sent invitation (delivery web) and a Survey Invited event.
// page is the address the survey is shown on.
func (s *Service) ShowWeb(ctx context.Context, surveyID string, v Visitor, page string) (Shown, error) {
	if err := v.check(); err != nil {
		return Shown{}, err
	}
	if len(page) > 2000 {
		page = page[:2000]
	}
	sv, err := s.Get(ctx, surveyID)
	if fault.Code(err) == fault.NotFound || (err == nil && sv.Web == nil) {
		return Shown{}, &fault.Error{Code: fault.NotFound, Field: "surveyId", Message: "no survey " + strconv.Quote(surveyID) + " with a web trigger"}
	}
	if err != nil {
		return Shown{}, err
	}
	customer, err := s.visitorCustomer(ctx, v)
	if err != nil {
		return Shown{}, err
	}
	policy, err := s.Policy(ctx)
	if err != nil {
		return Shown{}, err
	}
	now := s.now()
	nowMs := now.UnixMilli()
	id := store.NewID("inv")
	var reason string
	s.dispMu.Lock()
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.db.Lock(ctx, tx, dispatchLock); err != nil {
			return err
		}
		if reason, err = s.webRefusal(ctx, tx, sv, customer, v, policy, nowMs); err != nil || reason != "" {
			return err
		}
		expires := nowMs + time.Duration(sv.Expires).Milliseconds()
		if _, err := tx.ExecContext(ctx, `INSERT INTO survey_invitations (id, survey_id, rhythm, customer_id, user_id, anonymous_id,
			trigger_event, channel, delivery, status, due_at, sent_at, expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, 'web', 'web', 'sent', $8, $8, $9, $8)`,
			id, sv.ID, sv.Rhythm, customer, v.UserID, v.AnonymousID, sv.Web.Event, nowMs, expires); err != nil {
			return err
		}
		props := map[string]any{"survey_id": sv.ID, "survey_name": sv.Name, "invitation_id": id, "rhythm": sv.Rhythm, "owner": sv.Owner,
			"delivery": "web", "trigger_event": sv.Web.Event, "touchpoint_channel": "web"}
		if page != "" {
			props["url"] = page
		}
		ev, err := eventlog.Action("Survey Invited", derivedID("msg", id, "Survey Invited"), v.UserID, v.AnonymousID, "web", now, props)
		if err != nil {
			return err
		}
		return s.log.AppendTx(ctx, tx, []eventlog.Event{ev})
	})
	s.dispMu.Unlock()
	if err != nil {
		return Shown{}, err
	}
	if reason != "" {
		return Shown{Reason: reason}, nil
	}
	s.log.Notify()
	token, err := s.token(ctx, id)
	if err != nil {
		return Shown{}, err
	}
	return Shown{Shown: true, Invitation: id, Token: token}, nil
}

var errWebToken = &fault.Error{Code: fault.NotFound, Field: "token", Message: "this token is not a survey shown in a web page"}

// webInvitation reads the web invitation a token signs.
func (s *Service) webInvitation(ctx context.Context, token string) (*Invitation, *Survey, error) {
	id, err := s.invitationOf(ctx, strings.TrimSpace(token))
	if err == errForged {
		return nil, nil, errWebToken
	}
	if err != nil {
		return nil, nil, err
	}
	inv, err := s.byID(ctx, id)
	if fault.Code(err) == fault.NotFound || (err == nil && inv.Delivery != "web") {
		return nil, nil, errWebToken
	}
	if err != nil {
		return nil, nil, err
	}
	sv, err := s.version(ctx, inv.Survey, inv.surveyVersion)
	return inv, sv, err
}

// AnswerWeb records the answers a visitor gave in the page, through the
// same path as the survey page: the Survey Responded event that scores,
// rules and cases read. It returns the thank-you text.
func (s *Service) AnswerWeb(ctx context.Context, token string, raw map[string]any, lang string) (string, error) {
	inv, sv, err := s.webInvitation(ctx, token)
	if err != nil {
		return "", err
	}
	switch {
	case inv.Status == Answered:
		return "", &fault.Error{Code: fault.Conflict, Field: "token", Message: "this survey was already answered"}
	case inv.Status == Dismissed:
		return "", &fault.Error{Code: fault.Conflict, Field: "token", Message: "this survey was dismissed"}
	case inv.Status == Expired || (inv.ExpiresAt != nil && int64(*inv.ExpiresAt) < s.now().UnixMilli()):
		return "", &fault.Error{Code: fault.Conflict, Field: "token", Message: "this survey has expired"}
	case sv.Shut():
		return "", &fault.Error{Code: fault.Conflict, Field: "token", Message: "this survey is closed"}
	}
	if lang != "" && !slices.Contains(sv.Languages, lang) {
		lang = sv.Language(lang)
	}
	if lang == "" {
		lang = sv.DefaultLanguage
	}
	if len(raw) == 0 {
		return "", fault.Field("answers", "answers is required: an object of question id → answer")
	}
	answers, errs := sv.check(raw, words(lang).Required)
	if len(errs) > 0 {
		for _, q := range sv.Questions {
			if m, ok := errs[q.ID]; ok {
				return "", fault.Field("answers."+q.ID, "%s", m)
			}
		}
		ids := make([]string, 0, len(errs))
		for id := range errs {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		return "", fault.Field("answers."+ids[0], "%s", errs[ids[0]])
	}
	if len(answers) == 0 {
		return "", fault.Field("answers", "no question was answered")
	}
	if err := s.answerInvitation(ctx, inv, sv, answers, lang); err != nil {
		if err == errAnswered {
			return "", &fault.Error{Code: fault.Conflict, Field: "token", Message: "this survey was already answered"}
		}
		return "", err
	}
	if t := sv.Thanks.In(lang, sv.DefaultLanguage); t != "" {
		return t, nil
	}
	return words(lang).Thanks, nil
}

// DismissWeb records that the visitor closed a web survey without
// answering: the invitation stays a contact (the contact policy counts it)
// and counts as not answered in the response rate.
func (s *Service) DismissWeb(ctx context.Context, token string) error {
	inv, sv, err := s.webInvitation(ctx, token)
	if err != nil {
		return err
	}
	now := s.now()
	done := false
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET status = 'dismissed', dismissed_at = $1, next_reminder_at = NULL
			WHERE id = $2 AND status IN ('sent', 'started')`, now.UnixMilli(), inv.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 || (inv.UserID == "" && inv.AnonymousID == "") {
			return nil
		}
		done = true
		ev, err := eventlog.Own("Survey Dismissed", derivedID("msg", inv.ID, "Survey Dismissed"), inv.UserID, inv.AnonymousID, "web", now,
			map[string]any{"survey_id": sv.ID, "survey_name": sv.Name, "invitation_id": inv.ID, "rhythm": sv.Rhythm, "owner": sv.Owner})
		if err != nil {
			return err
		}
		return s.log.AppendTx(ctx, tx, []eventlog.Event{ev})
	})
	if done {
		s.log.Notify()
	}
	return err
}
