package web_test

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// consoleAdmin signs in to the console with the admin token and returns the
// client and the CSRF token of the page at path.
func consoleAdmin(t *testing.T, s *apptest.Server, path string) (*http.Client, string, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(s.URL+"/login", url.Values{"token": {apptest.Token}, "next": {path}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindStringSubmatch(string(b))
	if m == nil {
		t.Fatalf("no CSRF token on %s:\n%s", path, b)
	}
	return c, m[1], string(b)
}

func consolePost(t *testing.T, c *http.Client, target string, form url.Values) (int, string) {
	t.Helper()
	resp, err := c.PostForm(target, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// The console pauses, resumes and removes webhooks, sources and earning
// rules, gives a source a new key, and removes a team (or says why not),
// each with the page's CSRF token.
func TestConsoleSwitches(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		var hook struct{ ID string }
		s.API("POST", "/api/v1/webhooks", map[string]any{"url": "http://example.com/h", "events": []string{"Case Opened"}}, &hook)
		var team struct{ ID string }
		s.API("POST", "/api/v1/teams", map[string]any{"name": "returns"}, &team)
		s.API("POST", "/api/v1/rules", map[string]any{"name": "r", "when": map[string]any{"event": "X"}, "then": map[string]any{"open_case": map[string]any{"team": "returns"}}}, nil)
		var src struct{ ID, WriteKey string }
		s.API("POST", "/api/v1/sources", map[string]any{"name": "Tills"}, &src)
		var lr struct{ ID string }
		s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points": 5}, &lr)

		c, csrf, page := consoleAdmin(t, s, "/settings")
		for _, want := range []string{`action="/settings/webhooks/` + hook.ID + `/pause"`, `action="/settings/webhooks/` + hook.ID + `/delete"`, `action="/settings/teams/` + team.ID + `/delete"`} {
			if !strings.Contains(page, want) {
				t.Fatalf("settings lack %s", want)
			}
		}
		if code, _ := consolePost(t, c, s.URL+"/settings/webhooks/"+hook.ID+"/pause", url.Values{}); code != 403 {
			t.Fatalf("without the CSRF token: %d", code)
		}
		if code, page := consolePost(t, c, s.URL+"/settings/webhooks/"+hook.ID+"/pause", url.Values{"csrf": {csrf}}); code != 200 ||
			!strings.Contains(page, `action="/settings/webhooks/`+hook.ID+`/resume"`) {
			t.Fatalf("pause: %d", code)
		}
		var hooks struct {
			Webhooks []struct {
				Active bool
				URL    string
				Events []string
			}
		}
		if s.API("GET", "/api/v1/webhooks", nil, &hooks); len(hooks.Webhooks) != 1 || hooks.Webhooks[0].Active {
			t.Fatalf("after the console's pause: %+v", hooks)
		}
		// Edit: a new address and events; an address that is not one is refused on
		// the page, naming the field, and changes nothing.
		edit := url.Values{"csrf": {csrf}, "url": {"https://hooks.example/v2"}, "events": {"Case Opened, Case SLA Breached"}}
		if code, _ := consolePost(t, c, s.URL+"/settings/webhooks/"+hook.ID+"/edit", edit); code != 200 {
			t.Fatalf("edit: %d", code)
		}
		edit.Set("url", "hooks.example/no-scheme")
		if code, page := consolePost(t, c, s.URL+"/settings/webhooks/"+hook.ID+"/edit", edit); code != 400 || !strings.Contains(page, "URL: ") {
			t.Fatalf("edit to an address without a scheme: %d", code)
		}
		// A misspelt event name is saved but called out; a name of the spec
		// or one a source has sent is not.
		s.MustSend("track", map[string]any{"userId": "u-scan", "event": "Loyalty Card Scanned"})
		s.Sync()
		edit.Set("url", "https://hooks.example/v2")
		edit.Set("events", "Case Opend, Order Completed, Loyalty Card Scanned")
		code, page := consolePost(t, c, s.URL+"/settings/webhooks/"+hook.ID+"/edit", edit)
		notice := regexp.MustCompile(`(?s)<p class="notice"[^>]*id="unheard">.*?</p>`).FindString(page)
		if code != 200 || !strings.Contains(notice, "“Case Opend”") || strings.Contains(notice, "Order Completed") || strings.Contains(notice, "Loyalty Card Scanned") {
			t.Fatalf("a misspelt event: %d %q", code, notice)
		}
		edit.Set("events", "Case Opened, Case SLA Breached")
		if code, page := consolePost(t, c, s.URL+"/settings/webhooks/"+hook.ID+"/edit", edit); code != 200 || strings.Contains(page, "unheard") {
			t.Fatalf("edit back: %d", code)
		}
		if s.API("GET", "/api/v1/webhooks", nil, &hooks); hooks.Webhooks[0].URL != "https://hooks.example/v2" || strings.Join(hooks.Webhooks[0].Events, "|") != "Case Opened|Case SLA Breached" {
			t.Fatalf("after the console's edit: %+v", hooks)
		}
		if code, _ := consolePost(t, c, s.URL+"/settings/webhooks/"+hook.ID+"/delete", url.Values{"csrf": {csrf}}); code != 200 {
			t.Fatalf("remove: %d", code)
		}
		if s.API("GET", "/api/v1/webhooks", nil, &hooks); len(hooks.Webhooks) != 0 {
			t.Fatalf("after the console's remove: %+v", hooks)
		}
		// A team a rule acts for: refused, with the reason on the page.
		if code, page := consolePost(t, c, s.URL+"/settings/teams/"+team.ID+"/delete", url.Values{"csrf": {csrf}}); code != 409 || !strings.Contains(page, "rules: rule") {
			t.Fatalf("remove a team in use: %d", code)
		}

		c, csrf, page = consoleAdmin(t, s, "/sources")
		if !strings.Contains(page, `action="/sources/`+src.ID+`/pause"`) {
			t.Fatal("the sources page has no pause control")
		}
		if code, _ := consolePost(t, c, s.URL+"/sources/"+src.ID+"/pause", url.Values{"csrf": {csrf}}); code != 200 {
			t.Fatalf("pause a source: %d", code)
		}
		if code, _ := s.Do("POST", "/v1/track", []byte(`{"userId": "a", "event": "E"}`), basicAuth(src.WriteKey)); code != 403 {
			t.Fatalf("a source paused from the console: %d", code)
		}
		code, page = consolePost(t, c, s.URL+"/sources/"+src.ID+"/rotate", url.Values{"csrf": {csrf}})
		if code != 200 || !strings.Contains(page, `id="source-rotated"`) || !strings.Contains(page, "wk_") {
			t.Fatalf("rotate: %d", code)
		}
		if code, _ := consolePost(t, c, s.URL+"/sources/"+src.ID+"/delete", url.Values{"csrf": {csrf}}); code != 200 {
			t.Fatalf("remove a source: %d", code)
		}

		c, csrf, _ = consoleAdmin(t, s, "/loyalty")
		if code, page := consolePost(t, c, s.URL+"/loyalty/rules/"+lr.ID+"/pause", url.Values{"csrf": {csrf}}); code != 200 || !strings.Contains(page, `action="/loyalty/rules/`+lr.ID+`/resume"`) {
			t.Fatalf("pause an earning rule: %d", code)
		}

		// Experiences: a nudge and the replenishment switch.
		var n struct{ ID string }
		s.API("POST", "/api/v1/nudges", map[string]any{"name": "Left behind", "kind": "abandoned", "message": "Hi"}, &n)
		c, csrf, page = consoleAdmin(t, s, "/experiences")
		if !strings.Contains(page, `action="/nudges/`+n.ID+`/pause"`) || !strings.Contains(page, `action="/replenishment/pause"`) {
			t.Fatal("the experiences page has no nudge or replenishment switch")
		}
		if code, page := consolePost(t, c, s.URL+"/nudges/"+n.ID+"/pause", url.Values{"csrf": {csrf}}); code != 200 || !strings.Contains(page, `action="/nudges/`+n.ID+`/resume"`) {
			t.Fatalf("pause a nudge: %d", code)
		}
		if code, page := consolePost(t, c, s.URL+"/replenishment/pause", url.Values{"csrf": {csrf}}); code != 200 || !strings.Contains(page, `action="/replenishment/resume"`) {
			t.Fatalf("pause replenishment: %d", code)
		}
		var set struct{ Paused bool }
		if s.API("GET", "/api/v1/replenishment/settings", nil, &set); !set.Paused {
			t.Fatal("replenishment paused in the console reads running")
		}
		if code, page := consolePost(t, c, s.URL+"/nudges/"+n.ID+"/delete", url.Values{"csrf": {csrf}}); code != 200 || strings.Contains(page, `id="nudge-`+n.ID+`"`) {
			t.Fatalf("remove a nudge: %d", code)
		}

		// Alerts.
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		var a struct{ ID string }
		s.API("POST", "/api/v1/alerts", map[string]any{"name": "Complaints", "metric": "complaints", "then": map[string]any{"open_case": map[string]any{"team": "service"}}}, &a)
		c, csrf, _ = consoleAdmin(t, s, "/alerts")
		if code, page := consolePost(t, c, s.URL+"/alerts/"+a.ID+"/pause", url.Values{"csrf": {csrf}}); code != 200 || !strings.Contains(page, `action="/alerts/`+a.ID+`/resume"`) {
			t.Fatalf("pause an alert: %d", code)
		}

		// Users and tokens.
		if code := s.API("POST", "/api/v1/users", map[string]any{"email": "cy@example.com", "password": "a long password", "role": "agent"}, nil); code != 201 {
			t.Fatalf("user: %d", code)
		}
		var tok struct{ ID string }
		s.API("POST", "/api/v1/tokens", map[string]any{"name": "laptop", "role": "analyst"}, &tok)
		var users struct{ Users []struct{ ID string } }
		s.API("GET", "/api/v1/users", nil, &users)
		uid := users.Users[0].ID
		c, csrf, page = consoleAdmin(t, s, "/settings")
		if !strings.Contains(page, `action="/settings/users/`+uid+`/disable"`) || !strings.Contains(page, `action="/settings/tokens/`+tok.ID+`/revoke"`) {
			t.Fatal("the settings page has no user or token controls")
		}
		if code, page := consolePost(t, c, s.URL+"/settings/users/"+uid+"/disable", url.Values{"csrf": {csrf}}); code != 200 || !strings.Contains(page, `action="/settings/users/`+uid+`/enable"`) {
			t.Fatalf("disable a user: %d", code)
		}
		if code, page := consolePost(t, c, s.URL+"/settings/tokens/"+tok.ID+"/revoke", url.Values{"csrf": {csrf}}); code != 200 || strings.Contains(page, `action="/settings/tokens/`+tok.ID+`/revoke"`) {
			t.Fatalf("revoke a token: %d", code)
		}
		if code, page := consolePost(t, c, s.URL+"/settings/users/"+uid+"/delete", url.Values{"csrf": {csrf}}); code != 200 || strings.Contains(page, `id="user-`+uid+`"`) {
			t.Fatalf("remove a user: %d", code)
		}
	})
}

func basicAuth(key string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))
}

