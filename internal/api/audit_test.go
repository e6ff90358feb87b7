package api_test

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/api"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type auditEntry struct {
	ID         int64
	At         time.Time
	Actor      string
	ActorID    string
	Role       string
	Address    string
	Action     string
	Resource   string
	ResourceID string
	Method     string
	Route      string
	Status     int
	Before     json.RawMessage
	After      json.RawMessage
}

type auditPage struct {
	Entries []auditEntry
	Next    *string
}

func readAudit(t *testing.T, s *apptest.Server, query string) auditPage {
	t.Helper()
	var page auditPage
	if code := s.API("GET", "/api/v1/audit"+query, nil, &page); code != 200 {
		t.Fatalf("GET /api/v1/audit%s: %d", query, code)
	}
	return page
}

// Creating a token, a webhook, a rule and a user, pausing the rule and
// revoking the token through the API each leave one entry: who, when by
// cxloop's clock, from where, what, and the state after, secrets redacted.
func TestAuditTrailRecordsChanges(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		var tok struct{ ID, Token string }
		if code := s.API("POST", "/api/v1/tokens", map[string]any{"name": "deploy", "role": "owner"}, &tok); code != 201 {
			t.Fatalf("token: %d", code)
		}
		var hook struct{ ID, Secret string }
		if code := s.API("POST", "/api/v1/webhooks", map[string]any{"url": "http://127.0.0.1:9/hook?sig=q5e_cret", "events": []string{"Case Opened"}}, &hook); code != 201 {
			t.Fatalf("webhook: %d", code)
		}
		var team struct{ ID string }
		if code := s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, &team); code != 201 || team.ID == "" {
			t.Fatalf("team: %d %+v", code, team)
		}
		var rule struct{ ID string }
		if code := s.API("POST", "/api/v1/rules", map[string]any{"name": "detractors", "when": map[string]any{"event": "Survey Responded", "nps_max": 6},
			"then": map[string]any{"open_case": map[string]any{"team": "service", "kind": "detractor"}, "webhook": hook.ID}}, &rule); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		clock.Add(time.Hour)
		if code := s.API("PATCH", "/api/v1/rules/"+rule.ID, map[string]any{"enabled": false}, nil); code != 200 {
			t.Fatalf("pause: %d", code)
		}
		const password = "correct horse battery staple"
		if code := s.API("POST", "/api/v1/users", map[string]any{"email": "Ana@Example.com", "password": password, "role": "agent"}, nil); code != 201 {
			t.Fatalf("user: %d", code)
		}
		if code := s.API("DELETE", "/api/v1/tokens/"+tok.ID, nil, nil); code != 200 {
			t.Fatalf("revoke: %d", code)
		}
		// A failed change records nothing.
		if code := s.API("POST", "/api/v1/rules", map[string]any{"name": "broken"}, nil); code != 400 {
			t.Fatalf("bad rule: %d", code)
		}

		// The first start's source and admin token are recorded as cxloop's own.
		boot := readAudit(t, s, "?actor=bootstrap")
		if len(boot.Entries) != 2 || boot.Entries[0].Action+" "+boot.Entries[0].Resource != "create token" ||
			boot.Entries[1].Resource != "source" || boot.Entries[0].Address != "local" || !strings.Contains(string(boot.Entries[0].After), `"role":"admin"`) {
			t.Errorf("first start's entries: %+v", boot.Entries)
		}

		page := readAudit(t, s, "?actor=admin")
		var got []string
		for _, e := range page.Entries {
			got = append(got, e.Action+" "+e.Resource+" "+e.ResourceID)
		}
		want := []string{"revoke token " + tok.ID, "create user ana@example.com", "pause rule " + rule.ID,
			"create rule " + rule.ID, "create team " + team.ID, "create webhook " + hook.ID, "create token " + tok.ID}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for i, e := range page.Entries {
			if e.Actor != "admin" || !strings.HasPrefix(e.ActorID, "token:tok_") || e.Role != "admin" || e.Address != "127.0.0.1" {
				t.Errorf("entry %d's actor or address: %+v", i, e)
			}
			at := apptest.Epoch
			if i < 3 {
				at = at.Add(time.Hour)
			}
			if !e.At.Equal(at) {
				t.Errorf("entry %d at %v, want %v (cxloop's clock)", i, e.At, at)
			}
		}
		byAction := func(action, resource string) auditEntry {
			for _, e := range page.Entries {
				if e.Action == action && e.Resource == resource {
					return e
				}
			}
			t.Fatalf("no %s %s entry", action, resource)
			return auditEntry{}
		}
		wh := byAction("create", "webhook")
		if wh.Method != "POST" || wh.Route != "/api/v1/webhooks" || wh.Status != 201 {
			t.Errorf("webhook entry %+v", wh)
		}
		var after struct {
			URL    string
			Events []string
		}
		if err := json.Unmarshal(wh.After, &after); err != nil || after.URL != "http://127.0.0.1:9/hook" || len(after.Events) != 1 {
			t.Errorf("webhook after %s (%v)", wh.After, err)
		}
		paused := byAction("pause", "rule")
		if paused.Route != "/api/v1/rules/{id}" || paused.Method != "PATCH" || !strings.Contains(string(paused.After), `"enabled":false`) || !strings.Contains(string(paused.Before), `"enabled":true`) {
			t.Errorf("pause entry %+v after %s", paused, paused.After)
		}
		if tk := byAction("create", "token"); !strings.Contains(string(tk.After), `"name":"deploy"`) || !strings.Contains(string(tk.After), `"role":"owner"`) {
			t.Errorf("token after %s", tk.After)
		}
		if u := byAction("create", "user"); !strings.Contains(string(u.After), `"password":"[redacted]"`) {
			t.Errorf("user after %s", u.After)
		}
		if rv := byAction("revoke", "token"); rv.Method != "DELETE" || rv.Route != "/api/v1/tokens/{id}" || rv.After != nil {
			t.Errorf("revoke entry %+v", rv)
		}

		// No secret is anywhere in the trail.
		code, raw := s.Do("GET", "/api/v1/audit?limit=500", nil, "Authorization: Bearer "+apptest.Token)
		if code != 200 {
			t.Fatal(code)
		}
		for _, secret := range []string{tok.Token, hook.Secret, password, apptest.Token, "q5e_cret"} {
			if secret == "" || strings.Contains(string(raw), secret) {
				t.Errorf("the trail holds the secret %q", secret)
			}
		}

		// Filters.
		count := func(query string) int { return len(readAudit(t, s, query).Entries) }
		for query, n := range map[string]int{
			"?resource=webhook":                    1,
			"?resource=rule&resourceId=" + rule.ID: 2,
			"?action=create":                       7,
			"?actor=admin":                         7,
			"?actor=" + url.QueryEscape(page.Entries[0].ActorID): 7,
			"?actor=deploy": 0,
			"?from=" + url.QueryEscape(apptest.Epoch.Add(30*time.Minute).Format(time.RFC3339)): 3,
			"?to=" + url.QueryEscape(apptest.Epoch.Add(30*time.Minute).Format(time.RFC3339)):   6,
		} {
			if got := count(query); got != n {
				t.Errorf("%s: %d entries, want %d", query, got, n)
			}
		}
		// Pages follow the cursor, newest first, each entry once.
		var paged []int64
		query := "?limit=3"
		for {
			p := readAudit(t, s, strings.Replace(query, "?", "?actor=admin&", 1))
			for _, e := range p.Entries {
				paged = append(paged, e.ID)
			}
			if p.Next == nil {
				break
			}
			query = "?limit=3&cursor=" + *p.Next
		}
		if len(paged) != 7 || !sort.SliceIsSorted(paged, func(i, j int) bool { return paged[i] > paged[j] }) {
			t.Errorf("pages gave %v", paged)
		}
		if code, _ := s.Do("GET", "/api/v1/audit?limit=0", nil, "Authorization: Bearer "+apptest.Token); code != 400 {
			t.Errorf("limit=0: %d", code)
		}
	})
}

