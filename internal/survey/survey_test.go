package survey_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store/storetest"
	"github.com/cxloop/cxloop/internal/survey"
)

const postOrder = `{"name": "Post-order", "rhythm": "persistent", "owner": "service",
 "questions": [{"id": "q1", "type": "nps", "text": {"en": "How likely are you to recommend us?", "fa": "چقدر احتمال دارد ما را به دیگران پیشنهاد کنید؟"}}],
 "trigger": {"event": "Order Completed", "delay": "0s", "sample": 1.0}}`

func order(user, id, channel string, at time.Time) map[string]any {
	return map[string]any{"type": "track", "event": "Order Completed", "userId": user, "timestamp": at.Format(time.RFC3339Nano),
		"properties": map[string]any{"order_id": id, "total": 42.5}, "context": map[string]any{"channel": channel}}
}

// The contract examples, exactly as an outside check sends them.
func TestContractExamples(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		id := createSurvey(t, s, postOrder)

		s.MustSend("track", order("u-1", "o-1", "store", clock.Now()))
		invs := invitations(t, s, "u-1")
		if len(invs) != 1 {
			t.Fatalf("invitations = %+v, want one", invs)
		}
		inv := invs[0]
		if inv.Survey != id || inv.Status != "sent" || inv.Token == "" || !strings.HasPrefix(inv.URL, s.URL+"/s/") || inv.OrderID != "o-1" || inv.Channel != "store" {
			t.Fatalf("invitation = %+v", inv)
		}

		// 3 promoters, 2 passives, 1 detractor: NPS = (3 − 1) / 6 = 33.3.
		for i, score := range []int{10, 9, 9, 8, 7, 3} {
			var out struct {
				ID string `json:"id"`
			}
			body := map[string]any{"customer": fmt.Sprintf("u-%d", i+1), "answers": map[string]any{"q1": score}}
			if code := s.API("POST", "/api/v1/surveys/"+id+"/responses", body, &out); code != http.StatusCreated || !strings.HasPrefix(out.ID, "rsp_") {
				t.Fatalf("response %d: %d %+v", i, code, out)
			}
		}
		var got struct {
			Metric string `json:"metric"`
			Groups []struct {
				Key   string     `json:"key"`
				Value float64    `json:"value"`
				N     int        `json:"n"`
				CI95  [2]float64 `json:"ci95"`
			} `json:"groups"`
		}
		if code := s.API("GET", "/api/v1/scores?metric=nps&survey="+id, nil, &got); code != http.StatusOK {
			t.Fatalf("scores: %d", code)
		}
		// Adjusted Wald by hand: n' = 9, p' = 3.75/9, d' = 1.75/9, centre 22.2,
		// se = sqrt((p'+d'−(p'−d')²)/n') = 0.2498 → ±49.0 → [−26.7, 71.2].
		if got.Metric != "nps" || len(got.Groups) != 1 || got.Groups[0].Key != "all" || got.Groups[0].Value != 33.3 || got.Groups[0].N != 6 ||
			got.Groups[0].CI95 != [2]float64{-26.7, 71.2} {
			t.Fatalf("scores = %+v", got)
		}

		// The answers are Survey Responded events in the log, on the customer's timeline.
		var tl struct {
			Events []struct {
				Event      string         `json:"event"`
				Properties map[string]any `json:"properties"`
			} `json:"events"`
		}
		s.Sync()
		s.API("GET", "/api/v1/events?type=Survey+Responded&customer=u-6", nil, &tl)
		if len(tl.Events) != 1 || tl.Events[0].Event != "Survey Responded" {
			t.Fatalf("events = %+v", tl.Events)
		}
	})
}

func TestNPSAdjustedWaldExample(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		id := createSurvey(t, s, postOrder)
		// 50 promoters, 30 passives, 20 detractors → 29.1 ± 15.1 (the example).
		n := 0
		for _, g := range []struct{ count, score int }{{50, 10}, {30, 8}, {20, 2}} {
			for range g.count {
				n++
				s.API("POST", "/api/v1/surveys/"+id+"/responses", map[string]any{"customer": fmt.Sprintf("c-%d", n), "answers": map[string]any{"q1": g.score}}, nil)
			}
		}
		var got scores
		s.API("GET", "/api/v1/scores?metric=nps&survey="+id, nil, &got)
		g := got.Groups[0]
		if g.Value != 30 || g.N != 100 || g.CI95 != [2]float64{14.1, 44.2} || g.Distribution["promoters"] != 50 || g.Distribution["detractors"] != 20 {
			t.Fatalf("group = %+v", g)
		}
		centre, margin := (g.CI95[0]+g.CI95[1])/2, (g.CI95[1]-g.CI95[0])/2
		if math.Abs(centre-29.1) > 0.1 || math.Abs(margin-15.1) > 0.1 {
			t.Fatalf("interval %v is not 29.1 ± 15.1", g.CI95)
		}
	})
}

