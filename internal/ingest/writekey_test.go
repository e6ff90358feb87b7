package ingest_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// storedBodies returns every stored event's and quarantined message's body.
func storedBodies(t *testing.T, db *store.DB) []string {
	t.Helper()
	var out []string
	for _, q := range []string{`SELECT body FROM events`, `SELECT body FROM quarantine`} {
		rows, err := db.QueryContext(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var b string
			if err := rows.Scan(&b); err != nil {
				t.Fatal(err)
			}
			out = append(out, b)
		}
		rows.Close()
	}
	return out
}

// A write key sent in the body, as browsers send it, authorises the request
// and is stored nowhere: not in events, not in the quarantine, not in what
// the API returns.
func TestNoWriteKeyStored(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		key := `"writeKey":"` + apptest.WriteKey + `"`
		for _, req := range []struct{ path, body string }{
			{"t", `{"type":"track","event":"Viewed","anonymousId":"wk-anon",` + key + `}`},
			{"identify", `{"userId":"wk-user","anonymousId":"wk-anon","traits":{"name":"K"},` + key + `}`},
			{"b", `{"batch":[{"type":"page","anonymousId":"wk-anon",` + key + `},{"type":"track","anonymousId":"wk-anon",` + key + `}],` + key + `}`},
			{"batch", `{"batch":[{"type":"track","event":"Odd","userId":"wk-user",` + key + `},"not a message"],` + key + `}`},
			{"t", `{"type":"track","anonymousId":"wk-anon-2",` + key + `}`}, // refused: no event name
		} {
			code, out := s.Do("POST", "/v1/"+req.path, []byte(req.body), "Content-Type: text/plain")
			if code != 200 && code != 400 {
				t.Fatalf("POST /v1/%s: %d %s", req.path, code, out)
			}
		}
		s.Sync()
		bodies := storedBodies(t, s.DB)
		if len(bodies) < 6 {
			t.Fatalf("only %d stored messages", len(bodies))
		}
		for _, b := range bodies {
			if strings.Contains(b, apptest.WriteKey) || strings.Contains(b, "writeKey") {
				t.Errorf("stored message holds the write key: %s", b)
			}
		}
		var q struct{ Messages []json.RawMessage }
		s.API("GET", "/api/v1/quarantine", nil, &q)
		if len(q.Messages) != 3 {
			t.Errorf("quarantine holds %d messages, want 3", len(q.Messages))
		}
		_, events := s.Do("GET", "/api/v1/events?customer=wk-user&limit=100", nil, "Authorization: Bearer "+apptest.Token)
		if !strings.Contains(string(events), "wk-user") || strings.Contains(string(events), apptest.WriteKey) {
			t.Errorf("events answer: %s", events)
		}
	})
}

// Migration 0028 removes the write key from messages stored before it,
// and leaves everything else as it was.
func TestMigrationScrubsWriteKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		old := map[string]string{
			"m1": `{"type":"track","event":"Viewed","anonymousId":"a1","writeKey":"wk_old_secret","properties":{"price":19.90,"note":"caf\u00e9 \"x\""},"context":{"channel":"web"}}`,
			"m2": `{"type":"page","anonymousId":"a1","properties":{"writeKey":"a property, kept"},"context":{}}`,
			"m3": `{"writeKey":null,"type":"identify","userId":"u1","traits":{"n":[1,2,{"z":true}]}}`,
			"m4": `{"type":"track","event":"Plain","userId":"u1"}`,
		}
		want := map[string]string{
			"m1": `{"type":"track","event":"Viewed","anonymousId":"a1","properties":{"price":19.90,"note":"caf\u00e9 \"x\""},"context":{"channel":"web"}}`,
			"m2": old["m2"],
			"m3": `{"type":"identify","userId":"u1","traits":{"n":[1,2,{"z":true}]}}`,
			"m4": old["m4"],
		}
		err := db.Tx(ctx, func(tx *store.Tx) error {
			seq := 0
			for id, body := range old {
				seq++
				if _, err := tx.ExecContext(ctx, `INSERT INTO events (seq, message_id, type, event, user_id, anonymous_id, channel, contact, source_id, ts, received_at, body)
					VALUES ($1, $2, 'track', '', 'u1', NULL, 'web', 'direct', 'src_x', 1, 1, $3)`, seq, id, body); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO quarantine (id, source_id, received_at, field, reason, body) VALUES ($1, 'src_x', 1, 'event', 'r', $2)`, "q_"+id, body); err != nil {
					return err
				}
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM schema_migrations WHERE name = '0028_scrub_write_keys'`)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		applied, err := db.Migrate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(applied) != 1 || applied[0] != "0028_scrub_write_keys" {
			t.Fatalf("applied %v", applied)
		}
		for _, q := range []string{`SELECT message_id, body FROM events`, `SELECT substr(id, 3), body FROM quarantine`} {
			rows, err := db.QueryContext(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rows.Next() {
				var id, body string
				if err := rows.Scan(&id, &body); err != nil {
					t.Fatal(err)
				}
				n++
				var got, exp any
				if err := json.Unmarshal([]byte(body), &got); err != nil {
					t.Fatalf("%s: %v: %s", id, err, body)
				}
				_ = json.Unmarshal([]byte(want[id]), &exp)
				if !reflect.DeepEqual(got, exp) {
					t.Errorf("%s after 0028:\n got %s\nwant %s", id, body, want[id])
				}
				if strings.Contains(body, "wk_old_secret") {
					t.Errorf("%s still holds the write key", id)
				}
			}
			rows.Close()
			if n != len(old) {
				t.Errorf("%s: %d rows", q, n)
			}
		}
	})
}
