package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type trailEntry struct {
	Actor, ActorID, Role, Address, Action, Resource, ResourceID, Method, Route string
	Status                                                                     int
	After                                                                      json.RawMessage
}

func trail(t *testing.T, s *apptest.Server, query string) ([]trailEntry, string) {
	t.Helper()
	code, raw := s.Do("GET", "/api/v1/audit?limit=500"+query, nil, "Authorization: Bearer "+apptest.Token)
	if code != 200 {
		t.Fatalf("audit: %d %s", code, raw)
	}
	var page struct{ Entries []trailEntry }
	if err := json.Unmarshal(raw, &page); err != nil {
		t.Fatal(err)
	}
	return page.Entries, string(raw)
}

// Console sign-ins are recorded: the successful one with its user, each
// failed one with the email tried (never a password or a token), and the
// first refused by the rate limit — the rest are only counted.
func TestConsoleSignInsAreRecorded(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		const password = "a long password"
		if err := s.Auth.CreateUser(t.Context(), "ana@example.com", password, "agent"); err != nil {
			t.Fatal(err)
		}
		post := func(form url.Values) int {
			c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			resp, err := c.PostForm(s.URL+"/login", form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if code := post(url.Values{"email": {"Ana@Example.com"}, "password": {password}}); code != http.StatusSeeOther {
			t.Fatalf("sign-in: %d", code)
		}
		if code := post(url.Values{"token": {"cxt_guessed_token_value"}}); code != 401 {
			t.Fatalf("token guess: %d", code)
		}
		const wrong = "not her password"
		for i := 0; i < 5; i++ {
			if code := post(url.Values{"email": {"ana@example.com"}, "password": {wrong}}); code != 401 {
				t.Fatalf("wrong password %d: %d", i, code)
			}
		}
		for i := 0; i < 3; i++ { // the clock stands still: the account waits
			if code := post(url.Values{"email": {"ana@example.com"}, "password": {wrong}}); code != 429 {
				t.Fatalf("refused attempt %d: %d", i, code)
			}
		}
		entries, raw := trail(t, s, "&resource=session")
		count := map[string]int{}
		for _, e := range entries {
			count[e.Action]++
			if e.Address != "127.0.0.1" || e.Route != "/login" || e.Method != "POST" {
				t.Errorf("entry %+v", e)
			}
			switch {
			case e.Action == "sign_in":
				if e.Actor != "ana@example.com" || !strings.HasPrefix(e.ActorID, "user:usr_") || e.Role != "agent" || e.Status != 303 {
					t.Errorf("sign-in entry %+v", e)
				}
			case e.Action == "sign_in_failed" && e.ActorID == "token":
				if e.Actor != "" || e.Status != 401 {
					t.Errorf("token guess entry %+v", e)
				}
			case e.Action == "sign_in_failed":
				if e.Actor != "ana@example.com" || e.Status != 401 {
					t.Errorf("failed entry %+v", e)
				}
			case e.Action == "sign_in_refused":
				if e.Actor != "ana@example.com" || e.Status != 429 {
					t.Errorf("refused entry %+v", e)
				}
			}
		}
		if count["sign_in"] != 1 || count["sign_in_failed"] != 6 || count["sign_in_refused"] != 1 || len(entries) != 8 {
			t.Errorf("sign-in entries %v", count)
		}
		for _, secret := range []string{password, wrong, "cxt_guessed_token_value"} {
			if strings.Contains(raw, secret) {
				t.Errorf("the trail holds %q", secret)
			}
		}
	})
}

var tdAction = regexp.MustCompile(`<td data-label="Action" class="action" data-action="([^"]*)">`)