type scores struct {
	Groups []struct {
		Key          string         `json:"key"`
		Value        float64        `json:"value"`
		N            int            `json:"n"`
		CI95         [2]float64     `json:"ci95"`
		Distribution map[string]int `json:"distribution"`
		Comparison   *struct {
			Value       float64 `json:"value"`
			Change      float64 `json:"change"`
			Significant bool    `json:"significant"`
			PValue      float64 `json:"pValue"`
		} `json:"comparison"`
	} `json:"groups"`
	Overall *struct {
		Value float64 `json:"value"`
		N     int     `json:"n"`
	} `json:"overall"`
}

// CSAT, CES and ACSI against hand-computed values, grouped and compared.
func TestScoreMaths(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	id := createSurvey(t, s, `{"name": "Relationship", "rhythm": "pulse", "owner": "marketing", "questions": [
		{"id": "sat", "type": "csat", "text": {"en": "How satisfied are you?"}},
		{"id": "effort", "type": "ces", "text": {"en": "How easy was it?"}},
		{"id": "index", "type": "acsi", "text": {"en": "About us overall"}}]}`)
	march := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	april := time.Date(2026, 4, 10, 12, 0, 0, 0, time.UTC)
	answers := []struct {
		at       time.Time
		channel  string
		sat, ces int
		acsi     []int
	}{
		{march, "store", 5, 7, []int{10, 10, 10}},
		{march, "store", 4, 6, []int{10, 1, 1}},
		{march, "web", 2, 2, []int{1, 1, 1}},
		{march, "web", 3, 4, []int{4, 7, 10}},
		{april, "web", 1, 1, []int{1, 1, 1}},
		{april, "web", 1, 1, []int{1, 1, 1}},
		{april, "web", 2, 1, []int{1, 1, 1}},
		{april, "web", 1, 2, []int{1, 1, 1}},
	}
	for i, a := range answers {
		at := a.at
		body := map[string]any{"customer": fmt.Sprintf("p-%d", i), "channel": a.channel, "at": at,
			"answers": map[string]any{"sat": a.sat, "effort": a.ces, "index": a.acsi}}
		if code := s.API("POST", "/api/v1/surveys/"+id+"/responses", body, nil); code != http.StatusCreated {
			t.Fatalf("response %d: %d", i, code)
		}
	}
	get := func(q string) scores {
		var out scores
		if code := s.API("GET", "/api/v1/scores?survey="+id+"&"+q, nil, &out); code != http.StatusOK {
			t.Fatalf("scores %s: %d", q, code)
		}
		return out
	}
	// March CSAT: 2 of 4 in the top two boxes = 50%. Agresti–Coull: n' = 4 + 1.96²,
	// p' = (2 + 1.96²/2)/n' = 0.5 → 50 ± 1.96·sqrt(.25/7.84)·100 = 50 ± 35.0.
	m := get("metric=csat&from=2026-03-01&to=2026-04-01")
	if g := m.Groups[0]; g.Value != 50 || g.N != 4 || g.CI95 != [2]float64{15, 85} {
		t.Fatalf("march csat = %+v", g)
	}
	// March CES: mean of 7, 6, 2, 4 = 4.75; sd = 2.217; t(3) = 3.182 → ± 3.53.
	if g := get("metric=ces&from=2026-03-01&to=2026-04-01").Groups[0]; g.Value != 4.8 || g.CI95 != [2]float64{1.2, 7} {
		t.Fatalf("march ces = %+v", g)
	}
	// ACSI: items rescaled (x−1)/9·100 and averaged: 100, 33.3, 0, 66.7 → mean 50.
	if g := get("metric=acsi&from=2026-03-01&to=2026-04-01").Groups[0]; g.Value != 50 || g.N != 4 {
		t.Fatalf("march acsi = %+v", g)
	}
	// By channel: store CSAT 100% (2/2), web 0% (0/6).
	byChannel := get("metric=csat&by=channel")
	keys := map[string]float64{}
	for _, g := range byChannel.Groups {
		keys[g.Key] = g.Value
	}
	if keys["store"] != 100 || keys["web"] != 0 || byChannel.Overall == nil || byChannel.Overall.N != 8 || byChannel.Overall.Value != 25 {
		t.Fatalf("by channel = %+v overall %+v", byChannel.Groups, byChannel.Overall)
	}
	// By month, and April against March: CES fell from 4.75 to 1.25.
	if g := get("metric=ces&by=month"); len(g.Groups) != 2 || g.Groups[0].Key != "2026-03" || g.Groups[1].Key != "2026-04" {
		t.Fatalf("by month = %+v", g.Groups)
	}
	c := get("metric=ces&from=2026-04-01&to=2026-05-01&compare_from=2026-03-01&compare_to=2026-04-01").Groups[0]
	if c.Value != 1.3 || c.Comparison == nil || c.Comparison.Value != 4.8 || c.Comparison.Change != -3.5 {
		t.Fatalf("comparison = %+v %+v", c, c.Comparison)
	}
	// Welch: se² = 4.917/4 + 0.25/4, t = 3.5/1.1365 = 3.08, df ≈ 3.5 → p ≈ 0.044 (significant).
	if !c.Comparison.Significant || c.Comparison.PValue < 0.03 || c.Comparison.PValue > 0.06 {
		t.Fatalf("comparison = %+v", c.Comparison)
	}
	// CSAT March 50% vs April 0% with n = 4 each is not significant.
	c = get("metric=csat&from=2026-04-01&to=2026-05-01&compare_from=2026-03-01&compare_to=2026-04-01").Groups[0]
	if c.Comparison == nil || c.Comparison.Significant {
		t.Fatalf("csat comparison = %+v", c.Comparison)
	}
}

