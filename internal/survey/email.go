package survey

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// How an invitation was answered from its email (answered_via).
const (
	viaScoreLink = "score_link" // a one-click score in the email
	viaReply     = "reply"      // a reply to the email
)

// scoreQuestion is the survey's first question when a one-click score link
// or the leading number of a reply can answer it: an nps, csat or ces rating.
func (sv *Survey) scoreQuestion() (Question, bool) {
	if len(sv.Questions) == 0 {
		return Question{}, false
	}
	switch q := sv.Questions[0]; q.Type {
	case TypeNPS, TypeCSAT, TypeCES:
		return q, true
	}
	return Question{}, false
}

// commentQuestion is the survey's first open-text question, which the
// words of a reply answer.
func (sv *Survey) commentQuestion() (Question, bool) {
	for _, q := range sv.Questions {
		if q.Type == TypeText {
			return q, true
		}
	}
	return Question{}, false
}

// ValidReplyTo checks a reply address (surveys@example.com or
// "Name <surveys@example.com>"): invitations are sent with Reply-To
// local+<token>@domain.
func ValidReplyTo(addr string) error {
	a, err := mail.ParseAddress(addr)
	if err != nil {
		return fmt.Errorf("reply address %q: %w", addr, err)
	}
	if strings.Contains(a.Address, "+") {
		return fmt.Errorf("reply address %q: give the address without a +tag; cxloop adds one per invitation", addr)
	}
	return nil
}

// replyToken signs an invitation id for the plus-tag of its reply address.
// It is lower case: mail systems may change the case of an address.
func (s *Service) replyToken(ctx context.Context, invitation string) (string, error) {
	key, err := s.tokenKey(ctx)
	if err != nil {
		return "", err
	}
	return invitation + "." + replySig(key, invitation), nil
}

func replySig(key []byte, id string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("reply\x00" + id))
	return hex.EncodeToString(m.Sum(nil)[:12])
}

// invitationOfReply checks a reply token and returns the invitation id.
func (s *Service) invitationOfReply(ctx context.Context, token string) (string, error) {
	id, sig, ok := strings.Cut(strings.ToLower(token), ".")
	if !ok || !strings.HasPrefix(id, "inv_") || len(id) > 64 {
		return "", errForged
	}
	key, err := s.tokenKey(ctx)
	if err != nil {
		return "", err
	}
	if !hmac.Equal([]byte(sig), []byte(replySig(key, id))) {
		return "", errForged
	}
	return id, nil
}

// replyAddress is the Reply-To of an invitation's email: the configured
// reply address with the invitation's token as its plus-tag; "" when no
// reply address is configured.
func (s *Service) replyAddress(ctx context.Context, invitation string) (string, error) {
	if s.cfg.ReplyTo == "" {
		return "", nil
	}
	a, err := mail.ParseAddress(s.cfg.ReplyTo)
	if err != nil {
		return "", nil
	}
	local, domain, ok := strings.Cut(a.Address, "@")
	if !ok {
		return "", nil
	}
	t, err := s.replyToken(ctx, invitation)
	if err != nil {
		return "", err
	}
	a.Address = local + "+" + t + "@" + domain
	return a.String(), nil
}

