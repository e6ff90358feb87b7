package web_test

import (
	"encoding/csv"
	"encoding/json"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The recovery report honours team scope: an agent limited to logistics
// sees, and counts, only logistics' complaints — in JSON, as CSV, on the
// console's /recovery page and in its download; an analyst sees them all.
func TestRecoveryHonoursTeamScope(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		for _, team := range []string{"logistics", "service"} {
			if code := s.API("POST", "/api/v1/teams", map[string]any{"name": team}, nil); code != 201 {
				t.Fatalf("team %s: %d", team, code)
			}
		}
		customers := map[string][]string{"logistics": {"lena", "lars"}, "service": {"sam", "sofia", "sven"}}
		for team, users := range customers {
			for _, u := range users {
				s.MustSend("track", map[string]any{"userId": u, "event": "Complaint Submitted", "properties": map[string]any{"team": team, "text": "Late."}})
			}
		}
		s.Sync()
		var all struct {
			Cases []struct{ ID, TeamName, Customer string }
		}
		s.API("GET", "/api/v1/cases?status=all", nil, &all)
		caseTeam, customerTeam := map[string]string{}, map[string]string{}
		var resolved string
		for _, c := range all.Cases {
			caseTeam[c.ID] = c.TeamName
			customerTeam[c.Customer] = c.TeamName
			if c.TeamName == "logistics" && resolved == "" {
				resolved = c.ID
			}
		}
		if len(caseTeam) != 5 || len(customerTeam) != 5 || resolved == "" {
			t.Fatalf("cases %+v, want 2 logistics and 3 service", all.Cases)
		}
		if code := s.API("POST", "/api/v1/cases/"+resolved+"/resolve", map[string]any{"note": "Sent again."}, nil); code != 200 {
			t.Fatalf("resolve: %d", code)
		}
		s.Sync()

		token := func(role string, teams ...string) string {
			var tok struct{ Token string }
			if code := s.API("POST", "/api/v1/tokens", map[string]any{"name": role, "role": role, "teams": teams}, &tok); code != 201 {
				t.Fatalf("token: %d", code)
			}
			return tok.Token
		}
		type report struct {
			Complaints, Resolved int
			Outcomes             map[string]int
			Complainers          []struct{ Case, Customer string }
		}
		check := func(who, tok string, teams []string, wantOpen, wantResolved int) {
			t.Helper()
			var rep report
			code, body := s.Do("GET", "/api/v1/recovery", nil, "Authorization: Bearer "+tok)
			if code != 200 {
				t.Fatalf("%s recovery: %d %s", who, code, body)
			}
			if err := json.Unmarshal(body, &rep); err != nil {
				t.Fatal(err)
			}
			want := wantOpen + wantResolved
			if rep.Complaints != want || rep.Resolved != wantResolved || rep.Outcomes["open"] != wantOpen ||
				rep.Outcomes["waiting"] != wantResolved || len(rep.Complainers) != want {
				t.Errorf("%s's report %+v, want %d complaints, %d resolved", who, rep, want, wantResolved)
			}
			for _, c := range rep.Complainers {
				if !slices.Contains(teams, caseTeam[c.Case]) || customerTeam[c.Customer] != caseTeam[c.Case] {
					t.Errorf("%s sees complaint %+v of team %q", who, c, caseTeam[c.Case])
				}
			}
			// The CSV: the same rows.
			code, body = s.Do("GET", "/api/v1/recovery?format=csv", nil, "Authorization: Bearer "+tok)
			rows, err := csv.NewReader(strings.NewReader(string(body))).ReadAll()
			if code != 200 || err != nil || len(rows) != want+1 {
				t.Fatalf("%s CSV: %d %v %d rows, want %d", who, code, err, len(rows), want+1)
			}
			caseCol := slices.Index(rows[0], "case")
			for _, r := range rows[1:] {
				if !slices.Contains(teams, caseTeam[r[caseCol]]) {
					t.Errorf("%s's CSV holds %v", who, r)
				}
			}
			// The console: the page and its download.
			c, code, _ := signIn(t, s.URL, url.Values{"token": {tok}})
			if code != 200 {
				t.Fatalf("sign-in: %d", code)
			}
			for _, path := range []string{"/recovery", "/export/recovery"} {
				resp, err := c.Get(s.URL + path)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("%s %s: %d", who, path, resp.StatusCode)
				}
				seen := 0
				for id, team := range caseTeam {
					if strings.Contains(string(b), id) {
						seen++
						if !slices.Contains(teams, team) {
							t.Errorf("%s's %s shows %s's case %s", who, path, team, id)
						}
					}
				}
				for id, team := range customerTeam {
					if strings.Contains(string(b), id) && !slices.Contains(teams, team) {
						t.Errorf("%s's %s shows %s's customer %s", who, path, team, id)
					}
				}
				if seen != want {
					t.Errorf("%s's %s shows %d cases, want %d", who, path, seen, want)
				}
				if path == "/recovery" && !strings.Contains(string(b), strconv.Itoa(want)+" complaint cases opened, "+strconv.Itoa(wantResolved)+" resolved") {
					t.Errorf("%s's page does not count %d complaints, %d resolved", who, want, wantResolved)
				}
			}
		}
		check("logistics agent", token("agent", "logistics"), []string{"logistics"}, 1, 1)
		check("service agent", token("agent", "service"), []string{"service"}, 3, 0)
		check("analyst", token("analyst"), []string{"logistics", "service"}, 4, 1)
	})
}
