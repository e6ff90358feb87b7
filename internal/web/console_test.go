package web_test

import (
	"fmt"
	"html"
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

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// Sign-in by email and password, CSRF checks on forms, and sign-out.
func TestConsoleSessions(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		if err := s.Auth.CreateUser(t.Context(), "ops@example.com", "a long password", "viewer"); err != nil {
			t.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		read := func(resp *http.Response, err error) (int, string) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}

		// The icon a browser asks every page for is there, without signing in.
		if resp, err := c.Get(s.URL + "/favicon.ico"); err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" {
			t.Fatalf("favicon: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
		// Not signed in: the console sends visitors to the sign-in page.
		code, body := read(c.Get(s.URL + "/customers"))
		if code != 200 || !strings.Contains(body, `id="password-login"`) {
			t.Fatalf("anonymous /customers: %d", code)
		}
		code, body = read(c.PostForm(s.URL+"/login", url.Values{"email": {"ops@example.com"}, "password": {"wrong password"}}))
		if code != 401 || !strings.Contains(body, "did not match") {
			t.Fatalf("wrong password: %d", code)
		}
		code, body = read(c.PostForm(s.URL+"/login", url.Values{"email": {"ops@example.com"}, "password": {"a long password"}, "next": {"https://evil.example/"}}))
		if code != 200 || !strings.Contains(body, `id="scores"`) || !strings.Contains(body, "ops@example.com · analyst") {
			t.Fatalf("sign-in: %d %s", code, body)
		}
		m := csrfField.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no CSRF token in the page")
		}

		// A form without the session's CSRF token is refused, and so is a
		// cross-origin form post.
		code, _ = read(c.PostForm(s.URL+"/logout", url.Values{"csrf": {"forged"}}))
		if code != 403 {
			t.Fatalf("logout with a forged token: %d", code)
		}
		req, _ := http.NewRequest("POST", s.URL+"/logout", strings.NewReader(url.Values{"csrf": {m[1]}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		code, _ = read(c.Do(req))
		if code != 403 {
			t.Fatalf("cross-site logout: %d", code)
		}
		if code, body = read(c.Get(s.URL + "/customers")); !strings.Contains(body, `id="customers"`) {
			t.Fatalf("session ended by a refused form: %d", code)
		}

		code, body = read(c.PostForm(s.URL+"/logout", url.Values{"csrf": {m[1]}}))
		if code != 200 || !strings.Contains(body, `id="token-login"`) {
			t.Fatalf("logout: %d", code)
		}
		if _, body = read(c.Get(s.URL + "/customers")); strings.Contains(body, `id="customers"`) {
			t.Fatal("still signed in after sign-out")
		}
		if code, _ = read(c.Get(s.URL + "/customers/cus_nobody")); code != 200 {
			t.Fatalf("anonymous customer page: %d", code)
		}
	})
}

// A pulse survey sent from its page to a pasted list; a viewer may look but not send.
func TestConsoleSendsPulse(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	s.MustSend("identify", map[string]any{"type": "identify", "userId": "p-1", "traits": map[string]any{"email": "p1@example.com"}})
	s.Sync()
	var sv struct{ ID string }
	s.API("POST", "/api/v1/surveys", map[string]any{"name": "Pulse", "rhythm": "pulse", "owner": "product",
		"questions": []map[string]any{{"id": "q", "type": "csat", "text": map[string]string{"en": "?"}}}}, &sv)
	if err := s.Auth.CreateUser(t.Context(), "viewer@example.com", "a long password", "viewer"); err != nil {
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
		resp, err = c.Get(s.URL + "/surveys/" + sv.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return c, csrfField.FindStringSubmatch(string(b))[1]
	}
	c, csrf := signIn(url.Values{"token": {apptest.Token}})
	resp, err := c.PostForm(s.URL+"/surveys/"+sv.ID+"/send", url.Values{"csrf": {csrf}, "customers": {"p1@example.com\nnobody@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "Scheduled 1 invitations; 1 identities matched no customer") {
		t.Fatalf("send: %d %s", resp.StatusCode, b)
	}
	var invs struct{ Invitations []struct{ Status string } }
	s.API("GET", "/api/v1/customers/p-1/invitations", nil, &invs)
	if len(invs.Invitations) != 1 || invs.Invitations[0].Status != "sent" {
		t.Fatalf("invitations: %+v", invs)
	}
	v, csrf := signIn(url.Values{"email": {"viewer@example.com"}, "password": {"a long password"}})
	resp, err = v.PostForm(s.URL+"/surveys/"+sv.ID+"/send", url.Values{"csrf": {csrf}, "customers": {"p-1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("a viewer sent a survey: %d", resp.StatusCode)
	}
}

// Settings: an admin adds a team, a rule and a webhook (its secret shown
// once); an analyst sees the lists but cannot add.
func TestConsoleSettings(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	if err := s.Auth.CreateUser(t.Context(), "analyst@example.com", "a long password", "analyst"); err != nil {
		t.Fatal(err)
	}
	client := func(form url.Values) (*http.Client, string) {
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
	post := func(c *http.Client, path string, form url.Values) (int, string) {
		resp, err := c.PostForm(s.URL+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	admin, csrf := client(url.Values{"token": {apptest.Token}})
	if code, body := post(admin, "/settings/teams", url.Values{"csrf": {csrf}, "name": {"service"}, "email": {"service@northwind.test"}}); code != 200 || !strings.Contains(body, "service@northwind.test") {
		t.Fatalf("team: %d", code)
	}
	if code, body := post(admin, "/settings/rules", url.Values{"csrf": {csrf}, "name": {"detractors"}, "event": {"Survey Responded"}, "nps_max": {"6"},
		"team": {"service"}, "kind": {"detractor"}, "sla": {"24h"}}); code != 200 || !strings.Contains(body, "NPS ≤ 6") {
		t.Fatalf("rule: %d %s", code, body)
	}
	if code, body := post(admin, "/settings/rules", url.Values{"csrf": {csrf}, "name": {"bad"}, "event": {"X"}, "team": {"nobody"}}); code != 400 || !strings.Contains(body, "Open a case for team: no team") {
		t.Fatalf("bad rule: %d", code)
	}
	code, body := post(admin, "/settings/webhooks", url.Values{"csrf": {csrf}, "url": {"https://hooks.example/cx"}, "events": {"Case Opened, Case SLA Breached"}})
	if code != 200 || !strings.Contains(body, "whsec_") {
		t.Fatalf("webhook: %d", code)
	}
	if _, body := post(admin, "/settings/teams", url.Values{"csrf": {csrf}, "name": {"logistics"}}); strings.Contains(body, "whsec_") {
		t.Fatal("the webhook secret was shown again")
	}
	analyst, csrf := client(url.Values{"email": {"analyst@example.com"}, "password": {"a long password"}})
	resp, _ := analyst.Get(s.URL + "/settings")
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "detractors") || strings.Contains(string(b), "hooks.example") {
		t.Fatalf("analyst's settings page shows rules but not webhooks")
	}
	if code, _ := post(analyst, "/settings/teams", url.Values{"csrf": {csrf}, "name": {"rogue"}}); code != 403 {
		t.Fatalf("analyst adding a team: %d", code)
	}
	var teams struct{ Teams []any }
	s.API("GET", "/api/v1/teams", nil, &teams)
	if len(teams.Teams) != 2 {
		t.Fatalf("%d teams", len(teams.Teams))
	}
}

// The customer page shows the member's balance, tier, perks and ledger.
func TestCustomerPageLoyalty(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, nil)
	s.MustSend("track", map[string]any{"userId": "lm-1", "event": "Order Completed", "properties": map[string]any{"order_id": "lo-1", "total": 130}})
	s.Sync()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(s.URL+"/login", url.Values{"token": {apptest.Token}, "next": {"/customers/lm-1"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	for _, want := range []string{`id="balance">130<`, `id="tier">gold<`, "Priority service", "lo-1"} {
		if !strings.Contains(page, want) {
			t.Fatalf("customer page lacks %q", want)
		}
	}
}

// A customer's recommendations say why in words; the model and its score
// are not in the text (only in an analyst's tooltip).
func TestCustomerPageRecommendationsSayWhy(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	for i := range 6 {
		c := fmt.Sprintf("camper-%d", i)
		s.MustSend("track", map[string]any{"userId": c, "event": "Order Completed", "properties": map[string]any{"order_id": c, "total": 90,
			"products": []any{map[string]any{"product_id": "tent", "quantity": 1}, map[string]any{"product_id": "stove", "quantity": 1}, map[string]any{"product_id": fmt.Sprintf("pegs-%d", i%2), "quantity": 1}}}})
	}
	s.MustSend("track", map[string]any{"userId": "newbie", "event": "Order Completed", "properties": map[string]any{"order_id": "n-1", "total": 60,
		"products": []any{map[string]any{"product_id": "tent", "quantity": 1}}}})
	s.Sync()
	if err := s.Exp.Train(t.Context()); err != nil {
		t.Fatal(err)
	}
	var recs struct {
		Items []struct {
			Model string
			Why   struct{ Text string }
		}
	}
	if code := s.API("GET", "/api/v1/customers/newbie/recommendations?n=5", nil, &recs); code != 200 || len(recs.Items) == 0 {
		t.Fatalf("recommendations: %d %+v", code, recs)
	}
	id, err := s.Profiles.Resolve(t.Context(), "newbie")
	if err != nil {
		t.Fatal(err)
	}
	page := s.Page("/customers/" + id)
	i := strings.Index(page, `<ol id="recs">`)
	if i < 0 {
		t.Fatal("no recommendations on the customer page")
	}
	list := page[i : i+strings.Index(page[i:], "</ol>")]
	text := html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(list, " "))
	for _, r := range recs.Items {
		if r.Why.Text == "" || !strings.Contains(text, r.Why.Text) {
			t.Errorf("the reason %q is not on the page: %q", r.Why.Text, text)
		}
	}
	if m := regexp.MustCompile(`\b(als|item-knn|popularity)\b|\d\.\d\d`).FindString(text); m != "" {
		t.Errorf("the recommendations show model internals %q: %q", m, text)
	}
}
