package privacy_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// Zelda is the customer every test here erases; Bob stays.
const (
	zeldaUser  = "u-zelda-7731"
	zeldaAnon  = "anon-zelda-5521"
	zeldaEmail = "zelda.quartermaine@example.org"
	zeldaPhone = "+447700900123"
	zeldaName  = "Zelda Quartermaine"
)

// zeldaNeedles are what must not be found anywhere after her erasure.
var zeldaNeedles = []string{zeldaUser, zeldaAnon, zeldaEmail, zeldaPhone, "Quartermaine", "7700 900123"}

// richCustomer gives Zelda data in every capability, through /v1 and the
// management API, and Bob a little, including a mention of Zelda.
func richCustomer(t *testing.T, s *apptest.Server) (survey string) {
	t.Helper()
	var hits atomic.Int64
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.WriteHeader(http.StatusServiceUnavailable) // deliveries stay queued
	}))
	t.Cleanup(hook.Close)
	var team struct{ ID string }
	must(t, s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, &team), 201, "team")
	must(t, s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "detractors", "when": {"event": "Survey Responded", "nps_max": 6},
		"then": {"open_case": {"team": "service", "kind": "detractor", "sla": "24h"}}}`), nil), 201, "rule")
	must(t, s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, nil), 201, "loyalty rule")
	must(t, s.API("POST", "/api/v1/webhooks", map[string]any{"url": hook.URL, "events": []string{"Case Opened", "Order Completed"}}, nil), 201, "webhook")
	var sv struct{ ID string }
	must(t, s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "NPS", "rhythm": "pulse", "owner": "service",
		"questions": [{"id": "q1", "type": "nps", "text": {"en": "Recommend us?"}}, {"id": "q2", "type": "text", "text": {"en": "Why?"}}]}`), &sv), 201, "survey")

	s.MustSend("identify", map[string]any{"userId": zeldaUser, "anonymousId": zeldaAnon,
		"traits": map[string]any{"email": zeldaEmail, "name": zeldaName, "phone": "+44 7700 900123", "city": "Leeds"}})
	s.MustSend("page", map[string]any{"anonymousId": zeldaAnon, "name": "Tents", "context": map[string]any{"traits": map[string]any{"email": zeldaEmail}}})
	s.MustSend("track", map[string]any{"userId": zeldaUser, "event": "Product Viewed", "properties": map[string]any{"product_id": "tent-2"}})
	s.MustSend("track", map[string]any{"userId": zeldaUser, "event": "Order Completed", "properties": map[string]any{"order_id": "o-zelda-1", "total": 240.0,
		"revenue": 240.0, "currency": "EUR", "products": []any{map[string]any{"product_id": "tent-2", "name": "Tent", "price": 240.0, "quantity": 1, "category": "tents"}}}})
	s.MustSend("identify", map[string]any{"userId": "u-bob", "traits": map[string]any{"email": "bob@example.org", "name": "Bob Stays"}})
	s.MustSend("track", map[string]any{"userId": "u-bob", "event": "Order Completed", "properties": map[string]any{"order_id": "o-bob-1", "total": 80.0,
		"products": []any{map[string]any{"product_id": "tent-2", "price": 80.0, "quantity": 1}}}})
	// A message refused into the quarantine, naming her.
	if code, _ := s.Send("track", map[string]any{"userId": zeldaUser, "event": "", "properties": map[string]any{"email": zeldaEmail}}); code != 400 {
		t.Fatalf("bad message: %d", code)
	}
	s.Sync()
	must(t, s.API("POST", "/api/v1/surveys/"+sv.ID+"/responses", map[string]any{"customer": zeldaUser,
		"answers": map[string]any{"q1": 2, "q2": "Zelda Quartermaine here: the tent leaked, call me on +44 7700 900123"}}, nil), 201, "answer")
	s.Sync()
	var cases struct{ Cases []struct{ ID string } }
	s.API("GET", "/api/v1/cases?kind=detractor", nil, &cases)
	if len(cases.Cases) != 1 {
		t.Fatalf("cases: %+v", cases)
	}
	must(t, s.API("POST", "/api/v1/cases/"+cases.Cases[0].ID+"/notes", map[string]any{"note": "Called Zelda Quartermaine back on 7700 900123."}, nil), 200, "note")
	must(t, s.API("POST", "/api/v1/introductions", map[string]any{"from": "u-bob", "to": zeldaEmail, "note": "both camp"}, nil), 201, "introduction")
	s.Sync()
	return sv.ID
}