// Only admins read the trail; refused bearer tokens are counted, not
// recorded.
func TestAuditTrailIsForAdmins(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		for _, role := range []string{"analyst", "agent", "owner"} {
			var tok struct{ Token string }
			s.API("POST", "/api/v1/tokens", map[string]any{"name": role, "role": role}, &tok)
			if code, body := s.Do("GET", "/api/v1/audit", nil, "Authorization: Bearer "+tok.Token); code != 403 {
				t.Errorf("%s read the trail: %d %s", role, code, body)
			}
		}
		before := len(readAudit(t, s, "").Entries)
		for i := 0; i < 3; i++ {
			if code, _ := s.Do("POST", "/api/v1/tokens", []byte(`{"name":"x","role":"admin"}`), "Authorization: Bearer cxt_not_a_token"); code != 401 {
				t.Fatalf("unknown token: %d", code)
			}
		}
		if after := len(readAudit(t, s, "").Entries); after != before {
			t.Errorf("refused tokens wrote %d entries", after-before)
		}
		resp, err := http.Get(s.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), `cxloop_api_auth_failures_total{reason="refused"} 3`) {
			t.Errorf("refused tokens not counted:\n%s", grepLines(string(b), "cxloop_api_auth"))
		}
	})
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// The trail holds customers by id only: a case note's text, a customer's
// email (even where a path names the customer by it) never reach it, and
// the customer's export and erasure are recorded by its cus_ id.
func TestAuditTrailKeepsNoCustomerData(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		const email = "cora.private@example.net"
		const note = "Cora disputes the card charge, account 4417"
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		if code := s.API("POST", "/api/v1/rules", map[string]any{"name": "complaints", "when": map[string]any{"event": "Complaint Submitted"},
			"then": map[string]any{"open_case": map[string]any{"team": "service", "kind": "complaint"}}}, nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		s.MustSend("identify", map[string]any{"userId": "cora", "traits": map[string]any{"name": "Cora Case", "email": email}})
		s.MustSend("track", map[string]any{"userId": "cora", "event": "Complaint Submitted", "properties": map[string]any{"text": "Late again"}})
		s.Sync()
		var cs struct{ Cases []struct{ ID string } }
		s.API("GET", "/api/v1/cases", nil, &cs)
		if len(cs.Cases) == 0 {
			t.Fatalf("no case opened")
		}
		if code := s.API("POST", "/api/v1/cases/"+cs.Cases[0].ID+"/notes", map[string]any{"note": note}, nil); code != 200 {
			t.Fatalf("note: %d", code)
		}
		var cus struct{ ID string }
		s.API("GET", "/api/v1/customers/cora", nil, &cus)
		if code := s.API("POST", "/api/v1/customers/"+url.PathEscape(email)+"/survey-opt-out", map[string]any{}, nil); code/100 != 2 {
			t.Fatalf("opt-out by email: %d", code)
		}
		// Export and erase, naming the customer by email.
		if code, body := s.Do("GET", "/api/v1/customers/"+url.PathEscape(email)+"/export", nil, "Authorization: Bearer "+apptest.Token); code != 200 || !strings.Contains(string(body), email) {
			t.Fatalf("export: %d", code)
		}
		if code := s.API("DELETE", "/api/v1/customers/"+url.PathEscape(email), nil, nil); code != 200 {
			t.Fatalf("erase: %d", code)
		}
		code, raw := s.Do("GET", "/api/v1/audit?limit=500", nil, "Authorization: Bearer "+apptest.Token)
		if code != 200 {
			t.Fatal(code)
		}
		for _, private := range []string{email, note, "Cora", "4417"} {
			if strings.Contains(string(raw), private) {
				t.Errorf("the trail holds customer data %q: %s", private, raw)
			}
		}
		var page auditPage
		_ = json.Unmarshal(raw, &page)
		found := map[string]auditEntry{}
		for _, e := range page.Entries {
			found[e.Action+" "+e.Resource] = e
		}
		if e := found["note case"]; e.ResourceID != cs.Cases[0].ID || e.After != nil || e.Route != "/api/v1/cases/{id}/notes" {
			t.Errorf("note entry %+v", e)
		}
		if e := found["opt_out customer"]; e.ResourceID != cus.ID || !strings.HasPrefix(cus.ID, "cus_") || e.After != nil {
			t.Errorf("opt-out entry %+v, customer %s", e, cus.ID)
		}
		for _, action := range []string{"export", "erase"} {
			e := found[action+" customer"]
			if e.ResourceID != cus.ID || e.After != nil || e.Actor != "admin" || e.Address != "127.0.0.1" {
				t.Errorf("%s entry %+v, customer %s", action, e, cus.ID)
			}
		}
		if e := found["erase customer"]; e.Method != "DELETE" || e.Route != "/api/v1/customers/{id}" || e.Status != 200 {
			t.Errorf("erase entry %+v", e)
		}
	})
}

