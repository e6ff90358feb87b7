package survey

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/fault"
)

// scoreScales are the ranges of the scores a Survey Responded event may
// carry as properties when no cxloop survey says otherwise.
var scoreScales = map[string][2]float64{TypeNPS: {0, 10}}

// CheckResponded checks the properties of a Survey Responded message sent
// by a client (through /v1) before it is accepted, so that an answer that
// cannot be scored is refused and shown to its sender rather than kept
// unscored: a survey_id of cxloop's form (srv_…) must name a survey, the
// answers must be an object whose questions and values fit that survey,
// and scores given as properties (nps, csat, ces) must be numbers on the
// survey's scale. An answer naming another tool's survey (any other id)
// is taken as it is; its answers must still be an object and an nps, when
// given, a number from 0 to 10. Fields are named from the message root
// ("properties.answers.q1"). Definitions are read through the parsed
// survey cache (one indexed lookup of the survey's version).
func (s *Service) CheckResponded(ctx context.Context, props map[string]any) error {
	var sv *Survey
	if raw, ok := props["survey_id"]; ok && raw != nil {
		id, ok := raw.(string)
		if !ok || strings.TrimSpace(id) == "" {
			return fault.Field("properties.survey_id", "survey_id is the id of the survey answered, a string such as srv_…")
		}
		var err error
		if sv, err = s.cached(ctx, id); err != nil {
			return err
		}
		if sv == nil && strings.HasPrefix(id, "srv_") {
			return fault.Field("properties.survey_id", "no survey %q: answers are scored against a survey of GET /api/v1/surveys", id)
		}
	}
	raw, hasAnswers := props["answers"]
	if hasAnswers && raw != nil {
		answers, ok := raw.(map[string]any)
		if !ok {
			return fault.Field("properties.answers", "answers is an object of question id to answer, such as {\"q1\": 9}")
		}
		if sv != nil {
			if _, err := sv.Answers(answers, false); err != nil {
				var fe *fault.Error
				if errors.As(err, &fe) {
					return fault.Field("properties."+fe.Field, "%s", fe.Message)
				}
				return err
			}
		}
	}
	scored := false
	for _, metric := range []string{TypeNPS, TypeCSAT, TypeCES} {
		v, ok := props[metric]
		if !ok || v == nil {
			continue
		}
		scored = true
		field := "properties." + metric
		n, ok := scoreNumber(v)
		if !ok {
			return fault.Field(field, "%s is a number", metric)
		}
		lo, hi, known := 0.0, 0.0, false
		if sv != nil {
			q, found := sv.questionOfType(metric)
			if !found {
				return fault.Field(field, "survey %q has no %s question", sv.ID, metric)
			}
			l, h := q.scaleOf()
			lo, hi, known = float64(l), float64(h), true
		} else if sc, ok := scoreScales[metric]; ok {
			lo, hi, known = sc[0], sc[1], true
		}
		if known && (n < lo || n > hi) {
			return fault.Field(field, "%s is from %g to %g", metric, lo, hi)
		}
	}
	if sv != nil && !scored && (!hasAnswers || raw == nil) {
		return fault.Field("properties.answers", "an answer to survey %q carries its answers, such as {\"answers\": {\"%s\": 9}}", sv.ID, sv.Questions[0].ID)
	}
	return nil
}

// cached returns a survey's parsed definition (nil when there is none),
// reading only its version when the parsed one is current.
func (s *Service) cached(ctx context.Context, id string) (*Survey, error) {
	var version int64
	err := s.db.QueryRowContext(ctx, `SELECT updated_at FROM surveys WHERE id = $1`, id).Scan(&version)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	sv, err := s.version(ctx, id, version)
	if fault.Code(err) == fault.NotFound {
		return nil, nil
	}
	return sv, err
}

// questionOfType is the survey's first question of a type.
func (s *Survey) questionOfType(typ string) (Question, bool) {
	for _, q := range s.Questions {
		if q.Type == typ {
			return q, true
		}
	}
	return Question{}, false
}

// scoreNumber reads a score given as a JSON number or a numeric string.
func scoreNumber(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case string:
		n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		return n, err == nil
	}
	return 0, false
}