// amendable returns the answers of an invitation answered from its email,
// which the customer may still change; ok is false for any other invitation.
func (s *Service) amendable(ctx context.Context, invitation string) (answers map[string]any, via string, ok bool, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT answered_via FROM survey_invitations WHERE id = $1 AND status = 'answered'`, invitation).Scan(&via)
	if errors.Is(err, sql.ErrNoRows) || err == nil && via != viaScoreLink && via != viaReply {
		return nil, "", false, nil
	}
	if err != nil {
		return nil, "", false, err
	}
	var raw string
	err = s.db.QueryRowContext(ctx, `SELECT answers FROM survey_responses WHERE id = $1`, derivedID("rsp", invitation)).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", false, nil
	}
	if err != nil {
		return nil, "", false, err
	}
	return decodeAnswers(raw), via, true, nil
}

// answerFromEmail records answers given through an invitation's email (a
// score link, a reply) or the page it opens, through the same path as every
// answer. The first is the invitation's response; a later one revises that
// response — merged over its answers, or replacing them when replace is
// set — instead of counting again. key, when given, names a revision (a
// reply's Message-ID): the same reply received again records nothing new.
// changed is false when the answers were already so.
func (s *Service) answerFromEmail(ctx context.Context, inv *Invitation, sv *Survey, given map[string]any, lang, via, key string, replace bool) (rsp *Response, changed bool, err error) {
	who := profile.Contact{ID: inv.Customer, UserID: inv.UserID, AnonymousID: inv.AnonymousID}
	if inv.Customer != "" {
		contacts, err := s.profiles.Contacts(ctx, []string{inv.Customer})
		if err != nil {
			return nil, false, err
		}
		if ct, ok := contacts[inv.Customer]; ok {
			who.Role, who.AccountID, who.ID = ct.Role, ct.AccountID, ct.ID
		}
	}
	channel := inv.Channel
	if channel == "" {
		channel = "email"
	}
	rspID := derivedID("rsp", inv.ID)
	p := respondedProps{SurveyID: sv.ID, ResponseID: rspID, InvitationID: inv.ID, Channel: channel, Store: inv.Store,
		Language: lang, Role: who.Role, AccountID: who.AccountID, CustomerID: who.ID, channel: "email", via: via}
	if via == "" {
		p.channel = "web" // the page an email opened
	}
	now := s.now()
	for attempt := 0; attempt < 2; attempt++ {
		old, _, amend, err := s.amendable(ctx, inv.ID)
		if err != nil {
			return nil, false, err
		}
		if !amend {
			if inv.Status == Answered {
				return nil, false, errAnswered // answered on its page or through the API: final
			}
			// Answers saved on the page before (an unfinished visit) stay.
			first := decodeAnswers(inv.partial)
			if first == nil {
				first = map[string]any{}
			}
			for k, v := range given {
				first[k] = v
			}
			answers, err := sv.Answers(first, false)
			if err != nil {
				return nil, false, err
			}
			// The first answer has the message id every answer to an
			// invitation has; revisions name it in "revises".
			p.Answers = answers
			r, err := s.record(ctx, sv, p, who, now, eventlog.Arrival{At: now}, inv.OrderID, inv.TriggerEvent, false)
			if errors.Is(err, errAnswered) && attempt == 0 {
				continue // answered a moment ago from the email too: revise that
			}
			return r, err == nil, err
		}
		merged := map[string]any{}
		if !replace {
			for k, v := range old {
				merged[k] = v
			}
		}
		for k, v := range given {
			merged[k] = v
		}
		before, _ := sv.Answers(old, false)
		answers, err := sv.Answers(merged, false)
		if err != nil {
			return nil, false, err
		}
		p.Answers, p.Revises = answers, derivedID("msg", rspID)
		if a, b := canonical(before), canonical(answers); a == b {
			r, err := s.response(ctx, rspID)
			return r, false, err
		}
		p.msgID = store.NewID("msg")
		if key != "" {
			p.msgID = derivedID("msg", rspID, via, key)
		}
		r, err := s.record(ctx, sv, p, who, now, eventlog.Arrival{At: now}, inv.OrderID, inv.TriggerEvent, true)
		return r, err == nil, err
	}
	return nil, false, errAnswered
}

// canonical is answers as comparable JSON.
func canonical(answers map[string]any) string {
	b, _ := json.Marshal(answers)
	return string(b)
}

// response reads one stored response.
func (s *Service) response(ctx context.Context, id string) (*Response, error) {
	var r Response
	var raw string
	err := s.db.QueryRowContext(ctx, `SELECT id, survey_id, invitation_id, customer_id, user_id, anonymous_id, answers, channel, locale, responded_at, seq
		FROM survey_responses WHERE id = $1`, id).Scan(&r.ID, &r.Survey, &r.Invitation, &r.Customer, &r.UserID, &r.AnonymousID, &raw, &r.Channel,
		&r.Language, &r.RespondedAt, &r.Seq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.New(fault.NotFound, "no response %q", id)
	}
	if err != nil {
		return nil, err
	}
	r.Answers = decodeAnswers(raw)
	r.Scores = map[string]any{}
	sv, err := s.Get(ctx, r.Survey)
	if err != nil {
		return nil, err
	}
	if answers, err := sv.Answers(r.Answers, false); err == nil {
		for k, v := range sv.Metrics(answers) {
			r.Scores[k] = round1(v)
		}
	}
	return &r, nil
}
