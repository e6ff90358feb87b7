package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A source can be paused (its key refused with a reason, the refusal
// counted), resumed, renamed, given a new key whose predecessor stays valid
// for the overlap on cxloop's clock, and removed (its key refused, its
// events kept). Only hashes of the keys are stored.
func TestSourcesSwitchOff(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		var src struct {
			ID, Name, WriteKey string
			Paused             bool
			OldKeyValidUntil   int64
		}
		if code := s.API("POST", "/api/v1/sources", map[string]any{"name": "Shop"}, &src); code != 201 {
			t.Fatalf("create: %d", code)
		}
		k1 := src.WriteKey
		n := 0
		send := func(key string) (int, apiError) {
			t.Helper()
			n++
			code, body := s.Do("POST", "/v1/track", []byte(`{"userId": "sw-1", "event": "Tick", "messageId": "sw-`+string(rune('a'+n))+`"}`), basic(key), "Content-Type: application/json")
			var e apiError
			_ = json.Unmarshal(body, &e)
			return code, e
		}
		if code, _ := send(k1); code != 200 {
			t.Fatalf("a new key: %d", code)
		}

		if code := s.API("PATCH", "/api/v1/sources/"+src.ID, map[string]any{"paused": true}, &src); code != 200 || !src.Paused {
			t.Fatalf("pause: %d %+v", code, src)
		}
		if code, e := send(k1); code != 403 || e.Error.Code != "forbidden" || !strings.Contains(e.Error.Message, "paused") {
			t.Fatalf("a paused source's key: %d %+v", code, e)
		}
		if code := s.API("PATCH", "/api/v1/sources/"+src.ID, map[string]any{"paused": false, "name": "Web shop"}, &src); code != 200 || src.Paused || src.Name != "Web shop" {
			t.Fatalf("resume: %d %+v", code, src)
		}
		if code, _ := send(k1); code != 200 {
			t.Fatalf("resumed: %d", code)
		}

		// Rotated with an hour's overlap: both keys work for the hour.
		if code := s.API("POST", "/api/v1/sources/"+src.ID+"/rotate", map[string]any{"overlap": "1h"}, &src); code != 200 || src.WriteKey == "" || src.WriteKey == k1 {
			t.Fatalf("rotate: %d %+v", code, src)
		}
		k2 := src.WriteKey
		if want := apptest.Epoch.Add(time.Hour).UnixMilli(); src.OldKeyValidUntil != want {
			t.Fatalf("old key valid until %d, want %d", src.OldKeyValidUntil, want)
		}
		clock.Add(59 * time.Minute)
		if c1, _ := send(k1); c1 != 200 {
			t.Fatalf("the old key within the overlap: %d", c1)
		}
		if c2, _ := send(k2); c2 != 200 {
			t.Fatalf("the new key: %d", c2)
		}
		clock.Add(2 * time.Minute)
		if code, e := send(k1); code != 401 || !strings.Contains(e.Error.Message, "replaced") {
			t.Fatalf("the old key after the overlap: %d %+v", code, e)
		}
		if code, _ := send(k2); code != 200 {
			t.Fatalf("the new key after the overlap: %d", code)
		}
		// Rotated with no overlap: the previous key is refused at once.
		src.OldKeyValidUntil = 0
		if code := s.API("POST", "/api/v1/sources/"+src.ID+"/rotate", map[string]any{"overlap": "0s"}, &src); code != 200 || src.OldKeyValidUntil != 0 {
			t.Fatalf("rotate at once: %d %+v", code, src)
		}
		k3 := src.WriteKey
		if code, _ := send(k2); code != 401 {
			t.Fatalf("a key rotated out at once: %d", code)
		}
		if code, _ := send(k3); code != 200 {
			t.Fatalf("the newest key: %d", code)
		}
		// A body-less rotation overlaps for a day.
		if code := s.API("POST", "/api/v1/sources/"+src.ID+"/rotate", nil, &src); code != 200 || src.OldKeyValidUntil != clock.Now().Add(24*time.Hour).UnixMilli() {
			t.Fatalf("default overlap: %d %+v", code, src)
		}
		k4 := src.WriteKey

		var stored []string
		rows, err := s.DB.QueryContext(context.Background(), `SELECT key_hash || ' ' || old_key_hash || ' ' || key_hint FROM sources`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v string
			_ = rows.Scan(&v)
			stored = append(stored, v)
		}
		rows.Close()
		for _, k := range []string{k1, k2, k3, k4} {
			if strings.Contains(strings.Join(stored, "\n"), k) {
				t.Fatalf("a write key is stored in clear")
			}
		}

		// Removed: every key refused, the events kept, the source not listed.
		if code := s.API("DELETE", "/api/v1/sources/"+src.ID, nil, nil); code != 204 {
			t.Fatalf("delete: %d", code)
		}
		for _, k := range []string{k3, k4} {
			if code, _ := send(k); code != 401 {
				t.Fatalf("a removed source's key: %d", code)
			}
		}
		var list struct{ Sources []struct{ ID string } }
		s.API("GET", "/api/v1/sources", nil, &list)
		for _, l := range list.Sources {
			if l.ID == src.ID {
				t.Fatal("a removed source is listed")
			}
		}
		s.Sync()
		var evs struct{ Events []json.RawMessage }
		s.API("GET", "/api/v1/events?type=Tick&limit=100", nil, &evs)
		if len(evs.Events) != 6 {
			t.Fatalf("%d events kept, want the 6 accepted", len(evs.Events))
		}
		_, metrics := s.Do("GET", "/metrics", nil)
		for _, want := range []string{`cxloop_ingest_requests_refused_total{reason="forbidden"} 1`, `cxloop_ingest_requests_refused_total{reason="unauthorized"} 4`} {
			if !bytes.Contains(metrics, []byte(want)) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
		for _, c := range []struct{ method, path, body string }{{"PATCH", src.ID, `{"paused": true}`}, {"DELETE", src.ID, ``}, {"POST", src.ID + "/rotate", `{}`}} {
			if code, _ := s.Do(c.method, "/api/v1/sources/"+c.path, []byte(c.body), "Authorization: Bearer "+apptest.Token); code != 404 {
				t.Fatalf("%s a removed source: %d", c.method, code)
			}
		}
	})
}

