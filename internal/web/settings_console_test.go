package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// An admin adds a user and an API token and sets the contact policy from
// the settings page; what the forms write is what the API then reads, and
// the new credentials work. Others see the policy but cannot change it.
func TestConsoleUsersTokensPolicy(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "billing"}, nil)
		as := func(form url.Values) *http.Client { c, _, _ := signIn(t, s.URL, form); return c }
		get := func(c *http.Client, path string) (int, string) {
			resp, err := c.Get(s.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		post := func(c *http.Client, path string, form url.Values) (int, string) {
			_, page := get(c, "/settings")
			form.Set("csrf", csrfField.FindStringSubmatch(page)[1])
			resp, err := c.PostForm(s.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		admin := as(url.Values{"token": {apptest.Token}})

		// A user scoped to one team, who can then sign in.
		if code, body := post(admin, "/settings/users", url.Values{"email": {"Ana@Example.com"}, "password": {"a long passphrase"},
			"role": {"agent"}, "teams": {"service"}}); code != 200 || !strings.Contains(body, "ana@example.com") {
			t.Fatalf("add user: %d\n%s", code, body)
		}
		var users struct {
			Users []struct {
				Email, Role string
				Teams       []string
			}
		}
		s.API("GET", "/api/v1/users", nil, &users)
		if len(users.Users) != 1 || users.Users[0].Email != "ana@example.com" || users.Users[0].Role != "agent" ||
			len(users.Users[0].Teams) != 1 || users.Users[0].Teams[0] != "service" {
			t.Fatalf("users after the form: %+v", users.Users)
		}
		ana := as(url.Values{"email": {"ana@example.com"}, "password": {"a long passphrase"}})
		if code, _ := get(ana, "/cases"); code != 200 {
			t.Fatalf("the new user cannot open the queue: %d", code)
		}
		if code, body := post(admin, "/settings/users", url.Values{"email": {"bo@example.com"}, "password": {"short"}, "role": {"agent"}}); code != 400 || !strings.Contains(body, "password") {
			t.Fatalf("a short password: %d\n%s", code, body)
		}

		// A token, shown once, that works against the API with its role.
		code, body := post(admin, "/settings/tokens", url.Values{"name": {"Nightly export"}, "role": {"analyst"}})
		secret := regexp.MustCompile(`<code>(cxt_[A-Za-z0-9_-]+)</code>`).FindStringSubmatch(body)
		if code != 200 || secret == nil {
			t.Fatalf("create token: %d\n%s", code, body)
		}
		call := func(method, path string) int {
			req, _ := http.NewRequest(method, s.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+secret[1])
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if c := call("GET", "/api/v1/customers"); c != 200 {
			t.Fatalf("the new analyst token reads customers: %d", c)
		}
		if c := call("GET", "/api/v1/users"); c != 403 {
			t.Fatalf("the new analyst token lists users: %d, want 403", c)
		}
		if _, page := get(admin, "/settings"); strings.Contains(page, secret[1]) || !strings.Contains(page, "Nightly export") {
			t.Fatal("the token's secret shows again, or its name is missing")
		}
		if code, _ := post(admin, "/settings/tokens", url.Values{"name": {""}, "role": {"analyst"}}); code != 400 {
			t.Fatalf("a token without a name: %d", code)
		}

		// The contact policy: blanks are no limit.
		if code, _ := post(admin, "/settings/policy", url.Values{"global_max": {"2"}, "global_days": {"30"},
			"persistent_max": {"1"}, "persistent_days": {"7"}, "periodic_max": {""}, "periodic_days": {""}}); code != 200 {
			t.Fatalf("save policy: %d", code)
		}
		type limit struct{ Max, Days int }
		var policy struct {
			Global  *limit
			Rhythms map[string]*limit
		}
		readPolicy := func() string {
			policy.Global, policy.Rhythms = nil, nil
			s.API("GET", "/api/v1/survey-policy", nil, &policy)
			b, _ := json.Marshal(policy)
			return string(b)
		}
		want := `{"Global":{"Max":2,"Days":30},"Rhythms":{"persistent":{"Max":1,"Days":7}}}`
		if got := readPolicy(); got != want {
			t.Fatalf("policy after the form: %s, want %s", got, want)
		}
		if code, body := post(admin, "/settings/policy", url.Values{"global_max": {"two"}, "global_days": {"30"}}); code != 400 || !strings.Contains(body, "global") {
			t.Fatalf("a bad limit: %d", code)
		}
		if code, _ := post(admin, "/settings/policy", url.Values{"pulse_max": {"1"}, "pulse_days": {"0"}}); code != 400 {
			t.Fatalf("zero days: %d", code)
		}
		if got := readPolicy(); got != want {
			t.Fatalf("a refused form changed the policy: %s", got)
		}

		// Each change is in the audit trail under what it changed.
		for q, want := range map[string]string{"resource=user&resourceId=ana@example.com": "ana@example.com",
			"resource=token": "Nightly export", "resource=survey-policy": `"days":30`} {
			var trail struct {
				Entries []struct {
					Action string
					After  json.RawMessage
				}
			}
			s.API("GET", "/api/v1/audit?"+q, nil, &trail)
			found := false
			for _, e := range trail.Entries {
				found = found || (e.Action == "create" || e.Action == "update") && strings.Contains(string(e.After), want)
			}
			if !found {
				t.Errorf("audit %s has no entry with %s: %+v", q, want, trail.Entries)
			}
		}

		// An analyst reads the policy and cannot change it.
		if err := s.Auth.CreateUser(t.Context(), "analyst@example.com", "a long password", "analyst"); err != nil {
			t.Fatal(err)
		}
		analyst := as(url.Values{"email": {"analyst@example.com"}, "password": {"a long password"}})
		_, page := get(analyst, "/settings")
		if strings.Contains(page, `name="global_max"`) || !strings.Contains(page, `id="policy-global"`) || !strings.Contains(page, "2 invitations") {
			t.Fatalf("the analyst's view of the policy:\n%s", page)
		}
		if code, _ := post(analyst, "/settings/policy", url.Values{"global_max": {"9"}, "global_days": {"1"}}); code != 403 {
			t.Fatalf("an analyst saves the policy: %d", code)
		}
		if got := readPolicy(); got != want {
			t.Fatalf("an analyst changed the policy: %s", got)
		}
	})
}
