package survey

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/match"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/text"
)

// Consumer is the survey projection of the log: it schedules persistent
// survey invitations for matching touchpoint events and projects Survey
// Responded events into responses, scores and texts.
type Consumer struct{ svc *Service }

// NewConsumer returns the survey consumer.
func NewConsumer(svc *Service) *Consumer { return &Consumer{svc: svc} }

// Name is the consumer's checkpoint key.
func (c *Consumer) Name() string { return "survey" }

// Reset empties the projected answers. Invitations are decisions already
// acted on and stay; re-applying the log finds them by their stable ids.
func (c *Consumer) Reset(ctx context.Context, tx *store.Tx) error {
	for _, t := range []string{"survey_texts", "survey_scores", "survey_responses"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t); err != nil {
			return err
		}
	}
	return nil
}

// Events names what the consumer reads: the trigger events of active
// persistent surveys and the answers.
func (c *Consumer) Events(ctx context.Context, tx *store.Tx) ([]string, bool, error) {
	list, err := listSurveys(ctx, tx, `WHERE rhythm = 'persistent' AND status = 'active'`)
	if err != nil {
		return nil, false, err
	}
	names := []string{"Survey Responded", "Case Status Changed"}
	for _, sv := range list {
		if sv.Trigger != nil {
			names = append(names, sv.Trigger.Event)
		}
	}
	return names, false, nil
}

// Apply schedules invitations and projects answers for a batch of events.
func (c *Consumer) Apply(ctx context.Context, tx *store.Tx, events []eventlog.Event) error {
	triggers, err := listSurveys(ctx, tx, `WHERE rhythm = 'persistent' AND status = 'active'`)
	if err != nil {
		return err
	}
	byEvent := map[string][]*Survey{}
	for _, sv := range triggers {
		if sv.Trigger == nil {
			continue // shown in web pages only
		}
		byEvent[sv.Trigger.Event] = append(byEvent[sv.Trigger.Event], sv)
	}
	// Invitations first, then answers: an answer in the same batch as the
	// order that invites it answers that invitation.
	var scheduled []newInvitation
	for i := range events {
		e := &events[i]
		if e.Type == eventlog.Track && e.Event == "Case Status Changed" && e.SourceID == eventlog.SourceActions {
			if err := withdraw(ctx, tx, e); err != nil {
				return err
			}
		}
		if e.Type != eventlog.Track || e.Event == "Survey Responded" {
			continue
		}
		for _, sv := range byEvent[e.Event] {
			if inv, ok := c.trigger(sv, e); ok {
				scheduled = append(scheduled, inv)
			}
		}
	}
	if len(scheduled) > 0 {
		if err := insertInvitations(ctx, c.svc.db, tx, scheduled, c.svc.now().UnixMilli()); err != nil {
			return err
		}
	}
	surveys := map[string]*Survey{}
	for i := range events {
		e := &events[i]
		if e.Type == eventlog.Track && e.Event == "Survey Responded" {
			if err := c.project(ctx, tx, e, surveys); err != nil {
				return err
			}
		}
	}
	return nil
}

// withdraw takes back what a case's resolution invited, when the case is
// reopened: an invitation not sent yet is skipped, one sent and not
// answered expires (its link then says so), both for ReasonCaseReopened.
func withdraw(ctx context.Context, tx *store.Tx, e *eventlog.Event) error {
	props, _ := e.TrackProps()
	msg, _ := props["resolution_withdrawn"].(string)
	if msg == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET status = $1, reason = $2 WHERE trigger_message = $3 AND status = $4`,
		Skipped, ReasonCaseReopened, msg, Scheduled); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET status = $1, reason = $2 WHERE trigger_message = $3 AND status IN ($4, $5)`,
		Expired, ReasonCaseReopened, msg, Sent, Started)
	return err
}