func must(t *testing.T, code, want int, what string) {
	t.Helper()
	if code != want {
		t.Fatalf("%s: %d, want %d", what, code, want)
	}
}

// tableHits returns "table: needle" for every needle found in any column
// of any table, read straight from the database.
func tableHits(t *testing.T, db *store.DB, needles []string) []string {
	t.Helper()
	ctx := context.Background()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.Engine == store.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	var tables []string
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	if len(tables) < 50 {
		t.Fatalf("only %d tables found", len(tables))
	}
	var hits []string
	for _, tb := range tables {
		rows, err := db.QueryContext(ctx, `SELECT * FROM `+tb)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			line := strings.ToLower(fmt.Sprint(vals...))
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					line += " " + strings.ToLower(string(b))
					_ = i
				}
			}
			for _, n := range needles {
				if strings.Contains(line, strings.ToLower(n)) {
					hits = append(hits, tb+": "+n)
				}
			}
		}
		rows.Close()
	}
	return hits
}

// fileHits returns every needle found in the SQLite database's files.
func fileHits(t *testing.T, dsn string, needles []string) []string {
	t.Helper()
	var hits []string
	for _, suffix := range []string{"", "-wal", "-journal"} {
		b, err := os.ReadFile(dsn + suffix)
		if err != nil {
			continue
		}
		for _, n := range needles {
			if i := bytes.Index(b, []byte(n)); i >= 0 {
				hits = append(hits, filepath.Base(dsn+suffix)+": "+n+where(dsn, suffix, b, i))
			}
		}
	}
	return hits
}

func TestEraseEverywhereSurvivesReplay(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		richCustomer(t, s)
		var bobBefore struct{ Balance int64 }
		s.API("GET", "/api/v1/customers/u-bob/loyalty", nil, &bobBefore)
		if hits := tableHits(t, s.DB, zeldaNeedles); len(hits) < 10 {
			t.Fatalf("before the erasure the customer should be found in many tables, found %v", hits)
		}
		if s.DB.Engine == store.SQLite {
			if err := s.DB.Scrub(context.Background()); err != nil {
				t.Fatal(err)
			}
			if hits := fileHits(t, dsn, zeldaNeedles); len(hits) == 0 {
				t.Fatal("before the erasure the customer should be in the database file")
			}
		}

		var out struct {
			Customer   string
			Tombstoned int64 `json:"eventsTombstoned"`
			Scrubbed   int64 `json:"eventsScrubbed"`
			Rows       map[string]int64
		}
		must(t, s.API("DELETE", "/api/v1/customers/"+zeldaEmail, nil, &out), 200, "erase")
		if !strings.HasPrefix(out.Customer, "cus_") || out.Tombstoned < 5 || out.Scrubbed < 1 || out.Rows["customers"] != 1 || out.Rows["case_notes"] != 1 {
			t.Fatalf("erasure = %+v", out)
		}
		check := func(when string) {
			t.Helper()
			if hits := tableHits(t, s.DB, zeldaNeedles); len(hits) > 0 {
				t.Fatalf("%s: still in the tables: %v", when, hits)
			}
			if s.DB.Engine == store.SQLite {
				if hits := fileHits(t, dsn, zeldaNeedles); len(hits) > 0 {
					t.Fatalf("%s: still in the database files: %v", when, hits)
				}
			}
			for _, ref := range []string{zeldaEmail, zeldaUser, zeldaAnon, out.Customer} {
				if code := s.API("GET", "/api/v1/customers/"+ref, nil, nil); code != 404 {
					t.Fatalf("%s: GET %s = %d", when, ref, code)
				}
			}
			var bob struct{ Balance int64 }
			s.API("GET", "/api/v1/customers/u-bob/loyalty", nil, &bob)
			if bob.Balance != bobBefore.Balance || bob.Balance == 0 {
				t.Fatalf("%s: Bob's balance %d, was %d", when, bob.Balance, bobBefore.Balance)
			}
		}
		check("after the erasure")

		// Every consumer rebuilt from the log: nothing of her returns.
		ctx := context.Background()
		for _, c := range s.Runner.Consumers() {
			if _, err := s.Runner.Replay(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		s.Sync()
		if err := s.DB.Scrub(ctx); err != nil {
			t.Fatal(err)
		}
		check("after a replay")
		var events struct{ Events []struct{ Type string } }
		s.API("GET", "/api/v1/events?type=erased&limit=100", nil, &events)
		if len(events.Events) != int(out.Tombstoned) {
			t.Fatalf("%d tombstones listed, %d made", len(events.Events), out.Tombstoned)
		}
	})
}

