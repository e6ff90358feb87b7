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

// An admin pauses, resumes and removes a case rule from the settings
// page, with the page's CSRF token; others cannot.
func TestConsoleRuleControls(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		if err := s.Auth.CreateUser(t.Context(), "analyst@example.com", "a long password", "analyst"); err != nil {
			t.Fatal(err)
		}
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		var rule struct{ ID string }
		if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "detractors", "when": {"event": "Survey Responded", "nps_max": 6},
			"then": {"open_case": {"team": "service", "kind": "detractor"}}}`), &rule); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		signIn := func(form url.Values) (*http.Client, string, string) {
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
			return c, csrfField.FindStringSubmatch(string(b))[1], string(b)
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
		enabled := func() (bool, bool) {
			var out struct {
				Rules []struct {
					ID      string
					Enabled bool
				}
			}
			s.API("GET", "/api/v1/rules", nil, &out)
			for _, r := range out.Rules {
				if r.ID == rule.ID {
					return r.Enabled, true
				}
			}
			return false, false
		}
		admin, csrf, page := signIn(url.Values{"token": {apptest.Token}})
		pause := "/settings/rules/" + rule.ID + "/pause"
		if !strings.Contains(page, `action="`+pause+`"`) || !strings.Contains(page, `action="/settings/rules/`+rule.ID+`/delete"`) {
			t.Fatalf("the settings page has no pause and remove controls:\n%s", page)
		}
		if code, _ := post(admin, pause, url.Values{}); code != 403 {
			t.Fatalf("pause without the CSRF token: %d", code)
		}
		if on, _ := enabled(); !on {
			t.Fatal("a refused form paused the rule")
		}
		analyst, acsrf, apage := signIn(url.Values{"email": {"analyst@example.com"}, "password": {"a long password"}})
		if strings.Contains(apage, pause) {
			t.Fatal("an analyst sees the pause control")
		}
		if code, _ := post(analyst, pause, url.Values{"csrf": {acsrf}}); code != 403 {
			t.Fatalf("analyst pausing: %d", code)
		}
		code, body := post(admin, pause, url.Values{"csrf": {csrf}})
		if on, ok := enabled(); code != 200 || on || !ok || !strings.Contains(body, "paused") || !strings.Contains(body, "/settings/rules/"+rule.ID+"/resume") {
			t.Fatalf("pause: %d enabled %v", code, on)
		}
		if code, _ := post(admin, "/settings/rules/"+rule.ID+"/resume", url.Values{"csrf": {csrf}}); code != 200 {
			t.Fatalf("resume: %d", code)
		}
		if on, _ := enabled(); !on {
			t.Fatal("resume left the rule paused")
		}
		// Edited from its form, prefilled with what it is: a bad value is
		// refused naming the field; a good edit keeps what the form does not show.
		edit := "/settings/rules/" + rule.ID + "/edit"
		if !strings.Contains(page, `action="`+edit+`"`) || !strings.Contains(page, `name="nps_max" inputmode="numeric" value="6"`) {
			t.Fatalf("no prefilled edit form:\n%s", page)
		}
		form := url.Values{"csrf": {csrf}, "name": {"strong detractors"}, "event": {"Survey Responded"}, "nps_max": {"16"}, "team": {"service"}, "kind": {"detractor"}, "sla": {"12h"}}
		if code, body := post(admin, edit, form); code != 400 || !strings.Contains(body, "NPS at most: ") {
			t.Fatalf("bad edit: %d %s", code, body)
		}
		// A new rule refused keeps what was typed and names the field by
		// its label; teams are picked from the teams there are.
		if !strings.Contains(page, `<select name="team"><option value="">no case</option><option>service</option></select>`) {
			t.Fatalf("the new rule's team is not picked from the teams:\n%s", page)
		}
		bad := url.Values{"csrf": {csrf}, "name": {"late returns"}, "event": {"Order Refunded"}, "team": {"service"}, "kind": {"return"}, "sla": {"tomorrow"}}
		if code, body := post(admin, "/settings/rules", bad); code != 400 || !strings.Contains(body, "SLA: the SLA is a duration") ||
			!strings.Contains(body, `name="name" value="late returns"`) || !strings.Contains(body, `value="tomorrow"`) ||
			!strings.Contains(body, `<select name="team"><option value="">no case</option><option selected>service</option></select>`) || strings.Contains(body, "then.open_case") {
			t.Fatalf("a refused new rule: %d %s", code, body)
		}
		form.Set("nps_max", "4")
		if code, _ := post(admin, edit, form); code != 200 {
			t.Fatalf("edit: %d", code)
		}
		var edited struct {
			Rules []struct {
				ID, Name string
				When     struct {
					NPSMax float64 `json:"nps_max"`
				}
				Then struct {
					OpenCase struct{ Team, Kind, SLA string } `json:"open_case"`
				}
			}
		}
		s.API("GET", "/api/v1/rules", nil, &edited)
		if r := edited.Rules[0]; r.Name != "strong detractors" || r.When.NPSMax != 4 || r.Then.OpenCase.SLA != "12h" || r.Then.OpenCase.Kind != "detractor" {
			t.Fatalf("after the edit: %+v", r)
		}
		if code, _ := post(analyst, edit, url.Values{"csrf": {acsrf}, "name": {"x"}}); code != 403 {
			t.Fatalf("analyst editing: %d", code)
		}
		code, body = post(admin, "/settings/rules/"+rule.ID+"/delete", url.Values{"csrf": {csrf}})
		if _, ok := enabled(); code != 200 || ok || strings.Contains(body, "detractors") {
			t.Fatalf("remove: %d, still listed %v", code, ok)
		}
		if code, _ := post(admin, "/settings/rules/"+rule.ID+"/delete", url.Values{"csrf": {csrf}}); code != 404 {
			t.Fatalf("removing twice: %d", code)
		}
		// A rule on a misspelt event is saved, and called out: it would never fire.
		typo := url.Values{"csrf": {csrf}, "name": {"typo"}, "event": {"Survey Respondd"}, "notify": {""}, "team": {"service"}, "kind": {"detractor"}}
		if code, body := post(admin, "/settings/rules", typo); code != 200 || !regexp.MustCompile(`id="unheard">Rule saved. No event named “Survey Respondd”`).MatchString(body) {
			t.Fatalf("a rule on a misspelt event: %d %s", code, body)
		}
		if code, body := post(admin, "/settings/rules", url.Values{"csrf": {csrf}, "name": {"returns"}, "event": {"Order Refunded"}, "team": {"service"}, "kind": {"return"},
			"priority": {"high"}}); code != 200 || strings.Contains(body, `id="unheard"`) || !strings.Contains(body, "case for service (return, high)") {
			t.Fatalf("a rule on a known event, at high priority: %d", code)
		}
	})
}
