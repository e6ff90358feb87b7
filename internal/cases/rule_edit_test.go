package cases_test

import (
	"encoding/json"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A rule's condition is edited: what arrives after acts on the new one,
// a bad edit is refused naming its field, and the cases opened before stay.
func TestRuleEdit(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		var rule struct {
			ID   string
			Name string
			When struct {
				NPSMax *float64 `json:"nps_max"`
			}
		}
		if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "detractors", "when": {"event": "Survey Responded", "nps_max": 6},
			"then": {"open_case": {"team": "service", "kind": "detractor"}}}`), &rule); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		var sv struct{ ID string }
		s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "NPS", "rhythm": "pulse", "owner": "service",
			"questions": [{"id": "q1", "type": "nps", "text": {"en": "?"}}]}`), &sv)
		answer := func(who string, score int) {
			t.Helper()
			if code := s.API("POST", "/api/v1/surveys/"+sv.ID+"/responses", map[string]any{"customer": who, "answers": map[string]any{"q1": score}}, nil); code != 201 {
				t.Fatalf("answer: %d", code)
			}
		}
		count := func() int {
			t.Helper()
			var out struct{ Cases []struct{ ID string } }
			s.API("GET", "/api/v1/cases?kind=detractor", nil, &out)
			return len(out.Cases)
		}
		answer("u-5a", 5)
		if n := count(); n != 1 {
			t.Fatalf("cases before the edit: %d", n)
		}
		for _, bad := range []struct{ body, field string }{
			{`{"when": {"event": "Survey Responded", "nps_max": 16}}`, "when.nps_max"},
			{`{"then": {"open_case": {"team": "nobody"}}}`, "then.open_case.team"},
			{`{"colour": "red"}`, "colour"},
			{`{}`, "enabled"},
		} {
			var e struct{ Error struct{ Field string } }
			if code := s.API("PATCH", "/api/v1/rules/"+rule.ID, json.RawMessage(bad.body), &e); code != 400 || e.Error.Field != bad.field {
				t.Fatalf("PATCH %s: %d %+v", bad.body, code, e)
			}
		}
		if code := s.API("PATCH", "/api/v1/rules/rule_nope", map[string]any{"name": "x"}, nil); code != 404 {
			t.Fatalf("unknown rule: %d", code)
		}
		if code := s.API("PATCH", "/api/v1/rules/"+rule.ID, json.RawMessage(`{"name": "strong detractors", "when": {"event": "Survey Responded", "nps_max": 4}}`), &rule); code != 200 ||
			rule.Name != "strong detractors" || rule.When.NPSMax == nil || *rule.When.NPSMax != 4 {
			t.Fatalf("edit: %d %+v", code, rule)
		}
		answer("u-5b", 5) // no longer a detractor for the rule
		answer("u-3", 3)
		if n := count(); n != 2 {
			t.Fatalf("cases after the edit: %d, want the first and the 3's", n)
		}
		var firings struct{ Firings []any }
		s.API("GET", "/api/v1/rules/"+rule.ID+"/firings", nil, &firings)
		if len(firings.Firings) < 2 {
			t.Fatalf("firings kept: %d", len(firings.Firings))
		}
	})
}
