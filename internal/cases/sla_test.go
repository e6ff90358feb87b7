package cases_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type teamSLA struct {
	TeamName                      string
	Cases, Met, Breached, Pending int
	Compliance                    *float64
	Small                         bool
	FirstMet                      int      `json:"firstResponseMet"`
	FirstBreached                 int      `json:"firstResponseBreached"`
	FirstCompliance               *float64 `json:"firstResponseCompliance"`
}

// SLA compliance per team over the cases opened in a period: met when
// resolved by the due time, breached when resolved later or open past it,
// pending when open and not yet due; the expected figures follow from the
// rules' SLAs and the times the test resolves at.
func TestSLACompliancePerTeam(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		t0 := apptest.Epoch
		s, clock := apptest.StartAt(t, dsn, t0.Add(-10*24*time.Hour))
		at := func(d time.Duration) { clock.Add(t0.Add(d).Sub(clock.Now())) }
		s.API("POST", "/api/v1/teams", map[string]any{"name": "returns"}, nil)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "care"}, nil)
		s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "defects", "when": {"event": "Order Refunded", "reason": "defective"},
			"then": {"open_case": {"team": "returns", "kind": "return", "sla": "24h"}}}`), nil)
		s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "angry posts", "when": {"event": "Social Mention", "sentiment": "negative"},
			"then": {"open_case": {"team": "care", "kind": "complaint", "sla": "4h"}}}`), nil)
		refund := func(order string) string {
			s.MustSend("track", map[string]any{"userId": "u-" + order, "event": "Order Refunded", "properties": map[string]any{"order_id": order, "reason": "defective"}})
			s.Sync()
			for _, c := range listCases(t, s, "team=returns&status=all") {
				if c.OrderID == order {
					return c.ID
				}
			}
			t.Fatalf("no case for %s", order)
			return ""
		}
		mention := func(handle string) {
			s.API("POST", "/api/v1/mentions", map[string]any{"platform": "instagram", "handle": handle, "text": "The boots were damaged and support was rude."}, nil)
			s.Sync()
		}
		resolve := func(id string) {
			if code := s.API("POST", "/api/v1/cases/"+id+"/resolve", map[string]any{"note": "done"}, nil); code != 200 {
				t.Fatalf("resolve %s: %d", id, code)
			}
		}
		// Ten days before: a return resolved in time (outside the period below).
		r0 := refund("o-0")
		at(-10*24*time.Hour + time.Hour)
		resolve(r0)
		at(0)
		r1 := refund("o-1") // due t0+24h
		at(time.Hour)
		r2 := refund("o-2") // due t0+25h
		at(2 * time.Hour)
		resolve(r1)     // met
		mention("@one") // due t0+6h, never resolved: breached
		at(30 * time.Hour)
		resolve(r2) // 5 hours late: breached
		at(47 * time.Hour)
		mention("@two") // due t0+51h: pending
		at(48 * time.Hour)

		get := func(q url.Values) map[string]teamSLA {
			var out struct{ Teams []teamSLA }
			if code := s.API("GET", "/api/v1/sla?"+q.Encode(), nil, &out); code != 200 {
				t.Fatalf("sla?%s: %d", q.Encode(), code)
			}
			m := map[string]teamSLA{}
			for _, x := range out.Teams {
				m[x.TeamName] = x
			}
			return m
		}
		period := url.Values{"from": {t0.Add(-time.Hour).Format(time.RFC3339)}, "to": {t0.Add(48 * time.Hour).Format(time.RFC3339)}}
		got := get(period)
		want := map[string][4]int{"returns": {2, 1, 1, 0}, "care": {2, 0, 1, 1}}
		for team, w := range want {
			g := got[team]
			if [4]int{g.Cases, g.Met, g.Breached, g.Pending} != w || g.Compliance == nil || *g.Compliance != float64(w[1])/float64(w[1]+w[2]) || !g.Small {
				t.Errorf("%s in the period: %+v, want cases, met, breached, pending %v", team, g, w)
			}
		}
		// First responses (a quarter of the SLA: returns 6 h, care 1 h; a
		// resolution's note is the first answer): o-1 answered at 2 h of 6,
		// o-2 at 29 h of 6, @one never (due at 3 h), @two not yet due.
		for team, w := range map[string][2]int{"returns": {1, 1}, "care": {0, 1}} {
			g := got[team]
			if g.FirstMet != w[0] || g.FirstBreached != w[1] || g.FirstCompliance == nil || *g.FirstCompliance != float64(w[0])/float64(w[0]+w[1]) {
				t.Errorf("%s's first responses: %+v, want met %d, breached %d", team, g, w[0], w[1])
			}
		}
		if all := get(url.Values{})["returns"]; all.Cases != 3 || all.Met != 2 || all.Breached != 1 {
			t.Errorf("returns of all time: %+v", all)
		}
		// Complaints of the period on the recovery report.
		var rec recovery
		s.API("GET", "/api/v1/recovery?from="+url.QueryEscape(t0.Add(3*time.Hour).Format(time.RFC3339)), nil, &rec)
		if rec.Complaints != 1 {
			t.Errorf("complaints opened after t0+3h: %d, want 1", rec.Complaints)
		}
		s.API("GET", "/api/v1/recovery", nil, &rec)
		if rec.Complaints != 2 {
			t.Errorf("complaints of all time: %d, want 2", rec.Complaints)
		}
		var e struct{ Error struct{ Field string } }
		if code := s.API("GET", "/api/v1/sla?from=yesterday", nil, &e); code != 400 || e.Error.Field != "from" {
			t.Errorf("a bad from: %d %+v", code, e)
		}
		if code := s.API("GET", "/api/v1/recovery?from=2026-05-02&to=2026-05-01", nil, &e); code != 400 || e.Error.Field != "to" {
			t.Errorf("to before from: %d %+v", code, e)
		}
	})
}