// Every route that changes something is classified in one place: whether
// its entries keep configuration states or ids only.
func TestEveryChangeIsClassified(t *testing.T) {
	var missing []string
	for _, rt := range api.Routes(api.Deps{}) {
		if rt.Method == "GET" {
			continue
		}
		if !api.Classified(rt.Method, rt.Path) {
			missing = append(missing, rt.Method+" "+rt.Path)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("add these routes to auditRoutes in internal/api/audit.go (configuration, or customers' data):\n%s", strings.Join(missing, "\n"))
	}
	for _, k := range []string{"GET /api/v1/customers/{id}/export", "DELETE /api/v1/customers/{id}"} {
		m, p, _ := strings.Cut(k, " ")
		if !api.Classified(m, p) {
			t.Errorf("%s is not classified", k)
		}
	}
}

// An erasure a Segment delete message asks for is recorded by the source
// that sent it, with the customer's profile id and not the userId.
func TestSegmentDeleteIsRecorded(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.MustSend("identify", map[string]any{"userId": "u-zelda-77", "traits": map[string]any{"email": "zelda@example.org"}})
		s.Sync()
		var cus struct{ ID string }
		s.API("GET", "/api/v1/customers/u-zelda-77", nil, &cus)
		var src struct{ ID, WriteKey string }
		if code := s.API("POST", "/api/v1/sources", map[string]any{"name": "warehouse", "channel": "server"}, &src); code != 201 {
			t.Fatalf("source: %d", code)
		}
		b, _ := json.Marshal(map[string]any{"batch": []any{map[string]any{"type": "delete", "userId": "u-zelda-77", "messageId": "del-1"}}})
		key := base64.StdEncoding.EncodeToString([]byte(src.WriteKey + ":"))
		if code, body := s.Do("POST", "/v1/batch", b, "Authorization: Basic "+key, "Content-Type: application/json"); code != 200 {
			t.Fatalf("delete: %d %s", code, body)
		}
		page := readAudit(t, s, "?action=erase")
		if len(page.Entries) != 1 {
			t.Fatalf("erase entries: %+v", page.Entries)
		}
		e := page.Entries[0]
		if e.ResourceID != cus.ID || !strings.HasPrefix(cus.ID, "cus_") || e.Actor != "source:"+src.ID || e.Route != "/v1/batch" || e.Address != "127.0.0.1" {
			t.Errorf("entry %+v (customer %s, source %s)", e, cus.ID, src.ID)
		}
		_, raw := s.Do("GET", "/api/v1/audit", nil, "Authorization: Bearer "+apptest.Token)
		if strings.Contains(string(raw), "zelda") {
			t.Errorf("the trail names the customer: %s", raw)
		}
	})
}

