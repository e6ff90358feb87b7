package survey

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

//go:embed templates/page.html templates/page.css
var pageFS embed.FS

// pageCSS is the survey pages' stylesheet, served once and cached by browsers.
var pageCSS, _ = pageFS.ReadFile("templates/page.css")

var pageTmpl = template.Must(template.ParseFS(pageFS, "templates/page.html"))

// Pages serves the public survey pages at /s/{token}: plain HTML forms
// that work without JavaScript, in the customer's language.
type Pages struct {
	svc   *Service
	mu    sync.Mutex
	blank map[string][][]byte // first-view pages by survey, version and language, split where the token goes
}

// NewPages returns the public survey page handlers.
func NewPages(svc *Service) *Pages { return &Pages{svc: svc, blank: map[string][][]byte{}} }

// Register declares the survey page routes on mux.
func (p *Pages) Register(mux *http.ServeMux) {
	guard := http.NewCrossOriginProtection()
	mux.HandleFunc("GET /s/page.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=86400")
		_, _ = w.Write(pageCSS)
	})
	mux.HandleFunc("GET /s/{token}", p.show)
	mux.Handle("POST /s/{token}", guard.Handler(http.HandlerFunc(p.answer)))
	mux.Handle("POST /s/{token}/opt-out", guard.Handler(http.HandlerFunc(p.optOut)))
	mux.Handle("POST /s/{token}/score", guard.Handler(http.HandlerFunc(p.score)))
}

type pageView struct {
	Lang, Dir, Title, Intro, Action, Message string
	OptOut, Notice                           string
	W                                        Words
	Questions                                []questionView
	Errors                                   bool
	// Preview shows the page to the business: its form cannot be sent.
	Preview bool
}

type questionView struct {
	ID, Text, Error, Low, High, Value string
	Optional, IsText                  bool
	Scale                             []option
	Items                             []itemView
	Choices                           []option
}

type itemView struct {
	Name, Text string
	Scale      []option
}

type option struct {
	Name, Value, Text, Kind string
	Checked                 bool
}

// open checks a token and returns its invitation and survey, or the page
// status and message to show instead. With view set, only the part of the
// invitation a page shows is read.
func (p *Pages) open(ctx context.Context, token string, view bool) (*Invitation, *Survey, int, string, error) {
	id, err := p.svc.invitationOf(ctx, token)
	if errors.Is(err, errForged) {
		return nil, nil, http.StatusNotFound, "invalid", nil
	}
	if err != nil {
		return nil, nil, 0, "", err
	}
	read := p.svc.byID
	if view {
		read = p.svc.forView
	}
	inv, err := read(ctx, id)
	if fault.Code(err) == fault.NotFound {
		return nil, nil, http.StatusNotFound, "invalid", nil
	}
	if err != nil {
		return nil, nil, 0, "", err
	}
	sv, err := p.svc.version(ctx, inv.Survey, inv.surveyVersion)
	if err != nil {
		return nil, nil, 0, "", err
	}
	switch {
	case inv.Status == Answered:
		return inv, sv, http.StatusOK, "answered", nil
	case inv.Status == Scheduled || inv.Status == Skipped:
		return inv, sv, http.StatusNotFound, "invalid", nil
	case inv.Status == Expired || (inv.ExpiresAt != nil && int64(*inv.ExpiresAt) < p.svc.now().UnixMilli()):
		return inv, sv, http.StatusGone, "expired", nil
	case sv.Shut():
		return inv, sv, http.StatusGone, "closed", nil
	}
	return inv, sv, 0, "", nil
}

// language is the page language: a choice from the form or query among the
// survey's languages, else the customer's locale.
func language(r *http.Request, sv *Survey, inv *Invitation) string {
	if sv == nil {
		return "en"
	}
	if l := r.FormValue("lang"); l != "" {
		for _, x := range sv.Languages {
			if x == l {
				return l
			}
		}
	}
	if inv != nil {
		return sv.Language(inv.locale)
	}
	return sv.DefaultLanguage
}

