package cases_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/outbox"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type caseView struct {
	ID       string `json:"id"`
	Customer string `json:"customer"`
	Kind     string `json:"kind"`
	Formal   bool   `json:"formal"`
	Status   string `json:"status"`
	DueAt    string `json:"dueAt"`
	Team     string `json:"teamName"`
	Priority string `json:"priority"`
	OrderID  string `json:"orderId"`
	Breached bool   `json:"breached"`
}

func listCases(t *testing.T, s *apptest.Server, query string) []caseView {
	t.Helper()
	var out struct{ Cases []caseView }
	if code := s.API("GET", "/api/v1/cases?"+query, nil, &out); code != 200 {
		t.Fatalf("cases?%s: %d", query, code)
	}
	return out.Cases
}

// The contract examples for teams, rules, cases and mentions.
func TestContractExamples(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		var team struct{ ID string }
		if code := s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, &team); code != 201 || !strings.HasPrefix(team.ID, "team_") {
			t.Fatalf("team: %d %+v", code, team)
		}
		rule := json.RawMessage(`{"name": "detractors", "when": {"event": "Survey Responded", "nps_max": 6},
			"then": {"open_case": {"team": "service", "kind": "detractor", "sla": "24h"}}}`)
		if code := s.API("POST", "/api/v1/rules", rule, nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		s.MustSend("track", map[string]any{"userId": "u-1", "event": "Complaint Submitted", "properties": map[string]any{"text": "My tent arrived torn.", "order_id": "o1"}})
		cs := listCases(t, s, "team=service&status=open")
		if len(cs) != 1 {
			t.Fatalf("cases = %+v", cs)
		}
		c := cs[0]
		due, err := time.Parse(time.RFC3339, c.DueAt)
		if !strings.HasPrefix(c.ID, "case_") || !strings.HasPrefix(c.Customer, "cus_") || c.Kind != "complaint" || !c.Formal || c.Status != "open" ||
			err != nil || due.Before(clock.Now()) || c.OrderID != "o1" {
			t.Fatalf("case = %+v (%v)", c, err)
		}
		var resolved caseView
		if code := s.API("POST", "/api/v1/cases/"+c.ID+"/resolve", map[string]any{"note": "Replacement sent."}, &resolved); code != 200 || resolved.Status != "resolved" {
			t.Fatalf("resolve: %d %+v", code, resolved)
		}
		if code := s.API("POST", "/api/v1/cases/"+c.ID+"/resolve", map[string]any{"note": "again"}, nil); code != 409 {
			t.Fatalf("resolving twice: %d", code)
		}
		if cs := listCases(t, s, "team=service&status=open"); len(cs) != 0 {
			t.Fatalf("open after resolving: %+v", cs)
		}

		// A detractor answer opens a detractor case through the rule.
		var sv struct{ ID string }
		s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "NPS", "rhythm": "pulse", "owner": "service",
			"questions": [{"id": "q1", "type": "nps", "text": {"en": "?"}}]}`), &sv)
		s.API("POST", "/api/v1/surveys/"+sv.ID+"/responses", map[string]any{"customer": "u-2", "answers": map[string]any{"q1": 3}}, nil)
		s.API("POST", "/api/v1/surveys/"+sv.ID+"/responses", map[string]any{"customer": "u-3", "answers": map[string]any{"q1": 9}}, nil)
		cs = listCases(t, s, "team=service&status=open&kind=detractor")
		if len(cs) != 1 || cs[0].Kind != "detractor" || cs[0].Formal {
			t.Fatalf("detractor cases = %+v", cs)
		}

		var m struct {
			ID        string
			Sentiment string
			Matched   bool
		}
		if code := s.API("POST", "/api/v1/mentions", map[string]any{"platform": "twitter", "handle": "@someone", "text": "Still waiting for my order, terrible service",
			"url": "https://twitter.example/p/1", "at": clock.Now().UTC().Format(time.RFC3339)}, &m); code != 201 || m.Sentiment != "negative" || m.Matched || m.ID == "" {
			t.Fatalf("mention: %d %+v", code, m)
		}

		// Every change is an event in the log.
		s.Sync()
		for _, name := range []string{"Case Opened", "Case Resolved", "Social Mention"} {
			list, err := eventlog.Read(context.Background(), s.DB, eventlog.Query{Event: name, Limit: 10})
			if err != nil || len(list) == 0 {
				t.Fatalf("no %s event (%v)", name, err)
			}
		}
	})
}

// Negative mentions open informal cases by rule; a matched handle names the customer.
func TestInformalComplaints(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	s.API("POST", "/api/v1/teams", map[string]any{"name": "social care"}, nil)
	if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "angry posts", "when": {"event": "Social Mention", "sentiment": "negative"},
		"then": {"open_case": {"team": "social care", "kind": "complaint", "sla": "4h", "priority": "high"}}}`), nil); code != 201 {
		t.Fatalf("rule: %d", code)
	}
	s.MustSend("identify", map[string]any{"userId": "ana", "anonymousId": "social:@ana_outdoors", "traits": map[string]any{"email": "ana@example.com"}})
	s.Sync()
	var m struct {
		Customer string
		Matched  bool
	}
	s.API("POST", "/api/v1/mentions", map[string]any{"platform": "instagram", "handle": "@ana_outdoors", "text": "The boots were damaged and support was rude."}, &m)
	s.API("POST", "/api/v1/mentions", map[string]any{"platform": "trustpilot", "handle": "happy-hiker", "text": "Great advice and fast delivery!"}, nil)
	if !m.Matched || !strings.HasPrefix(m.Customer, "cus_") {
		t.Fatalf("mention by a known handle: %+v", m)
	}
	cs := listCases(t, s, "team=social+care")
	if len(cs) != 1 || cs[0].Formal || cs[0].Priority != "high" || cs[0].Customer != m.Customer {
		t.Fatalf("informal cases = %+v", cs)
	}
	if cs := listCases(t, s, "customer=ana@example.com"); len(cs) != 1 {
		t.Fatalf("cases of ana = %+v", cs)
	}
}

