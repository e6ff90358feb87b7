package web_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

var writeKey = regexp.MustCompile(`wk_[A-Za-z0-9_-]{32}`)

// The console's "New key" picks the old key's overlap, and "Refuse the old
// key now", shown while an old key is still taken, ends it at once: the old
// key is refused, the new one works, and the trail records it.
func TestConsoleEndsRotationOverlap(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		var src struct{ ID, WriteKey string }
		if code := s.API("POST", "/api/v1/sources", map[string]any{"name": "Tills"}, &src); code != 201 {
			t.Fatalf("source: %d", code)
		}
		n := 0
		send := func(key string) int {
			t.Helper()
			n++
			code, _ := s.Do("POST", "/v1/track", []byte(fmt.Sprintf(`{"userId": "a", "event": "E", "messageId": "oc-%d"}`, n)), basicAuth(key), "Content-Type: application/json")
			return code
		}
		c, csrf, page := consoleAdmin(t, s, "/sources")
		endForm := `action="/sources/` + src.ID + `/end-overlap"`
		if !strings.Contains(page, `<option value="24h" selected>`) || strings.Contains(page, endForm) {
			t.Fatal("the sources page: no overlap choice defaulting to 24h, or an end button with no old key")
		}

		// A new key with an hour's overlap.
		code, page := consolePost(t, c, s.URL+"/sources/"+src.ID+"/rotate", url.Values{"csrf": {csrf}, "overlap": {"1h"}})
		keys := writeKey.FindAllString(page, -1)
		if code != 200 || len(keys) == 0 || keys[0] == src.WriteKey {
			t.Fatalf("rotate: %d %v", code, keys)
		}
		old, current := src.WriteKey, keys[0]
		if !strings.Contains(page, "The old key keeps working until") || !strings.Contains(page, endForm) {
			t.Errorf("after the rotation the page does not say until when the old key works, or offers no way to end it")
		}
		clock.Add(50 * time.Minute)
		if c1, c2 := send(old), send(current); c1 != 200 || c2 != 200 {
			t.Fatalf("during the hour: old %d, new %d", c1, c2)
		}
		code, page = consolePost(t, c, s.URL+"/sources/"+src.ID+"/end-overlap", url.Values{"csrf": {csrf}})
		if code != 200 || strings.Contains(page, endForm) {
			t.Fatalf("refuse the old key now: %d (the button is still shown: %v)", code, strings.Contains(page, endForm))
		}
		if code := send(old); code != 401 {
			t.Errorf("the old key after it was refused: %d, want 401", code)
		}
		if code := send(current); code != 200 {
			t.Errorf("the current key: %d, want 200", code)
		}
		if code, _ := consolePost(t, c, s.URL+"/sources/"+src.ID+"/end-overlap", url.Values{"csrf": {csrf}}); code != 409 {
			t.Errorf("nothing left to end: %d, want 409", code)
		}
		var trail struct {
			Entries []struct{ Action, Resource, ResourceID, Route string }
		}
		s.API("GET", "/api/v1/audit?resource=source&resourceId="+src.ID, nil, &trail)
		if len(trail.Entries) < 2 || trail.Entries[0].Action != "end_overlap" || trail.Entries[0].Route != "/sources/{id}/{action}" || trail.Entries[1].Action != "rotate" {
			t.Errorf("trail: %+v", trail.Entries)
		}

		// No overlap: the old key is refused at once; a bad overlap is a 400.
		code, page = consolePost(t, c, s.URL+"/sources/"+src.ID+"/rotate", url.Values{"csrf": {csrf}, "overlap": {"0s"}})
		keys = writeKey.FindAllString(page, -1)
		if code != 200 || len(keys) == 0 || !strings.Contains(page, "The old key is refused from now on") || strings.Contains(page, endForm) {
			t.Fatalf("rotate with no overlap: %d", code)
		}
		if c1, c2 := send(current), send(keys[0]); c1 != 401 || c2 != 200 {
			t.Errorf("after a rotation with no overlap: old %d (want 401), new %d", c1, c2)
		}
		if code, page := consolePost(t, c, s.URL+"/sources/"+src.ID+"/rotate", url.Values{"csrf": {csrf}, "overlap": {"a week"}}); code != 400 || !strings.Contains(page, "overlap") {
			t.Errorf("a bad overlap: %d", code)
		}
	})
}
