package cases_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The queue's filters (assignee, nobody, priority, channel) and its counts
// by status, each checked against the cases made here; a reopened case is
// no longer counted resolved.
func TestQueueFiltersAndCounts(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		// Every complaint opens a case (a formal complaint), one each.
		channels := []string{"web", "store", "store", "call_centre", "web"}
		for i, ch := range channels {
			s.MustSend("track", map[string]any{"userId": fmt.Sprintf("q-%d", i), "event": "Complaint Submitted",
				"context": map[string]any{"channel": ch}, "properties": map[string]any{"text": "It broke"}})
		}
		s.Sync()
		var listed struct{ Cases []struct{ ID, UserID string } }
		s.API("GET", "/api/v1/cases?status=all", nil, &listed)
		all := listed.Cases
		if len(all) != len(channels) {
			t.Fatalf("cases: %d", len(all))
		}
		byUser := map[string]string{}
		for _, c := range all {
			byUser[c.UserID] = c.ID
		}
		do := func(path string, body any) {
			t.Helper()
			if code := s.API("POST", path, body, nil); code != 200 {
				t.Fatalf("%s: %d", path, code)
			}
		}
		for _, name := range []string{"sam", "kim"} { // agents of every team
			if code := s.API("POST", "/api/v1/tokens", map[string]any{"name": name, "role": "agent"}, nil); code != 201 {
				t.Fatalf("token %s: %d", name, code)
			}
		}
		do("/api/v1/cases/"+byUser["q-0"]+"/assign", map[string]any{"assignee": "sam"})
		do("/api/v1/cases/"+byUser["q-1"]+"/assign", map[string]any{"assignee": "sam"})
		do("/api/v1/cases/"+byUser["q-2"]+"/assign", map[string]any{"assignee": "kim"})
		do("/api/v1/cases/"+byUser["q-3"]+"/resolve", map[string]any{"note": "done"})
		do("/api/v1/cases/"+byUser["q-4"]+"/status", map[string]any{"status": "pending"})

		count := func(query string) int { return len(listCases(t, s, query)) }
		for q, want := range map[string]int{
			"status=all&assignee=sam": 2, "status=all&assignee=kim": 1, "status=all&unassigned=true": 2,
			"status=all&channel=store": 2, "status=all&channel=web": 2, "status=all&channel=store&assignee=sam": 1,
			"status=all&priority=normal": 5, "status=all&priority=urgent": 0, "status=open&unassigned=true": 0,
		} {
			if got := count(q); got != want {
				t.Errorf("%s: %d cases, want %d", q, got, want)
			}
		}
		var page struct{ Counts map[string]int }
		s.API("GET", "/api/v1/cases?status=open&channel=web", nil, &page)
		if page.Counts["open"] != 1 || page.Counts["pending"] != 1 || page.Counts["resolved"] != 0 {
			t.Errorf("counts of web cases: %v", page.Counts)
		}
		s.API("GET", "/api/v1/cases", nil, &page)
		if page.Counts["open"] != 3 || page.Counts["pending"] != 1 || page.Counts["resolved"] != 1 || page.Counts["closed"] != 0 {
			t.Errorf("counts: %v", page.Counts)
		}
		// Reopened: open again, its resolution forgotten.
		do("/api/v1/cases/"+byUser["q-3"]+"/status", map[string]any{"status": "open", "note": "not fixed"})
		var c struct {
			Status     string
			ResolvedAt *string
		}
		s.API("GET", "/api/v1/cases/"+byUser["q-3"], nil, &c)
		if c.Status != "open" || c.ResolvedAt != nil {
			t.Errorf("reopened: %+v", c)
		}
		var rec struct{ Complaints, Resolved int }
		s.API("GET", "/api/v1/recovery", nil, &rec)
		if rec.Complaints != 5 || rec.Resolved != 0 {
			t.Errorf("recovery after the reopening: %+v", rec)
		}
		code, body := s.Do(http.MethodGet, "/api/v1/cases?unassigned=maybe", nil, "Authorization: Bearer "+apptest.Token)
		var e struct{ Error struct{ Field string } }
		if json.Unmarshal(body, &e); code != 400 || e.Error.Field != "unassigned" {
			t.Errorf("unassigned=maybe: %d %s", code, body)
		}
	})
}
