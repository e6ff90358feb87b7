package survey

import (
	"context"

	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/vocab"
)

func intp(n int) *int { return &n }

// EnsureHandlingSurvey creates, once per installation, the one-question
// 0–10 complaint-handling survey: the survey capability sends it when a
// complaint (or a detractor's follow-up) is resolved, reacting to the
// cases' Case Resolved event. It is exempt from the global and rhythm
// contact limits: it follows up a conversation the customer started.
func (s *Service) EnsureHandlingSurvey(ctx context.Context) error {
	if id, err := s.handlingSurvey(ctx); err != nil || id != "" {
		return err
	}
	sv, err := s.Create(ctx, &Survey{
		Name: "Complaint handling", Rhythm: Persistent, Owner: "service",
		Trigger: &Trigger{Event: "Case Resolved", Where: map[string]any{"properties.kind": []any{"complaint", "detractor"}}},
		Policy:  Policy{Exempt: true, Max: 1, Days: 7},
		Questions: []Question{{ID: "handling", Type: TypeScale, Min: intp(0), Max: intp(10),
			Text: vocab.Text{
				"en": "How well did we handle your complaint?",
				"de": "Wie gut haben wir Ihre Beschwerde bearbeitet?",
				"fr": "Comment avons-nous traité votre réclamation ?",
				"es": "¿Qué tan bien gestionamos su reclamación?",
				"fa": "شکایت شما را چقدر خوب رسیدگی کردیم؟",
			},
			MinLabel: vocab.Text{"en": "Very badly", "de": "Sehr schlecht", "fr": "Très mal", "es": "Muy mal", "fa": "بسیار بد"},
			MaxLabel: vocab.Text{"en": "Very well", "de": "Sehr gut", "fr": "Très bien", "es": "Muy bien", "fa": "بسیار خوب"}}},
	})
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE survey_state SET handling_survey = $1 WHERE handling_survey = ''`, sv.ID)
		return err
	})
}

func (s *Service) handlingSurvey(ctx context.Context) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT handling_survey FROM survey_state`).Scan(&id)
	return id, err
}

// HandlingAnswers are the complaint-handling survey's scores (0–10) by
// the messageId of the Case Resolved event that triggered each answered
// invitation; empty before the survey exists.
func (s *Service) HandlingAnswers(ctx context.Context) (map[string]float64, error) {
	id, err := s.handlingSurvey(ctx)
	if err != nil || id == "" {
		return map[string]float64{}, err
	}
	return s.AnswersByTrigger(ctx, id, "handling")
}