func TestBadInput(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	id := createSurvey(t, s, postOrder)
	cases := []struct {
		name, method, path, body, field string
		code                            int
	}{
		{"no name", "POST", "/api/v1/surveys", `{"rhythm": "pulse", "owner": "x", "questions": [{"id": "a", "type": "nps", "text": {"en": "?"}}]}`, "name", 400},
		{"bad rhythm", "POST", "/api/v1/surveys", `{"name": "x", "rhythm": "weekly", "owner": "x", "questions": [{"id": "a", "type": "nps", "text": {"en": "?"}}]}`, "rhythm", 400},
		{"bad type", "POST", "/api/v1/surveys", `{"name": "x", "rhythm": "pulse", "owner": "x", "questions": [{"id": "a", "type": "stars", "text": {"en": "?"}}]}`, "questions[0].type", 400},
		{"type is a number", "POST", "/api/v1/surveys", `{"name": "x", "rhythm": "pulse", "owner": "x", "questions": [{"id": "a", "type": 5, "text": {"en": "?"}}]}`, "questions.type", 400},
		{"no trigger", "POST", "/api/v1/surveys", `{"name": "x", "rhythm": "persistent", "owner": "x", "questions": [{"id": "a", "type": "nps", "text": {"en": "?"}}]}`, "trigger.event", 400},
		{"bad rrule", "POST", "/api/v1/surveys", `{"name": "x", "rhythm": "periodic", "owner": "x", "schedule": {"rrule": "FREQ=SOMETIMES"}, "questions": [{"id": "a", "type": "nps", "text": {"en": "?"}}]}`, "schedule.rrule", 400},
		{"sample above 1", "POST", "/api/v1/surveys", `{"name": "x", "rhythm": "persistent", "owner": "x", "trigger": {"event": "E", "sample": 2}, "questions": [{"id": "a", "type": "nps", "text": {"en": "?"}}]}`, "trigger.sample", 400},
		{"nps out of range", "POST", "/api/v1/surveys/" + id + "/responses", `{"customer": "u-1", "answers": {"q1": 11}}`, "answers.q1", 400},
		{"unknown question", "POST", "/api/v1/surveys/" + id + "/responses", `{"customer": "u-1", "answers": {"q9": 1}}`, "answers.q9", 400},
		{"no customer", "POST", "/api/v1/surveys/" + id + "/responses", `{"answers": {"q1": 1}}`, "customer", 400},
		{"unknown survey", "POST", "/api/v1/surveys/srv_nope/responses", `{"customer": "u-1", "answers": {"q1": 1}}`, "", 404},
		{"bad metric", "GET", "/api/v1/scores?metric=happiness", ``, "metric", 400},
		{"bad by", "GET", "/api/v1/scores?metric=nps&by=planet", ``, "by", 400},
		{"bad date", "GET", "/api/v1/scores?metric=nps&from=yesterday", ``, "from", 400},
		{"bad policy", "PUT", "/api/v1/survey-policy", `{"global": {"max": 0, "days": 14}}`, "global", 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, body := s.Do(c.method, c.path, []byte(c.body), "Authorization: Bearer "+apptest.Token)
			var e struct {
				Error struct {
					Field string `json:"field"`
				} `json:"error"`
			}
			_ = json.Unmarshal(body, &e)
			if code != c.code || e.Error.Field != c.field {
				t.Fatalf("%d %s, want %d naming %q", code, body, c.code, c.field)
			}
		})
	}
	// Nothing refused was stored.
	var got scores
	s.API("GET", "/api/v1/scores?metric=nps&survey="+id, nil, &got)
	if len(got.Groups) != 0 {
		t.Fatalf("refused answers were scored: %+v", got)
	}
}

// Touchpoints from before the survey went live, and history loaded as a
// backfill, invite nobody; an old touchpoint that arrives now (not marked
// as history) does.
func TestHistoryAndEarlierEventsDoNotTrigger(t *testing.T) {
	c := apptest.NewClock(time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC))
	s := server(t, storetest.DSN(t, "sqlite"), c, nil)
	s.MustSend("track", order("before", "o-0", "web", c.Now()))
	s.Sync()
	c.Add(time.Minute)
	createSurvey(t, s, postOrder)
	c.Add(time.Minute)
	history := order("history", "o-1", "web", c.Now().Add(-30*24*time.Hour))
	history["context"].(map[string]any)["backfill"] = true
	s.MustSend("track", history)
	s.MustSend("track", order("late", "o-2", "web", c.Now().Add(-30*24*time.Hour)))
	s.MustSend("track", map[string]any{"type": "track", "event": "Product Viewed", "userId": "other"})
	for _, who := range []string{"before", "history", "other"} {
		if invs := invitations(t, s, who); len(invs) != 0 {
			t.Fatalf("%s was invited: %+v", who, invs)
		}
	}
	if invs := invitations(t, s, "late"); len(invs) != 1 {
		t.Fatalf("an old order arriving now was not surveyed: %+v", invs)
	}
}

