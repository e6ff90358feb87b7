package survey

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// ResponseInput is an answer given outside a survey link: imported, or
// collected in the caller's own channel.
type ResponseInput struct {
	ID       string         `json:"id,omitempty"`       // keeps a repeated import from counting twice
	Customer string         `json:"customer"`           // any identity the customer used
	Answers  map[string]any `json:"answers"`            // question id → answer
	Channel  string         `json:"channel,omitempty"`  // the touchpoint the answer is about
	Store    string         `json:"store,omitempty"`    // the store it is about, if any
	Language string         `json:"language,omitempty"` // the language answered in
	OrderID  string         `json:"orderId,omitempty"`
	At       *time.Time     `json:"at,omitempty"` // when it was answered (default now)
	// Backfill marks history being loaded: the answer counts in reports
	// but opens no case and fires no rule.
	Backfill bool `json:"backfill,omitempty"`
}

// Response is a recorded answer.
type Response struct {
	ID          string         `json:"id"`
	Survey      string         `json:"survey"`
	Invitation  string         `json:"invitation,omitempty"`
	Customer    string         `json:"customer,omitempty"`
	UserID      string         `json:"userId,omitempty"`
	AnonymousID string         `json:"anonymousId,omitempty"`
	Answers     map[string]any `json:"answers"`
	Scores      map[string]any `json:"scores"`
	Channel     string         `json:"channel"`
	Language    string         `json:"language"`
	RespondedAt store.Millis   `json:"respondedAt"`
	Seq         int64          `json:"seq"`
	// Duplicate is true when this response id was recorded before (a
	// repeated import or call): nothing new was stored.
	Duplicate bool `json:"duplicate,omitempty"`
}

// Respond records an answer for a survey: the response and its Survey
// Responded event in one transaction. An identity no profile knows yet is
// taken as the customer's userId, so that the answer starts their profile.
func (s *Service) Respond(ctx context.Context, surveyID string, in ResponseInput) (*Response, error) {
	sv, err := s.Get(ctx, surveyID)
	if err != nil {
		return nil, err
	}
	in.Customer = strings.TrimSpace(in.Customer)
	if in.Customer == "" {
		return nil, fault.Field("customer", "customer is required: any identity the customer used (userId, email, cus_ id …)")
	}
	if len(in.Customer) > 256 {
		return nil, fault.Field("customer", "customer is longer than 256 characters")
	}
	if len(in.Answers) == 0 {
		return nil, fault.Field("answers", "answers is required: an object of question id → answer")
	}
	answers, err := sv.Answers(in.Answers, false)
	if err != nil {
		return nil, err
	}
	if in.Language != "" && !validLanguage(in.Language) {
		return nil, fault.Field("language", "%q is not a language tag", in.Language)
	}
	if in.ID != "" && len(in.ID) > 128 {
		return nil, fault.Field("id", "id is longer than 128 characters")
	}
	who := profile.Contact{UserID: in.Customer}
	if c, err := s.profiles.Resolve(ctx, in.Customer); err == nil {
		contacts, err := s.profiles.Contacts(ctx, []string{c})
		if err != nil {
			return nil, err
		}
		if ct, ok := contacts[c]; ok && (ct.UserID != "" || ct.AnonymousID != "") {
			who = ct
		}
	} else if fault.Code(err) != fault.NotFound {
		return nil, err
	}
	at := s.now()
	if in.At != nil {
		at = *in.At
	}
	lang := in.Language
	if lang == "" {
		lang = sv.Language(who.Locale)
	}
	id := store.NewID("rsp")
	if in.ID != "" {
		id = derivedID("rsp", sv.ID, in.ID)
	}
	p := respondedProps{SurveyID: sv.ID, ResponseID: id, Answers: answers, Channel: in.Channel, Store: in.Store, Language: lang,
		Role: who.Role, AccountID: who.AccountID, CustomerID: who.ID}
	arr := eventlog.Arrival{At: s.now(), Backfill: in.Backfill}
	if p.InvitationID, err = openInvitation(ctx, s.db, sv.ID, answerer{customer: who.ID, user: who.UserID, anon: who.AnonymousID},
		in.OrderID, at.UnixMilli(), in.Backfill); err != nil {
		return nil, err
	}
	return s.record(ctx, sv, p, who, at, arr, in.OrderID, "", p.InvitationID != "")
}

