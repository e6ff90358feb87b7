package web_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

var quarantineRow = regexp.MustCompile(`<tr class="refused" id="q-(q_[0-9a-f]+)">`)

// An admin finds refused messages on the Quarantine page (by source name,
// newest first, 50 a page, filtered by source and field), opens one,
// corrects it in the page and replays it: the list says which messageId
// was accepted and the event is in the log. Text that is not JSON comes
// back with the reason and nothing lost. An analyst reads the same pages
// without the buttons and may not replay.
func TestConsoleQuarantine(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		c, csrf, page := consoleAdmin(t, s, "/quarantine")
		if !strings.Contains(page, "Nothing is quarantined.") {
			t.Fatalf("empty quarantine page:\n%s", page)
		}

		var tills struct{ ID, WriteKey string }
		if code := s.API("POST", "/api/v1/sources", map[string]any{"name": "Store tills"}, &tills); code != 201 {
			t.Fatalf("source: %d", code)
		}
		// 52 tracks without an event name from the default source, then,
		// later, one alias without previousId from the tills.
		var batch []any
		for i := range 52 {
			batch = append(batch, map[string]any{"type": "track", "userId": fmt.Sprintf("cq-%d", i), "properties": map[string]any{"n": i}})
		}
		if code, body := s.Send("batch", map[string]any{"batch": batch}); code != 200 || !strings.Contains(string(body), `"quarantined":52`) {
			t.Fatalf("batch: %d %s", code, body)
		}
		clock.Add(time.Minute)
		if code, body := s.Do("POST", "/v1/batch", []byte(`{"batch":[{"type":"alias","userId":"cq-till"}]}`), "Content-Type: application/json",
			basicAuth(tills.WriteKey)); code != 200 {
			t.Fatalf("tills batch: %d %s", code, body)
		}

		page = page200(t, c, s.URL+"/quarantine")
		rows := quarantineRow.FindAllStringSubmatch(page, -1)
		if len(rows) != 50 || !strings.Contains(page, "53 messages waiting") || !strings.Contains(page, `id="quarantine-next"`) || strings.Contains(page, `id="quarantine-prev"`) {
			t.Fatalf("first page: %d rows\n%s", len(rows), page)
		}
		first := page[strings.Index(page, `<tr class="refused"`):]
		first = first[:strings.Index(first, "</tr>")]
		if !strings.Contains(first, "Store tills") || !strings.Contains(first, "previousId") || strings.Contains(first, tills.ID) {
			t.Fatalf("the newest row is not the tills' alias, named by its source's name:\n%s", first)
		}
		page = page200(t, c, s.URL+"/quarantine?page=2")
		if n := len(quarantineRow.FindAllStringSubmatch(page, -1)); n != 3 || !strings.Contains(page, `id="quarantine-prev"`) || strings.Contains(page, `id="quarantine-next"`) {
			t.Fatalf("second page: %d rows", n)
		}
		page = page200(t, c, s.URL+"/quarantine?source="+tills.ID)
		if n := len(quarantineRow.FindAllStringSubmatch(page, -1)); n != 1 || !strings.Contains(page, "1 matching the filter") {
			t.Fatalf("filtered by source: %d rows", n)
		}
		page = page200(t, c, s.URL+"/quarantine?field=event")
		rows = quarantineRow.FindAllStringSubmatch(page, -1)
		if len(rows) != 50 || !strings.Contains(page, "52 matching the filter") || strings.Contains(page, "Store tills</td>") {
			t.Fatalf("filtered by field: %d rows", len(rows))
		}
		if page = page200(t, c, s.URL+"/quarantine?field=previousId&source="+tills.ID); len(quarantineRow.FindAllStringSubmatch(page, -1)) != 1 {
			t.Fatalf("filtered by both: %s", page)
		}
		if page = page200(t, c, s.URL+"/quarantine?field=previousId&source=src_nothing"); len(quarantineRow.FindAllStringSubmatch(page, -1)) != 0 ||
			!strings.Contains(page, "No quarantined message matches.") {
			t.Fatalf("filtered to nothing: %s", page)
		}
		if page = page200(t, c, s.URL+"/sources"); !strings.Contains(page, `<a href="/quarantine">53 refused messages in the quarantine</a>`) {
			t.Fatalf("the Sources page does not link the quarantine")
		}

		// Open the tills' message: the field is named and the message is
		// in the editor.
		id := quarantineRow.FindStringSubmatch(page200(t, c, s.URL+"/quarantine?source="+tills.ID))[1]
		page = page200(t, c, s.URL+"/quarantine/"+id)
		if !strings.Contains(page, `<mark id="refused-field">previousId</mark>`) || !strings.Contains(page, `id="replay"`) || !strings.Contains(page, `id="discard"`) ||
			!strings.Contains(page, html.EscapeString(`"userId": "cq-till"`)) {
			t.Fatalf("message page:\n%s", page)
		}

		// Not JSON: the page again, with the reason and the text as typed.
		broken := `{"type": "alias", "userId": "cq-till", "previousId": "anon-1",`
		code, page := consolePost(t, c, s.URL+"/quarantine/"+id+"/replay", url.Values{"csrf": {csrf}, "message": {broken}})
		if code != 400 || !strings.Contains(page, "not valid JSON") || !strings.Contains(page, html.EscapeString(broken)) {
			t.Fatalf("broken JSON: %d\n%s", code, page)
		}
		// Still refused: the page again, naming the field.
		code, page = consolePost(t, c, s.URL+"/quarantine/"+id+"/replay", url.Values{"csrf": {csrf}, "message": {`{"type": "alias", "previousId": "anon-1"}`}})
		if code != 422 || !strings.Contains(page, "at userId") {
			t.Fatalf("refused again: %d\n%s", code, page)
		}
		// Corrected: back on the list with the accepted messageId.
		fixed := `{"type": "alias", "userId": "cq-till", "previousId": "anon-cq", "messageId": "cq-fixed-1"}`
		code, page = consolePost(t, c, s.URL+"/quarantine/"+id+"/replay", url.Values{"csrf": {csrf}, "message": {fixed}})
		if code != 200 || !strings.Contains(page, `id="replayed"`) || !strings.Contains(page, "<code>cq-fixed-1</code>") || !strings.Contains(page, "52 messages waiting") ||
			strings.Contains(page, `id="q-`+id+`"`) {
			t.Fatalf("after the replay: %d\n%s", code, page)
		}
		s.Sync() // the customer is known once the profiles have read the log
		var events struct {
			Events []struct{ MessageID, Type string }
		}
		if s.API("GET", "/api/v1/events?customer=cq-till", nil, &events); len(events.Events) != 1 || events.Events[0].MessageID != "cq-fixed-1" || events.Events[0].Type != "alias" {
			t.Fatalf("the replayed event: %+v", events)
		}

		// Discard another.
		other := quarantineRow.FindStringSubmatch(page200(t, c, s.URL+"/quarantine"))[1]
		code, page = consolePost(t, c, s.URL+"/quarantine/"+other+"/discard", url.Values{"csrf": {csrf}})
		if code != 200 || !strings.Contains(page, `id="discarded"`) || !strings.Contains(page, "51 messages waiting") {
			t.Fatalf("discard: %d\n%s", code, page)
		}
		if code, _ := consolePost(t, c, s.URL+"/quarantine/"+other+"/discard", url.Values{"csrf": {csrf}}); code != 404 {
			t.Fatalf("discarding again: %d", code)
		}

		// The trail holds the console's replay and discard, by id.
		var trail struct {
			Entries []struct{ Action, Resource, ResourceID, Route string }
		}
		s.API("GET", "/api/v1/audit?limit=500", nil, &trail)
		got := map[string]bool{}
		for _, e := range trail.Entries {
			if e.Resource == "quarantine" {
				got[e.Action+" "+e.ResourceID] = true
			}
		}
		if !got["replay "+id] || !got["discard "+other] || len(got) != 2 {
			t.Fatalf("trail %v", got)
		}

		// An analyst reads, without buttons, and may not replay.
		var tok struct{ Token string }
		if code := s.API("POST", "/api/v1/tokens", map[string]string{"name": "reader", "role": "analyst"}, &tok); code != 201 {
			t.Fatalf("token: %d", code)
		}
		jar, _ := cookiejar.New(nil)
		ac := &http.Client{Jar: jar}
		remaining := quarantineRow.FindStringSubmatch(page200(t, c, s.URL+"/quarantine"))[1]
		resp, err := ac.PostForm(s.URL+"/login", url.Values{"token": {tok.Token}, "next": {"/quarantine/" + remaining}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page = string(b)
		if resp.StatusCode != 200 || !strings.Contains(page, `id="read-only"`) || strings.Contains(page, `id="replay"`) || strings.Contains(page, `id="discard"`) {
			t.Fatalf("analyst's message page: %d\n%s", resp.StatusCode, page)
		}
		acsrf := csrfField.FindStringSubmatch(page)[1]
		if code, _ := consolePost(t, ac, s.URL+"/quarantine/"+remaining+"/replay", url.Values{"csrf": {acsrf}}); code != 403 {
			t.Fatalf("analyst replay: %d", code)
		}
	})
}

// page200 gets a console page, failing the test unless it answers 200.
func page200(t *testing.T, c *http.Client, target string) string {
	t.Helper()
	code, body := get(t, c, target)
	if code != 200 {
		t.Fatalf("GET %s: %d\n%s", target, code, body)
	}
	return body
}