// Trigger filters and delays: two days after a store order over 40.
func TestPersistentTriggerFilterAndDelay(t *testing.T) {
	c := apptest.NewClock(apptest.Epoch)
	s := server(t, storetest.DSN(t, "sqlite"), c, nil)
	createSurvey(t, s, `{"name": "Store visit", "rhythm": "persistent", "owner": "stores",
		"questions": [{"id": "q1", "type": "csat", "text": {"en": "How was your visit?"}}],
		"trigger": {"event": "Order Completed", "where": {"channel": "store", "properties.total": {"gt": 40}}, "delay": "2d"}}`)
	s.MustSend("track", order("web-buyer", "o-1", "web", c.Now()))
	small := order("small-buyer", "o-2", "store", c.Now())
	small["properties"] = map[string]any{"order_id": "o-2", "total": 10}
	s.MustSend("track", small)
	s.MustSend("track", order("store-buyer", "o-3", "store", c.Now()))
	s.MustSend("track", order("store-buyer", "o-3", "store", c.Now())) // the same order sent again: one invitation
	dispatch(t, s)
	if invs := invitations(t, s, "store-buyer"); len(invs) != 1 || invs[0].Status != "scheduled" || invs[0].URL != "" {
		t.Fatalf("before the delay: %+v", invs)
	}
	for _, who := range []string{"web-buyer", "small-buyer"} {
		if invs := invitations(t, s, who); len(invs) != 0 {
			t.Fatalf("%s matched the filter: %+v", who, invs)
		}
	}
	c.Add(49 * time.Hour)
	dispatch(t, s)
	if invs := invitations(t, s, "store-buyer"); len(invs) != 1 || invs[0].Status != "sent" || invs[0].URL == "" {
		t.Fatalf("after the delay: %+v", invs)
	}
}

// The contact policy: one invitation per rhythm per 14 days by default;
// another rhythm is not blocked unless the global limit says so.
func TestContactPolicy(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		c := apptest.NewClock(apptest.Epoch)
		s := server(t, dsn, c, nil)
		createSurvey(t, s, postOrder)
		pulse := createSurvey(t, s, `{"name": "Pulse", "rhythm": "pulse", "owner": "product", "questions": [{"id": "q", "type": "csat", "text": {"en": "?"}}]}`)
		exempt := createSurvey(t, s, `{"name": "Recall notice", "rhythm": "pulse", "owner": "quality", "policy": {"exempt": true},
			"questions": [{"id": "q", "type": "text", "text": {"en": "?"}}]}`)

		s.MustSend("track", order("u-1", "o-1", "web", c.Now()))
		dispatch(t, s)
		c.Add(24 * time.Hour)
		s.MustSend("track", order("u-1", "o-2", "web", c.Now()))
		dispatch(t, s)
		byOrder := map[string]invitation{}
		for _, i := range invitations(t, s, "u-1") {
			byOrder[i.OrderID] = i
		}
		if byOrder["o-1"].Status != "sent" || byOrder["o-2"].Status != "skipped" || byOrder["o-2"].Reason != "recontact_wait" || byOrder["o-2"].Token != "" {
			t.Fatalf("persistent twice in 14 days: %+v", byOrder)
		}

		// A pulse survey the next day is another rhythm: not blocked.
		var res struct {
			Invitations int      `json:"invitations"`
			Unknown     []string `json:"unknown"`
		}
		if code := s.API("POST", "/api/v1/surveys/"+pulse+"/send", map[string]any{"customers": []string{"u-1", "nobody"}}, &res); code != http.StatusAccepted ||
			res.Invitations != 1 || len(res.Unknown) != 1 {
			t.Fatalf("send: %d %+v", code, res)
		}
		dispatch(t, s)
		if st := statusOf(invitations(t, s, "u-1"), pulse); st != "sent/" {
			t.Fatalf("pulse after a post-order survey: %s", st)
		}

		// With a global limit of one per 30 days, the next pulse is blocked,
		// but a survey exempt from the limits still goes out.
		if code := s.API("PUT", "/api/v1/survey-policy", map[string]any{"global": map[string]any{"max": 2, "days": 30}, "rhythms": map[string]any{}}, nil); code != 200 {
			t.Fatalf("policy: %d", code)
		}
		s.API("POST", "/api/v1/surveys/"+exempt+"/send", map[string]any{"customers": []string{"u-1"}}, nil)
		dispatch(t, s)
		if st := statusOf(invitations(t, s, "u-1"), exempt); st != "sent/" {
			t.Fatalf("exempt survey: %s", st)
		}
		c.Add(24 * time.Hour)
		s.MustSend("track", order("u-1", "o-3", "web", c.Now()))
		dispatch(t, s)
		for _, i := range invitations(t, s, "u-1") {
			if i.OrderID == "o-3" && (i.Status != "skipped" || i.Reason != "recontact_wait") {
				t.Fatalf("global limit: %+v", i)
			}
		}
		// Thirty days on, the window has closed.
		c.Add(31 * 24 * time.Hour)
		s.MustSend("track", order("u-1", "o-4", "web", c.Now()))
		dispatch(t, s)
		for _, i := range invitations(t, s, "u-1") {
			if i.OrderID == "o-4" && i.Status != "sent" {
				t.Fatalf("after the window: %+v", i)
			}
		}

		// Opted out: never invited again, by any rhythm.
		if code := s.API("POST", "/api/v1/customers/u-1/survey-opt-out", nil, nil); code != 200 {
			t.Fatalf("opt out: %d", code)
		}
		c.Add(60 * 24 * time.Hour)
		s.MustSend("track", order("u-1", "o-5", "web", c.Now()))
		dispatch(t, s)
		for _, i := range invitations(t, s, "u-1") {
			if i.OrderID == "o-5" && (i.Status != "skipped" || i.Reason != "opted_out") {
				t.Fatalf("opted out: %+v", i)
			}
		}
	})
}