// Erasing one customer changes nothing of another's whose name, email or
// products share words with theirs; only whole values naming the erased
// customer are cut from others' events.
func TestEraseLeavesOthersWhole(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.MustSend("identify", map[string]any{"userId": "u-jo", "traits": map[string]any{"name": "Jo Tent", "email": "jo@example.org"}})
		s.MustSend("identify", map[string]any{"userId": "u-noah", "traits": map[string]any{"name": "Noah Jo", "lastName": "Jo",
			"email": "noah.jo.6@example.org", "handle": "@jo@example.org.fan", "rhythm": "persistent"}})
		s.MustSend("track", map[string]any{"userId": "u-noah", "event": "Order Completed", "properties": map[string]any{"order_id": "o-n", "total": 10,
			"products": []any{map[string]any{"product_id": "tent", "name": "Basecamp 4 Tent"}}, "referrer": "JO@example.org"}})
		s.Sync()
		read := func() map[string]string {
			var out struct {
				Events []struct {
					MessageID string
					Message   json.RawMessage
				}
			}
			s.API("GET", "/api/v1/events?customer=u-noah&limit=100", nil, &out)
			m := map[string]string{}
			for _, e := range out.Events {
				m[e.MessageID] = string(e.Message)
			}
			return m
		}
		before := read()
		var out struct {
			Scrubbed int64 `json:"eventsScrubbed"`
		}
		must(t, s.API("DELETE", "/api/v1/customers/u-jo", nil, &out), 200, "erase")
		if out.Scrubbed != 1 {
			t.Fatalf("scrubbed %d events, want the one naming her email as a whole value", out.Scrubbed)
		}
		after := read()
		changed := 0
		for id, b := range before {
			if after[id] != b {
				changed++
				if !strings.Contains(after[id], `"referrer":"[erased]"`) || !strings.Contains(after[id], "Basecamp 4 Tent") {
					t.Fatalf("another customer's event became %s", after[id])
				}
			}
		}
		if changed != 1 || len(after) != len(before) {
			t.Fatalf("%d of %d events changed", changed, len(before))
		}
		var noah struct{ Traits map[string]any }
		s.API("GET", "/api/v1/customers/u-noah", nil, &noah)
		if noah.Traits["email"] != "noah.jo.6@example.org" || noah.Traits["lastName"] != "Jo" || noah.Traits["handle"] != "@jo@example.org.fan" {
			t.Fatalf("noah: %+v", noah.Traits)
		}
	})
}

// where names the page of the database file that holds offset i and the
// table or index it belongs to, for a failure's message.
func where(dsn, suffix string, b []byte, i int) string {
	if suffix != "" || len(b) < 100 {
		return ""
	}
	size := int(b[16])<<8 | int(b[17])
	if size == 1 {
		size = 65536
	}
	page := i/size + 1
	db, err := sql.Open("sqlite", "file:"+dsn+"?mode=ro")
	if err != nil {
		return fmt.Sprintf(" (page %d)", page)
	}
	defer db.Close()
	var name, kind string
	err = db.QueryRow(`SELECT name, pagetype FROM dbstat WHERE pageno = ?`, page).Scan(&name, &kind)
	if err != nil {
		name = "not in any b-tree (" + err.Error() + ")"
	}
	lo, hi := max(i-60, 0), min(i+80, len(b))
	return fmt.Sprintf(" (page %d of %s %s, offset %d in page: %q)", page, name, kind, i%size, b[lo:hi])
}
