package web_test

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// signIn posts the console's sign-in form and answers the client (with its
// session cookie), the status and the page it landed on.
func signIn(t *testing.T, base string, form url.Values) (*http.Client, int, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(base+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return c, resp.StatusCode, string(b)
}

// signedIn reports whether the client's session still opens a console page.
func signedIn(t *testing.T, c *http.Client, base string) bool {
	t.Helper()
	resp, err := c.Get(base + "/customers")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == 200 && strings.Contains(string(b), `id="customers"`)
}

// A console session ends with the credential it was opened with: revoking
// the token or disabling the user ends it at once, not 12 hours later.
func TestSessionsEndWithTheirCredential(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		var tok struct{ ID, Token string }
		if code := s.API("POST", "/api/v1/tokens", map[string]any{"name": "laptop", "role": "analyst"}, &tok); code != 201 {
			t.Fatalf("token: %d", code)
		}
		byToken, code, _ := signIn(t, s.URL, url.Values{"token": {tok.Token}})
		if code != 200 || !signedIn(t, byToken, s.URL) {
			t.Fatalf("sign-in with the token: %d", code)
		}
		if code := s.API("DELETE", "/api/v1/tokens/"+tok.ID, nil, nil); code != 200 {
			t.Fatalf("revoke: %d", code)
		}
		if signedIn(t, byToken, s.URL) {
			t.Error("the session of a revoked token still opens the console")
		}

		if code := s.API("POST", "/api/v1/users", map[string]any{"email": "ana@example.com", "password": "a long password", "role": "analyst"}, nil); code != 201 {
			t.Fatalf("user: %d", code)
		}
		form := url.Values{"email": {"ana@example.com"}, "password": {"a long password"}}
		byUser, code, _ := signIn(t, s.URL, form)
		if code != 200 || !signedIn(t, byUser, s.URL) {
			t.Fatalf("sign-in as the user: %d", code)
		}
		var users struct {
			Users []struct {
				ID, Email  string
				DisabledAt *int64
			}
		}
		s.API("GET", "/api/v1/users", nil, &users)
		if len(users.Users) != 1 || users.Users[0].Email != "ana@example.com" || users.Users[0].DisabledAt != nil {
			t.Fatalf("users: %+v", users)
		}
		if code := s.API("PATCH", "/api/v1/users/"+users.Users[0].ID, map[string]any{}, nil); code != 400 {
			t.Errorf("a PATCH saying nothing: %d, want 400", code)
		}
		if code := s.API("PATCH", "/api/v1/users/nobody@example.com", map[string]any{"disabled": true}, nil); code != 404 {
			t.Errorf("an unknown user: %d, want 404", code)
		}
		if code := s.API("PATCH", "/api/v1/users/"+users.Users[0].ID, map[string]any{"disabled": true}, nil); code != 200 {
			t.Fatalf("disable: %d", code)
		}
		if signedIn(t, byUser, s.URL) {
			t.Error("a disabled user's session still opens the console")
		}
		if _, code, _ := signIn(t, s.URL, form); code != 401 {
			t.Errorf("a disabled user signs in: %d", code)
		}
		if code := s.API("PATCH", "/api/v1/users/ana@example.com", map[string]any{"disabled": false}, nil); code != 200 {
			t.Fatalf("enable: %d", code)
		}
		if again, code, _ := signIn(t, s.URL, form); code != 200 || !signedIn(t, again, s.URL) {
			t.Errorf("enabled again, sign-in: %d", code)
		}
	})
}

