package cases_test

import (
	"encoding/json"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A client's answer that carries answers and a top-level score that
// disagree is judged by its answers, as its stored response is: a promoter
// with a stray "nps": 3 opens no detractor case, and a detractor with a
// stray "nps": 9 does.
func TestRulesReadTheAnswersScore(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
	var sv struct{ ID string }
	if code := s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "Post-order", "rhythm": "pulse", "owner": "service",
		"questions": [{"id": "q1", "type": "nps", "text": {"en": "Recommend us?"}}]}`), &sv); code != 201 {
		t.Fatalf("survey: %d", code)
	}
	if code := s.API("POST", "/api/v1/rules", map[string]any{"name": "detractors", "when": map[string]any{"event": "Survey Responded", "nps_max": 6},
		"then": map[string]any{"open_case": map[string]any{"team": "service", "kind": "detractor"}}}, nil); code != 201 {
		t.Fatalf("rule: %d", code)
	}
	s.MustSend("track", map[string]any{"userId": "promoter", "event": "Survey Responded", "properties": map[string]any{"survey_id": sv.ID, "answers": map[string]any{"q1": 10}, "nps": 3}})
	s.MustSend("track", map[string]any{"userId": "detractor", "event": "Survey Responded", "properties": map[string]any{"survey_id": sv.ID, "answers": map[string]any{"q1": 2}, "nps": 9}})
	s.Sync()
	for who, want := range map[string]int{"promoter": 0, "detractor": 1} {
		if got := listCases(t, s, "customer="+who); len(got) != want {
			t.Errorf("%s: %d cases, want %d", who, len(got), want)
		}
	}
}

// A rule may start paused ("enabled": false); its id and time are
// cxloop's to give, so a body naming them is refused, naming the field.
func TestRuleCreatedPaused(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
	body := func(extra string) json.RawMessage {
		return json.RawMessage(`{"name": "complaints", "when": {"event": "Complaint Submitted"}, "then": {"open_case": {"team": "service"}}` + extra + `}`)
	}
	var paused struct {
		ID      string
		Enabled bool
	}
	if code := s.API("POST", "/api/v1/rules", body(`, "enabled": false`), &paused); code != 201 || paused.Enabled {
		t.Fatalf("a rule made paused: %d %+v", code, paused)
	}
	s.MustSend("track", map[string]any{"userId": "c-1", "event": "Complaint Submitted", "properties": map[string]any{"text": "x", "team": "nobody-here"}})
	s.Sync()
	var firings struct{ Firings []any }
	s.API("GET", "/api/v1/rules/"+paused.ID+"/firings", nil, &firings)
	if len(firings.Firings) != 0 {
		t.Fatalf("a paused rule fired: %+v", firings)
	}
	for _, extra := range []string{`, "id": "rule_mine"`, `, "createdAt": "2026-01-01T00:00:00Z"`} {
		var e struct{ Error struct{ Field string } }
		if code := s.API("POST", "/api/v1/rules", body(extra), &e); code != 400 || e.Error.Field == "" {
			t.Errorf("%s: %d %+v, want 400 naming the field", extra, code, e)
		}
	}
	var on struct{ Enabled bool }
	if code := s.API("POST", "/api/v1/rules", body(""), &on); code != 201 || !on.Enabled {
		t.Fatalf("a rule made without enabled: %d %+v", code, on)
	}
}