// record appends the Survey Responded event and stores the response (and,
// for an invitation, marks it answered) in one transaction. The answer was
// given at at and reached cxloop as arr says. linked is an invitation found
// for an answer given elsewhere (imported, or through the API) rather than
// on the invitation's survey page.
func (s *Service) record(ctx context.Context, sv *Survey, p respondedProps, who profile.Contact, at time.Time, arr eventlog.Arrival, order, trigger string, linked bool) (*Response, error) {
	metrics := sv.Metrics(p.Answers)
	props := map[string]any{
		"survey_id": sv.ID, "survey_name": sv.Name, "response_id": p.ResponseID, "rhythm": sv.Rhythm, "owner": sv.Owner,
		"answers": p.Answers, "language": p.Language,
	}
	scores := map[string]any{}
	for k, v := range metrics {
		props[k] = round1(v)
		scores[k] = round1(v)
	}
	for k, v := range map[string]string{"revises": p.Revises, "invitation_id": p.InvitationID, "touchpoint_channel": p.Channel, "touchpoint_store": p.Store, "order_id": order,
		"trigger_event": trigger, "role": p.Role, "account_id": p.AccountID, "customer_id": p.CustomerID} {
		if v != "" {
			props[k] = v
		}
	}
	// An answer on the survey page is on the web; one recorded through the
	// API or an import is on its own channel.
	channel := "web"
	if p.InvitationID == "" || linked {
		channel = "other"
		if p.Channel != "" {
			channel = p.Channel
		}
	}
	if p.Channel == "" {
		p.Channel = channel
	}
	if p.channel != "" {
		channel = p.channel
	}
	msgID := derivedID("msg", p.ResponseID)
	if p.msgID != "" {
		msgID = p.msgID
	}
	ev, err := eventlog.OwnArrived("Survey Responded", msgID, who.UserID, who.AnonymousID, channel, at, arr, props)
	if err != nil {
		return nil, err
	}
	var seq int64
	duplicate := false
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		// The same response id recorded before (a repeated import) is not
		// recorded again; a revision (an answer changed from the email)
		// updates it.
		if p.Revises == "" {
			err := tx.QueryRowContext(ctx, `SELECT seq FROM survey_responses WHERE id = $1`, p.ResponseID).Scan(&seq)
			if err == nil {
				duplicate = true
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if p.InvitationID != "" && p.Revises == "" {
			ok, err := markAnswered(ctx, tx, p.InvitationID, at.UnixMilli())
			if err != nil {
				return err
			}
			if !ok && !linked {
				return errAnswered
			}
			if ok && p.via != "" {
				if _, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET answered_via = $1 WHERE id = $2`, p.via, p.InvitationID); err != nil {
					return err
				}
			}
		}
		events := []eventlog.Event{ev}
		if err := s.log.AppendTx(ctx, tx, events); err != nil {
			return err
		}
		seq = events[0].Seq
		if p.Revises != "" {
			return reviseResponse(ctx, tx, sv, p.ResponseID, p.Answers, &events[0])
		}
		return saveResponse(ctx, tx, sv, p, p.Answers, &events[0])
	})
	if err != nil {
		return nil, err
	}
	s.log.Notify()
	return &Response{ID: p.ResponseID, Survey: sv.ID, Invitation: p.InvitationID, Customer: p.CustomerID, UserID: who.UserID,
		AnonymousID: who.AnonymousID, Answers: p.Answers, Scores: scores, Channel: p.Channel, Language: p.Language,
		RespondedAt: store.Millis(at.UnixMilli()), Seq: seq, Duplicate: duplicate}, nil
}

var errAnswered = fault.New(fault.Conflict, "this survey was already answered")

// InviteInput asks for a survey link for one customer, to be delivered in
// the caller's own channel (SMS, app, a receipt's QR code).
type InviteInput struct {
	Customer string `json:"customer"`
	Channel  string `json:"channel,omitempty"` // the touchpoint the survey is about
	Store    string `json:"store,omitempty"`   // the store it is about, if any
	OrderID  string `json:"orderId,omitempty"`
}

// Invite decides at once whether a customer may be asked the survey now
// and, if so, returns the link. The contact policy applies as to every
// invitation; a refusal comes back as a skipped invitation with its reason.
func (s *Service) Invite(ctx context.Context, surveyID string, in InviteInput) (*Invitation, error) {
	sv, err := s.Get(ctx, surveyID)
	if err != nil {
		return nil, err
	}
	c, err := s.profiles.Resolve(ctx, in.Customer)
	if err != nil {
		if fault.Code(err) == fault.Invalid {
			return nil, fault.Field("customer", "customer is required: any identity the customer used")
		}
		return nil, err
	}
	now := s.now().UnixMilli()
	inv := newInvitation{id: store.NewID("inv"), survey: sv.ID, rhythm: sv.Rhythm, customer: c, channel: in.Channel, store: in.Store, order: in.OrderID, due: now}
	if err := s.db.Tx(ctx, func(tx *store.Tx) error { return insertInvitations(ctx, s.db, tx, []newInvitation{inv}, now) }); err != nil {
		return nil, err
	}
	s.dispMu.Lock()
	_, err = s.decide(ctx, []string{inv.id}, true, nil)
	s.dispMu.Unlock()
	if err != nil {
		return nil, err
	}
	i, err := getInvitation(ctx, s.db, inv.id)
	if err != nil {
		return nil, err
	}
	return i, s.withLink(ctx, i)
}

// SendInput sends a pulse survey once: to a segment (optionally sampled)
// or to a list of customers by any identity.
type SendInput struct {
	Segment   *profile.Query `json:"segment,omitempty"`
	Customers []string       `json:"customers,omitempty"`
	Sample    int            `json:"sample,omitempty"`
}

// SendResult is what a send scheduled.
type SendResult struct {
	Wave        string   `json:"wave"`
	Invitations int      `json:"invitations"`
	Unknown     []string `json:"unknown"`
}

// Send schedules one wave of a pulse or periodic survey now.
func (s *Service) Send(ctx context.Context, surveyID string, in SendInput) (SendResult, error) {
	res := SendResult{Unknown: []string{}}
	sv, err := s.Get(ctx, surveyID)
	if err != nil {
		return res, err
	}
	if sv.Rhythm == Persistent {
		return res, fault.Field("rhythm", "a persistent survey is sent by its trigger event; send pulse or periodic surveys")
	}
	if sv.Status != Active {
		return res, fault.Field("status", "the survey is %s; activate it before sending", sv.Status)
	}
	if in.Sample < 0 {
		return res, fault.Field("sample", "sample cannot be negative")
	}
	if len(in.Customers) > 0 && in.Segment != nil {
		return res, fault.Field("customers", "send to a segment or to a list of customers, not both")
	}
	if len(in.Customers) > 100000 {
		return res, fault.Field("customers", "at most 100,000 customers per send")
	}
	var ids []string
	if len(in.Customers) > 0 {
		seen := map[string]bool{}
		for _, ref := range in.Customers {
			id, err := s.profiles.Resolve(ctx, ref)
			if fault.Code(err) == fault.NotFound || fault.Code(err) == fault.Invalid {
				res.Unknown = append(res.Unknown, ref)
				continue
			}
			if err != nil {
				return res, err
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	} else {
		q := profile.Query{}
		if in.Segment != nil {
			q = *in.Segment
		} else if sv.Segment != nil {
			q = *sv.Segment
		}
		if ids, err = s.profiles.Members(ctx, q, s.now()); err != nil {
			return res, err
		}
	}
	sample := in.Sample
	if sample == 0 && len(in.Customers) == 0 {
		sample = sv.SampleSize
	}
	res.Wave = store.NewID("wave")
	res.Invitations, err = s.fanOut(ctx, sv, res.Wave, ids, sample)
	return res, err
}

// decodeAnswers reads a JSON object of answers.
func decodeAnswers(raw string) map[string]any {
	m := map[string]any{}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return map[string]any{}
	}
	return m
}
