package cases_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type apiError struct {
	Error struct{ Code, Field, Message string }
}

// do sends a raw body and reads the error it answers, if any.
func do(t *testing.T, s *apptest.Server, method, path, body string) (int, apiError) {
	t.Helper()
	code, out := s.Do(method, path, []byte(body), "Authorization: Bearer "+apptest.Token)
	var e apiError
	_ = json.Unmarshal(out, &e)
	return code, e
}

// A mistyped key in a rule or a survey is refused, naming the field and
// the keys accepted there, and nothing is stored; a value of the wrong type
// or a duration cxloop cannot read names its field too.
func TestManagementBodiesAreStrict(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		var sv struct{ ID string }
		if code := s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "NPS", "rhythm": "persistent", "owner": "service",
			"trigger": {"event": "Order Completed"}, "questions": [{"id": "q1", "type": "nps", "text": {"en": "?"}}]}`), &sv); code != 201 {
			t.Fatalf("survey: %d", code)
		}
		for _, c := range []struct{ method, path, body, field, says string }{
			{"POST", "/api/v1/rules", `{"name": "d", "when": {"event": "Survey Responded", "nps_maxx": 6}, "then": {"open_case": {"team": "service"}}}`,
				"when.nps_maxx", "nps_max"},
			{"POST", "/api/v1/rules", `{"name": "d", "when": {"event": "Survey Responded"}, "then": {"open_case": {"team": "service", "sla_hours": 4}}}`,
				"then.open_case.sla_hours", "sla"},
			{"POST", "/api/v1/rules", `{"name": "d", "when": {"event": "Survey Responded"}, "then": {"opencase": {"team": "service"}}}`,
				"then.opencase", "open_case"},
			{"POST", "/api/v1/rules", `{"name": "d", "when": {"event": "Survey Responded", "nps_max": "six"}, "then": {"open_case": {"team": "service"}}}`,
				"when.nps_max", "must be a JSON number"},
			{"POST", "/api/v1/surveys", `{"name": "x", "rhythm": "persistent", "owner": "service", "trigger": {"event": "Order Completed", "wher": {"channel": "web"}},
				"questions": [{"id": "q1", "type": "nps", "text": {"en": "?"}}]}`, "trigger.wher", "where"},
			{"PATCH", "/api/v1/surveys/" + sv.ID, `{"trigger": {"event": "Order Completed", "wher": {"channel": "web"}}}`, "trigger.wher", "where"},
			{"PATCH", "/api/v1/surveys/" + sv.ID, `{"name": 42}`, "name", "name must be a JSON string, not a number"},
			{"PATCH", "/api/v1/surveys/" + sv.ID, `{"trigger": {"event": "Order Completed", "delay": "2 days"}}`, "trigger.delay", "48h"},
			{"PATCH", "/api/v1/surveys/" + sv.ID, `{"questions": [{"id": "q1", "type": "nps", "txt": {"en": "?"}}]}`, "questions[0].txt", "accepted"},
			{"POST", "/api/v1/teams", `{"name": "sales", "emial": "x@example.com"}`, "emial", "email"},
		} {
			code, e := do(t, s, c.method, c.path, c.body)
			if code != 400 || e.Error.Field != c.field || !strings.Contains(e.Error.Message, c.says) {
				t.Errorf("%s %s %s: %d %+v, want 400 naming %s and saying %q", c.method, c.path, c.body, code, e.Error, c.field, c.says)
			}
		}
		var rules struct{ Rules []any }
		s.API("GET", "/api/v1/rules", nil, &rules)
		var teams struct{ Teams []any }
		s.API("GET", "/api/v1/teams", nil, &teams)
		var got struct {
			Name    string
			Trigger struct {
				Event string
				Where map[string]any
				Delay string
			}
		}
		s.API("GET", "/api/v1/surveys/"+sv.ID, nil, &got)
		if len(rules.Rules) != 0 || len(teams.Teams) != 1 || got.Name != "NPS" || got.Trigger.Event != "Order Completed" || got.Trigger.Where != nil {
			t.Fatalf("a refused body left a trace: rules %v teams %v survey %+v", rules.Rules, teams.Teams, got)
		}
		// Correct bodies are taken, keys matched as JSON matches them.
		if code := s.API("PATCH", "/api/v1/surveys/"+sv.ID, json.RawMessage(`{"trigger": {"event": "Order Completed", "delay": "2d", "where": {"channel": "web"}}}`), &got); code != 200 ||
			got.Trigger.Delay != "2d" || got.Trigger.Where["channel"] != "web" {
			t.Fatalf("patch: %d %+v", code, got)
		}
	})
}

// A rule can be paused, resumed and removed: while paused or once removed
// it fires on nothing, and its past firings and cases stay readable.
func TestRulesPauseAndRemove(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		var sv struct{ ID string }
		s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "NPS", "rhythm": "pulse", "owner": "service",
			"questions": [{"id": "q1", "type": "nps", "text": {"en": "?"}}]}`), &sv)
		var rule struct {
			ID      string
			Enabled bool
		}
		if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "detractors", "when": {"event": "Survey Responded", "nps_max": 6},
			"then": {"open_case": {"team": "service", "kind": "detractor"}}}`), &rule); code != 201 || !rule.Enabled {
			t.Fatalf("rule: %d %+v", code, rule)
		}
		clock.Add(time.Minute)
		n := 0
		answer := func() {
			n++
			if code := s.API("POST", "/api/v1/surveys/"+sv.ID+"/responses", map[string]any{"customer": fmt.Sprintf("u-%d", n), "answers": map[string]any{"q1": 2}}, nil); code != 201 {
				t.Fatalf("answer: %d", code)
			}
		}
		detractorCases := func() int { return len(listCases(t, s, "kind=detractor")) }
		answer()
		if got := detractorCases(); got != 1 {
			t.Fatalf("cases before pausing: %d", got)
		}
		if code := s.API("PATCH", "/api/v1/rules/"+rule.ID, map[string]any{"enabled": false}, &rule); code != 200 || rule.Enabled {
			t.Fatalf("pause: %d %+v", code, rule)
		}
		answer()
		if got := detractorCases(); got != 1 {
			t.Fatalf("a paused rule opened a case: %d", got)
		}
		if code := s.API("PATCH", "/api/v1/rules/"+rule.ID, map[string]any{"enabled": true}, &rule); code != 200 || !rule.Enabled {
			t.Fatalf("resume: %d %+v", code, rule)
		}
		answer()
		if got := detractorCases(); got != 2 {
			t.Fatalf("cases after resuming: %d, want 2", got)
		}
		for _, c := range []struct{ body, field string }{{`{}`, "enabled"}, {`{"enabled": "no"}`, "enabled"}, {`{"enabeld": false}`, "enabeld"}} {
			if code, e := do(t, s, "PATCH", "/api/v1/rules/"+rule.ID, c.body); code != 400 || e.Error.Field != c.field {
				t.Errorf("PATCH %s: %d %+v", c.body, code, e)
			}
		}
		if code, _ := do(t, s, "DELETE", "/api/v1/rules/"+rule.ID, ""); code != 204 {
			t.Fatalf("delete: %d", code)
		}
		answer()
		if got := detractorCases(); got != 2 {
			t.Fatalf("a removed rule opened a case: %d", got)
		}
		var rules struct{ Rules []any }
		s.API("GET", "/api/v1/rules", nil, &rules)
		var firings struct{ Firings []struct{ Outcome string } }
		if code := s.API("GET", "/api/v1/rules/"+rule.ID+"/firings", nil, &firings); code != 200 || len(firings.Firings) != 2 || len(rules.Rules) != 0 {
			t.Fatalf("after removal: rules %v, firings %d %+v", rules.Rules, code, firings)
		}
		for _, c := range []struct{ method, body string }{{"DELETE", ""}, {"PATCH", `{"enabled": true}`}} {
			if code, e := do(t, s, c.method, "/api/v1/rules/"+rule.ID, c.body); code != 404 || e.Error.Code != "not_found" {
				t.Errorf("%s a removed rule: %d %+v", c.method, code, e)
			}
		}
		if code, _ := do(t, s, "DELETE", "/api/v1/rules/rule_nope", ""); code != 404 {
			t.Errorf("delete unknown: %d", code)
		}
	})
}

// A detractor's case reads the survey, the score and the customer's words
// verbatim, whichever path the answer took; a repeated import stores and
// fires nothing new and says so.
func TestDetractorCaseCarriesTheAnswer(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		var sv struct{ ID string }
		if code := s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "Post-order", "rhythm": "pulse", "owner": "service",
			"questions": [{"id": "q1", "type": "nps", "text": {"en": "Recommend us?"}}, {"id": "why", "type": "text", "text": {"en": "What could we do better?"}}]}`), &sv); code != 201 {
			t.Fatalf("survey: %d", code)
		}
		if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "Detractor follow-up", "when": {"event": "Survey Responded", "nps_max": 6},
			"then": {"open_case": {"team": "service", "kind": "detractor"}}}`), nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		clock.Add(time.Minute)
		comment := func(who string) string {
			return "The tent for " + who + " arrived torn, and support never answered my two emails about it." + strings.Repeat(" Very disappointing.", 8)
		}
		if code := s.API("POST", "/api/v1/surveys/"+sv.ID+"/responses", map[string]any{"customer": "api-1", "answers": map[string]any{"q1": 4, "why": comment("api-1")}}, nil); code != 201 {
			t.Fatalf("api answer: %d", code)
		}
		s.MustSend("track", map[string]any{"userId": "v1-1", "event": "Survey Responded",
			"properties": map[string]any{"survey_id": sv.ID, "answers": map[string]any{"q1": 3, "why": comment("v1-1")}}})
		file := "id,customer,q1,why\nr1,csv-1,2,\"" + comment("csv-1") + "\"\nr2,csv-2,9,great\nr3,csv-3,1,\n"
		type result struct {
			Imported, Duplicates int
			FiredRules           *int
		}
		importFile := func() result {
			code, body := s.Do("POST", "/api/v1/surveys/"+sv.ID+"/responses", []byte(file), "Authorization: Bearer "+apptest.Token, "Content-Type: text/csv")
			var res result
			if err := json.Unmarshal(body, &res); err != nil || code != 200 {
				t.Fatalf("import: %d %s", code, body)
			}
			return res
		}
		if res := importFile(); res.Imported != 3 || res.Duplicates != 0 || res.FiredRules == nil || *res.FiredRules != 2 {
			t.Fatalf("first import: %+v", res)
		}
		if res := importFile(); res.Imported != 0 || res.Duplicates != 3 || res.FiredRules == nil || *res.FiredRules != 0 {
			t.Fatalf("repeated import: %+v", res)
		}
		var list struct {
			Cases []struct {
				ID, Subject, Body string
				UserID            string `json:"userId"`
			}
		}
		s.Sync()
		s.API("GET", "/api/v1/cases?kind=detractor", nil, &list)
		want := map[string]string{"api-1": "NPS 4", "v1-1": "NPS 3", "csv-1": "NPS 2", "csv-3": "NPS 1"}
		if len(list.Cases) != len(want) {
			t.Fatalf("cases: %+v", list.Cases)
		}
		for _, c := range list.Cases {
			var full struct{ Subject, Body, UserID string }
			s.API("GET", "/api/v1/cases/"+c.ID, nil, &full)
			who := c.UserID
			// The subject: the survey, the score and the comment's start.
			subject := "Post-order: " + want[who]
			if who != "csv-3" {
				subject += " — " + string([]rune(comment(who))[:79]) + "…"
			}
			if full.Subject != subject || !strings.Contains(full.Body, "Post-order") || !strings.Contains(full.Body, want[who]) {
				t.Errorf("%s's case: %q / %q", who, full.Subject, full.Body)
			}
			if who != "csv-3" && !strings.Contains(full.Body, "What could we do better?\n"+comment(who)) {
				t.Errorf("%s's case lacks the comment: %q", who, full.Body)
			}
		}
		// The customer page shows the whole answer.
		page := s.Page("/customers/api-1")
		if !strings.Contains(page, comment("api-1")) || !strings.Contains(page, "NPS: 4") {
			t.Errorf("customer page lacks the answer:\n%s", page)
		}
	})
}

// The unknown-column error lists the columns an answers file takes.
func TestAnswerFileColumns(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	var sv struct{ ID string }
	s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "NPS", "rhythm": "pulse", "owner": "service",
		"questions": [{"id": "q1", "type": "nps", "text": {"en": "?"}}]}`), &sv)
	code, body := s.Do("POST", "/api/v1/surveys/"+sv.ID+"/responses", []byte("customer,shop,q1\nu1,x,5\n"), "Authorization: Bearer "+apptest.Token, "Content-Type: text/csv")
	var e apiError
	_ = json.Unmarshal(body, &e)
	if code != 400 || e.Error.Field != "shop" || !strings.Contains(e.Error.Message, "customer, id, at, channel, store, language, order_id") || !strings.Contains(e.Error.Message, "q1") {
		t.Fatalf("%d %s", code, body)
	}
	code, body = s.Do("POST", "/api/v1/surveys/"+sv.ID+"/responses", []byte("customer,store,q1\nu1,Berlin,5\n"), "Authorization: Bearer "+apptest.Token, "Content-Type: text/csv")
	if code != 200 || !strings.Contains(string(body), `"imported":1`) {
		t.Fatalf("store column: %d %s", code, body)
	}
}

