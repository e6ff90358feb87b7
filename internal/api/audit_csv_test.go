package api_test

import (
	"encoding/csv"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The trail answers CSV like the other lists: every entry the filters
// select (more than one page of them), the same as the JSON pages; a
// misspelt parameter is a 400 naming it; a to= given as a date includes
// that whole day; the console's /audit page links the download.
func TestAuditTrailAsCSV(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch) // 2026-05-13 10:00 UTC
		const first = 501                                  // on 13 May: more than one export page
		for i := range first {
			if code := s.API("POST", "/api/v1/teams", map[string]any{"name": fmt.Sprintf("team %d", i)}, nil); code != 201 {
				t.Fatalf("team %d: %d", i, code)
			}
		}
		clock.Add(37 * time.Hour) // 14 May, 23:00
		for i := range 2 {
			if code := s.API("POST", "/api/v1/teams", map[string]any{"name": fmt.Sprintf("late team %d", i)}, nil); code != 201 {
				t.Fatalf("late team %d: %d", i, code)
			}
		}
		all := func(query string) []auditEntry {
			t.Helper()
			var out []auditEntry
			q := query + "&limit=500"
			for {
				p := readAudit(t, s, q)
				out = append(out, p.Entries...)
				if p.Next == nil {
					return out
				}
				q = query + "&limit=500&cursor=" + *p.Next
			}
		}

		// to= as a date: that whole day.
		for query, want := range map[string]int{
			"?resource=team&to=2026-05-13":                           first,
			"?resource=team&from=2026-05-14&to=2026-05-14":           2,
			"?resource=team&to=2026-05-12":                           0,
			"?resource=team&to=2026-05-13T10:00:00Z":                 0, // a time stays exclusive
			"?resource=team&from=2026-05-13&to=2026-05-13":           first,
			"?resource=team&from=2026-05-13T23:59:59Z&to=2026-05-14": 2,
		} {
			if got := len(all(query)); got != want {
				t.Errorf("%s: %d entries, want %d", query, got, want)
			}
		}

		// CSV: every entry, newest first, as the JSON pages have them.
		entries := all("?resource=team")
		if len(entries) != first+2 {
			t.Fatalf("%d team entries, want %d", len(entries), first+2)
		}
		for _, byAccept := range []bool{false, true} {
			h, rows := getCSV(t, s, "/api/v1/audit?resource=team", apptest.Token, byAccept)
			if len(rows) != len(entries) {
				t.Fatalf("CSV: %d rows, want %d", len(rows), len(entries))
			}
			for i, r := range rows {
				e := entries[i]
				if r[col(t, h, "id")] != strconv.FormatInt(e.ID, 10) || r[col(t, h, "action")] != "create" || r[col(t, h, "resource")] != "team" ||
					r[col(t, h, "resourceId")] != e.ResourceID || r[col(t, h, "route")] != "/api/v1/teams" || r[col(t, h, "after")] != string(e.After) {
					t.Fatalf("row %d %v, entry %+v", i, r, e)
				}
				if at, err := time.Parse(time.RFC3339, r[col(t, h, "at")]); err != nil || !at.Equal(e.At) {
					t.Errorf("row %d at %q, want %v", i, r[col(t, h, "at")], e.At)
				}
			}
		}
		if _, rows := getCSV(t, s, "/api/v1/audit?resource=team&to=2026-05-14&from=2026-05-14&limit=1", apptest.Token, false); len(rows) != 1 ||
			rows[0][0] != strconv.FormatInt(entries[0].ID, 10) {
			t.Errorf("limit=1: %v, want the newest entry %d", rows, entries[0].ID)
		}
		if _, rows := getCSV(t, s, "/api/v1/audit?resource=team&limit=502", apptest.Token, false); len(rows) != 502 ||
			rows[501][0] != strconv.FormatInt(entries[501].ID, 10) {
			t.Errorf("limit=502 (past a JSON page's 500): %d rows", len(rows))
		}
		// The export is itself recorded.
		if got := readAudit(t, s, "?action=export&resource=audit").Entries; len(got) != 4 || got[0].Route != "/api/v1/audit" {
			t.Errorf("exports of the trail recorded: %+v", got)
		}

		// Unknown parameters are refused, naming them.
		for _, query := range []string{"?actionx=update", "?action=update&Actor=x", "?format=csv&resourceID=x"} {
			code, body := s.Do("GET", "/api/v1/audit"+query, nil, "Authorization: Bearer "+apptest.Token)
			name := strings.SplitN(strings.Split(query, "&")[len(strings.Split(query, "&"))-1], "=", 2)[0]
			name = strings.TrimPrefix(name, "?")
			if code != 400 || !strings.Contains(string(body), `"`+name+`"`) {
				t.Errorf("%s: %d %s, want 400 naming %s", query, code, body, name)
			}
		}

		// The console links the download, with the filter, and serves it.
		page := s.Page("/audit?resource=team&to=2026-05-13")
		if !strings.Contains(page, `id="download-audit" href="/export/audit?resource=team&amp;to=2026-05-13"`) {
			t.Errorf("the audit page has no download of its filter")
		}
		body := s.Page("/export/audit?resource=team&to=2026-05-13")
		recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil || len(recs) != first+1 {
			t.Errorf("/export/audit: %v, %d records, want %d", err, len(recs), first+1)
		}
	})
}
