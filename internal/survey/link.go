package survey

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/text"
)

// Scorer reads the scores of Survey Responded events whatever path they
// came by: cxloop's own answers carry them, a client's answers sent through
// /v1 carry only answers, which Scorer scores under the survey's questions
// exactly as an answer recorded by cxloop is scored. It remembers the
// surveys it read; use one per batch.
type Scorer struct {
	q       eventlog.Querier
	surveys map[string]*Survey
}

// NewScorer returns a Scorer reading surveys through q.
func NewScorer(q eventlog.Querier) *Scorer { return &Scorer{q: q, surveys: map[string]*Survey{}} }

// Scores returns the event's properties with its scores (nps, csat, ces,
// acsi, rounded to one decimal as cxloop writes them) computed from its
// answers: where the event also carries a score that disagrees, the
// answers win, as they do for the stored response. props is left
// unchanged: a copy is returned when scores are set. Events that name no
// known survey, or whose answers do not fit it, come back as they are.
func (sc *Scorer) Scores(ctx context.Context, props map[string]any) map[string]any {
	id, _ := props["survey_id"].(string)
	raw, _ := props["answers"].(map[string]any)
	if id == "" || len(raw) == 0 {
		return props
	}
	sv, ok := sc.surveys[id]
	if !ok {
		sv, _ = getSurvey(ctx, sc.q, id)
		sc.surveys[id] = sv
	}
	if sv == nil {
		return props
	}
	answers, err := sv.Answers(raw, false)
	if err != nil {
		return props
	}
	metrics := sv.Metrics(answers)
	if len(metrics) == 0 {
		return props
	}
	out := make(map[string]any, len(props)+len(metrics))
	for k, v := range props {
		out[k] = v
	}
	for k, v := range metrics {
		out[k] = round1(v)
	}
	return out
}

// answerer names who answered, to find the invitation an answer belongs to.
type answerer struct {
	customer, user, anon string
}

// openInvitation finds the invitation of survey sv that an answer given
// without one belongs to (an answer sent through /v1, imported, or
// recorded through the API): the customer's invitation to that survey that
// is scheduled, sent or started — about the answer's order when it names
// one (an answer about another order answers none), else the latest. An
// invitation already answered at exactly the answer's time is the same
// answer read again (a replay). History (a backfill) answers no
// invitation. "" when none.
func openInvitation(ctx context.Context, q eventlog.Querier, survey string, who answerer, order string, at int64, backfill bool) (string, error) {
	if backfill || who.customer == "" && who.user == "" && who.anon == "" {
		return "", nil
	}
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM survey_invitations
		WHERE survey_id = $1 AND ((customer_id = $2 AND $2 <> '') OR (user_id = $3 AND $3 <> '') OR (anonymous_id = $4 AND $4 <> ''))
		  AND (status IN ('scheduled', 'sent', 'started') OR (status = 'answered' AND answered_at = $6))
		  AND ($5 = '' OR order_id = $5)
		ORDER BY COALESCE(sent_at, due_at) DESC, id
		LIMIT 1`, survey, who.customer, who.user, who.anon, order, at).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// markAnswered records that an invitation was answered at at. It reports
// false when the invitation was answered (or closed) in the meantime.
func markAnswered(ctx context.Context, tx *store.Tx, id string, at int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET status = 'answered', answered_at = $1, next_reminder_at = NULL
		WHERE id = $2 AND status IN ('scheduled', 'sent', 'started')`, at, id)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// Describe writes what a follow-up needs to read of a Survey Responded
// event, whatever path it came through: a subject naming the survey and
// its scores ("Post-order: NPS 4") and a body with the scores and each
// open-text answer verbatim under its question. props are the event's
// properties, as Scores returns them.
func (sc *Scorer) Describe(ctx context.Context, props map[string]any) (subject, body string) {
	id, _ := props["survey_id"].(string)
	var sv *Survey
	if id != "" {
		var ok bool
		if sv, ok = sc.surveys[id]; !ok {
			sv, _ = getSurvey(ctx, sc.q, id)
			sc.surveys[id] = sv
		}
	}
	name, _ := props["survey_name"].(string)
	if name == "" && sv != nil {
		name = sv.Name
	}
	if name == "" {
		name = "Survey"
	}
	var scores []string
	for _, m := range []struct{ key, label string }{{"nps", "NPS"}, {"csat", "CSAT"}, {"ces", "CES"}, {"acsi", "ACSI"}} {
		if v, ok := props[m.key]; ok && v != nil {
			scores = append(scores, fmt.Sprintf("%s %v", m.label, v))
		}
	}
	subject = name
	if len(scores) > 0 {
		subject += ": " + strings.Join(scores, ", ")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Survey: %s\n", name)
	if len(scores) > 0 {
		fmt.Fprintf(&b, "Scores: %s\n", strings.Join(scores, ", "))
	}
	answers, _ := props["answers"].(map[string]any)
	wrote := map[string]bool{}
	if sv != nil {
		for _, q := range sv.Questions {
			if t, ok := answers[q.ID].(string); ok && q.Type == TypeText && strings.TrimSpace(t) != "" {
				fmt.Fprintf(&b, "\n%s\n%s\n", q.Text.In(sv.DefaultLanguage, sv.DefaultLanguage), t)
				if len(wrote) == 0 { // the first comment says what it is about
					subject += " — " + text.Clip(strings.Join(strings.Fields(t), " "), 80)
				}
				wrote[q.ID] = true
			}
		}
	}
	// Text answers to questions the survey does not (or no longer) has
	// are the customer's words all the same.
	ids := make([]string, 0, len(answers))
	for id := range answers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		t, ok := answers[id].(string)
		if !ok || wrote[id] || strings.TrimSpace(t) == "" {
			continue
		}
		if q, known := sv.question(id); known && q.Type != TypeText {
			continue // a choice or a rating sent as text
		}
		fmt.Fprintf(&b, "\n%s\n%s\n", id, t)
	}
	for _, k := range []string{"text", "comment"} {
		if t, ok := props[k].(string); ok && strings.TrimSpace(t) != "" {
			fmt.Fprintf(&b, "\n%s\n", t)
		}
	}
	return subject, strings.TrimRight(b.String(), "\n")
}

// question finds a question of a survey that may be nil.
func (s *Survey) question(id string) (Question, bool) {
	if s == nil {
		return Question{}, false
	}
	return s.Question(id)
}