// A team notified of a detractor reads the survey, the score and the comment.
func TestDetractorNotificationCarriesTheAnswer(t *testing.T) {
	mb := apptest.StartMailbox(t)
	s := apptest.StartWith(t, storetest.DSN(t, "sqlite"), func(c *app.Config) {
		c.Mail = &outboxMailer{Addr: mb.Addr, From: "cxloop@northwind.test"}
	})
	s.API("POST", "/api/v1/teams", map[string]any{"name": "service", "email": "service@northwind.test"}, nil)
	var sv struct{ ID string }
	s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "Post-order", "rhythm": "pulse", "owner": "service",
		"questions": [{"id": "q1", "type": "nps", "text": {"en": "Recommend us?"}}, {"id": "why", "type": "text", "text": {"en": "Why?"}}]}`), &sv)
	if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "detractors", "when": {"event": "Survey Responded", "nps_max": 6},
		"then": {"notify": {"team": "service"}}}`), nil); code != 201 {
		t.Fatalf("rule: %d", code)
	}
	s.MustSend("track", map[string]any{"userId": "n-1", "event": "Survey Responded",
		"properties": map[string]any{"survey_id": sv.ID, "answers": map[string]any{"q1": 2, "why": "The zip broke on day one."}}})
	s.Sync()
	m := mb.Wait(t, 1)
	if txt := m.Text(); !strings.Contains(txt, "Post-order") || !strings.Contains(txt, "NPS 2") || !strings.Contains(txt, "The zip broke on day one.") {
		t.Fatalf("notification:\n%s", txt)
	}
}
