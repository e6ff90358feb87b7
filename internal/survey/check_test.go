package survey_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A client's Survey Responded that cannot be scored is refused at
// ingestion, naming the field, and quarantined; in a batch it is one
// item's error and the others are taken. Only scored answers (and answers
// given in other tools) count for the engagement score.
func TestClientAnswersAreChecked(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, _ := apptest.StartAt(t, dsn, apptest.Epoch)
		sv := createSurvey(t, s, `{"name": "NPS", "rhythm": "pulse", "owner": "service",
			"questions": [{"id": "q1", "type": "nps", "text": {"en": "?"}}, {"id": "why", "type": "text", "text": {"en": "Why?"}, "optional": true}]}`)
		answer := func(props map[string]any) map[string]any {
			return map[string]any{"userId": "eve", "event": "Survey Responded", "properties": props}
		}
		for _, c := range []struct {
			props map[string]any
			field string
		}{
			{map[string]any{"survey_id": "srv_doesnotexist", "answers": map[string]any{"q1": 3}}, "properties.survey_id"},
			{map[string]any{"survey_id": 12, "answers": map[string]any{"q1": 3}}, "properties.survey_id"},
			{map[string]any{"survey_id": sv, "nps": 15}, "properties.nps"},
			{map[string]any{"survey_id": sv, "nps": "five"}, "properties.nps"},
			{map[string]any{"survey_id": sv, "csat": 4}, "properties.csat"},
			{map[string]any{"survey_id": sv, "answers": "nps=3"}, "properties.answers"},
			{map[string]any{"survey_id": sv, "answers": map[string]any{"q99": 3}}, "properties.answers.q99"},
			{map[string]any{"survey_id": sv, "answers": map[string]any{"q1": 15}}, "properties.answers.q1"},
			{map[string]any{"survey_id": sv, "answers": map[string]any{"q1": "five"}}, "properties.answers.q1"},
			{map[string]any{"survey_id": sv}, "properties.answers"},
			{map[string]any{"nps": 11}, "properties.nps"},
		} {
			code, body := s.Send("track", answer(c.props))
			var e struct{ Error struct{ Field string } }
			_ = json.Unmarshal(body, &e)
			if code != 400 || e.Error.Field != c.field {
				t.Errorf("%v: %d %s, want 400 naming %s", c.props, code, body, c.field)
			}
		}
		var q struct{ Messages []struct{ Field string } }
		if code := s.API("GET", "/api/v1/quarantine", nil, &q); code != 200 || len(q.Messages) != 11 {
			t.Fatalf("quarantine: %d %+v", code, q)
		}

		// In a batch, the bad answer is its item's error; the rest are taken.
		code, body := s.Send("batch", map[string]any{"batch": []any{
			map[string]any{"type": "track", "userId": "eve", "event": "Survey Responded", "properties": map[string]any{"survey_id": sv, "answers": map[string]any{"q1": 9, "why": "Quick delivery"}}},
			map[string]any{"type": "track", "userId": "eve", "event": "Survey Responded", "properties": map[string]any{"survey_id": sv, "answers": map[string]any{"nps": 3}}},
			map[string]any{"type": "track", "userId": "eve", "event": "Survey Responded", "properties": map[string]any{"survey_id": "typeform-7", "answers": map[string]any{"x": 1}}},
		}})
		var res struct {
			Accepted, Quarantined int
			Errors                []struct {
				Index int
				Field string
			}
		}
		if err := json.Unmarshal(body, &res); err != nil || code != 200 || res.Accepted != 2 || res.Quarantined != 1 || len(res.Errors) != 1 ||
			res.Errors[0].Index != 1 || res.Errors[0].Field != "properties.answers.nps" {
			t.Fatalf("batch: %d %s", code, body)
		}
		// A valid answer, one without a survey and one given in another tool are taken.
		s.MustSend("track", answer(map[string]any{"survey_id": sv, "answers": map[string]any{"q1": "7"}}))
		s.MustSend("track", answer(map[string]any{"nps": 8}))
		s.Sync()
		var rs struct{ Responses []any }
		s.API("GET", "/api/v1/surveys/"+sv+"/responses", nil, &rs)
		if len(rs.Responses) != 2 {
			t.Fatalf("responses: %d", len(rs.Responses))
		}
	})
}

// An answer that names a cxloop survey but was never scored (sent before
// answers were checked, say) does not count for engagement.
func TestUnscoredAnswersDoNotEngage(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, _ := apptest.StartAt(t, dsn, apptest.Epoch)
		sv := createSurvey(t, s, `{"name": "NPS", "rhythm": "pulse", "owner": "service", "questions": [{"id": "q1", "type": "nps", "text": {"en": "?"}}]}`)
		// The log may hold answers accepted before they were checked: write
		// them as cxloop's own events, past ingestion.
		for i, props := range []map[string]any{
			{"survey_id": sv, "answers": map[string]any{"q99": 3}},
			{"survey_id": sv, "nps": 15},
			{"survey_id": "srv_gone", "answers": map[string]any{"q1": 3}},
		} {
			if err := appendOwn(s, "dan", i, props); err != nil {
				t.Fatal(err)
			}
		}
		s.MustSend("page", map[string]any{"userId": "dan", "name": "Home"})
		s.Sync()
		if _, err := s.Loyalty.Engage(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		var dan struct{ Surveys float64 }
		if code := s.API("GET", "/api/v1/customers/dan/engagement", nil, &dan); code != 200 || dan.Surveys != 0 {
			t.Fatalf("unscored answers counted: %d %+v", code, dan)
		}
		s.MustSend("track", map[string]any{"userId": "dan", "event": "Survey Responded", "properties": map[string]any{"survey_id": sv, "answers": map[string]any{"q1": 9}}})
		s.MustSend("track", map[string]any{"userId": "dan", "event": "Survey Responded", "properties": map[string]any{"survey_id": "typeform-7", "answers": map[string]any{"x": 1}}})
		s.Sync()
		if _, err := s.Loyalty.Engage(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		s.API("GET", "/api/v1/customers/dan/engagement", nil, &dan)
		if dan.Surveys != 15 {
			t.Fatalf("a scored answer and another tool's: surveys %v, want 15", dan.Surveys)
		}
	})
}

// appendOwn writes a Survey Responded event straight to the log.
func appendOwn(s *apptest.Server, user string, i int, props map[string]any) error {
	e, err := eventlog.Own("Survey Responded", fmt.Sprintf("old-%s-%d", user, i), user, "", "web", apptest.Epoch, props)
	if err != nil {
		return err
	}
	return s.Log.Append(context.Background(), []eventlog.Event{e})
}
