package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
	"github.com/cxloop/cxloop/internal/survey"
)

// The console's builder gives a new survey a web trigger; the survey page
// shows it, changes it (a bad delay is refused naming the field) and
// removes it.
func TestConsoleWebTrigger(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar}
		post := func(path string, form url.Values) (int, string, string) {
			t.Helper()
			resp, err := c.PostForm(s.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b), resp.Request.URL.Path
		}
		if code, _, _ := post("/login", url.Values{"token": {apptest.Token}, "next": {"/surveys/new"}}); code != 200 {
			t.Fatalf("login: %d", code)
		}
		resp, err := c.Get(s.URL + "/surveys/new")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		csrf := csrfField.FindStringSubmatch(string(b))[1]
		code, body, path := post("/surveys", url.Values{"csrf": {csrf}, "name": {"Checkout"}, "owner": {"web"}, "rhythm": {"persistent"},
			"status": {"active"}, "langs": {"en"}, "qn": {"1"}, "q1_type": {"nps"}, "q1_text_en": {"Recommend us?"}, "q1_required": {"1"}, "expires": {"30d"},
			"web_on": {"1"}, "web_event": {"Checkout Started"}, "web_url": {"/checkout/*"}, "web_delay": {"5s"}, "web_exit": {"1"}})
		id := path[strings.LastIndex(path, "/")+1:]
		if code != 200 || !strings.HasPrefix(id, "srv_") || !strings.Contains(body, `id="web-trigger"`) || !strings.Contains(body, "/checkout/*") {
			t.Fatalf("create: %d at %s: %.400s", code, path, body)
		}
		var sv survey.Survey
		s.API("GET", "/api/v1/surveys/"+id, nil, &sv)
		if sv.Web == nil || sv.Web.Event != "Checkout Started" || time.Duration(sv.Web.Delay) != 5*time.Second || !sv.Web.ExitIntent || sv.Trigger != nil {
			t.Fatalf("created %+v %+v", sv.Web, sv.Trigger)
		}

		if code, body, _ := post("/surveys/"+id+"/web", url.Values{"csrf": {csrf}, "web_event": {"page"}, "web_delay": {"2h"}}); code != 400 || !strings.Contains(body, "web.delay") {
			t.Fatalf("bad delay: %d %.300s", code, body)
		}
		if code, _, _ := post("/surveys/"+id+"/web", url.Values{"csrf": {csrf}, "web_event": {"page"}, "web_url": {"pricing"}, "web_delay": {"0s"}}); code != 200 {
			t.Fatalf("change: %d", code)
		}
		var changed survey.Survey
		s.API("GET", "/api/v1/surveys/"+id, nil, &changed)
		if changed.Web == nil || changed.Web.Event != "page" || changed.Web.URL != "pricing" || changed.Web.ExitIntent {
			t.Fatalf("changed %+v", changed.Web)
		}
		// A persistent survey shown in pages only cannot lose its only trigger.
		if code, body, _ := post("/surveys/"+id+"/web", url.Values{"csrf": {csrf}, "remove": {"1"}}); code != 400 || !strings.Contains(body, "trigger.event") {
			t.Fatalf("remove the only trigger: %d %.300s", code, body)
		}
		var pulse struct{ ID string }
		s.API("POST", "/api/v1/surveys", map[string]any{"name": "Pricing", "rhythm": "pulse", "owner": "web", "web": map[string]any{"url": "pricing"},
			"questions": []map[string]any{{"id": "q", "type": "csat", "text": map[string]string{"en": "?"}}}}, &pulse)
		if code, body, _ := post("/surveys/"+pulse.ID+"/web", url.Values{"csrf": {csrf}, "remove": {"1"}}); code != 200 || strings.Contains(body, `id="web-trigger"`) {
			t.Fatalf("remove: %d", code)
		}
		var removed survey.Survey
		s.API("GET", "/api/v1/surveys/"+pulse.ID, nil, &removed)
		if removed.Web != nil || removed.ID != pulse.ID {
			t.Fatalf("still has a web trigger: %+v", removed.Web)
		}
	})
}