// A CSV export of a list is recorded (action export, the list, never its
// query), through the API and the console's download alike; the same list
// as JSON is a read and is not.
func TestCSVExportsAreRecorded(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.MustSend("identify", map[string]any{"userId": "u-csv", "traits": map[string]any{"email": "csv.person@example.org"}})
		s.Sync()
		if code := s.API("GET", "/api/v1/customers?q=csv.person@example.org", nil, nil); code != 200 {
			t.Fatalf("json: %d", code)
		}
		if got := readAudit(t, s, "?action=export").Entries; len(got) != 0 {
			t.Fatalf("a JSON read was recorded: %+v", got)
		}
		code, body := s.Do("GET", "/api/v1/customers?format=csv&q=csv.person@example.org", nil, "Authorization: Bearer "+apptest.Token)
		if code != 200 || !strings.Contains(string(body), "csv.person@example.org") {
			t.Fatalf("csv: %d %s", code, body)
		}
		page := s.Page("/export/customers?q=csv.person@example.org")
		if !strings.Contains(page, "csv.person@example.org") {
			t.Fatalf("console csv: %q", page)
		}
		got := readAudit(t, s, "?action=export").Entries
		if len(got) != 2 {
			t.Fatalf("exports recorded: %+v", got)
		}
		for _, e := range got {
			if e.Resource != "customer" || e.Route != "/api/v1/customers" || e.Method != "GET" || e.Status != 200 || e.Actor == "" {
				t.Fatalf("entry: %+v", e)
			}
		}
		_, raw := s.Do("GET", "/api/v1/audit?limit=500", nil, "Authorization: Bearer "+apptest.Token)
		if strings.Contains(string(raw), "csv.person") {
			t.Fatal("the trail holds the export's query")
		}
	})
}

// Settings replaced whole (the contact policy, the tiers, the journey's
// stages, a product category) keep their state before and after.
func TestSettingsKeepBeforeAndAfter(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		for _, max := range []int{2, 3} {
			if code := s.API("PUT", "/api/v1/survey-policy", map[string]any{"global": map[string]any{"max": max, "days": 30}, "rhythms": map[string]any{}}, nil); code != 200 {
				t.Fatalf("policy: %d", code)
			}
		}
		got := readAudit(t, s, "?resource=survey_policy").Entries
		if len(got) != 2 || !strings.Contains(string(got[0].Before), `"max":2`) || !strings.Contains(string(got[0].After), `"max":3`) {
			t.Fatalf("policy entries: %+v", got)
		}
		var stages map[string][]string
		s.API("GET", "/api/v1/journeys/stages", nil, &stages)
		if code := s.API("PUT", "/api/v1/journeys/stages", map[string][]string{"recognize": {"Page Viewed"}, "request": {"Order Completed"}, "respond": {"Case Resolved"}}, nil); code != 200 {
			t.Fatalf("stages: %d", code)
		}
		got = readAudit(t, s, "?resource=journey_stages").Entries
		if len(got) != 1 || len(got[0].Before) < 3 || !strings.Contains(string(got[0].After), "Case Resolved") {
			t.Fatalf("stages entries: %+v", got)
		}
	})
}
