package survey_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
	"github.com/cxloop/cxloop/internal/survey"
)

// A web trigger is stored with the survey, shown by the API, validated
// naming its field, and removed with null.
func TestWebTriggerValidation(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		q := `"questions": [{"id": "q1", "type": "nps", "text": {"en": "Recommend us?"}}]`
		id := createSurvey(t, s, `{"name": "Checkout", "rhythm": "pulse", "owner": "web",
			"web": {"event": "Checkout Started", "url": "/checkout/*", "delay": 5, "exitIntent": true}, `+q+`}`)
		var got survey.Survey
		s.API("GET", "/api/v1/surveys/"+id, nil, &got)
		if got.Web == nil || got.Web.Event != "Checkout Started" || got.Web.URL != "/checkout/*" || time.Duration(got.Web.Delay) != 5*time.Second || !got.Web.ExitIntent {
			t.Fatalf("stored web trigger %+v", got.Web)
		}
		// A persistent survey may be shown in pages only, with no server-side trigger.
		pageOnly := createSurvey(t, s, `{"name": "Any page", "rhythm": "persistent", "owner": "web", "web": {}, `+q+`}`)
		s.API("GET", "/api/v1/surveys/"+pageOnly, nil, &got)
		if got.Web == nil || got.Web.Event != "page" || got.Trigger != nil {
			t.Fatalf("page-only survey %+v %+v", got.Web, got.Trigger)
		}
		s.MustSend("track", map[string]any{"userId": "u-1", "event": "Order Completed"})
		s.Sync()

		bad := []struct{ name, method, path, body, field string }{
			{"periodic", "POST", "/api/v1/surveys", `{"name": "x", "rhythm": "periodic", "owner": "x", "schedule": {"rrule": "FREQ=MONTHLY"}, "web": {"event": "page"}, ` + q + `}`, "web"},
			{"long delay", "POST", "/api/v1/surveys", `{"name": "x", "rhythm": "pulse", "owner": "x", "web": {"delay": "2h"}, ` + q + `}`, "web.delay"},
			{"negative delay", "POST", "/api/v1/surveys", `{"name": "x", "rhythm": "pulse", "owner": "x", "web": {"delay": -1}, ` + q + `}`, "web.delay"},
			{"url with a space", "POST", "/api/v1/surveys", `{"name": "x", "rhythm": "pulse", "owner": "x", "web": {"url": "/check out"}, ` + q + `}`, "web.url"},
			{"long event", "POST", "/api/v1/surveys", `{"name": "x", "rhythm": "pulse", "owner": "x", "web": {"event": "` + strings.Repeat("e", 201) + `"}, ` + q + `}`, "web.event"},
			{"exitIntent a string", "POST", "/api/v1/surveys", `{"name": "x", "rhythm": "pulse", "owner": "x", "web": {"exitIntent": "yes"}, ` + q + `}`, "web.exitIntent"},
			{"patch bad delay", "PATCH", "/api/v1/surveys/" + id, `{"web": {"event": "page", "delay": "1d"}}`, "web.delay"},
			{"patch to periodic", "PATCH", "/api/v1/surveys/" + id, `{"rhythm": "periodic", "schedule": {"rrule": "FREQ=MONTHLY"}}`, "web"},
		}
		for _, c := range bad {
			code, body := s.Do(c.method, c.path, []byte(c.body), "Authorization: Bearer "+apptest.Token)
			var e struct {
				Error struct {
					Field string `json:"field"`
				} `json:"error"`
			}
			_ = json.Unmarshal(body, &e)
			if code != http.StatusBadRequest || e.Error.Field != c.field {
				t.Errorf("%s: %d %s, want 400 naming %q", c.name, code, body, c.field)
			}
		}

		var patched, removed survey.Survey
		if code := s.API("PATCH", "/api/v1/surveys/"+id, json.RawMessage(`{"web": {"event": "page", "url": "pricing"}}`), &patched); code != 200 ||
			patched.Web.URL != "pricing" || patched.Web.Delay != 0 || patched.Web.ExitIntent {
			t.Fatalf("patch: %d %+v", code, patched.Web)
		}
		if code := s.API("PATCH", "/api/v1/surveys/"+id, json.RawMessage(`{"web": null}`), &removed); code != 200 || removed.Web != nil || removed.ID != id {
			t.Fatalf("remove: %d %+v", code, removed.Web)
		}
		var list struct{ Surveys []webSurvey }
		webCall(t, s, "surveys", map[string]any{"anonymousId": "a-1"}, &list)
		if len(list.Surveys) != 1 || list.Surveys[0].ID != pageOnly {
			t.Fatalf("web surveys after removing a trigger: %+v", list.Surveys)
		}
	})
}

