package cases_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// An answer is one kind of fact whatever path it takes: the survey page,
// the management API, a client's Survey Responded through /v1, a CSV
// import. Each detractor that arrives now opens a case, however old its
// own time; history marked as a backfill opens none but counts in the
// score; answers given outside the page answer the customer's invitation,
// so response rates count them (history does not answer an invitation
// sent today). Expected figures are computed here from
// the answers the test sends.
func TestEveryAnswerPathClosesTheLoop(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		s, clock := apptest.StartAt(t, dsn, now)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		var sv struct{ ID string }
		if code := s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "Post-order", "rhythm": "persistent", "owner": "service",
			"trigger": {"event": "Order Completed"}, "delivery": "link",
			"questions": [{"id": "q1", "type": "nps", "text": {"en": "Recommend us?"}}]}`), &sv); code != 201 {
			t.Fatalf("survey: %d", code)
		}
		if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "Detractor follow-up", "when": {"event": "Survey Responded", "nps_max": 6},
			"then": {"open_case": {"team": "service", "kind": "detractor", "sla": "48h"}}}`), nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		clock.Add(time.Minute) // everything below arrives after the rule

		type answer struct {
			who      string
			path     string // page, v1, api, csv
			score    int
			age      time.Duration // how long before its arrival it was given
			backfill bool
			ordered  bool // ordered first, so an invitation waits for the answer
		}
		answers := []answer{
			{"page-1", "page", 3, 0, false, true},
			{"v1-1", "v1", 2, 0, false, true},
			{"v1-2", "v1", 9, 0, false, true},
			{"v1-old", "v1", 1, 40 * 24 * time.Hour, false, false},
			{"v1-hist", "v1", 0, 400 * 24 * time.Hour, true, false},
			{"api-1", "api", 4, 24 * time.Hour, false, true},
			{"api-2", "api", 10, 24 * time.Hour, false, false},
			{"csv-1", "csv", 5, 24 * time.Hour, false, true},
			{"csv-2", "csv", 10, 24 * time.Hour, false, false},
			{"csv-hist", "csv", 6, 300 * 24 * time.Hour, true, true},
		}
		for _, a := range answers {
			if a.ordered {
				s.MustSend("track", map[string]any{"userId": a.who, "event": "Order Completed", "timestamp": clock.Now().Add(-a.age - time.Hour).Format(time.RFC3339),
					"properties": map[string]any{"order_id": "o-" + a.who, "total": 20}})
			}
		}
		s.Sync()
		if _, err := s.Surveys.Dispatch(t.Context()); err != nil {
			t.Fatal(err)
		}
		s.Sync()
		clock.Add(time.Minute)
		csv := map[bool]*strings.Builder{false: {}, true: {}}
		for _, a := range answers {
			at := clock.Now().Add(-a.age)
			switch a.path {
			case "page":
				var out struct {
					Invitations []struct{ URL string }
				}
				s.API("GET", "/api/v1/customers/"+a.who+"/invitations", nil, &out)
				if len(out.Invitations) != 1 || out.Invitations[0].URL == "" {
					t.Fatalf("%s's invitations: %+v", a.who, out)
				}
				resp, err := http.PostForm(out.Invitations[0].URL, url.Values{"q1": {fmt.Sprint(a.score)}})
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("page answer: %v %v", err, resp)
				}
				resp.Body.Close()
			case "v1":
				msg := map[string]any{"userId": a.who, "event": "Survey Responded", "timestamp": at.Format(time.RFC3339),
					"properties": map[string]any{"survey_id": sv.ID, "answers": map[string]any{"q1": a.score}}}
				if a.backfill {
					msg["context"] = map[string]any{"backfill": true}
				}
				s.MustSend("track", msg)
			case "api":
				if code := s.API("POST", "/api/v1/surveys/"+sv.ID+"/responses", map[string]any{"customer": a.who, "answers": map[string]any{"q1": a.score},
					"at": at.Format(time.RFC3339), "backfill": a.backfill}, nil); code != 201 {
					t.Fatalf("api answer: %d", code)
				}
			case "csv":
				b := csv[a.backfill]
				if b.Len() == 0 {
					b.WriteString("customer,at,q1\n")
				}
				fmt.Fprintf(b, "%s,%s,%d\n", a.who, at.Format(time.RFC3339), a.score)
			}
		}
		for _, backfill := range []bool{false, true} {
			wantFired := 0
			for _, a := range answers {
				if a.path == "csv" && a.backfill == backfill && !backfill && a.score <= 6 {
					wantFired++
				}
			}
			code, body := s.Do("POST", fmt.Sprintf("/api/v1/surveys/%s/responses?backfill=%t", sv.ID, backfill), []byte(csv[backfill].String()),
				"Authorization: Bearer "+apptest.Token, "Content-Type: text/csv")
			var res struct {
				Imported   int
				Backfill   bool
				FiredRules *int
			}
			_ = json.Unmarshal(body, &res)
			switch {
			case code != 200 || res.Backfill != backfill:
				t.Fatalf("import (backfill %t): %d %s", backfill, code, body)
			case backfill && res.FiredRules != nil:
				t.Fatalf("a backfill says rules fired: %s", body)
			case !backfill && (res.FiredRules == nil || *res.FiredRules != wantFired):
				t.Fatalf("import: fired rules %s, want %d", body, wantFired)
			}
		}
		if code, body := s.Send("track", map[string]any{"userId": "x", "event": "Survey Responded", "context": map[string]any{"backfill": "yes"}}); code != 400 ||
			!strings.Contains(string(body), "context.backfill") {
			t.Fatalf("backfill yes: %d %s", code, body)
		}
		s.Sync()

		// Cases: one per detractor that is not history.
		want := map[string]bool{}
		promoters, detractors, invited, answeredInvited := 0, 0, 0, 0
		for _, a := range answers {
			if a.score <= 6 && !a.backfill {
				want[a.who] = true
			}
			switch {
			case a.score >= 9:
				promoters++
			case a.score <= 6:
				detractors++
			}
			if a.ordered {
				invited++
				if !a.backfill { // history answers no invitation
					answeredInvited++
				}
			}
		}
		got := map[string]bool{}
		var list struct {
			Cases []struct {
				UserID string `json:"userId"`
				Kind   string
			}
		}
		s.API("GET", "/api/v1/cases?limit=100", nil, &list)
		for _, c := range list.Cases {
			got[c.UserID] = c.Kind == "detractor"
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("detractor cases for %v, want %v", got, want)
		}
		// One score over every path, history included.
		var scores struct {
			Groups []struct {
				Value float64
				N     int
			}
		}
		s.API("GET", "/api/v1/scores?metric=nps&survey="+sv.ID, nil, &scores)
		wantNPS := float64(100*(promoters-detractors)) / float64(len(answers))
		if len(scores.Groups) != 1 || scores.Groups[0].N != len(answers) || fmt.Sprintf("%.1f", scores.Groups[0].Value) != fmt.Sprintf("%.1f", wantNPS) {
			t.Fatalf("nps %+v, want %.1f over %d", scores, wantNPS, len(answers))
		}
		// Response rate: every invited customer answered, on whatever path.
		var detail struct {
			Funnel struct {
				Answered     int
				Contacted    int
				ResponseRate *float64
			}
		}
		s.API("GET", "/api/v1/surveys/"+sv.ID, nil, &detail)
		if f := detail.Funnel; f.Answered != answeredInvited || f.Contacted != invited || f.ResponseRate == nil || math.Abs(*f.ResponseRate-float64(answeredInvited)/float64(invited)) > 1e-12 {
			t.Fatalf("funnel %+v, want %d answered of %d invited", detail.Funnel, answeredInvited, invited)
		}
		// A survey answered without invitations has no response rate (not 0 %).
		var pulse struct{ ID string }
		s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "Pulse", "rhythm": "pulse", "owner": "service",
			"questions": [{"id": "q1", "type": "csat", "text": {"en": "Happy?"}}]}`), &pulse)
		s.MustSend("track", map[string]any{"userId": "v1-2", "event": "Survey Responded", "properties": map[string]any{"survey_id": pulse.ID, "answers": map[string]any{"q1": 4}}})
		s.Sync()
		detail.Funnel.ResponseRate = nil
		s.API("GET", "/api/v1/surveys/"+pulse.ID, nil, &detail)
		if detail.Funnel.ResponseRate != nil {
			t.Fatalf("a survey nobody was invited to: response rate %v", *detail.Funnel.ResponseRate)
		}
	})
}

// Posts imported or recorded now open cases whatever their own date;
// posts imported as history open none.
func TestImportedPostsFireRules(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
		s, clock := apptest.StartAt(t, dsn, now)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "social care"}, nil)
		if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "Negative posts", "when": {"event": "Social Mention", "sentiment": "negative"},
			"then": {"open_case": {"team": "social care", "kind": "complaint"}}}`), nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		clock.Add(time.Minute)
		yesterday := now.Add(-24 * time.Hour).Format(time.RFC3339)
		posts := []struct {
			handle, text string
			negative     bool
		}{
			{"@ana", "Terrible service, my order arrived broken and nobody answers.", true},
			{"@ben", "Love the new tent, great quality!", false},
			{"@cy", "Very disappointed, the refund never came. Awful.", true},
		}
		for _, backfill := range []bool{false, true} {
			var b strings.Builder
			b.WriteString("platform,handle,text,at\n")
			want := 0
			for _, p := range posts {
				fmt.Fprintf(&b, "twitter,%s%s,%q,%s\n", p.handle, map[bool]string{true: "-old"}[backfill], p.text, yesterday)
				if p.negative && !backfill {
					want++
				}
			}
			code, body := s.Do("POST", fmt.Sprintf("/api/v1/mentions?backfill=%t", backfill), []byte(b.String()),
				"Authorization: Bearer "+apptest.Token, "Content-Type: text/csv")
			var res struct {
				Imported   int
				FiredRules *int
			}
			_ = json.Unmarshal(body, &res)
			if code != 200 || res.Imported != len(posts) || (backfill && res.FiredRules != nil) || (!backfill && (res.FiredRules == nil || *res.FiredRules != want)) {
				t.Fatalf("import (backfill %t): %d %s, want %d fired", backfill, code, body, want)
			}
		}
		// A complaint sent through /v1 with an old date opens a case; the same as history does not.
		old := now.Add(-30 * 24 * time.Hour).Format(time.RFC3339)
		s.MustSend("track", map[string]any{"userId": "late", "event": "Complaint Submitted", "timestamp": old, "properties": map[string]any{"text": "Old, but new to you"}})
		s.MustSend("track", map[string]any{"userId": "hist", "event": "Complaint Submitted", "timestamp": old, "context": map[string]any{"backfill": true},
			"properties": map[string]any{"text": "History"}})
		s.Sync()
		negatives := 0
		for _, p := range posts {
			if p.negative {
				negatives++
			}
		}
		if cs := listCases(t, s, "limit=100"); len(cs) != negatives+1 {
			t.Fatalf("%d cases, want %d negative posts and the late complaint: %+v", len(cs), negatives+1, cs)
		}
	})
}