// trigger decides whether e invites a customer to the persistent survey sv.
func (c *Consumer) trigger(sv *Survey, e *eventlog.Event) (newInvitation, bool) {
	if sv.ActivatedAt == nil || e.ReceivedAt < int64(*sv.ActivatedAt) {
		return newInvitation{}, false // only touchpoints after the survey went live
	}
	delay := time.Duration(sv.Trigger.Delay).Milliseconds()
	if e.UserID == "" && e.AnonymousID == "" {
		return newInvitation{}, false
	}
	var body struct {
		Properties map[string]any `json:"properties"`
		Context    map[string]any `json:"context"`
	}
	if err := json.Unmarshal(e.Body, &body); err != nil {
		return newInvitation{}, false
	}
	if b, _ := body.Context["backfill"].(bool); b {
		return newInvitation{}, false // history being loaded surveys nobody
	}
	fields := func(path []string) (any, bool) {
		switch path[0] {
		case "channel":
			return e.Channel, true
		case "contact":
			return e.Contact, true
		case "properties":
			return match.Lookup(body.Properties, path[1:])
		case "context":
			return match.Lookup(body.Context, path[1:])
		}
		return nil, false
	}
	for k, want := range sv.Trigger.Where {
		path, _ := wherePath(k)
		v, ok := fields(path)
		if !match.Matches(v, ok, want) {
			return newInvitation{}, false
		}
	}
	order := ""
	if v, ok := body.Properties["order_id"]; ok && v != nil {
		order = fmt.Sprint(v)
	}
	shop, _ := body.Properties["store"].(string)
	// One invitation per order, however often its event is sent (a
	// confirmation page reloaded sends the order again).
	once := e.MessageID
	if order != "" {
		once = "order:" + order
	}
	return newInvitation{
		id: derivedID("inv", sv.ID, once), survey: sv.ID, rhythm: Persistent,
		user: e.UserID, anon: e.AnonymousID, triggerSeq: e.Seq, triggerEvent: e.Event, triggerMessage: e.MessageID,
		channel: e.Channel, store: shop, order: order, due: e.Timestamp + delay,
	}, true
}

// wherePath splits a trigger filter key: channel, contact, properties.x.y or context.x.
func wherePath(k string) ([]string, error) {
	parts := strings.Split(k, ".")
	switch parts[0] {
	case "channel", "contact":
		if len(parts) == 1 {
			return parts, nil
		}
	case "properties", "context":
		if len(parts) > 1 && !strings.Contains(k, "..") {
			return parts, nil
		}
	}
	return nil, fmt.Errorf("filter on channel, contact, properties.<name> or context.<name>")
}

// respondedProps is the part of a Survey Responded event the projection reads.
type respondedProps struct {
	SurveyID     string         `json:"survey_id"`
	ResponseID   string         `json:"response_id"`
	InvitationID string         `json:"invitation_id"`
	Answers      map[string]any `json:"answers"`
	Channel      string         `json:"touchpoint_channel"`
	Store        string         `json:"touchpoint_store"`
	Language     string         `json:"language"`
	Role         string         `json:"role"`
	AccountID    string         `json:"account_id"`
	CustomerID   string         `json:"customer_id"`
	// Revises is the message id of the answer this one revises: an answer
	// given from an invitation's email and then changed (a second score
	// click, a reply, the rest of the questions on the page). The response
	// keeps its id and is updated, not counted again.
	Revises string `json:"revises"`

	msgID, channel, via string // how record writes it: the event's id and channel, and how the invitation was answered
}