// A complaint that arrives late opens its case at the complaint's time, so
// its SLA runs from when the customer spoke; work done elsewhere is
// recorded at its own time, and SLA compliance and the Case Resolved event
// read those times.
func TestLateComplaintKeepsItsTime(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		t0 := apptest.Epoch
		s, _ := apptest.StartAt(t, dsn, t0)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		complain := func(user string, ago time.Duration) caseView {
			s.MustSend("track", map[string]any{"userId": user, "event": "Complaint Submitted", "timestamp": t0.Add(-ago).Format(time.RFC3339),
				"properties": map[string]any{"subject": "Parcel lost"}})
			s.Sync()
			for _, c := range listCases(t, s, "status=all") {
				if caseOf(t, s, c.ID).UserID == user {
					return c
				}
			}
			t.Fatalf("no case for %s", user)
			return caseView{}
		}
		late := complain("u-late", 72*time.Hour) // 48 h SLA: due a day ago
		got := caseOf(t, s, late.ID)
		if want := t0.Add(-72 * time.Hour); !got.CreatedAt.Equal(want) || !got.DueAt.Equal(want.Add(48*time.Hour)) || !got.Breached {
			t.Errorf("a complaint from three days ago opened %v, due %v (breached %v); want opened %v", got.CreatedAt, got.DueAt, got.Breached, want)
		}
		fresh := complain("u-fresh", 0)
		// Resolved elsewhere a day after the complaint: within its SLA.
		at := t0.Add(-48 * time.Hour)
		if code := s.API("POST", "/api/v1/cases/"+late.ID+"/resolve", map[string]any{"note": "Refunded by phone.", "resolvedAt": at.Format(time.RFC3339)}, nil); code != 200 {
			t.Fatalf("resolve at a past time: %d", code)
		}
		got = caseOf(t, s, late.ID)
		if got.ResolvedAt == nil || !got.ResolvedAt.Equal(at) || len(got.Notes) != 1 || !got.Notes[0].At.Equal(at) || got.FirstResponseAt == nil || !got.FirstResponseAt.Equal(at) {
			t.Errorf("resolved elsewhere: %+v", got)
		}
		s.Sync()
		ev, _ := eventlog.Read(context.Background(), s.DB, eventlog.Query{Event: "Case Resolved", Limit: 10})
		if len(ev) != 1 || ev[0].Timestamp != at.UnixMilli() || ev[0].ReceivedAt != t0.UnixMilli() {
			t.Fatalf("Case Resolved events: %+v", ev)
		}
		var props struct {
			Properties struct {
				SLABreached    bool    `json:"sla_breached"`
				HoursToResolve float64 `json:"hours_to_resolve"`
			}
		}
		if err := json.Unmarshal(ev[0].Body, &props); err != nil || props.Properties.SLABreached || props.Properties.HoursToResolve != 24 {
			t.Errorf("Case Resolved says %+v (%v)", props.Properties, err)
		}
		var sla struct{ Teams []teamSLA }
		s.API("GET", "/api/v1/sla", nil, &sla)
		if len(sla.Teams) != 1 || sla.Teams[0].Met != 1 || sla.Teams[0].Pending != 1 || sla.Teams[0].Breached != 0 {
			t.Errorf("SLA compliance: %+v", sla.Teams)
		}
		// A time before the case opened, or ahead of now, names the field.
		for _, when := range []time.Time{t0.Add(-time.Hour), t0.Add(time.Hour)} {
			var e struct{ Error struct{ Field string } }
			if code := s.API("POST", "/api/v1/cases/"+fresh.ID+"/resolve", map[string]any{"resolvedAt": when.Format(time.RFC3339)}, &e); code != 400 || e.Error.Field != "resolvedAt" {
				t.Errorf("resolvedAt %v: %d %+v", when, code, e)
			}
		}
		if c := caseOf(t, s, fresh.ID); c.Status != "open" || c.ResolvedAt != nil {
			t.Errorf("a refused resolution changed the case: %+v", c)
		}
	})
}