// Bad input names its field; a viewer may read but not act, and a refused
// call leaves no trace.
func TestBadInputAndRoles(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
	for _, c := range []struct{ path, body, field string }{
		{"/api/v1/teams", `{"name": ""}`, "name"},
		{"/api/v1/rules", `{"name": "x", "when": {}, "then": {"open_case": {"team": "service"}}}`, "when.event"},
		{"/api/v1/rules", `{"name": "x", "when": {"event": "E"}, "then": {"open_case": {"team": "nobody"}}}`, "then.open_case.team"},
		{"/api/v1/rules", `{"name": "x", "when": {"event": "E"}, "then": {"open_case": {"team": "service", "sla": "soon"}}}`, "then.open_case.sla"},
		{"/api/v1/rules", `{"name": "x", "when": {"event": "E"}, "then": {}}`, "then"},
		{"/api/v1/mentions", `{"platform": "twitter", "handle": "@x"}`, "text"},
		{"/api/v1/webhooks", `{"url": "ftp://x", "events": ["Case Opened"]}`, "url"},
		{"/api/v1/rules", `{"name": "x", "when": {"event": "Survey Responded", "nps_max": 16}, "then": {"open_case": {"team": "service"}}}`, "when.nps_max"},
		{"/api/v1/rules", `{"name": "x", "when": {"event": "Survey Responded", "ces_min": 0}, "then": {"open_case": {"team": "service"}}}`, "when.ces_min"},
		{"/api/v1/webhooks", `{"url": "http://example.com/h", "events": []}`, "events"},
	} {
		code, body := s.Do("POST", c.path, []byte(c.body), "Authorization: Bearer "+apptest.Token)
		var e struct{ Error struct{ Field string } }
		_ = json.Unmarshal(body, &e)
		if code != 400 || e.Error.Field != c.field {
			t.Errorf("%s %s: %d %s, want 400 naming %s", c.path, c.body, code, body, c.field)
		}
	}
	tok, err := s.Auth.CreateToken(context.Background(), "reader", "viewer", "")
	if err != nil {
		t.Fatal(err)
	}
	s.MustSend("track", map[string]any{"userId": "u-9", "event": "Complaint Submitted", "properties": map[string]any{"text": "Broken zip"}})
	cs := listCases(t, s, "status=open")
	if len(cs) != 1 {
		t.Fatalf("cases = %+v", cs)
	}
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/v1/cases/" + cs[0].ID + "/resolve", `{"note": "no"}`},
		{"POST", "/api/v1/rules", `{"name": "x", "when": {"event": "E"}, "then": {"open_case": {"team": "service"}}}`},
		{"POST", "/api/v1/teams", `{"name": "sneaky"}`},
		{"GET", "/api/v1/webhooks", ``},
	} {
		if code, _ := s.Do(c.method, c.path, []byte(c.body), "Authorization: Bearer "+tok); code != 403 {
			t.Errorf("viewer %s %s: %d", c.method, c.path, code)
		}
	}
	if code, _ := s.Do("GET", "/api/v1/cases", nil, "Authorization: Bearer "+tok); code != 200 {
		t.Errorf("viewer reading cases: %d", code)
	}
	var teams struct{ Teams []struct{ Name string } }
	s.API("GET", "/api/v1/teams", nil, &teams)
	var rules struct{ Rules []any }
	s.API("GET", "/api/v1/rules", nil, &rules)
	if cs := listCases(t, s, "status=open"); len(cs) != 1 || len(teams.Teams) != 1 || len(rules.Rules) != 0 {
		t.Fatalf("a refused call left a trace: cases %+v teams %+v rules %d", cs, teams, len(rules.Rules))
	}
	// "all", as the console's filter offers it, is every status.
	if all := listCases(t, s, "status=all"); len(all) != len(listCases(t, s, "")) {
		t.Fatalf("status=all: %d cases, want every one", len(all))
	}
}