func statusOf(list []invitation, survey string) string {
	var out []string
	for _, i := range list {
		if i.Survey == survey {
			out = append(out, i.Status+"/"+i.Reason)
		}
	}
	return strings.Join(out, ",")
}

func TestSamplingAndQuota(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	none := createSurvey(t, s, `{"name": "Nobody", "rhythm": "persistent", "owner": "service", "trigger": {"event": "Call Completed", "sample": 0},
		"questions": [{"id": "q", "type": "ces", "text": {"en": "?"}}]}`)
	half := createSurvey(t, s, `{"name": "Half", "rhythm": "persistent", "owner": "service", "trigger": {"event": "Case Closed", "sample": 0.5},
		"questions": [{"id": "q", "type": "ces", "text": {"en": "?"}}]}`)
	quota := createSurvey(t, s, `{"name": "Two answers", "rhythm": "pulse", "owner": "product", "quota": 2,
		"questions": [{"id": "q", "type": "csat", "text": {"en": "?"}}]}`)
	var batch []map[string]any
	for i := range 200 {
		batch = append(batch, map[string]any{"type": "track", "event": "Case Closed", "userId": fmt.Sprintf("s-%d", i)})
	}
	s.MustSend("batch", map[string]any{"batch": batch})
	s.MustSend("track", map[string]any{"type": "track", "event": "Call Completed", "userId": "caller"})
	dispatch(t, s)
	var f struct {
		Funnel struct {
			Sent    int            `json:"sent"`
			Skipped map[string]int `json:"skipped"`
		} `json:"funnel"`
	}
	s.API("GET", "/api/v1/surveys/"+half, nil, &f)
	if sent := f.Funnel.Sent; sent < 75 || sent > 125 || sent+f.Funnel.Skipped["sampled_out"] != 200 {
		t.Fatalf("half sample: %+v", f.Funnel)
	}
	s.API("GET", "/api/v1/surveys/"+none, nil, &f)
	if f.Funnel.Sent != 0 || f.Funnel.Skipped["sampled_out"] != 1 {
		t.Fatalf("zero sample: %+v", f.Funnel)
	}
	for _, u := range []string{"s-1", "s-2"} {
		s.API("POST", "/api/v1/surveys/"+quota+"/responses", map[string]any{"customer": u, "answers": map[string]any{"q": 5}}, nil)
	}
	s.API("POST", "/api/v1/surveys/"+quota+"/send", map[string]any{"customers": []string{"s-3"}}, nil)
	dispatch(t, s)
	if st := statusOf(invitations(t, s, "s-3"), quota); st != "skipped/quota_full" {
		t.Fatalf("quota: %s", st)
	}
}