type caseDetail struct {
	UserID          string     `json:"userId"`
	Status          string     `json:"status"`
	CreatedAt       time.Time  `json:"createdAt"`
	DueAt           time.Time  `json:"dueAt"`
	ResolvedAt      *time.Time `json:"resolvedAt"`
	FirstResponseAt *time.Time `json:"firstResponseAt"`
	Breached        bool       `json:"breached"`
	Notes           []struct {
		At time.Time `json:"at"`
	} `json:"notes"`
}

func caseOf(t *testing.T, s *apptest.Server, id string) caseDetail {
	t.Helper()
	var c caseDetail
	if code := s.API("GET", "/api/v1/cases/"+id, nil, &c); code != 200 {
		t.Fatalf("case %s: %d", id, code)
	}
	return c
}

// A rule that opens a case on a complaint routes it in place of the
// built-in routing: one case per complaint, the rule's.
func TestComplaintRuleReplacesBuiltIn(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "care"}, nil)
		s.MustSend("track", map[string]any{"userId": "u-1", "event": "Complaint Submitted", "properties": map[string]any{"subject": "Before the rule"}})
		s.Sync()
		if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "complaints to care", "when": {"event": "Complaint Submitted"},
			"then": {"open_case": {"team": "care", "kind": "complaint", "sla": "12h"}}}`), nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		s.MustSend("track", map[string]any{"userId": "u-2", "event": "Complaint Submitted", "properties": map[string]any{"subject": "After the rule"}})
		s.Sync()
		teams := map[string][]string{}
		for _, c := range listCases(t, s, "status=all") {
			d := caseOf(t, s, c.ID)
			teams[d.UserID] = append(teams[d.UserID], c.Team)
		}
		if fmt.Sprint(teams["u-1"]) != "[service]" || fmt.Sprint(teams["u-2"]) != "[care]" {
			t.Errorf("cases by customer and team: %v", teams)
		}
	})
}