// project stores one Survey Responded event as a response with its scores
// and texts. Events that name no known survey, or whose answers do not fit
// it, are left out of scores (they stay in the log).
func (c *Consumer) project(ctx context.Context, tx *store.Tx, e *eventlog.Event, surveys map[string]*Survey) error {
	m, err := e.Message()
	if err != nil {
		return nil
	}
	var p respondedProps
	if err := json.Unmarshal(m.Properties, &p); err != nil || p.SurveyID == "" {
		return nil
	}
	sv := surveys[p.SurveyID]
	if sv == nil {
		if sv, err = getSurvey(ctx, tx, p.SurveyID); err != nil {
			return nil
		}
		surveys[p.SurveyID] = sv
	}
	answers, err := sv.Answers(p.Answers, false)
	if err != nil {
		c.svc.logger.Warn("survey answer left out of scores", "messageId", e.MessageID, "err", err)
		return nil
	}
	if p.ResponseID == "" {
		p.ResponseID = derivedID("rsp", e.MessageID)
	}
	if p.Channel == "" {
		p.Channel = e.Channel
	}
	if p.Language == "" {
		p.Language = sv.DefaultLanguage
	}
	if p.Revises != "" {
		if e.SourceID != eventlog.SourceCxloop || p.ResponseID == "" {
			return nil // only cxloop revises its own responses
		}
		return reviseResponse(ctx, tx, sv, p.ResponseID, answers, e)
	}
	if p.InvitationID == "" && e.SourceID != eventlog.SourceCxloop {
		// A client's answer (sent through /v1) answers the customer's open
		// invitation, as the survey page would: response rates count it.
		who := answerer{customer: p.CustomerID, user: e.UserID, anon: e.AnonymousID}
		if who.customer == "" {
			owners, err := c.svc.profiles.Owners(ctx, []eventlog.Event{*e})
			if err != nil {
				return err
			}
			who.customer = profile.OwnerOf(owners, *e)
		}
		order, _ := m.Props()["order_id"].(string)
		id, err := openInvitation(ctx, tx, sv.ID, who, order, e.Timestamp, m.Backfill())
		if err != nil {
			return err
		}
		if id != "" {
			if _, err := markAnswered(ctx, tx, id, e.Timestamp); err != nil {
				return err
			}
			p.InvitationID = id
		}
	}
	if p.Store == "" {
		// The store the answer is about: the client may name it as a
		// shop's own property, else the invitation's trigger names it.
		p.Store, _ = m.Props()["store"].(string)
	}
	if p.Store == "" && p.InvitationID != "" {
		if err := tx.QueryRowContext(ctx, `SELECT store FROM survey_invitations WHERE id = $1`, p.InvitationID).Scan(&p.Store); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	return saveResponse(ctx, tx, sv, p, answers, e)
}

// saveResponse writes a response, its metric rows and its analysed texts.
func saveResponse(ctx context.Context, tx *store.Tx, sv *Survey, p respondedProps, answers map[string]any, e *eventlog.Event) error {
	raw, err := json.Marshal(answers)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO survey_responses (id, survey_id, invitation_id, customer_id, user_id, anonymous_id, channel, store, owner,
		role, account_id, locale, answers, responded_at, seq) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
		ON CONFLICT (id) DO NOTHING`, p.ResponseID, sv.ID, p.InvitationID, p.CustomerID, e.UserID, e.AnonymousID, p.Channel, p.Store, sv.Owner,
		p.Role, p.AccountID, p.Language, string(raw), e.Timestamp, e.Seq)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return saveScores(ctx, tx, sv, p, answers, e.UserID, e.AnonymousID, e.Timestamp)
}

// reviseResponse replaces a response's answers, scores and texts with those
// of a later revision e. A revision older than what the response holds (a
// consumer replaying events the answer path already stored) changes nothing.
func reviseResponse(ctx context.Context, tx *store.Tx, sv *Survey, id string, answers map[string]any, e *eventlog.Event) error {
	raw, err := json.Marshal(answers)
	if err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, `UPDATE survey_responses SET answers = $1, seq = $2 WHERE id = $3 AND seq < $2`, string(raw), e.Seq, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	var p respondedProps
	var user, anon string
	var at int64
	if err := tx.QueryRowContext(ctx, `SELECT invitation_id, customer_id, user_id, anonymous_id, channel, store, role, account_id, locale, responded_at
		FROM survey_responses WHERE id = $1`, id).Scan(&p.InvitationID, &p.CustomerID, &user, &anon, &p.Channel, &p.Store, &p.Role, &p.AccountID,
		&p.Language, &at); err != nil {
		return err
	}
	p.ResponseID = id
	for _, t := range []string{"survey_scores", "survey_texts"} {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE response_id = $1`, id); err != nil {
			return err
		}
	}
	return saveScores(ctx, tx, sv, p, answers, user, anon, at)
}

// saveScores writes a response's metric rows and analysed texts.
func saveScores(ctx context.Context, tx *store.Tx, sv *Survey, p respondedProps, answers map[string]any, user, anon string, at int64) error {
	for metric, v := range sv.Metrics(answers) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO survey_scores (response_id, metric, survey_id, value, channel, store, owner, role, account_id,
			customer_id, user_id, anonymous_id, responded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			p.ResponseID, metric, sv.ID, v, p.Channel, p.Store, sv.Owner, p.Role, p.AccountID, p.CustomerID, user, anon, at); err != nil {
			return err
		}
	}
	for _, q := range sv.Questions {
		t, ok := answers[q.ID].(string)
		if q.Type != TypeText || !ok {
			continue
		}
		a := text.Analyze(t, p.Language)
		kw, _ := json.Marshal(a.Keywords)
		if _, err := tx.ExecContext(ctx, `INSERT INTO survey_texts (response_id, question, survey_id, body, folded, language, sentiment, keywords, responded_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, p.ResponseID, q.ID, sv.ID, t, fold(t), a.Language, a.Sentiment, string(kw), at); err != nil {
			return err
		}
	}
	return nil
}