// Return rates by the channel an order was bought in, by reason and by category.
func TestReturnRates(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		var batch []map[string]any
		for i := range 20 {
			channel := []string{"store", "web", "web", "mobile_app"}[i%4]
			category := []string{"Apparel", "Tents"}[i%2]
			batch = append(batch, map[string]any{"type": "track", "userId": fmt.Sprintf("r-%d", i), "event": "Order Completed",
				"properties": map[string]any{"order_id": fmt.Sprintf("o-%d", i), "total": 50, "products": []any{map[string]any{"category": category}}},
				"context":    map[string]any{"channel": channel}})
		}
		// Returns: 1 of 5 store orders, 4 of 10 web orders, none of 5 app orders.
		for _, i := range []int{0, 1, 2, 5, 6} {
			reason := "wrong size"
			if i == 0 {
				reason = "defective"
			}
			batch = append(batch, map[string]any{"type": "track", "userId": fmt.Sprintf("r-%d", i), "event": "Order Refunded",
				"properties": map[string]any{"order_id": fmt.Sprintf("o-%d", i), "reason": reason}, "context": map[string]any{"channel": "store"}})
		}
		s.MustSend("batch", map[string]any{"batch": batch})
		var got struct {
			Groups []struct {
				Key             string
				Orders, Returns int
				Rate            float64
			}
		}
		if code := s.API("GET", "/api/v1/returns/rates?by=channel", nil, &got); code != 200 {
			t.Fatalf("rates: %d", code)
		}
		rates := map[string]string{}
		for _, g := range got.Groups {
			rates[g.Key] = fmt.Sprintf("%d/%d=%.2f", g.Returns, g.Orders, g.Rate)
		}
		if rates["store"] != "1/5=0.20" || rates["web"] != "4/10=0.40" || rates["mobile_app"] != "0/5=0.00" {
			t.Fatalf("by channel: %v", rates)
		}
		// Not grouped: every order, and by category.
		for q, want := range map[string]map[string]string{"": {"all": "5/20=0.25"}, "?by=category": {"Apparel": "3/10=0.30", "Tents": "2/10=0.20"}} {
			s.API("GET", "/api/v1/returns/rates"+q, nil, &got)
			rates = map[string]string{}
			for _, g := range got.Groups {
				rates[g.Key] = fmt.Sprintf("%d/%d=%.2f", g.Returns, g.Orders, g.Rate)
			}
			if !maps.Equal(rates, want) {
				t.Fatalf("rates%s: %v, want %v", q, rates, want)
			}
		}
		// By reason: what the 5 returns of 20 orders are made of.
		var byReason struct {
			Groups []struct {
				Key             string
				Orders, Returns int
				Rate            float64
				Share           *float64
			}
		}
		s.API("GET", "/api/v1/returns/rates?by=reason", nil, &byReason)
		rates = map[string]string{}
		for _, g := range byReason.Groups {
			if g.Share == nil {
				t.Fatalf("by reason without a share: %+v", g)
			}
			rates[g.Key] = fmt.Sprintf("%d/%d=%.2f share %.2f", g.Returns, g.Orders, g.Rate, *g.Share)
		}
		if len(rates) != 2 || rates["wrong size"] != "4/20=0.20 share 0.80" || rates["defective"] != "1/20=0.05 share 0.20" {
			t.Fatalf("by reason: %v", rates)
		}
		// A rule opens a case for defective returns; the rates link returns to their cases.
		s.API("POST", "/api/v1/teams", map[string]any{"name": "quality"}, nil)
		var rule struct{ ID string }
		s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "defects", "when": {"event": "Order Refunded", "reason": "defective"},
			"then": {"open_case": {"team": "quality", "kind": "return"}}}`), &rule)
		s.MustSend("track", map[string]any{"userId": "r-12", "event": "Order Refunded", "properties": map[string]any{"order_id": "o-12", "reason": "defective"}})
		var withCases struct {
			Groups []struct {
				Key            string
				Returns, Cases int
			}
		}
		s.API("GET", "/api/v1/returns/rates?by=reason", nil, &withCases)
		for _, g := range withCases.Groups {
			if g.Key == "defective" && (g.Returns != 2 || g.Cases != 1) {
				t.Fatalf("defective returns with cases: %+v", g)
			}
		}
		var firings struct {
			Firings []struct{ MessageID, Outcome string }
		}
		if code := s.API("GET", "/api/v1/rules/"+rule.ID+"/firings", nil, &firings); code != 200 || len(firings.Firings) != 1 || firings.Firings[0].Outcome != "open_case" {
			t.Fatalf("firings: %d %+v", code, firings)
		}
		if code, _ := s.Do("GET", "/api/v1/returns/rates?by=planet", nil, "Authorization: Bearer "+apptest.Token); code != 400 {
			t.Fatalf("bad by: %d", code)
		}
	})
}

// Webhooks: signed, retried with backoff against a receiver that fails and
// recovers, delivered once the receiver answers 2xx, and redeliverable.
func TestWebhookDeliveries(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		var (
			mu       sync.Mutex
			got      []string
			failures = 2
			secret   string
		)
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			mu.Lock()
			defer mu.Unlock()
			sig := r.Header.Get("X-Cxloop-Signature")
			var ts string
			var v1 string
			for _, part := range strings.Split(sig, ",") {
				k, v, _ := strings.Cut(part, "=")
				switch k {
				case "t":
					ts = v
				case "v1":
					v1 = v
				}
			}
			m := hmac.New(sha256.New, []byte(secret))
			m.Write([]byte(ts + "."))
			m.Write(body)
			if v1 != hex.EncodeToString(m.Sum(nil)) {
				http.Error(w, "bad signature", http.StatusUnauthorized)
				got = append(got, "bad signature")
				return
			}
			if failures > 0 {
				failures--
				http.Error(w, "down", http.StatusServiceUnavailable)
				got = append(got, "503")
				return
			}
			got = append(got, r.Header.Get("X-Cxloop-Event")+" "+r.Header.Get("X-Cxloop-Delivery"))
		}))
		defer receiver.Close()
		var hook struct{ ID, Secret string }
		if code := s.API("POST", "/api/v1/webhooks", map[string]any{"url": receiver.URL, "events": []string{"Case Opened"}}, &hook); code != 201 ||
			!strings.HasPrefix(hook.ID, "wh_") || hook.Secret == "" {
			t.Fatalf("webhook: %d %+v", code, hook)
		}
		mu.Lock()
		secret = hook.Secret
		mu.Unlock()
		s.MustSend("track", map[string]any{"userId": "w-1", "event": "Complaint Submitted", "properties": map[string]any{"text": "Late again"}})
		s.MustSend("track", map[string]any{"userId": "w-1", "event": "Product Viewed"})
		s.Sync()
		s.Sync()
		// The job system makes each attempt and schedules the next by the
		// wall clock; "retry now" (the API's) runs it without the wait.
		calls := func() []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), got...)
		}
		waitCalls := func(n int) {
			t.Helper()
			deadline := time.Now().Add(20 * time.Second)
			for len(calls()) < n {
				if time.Now().After(deadline) {
					t.Fatalf("receiver saw %q, waiting for call %d", calls(), n)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		type job struct {
			ID                       int64
			State                    string
			Attempt                  int
			AttemptedAt, ScheduledAt time.Time
		}
		// retrying waits until the job has recorded the failed attempt n,
		// checks that the next is wait after it, and returns the job.
		retrying := func(n int, wait time.Duration) job {
			t.Helper()
			var page struct{ Jobs []job }
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				s.API("GET", "/api/v1/jobs?kind=webhook.deliver", nil, &page)
				if len(page.Jobs) == 1 && page.Jobs[0].State == "retryable" && page.Jobs[0].Attempt == n {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the delivery job after attempt %d: %+v", n, page.Jobs)
				}
			}
			j := page.Jobs[0]
			if d := j.ScheduledAt.Sub(j.AttemptedAt); d < wait || d > wait+3*time.Second {
				t.Fatalf("attempt %d: the next is %v later, want %v", n, d, wait)
			}
			return j
		}
		stays := func(n int) {
			t.Helper()
			time.Sleep(1500 * time.Millisecond)
			if c := calls(); len(c) != n {
				t.Fatalf("receiver saw %q before the retry was due", c)
			}
		}
		retryNow := func(j job) {
			t.Helper()
			if code := s.API("POST", fmt.Sprintf("/api/v1/jobs/%d/retry", j.ID), nil, nil); code != 200 {
				t.Fatalf("retry now: %d", code)
			}
		}
		waitCalls(1) // 503
		j := retrying(1, 10*time.Second)
		stays(1) // not due yet: waits 10 s
		retryNow(j)
		waitCalls(2) // 503
		j = retrying(2, 20*time.Second)
		retryNow(j)
		waitCalls(3) // delivered
		stays(3)     // nothing left
		first := calls()
		if len(first) != 3 || first[0] != "503" || first[1] != "503" || !strings.HasPrefix(first[2], "Case Opened dlv_") {
			t.Fatalf("receiver saw %q", first)
		}
		var ds struct {
			Deliveries []struct {
				ID, State, Event string
				Attempts         int
			}
		}
		s.API("GET", "/api/v1/webhooks/"+hook.ID+"/deliveries", nil, &ds)
		if len(ds.Deliveries) != 1 || ds.Deliveries[0].State != "delivered" || ds.Deliveries[0].Attempts != 3 {
			t.Fatalf("deliveries = %+v", ds)
		}
		if code := s.API("POST", "/api/v1/webhooks/"+hook.ID+"/deliveries/"+ds.Deliveries[0].ID+"/redeliver", nil, nil); code != 202 {
			t.Fatalf("redeliver: %d", code)
		}
		waitCalls(4)
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 4 || got[3] != first[2] {
			t.Fatalf("redelivery: %q (the same delivery id is the idempotency key)", got)
		}
	})
}

// An open case past its SLA is escalated once: priority urgent and a Case SLA Breached event.
func TestSLAEscalation(t *testing.T) {
	s, clock := apptest.StartAt(t, storetest.DSN(t, "sqlite"), apptest.Epoch)
	s.API("POST", "/api/v1/teams", map[string]any{"name": "returns"}, nil)
	s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "defects", "when": {"event": "Order Refunded", "reason": "defective"},
		"then": {"open_case": {"team": "returns", "kind": "return", "sla": "24h"}}}`), nil)
	s.MustSend("track", map[string]any{"userId": "e-1", "event": "Order Refunded", "properties": map[string]any{"order_id": "o-1", "reason": "defective"}})
	s.MustSend("track", map[string]any{"userId": "e-2", "event": "Order Refunded", "properties": map[string]any{"order_id": "o-2", "reason": "wrong size"}})
	cs := listCases(t, s, "team=returns")
	if len(cs) != 1 || cs[0].Kind != "return" || cs[0].Breached {
		t.Fatalf("cases = %+v", cs)
	}
	if n, err := s.Cases.Escalate(context.Background()); err != nil || n != 0 {
		t.Fatalf("escalated %d early (%v)", n, err)
	}
	clock.Add(25 * time.Hour)
	for range 2 {
		if _, err := s.Cases.Escalate(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	cs = listCases(t, s, "team=returns")
	if cs[0].Priority != "urgent" || !cs[0].Breached {
		t.Fatalf("after the SLA: %+v", cs)
	}
	s.Sync()
	list, _ := eventlog.Read(context.Background(), s.DB, eventlog.Query{Event: "Case SLA Breached", Limit: 10})
	if len(list) != 1 {
		t.Fatalf("%d breach events", len(list))
	}
	// The breach is timed when the case fell due (24 h after it opened),
	// not when the job noticed it an hour later; it arrived then.
	if due := apptest.Epoch.Add(24 * time.Hour).UnixMilli(); list[0].Timestamp != due || list[0].ReceivedAt != clock.Now().UnixMilli() {
		t.Errorf("breach at %d, arrived %d; want at %d (due), arrived %d", list[0].Timestamp, list[0].ReceivedAt, due, clock.Now().UnixMilli())
	}
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// Mentions from a CSV file: valid rows recorded once, bad rows named by line and field.
func TestImportMentions(t *testing.T) {
	s, _ := apptest.StartAt(t, storetest.DSN(t, "sqlite"), time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC))
	file := "platform,handle,text,url,at\n" +
		"twitter,@a,Love the new tent!,https://x.example/1,2026-11-20T10:00:00Z\n" +
		"instagram,@b,Broken zip after one trip. Terrible.,,2026-11-21\n" +
		"twitter,,No handle here,,2026-11-21\n" +
		"twitter,@c,When?,,yesterday\n" +
		"twitter,@d,Posted next year,,2027-01-01\n"
	for i := range 2 {
		code, body := s.Do("POST", "/api/v1/mentions", []byte(file), "Authorization: Bearer "+apptest.Token, "Content-Type: text/csv")
		var res struct {
			Rows, Imported, Refused, Duplicates int
			Errors                              []struct {
				Line  int
				Field string
			}
		}
		_ = json.Unmarshal(body, &res)
		// The second import stores nothing new: its valid rows are duplicates.
		if code != 200 || res.Rows != 5 || res.Imported != 2-2*i || res.Duplicates != 2*i || res.Refused != 3 || res.Errors[0].Line != 4 || res.Errors[0].Field != "handle" || res.Errors[1].Field != "at" ||
			res.Errors[2].Line != 6 || res.Errors[2].Field != "at" {
			t.Fatalf("import: %d %s", code, body)
		}
	}
	s.Sync()
	list, _ := eventlog.Read(context.Background(), s.DB, eventlog.Query{Event: "Social Mention", Limit: 10})
	if len(list) != 2 {
		t.Fatalf("%d mention events after importing twice", len(list))
	}
}

// Does a returner buy again? Across channels, by the profile.
func TestRepurchaseAfterReturn(t *testing.T) {
	s, clock := apptest.StartAt(t, storetest.DSN(t, "sqlite"), apptest.Epoch)
	day := 24 * time.Hour
	start := clock.Now().Add(-200 * day)
	send := func(user, event, order, category string, at time.Time, extra map[string]any) {
		props := map[string]any{"order_id": order, "products": []any{map[string]any{"category": category}}}
		for k, v := range extra {
			props[k] = v
		}
		s.MustSend("track", map[string]any{"userId": user, "event": event, "timestamp": at.Format(time.RFC3339), "properties": props})
	}
	// Ana returns a jacket and buys again a month later in the store, by her loyalty card.
	send("ana", "Order Completed", "a1", "Apparel", start, nil)
	send("ana", "Order Refunded", "a1", "Apparel", start.Add(5*day), map[string]any{"reason": "wrong size"})
	s.MustSend("identify", map[string]any{"userId": "ana", "anonymousId": "pos-card-1"})
	s.MustSend("track", map[string]any{"anonymousId": "pos-card-1", "event": "Order Completed", "timestamp": start.Add(35 * day).Format(time.RFC3339),
		"properties": map[string]any{"order_id": "a2"}, "context": map[string]any{"channel": "store"}})
	// Ben returns a jacket and never comes back; Cai returns a tent and buys 120 days later.
	send("ben", "Order Completed", "b1", "Apparel", start, nil)
	send("ben", "Order Refunded", "b1", "Apparel", start.Add(3*day), map[string]any{"reason": "damaged"})
	send("cai", "Order Completed", "c1", "Tents", start, nil)
	send("cai", "Order Refunded", "c1", "Tents", start.Add(3*day), map[string]any{"reason": "damaged"})
	send("cai", "Order Completed", "c2", "Tents", start.Add(123*day), nil)
	var got struct {
		Groups []struct {
			Key                  string
			Returns, BoughtAgain int
		}
	}
	if code := s.API("GET", "/api/v1/returns/repurchase?by=category&days=90", nil, &got); code != 200 {
		t.Fatalf("repurchase: %d", code)
	}
	have := map[string]string{}
	for _, g := range got.Groups {
		have[g.Key] = fmt.Sprintf("%d/%d", g.BoughtAgain, g.Returns)
	}
	if have["Apparel"] != "1/2" || have["Tents"] != "0/1" {
		t.Fatalf("by category: %v", have)
	}
}

// Roles: an agent works only their team's cases; an analyst reads but
// changes nothing; an owner changes customer-facing data; a revoked token
// stops working. Every refusal is a 403 that changes nothing.
func TestRolesAndTeams(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "logistics"}, nil)
		s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "damage", "when": {"event": "Order Refunded", "reason": "damaged"},
			"then": {"open_case": {"team": "logistics", "kind": "return"}}}`), nil)
		token := func(role string, teams ...string) (string, string) {
			var out struct{ ID, Token, Role string }
			if code := s.API("POST", "/api/v1/tokens", map[string]any{"name": role, "role": role, "teams": teams}, &out); code != 201 || out.Role != role {
				t.Fatalf("token %s: %d %+v", role, code, out)
			}
			return out.ID, out.Token
		}
		agentID, agent := token("agent", "service")
		var teams struct {
			Teams []struct {
				Name    string
				Members []struct{ Kind, Name, Role string }
			}
		}
		s.API("GET", "/api/v1/teams", nil, &teams)
		for _, tm := range teams.Teams {
			if tm.Name == "service" && (len(tm.Members) != 1 || tm.Members[0].Role != "agent" || tm.Members[0].Kind != "token") {
				t.Fatalf("service members: %+v", tm.Members)
			}
		}
		_, analyst := token("analyst")
		_, owner := token("owner")
		s.MustSend("track", map[string]any{"userId": "c-1", "event": "Complaint Submitted", "properties": map[string]any{"text": "Rude staff"}})
		s.MustSend("track", map[string]any{"userId": "c-2", "event": "Order Refunded", "properties": map[string]any{"order_id": "o", "reason": "damaged"}})
		all := listCases(t, s, "")
		if len(all) != 2 {
			t.Fatalf("cases = %+v", all)
		}
		var mine, theirs caseView
		for _, c := range all {
			if c.Team == "service" {
				mine = c
			} else {
				theirs = c
			}
		}
		call := func(tok, method, path, body string) (int, string) {
			code, b := s.Do(method, path, []byte(body), "Authorization: Bearer "+tok, "Content-Type: application/json")
			return code, string(b)
		}
		if code, body := call(agent, "GET", "/api/v1/cases", ""); code != 200 || !strings.Contains(body, mine.ID) || strings.Contains(body, theirs.ID) {
			t.Fatalf("agent's queue: %d %s", code, body)
		}
		for _, c := range []struct{ tok, method, path, body string }{
			{agent, "GET", "/api/v1/cases/" + theirs.ID, ""},
			{agent, "POST", "/api/v1/cases/" + theirs.ID + "/resolve", `{"note": "not mine"}`},
			{agent, "POST", "/api/v1/cases/" + theirs.ID + "/notes", `{"note": "not mine"}`},
			{agent, "POST", "/api/v1/surveys", `{"name": "x", "rhythm": "pulse", "owner": "x", "questions": [{"id": "q", "type": "nps", "text": {"en": "?"}}]}`},
			{agent, "POST", "/api/v1/teams", `{"name": "rogue"}`},
			{analyst, "POST", "/api/v1/cases/" + mine.ID + "/resolve", `{}`},
			{analyst, "POST", "/api/v1/mentions", `{"platform": "x", "handle": "y", "text": "z"}`},
			{owner, "POST", "/api/v1/rules", `{"name": "x", "when": {"event": "E"}, "then": {"open_case": {"team": "service"}}}`},
			{owner, "GET", "/api/v1/tokens", ""},
		} {
			if code, body := call(c.tok, c.method, c.path, c.body); code != 403 {
				t.Errorf("%s %s: %d %s", c.method, c.path, code, body)
			}
		}
		if code, _ := call(analyst, "GET", "/api/v1/cases/"+theirs.ID, ""); code != 200 {
			t.Errorf("analyst reading a case: %d", code)
		}
		if code, body := call(agent, "POST", "/api/v1/cases/"+mine.ID+"/resolve", `{"note": "apologised"}`); code != 200 {
			t.Fatalf("agent resolving their case: %d %s", code, body)
		}
		if code, _ := call(owner, "POST", "/api/v1/surveys", `{"name": "x", "rhythm": "pulse", "owner": "x", "questions": [{"id": "q", "type": "nps", "text": {"en": "?"}}]}`); code != 201 {
			t.Errorf("owner creating a survey: %d", code)
		}
		// The refusals left no trace.
		var c caseView
		s.API("GET", "/api/v1/cases/"+theirs.ID, nil, &c)
		var after struct{ Teams []any }
		s.API("GET", "/api/v1/teams", nil, &after)
		s.Sync()
		resolved, _ := eventlog.Read(context.Background(), s.DB, eventlog.Query{Event: "Case Resolved", Limit: 10})
		notes, _ := eventlog.Read(context.Background(), s.DB, eventlog.Query{Event: "Case Note Added", Limit: 10})
		if c.Status != "open" || len(after.Teams) != 2 || len(resolved) != 1 || len(notes) != 0 {
			t.Fatalf("after refusals: case %+v, %d teams, %d resolutions, %d notes", c, len(after.Teams), len(resolved), len(notes))
		}
		if code := s.API("DELETE", "/api/v1/tokens/"+agentID, nil, nil); code != 200 {
			t.Fatalf("revoke: %d", code)
		}
		if code, _ := call(agent, "GET", "/api/v1/cases", ""); code != 401 {
			t.Fatalf("revoked token: %d", code)
		}
	})
}

// A rule that notifies a team emails the team's address through a real SMTP server, once.
func TestNotifyTeam(t *testing.T) {
	mb := apptest.StartMailbox(t)
	s := apptest.StartWith(t, storetest.DSN(t, "sqlite"), func(c *app.Config) {
		c.Mail = &outboxMailer{Addr: mb.Addr, From: "cxloop@northwind.test"}
	})
	if code := s.API("POST", "/api/v1/teams", map[string]any{"name": "quality"}, nil); code != 201 {
		t.Fatalf("team: %d", code)
	}
	var e struct{ Error struct{ Field string } }
	if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "defects", "when": {"event": "Order Refunded", "reason": "defective"},
		"then": {"notify": {"team": "quality"}}}`), &e); code != 400 || e.Error.Field != "then.notify.team" {
		t.Fatalf("notify a team without an address: %d %+v", code, e)
	}
	s.API("POST", "/api/v1/teams", map[string]any{"name": "product quality", "email": "quality@northwind.test"}, nil)
	if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "defects", "when": {"event": "Order Refunded", "reason": "defective"},
		"then": {"notify": {"team": "product quality"}}}`), nil); code != 201 {
		t.Fatalf("rule: %d", code)
	}
	s.MustSend("track", map[string]any{"userId": "n-1", "event": "Order Refunded", "properties": map[string]any{"order_id": "o-7", "reason": "defective"}})
	s.MustSend("track", map[string]any{"userId": "n-2", "event": "Order Refunded", "properties": map[string]any{"order_id": "o-8", "reason": "wrong size"}})
	s.Sync()
	m := mb.Wait(t, 1)
	if m.To[0] != "quality@northwind.test" || !strings.Contains(m.Data, "Subject: [cxloop] defects: Order Refunded") || !strings.Contains(m.Text(), "order_id: o-7") {
		t.Fatalf("notification:\n%s", m.Data)
	}
	time.Sleep(100 * time.Millisecond)
	if n := mb.Count(); n != 1 {
		t.Fatalf("%d notifications, want 1", n)
	}
}

type outboxMailer = outbox.Mailer

// Open ↔ pending, resolved → closed, and refusals for moves that make no sense.
func TestCaseStatus(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
	s.MustSend("track", map[string]any{"userId": "st-1", "event": "Complaint Submitted", "properties": map[string]any{"text": "Where is my refund?"}})
	id := listCases(t, s, "")[0].ID
	step := func(path string, body map[string]any, want int, status string) {
		t.Helper()
		var c caseView
		code := s.API("POST", "/api/v1/cases/"+id+path, body, &c)
		if code != want || (status != "" && c.Status != status) {
			t.Fatalf("%s %v: %d %+v", path, body, code, c)
		}
	}
	step("/status", map[string]any{"status": "pending", "note": "Asked for the order number"}, 200, "pending")
	step("/status", map[string]any{"status": "closed"}, 409, "")
	step("/status", map[string]any{"status": "open"}, 200, "open")
	step("/resolve", map[string]any{"note": "Refunded"}, 200, "resolved")
	step("/status", map[string]any{"status": "archived"}, 400, "")
	step("/status", map[string]any{"status": "closed"}, 200, "closed")
	step("/status", map[string]any{"status": "open"}, 409, "")
}

// Every rule kind: a property filter opens a case; an SLA breach notifies
// the team's owner address and calls a webhook, but opens no case.
func TestRuleKinds(t *testing.T) {
	clock := apptest.NewClock(apptest.Epoch)
	mb := apptest.StartMailbox(t)
	s := apptest.StartWith(t, storetest.DSN(t, "sqlite"), func(c *app.Config) {
		c.Now = clock.Now
		c.Mail = &outboxMailer{Addr: mb.Addr, From: "cxloop@northwind.test"}
	})
	var calls sync.Map
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Store(r.Header.Get("X-Cxloop-Event"), true)
	}))
	defer receiver.Close()
	var hook struct{ ID string }
	s.API("POST", "/api/v1/webhooks", map[string]any{"url": receiver.URL, "events": []string{"Nothing"}}, &hook)
	s.API("POST", "/api/v1/teams", map[string]any{"name": "vip desk", "email": "vip-lead@northwind.test"}, nil)
	for _, rule := range []string{
		`{"name": "big orders refunded", "when": {"event": "Order Refunded", "where": {"properties.total": {"gt": 500}, "channel": ["web", "store"]}},
		  "then": {"open_case": {"team": "vip desk", "kind": "return", "sla": "2h", "priority": "high"}}}`,
		`{"name": "breaches", "when": {"event": "Case SLA Breached"}, "then": {"notify": {"team": "vip desk"}, "webhook": "` + hook.ID + `",
		  "open_case": {"team": "vip desk", "kind": "question"}}}`,
	} {
		if code := s.API("POST", "/api/v1/rules", json.RawMessage(rule), nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
	}
	s.MustSend("track", map[string]any{"userId": "big", "event": "Order Refunded", "properties": map[string]any{"order_id": "o-1", "total": 900}, "context": map[string]any{"channel": "web"}})
	s.MustSend("track", map[string]any{"userId": "small", "event": "Order Refunded", "properties": map[string]any{"order_id": "o-2", "total": 90}, "context": map[string]any{"channel": "web"}})
	s.MustSend("track", map[string]any{"userId": "app", "event": "Order Refunded", "properties": map[string]any{"order_id": "o-3", "total": 900}, "context": map[string]any{"channel": "mobile_app"}})
	cs := listCases(t, s, "team=vip+desk")
	if len(cs) != 1 || cs[0].Priority != "high" || cs[0].Kind != "return" {
		t.Fatalf("cases = %+v", cs)
	}
	clock.Add(3 * time.Hour)
	if _, err := s.Cases.Escalate(context.Background()); err != nil { // the background job may get there first
		t.Fatal(err)
	}
	if cs := listCases(t, s, "team=vip+desk"); cs[0].Priority != "urgent" {
		t.Fatalf("not escalated: %+v", cs)
	}
	s.Sync()
	subjects := ""
	for i := 1; i <= 2; i++ {
		m := mb.Wait(t, i)
		if m.To[0] != "vip-lead@northwind.test" {
			t.Fatalf("mail to %v", m.To)
		}
		subjects += m.Data
	}
	if !strings.Contains(subjects, "breaches: Case SLA Breached") || !strings.Contains(subjects, "SLA breached:") {
		t.Fatalf("breach mails (the escalation's and the rule's):\n%s", subjects)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, ok := calls.Load("Case SLA Breached"); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the webhook was not called for the breach")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if cs := listCases(t, s, "team=vip+desk"); len(cs) != 1 {
		t.Fatalf("a case event opened a case: %+v", cs)
	}
}

// Cases of VIP and high-value customers get a higher priority.
func TestValuedCustomersFirst(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
	s.MustSend("identify", map[string]any{"userId": "gold", "traits": map[string]any{"tier": "Gold"}})
	for i := range 3 {
		s.MustSend("track", map[string]any{"userId": "big-spender", "event": "Order Completed", "properties": map[string]any{"order_id": fmt.Sprintf("bs-%d", i), "total": 400}})
	}
	s.MustSend("track", map[string]any{"userId": "regular", "event": "Order Completed", "properties": map[string]any{"order_id": "r-1", "total": 40}})
	s.Sync()
	for _, u := range []string{"gold", "big-spender", "regular"} {
		s.MustSend("track", map[string]any{"userId": u, "event": "Complaint Submitted", "properties": map[string]any{"text": "Problem"}})
	}
	got := map[string]string{}
	for _, c := range listCases(t, s, "") {
		var cus struct {
			Identities []struct{ Kind, Value string }
		}
		s.API("GET", "/api/v1/customers/"+c.Customer, nil, &cus)
		got[cus.Identities[0].Value] = c.Priority
	}
	if got["gold"] != "high" || got["big-spender"] != "high" || got["regular"] != "normal" {
		t.Fatalf("priorities = %v", got)
	}
}

// A loyalty tier with priority service raises a case's priority and halves its time.
func TestPriorityServicePerk(t *testing.T) {
	s, clock := apptest.StartAt(t, storetest.DSN(t, "sqlite"), apptest.Epoch)
	s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
	s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, nil)
	s.MustSend("track", map[string]any{"userId": "gold-member", "event": "Order Completed", "properties": map[string]any{"order_id": "g-1", "total": 150}})
	s.MustSend("track", map[string]any{"userId": "newcomer", "event": "Order Completed", "properties": map[string]any{"order_id": "n-1", "total": 20}})
	s.Sync()
	start := clock.Now()
	for _, u := range []string{"gold-member", "newcomer"} {
		s.MustSend("track", map[string]any{"userId": u, "event": "Complaint Submitted", "properties": map[string]any{"text": "Late"}})
	}
	hours := map[string]float64{}
	prio := map[string]string{}
	for _, c := range listCases(t, s, "") {
		due, _ := time.Parse(time.RFC3339, c.DueAt)
		var cus struct{ Identities []struct{ Value string } }
		s.API("GET", "/api/v1/customers/"+c.Customer, nil, &cus)
		hours[cus.Identities[0].Value] = due.Sub(start).Hours()
		prio[cus.Identities[0].Value] = c.Priority
	}
	if prio["gold-member"] != "high" || prio["newcomer"] != "normal" || hours["gold-member"] > 25 || hours["newcomer"] < 47 {
		t.Fatalf("priorities %v, hours to resolve %v", prio, hours)
	}
}
