package cases_test

import (
	"encoding/json"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type apiErr struct {
	Error struct{ Code, Field string }
}

func call(t *testing.T, s *apptest.Server, method, path, body string) (int, apiErr) {
	t.Helper()
	code, b := s.Do(method, path, []byte(body), "Authorization: Bearer "+apptest.Token)
	var e apiErr
	_ = json.Unmarshal(b, &e)
	return code, e
}

// A team can be renamed; it can be removed only once it has no open cases
// and no live rule acts for it (409 naming which), and its past cases keep
// its name.
func TestTeamsRenameAndRemove(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		var team struct{ ID, Name string }
		s.API("POST", "/api/v1/teams", map[string]any{"name": "returns"}, &team)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		var rule struct{ ID string }
		s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "defects", "when": {"event": "Order Refunded", "reason": "defective"},
			"then": {"open_case": {"team": "returns", "kind": "return"}}}`), &rule)
		s.MustSend("track", map[string]any{"userId": "t-1", "event": "Order Refunded", "properties": map[string]any{"order_id": "o-1", "reason": "defective"}})
		var alert struct{ ID string }
		s.API("POST", "/api/v1/alerts", json.RawMessage(`{"name": "Complaints", "metric": "complaints", "then": {"open_case": {"team": "returns"}}}`), &alert)
		cs := listCases(t, s, "team=returns")
		if len(cs) != 1 {
			t.Fatalf("cases: %+v", cs)
		}

		for _, c := range []struct{ body, field string }{{`{"name": ""}`, "name"}, {`{"name": "service"}`, "name"}, {`{"email": "not an address"}`, "email"}, {`{"colour": "red"}`, "colour"}, {`{}`, "name"}} {
			if code, e := call(t, s, "PATCH", "/api/v1/teams/"+team.ID, c.body); code != 400 || e.Error.Field != c.field {
				t.Errorf("%s: %d %+v, want 400 naming %s", c.body, code, e, c.field)
			}
		}
		if code := s.API("PATCH", "/api/v1/teams/returns", map[string]any{"name": "Returns desk", "email": "returns@example.com"}, &team); code != 200 || team.Name != "Returns desk" {
			t.Fatalf("rename: %d %+v", code, team)
		}

		// The rule follows the team to its new name.
		s.MustSend("track", map[string]any{"userId": "t-2", "event": "Order Refunded", "properties": map[string]any{"order_id": "o-2", "reason": "defective"}})
		if cs = listCases(t, s, "team=Returns+desk"); len(cs) != 2 {
			t.Fatalf("cases after the rename: %+v", cs)
		}
		if code, e := call(t, s, "DELETE", "/api/v1/teams/"+team.ID, ""); code != 409 || e.Error.Field != "cases" {
			t.Fatalf("a team with an open case: %d %+v", code, e)
		}
		for _, c := range cs {
			if code := s.API("POST", "/api/v1/cases/"+c.ID+"/resolve", map[string]any{"note": "refunded"}, nil); code != 200 {
				t.Fatalf("resolve: %d", code)
			}
		}
		if code, e := call(t, s, "DELETE", "/api/v1/teams/"+team.ID, ""); code != 409 || e.Error.Field != "rules" {
			t.Fatalf("a team a rule acts for: %d %+v", code, e)
		}
		if code := s.API("DELETE", "/api/v1/rules/"+rule.ID, nil, nil); code != 204 {
			t.Fatalf("remove the rule: %d", code)
		}
		var al struct {
			Then struct {
				OpenCase struct{ Team string } `json:"open_case"`
			}
		}
		if s.API("GET", "/api/v1/alerts/"+alert.ID, nil, &al); al.Then.OpenCase.Team != "Returns desk" {
			t.Fatalf("the alert did not follow the rename: %+v", al)
		}
		if code, e := call(t, s, "DELETE", "/api/v1/teams/"+team.ID, ""); code != 409 || e.Error.Field != "alerts" {
			t.Fatalf("a team an alert acts for: %d %+v", code, e)
		}
		if code := s.API("DELETE", "/api/v1/alerts/"+alert.ID, nil, nil); code != 204 {
			t.Fatalf("remove the alert: %d", code)
		}
		// Removed: not listed, not found, but its firings stay readable.
		var alerts struct{ Alerts []struct{ ID string } }
		s.API("GET", "/api/v1/alerts", nil, &alerts)
		if len(alerts.Alerts) != 0 || s.API("GET", "/api/v1/alerts/"+alert.ID, nil, nil) != 404 || s.API("DELETE", "/api/v1/alerts/"+alert.ID, nil, nil) != 404 {
			t.Fatalf("a removed alert: %+v", alerts)
		}
		if code := s.API("GET", "/api/v1/alerts/"+alert.ID+"/firings", nil, nil); code != 200 {
			t.Fatalf("a removed alert's firings: %d", code)
		}
		if code := s.API("DELETE", "/api/v1/teams/"+team.ID, nil, nil); code != 204 {
			t.Fatalf("remove the team: %d", code)
		}
		var c struct{ TeamName, Status string }
		if code := s.API("GET", "/api/v1/cases/"+cs[0].ID, nil, &c); code != 200 || c.TeamName != "Returns desk" || c.Status != "resolved" {
			t.Fatalf("the past case: %d %+v", code, c)
		}
		var teams struct{ Teams []struct{ Name string } }
		s.API("GET", "/api/v1/teams", nil, &teams)
		if len(teams.Teams) != 1 || teams.Teams[0].Name != "service" {
			t.Fatalf("teams: %+v", teams)
		}
		for _, m := range []string{"PATCH", "DELETE"} {
			if code, _ := call(t, s, m, "/api/v1/teams/"+team.ID, `{"name": "x"}`); code != 404 {
				t.Errorf("%s a removed team: %d", m, code)
			}
		}
		if code, _ := call(t, s, "POST", "/api/v1/rules", `{"name": "r", "when": {"event": "X"}, "then": {"open_case": {"team": "Returns desk"}}}`); code != 400 {
			t.Errorf("a rule for a removed team: %d, want 400", code)
		}
	})
}

// An alert can be paused and resumed; bad bodies and unknown ids are refused.
func TestAlertPause(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		var a struct {
			ID      string
			Enabled bool
		}
		if code := s.API("POST", "/api/v1/alerts", json.RawMessage(`{"name": "Complaint volume", "metric": "complaints", "then": {"open_case": {"team": "service"}}}`), &a); code != 201 || !a.Enabled {
			t.Fatalf("alert: %d %+v", code, a)
		}
		if code := s.API("PATCH", "/api/v1/alerts/"+a.ID, map[string]any{"enabled": false}, &a); code != 200 || a.Enabled {
			t.Fatalf("pause: %d %+v", code, a)
		}
		var got struct{ Enabled bool }
		if s.API("GET", "/api/v1/alerts/"+a.ID, nil, &got); got.Enabled {
			t.Fatal("the paused alert reads enabled")
		}
		if code := s.API("PATCH", "/api/v1/alerts/"+a.ID, map[string]any{"enabled": true}, &a); code != 200 || !a.Enabled {
			t.Fatalf("resume: %d %+v", code, a)
		}
		for _, c := range []struct{ body, field string }{{`{}`, "enabled"}, {`{"enabled": 1}`, "enabled"}, {`{"metric": "nps"}`, "metric"}} {
			if code, e := call(t, s, "PATCH", "/api/v1/alerts/"+a.ID, c.body); code != 400 || e.Error.Field != c.field {
				t.Errorf("%s: %d %+v", c.body, code, e)
			}
		}
		if code, e := call(t, s, "PATCH", "/api/v1/alerts/alert_nope", `{"enabled": false}`); code != 404 || e.Error.Code != "not_found" {
			t.Errorf("unknown alert: %d %+v", code, e)
		}
	})
}
