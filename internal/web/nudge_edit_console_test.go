package web_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// An owner makes a nudge in the console's editor and changes it; what the
// form writes is what the API reads, a blank field keeps what the nudge
// has, a wrong one comes back named with everything typed, and an analyst
// may look but not change.
func TestConsoleNudgeEditor(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		if code := s.API("POST", "/api/v1/segments", map[string]any{"name": "Campers", "query": map[string]any{"traits": map[string]any{"hobby": "camping"}}}, nil); code != 201 {
			t.Fatalf("segment: %d", code)
		}
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
		post := func(c *http.Client, path string, form url.Values) (int, string, string) {
			_, page := get(c, "/experiences")
			form.Set("csrf", csrfField.FindStringSubmatch(page)[1])
			resp, err := c.PostForm(s.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Request.URL.String(), string(b)
		}
		type nudge struct {
			ID, Name, Kind, Channel, Subject, Message string
			DaysAhead                                 float64 `json:"days_ahead"`
			HoldoutPct                                float64 `json:"holdout_pct"`
			CapCount                                  int     `json:"cap_count"`
			CapDays                                   float64 `json:"cap_days"`
			QuietFrom                                 int     `json:"quiet_from"`
			QuietTo                                   int     `json:"quiet_to"`
			ConversionDays                            float64 `json:"conversion_days"`
			Segment                                   map[string]any
			Active                                    bool
		}
		nudges := func() []nudge {
			var out struct{ Nudges []nudge }
			s.API("GET", "/api/v1/nudges", nil, &out)
			return out.Nudges
		}
		owner := as(url.Values{"token": {apptest.Token}})
		if code, page := get(owner, "/nudges/new"); code != 200 || !strings.Contains(page, `<option value="Campers">Campers`) || !strings.Contains(page, `id="no-email"`) {
			t.Fatalf("new nudge page: %d\n%s", code, page)
		}
		form := url.Values{"name": {"Stove gas"}, "kind": {"running_out"}, "days_ahead": {"5"}, "channel": {"email"},
			"message": {"Hi {{name}}, your {{item}} is nearly used up."}, "holdout_pct": {"20"}, "cap_count": {"2"}, "cap_days": {"14"},
			"quiet_from": {"22"}, "quiet_to": {"7"}, "saved_segment": {"Campers"}}
		if code, where, _ := post(owner, "/nudges", form); code != 200 || !strings.HasSuffix(strings.Split(where, "#")[0], "/experiences") {
			t.Fatalf("create: %d at %s", code, where)
		}
		list := nudges()
		want := nudge{Name: "Stove gas", Kind: "running_out", Channel: "email", Subject: "Stove gas", Message: "Hi {{name}}, your {{item}} is nearly used up.",
			DaysAhead: 5, HoldoutPct: 20, CapCount: 2, CapDays: 14, QuietFrom: 22, QuietTo: 7, ConversionDays: 7, Segment: map[string]any{"saved": "Campers"}, Active: true}
		if len(list) != 1 {
			t.Fatalf("nudges after the form: %+v", list)
		}
		id := list[0].ID
		want.ID = id
		if got, _ := json.Marshal(list[0]); string(got) != string(must(json.Marshal(want))) {
			t.Fatalf("the nudge made:\n%s\nwant\n%s", got, must(json.Marshal(want)))
		}
		// The experiences page names it, in words, with a link to edit it.
		if _, page := get(owner, "/experiences"); !strings.Contains(page, `href="/nudges/`+id+`/edit">Stove gas</a>`) || !strings.Contains(page, "Running out") {
			t.Fatal("the experiences page does not list the nudge with its edit link and kind in words")
		}
		// Edit: a new message and cap; days ahead left blank keeps 5; the segment is dropped.
		_, page := get(owner, "/nudges/"+id+"/edit")
		if !strings.Contains(page, `name="days_ahead" type="number" min="0" max="60" step="any" placeholder="3" value="5"`) || !strings.Contains(page, `<option value="Campers" selected>`) {
			t.Fatalf("the editor does not show the nudge as it is:\n%s", page)
		}
		edit := url.Values{"name": {"Stove gas"}, "kind": {"running_out"}, "channel": {"webhook"}, "message": {"Time for more gas?"},
			"cap_count": {"1"}, "quiet_from": {"0"}, "quiet_to": {"0"}}
		if code, _, _ := post(owner, "/nudges/"+id+"/edit", edit); code != 200 {
			t.Fatalf("edit: %d", code)
		}
		want.Channel, want.Message, want.CapCount, want.QuietFrom, want.QuietTo, want.Segment = "webhook", "Time for more gas?", 1, 0, 0, nil
		if got := nudges(); len(got) != 1 || string(must(json.Marshal(got[0]))) != string(must(json.Marshal(want))) {
			t.Fatalf("after the edit:\n%s\nwant\n%s", must(json.Marshal(got)), must(json.Marshal(want)))
		}
		// A wrong field comes back named, with what was typed, and changes nothing.
		bad := url.Values{"name": {"Stove gas"}, "kind": {"running_out"}, "channel": {"webhook"}, "message": {"Changed text"}, "holdout_pct": {"150"}}
		code, _, body := post(owner, "/nudges/"+id+"/edit", bad)
		if code != 400 || !strings.Contains(body, "holdout_pct") || !strings.Contains(body, "Changed text") || !strings.Contains(body, `value="150" aria-invalid="true"`) {
			t.Fatalf("a wrong hold-out: %d\n%s", code, body)
		}
		if got := nudges(); got[0].Message != "Time for more gas?" || got[0].HoldoutPct != 20 {
			t.Fatalf("a refused form changed the nudge: %+v", got[0])
		}
		if code, _, _ := post(owner, "/nudges", url.Values{"name": {"No message"}, "kind": {"abandoned"}}); code != 400 || len(nudges()) != 1 {
			t.Fatalf("a nudge without a message: %d", code)
		}
		// A segment the form cannot show is kept through an edit.
		if code := s.API("PATCH", "/api/v1/nudges/"+id, map[string]any{"segment": map[string]any{"channels": []string{"web"}}}, nil); code != 200 {
			t.Fatalf("patch: %d", code)
		}
		if code, _, _ := post(owner, "/nudges/"+id+"/edit", url.Values{"name": {"Stove gas"}, "kind": {"running_out"}, "channel": {"webhook"}, "message": {"Again"}, "keep_segment": {"1"}}); code != 200 {
			t.Fatalf("edit with a kept segment: %d", code)
		}
		if got := nudges(); got[0].Message != "Again" || got[0].Segment == nil || got[0].Segment["channels"] == nil {
			t.Fatalf("the segment was not kept: %+v", got[0])
		}
		// An analyst sees the editor read-only and cannot save.
		if err := s.Auth.CreateUser(t.Context(), "analyst@example.com", "a long password", "analyst"); err != nil {
			t.Fatal(err)
		}
		analyst := as(url.Values{"email": {"analyst@example.com"}, "password": {"a long password"}})
		if _, page := get(analyst, "/nudges/"+id+"/edit"); !strings.Contains(page, "<fieldset disabled>") || strings.Contains(page, "Save nudge") {
			t.Fatal("the analyst's editor is not read-only")
		}
		if code, _, _ := post(analyst, "/nudges/"+id+"/edit", edit); code != 403 {
			t.Fatalf("an analyst saves a nudge: %d", code)
		}
		if code, _ := get(owner, "/nudges/nudge_none/edit"); code != 404 {
			t.Fatalf("an unknown nudge: %d", code)
		}
	})
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