// After sign-in the console goes back only to a page of its own: no
// scheme, no host, and nothing a browser reads as one (a tab or newline it
// drops, a backslash it takes for a slash).
func TestSignInRedirectStaysOnSite(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[0]))
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for next, want := range map[string]string{
		"/surveys?status=active": "/surveys?status=active",
		"/\t/evil.example":       "/",
		"/\n/evil.example":       "/",
		"/\r\n/evil.example":     "/",
		"//evil.example":         "/",
		"/\\evil.example":        "/",
		"/\\/evil.example":       "/",
		"https://evil.example/":  "/",
		"/ /evil.example":        "/",
		"javascript:alert(1)":    "/",
		"":                       "/",
	} {
		resp, err := c.PostForm(s.URL+"/login", url.Values{"token": {apptest.Token}, "next": {next}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != want {
			t.Errorf("next %q: %d to %q, want %q", next, resp.StatusCode, got, want)
		}
	}
}

// Webhooks may not call internal addresses unless the operator allows them:
// the URL is refused at creation, naming the field, in every form.
func TestWebhooksRefuseInternalAddresses(t *testing.T) {
	s := apptest.StartWith(t, storetest.DSN(t, storetest.Engines()[0]), func(cfg *app.Config) { cfg.AllowPrivateTargets = false })
	for _, u := range []string{"http://127.0.0.1:9/hook", "http://2130706433/", "http://[::1]/", "http://169.254.169.254/latest/meta-data/",
		"http://localhost:8080/", "http://[::ffff:10.0.0.1]/", "http://0x7f.1/"} {
		var e struct {
			Error struct{ Field, Message string }
		}
		if code := s.API("POST", "/api/v1/webhooks", map[string]any{"url": u, "events": []string{"Case Opened"}}, &e); code != 400 || e.Error.Field != "url" {
			t.Errorf("%s: %d %+v, want 400 naming url", u, code, e)
		}
	}
	if code := s.API("POST", "/api/v1/webhooks", map[string]any{"url": "https://hooks.invalid/cx", "events": []string{"Case Opened"}}, nil); code != 201 {
		t.Errorf("a name that does not resolve yet: %d, want 201", code)
	}
}

// Guessing passwords is slow: an account that failed five times waits
// between attempts (1 s, 2 s, 4 s … never more than a minute, so nobody
// can lock its owner out for long) and an address that failed ten times
// in five minutes waits; each refusal is a 429 with Retry-After, before
// any password is hashed.
func TestSignInIsRateLimited(t *testing.T) {
	s, clock := apptest.StartAt(t, storetest.DSN(t, storetest.Engines()[0]), apptest.Epoch)
	if err := s.Auth.CreateUser(t.Context(), "ana@example.com", "a long password", "analyst"); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	try := func(form url.Values) (int, string) {
		t.Helper()
		resp, err := c.PostForm(s.URL+"/login", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	wrong := url.Values{"email": {"ana@example.com"}, "password": {"a wrong guess"}}
	right := url.Values{"email": {"ANA@example.com"}, "password": {"a long password"}}
	for i := range 5 {
		if code, _ := try(wrong); code != 401 {
			t.Fatalf("failure %d: %d, want 401", i+1, code)
		}
	}
	if code, after := try(wrong); code != 429 || after != "1" {
		t.Fatalf("a sixth guess at once: %d Retry-After %q, want 429 after 1 s", code, after)
	}
	if code, _ := try(right); code != 429 {
		t.Fatalf("the right password while the account waits: %d, want 429", code)
	}
	clock.Add(time.Second)
	if code, _ := try(wrong); code != 401 {
		t.Fatalf("a guess after the wait: %d, want 401", code)
	}
	if code, after := try(wrong); code != 429 || after != "2" {
		t.Fatalf("the next wait doubles: %d Retry-After %q, want 2", code, after)
	}
	clock.Add(time.Minute)
	if code, _ := try(right); code != 303 {
		t.Fatalf("the owner a minute later: %d, want 303 (signed in)", code)
	}
	// The address has failed 6 times; 4 more wrong tokens, then it waits, whatever it sends.
	for i := range 4 {
		if code, _ := try(url.Values{"token": {fmt.Sprintf("cxt_guess_%d", i)}}); code != 401 {
			t.Fatalf("token guess %d: %d, want 401", i, code)
		}
	}
	if code, after := try(right); code != 429 || after == "" {
		t.Fatalf("a password from an address with ten failures: %d Retry-After %q, want 429", code, after)
	}
	if code, after := try(url.Values{"token": {"cxt_guess_10"}}); code != 429 || after == "" {
		t.Fatalf("a wrong token from an address with ten failures: %d Retry-After %q, want 429", code, after)
	}
	if code, _ := try(url.Values{"token": {apptest.Token}}); code != 303 {
		t.Fatalf("the right token from an address with ten failures: %d, want 303", code)
	}
	clock.Add(5 * time.Minute)
	if code, _ := try(right); code != 303 {
		t.Fatalf("five minutes later: %d, want 303", code)
	}
}

// An attacker who keeps the proxy's address limited locks out no one who
// signed in on this browser before (the device cookie), nor a correct
// token; a new browser, a forged cookie or another account's cookie still
// waits, and a remembered browser's wrong passwords still count for the
// account.
func TestSignInDeviceCookieOutlastsAddressLimit(t *testing.T) {
	s, clock := apptest.StartAt(t, storetest.DSN(t, storetest.Engines()[0]), apptest.Epoch)
	for _, email := range []string{"ana@example.com", "bo@example.com"} {
		if err := s.Auth.CreateUser(t.Context(), email, "a long password", "analyst"); err != nil {
			t.Fatal(err)
		}
	}
	browser := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	try := func(c *http.Client, form url.Values, cookies ...*http.Cookie) (int, string, *http.Response) {
		t.Helper()
		req, _ := http.NewRequest("POST", s.URL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for _, ck := range cookies {
			req.AddCookie(ck)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After"), resp
	}
	ana := url.Values{"email": {"ana@example.com"}, "password": {"a long password"}}
	bo := url.Values{"email": {"bo@example.com"}, "password": {"a long password"}}
	anas, bos := browser(), browser()
	var device *http.Cookie
	for _, sign := range []struct {
		c    *http.Client
		form url.Values
	}{{anas, ana}, {bos, bo}} {
		code, _, resp := try(sign.c, sign.form)
		if code != 303 {
			t.Fatalf("first sign-in: %d, want 303", code)
		}
		if sign.c == anas {
			for _, ck := range resp.Cookies() {
				if ck.Name == "cxloop_device" {
					device = ck
				}
			}
		}
	}
	if device == nil || !device.HttpOnly || device.SameSite != http.SameSiteLaxMode || device.MaxAge < 30*24*3600 || device.Secure {
		t.Fatalf("device cookie %+v: want HttpOnly, SameSite=Lax, long-lived, not Secure over plain HTTP", device)
	}

	attack := func(n int) {
		t.Helper()
		attacker := browser()
		for i := range n {
			form := url.Values{"email": {fmt.Sprintf("admin%d@example.com", i)}, "password": {"guess"}}
			if i%2 == 1 {
				form = url.Values{"token": {fmt.Sprintf("cxt_guess_%d", i)}}
			}
			want := 401
			if i >= 10 {
				want = 429
			}
			if code, _, _ := try(attacker, form); code != want {
				t.Fatalf("attacker's guess %d: %d, want %d", i+1, code, want)
			}
		}
	}
	attack(14)

	if code, after, _ := try(browser(), ana); code != 429 || after == "" {
		t.Fatalf("a new browser with the right password: %d Retry-After %q, want 429", code, after)
	}
	if code, _, _ := try(anas, ana); code != 303 {
		t.Fatalf("ana's own browser with the right password: %d, want 303", code)
	}
	if code, _, _ := try(browser(), url.Values{"token": {apptest.Token}}); code != 303 {
		t.Fatalf("the right admin token: %d, want 303", code)
	}
	if code, _, _ := try(browser(), url.Values{"token": {"cxt_guess_again"}}); code != 429 {
		t.Fatalf("a wrong token while the address waits: %d, want 429", code)
	}
	// Ana's cookie does not speak for Bo, nor does one rewritten to name Bo.
	if code, _, _ := try(browser(), bo, device); code != 429 {
		t.Fatalf("bo's password with ana's device cookie: %d, want 429", code)
	}
	parts := strings.Split(device.Value, ".")
	forged := &http.Cookie{Name: "cxloop_device", Value: base64.RawURLEncoding.EncodeToString([]byte("email:bo@example.com")) + "." + parts[1] + "." + parts[2]}
	if code, _, _ := try(browser(), bo, forged); code != 429 {
		t.Fatalf("bo's password with a forged device cookie: %d, want 429", code)
	}
	if code, _, _ := try(browser(), bo, &http.Cookie{Name: "cxloop_device", Value: "bogus"}); code != 429 {
		t.Fatalf("bo's password with a garbage device cookie: %d, want 429", code)
	}
	if code, _, _ := try(bos, bo); code != 303 {
		t.Fatalf("bo's own browser: %d, want 303", code)
	}

	// Wrong passwords from a remembered browser count for the account.
	wrong := url.Values{"email": {"ana@example.com"}, "password": {"a wrong guess"}}
	for i := range 5 {
		if code, _, _ := try(anas, wrong); code != 401 {
			t.Fatalf("ana's typo %d: %d, want 401", i+1, code)
		}
	}
	if code, after, _ := try(anas, ana); code != 429 || after != "1" {
		t.Fatalf("ana after five typos: %d Retry-After %q, want 429 after 1 s", code, after)
	}
	clock.Add(time.Second)
	if code, _, _ := try(anas, ana); code != 303 {
		t.Fatalf("ana a second later: %d, want 303", code)
	}

	// A device cookie lasts 90 days from the last sign-in.
	clock.Add(90 * 24 * time.Hour)
	attack(10)
	if code, _, _ := try(anas, ana); code != 429 {
		t.Fatalf("ana's 90-day-old device cookie: %d, want 429", code)
	}
}

// An agent limited to a team reads the customer's history, but not what
// another team wrote on its cases: not through /api/v1/events, the
// timeline or the console's customer page.
func TestTeamScopeHidesOtherTeamsCaseNotes(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		for _, team := range []string{"service", "billing"} {
			s.API("POST", "/api/v1/teams", map[string]any{"name": team}, nil)
		}
		if code := s.API("POST", "/api/v1/rules", map[string]any{"name": "complaints", "when": map[string]any{"event": "Complaint Submitted"},
			"then": map[string]any{"open_case": map[string]any{"team": "service", "kind": "complaint"}}}, nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		s.MustSend("identify", map[string]any{"userId": "cora", "traits": map[string]any{"name": "Cora Case"}})
		s.MustSend("track", map[string]any{"userId": "cora", "event": "Complaint Submitted", "properties": map[string]any{"text": "Late again"}})
		s.Sync()
		var cs struct {
			Cases []struct{ ID, TeamName string }
		}
		s.API("GET", "/api/v1/cases", nil, &cs)
		const secret = "Cora disputes the card charge, account 4417"
		for _, c := range cs.Cases {
			if c.TeamName != "service" {
				t.Fatalf("case %+v is not service's", c)
			}
			if code := s.API("POST", "/api/v1/cases/"+c.ID+"/notes", map[string]any{"note": secret}, nil); code != 200 {
				t.Fatalf("note: %d", code)
			}
		}
		if len(cs.Cases) == 0 {
			t.Fatal("no case opened")
		}
		s.Sync()
		reads := func(token string) string {
			t.Helper()
			var all strings.Builder
			for _, path := range []string{"/api/v1/events?customer=cora", "/api/v1/customers/cora/timeline"} {
				code, body := s.Do("GET", path, nil, "Authorization: Bearer "+token)
				if code != 200 {
					t.Fatalf("%s: %d %s", path, code, body)
				}
				all.Write(body)
			}
			c, code, _ := signIn(t, s.URL, url.Values{"token": {token}})
			if code != 200 {
				t.Fatalf("sign-in: %d", code)
			}
			resp, err := c.Get(s.URL + "/customers/cora")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("customer page: %d", resp.StatusCode)
			}
			all.Write(b)
			return all.String()
		}
		token := func(teams ...string) string {
			var tok struct{ Token string }
			if code := s.API("POST", "/api/v1/tokens", map[string]any{"name": "agent", "role": "agent", "teams": teams}, &tok); code != 201 {
				t.Fatalf("token: %d", code)
			}
			return tok.Token
		}
		if got := reads(token("billing")); strings.Contains(got, "4417") || !strings.Contains(got, "Case Note Added") {
			t.Errorf("a billing agent reads service's note (or not even that there is one)")
		}
		if got := reads(token("service")); !strings.Contains(got, "4417") {
			t.Errorf("a service agent cannot read their own team's note")
		}
		if got := reads(apptest.Token); !strings.Contains(got, "4417") {
			t.Errorf("an admin cannot read the note")
		}
	})
}