// A source paused from the console in Chromium refuses its write key at
// once; resumed there, it takes events again.
func TestConsolePausesASource(t *testing.T) {
	ctx := browser(t)
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]))
	var src struct{ ID, WriteKey string }
	if code := s.API("POST", "/api/v1/sources", map[string]any{"name": "Shop"}, &src); code != 201 {
		t.Fatalf("source: %d", code)
	}
	send := func() int {
		code, _ := s.Do("POST", "/v1/track", []byte(`{"userId": "b-1", "event": "Tick"}`), basicAuth(src.WriteKey), "Content-Type: application/json")
		return code
	}
	if code := send(); code != 200 {
		t.Fatalf("before: %d", code)
	}
	row := `#source-` + src.ID
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/sources"),
		chromedp.WaitVisible(chromedp.CSS(`#token-login`)),
		chromedp.SendKeys(chromedp.CSS(`#token-login input[name=token]`), apptest.Token),
		chromedp.Submit(chromedp.CSS(`#token-login input[name=token]`)),
		chromedp.WaitVisible(chromedp.CSS(row)),
		chromedp.Click(chromedp.CSS(row+` form[action$="/pause"] button`)),
		chromedp.WaitVisible(chromedp.CSS(row+` form[action$="/resume"]`)),
	); err != nil {
		t.Fatal(err)
	}
	if state := run(t, ctx, chromedp.Text(chromedp.CSS(row))); !strings.Contains(state, "paused") {
		t.Fatalf("the row reads %q", state)
	}
	if code := send(); code != 403 {
		t.Fatalf("a source paused in the console: %d, want 403", code)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(row+` form[action$="/resume"] button`)),
		chromedp.WaitVisible(chromedp.CSS(row+` form[action$="/pause"]`)),
	); err != nil {
		t.Fatal(err)
	}
	if code := send(); code != 200 {
		t.Fatalf("resumed in the console: %d", code)
	}
}