type webSurvey struct {
	ID       string
	Language string
	Dir      string
	Trigger  struct {
		Event   string
		URL     string
		DelayMs int64
	}
	Questions []struct {
		ID, Type, Text, Low, High string
		Min, Max                  int
	}
	Words struct{ Submit, Close, Thanks string }
}

// webCall posts a widget call the way the widget does (text/plain, the
// write key in the body) and decodes the answer; it returns the status.
func webCall(t *testing.T, s *apptest.Server, path string, body map[string]any, out any) int {
	t.Helper()
	if _, ok := body["writeKey"]; !ok {
		body["writeKey"] = apptest.WriteKey
	}
	b, _ := json.Marshal(body)
	resp, err := http.Post(s.URL+"/v1/web/"+path, "text/plain;charset=UTF-8", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("POST /v1/web/%s: %d without CORS headers", path, resp.StatusCode)
	}
	raw, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("POST /v1/web/%s: %d %s", path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode
}

// The widget's calls: the write key is required, every answer carries CORS
// headers, the contact policy decides what may show, an answer goes the
// survey page's way (score, rule, case), a dismissal counts as a contact
// and a non-response.
func TestWebInterceptCalls(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		id := createSurvey(t, s, `{"name": "Checkout", "rhythm": "persistent", "owner": "web", "languages": ["en", "fa"],
			"web": {"event": "Checkout Started", "url": "/checkout/*", "delay": "3s"},
			"questions": [{"id": "q1", "type": "nps", "text": {"en": "Recommend us?", "fa": "ما را پیشنهاد می‌کنید؟"}},
				{"id": "q2", "type": "text", "text": {"en": "Why?", "fa": "چرا؟"}}]}`)
		if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "Detractors", "when": {"event": "Survey Responded", "nps_max": 6},
			"then": {"open_case": {"team": "service", "kind": "detractor", "sla": "48h"}}}`), nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		clock.Add(time.Minute)

		var e struct{ Error struct{ Code, Field string } }
		if code := webCall(t, s, "surveys", map[string]any{"writeKey": "", "anonymousId": "a-1"}, &e); code != 401 || e.Error.Field != "writeKey" {
			t.Fatalf("no write key: %d %+v", code, e)
		}
		if code := webCall(t, s, "surveys", map[string]any{"writeKey": "wk_wrong", "anonymousId": "a-1"}, &e); code != 401 {
			t.Fatalf("wrong write key: %d %+v", code, e)
		}
		if code := webCall(t, s, "surveys", map[string]any{}, &e); code != 400 || e.Error.Field != "anonymousId" {
			t.Fatalf("no visitor: %d %+v", code, e)
		}
		if code := webCall(t, s, "nothing", map[string]any{}, &e); code != 404 {
			t.Fatalf("unknown path: %d %+v", code, e)
		}
		req, _ := http.NewRequest("OPTIONS", s.URL+"/v1/web/show", nil)
		req.Header.Set("Origin", "https://shop.example")
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Headers") != "authorization,content-type" || resp.Header.Get("Access-Control-Max-Age") == "" {
			t.Fatalf("preflight: %d %v", resp.StatusCode, resp.Header)
		}

		var list struct{ Surveys []webSurvey }
		webCall(t, s, "surveys", map[string]any{"anonymousId": "a-1", "languages": []string{"fa-IR", "en-US"}}, &list)
		if len(list.Surveys) != 1 {
			t.Fatalf("web surveys: %+v", list)
		}
		ws := list.Surveys[0]
		if ws.ID != id || ws.Language != "fa" || ws.Dir != "rtl" || ws.Trigger.Event != "Checkout Started" || ws.Trigger.DelayMs != 3000 ||
			ws.Questions[0].Text != "ما را پیشنهاد می‌کنید؟" || ws.Questions[0].Max != 10 || ws.Words.Submit != "ارسال" {
			t.Fatalf("web survey in Persian: %+v", ws)
		}
		webCall(t, s, "surveys", map[string]any{"anonymousId": "a-1", "languages": []string{"de-DE", "en-GB"}}, &list)
		if ws := list.Surveys[0]; ws.Language != "en" || ws.Dir != "ltr" || ws.Questions[0].Low != "Not at all likely" {
			t.Fatalf("web survey for a German and English browser: %+v", ws)
		}

		// Shown: an invitation; the policy then refuses a second showing.
		var shown survey.Shown
		if code := webCall(t, s, "show", map[string]any{"surveyId": id, "anonymousId": "a-1", "url": "https://shop.example/checkout/cart"}, &shown); code != 200 || !shown.Shown || shown.Token == "" {
			t.Fatalf("show: %d %+v", code, shown)
		}
		var again survey.Shown
		webCall(t, s, "show", map[string]any{"surveyId": id, "anonymousId": "a-1"}, &again)
		if again.Shown || again.Reason != survey.ReasonRecontactWait {
			t.Fatalf("second show: %+v", again)
		}
		if webCall(t, s, "surveys", map[string]any{"anonymousId": "a-1"}, &list); len(list.Surveys) != 0 {
			t.Fatalf("after showing, still offered: %+v", list.Surveys)
		}
		if code := webCall(t, s, "show", map[string]any{"surveyId": "srv_nope", "anonymousId": "a-1"}, &e); code != 404 || e.Error.Field != "surveyId" {
			t.Fatalf("unknown survey: %d %+v", code, e)
		}

		// Answers are checked as on the survey page, then recorded once.
		if code := webCall(t, s, "answer", map[string]any{"token": shown.Token, "answers": map[string]any{"q1": 11}}, &e); code != 400 || e.Error.Field != "answers.q1" {
			t.Fatalf("out of range: %d %+v", code, e)
		}
		if code := webCall(t, s, "answer", map[string]any{"token": shown.Token, "answers": map[string]any{"q2": "meh"}}, &e); code != 400 || e.Error.Field != "answers.q1" {
			t.Fatalf("required missing: %d %+v", code, e)
		}
		if code := webCall(t, s, "answer", map[string]any{"token": shown.Token + "x", "answers": map[string]any{"q1": 3}}, &e); code != 404 || e.Error.Field != "token" {
			t.Fatalf("forged token: %d %+v", code, e)
		}
		var done struct {
			Answered bool
			Thanks   string
		}
		if code := webCall(t, s, "answer", map[string]any{"token": shown.Token, "answers": map[string]any{"q1": 3, "q2": "Slow checkout"}, "language": "fa"}, &done); code != 201 || !done.Answered || done.Thanks == "" {
			t.Fatalf("answer: %d %+v", code, done)
		}
		if code := webCall(t, s, "answer", map[string]any{"token": shown.Token, "answers": map[string]any{"q1": 3}}, &e); code != 409 {
			t.Fatalf("answered twice: %d %+v", code, e)
		}

		// Another visitor dismisses it: a contact without an answer.
		var other survey.Shown
		webCall(t, s, "show", map[string]any{"surveyId": id, "anonymousId": "a-2"}, &other)
		if !other.Shown {
			t.Fatalf("show to a-2: %+v", other)
		}
		var dis struct{ Dismissed bool }
		if code := webCall(t, s, "dismiss", map[string]any{"token": other.Token}, &dis); code != 200 || !dis.Dismissed {
			t.Fatalf("dismiss: %d %+v", code, dis)
		}
		if code := webCall(t, s, "answer", map[string]any{"token": other.Token, "answers": map[string]any{"q1": 9}}, &e); code != 409 {
			t.Fatalf("answer after dismissal: %d %+v", code, e)
		}
		if webCall(t, s, "surveys", map[string]any{"anonymousId": "a-2"}, &list); len(list.Surveys) != 0 {
			t.Fatalf("offered again right after a dismissal: %+v", list.Surveys)
		}
		s.Sync()
		var full struct {
			Funnel survey.Funnel `json:"funnel"`
		}
		s.API("GET", "/api/v1/surveys/"+id, nil, &full)
		if f := full.Funnel; f.Answered != 1 || f.Dismissed != 1 || f.ResponseRate == nil || *f.ResponseRate != 0.5 {
			t.Fatalf("funnel %+v", f)
		}
		var sc struct {
			Groups []struct {
				Value float64
				N     int
			}
		}
		s.API("GET", "/api/v1/scores?metric=nps&survey="+id, nil, &sc)
		if len(sc.Groups) != 1 || sc.Groups[0].N != 1 || sc.Groups[0].Value != -100 {
			t.Fatalf("scores %+v", sc)
		}
		var cs struct {
			Cases []struct {
				Kind        string
				AnonymousID string `json:"anonymousId"`
			}
		}
		s.API("GET", "/api/v1/cases?limit=10", nil, &cs)
		if len(cs.Cases) != 1 || cs.Cases[0].Kind != "detractor" {
			t.Fatalf("cases %+v", cs)
		}

		// A visitor whose profile opted out is offered nothing; nobody is
		// offered a paused survey, nor shown it.
		s.MustSend("identify", map[string]any{"userId": "u-out", "traits": map[string]any{"email": "out@example.com"}})
		s.Sync()
		if code := s.API("POST", "/api/v1/customers/u-out/survey-opt-out", nil, nil); code != 200 {
			t.Fatalf("opt out: %d", code)
		}
		if webCall(t, s, "surveys", map[string]any{"userId": "u-out", "anonymousId": "a-out"}, &list); len(list.Surveys) != 0 {
			t.Fatalf("offered to an opted-out visitor: %+v", list.Surveys)
		}
		var refused survey.Shown
		if webCall(t, s, "show", map[string]any{"surveyId": id, "userId": "u-out"}, &refused); refused.Shown || refused.Reason != survey.ReasonOptedOut {
			t.Fatalf("shown to an opted-out visitor: %+v", refused)
		}
		if webCall(t, s, "surveys", map[string]any{"anonymousId": "a-3"}, &list); len(list.Surveys) != 1 {
			t.Fatalf("a new visitor is not offered the survey: %+v", list.Surveys)
		}
		s.API("PATCH", "/api/v1/surveys/"+id, map[string]any{"status": "paused"}, nil)
		if webCall(t, s, "surveys", map[string]any{"anonymousId": "a-3"}, &list); len(list.Surveys) != 0 {
			t.Fatalf("a paused survey is offered: %+v", list.Surveys)
		}
		if webCall(t, s, "show", map[string]any{"surveyId": id, "anonymousId": "a-3"}, &refused); refused.Shown || refused.Reason != survey.ReasonInactive {
			t.Fatalf("a paused survey was shown: %+v", refused)
		}
		s.API("PATCH", "/api/v1/surveys/"+id, map[string]any{"status": "active"}, nil)

		// The rhythm's window (14 days by default) ends: offered again.
		clock.Add(15 * 24 * time.Hour)
		if webCall(t, s, "surveys", map[string]any{"anonymousId": "a-2"}, &list); len(list.Surveys) != 1 {
			t.Fatalf("not offered after the window: %+v", list.Surveys)
		}
	})
}

// The widget stays small: what browsers download, gzipped, is under 15 KB.
func TestWidgetSize(t *testing.T) {
	var b bytes.Buffer
	z, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = z.Write(survey.WidgetJS)
	_ = z.Close()
	if b.Len() >= 15*1024 || survey.WidgetGzipSize() != b.Len() {
		t.Fatalf("widget is %d bytes gzipped (served %d), want under 15 KB", b.Len(), survey.WidgetGzipSize())
	}
	t.Logf("widget: %d bytes, %d gzipped", len(survey.WidgetJS), b.Len())
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	req, _ := http.NewRequest("GET", s.URL+"/v1/web/cxloop.js", nil)
	req.Header.Set("Accept-Encoding", "gzip")
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || len(got) != b.Len() ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("GET /v1/web/cxloop.js: %d %v (%d bytes)", resp.StatusCode, resp.Header, len(got))
	}
}