// Bad edits name their field.
func TestSourceEditsNameTheField(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		var src struct{ ID string }
		s.API("POST", "/api/v1/sources", map[string]any{"name": "Tills"}, &src)
		for _, c := range []struct{ method, path, body, field string }{
			{"PATCH", src.ID, `{"name": " "}`, "name"},
			{"PATCH", src.ID, `{"paused": "yes"}`, "paused"},
			{"PATCH", src.ID, `{"writeKey": "x"}`, "writeKey"},
			{"PATCH", src.ID, `{}`, "paused"},
			{"POST", src.ID + "/rotate", `{"overlap": "soon"}`, "overlap"},
			{"POST", src.ID + "/rotate", `{"overlap": "-1h"}`, "overlap"},
			{"POST", src.ID + "/rotate", `{"key": "mine"}`, "key"},
		} {
			code, body := s.Do(c.method, "/api/v1/sources/"+c.path, []byte(c.body), "Authorization: Bearer "+apptest.Token)
			var e apiError
			_ = json.Unmarshal(body, &e)
			if code != 400 || e.Error.Field != c.field {
				t.Errorf("%s %s: %d %s, want 400 naming %s", c.method, c.body, code, body, c.field)
			}
		}
		if code, _ := s.Do("PATCH", "/api/v1/sources/src_nope", []byte(`{"paused": true}`), "Authorization: Bearer "+apptest.Token); code != 404 {
			t.Fatalf("unknown id: %d", code)
		}
	})
}
