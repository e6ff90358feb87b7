package home_test

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

type summary struct {
	Days   int
	Scores []struct {
		Metric                          string
		Value, Previous, Change         *float64
		N, PreviousN                    int
		Small, Significant              bool
		Promoters, Passives, Detractors int
	}
	Responses struct{ Count, Previous int }
	Cases     struct {
		Open, Overdue int
		Teams         []struct {
			Name          string
			Open, Overdue int
		}
	}
	Detractors struct {
		Customers, Uncontacted, Anonymous int
		Latest                            []struct {
			Customer, Name string
			Score          float64
		}
	}
	Recovery struct {
		Complaints, Rated, HandledWell int
		HandledWellShare               *float64
	}
	AtRisk struct {
		CLV       float64
		Customers int
		Value     float64
		Top       []struct {
			Customer, Name string
			Value          float64
		}
	}
	Alerts struct{ Fired int }
}

// nps is the textbook definition, computed here from the answers given.
func nps(answers ...float64) float64 {
	var p, d float64
	for _, a := range answers {
		switch {
		case a >= 9:
			p++
		case a <= 6:
			d++
		}
	}
	return math.Round(1000*(p-d)/float64(len(answers))) / 10
}

// The home page's figures for a month of answers, cases and contacts, each
// computed here from what was sent: answers through the survey API and a
// client's Survey Responded through /v1, detractor cases a rule opened, one
// answered by an agent.
func TestSummary(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		for _, team := range []string{"service", "sales"} {
			if code := s.API("POST", "/api/v1/teams", map[string]any{"name": team}, nil); code != 201 {
				t.Fatalf("team %s: %d", team, code)
			}
		}
		var sv struct{ ID string }
		if code := s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "NPS", "rhythm": "pulse", "owner": "service",
			"questions": [{"id": "q1", "type": "nps", "text": {"en": "Would you recommend us?"}}]}`), &sv); code != 201 {
			t.Fatalf("survey: %d", code)
		}
		if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "detractors", "when": {"event": "Survey Responded", "nps_max": 6},
			"then": {"open_case": {"team": "service", "kind": "detractor", "sla": "48h"}}}`), nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		answer := func(who string, v float64) {
			t.Helper()
			if code := s.API("POST", "/api/v1/surveys/"+sv.ID+"/responses", map[string]any{"customer": who, "answers": map[string]any{"q1": v}}, nil); code != 201 {
				t.Fatalf("answer %s: %d", who, code)
			}
		}
		// The period before: 35 days before the summary.
		before := []float64{10, 9, 3, 8}
		for i, v := range before {
			answer(fmt.Sprintf("p-%d", i), v)
		}
		clock.Add(35 * 24 * time.Hour)
		now := []float64{10, 10, 9, 2, 5, 7}
		for i, v := range now {
			answer(fmt.Sprintf("c-%d", i), v)
		}
		// A client sends an answer of its own, and names the customer.
		s.MustSend("track", map[string]any{"userId": "c-client", "event": "Survey Responded", "timestamp": clock.Now().Format(time.RFC3339Nano),
			"properties": map[string]any{"survey_id": sv.ID, "answers": map[string]any{"q1": 0}}})
		s.MustSend("identify", map[string]any{"userId": "c-client", "traits": map[string]any{"name": "Cleo Client"}})
		now = append(now, 0)
		// And one through the open link: no user id, email or phone.
		s.MustSend("track", map[string]any{"anonymousId": "link-visitor", "event": "Survey Responded", "timestamp": clock.Now().Format(time.RFC3339Nano),
			"properties": map[string]any{"survey_id": sv.ID, "answers": map[string]any{"q1": 1}}})
		now = append(now, 1)
		// Two buyers who stopped long ago and returned something lately:
		// at risk (their chance of still buying is low, and a return).
		for k, who := range []string{"r-1", "r-2"} {
			for d := range 5 {
				at := clock.Now().AddDate(0, 0, -700+10*d-30*k)
				s.MustSend("track", map[string]any{"userId": who, "event": "Order Completed", "timestamp": at.Format(time.RFC3339),
					"properties": map[string]any{"order_id": fmt.Sprintf("%s-%d", who, d), "total": 80 + 20*k}})
			}
			s.MustSend("track", map[string]any{"userId": who, "event": "Product Returned", "timestamp": clock.Now().AddDate(0, 0, -10).Format(time.RFC3339),
				"properties": map[string]any{"order_id": who + "-4", "reason": "too small"}})
		}
		s.Sync()

		// An agent answers the first current detractor's case: contacted.
		var list struct {
			Cases []struct{ ID, UserID, Status string }
		}
		s.API("GET", "/api/v1/cases?kind=detractor", nil, &list)
		if len(list.Cases) != 5 {
			t.Fatalf("detractor cases: %+v", list.Cases)
		}
		for _, c := range list.Cases {
			if c.UserID == "c-3" {
				if code := s.API("POST", "/api/v1/cases/"+c.ID+"/notes", map[string]any{"note": "Called them back."}, nil); code != 200 && code != 201 {
					t.Fatalf("note: %d", code)
				}
			}
		}

		var got summary
		if code := s.API("GET", "/api/v1/home", nil, &got); code != 200 || got.Days != 30 {
			t.Fatalf("home: %d %+v", code, got)
		}
		// NPS only: no survey asks CSAT or CES.
		if len(got.Scores) != 1 {
			t.Fatalf("scores: %+v", got.Scores)
		}
		n := got.Scores[0]
		if n.Metric != "nps" || n.Value == nil || *n.Value != nps(now...) || n.N != len(now) || !n.Small {
			t.Errorf("NPS now: %+v (value %v), want %v of %d answers, a small sample", n, n.Value, nps(now...), len(now))
		}
		if n.Previous == nil || *n.Previous != nps(before...) || n.PreviousN != len(before) || n.Change == nil ||
			math.Abs(*n.Change-(nps(now...)-nps(before...))) > 0.051 {
			t.Errorf("NPS before: %v of %d, change %v; want %v of %d", n.Previous, n.PreviousN, n.Change, nps(before...), len(before))
		}
		if n.Promoters != 3 || n.Passives != 1 || n.Detractors != 4 {
			t.Errorf("split: %d promoters, %d passives, %d detractors; want 3, 1, 4", n.Promoters, n.Passives, n.Detractors)
		}
		if got.Responses.Count != len(now) || got.Responses.Previous != len(before) {
			t.Errorf("responses: %+v, want %d and %d", got.Responses, len(now), len(before))
		}
		// Five detractor cases open; the one opened 35 days ago is past its 48 h.
		if got.Cases.Open != 5 || got.Cases.Overdue != 1 || len(got.Cases.Teams) != 1 || got.Cases.Teams[0].Name != "service" {
			t.Errorf("cases: %+v", got.Cases)
		}
		// Four detractors now (2, 5, 0 and the open link's 1); the agent
		// reached the one who gave 2; no one can reach the open link's.
		d := got.Detractors
		if d.Customers != 4 || d.Uncontacted != 2 || d.Anonymous != 1 || len(d.Latest) != 2 {
			t.Fatalf("detractors: %+v", d)
		}
		names := map[string]float64{}
		for _, x := range d.Latest {
			names[x.Name] = x.Score
		}
		if v, ok := names["Cleo Client"]; !ok || v != 0 {
			t.Errorf("the client's detractor is not listed by name: %+v", d.Latest)
		}
		// One definition: the figures other routes give.
		var rec struct {
			Complaints, Rated, HandledWell int
			HandledWellShare               float64
		}
		s.API("GET", "/api/v1/recovery", nil, &rec)
		if got.Recovery.Complaints != rec.Complaints || got.Recovery.Rated != rec.Rated || got.Recovery.HandledWell != rec.HandledWell || got.Recovery.HandledWellShare != nil {
			t.Errorf("recovery: %+v, the Recovery page says %+v", got.Recovery, rec)
		}
		var risk struct {
			Customers []struct{ CLV, Risk float64 }
		}
		s.API("GET", "/api/v1/analytics/at-risk?limit=1000", nil, &risk)
		// Over the customers at risk (0.5 or more) alone.
		var value, clv float64
		var risky int
		heaviest := 0.0
		for _, c := range risk.Customers {
			if c.Risk >= 0.5 {
				risky++
				value += c.CLV * c.Risk
				clv += c.CLV
				heaviest = math.Max(heaviest, c.CLV*c.Risk)
			}
		}
		if risky != 2 {
			t.Errorf("%d customers at risk 0.5 or more, want the two lapsed buyers", risky)
		}
		if top := got.AtRisk.Top; len(top) != min(5, risky) || (risky > 0 && (math.Abs(top[0].Value-heaviest) > 0.01 || top[0].Name == "")) {
			t.Errorf("the heaviest at risk: %+v, want %.2f first", top, heaviest)
		}
		if math.Abs(got.AtRisk.Value-value) > 0.01 || math.Abs(got.AtRisk.CLV-clv) > 0.01 || got.AtRisk.Customers != risky || len(risk.Customers) == 0 {
			t.Errorf("at risk: %+v; the at-risk list's %d at 0.5 or more sum to %.2f (CLV %.2f)", got.AtRisk, risky, value, clv)
		}
		// Home's count links to the list of those customers, named; any
		// floor lists the customers at it or above.
		if page := s.Page("/customers?risk=0.5"); strings.Count(page, "<tr data-customer=") != risky || !strings.Contains(page, "not a probability") {
			t.Errorf("the customers at risk 0.5 or more: %d listed, want %d", strings.Count(page, "<tr data-customer="), risky)
		}
		floor := risk.Customers[len(risk.Customers)/2].Risk
		above := 0
		for _, c := range risk.Customers {
			if c.Risk >= floor {
				above++
			}
		}
		if page := s.Page(fmt.Sprintf("/customers?risk=%g", floor)); strings.Count(page, "<tr data-customer=") != above || above == 0 {
			t.Errorf("the customers at risk %g or more: %d listed, want %d", floor, strings.Count(page, "<tr data-customer="), above)
		}
		if page := s.Page("/"); !strings.Contains(page, `href="/customers?risk=0.5"`) {
			t.Errorf("Home does not link its count of customers at risk")
		}

		// Seven days: the period before (days 7–14 back) is empty.
		var week summary
		s.API("GET", "/api/v1/home?days=7", nil, &week)
		if week.Days != 7 || week.Scores[0].N != len(now) || week.Scores[0].Previous != nil || week.Responses.Previous != 0 {
			t.Errorf("7 days: %+v", week)
		}
		// Any period, by from and to: the two days around the first answers.
		var span summary
		day := func(d int) string {
			return url.QueryEscape(apptest.Epoch.Add(time.Duration(d) * 24 * time.Hour).Format(time.RFC3339))
		}
		if code := s.API("GET", "/api/v1/home?from="+day(-1)+"&to="+day(1), nil, &span); code != 200 || span.Days != 2 ||
			span.Responses.Count != len(before) || span.Scores[0].N != len(before) || span.Responses.Previous != 0 {
			t.Errorf("from and to: %d %+v", code, span)
		}
		// Compared with those two days, as asked.
		if code := s.API("GET", "/api/v1/home?from="+day(30)+"&compare_from="+day(-1)+"&compare_to="+day(1), nil, &span); code != 200 ||
			span.Responses.Previous != len(before) || span.Scores[0].PreviousN != len(before) {
			t.Errorf("compared with the first two days: %d %+v", code, span)
		}
		for q, field := range map[string]string{"from=" + day(1) + "&to=" + day(-1): "to", "to=" + day(1): "from", "from=" + day(-1) + "&compare_from=" + day(-3): "compare_to"} {
			code, body := s.Do(http.MethodGet, "/api/v1/home?"+q, nil, "Authorization: Bearer "+apptest.Token)
			var e struct{ Error struct{ Field string } }
			if json.Unmarshal(body, &e); code != 400 || e.Error.Field != field {
				t.Errorf("%s: %d %s, want a 400 naming %s", q, code, body, field)
			}
		}
		for _, bad := range []string{"14", "x", "-30"} {
			code, body := s.Do(http.MethodGet, "/api/v1/home?days="+bad, nil, "Authorization: Bearer "+apptest.Token)
			var e struct{ Error struct{ Field string } }
			if json.Unmarshal(body, &e); code != 400 || e.Error.Field != "days" {
				t.Errorf("days=%s: %d %s", bad, code, body)
			}
		}

		// An agent of another team sees none of service's cases.
		var tok struct{ Token string }
		if code := s.API("POST", "/api/v1/tokens", map[string]any{"name": "sales agent", "role": "agent", "teams": []string{"sales"}}, &tok); code != 201 {
			t.Fatalf("token: %d", code)
		}
		code, body := s.Do(http.MethodGet, "/api/v1/home", nil, "Authorization: Bearer "+tok.Token)
		var scoped summary
		if err := json.Unmarshal(body, &scoped); err != nil || code != 200 || scoped.Cases.Open != 0 || len(scoped.Cases.Teams) != 0 {
			t.Errorf("a sales agent's home: %d %s", code, body)
		}
	})
}

