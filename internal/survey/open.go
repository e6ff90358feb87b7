package survey

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// A survey's open link is the link a business shares itself (a QR code on
// a receipt, a post, a newsletter): anyone who follows it may answer,
// anonymously and once per visit, while the survey is active. Its token is
// the survey id signed apart from invitations ("open:" + id), so neither
// kind of signature opens the other.

// OpenLink is the survey's shareable link.
func (s *Service) OpenLink(ctx context.Context, id string) (string, error) {
	key, err := s.tokenKey(ctx)
	if err != nil {
		return "", err
	}
	return s.URL(id + "." + sign(key, "open:"+id)), nil
}

// openSurvey reads an open link's token: the survey id, and whether the
// token is one (a forged one is not).
func (s *Service) openSurvey(ctx context.Context, token string) (string, bool) {
	id, sig, ok := strings.Cut(token, ".")
	if !ok || !strings.HasPrefix(id, "srv_") || len(id) > 64 {
		return "", false
	}
	key, err := s.tokenKey(ctx)
	if err != nil {
		return "", false
	}
	return id, hmac.Equal([]byte(sig), []byte(sign(key, "open:"+id)))
}

// Emails reports whether invitations can go out by email (an SMTP server
// is configured); without, every invitation is a link to share.
func (s *Service) Emails() bool { return s.cfg.Mail != nil }

// openShown is the survey an open link shows, or the notice to show
// instead: only an active survey takes answers through its open link.
func (p *Pages) openShown(ctx context.Context, id string) (*Survey, string, error) {
	sv, err := p.svc.Get(ctx, id)
	if fault.Code(err) == fault.NotFound {
		return nil, "invalid", nil
	}
	if err != nil {
		return nil, "", err
	}
	if sv.Status != Active {
		return sv, "closed", nil
	}
	return sv, "", nil
}

// openStatus is the status of an open link's notice: a survey that is no
// more is not found, one that is not active is gone for now.
func openStatus(kind string) int {
	if kind == "invalid" {
		return http.StatusNotFound
	}
	return http.StatusGone
}

// showOpen renders the survey of an open link.
func (p *Pages) showOpen(w http.ResponseWriter, r *http.Request, id, token string) {
	sv, kind, err := p.openShown(r.Context(), id)
	if err != nil {
		p.svc.logger.Error("survey page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	lang := openLanguage(r, sv)
	if kind != "" {
		p.message(w, openStatus(kind), lang, kind)
		return
	}
	v := p.view(sv, lang, token, nil, nil)
	v.OptOut = "" // nobody to opt out: the visitor is anonymous
	p.render(w, http.StatusOK, v)
}

// answerOpen records an answer given through an open link, as an
// anonymous visitor's answer that answers no invitation.
func (p *Pages) answerOpen(w http.ResponseWriter, r *http.Request, id, token string) {
	ctx := r.Context()
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "the form is too large", http.StatusRequestEntityTooLarge)
		return
	}
	sv, kind, err := p.openShown(ctx, id)
	if err != nil {
		p.svc.logger.Error("survey page", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	lang := openLanguage(r, sv)
	if kind != "" {
		p.message(w, openStatus(kind), lang, kind)
		return
	}
	wd := words(lang)
	answers, errs := sv.check(formAnswers(r, sv), wd.Required)
	if len(errs) > 0 {
		given, _ := json.Marshal(answers)
		v := p.view(sv, lang, token, decodeAnswers(string(given)), errs)
		v.OptOut = ""
		p.render(w, http.StatusUnprocessableEntity, v)
		return
	}
	now := p.svc.now()
	who := profile.Contact{AnonymousID: store.NewID("anon")}
	props := respondedProps{SurveyID: sv.ID, ResponseID: store.NewID("rsp"), Answers: answers, Channel: "web", Language: lang}
	if _, err := p.svc.record(ctx, sv, props, who, now, eventlog.Arrival{At: now}, "", "", false); err != nil {
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

// openLanguage is an open link's page language: the one chosen in the
// form or query, else the browser's first language the survey has.
func openLanguage(r *http.Request, sv *Survey) string {
	if sv == nil {
		return "en"
	}
	if l := language(r, sv, nil); l != sv.DefaultLanguage {
		return l
	}
	first, _, _ := strings.Cut(r.Header.Get("Accept-Language"), ",")
	first, _, _ = strings.Cut(first, ";")
	if first = strings.TrimSpace(first); first != "" {
		return sv.Language(first)
	}
	return sv.DefaultLanguage
}

// Preview writes the survey's page in lang as a customer sees it on
// following a link, with its form inert: a preview records nothing.
func Preview(w io.Writer, sv *Survey, lang string) error {
	p := &Pages{}
	if lang == "" || !validLanguage(lang) {
		lang = sv.DefaultLanguage
	}
	v := p.view(sv, lang, "", nil, nil)
	v.Action, v.OptOut, v.Preview = "", "", true
	return pageTmpl.Execute(w, p.dress(v))
}
