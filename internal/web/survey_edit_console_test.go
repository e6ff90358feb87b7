package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
	"github.com/cxloop/cxloop/internal/survey"
)

// The editor without JavaScript: an analyst reads a survey's definition
// but cannot save it; an owner's change that would corrupt answers is
// refused beside the question, with what was typed; the open link takes
// answers only while the survey is active and only with its signature.
func TestConsoleSurveyEditRules(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		if err := s.Auth.CreateUser(t.Context(), "analyst@example.com", "a long password", "analyst"); err != nil {
			t.Fatal(err)
		}
		var sv survey.Survey
		s.API("POST", "/api/v1/surveys", map[string]any{"name": "Post-order", "rhythm": "pulse", "owner": "service",
			"questions": []map[string]any{{"id": "q1", "type": "csat", "text": map[string]string{"en": "Happy?"}}}}, &sv)
		client := func(form url.Values) (*http.Client, string) {
			jar, _ := cookiejar.New(nil)
			c := &http.Client{Jar: jar}
			resp, err := c.PostForm(s.URL+"/login", form)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			_, body := get(t, c, s.URL+"/surveys/"+sv.ID+"/edit")
			return c, csrfField.FindStringSubmatch(body)[1]
		}
		post := func(c *http.Client, path string, form url.Values) (int, string) {
			t.Helper()
			resp, err := c.PostForm(s.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}

		analyst, csrf := client(url.Values{"email": {"analyst@example.com"}, "password": {"a long password"}})
		code, body := get(t, analyst, s.URL+"/surveys/"+sv.ID+"/edit")
		if code != 200 || !strings.Contains(body, `<fieldset class="plain" disabled>`) || !strings.Contains(body, "Happy?") {
			t.Fatalf("analyst's editor: %d, read-only %v", code, strings.Contains(body, "disabled"))
		}
		form := url.Values{"csrf": {csrf}, "name": {"Renamed"}, "owner": {"service"}, "rhythm": {"pulse"}, "langs": {"en"}, "qn": {"1"},
			"q1_id": {"q1"}, "q1_type": {"csat"}, "q1_text_en": {"Happy?"}, "expires": {"30d"}, "op": {"save"}}
		if code, _ := post(analyst, "/surveys/"+sv.ID+"/edit", form); code != 403 {
			t.Fatalf("analyst saving: %d", code)
		}

		admin, csrf := client(url.Values{"token": {apptest.Token}})
		form.Set("csrf", csrf)
		// The owner is offered from the teams and the other surveys' owners.
		s.API("POST", "/api/v1/teams", map[string]any{"name": "Logistics"}, nil)
		if _, page := get(t, admin, s.URL+"/surveys/new"); !strings.Contains(page, `<datalist id="owners"><option value="Logistics"><option value="service"></datalist>`) {
			t.Errorf("the owners offered: %s", regexp.MustCompile(`<datalist id="owners">.*?</datalist>`).FindString(page))
		}
		// Without JavaScript, "Add question" comes back with one more
		// question and the name typed so far.
		form.Set("op", "add")
		form.Set("add_type", "ces")
		code, body = post(admin, "/surveys/"+sv.ID+"/edit", form)
		if code != 200 || !strings.Contains(body, `name="q2_text_en"`) || !strings.Contains(body, `value="Renamed"`) || !strings.Contains(body, `name="qn" value="2"`) {
			t.Fatalf("add question: %d", code)
		}
		// Without JavaScript, "Show the rule" writes the picker's rule, or says what is wrong.
		rule := url.Values{"csrf": {csrf}, "name": {"Quarterly"}, "rhythm": {"periodic"}, "langs": {"en"}, "qn": {"0"}, "op": {"rule"},
			"sched_freq": {"monthly"}, "sched_interval": {"1"}, "sched_monthday": {"-1"}, "sched_time": {"17:45"}}
		if code, body := post(admin, "/surveys", rule); code != 200 || !strings.Contains(body, "FREQ=MONTHLY;INTERVAL=1;BYMONTHDAY=-1;BYHOUR=17;BYMINUTE=45") {
			t.Fatalf("show the rule: %d", code)
		}
		rule.Set("sched_time", "7pm")
		if code, body := post(admin, "/surveys", rule); code != 200 || !strings.Contains(body, "the time of day is HH:MM") || !strings.Contains(body, `value="Quarterly"`) {
			t.Fatalf("show a wrong rule: %d", code)
		}
		var got survey.Survey
		if s.API("GET", "/api/v1/surveys/"+sv.ID, nil, &got); got.Name != "Post-order" {
			t.Fatalf("adding a question saved the survey: %q", got.Name)
		}

		// Answered, the question's type cannot change.
		if c := s.API("POST", "/api/v1/surveys/"+sv.ID+"/responses", map[string]any{"customer": "ana", "answers": map[string]any{"q1": 5}}, nil); c != 201 && c != 200 {
			t.Fatalf("respond: %d", c)
		}
		form.Set("op", "save")
		form.Set("q1_type", "nps")
		code, body = post(admin, "/surveys/"+sv.ID+"/edit", form)
		if code != 400 || !strings.Contains(body, `id="editor-problem"`) || !strings.Contains(body, "ids and types cannot change") || !strings.Contains(body, `value="Renamed"`) {
			t.Fatalf("changing an answered question's type: %d %.300s", code, body)
		}
		if s.API("GET", "/api/v1/surveys/"+sv.ID, nil, &got); got.Name != "Post-order" || got.Questions[0].Type != "csat" {
			t.Fatalf("a refused save changed the survey: %+v", got)
		}
		// Its texts can.
		form.Set("q1_type", "csat")
		form.Set("q1_text_en", "How happy are you?")
		if code, _ := post(admin, "/surveys/"+sv.ID+"/edit", form); code != 200 {
			t.Fatalf("changing a text: %d", code)
		}
		// The trail holds the save, not the round trips that saved nothing.
		var edits []trailEntry
		entries, _ := trail(t, s, "")
		for _, e := range entries {
			if e.Route == "/surveys/{id}/edit" {
				edits = append(edits, e)
			}
		}
		if len(edits) != 1 || edits[0].Action != "update" || edits[0].ResourceID != sv.ID || !strings.Contains(string(edits[0].After), "How happy are you?") {
			t.Fatalf("the trail of the editor: %+v", edits)
		}
		if s.API("GET", "/api/v1/surveys/"+sv.ID, nil, &got); got.Name != "Renamed" || got.Questions[0].Text["en"] != "How happy are you?" {
			t.Fatalf("saved %+v", got)
		}

		// The open link: signed, and open only while the survey is active.
		_, page := get(t, admin, s.URL+"/surveys/"+sv.ID)
		link := regexpLink.FindStringSubmatch(page)
		if link == nil {
			t.Fatal("no link on the survey's page")
		}
		anon := &http.Client{}
		if code, body := get(t, anon, link[1]); code != 200 || !strings.Contains(body, "How happy are you?") {
			t.Fatalf("open link: %d", code)
		}
		if code, _ := get(t, anon, s.URL+"/s/"+sv.ID+".forged"); code != 404 {
			t.Fatalf("forged open link: %d", code)
		}
		resp, err := anon.PostForm(link[1], url.Values{"q1": {"4"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		var list struct{ Responses []survey.Response }
		s.API("GET", "/api/v1/surveys/"+sv.ID+"/responses", nil, &list)
		if resp.StatusCode != 200 || len(list.Responses) != 2 {
			t.Fatalf("answering through the open link: %d, %d responses", resp.StatusCode, len(list.Responses))
		}
		s.API("PATCH", "/api/v1/surveys/"+sv.ID, map[string]any{"status": "paused"}, nil)
		if code, body := get(t, anon, link[1]); code != 410 || !strings.Contains(body, "closed") {
			t.Fatalf("a paused survey's open link: %d", code)
		}
	})
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var regexpLink = regexp.MustCompile(`id="survey-link" value="([^"]+)"`)