// The survey link: rendered in the customer's language (right to left for
// Persian), partial answers kept, answered once, forged and expired links refused.
func TestSurveyLink(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		c := apptest.NewClock(apptest.Epoch)
		s := server(t, dsn, c, nil)
		id := createSurvey(t, s, `{"name": "Post-order", "rhythm": "persistent", "owner": "service",
			"trigger": {"event": "Order Completed"},
			"questions": [
				{"id": "q1", "type": "nps", "text": {"en": "How likely are you to recommend us?", "fa": "چقدر احتمال دارد ما را پیشنهاد کنید؟"}},
				{"id": "why", "type": "text", "text": {"en": "Why?", "fa": "چرا؟"}}]}`)
		s.MustSend("identify", map[string]any{"type": "identify", "userId": "fa-1", "traits": map[string]any{"locale": "fa-IR"}})
		s.MustSend("track", order("fa-1", "o-9", "mobile_app", c.Now()))
		invs := invitations(t, s, "fa-1")
		if len(invs) != 1 || invs[0].URL == "" {
			t.Fatalf("invitations = %+v", invs)
		}
		link := invs[0].URL

		code, page := get(t, link)
		if code != 200 || !strings.Contains(page, `lang="fa" dir="rtl"`) || !strings.Contains(page, "چقدر احتمال دارد") || strings.Contains(page, "<script") {
			t.Fatalf("page %d:\n%s", code, page)
		}
		if code, css := get(t, s.URL+"/s/page.css"); code != 200 || !strings.Contains(css, ".scale") || !strings.Contains(page, `href="/s/page.css`) {
			t.Fatalf("stylesheet: %d", code)
		}
		// Another language the survey has, on request.
		if _, page := get(t, link+"?lang=en"); !strings.Contains(page, `lang="en" dir="ltr"`) || !strings.Contains(page, "recommend") {
			t.Fatalf("english page:\n%s", page)
		}

		// Only the text: the rating is required, so the page asks again and keeps the text.
		code, page = postForm(t, link, url.Values{"why": {"Fast delivery, friendly staff"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(page, "Fast delivery") {
			t.Fatalf("partial answer: %d\n%s", code, page)
		}
		if _, page := get(t, link); !strings.Contains(page, "Fast delivery, friendly staff") {
			t.Fatalf("partial answer not kept:\n%s", page)
		}
		if st := invitations(t, s, "fa-1")[0].Status; st != "started" {
			t.Fatalf("status after a partial answer = %s", st)
		}
		// Out of range from a forged form: refused, nothing recorded.
		if code, _ := postForm(t, link, url.Values{"q1": {"42"}}); code != http.StatusUnprocessableEntity {
			t.Fatalf("out of range: %d", code)
		}
		code, page = postForm(t, link, url.Values{"q1": {"9"}, "why": {"Fast delivery, friendly staff"}})
		if code != 200 || !strings.Contains(page, "سپاس") {
			t.Fatalf("answer: %d\n%s", code, page)
		}
		// Reused: a clear page, and nothing recorded twice.
		code, page = postForm(t, link, url.Values{"q1": {"0"}})
		if code != 200 || !strings.Contains(page, "قبلاً پاسخ") {
			t.Fatalf("reuse: %d\n%s", code, page)
		}
		// The page viewed again says so at once (it was shown a moment ago).
		if code, page := get(t, link); code != 200 || !strings.Contains(page, "قبلاً پاسخ") || strings.Contains(page, "<form") && strings.Contains(page, `name="q1"`) {
			t.Fatalf("page after the answer: %d\n%s", code, page)
		}
		var got scores
		s.API("GET", "/api/v1/scores?metric=nps&survey="+id, nil, &got)
		if len(got.Groups) != 1 || got.Groups[0].N != 1 || got.Groups[0].Value != 100 {
			t.Fatalf("scores after reuse: %+v", got)
		}
		inv := invitations(t, s, "fa-1")[0]
		if inv.Status != "answered" {
			t.Fatalf("status = %s", inv.Status)
		}
		// The Survey Responded event links the touchpoint and the invitation.
		s.Sync()
		events, err := eventlog.Read(context.Background(), s.DB, eventlog.Query{Event: "Survey Responded", Limit: 10})
		if err != nil || len(events) != 1 {
			t.Fatalf("events: %v %d", err, len(events))
		}
		m, _ := events[0].Message()
		p := m.Props()
		if p["order_id"] != "o-9" || p["touchpoint_channel"] != "mobile_app" || p["survey_id"] != id || p["nps"] != 9.0 || p["trigger_event"] != "Order Completed" ||
			!strings.HasPrefix(fmt.Sprint(p["invitation_id"]), "inv_") || events[0].UserID != "fa-1" {
			t.Fatalf("event properties = %v", p)
		}
		var resp struct {
			Responses []struct {
				Texts []struct {
					Sentiment string   `json:"sentiment"`
					Language  string   `json:"language"`
					Keywords  []string `json:"keywords"`
				} `json:"texts"`
			} `json:"responses"`
		}
		s.API("GET", "/api/v1/surveys/"+id+"/responses", nil, &resp)
		if len(resp.Responses) != 1 || len(resp.Responses[0].Texts) != 1 || resp.Responses[0].Texts[0].Sentiment != "unknown" {
			t.Fatalf("a Persian text is not guessed: %+v", resp)
		}

		// Forged: a changed signature or a made-up id.
		tok := inv.Token
		for _, bad := range []string{tok[:len(tok)-2] + "xx", "inv_0000." + tok[strings.Index(tok, ".")+1:], "nonsense"} {
			if code, page := get(t, s.URL+"/s/"+bad); code != http.StatusNotFound || !strings.Contains(page, "not valid") && !strings.Contains(page, "معتبر") {
				t.Fatalf("forged %q: %d\n%s", bad, code, page)
			}
		}

		// Expired: a link sent 31 days ago.
		s.MustSend("track", order("late", "o-10", "web", c.Now()))
		late := invitations(t, s, "late")[0]
		c.Add(31 * 24 * time.Hour)
		if code, page := get(t, late.URL); code != http.StatusGone || !strings.Contains(page, "expired") {
			t.Fatalf("expired: %d\n%s", code, page)
		}
		if code, _ := postForm(t, late.URL, url.Values{"q1": {"10"}}); code != http.StatusGone {
			t.Fatalf("expired answer: %d", code)
		}
		dispatch(t, s)
		if st := invitations(t, s, "late")[0].Status; st != "expired" {
			t.Fatalf("status = %s", st)
		}

		// Closed: a page shown a moment ago says so once the survey closes.
		s.MustSend("track", order("open-1", "o-11", "web", c.Now()))
		open := invitations(t, s, "open-1")[0]
		if code, _ := get(t, open.URL); code != 200 {
			t.Fatalf("open invitation: %d", code)
		}
		if code := s.API("PATCH", "/api/v1/surveys/"+id, map[string]any{"status": "closed"}, nil); code != 200 {
			t.Fatalf("close: %d", code)
		}
		if code, page := get(t, open.URL); code != http.StatusGone || !strings.Contains(page, "closed") {
			t.Fatalf("closed: %d\n%s", code, page)
		}
	})
}

// Sentiment and keywords of English verbatims; other languages are unknown.
func TestVerbatims(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	id := createSurvey(t, s, `{"name": "Feedback", "rhythm": "pulse", "owner": "service",
		"questions": [{"id": "q", "type": "csat", "text": {"en": "?"}}, {"id": "t", "type": "text", "text": {"en": "Tell us more"}}]}`)
	for i, c := range []struct{ text, lang, want string }{
		{"The delivery was late and the box was damaged. Very disappointed.", "en", "negative"},
		{"Great service, really friendly staff and fast delivery!", "en", "positive"},
		{"The parcel came on Tuesday.", "en", "neutral"},
		{"The courier was not helpful at all.", "en", "negative"},
		{"Der Kurier war sehr unfreundlich.", "de", "unknown"},
	} {
		body := map[string]any{"customer": fmt.Sprintf("v-%d", i), "language": c.lang, "answers": map[string]any{"q": 3, "t": c.text}}
		if code := s.API("POST", "/api/v1/surveys/"+id+"/responses", body, nil); code != 201 {
			t.Fatalf("response: %d", code)
		}
		var resp struct {
			Responses []struct {
				Texts []struct {
					Body      string   `json:"body"`
					Sentiment string   `json:"sentiment"`
					Keywords  []string `json:"keywords"`
				} `json:"texts"`
			} `json:"responses"`
		}
		s.API("GET", "/api/v1/surveys/"+id+"/responses?limit=1", nil, &resp)
		got := resp.Responses[0].Texts[0]
		if got.Body != c.text || got.Sentiment != c.want {
			t.Fatalf("%q: %+v, want %s", c.text, got, c.want)
		}
		if i == 0 && (len(got.Keywords) == 0 || !slices.Contains(got.Keywords, "delivery") || slices.Contains(got.Keywords, "late")) {
			t.Fatalf("keywords = %v", got.Keywords)
		}
	}
}

func TestImportCSVThroughAPI(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	id := createSurvey(t, s, postOrder)
	auth := "Authorization: Bearer " + apptest.Token
	code, body := s.Do("POST", "/api/v1/surveys/"+id+"/responses", []byte("customer,q1,colour\nu-1,9,red\n"), auth, "Content-Type: text/csv")
	if code != 400 || !strings.Contains(string(body), `"field":"colour"`) {
		t.Fatalf("unknown column: %d %s", code, body)
	}
	code, body = s.Do("POST", "/api/v1/surveys/"+id+"/responses", []byte("customer,q1\nu-1,9\n,10\nu-3,x\n"), auth, "Content-Type: text/csv; charset=utf-8")
	var res struct {
		Rows, Imported, Refused int
		Errors                  []struct {
			Line  int
			Field string
		}
	}
	_ = json.Unmarshal(body, &res)
	if code != 200 || res.Rows != 3 || res.Imported != 1 || res.Refused != 2 || res.Errors[0].Line != 3 || res.Errors[0].Field != "customer" ||
		res.Errors[1].Field != "answers.q1" {
		t.Fatalf("import: %d %s", code, body)
	}
}

// Changing a survey: texts and status change freely; question types are
// fixed once answers exist; a paused survey invites no one.
func TestUpdateSurvey(t *testing.T) {
	s, clock := apptest.StartAt(t, storetest.DSN(t, "sqlite"), apptest.Epoch)
	id := createSurvey(t, s, postOrder)
	var sv struct {
		Status    string
		Questions []struct{ Text map[string]string }
		Trigger   struct{ Delay string }
	}
	if code := s.API("PATCH", "/api/v1/surveys/"+id, map[string]any{"status": "paused", "trigger": map[string]any{"event": "Order Completed", "delay": "48h"}}, &sv); code != 200 ||
		sv.Status != "paused" || sv.Trigger.Delay != "2d" {
		t.Fatalf("patch: %d %+v", code, sv)
	}
	s.MustSend("track", order("paused-1", "o-1", "web", clock.Now()))
	if invs := invitations(t, s, "paused-1"); len(invs) != 0 {
		t.Fatalf("a paused survey invited: %+v", invs)
	}
	s.API("POST", "/api/v1/surveys/"+id+"/responses", map[string]any{"customer": "paused-1", "answers": map[string]any{"q1": 7}}, nil)
	newText := []map[string]any{{"id": "q1", "type": "nps", "text": map[string]string{"en": "Would you recommend us to a friend?"}}}
	if code := s.API("PATCH", "/api/v1/surveys/"+id, map[string]any{"questions": newText}, &sv); code != 200 || sv.Questions[0].Text["en"] != "Would you recommend us to a friend?" {
		t.Fatalf("new text: %d %+v", code, sv)
	}
	var e struct{ Error struct{ Field string } }
	newType := []map[string]any{{"id": "q1", "type": "csat", "text": map[string]string{"en": "How satisfied are you?"}}}
	if code := s.API("PATCH", "/api/v1/surveys/"+id, map[string]any{"questions": newType}, &e); code != 400 || e.Error.Field != "questions" {
		t.Fatalf("type change with answers: %d %+v", code, e)
	}
	if code := s.API("PATCH", "/api/v1/surveys/"+id, map[string]any{"status": "finished"}, &e); code != 400 || e.Error.Field != "status" {
		t.Fatalf("bad status: %d %+v", code, e)
	}
	var p struct {
		Global  *struct{ Max, Days int }
		Rhythms map[string]struct{ Max, Days int }
	}
	if code := s.API("GET", "/api/v1/survey-policy", nil, &p); code != 200 || p.Global != nil || p.Rhythms["persistent"].Days != 14 || p.Rhythms["periodic"].Max != 1 {
		t.Fatalf("default policy: %d %+v", code, p)
	}
}

// Many survey page views at once share reads of their invitations; each
// gets its own, and an unknown id is not found.
func TestConcurrentViews(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		c := apptest.NewClock(apptest.Epoch)
		s := server(t, dsn, c, nil)
		id := createSurvey(t, s, postOrder)
		for i := range 60 {
			s.MustSend("track", order(fmt.Sprintf("cv-%d", i), fmt.Sprintf("o-%d", i), "web", c.Now()))
		}
		dispatch(t, s)
		list, err := s.Surveys.SurveyInvitations(context.Background(), id, survey.Sent, 100, 0)
		if err != nil || len(list) != 60 {
			t.Fatalf("invitations: %d %v", len(list), err)
		}
		var wg sync.WaitGroup
		errs := make(chan string, 600)
		for k := range 600 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if k%10 == 9 {
					if _, err := s.Surveys.ForView(context.Background(), fmt.Sprintf("inv_missing_%d", k)); fault.Code(err) != fault.NotFound {
						errs <- fmt.Sprintf("missing %d: %v", k, err)
					}
					return
				}
				want := list[k%len(list)]
				got, err := s.Surveys.ForView(context.Background(), want.ID)
				if err != nil || got.ID != want.ID || got.Survey != id || got.Status != survey.Sent {
					errs <- fmt.Sprintf("%s: %+v %v", want.ID, got, err)
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Fatal(e)
		}
	})
}

