package survey

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// Invitation statuses.
const (
	Scheduled = "scheduled" // decided to ask; waiting for its time
	Sent      = "sent"      // the customer was contacted (email or link)
	Started   = "started"   // some answers saved, not finished
	Answered  = "answered"  // finished
	Skipped   = "skipped"   // not sent; Reason says why
	Expired   = "expired"   // sent, never finished before the link expired
	Dismissed = "dismissed" // shown in a web page and closed without an answer
)

// Reason codes of a skipped invitation.
const (
	ReasonRecontactWait = "recontact_wait" // a contact-policy window is still open
	ReasonOptedOut      = "opted_out"      // the customer asked not to be surveyed
	ReasonSampledOut    = "sampled_out"    // not drawn by the trigger's sample rate
	ReasonQuotaFull     = "quota_full"     // the survey has all the answers it wants
	ReasonInactive      = "survey_inactive"
	ReasonNoEmail       = "no_email"         // an email-only survey and no address
	ReasonUnknown       = "unknown_customer" // the identity matches no profile
	ReasonCaseReopened  = "case_reopened"    // the case whose resolution invited it was reopened
)

// Invitation is one decision to ask one customer one survey.
type Invitation struct {
	ID           string        `json:"id"`
	Survey       string        `json:"survey"`
	SurveyName   string        `json:"surveyName,omitempty"`
	Rhythm       string        `json:"rhythm"`
	Wave         string        `json:"wave,omitempty"`
	Customer     string        `json:"customer,omitempty"`
	UserID       string        `json:"userId,omitempty"`
	AnonymousID  string        `json:"anonymousId,omitempty"`
	Token        string        `json:"token"`
	URL          string        `json:"url"`
	Status       string        `json:"status"`
	Reason       string        `json:"reason"`
	Delivery     string        `json:"delivery,omitempty"`
	Channel      string        `json:"channel,omitempty"`
	Store        string        `json:"store,omitempty"`
	OrderID      string        `json:"orderId,omitempty"`
	TriggerEvent string        `json:"triggerEvent,omitempty"`
	DueAt        store.Millis  `json:"dueAt"`
	SentAt       *store.Millis `json:"sentAt,omitempty"`
	ExpiresAt    *store.Millis `json:"expiresAt,omitempty"`
	AnsweredAt   *store.Millis `json:"answeredAt,omitempty"`
	Reminders    int           `json:"reminders"`
	Mail         string        `json:"mail,omitempty"`

	email, locale, partial, triggerMessage string
	triggerSeq, surveyVersion              int64
	mailAttempts                           int
}

const invitationCols = `SELECT i.id, i.survey_id, s.name, i.rhythm, i.wave, i.customer_id, i.user_id, i.anonymous_id, i.email, i.locale,
	i.trigger_seq, i.trigger_event, i.trigger_message, i.channel, i.store, i.order_id, i.delivery, i.status, i.reason, i.due_at, i.sent_at,
	i.expires_at, i.answered_at, i.partial, i.reminders, i.mail_state, i.mail_attempts, s.updated_at
	FROM survey_invitations i JOIN surveys s ON s.id = i.survey_id`

func scanInvitation(r interface{ Scan(...any) error }) (*Invitation, error) {
	var i Invitation
	var sent, expires, answered sql.NullInt64
	err := r.Scan(&i.ID, &i.Survey, &i.SurveyName, &i.Rhythm, &i.Wave, &i.Customer, &i.UserID, &i.AnonymousID, &i.email, &i.locale,
		&i.triggerSeq, &i.TriggerEvent, &i.triggerMessage, &i.Channel, &i.Store, &i.OrderID, &i.Delivery, &i.Status, &i.Reason, &i.DueAt, &sent,
		&expires, &answered, &i.partial, &i.Reminders, &i.Mail, &i.mailAttempts, &i.surveyVersion)
	if err != nil {
		return nil, err
	}
	i.SentAt, i.ExpiresAt, i.AnsweredAt = millis(sent), millis(expires), millis(answered)
	return &i, nil
}

func millis(n sql.NullInt64) *store.Millis {
	if !n.Valid {
		return nil
	}
	m := store.Millis(n.Int64)
	return &m
}

func getInvitation(ctx context.Context, q eventlog.Querier, id string) (*Invitation, error) {
	return scanOne(q.QueryRowContext(ctx, invitationCols+` WHERE i.id = $1`, id), id)
}