// Changes made from the console's forms are recorded with their form's
// fields (no CSRF token, no secret), and the console's audit page lists
// them for admins only.
func TestConsoleChangesAreRecorded(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		if err := s.Auth.CreateUser(t.Context(), "owen@example.com", "a long password", "owner"); err != nil {
			t.Fatal(err)
		}
		signIn := func(form url.Values) (*http.Client, string) {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar}
			resp, err := c.PostForm(s.URL+"/login", form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			resp, err = c.Get(s.URL + "/settings")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return c, csrfField.FindStringSubmatch(string(b))[1]
		}
		get := func(c *http.Client, path string) (int, string) {
			resp, err := c.Get(s.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		admin, csrf := signIn(url.Values{"token": {apptest.Token}})
		resp, err := admin.PostForm(s.URL+"/settings/webhooks", url.Values{"csrf": {csrf}, "url": {"http://127.0.0.1:9/in"}, "events": {"Case Opened"}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		secret := regexp.MustCompile(`whsec_[A-Za-z0-9_\-]+`).FindString(string(b))
		if resp.StatusCode != 200 || secret == "" {
			t.Fatalf("webhook form: %d", resp.StatusCode)
		}
		resp, err = admin.PostForm(s.URL+"/settings/teams", url.Values{"csrf": {csrf}, "name": {"service"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()

		// A customer's export and erasure from the console, the customer named by email.
		const email = "cora.private@example.net"
		s.MustSend("identify", map[string]any{"userId": "cora", "traits": map[string]any{"email": email}})
		s.Sync()
		var cus struct{ ID string }
		s.API("GET", "/api/v1/customers/cora", nil, &cus)
		if code, body := get(admin, "/customers/"+url.PathEscape(email)+"/export"); code != 200 || !strings.Contains(body, email) {
			t.Fatalf("console export: %d", code)
		}
		resp, err = admin.PostForm(s.URL+"/customers/"+url.PathEscape(email)+"/erase", url.Values{"csrf": {csrf}, "confirm": {"erase"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Request.URL.Path, "/privacy") {
			t.Fatalf("console erase: %d at %s", resp.StatusCode, resp.Request.URL)
		}

		entries, raw := trail(t, s, "")
		for _, action := range []string{"export", "erase"} {
			var e *trailEntry
			for i := range entries {
				if entries[i].Action == action && entries[i].Resource == "customer" {
					e = &entries[i]
				}
			}
			if e == nil || e.ResourceID != cus.ID || !strings.HasPrefix(cus.ID, "cus_") || e.After != nil || e.Actor != "admin" {
				t.Errorf("console %s entry %+v (customer %s)", action, e, cus.ID)
			}
		}
		if strings.Contains(raw, email) || strings.Contains(raw, "cora\"") {
			t.Errorf("the trail names the customer: %s", raw)
		}
		var hook, team *trailEntry
		for i, e := range entries {
			switch e.Action + " " + e.Resource {
			case "create webhook":
				hook = &entries[i]
			case "create team":
				team = &entries[i]
			}
		}
		if hook == nil || team == nil {
			t.Fatalf("console changes not recorded: %s", raw)
		}
		if !strings.HasPrefix(hook.ResourceID, "wh_") || hook.Actor != "admin" || !strings.HasPrefix(hook.ActorID, "token:") ||
			hook.Route != "/settings/{what}" || hook.Address != "127.0.0.1" {
			t.Errorf("webhook entry %+v", hook)
		}
		var after map[string]any
		if err := json.Unmarshal(hook.After, &after); err != nil || after["url"] != "http://127.0.0.1:9/in" || after["events"] != "Case Opened" || after["csrf"] != nil {
			t.Errorf("webhook after %s", hook.After)
		}
		if team.ResourceID == "" || !strings.Contains(string(team.After), `"name":"service"`) {
			t.Errorf("team entry %+v %s", team, team.After)
		}
		for _, leak := range []string{secret, csrf, apptest.Token} {
			if strings.Contains(raw, leak) {
				t.Errorf("the trail holds %q", leak)
			}
		}

		// The page lists the entries for an admin, linked from the navigation.
		code, page := get(admin, "/audit")
		if code != 200 || !strings.Contains(page, `href="/audit"`) || !strings.Contains(page, hook.ResourceID) {
			t.Fatalf("/audit: %d", code)
		}
		actions := tdAction.FindAllStringSubmatch(page, -1)
		if len(actions) != len(entries) || actions[0][1] != entries[0].Action {
			t.Errorf("/audit shows %d entries (first %v), the API %d", len(actions), actions, len(entries))
		}
		code, page = get(admin, "/audit?action=sign_in")
		for _, m := range tdAction.FindAllStringSubmatch(page, -1) {
			if m[1] != "sign_in" {
				t.Errorf("/audit?action=sign_in shows %s", m[1])
			}
		}
		if code != 200 || len(tdAction.FindAllStringSubmatch(page, -1)) != 1 { // the admin's sign-in
			t.Errorf("/audit?action=sign_in: %d, %d rows", code, len(tdAction.FindAllStringSubmatch(page, -1)))
		}
		owner, _ := signIn(url.Values{"email": {"owen@example.com"}, "password": {"a long password"}})
		if code, page := get(owner, "/audit"); code != 403 {
			t.Errorf("an owner opened /audit: %d", code)
		} else if strings.Contains(page, `href="/audit"`) {
			t.Error("an owner's navigation links the audit trail")
		}
	})
}
