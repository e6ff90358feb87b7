package ingest_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A rotation's overlap can be ended early: the old key works during the
// overlap, is refused right after POST …/rotate/end, and the new key keeps
// working. The trail records it; ending it again is a conflict.
func TestEndRotationOverlap(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		var src struct {
			ID, WriteKey     string
			OldKeyValidUntil int64
		}
		if code := s.API("POST", "/api/v1/sources", map[string]any{"name": "Shop"}, &src); code != 201 {
			t.Fatalf("create: %d", code)
		}
		old := src.WriteKey
		n := 0
		send := func(key string) int {
			t.Helper()
			n++
			code, _ := s.Do("POST", "/v1/track", []byte(fmt.Sprintf(`{"userId": "ov-1", "event": "Tick", "messageId": "ov-%d"}`, n)), basic(key), "Content-Type: application/json")
			return code
		}
		if code := s.API("POST", "/api/v1/sources/"+src.ID+"/rotate", map[string]any{"overlap": "2h"}, &src); code != 200 || src.WriteKey == old {
			t.Fatalf("rotate: %d %+v", code, src)
		}
		current := src.WriteKey
		if want := apptest.Epoch.Add(2 * time.Hour).UnixMilli(); src.OldKeyValidUntil != want {
			t.Fatalf("old key valid until %d, want %d", src.OldKeyValidUntil, want)
		}
		clock.Add(10 * time.Minute)
		if c1, c2 := send(old), send(current); c1 != 200 || c2 != 200 {
			t.Fatalf("during the overlap: old %d, new %d", c1, c2)
		}

		// Ending it: the old key is refused at once, the new one works.
		var after map[string]any
		if code := s.API("POST", "/api/v1/sources/"+src.ID+"/rotate/end", nil, &after); code != 200 || after["id"] != src.ID {
			t.Fatalf("end overlap: %d %+v", code, after)
		}
		if _, ok := after["oldKeyValidUntil"]; ok {
			t.Errorf("the answer still has an old key: %+v", after)
		}
		if code := send(old); code != 401 {
			t.Errorf("the old key after the overlap was ended: %d, want 401", code)
		}
		if code := send(current); code != 200 {
			t.Errorf("the current key after the overlap was ended: %d, want 200", code)
		}
		var list struct{ Sources []map[string]any }
		s.API("GET", "/api/v1/sources", nil, &list)
		for _, x := range list.Sources {
			if x["id"] == src.ID && x["oldKeyValidUntil"] != nil {
				t.Errorf("the list still shows an old key: %+v", x)
			}
		}
		// Nothing left to end: 409; an unknown source: 404.
		if code, body := s.Do("POST", "/api/v1/sources/"+src.ID+"/rotate/end", nil, "Authorization: Bearer "+apptest.Token); code != 409 {
			t.Errorf("ending it again: %d %s", code, body)
		}
		if code, _ := s.Do("POST", "/api/v1/sources/src_nope/rotate/end", nil, "Authorization: Bearer "+apptest.Token); code != 404 {
			t.Errorf("an unknown source: %d", code)
		}

		// The trail has it, with the state before and after.
		code, raw := s.Do("GET", "/api/v1/audit?action=end_overlap", nil, "Authorization: Bearer "+apptest.Token)
		var trail struct {
			Entries []struct {
				Resource, ResourceID, Route string
				Before, After               map[string]any
			}
		}
		if err := json.Unmarshal(raw, &trail); code != 200 || err != nil || len(trail.Entries) != 1 {
			t.Fatalf("trail: %d %v %s", code, err, raw)
		}
		e := trail.Entries[0]
		if e.Resource != "source" || e.ResourceID != src.ID || e.Route != "/api/v1/sources/{id}/rotate/end" ||
			e.Before["oldKeyValidUntil"] != float64(src.OldKeyValidUntil) || e.After["oldKeyValidUntil"] != nil {
			t.Errorf("trail entry %+v", e)
		}
		if strings.Contains(string(raw), current) || strings.Contains(string(raw), old) {
			t.Error("the trail holds a write key")
		}
	})
}