func scanOne(row *sql.Row, id string) (*Invitation, error) {
	i, err := scanInvitation(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.New(fault.NotFound, "no invitation %q", id)
	}
	return i, err
}

// byID reads an invitation.
func (s *Service) byID(ctx context.Context, id string) (*Invitation, error) {
	return getInvitation(ctx, s.db, id)
}

// viewCols is what a survey page's first view needs of its invitation.
const viewCols = `SELECT i.survey_id, s.updated_at, i.status, i.expires_at, i.partial, i.locale
	FROM survey_invitations i JOIN surveys s ON s.id = i.survey_id WHERE i.id = $1`

// forView reads the part of an invitation a survey page shows, through a
// statement prepared once: the pages read one on every view.
func (s *Service) forView(ctx context.Context, id string) (*Invitation, error) {
	s.stmtOnce.Do(func() {
		s.stmt, s.stmtErr = s.db.PrepareContext(context.WithoutCancel(ctx), viewCols)
	})
	// Views wait for a connection in the order they came (database/sql
	// hands a freed connection to a random waiter, which under load gives
	// a few views very long waits).
	select {
	case s.viewGate <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	i := Invitation{ID: id}
	var expires sql.NullInt64
	err := func() error {
		defer func() { <-s.viewGate }()
		var row *sql.Row
		if s.stmtErr != nil {
			row = s.db.QueryRowContext(ctx, viewCols, id)
		} else {
			row = s.stmt.QueryRowContext(ctx, id)
		}
		return row.Scan(&i.Survey, &i.surveyVersion, &i.Status, &expires, &i.partial, &i.locale)
	}()
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.New(fault.NotFound, "no invitation %q", id)
	}
	i.ExpiresAt = millis(expires)
	return &i, err
}

// newInvitation is an invitation about to be stored as scheduled.
type newInvitation struct {
	id, survey, rhythm, wave, customer, user, anon string
	triggerSeq                                     int64
	triggerEvent, triggerMessage, channel, order   string
	store                                          string
	due                                            int64
}

// insertInvitations stores scheduled invitations; ids already stored are
// left as they are (the decision was made before).
func insertInvitations(ctx context.Context, db *store.DB, tx *store.Tx, list []newInvitation, now int64) error {
	rows := make([][]any, len(list))
	for i, n := range list {
		rows[i] = []any{n.id, n.survey, n.rhythm, n.wave, n.customer, n.user, n.anon, n.triggerSeq, n.triggerEvent,
			n.triggerMessage, n.channel, n.store, n.order, Scheduled, n.due, now}
	}
	if err := db.BulkInsert(ctx, tx, `INSERT INTO survey_invitations (id, survey_id, rhythm, wave, customer_id, user_id, anonymous_id,
		trigger_seq, trigger_event, trigger_message, channel, store, order_id, status, due_at, created_at) VALUES`,
		`ON CONFLICT (id) DO NOTHING`, 16, rows); err != nil {
		return err
	}
	return scheduleDispatch(ctx, tx, list, now)
}

// withLink fills the token and URL of an invitation that was sent.
func (s *Service) withLink(ctx context.Context, i *Invitation) error {
	if i.Status == Scheduled || i.Status == Skipped {
		return nil
	}
	t, err := s.token(ctx, i.ID)
	if err != nil {
		return err
	}
	i.Token, i.URL = t, s.URL(t)
	return nil
}