func (p *Pages) render(w http.ResponseWriter, status int, v pageView) {
	p.headers(w)
	w.WriteHeader(status)
	if err := pageTmpl.Execute(w, p.dress(v)); err != nil {
		p.svc.logger.Error("survey page", "err", err)
	}
}

// dress sets the page's writing direction.
func (p *Pages) dress(v pageView) pageView {
	v.Dir = "ltr"
	if rtl(v.Lang) {
		v.Dir = "rtl"
	}
	return v
}

func (p *Pages) headers(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; form-action 'self'; frame-ancestors 'none'")
}

// message renders a notice page (invalid, expired, answered …).
func (p *Pages) message(w http.ResponseWriter, status int, lang, kind string) {
	wd := words(lang)
	text := map[string]string{"invalid": wd.Invalid, "expired": wd.Expired, "answered": wd.Answered, "closed": wd.Closed,
		"thanks": wd.Thanks, "optedout": wd.OptedOut}[kind]
	p.render(w, status, pageView{Lang: lang, Title: text, Message: text, W: wd})
}

func (p *Pages) show(w http.ResponseWriter, r *http.Request) {
	if id, ok := p.svc.openSurvey(r.Context(), r.PathValue("token")); ok {
		p.showOpen(w, r, id, r.PathValue("token"))
		return
	}
	inv, sv, status, kind, err := p.open(r.Context(), r.PathValue("token"), true)
	if err != nil {
		p.svc.logger.Error("survey page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	lang := language(r, sv, inv)
	token := r.PathValue("token")
	if kind == "answered" && p.stillOpen(inv, sv) {
		// Answered from the email: the page shows the answers to change
		// or complete.
		answers, _, ok, err := p.svc.amendable(r.Context(), inv.ID)
		if err != nil {
			p.svc.logger.Error("survey page", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		if ok {
			if p.confirm(w, r, sv, lang, token) {
				return
			}
			v := p.view(sv, lang, token, answers, nil)
			v.Notice = v.W.Thanks
			p.render(w, http.StatusOK, v)
			return
		}
	}
	if kind != "" {
		p.message(w, status, lang, kind)
		return
	}
	if p.confirm(w, r, sv, lang, token) {
		return
	}
	if inv.partial != "{}" && inv.partial != "" {
		p.render(w, http.StatusOK, p.view(sv, lang, token, decodeAnswers(inv.partial), nil))
		return
	}
	// A first view is the same page for every invitation of the survey but
	// for the token in its forms: render it once per survey version and language.
	key := fmt.Sprintf("%s\x00%d\x00%s", sv.ID, int64(sv.UpdatedAt), lang)
	p.mu.Lock()
	parts, ok := p.blank[key]
	p.mu.Unlock()
	if !ok {
		var buf bytes.Buffer
		if err := pageTmpl.Execute(&buf, p.dress(p.view(sv, lang, tokenSlot, nil, nil))); err != nil {
			p.svc.logger.Error("survey page", "err", err)
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		parts = bytes.Split(buf.Bytes(), []byte(tokenSlot))
		p.mu.Lock()
		if p.blank == nil || len(p.blank) > 1000 {
			p.blank = map[string][][]byte{}
		}
		p.blank[key] = parts
		p.mu.Unlock()
	}
	p.headers(w)
	w.WriteHeader(http.StatusOK)
	for i, part := range parts {
		if i > 0 {
			_, _ = io.WriteString(w, token)
		}
		_, _ = w.Write(part)
	}
}

// confirm answers a one-click score link of an invitation email
// (/s/{token}?score=N): the first question with that score chosen, and a
// button that records it. A GET records nothing, so that mail scanners
// following the links answer no survey. It reports whether it answered.
func (p *Pages) confirm(w http.ResponseWriter, r *http.Request, sv *Survey, lang, token string) bool {
	raw := r.URL.Query().Get("score")
	q, ok := sv.scoreQuestion()
	if raw == "" || !ok {
		return false
	}
	a, err := q.answer(raw)
	if err != nil {
		return false // a link altered by hand: the whole survey instead
	}
	v := p.view(sv, lang, token, map[string]any{q.ID: a}, nil)
	v.Questions = v.Questions[:1]
	v.Action = "/s/" + token + "/score"
	p.render(w, http.StatusOK, v)
	return true
}

// stillOpen reports whether an answered invitation's link still works.
func (p *Pages) stillOpen(inv *Invitation, sv *Survey) bool {
	return !sv.Shut() && (inv.ExpiresAt == nil || int64(*inv.ExpiresAt) >= p.svc.now().UnixMilli())
}

// openPost opens the invitation a form was posted to and reads the form.
// An invitation answered from its email stays open to complete or change
// that answer (amend). It answers the visitor itself (an error, a closed or
// expired invitation …) and reports false when the post goes no further.
func (p *Pages) openPost(w http.ResponseWriter, r *http.Request, token string) (inv *Invitation, sv *Survey, lang string, amend, ok bool) {
	ctx := r.Context()
	inv, sv, status, kind, err := p.open(ctx, token, false)
	if err != nil {
		p.svc.logger.Error("survey page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return nil, nil, "", false, false
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form is too large", http.StatusRequestEntityTooLarge)
		return nil, nil, "", false, false
	}
	lang = language(r, sv, inv)
	if kind == "answered" && p.stillOpen(inv, sv) {
		if _, _, ok, err := p.svc.amendable(ctx, inv.ID); err == nil && ok {
			kind, amend = "", true
		}
	}
	if kind != "" {
		p.message(w, status, lang, kind)
		return nil, nil, "", false, false
	}
	return inv, sv, lang, amend, true
}

// score answers POST /s/{token}/score: the one click that records the score
// a link of the invitation email chose, as the answer to the first
// question. The page then asks the other questions with the score filled
// in. Clicking again changes the score; it does not add an answer.
func (p *Pages) score(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := r.PathValue("token")
	inv, sv, lang, _, ok := p.openPost(w, r, token)
	if !ok {
		return
	}
	q, ok := sv.scoreQuestion()
	if !ok {
		p.message(w, http.StatusNotFound, lang, "invalid")
		return
	}
	a, err := q.answer(r.PostForm.Get(q.ID))
	if err != nil || a == nil {
		msg := words(lang).Required
		if err != nil {
			msg = err.Error()
		}
		v := p.view(sv, lang, token, nil, map[string]string{q.ID: msg})
		v.Questions, v.Action = v.Questions[:1], "/s/"+token+"/score"
		p.render(w, http.StatusUnprocessableEntity, v)
		return
	}
	if _, _, err := p.svc.answerFromEmail(ctx, inv, sv, map[string]any{q.ID: a}, lang, viaScoreLink, "", false); err != nil {
		if errors.Is(err, errAnswered) {
			p.message(w, http.StatusOK, lang, "answered")
			return
		}
		p.svc.logger.Error("survey score", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	http.Redirect(w, r, "/s/"+token+"?lang="+url.QueryEscape(lang), http.StatusSeeOther)
}

// tokenSlot stands for the token in a cached page; tokens are made of
// letters, digits, '_', '-' and '.', which HTML writes as they are.
const tokenSlot = "__cxloop_token__"

// view builds the form with the answers given so far and per-question errors.
func (p *Pages) view(sv *Survey, lang, token string, given map[string]any, errs map[string]string) pageView {
	wd := words(lang)
	v := pageView{Lang: lang, W: wd, Title: sv.Name, Intro: sv.Intro.In(lang, sv.DefaultLanguage), Action: "/s/" + token,
		OptOut: "/s/" + token + "/opt-out", Errors: len(errs) > 0}
	for _, q := range sv.Questions {
		qv := questionView{ID: q.ID, Text: q.Text.In(lang, sv.DefaultLanguage), Error: errs[q.ID], Optional: q.Optional || q.Type == TypeText}
		scale := func(name string, lo, hi int, current any) []option {
			var out []option
			cur, _ := integer(number(current))
			has := current != nil
			for n := lo; n <= hi; n++ {
				out = append(out, option{Name: name, Value: strconv.Itoa(n), Checked: has && cur == n})
			}
			return out
		}
		switch q.Type {
		case TypeNPS, TypeCSAT, TypeCES, TypeScale:
			lo, hi := q.scaleOf()
			qv.Scale = scale(q.ID, lo, hi, given[q.ID])
			qv.Low, qv.High = q.MinLabel.In(lang, sv.DefaultLanguage), q.MaxLabel.In(lang, sv.DefaultLanguage)
			if qv.Low == "" {
				qv.Low, qv.High = wd.Low, wd.High
				if q.Type == TypeNPS {
					qv.Low, qv.High = wd.NotLikely, wd.VeryLikely
				}
			}
		case TypeACSI:
			cur, _ := given[q.ID].(map[string]any)
			for _, it := range q.Items {
				name := q.ID + "." + it.ID
				qv.Items = append(qv.Items, itemView{Name: name, Text: it.Text.In(lang, sv.DefaultLanguage), Scale: scale(name, 1, 10, cur[it.ID])})
			}
		case TypeSingle, TypeMulti:
			kind := "radio"
			chosen := map[string]bool{}
			switch c := given[q.ID].(type) {
			case string:
				chosen[c] = true
			case []any:
				for _, x := range c {
					if s, ok := x.(string); ok {
						chosen[s] = true
					}
				}
			}
			if q.Type == TypeMulti {
				kind = "checkbox"
			}
			for _, c := range q.Choices {
				qv.Choices = append(qv.Choices, option{Name: q.ID, Value: c.ID, Text: c.Text.In(lang, sv.DefaultLanguage), Kind: kind, Checked: chosen[c.ID]})
			}
		case TypeText:
			qv.IsText = true
			qv.Value, _ = given[q.ID].(string)
		}
		v.Questions = append(v.Questions, qv)
	}
	return v
}

// formAnswers reads the submitted form into raw answers.
func formAnswers(r *http.Request, sv *Survey) map[string]any {
	raw := map[string]any{}
	for _, q := range sv.Questions {
		switch q.Type {
		case TypeACSI:
			items := map[string]any{}
			for _, it := range q.Items {
				if v := r.PostForm.Get(q.ID + "." + it.ID); v != "" {
					items[it.ID] = v
				}
			}
			if len(items) > 0 {
				raw[q.ID] = items
			}
		case TypeMulti:
			if vs := r.PostForm[q.ID]; len(vs) > 0 {
				list := make([]any, len(vs))
				for i, v := range vs {
					list[i] = v
				}
				raw[q.ID] = list
			}
		default:
			if v := r.PostForm.Get(q.ID); v != "" {
				raw[q.ID] = v
			}
		}
	}
	return raw
}

func (p *Pages) answer(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	token := r.PathValue("token")
	if id, ok := p.svc.openSurvey(ctx, token); ok {
		p.answerOpen(w, r, id, token)
		return
	}
	inv, sv, lang, amend, ok := p.openPost(w, r, token)
	if !ok {
		return
	}
	wd := words(lang)
	answers, errs := sv.check(formAnswers(r, sv), wd.Required)
	if len(errs) > 0 {
		// Keep what was answered so the customer can finish later.
		if len(answers) > 0 && !amend {
			if err := p.svc.savePartial(ctx, inv.ID, answers); err != nil {
				p.svc.logger.Error("survey partial answers", "err", err)
			}
		}
		given, _ := json.Marshal(answers)
		p.render(w, http.StatusUnprocessableEntity, p.view(sv, lang, token, decodeAnswers(string(given)), errs))
		return
	}
	var err error
	if amend {
		_, _, err = p.svc.answerFromEmail(ctx, inv, sv, answers, lang, "", "", true)
	} else {
		err = p.svc.answerInvitation(ctx, inv, sv, answers, lang)
	}
	if err != nil {
		if errors.Is(err, errAnswered) {
			p.message(w, http.StatusOK, lang, "answered")
			return
		}
		p.svc.logger.Error("survey answer", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	msg := sv.Thanks.In(lang, sv.DefaultLanguage)
	if msg == "" {
		p.message(w, http.StatusOK, lang, "thanks")
		return
	}
	p.render(w, http.StatusOK, pageView{Lang: lang, Title: msg, Message: msg, W: wd})
}

func (p *Pages) optOut(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	inv, sv, status, kind, err := p.open(ctx, r.PathValue("token"), false)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	lang := language(r, sv, inv)
	if kind == "invalid" {
		p.message(w, status, lang, kind)
		return
	}
	ref := inv.Customer
	if ref == "" {
		ref = inv.UserID
	}
	if err := p.svc.OptOut(ctx, ref, "survey_page"); err != nil {
		p.svc.logger.Error("survey opt-out", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	p.message(w, http.StatusOK, lang, "optedout")
}

// check reads a finished set of answers: the stored form of each valid
// answer, and an error by question id for every invalid one and every
// required question left unanswered (required is that message).
func (sv *Survey) check(raw map[string]any, required string) (map[string]any, map[string]string) {
	errs := map[string]string{}
	answers := map[string]any{}
	for id, v := range raw {
		q, ok := sv.Question(id)
		if !ok {
			errs[id] = fmt.Sprintf("the survey has no question %q", id)
			continue
		}
		if v == nil {
			continue
		}
		a, err := q.answer(v)
		if err != nil {
			errs[id] = err.Error()
			continue
		}
		if a != nil {
			answers[id] = a
		}
	}
	for _, q := range sv.Questions {
		if _, ok := answers[q.ID]; !ok && errs[q.ID] == "" && !q.Optional && q.Type != TypeText {
			errs[q.ID] = required
		}
	}
	return answers, errs
}

// savePartial keeps answers given so far on an unfinished invitation.
func (s *Service) savePartial(ctx context.Context, id string, answers map[string]any) error {
	b, err := json.Marshal(answers)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET partial = $1, status = 'started' WHERE id = $2 AND status IN ('sent', 'started')`, string(b), id)
		return err
	})
}

// answerInvitation records the finished answers of an invitation, once.
func (s *Service) answerInvitation(ctx context.Context, inv *Invitation, sv *Survey, answers map[string]any, lang string) error {
	who := profile.Contact{ID: inv.Customer, UserID: inv.UserID, AnonymousID: inv.AnonymousID}
	if inv.Customer != "" {
		contacts, err := s.profiles.Contacts(ctx, []string{inv.Customer})
		if err != nil {
			return err
		}
		if ct, ok := contacts[inv.Customer]; ok {
			who.Role, who.AccountID, who.ID = ct.Role, ct.AccountID, ct.ID
		}
	}
	channel := inv.Channel
	if channel == "" {
		channel = "web"
		if inv.Delivery == "email" {
			channel = "email"
		}
	}
	p := respondedProps{SurveyID: sv.ID, ResponseID: derivedID("rsp", inv.ID), InvitationID: inv.ID, Answers: answers, Channel: channel, Store: inv.Store,
		Language: lang, Role: who.Role, AccountID: who.AccountID, CustomerID: who.ID}
	now := s.now()
	_, err := s.record(ctx, sv, p, who, now, eventlog.Arrival{At: now}, inv.OrderID, inv.TriggerEvent, false)
	return err
}