// An imported answer keyed by an email nobody is known by yet belongs to
// the customer who later signs in with that email; an answer dated in the
// future is refused, naming the field.
func TestImportByEmailAndNoFutureAnswers(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		id := createSurvey(t, s, postOrder)
		auth := "Authorization: Bearer " + apptest.Token
		future := clock.Now().Add(72 * time.Hour).Format("2006-01-02")
		code, body := s.Do("POST", "/api/v1/surveys/"+id+"/responses", []byte("customer,q1,at\nCSV1@Example.com,3,\nu-9,9,"+future+"\n"), auth, "Content-Type: text/csv")
		var res struct {
			Imported, Refused int
			Errors            []struct {
				Line  int
				Field string
			}
		}
		_ = json.Unmarshal(body, &res)
		if code != 200 || res.Imported != 1 || res.Refused != 1 || res.Errors[0].Line != 3 || res.Errors[0].Field != "at" {
			t.Fatalf("import: %d %s", code, body)
		}
		s.MustSend("identify", map[string]any{"userId": "shop-77", "traits": map[string]any{"email": "csv1@example.com"}})
		s.Sync()
		var cus struct {
			ID         string
			Identities []struct{ Kind, Value string }
		}
		if code := s.API("GET", "/api/v1/customers/shop-77", nil, &cus); code != 200 {
			t.Fatalf("customer: %d", code)
		}
		var byEmail struct{ ID string }
		s.API("GET", "/api/v1/customers/csv1@example.com", nil, &byEmail)
		if byEmail.ID != cus.ID {
			t.Fatalf("the answerer %q and the customer who signed in %q are two profiles", byEmail.ID, cus.ID)
		}
		var tl struct{ Events []struct{ Event string } }
		s.API("GET", "/api/v1/customers/shop-77/timeline", nil, &tl)
		found := false
		for _, e := range tl.Events {
			found = found || e.Event == "Survey Responded"
		}
		if !found {
			t.Fatalf("the imported answer is not on the customer's timeline: %+v", tl.Events)
		}
	})
}