// Every open case counts, not a first page of them.
func TestSummaryCountsEveryOpenCase(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[0]))
	var batch []any
	for i := range 130 {
		batch = append(batch, map[string]any{"type": "track", "userId": fmt.Sprintf("many-%d", i), "event": "Complaint Submitted",
			"properties": map[string]any{"text": "It broke"}})
	}
	s.MustSend("batch", map[string]any{"batch": batch})
	s.Sync()
	var page struct{ Counts map[string]int }
	s.API("GET", "/api/v1/cases", nil, &page)
	var got summary
	s.API("GET", "/api/v1/home", nil, &got)
	if page.Counts["open"] != 130 || got.Cases.Open != page.Counts["open"]+page.Counts["pending"] {
		t.Errorf("open cases: home %d, the queue's counts %v; want 130", got.Cases.Open, page.Counts)
	}
}

// Two NPS surveys of different rhythms: the home's NPS is the main
// survey's (the most answers in the period), compared with that same
// survey before, not a pool whose mix shifts between the periods.
func TestHomeScoreComparesOneSurvey(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		mk := func(name, rhythm string) string {
			var sv struct{ ID string }
			if code := s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "`+name+`", "rhythm": "`+rhythm+`", "owner": "service",
				"questions": [{"id": "q1", "type": "nps", "text": {"en": "Would you recommend us?"}}]}`), &sv); code != 201 {
				t.Fatalf("survey %s: %d", name, code)
			}
			return sv.ID
		}
		post, quarterly := mk("Post-order", "pulse"), mk("Quarterly", "pulse")
		answer := func(sv, who string, v float64) {
			t.Helper()
			if code := s.API("POST", "/api/v1/surveys/"+sv+"/responses", map[string]any{"customer": who, "answers": map[string]any{"q1": v}}, nil); code != 201 {
				t.Fatalf("answer %s: %d", who, code)
			}
		}
		before, now := []float64{10, 9, 3, 8, 6}, []float64{10, 10, 9, 2, 5, 7}
		for i, v := range before {
			answer(post, fmt.Sprintf("p-%d", i), v)
		}
		for i := range 8 { // the quarterly wave: only in the period before, all unhappy
			answer(quarterly, fmt.Sprintf("q-%d", i), 1)
		}
		clock.Add(35 * 24 * time.Hour)
		for i, v := range now {
			answer(post, fmt.Sprintf("c-%d", i), v)
		}
		s.Sync()
		var got struct {
			Scores []struct {
				Metric, Survey, SurveyName string
				Value, Previous            *float64
				N, PreviousN               int
			}
		}
		if code := s.API("GET", "/api/v1/home", nil, &got); code != 200 || len(got.Scores) != 1 {
			t.Fatalf("home: %d %+v", code, got)
		}
		sc := got.Scores[0]
		if sc.Survey != post || sc.SurveyName != "Post-order" || sc.Value == nil || *sc.Value != nps(now...) || sc.N != len(now) ||
			sc.Previous == nil || *sc.Previous != nps(before...) || sc.PreviousN != len(before) {
			t.Fatalf("home NPS %+v (%v, before %v); want Post-order's %v of %d against %v of %d", sc, sc.Value, sc.Previous,
				nps(now...), len(now), nps(before...), len(before))
		}
	})
}