// CustomerInvitations lists every invitation of the customer ref names,
// newest first: sent, answered and skipped (with the reason), so that the
// contact history is visible on the profile. With fresh, it first waits
// briefly for the log's latest events to be read and makes the decisions
// now due, so a caller sees the invitation its own event triggered.
func (s *Service) CustomerInvitations(ctx context.Context, ref string, fresh bool) (string, []*Invitation, error) {
	if fresh && s.cfg.Sync != nil {
		wait, cancel := context.WithTimeout(ctx, 3*time.Second)
		_ = s.cfg.Sync(wait)
		cancel()
		if _, err := s.Dispatch(ctx); err != nil {
			return "", nil, err
		}
	}
	id, q, err := s.profiles.EventFilter(ctx, ref)
	if err != nil {
		return "", nil, err
	}
	where := `i.customer_id = $1`
	args := []any{id}
	for _, u := range q.UserIDs {
		args = append(args, u)
		where += ` OR i.user_id = $` + strconv.Itoa(len(args))
	}
	for _, a := range q.AnonymousIDs {
		args = append(args, a)
		where += ` OR (i.user_id = '' AND i.anonymous_id = $` + strconv.Itoa(len(args)) + `)`
	}
	if len(args) > 400 {
		args, where = args[:1], `i.customer_id = $1`
	}
	rows, err := s.db.QueryContext(ctx, invitationCols+` WHERE `+where+` ORDER BY i.due_at DESC, i.id LIMIT 500`, args...)
	if err != nil {
		return "", nil, err
	}
	defer rows.Close()
	out := []*Invitation{}
	for rows.Next() {
		i, err := scanInvitation(rows)
		if err != nil {
			return "", nil, err
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return "", nil, err
	}
	for _, i := range out {
		if err := s.withLink(ctx, i); err != nil {
			return "", nil, err
		}
	}
	return id, out, nil
}

// SurveyInvitations lists a survey's invitations, newest first.
func (s *Service) SurveyInvitations(ctx context.Context, survey, status string, limit, offset int) ([]*Invitation, error) {
	where, args := ` WHERE i.survey_id = $1`, []any{survey}
	if status != "" {
		where += ` AND i.status = $2`
		args = append(args, status)
	}
	args = append(args, limit, offset)
	rows, err := s.db.QueryContext(ctx, invitationCols+where+` ORDER BY i.due_at DESC, i.id LIMIT $`+strconv.Itoa(len(args)-1)+` OFFSET $`+strconv.Itoa(len(args)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Invitation{}
	for rows.Next() {
		i, err := scanInvitation(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for _, i := range out {
		if err := s.withLink(ctx, i); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Funnel counts a survey's invitations by status and skip reason.
type Funnel struct {
	Scheduled int            `json:"scheduled"`
	Sent      int            `json:"sent"`
	Started   int            `json:"started"`
	Answered  int            `json:"answered"`
	Expired   int            `json:"expired"`
	Dismissed int            `json:"dismissed"`
	Skipped   map[string]int `json:"skipped"`
	// Contacted counts the invitations that reached the customer: sent
	// (awaiting an answer), started, answered, expired or dismissed — the
	// response rate's base. Sent alone is only those still awaiting an answer.
	Contacted int `json:"contacted"`
	// ResponseRate is answered ÷ contacted (sent, started, answered,
	// expired, dismissed), a fraction from 0 to 1 like every rate the API
	// gives; null when nobody was contacted (a survey whose answers all
	// came without invitations has no response rate).
	ResponseRate *float64 `json:"responseRate"`
}

// Funnel returns the survey's invitation counts.
func (s *Service) Funnel(ctx context.Context, survey string) (Funnel, error) {
	return s.FunnelIn(ctx, survey, time.Time{}, time.Time{})
}

// FunnelIn is Funnel for the invitations due in [from, to) (a zero bound
// is open): those the period decided to send.
func (s *Service) FunnelIn(ctx context.Context, survey string, from, to time.Time) (Funnel, error) {
	f := Funnel{Skipped: map[string]int{}}
	lo, hi := store.Span(from, to)
	rows, err := s.db.QueryContext(ctx, `SELECT status, reason, COUNT(*) FROM survey_invitations WHERE survey_id = $1 AND due_at >= $2 AND due_at < $3
		GROUP BY status, reason`, survey, lo, hi)
	if err != nil {
		return f, err
	}
	defer rows.Close()
	for rows.Next() {
		var status, reason string
		var n int
		if err := rows.Scan(&status, &reason, &n); err != nil {
			return f, err
		}
		switch status {
		case Scheduled:
			f.Scheduled += n
		case Sent:
			f.Sent += n
		case Started:
			f.Started += n
		case Answered:
			f.Answered += n
		case Expired:
			f.Expired += n
		case Dismissed:
			f.Dismissed += n
		case Skipped:
			f.Skipped[reason] += n
		}
	}
	f.Contacted = f.Sent + f.Started + f.Answered + f.Expired + f.Dismissed
	if f.Contacted > 0 {
		rate := float64(f.Answered) / float64(f.Contacted)
		f.ResponseRate = &rate
	}
	return f, rows.Err()
}
