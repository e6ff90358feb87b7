package ingest_test

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

func basic(key string) string {
	return "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(key+":"))
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

func TestIngestRequests(t *testing.T) {
	big := strings.Repeat("x", 33<<10)
	hugeBatch := func() []byte {
		var items []string
		for i := 0; i < 40; i++ {
			items = append(items, fmt.Sprintf(`{"type":"track","userId":"u","event":"E","properties":{"pad":%q}}`, strings.Repeat("y", 15<<10)))
		}
		return []byte(`{"batch":[` + strings.Join(items, ",") + `]}`)
	}()
	bomb := gz(bytes.Repeat([]byte(" "), 50<<20)) // 50 MB of spaces, about 50 KB compressed

	cases := []struct {
		name      string
		path      string
		body      []byte
		headers   []string
		wantCode  int
		wantError string // error code
		wantField string
	}{
		{"ok with basic auth", "track", []byte(`{"userId":"u1","event":"Order Completed"}`), []string{basic(apptest.WriteKey)}, 200, "", ""},
		{"ok with writeKey in body", "track", []byte(`{"writeKey":"` + apptest.WriteKey + `","anonymousId":"a1","event":"Viewed"}`), nil, 200, "", ""},
		{"no key", "track", []byte(`{"userId":"u1","event":"E"}`), nil, 401, "unauthorized", ""},
		{"unknown key", "track", []byte(`{"userId":"u1","event":"E"}`), []string{basic("wk_nope")}, 401, "unauthorized", ""},
		{"unknown key in body", "batch", []byte(`{"writeKey":"wk_nope","batch":[]}`), nil, 401, "unauthorized", ""},
		{"malformed json", "identify", []byte(`{"userId": "u1",`), []string{basic(apptest.WriteKey)}, 400, "invalid", "body"},
		{"not an object", "track", []byte(`[1,2]`), []string{basic(apptest.WriteKey)}, 400, "invalid", "body"},
		{"missing ids", "track", []byte(`{"event":"E"}`), []string{basic(apptest.WriteKey)}, 400, "invalid", "userId"},
		{"track without event", "track", []byte(`{"userId":"u1"}`), []string{basic(apptest.WriteKey)}, 400, "invalid", "event"},
		{"group without groupId", "group", []byte(`{"userId":"u1"}`), []string{basic(apptest.WriteKey)}, 400, "invalid", "groupId"},
		{"alias without previousId", "alias", []byte(`{"userId":"u1"}`), []string{basic(apptest.WriteKey)}, 400, "invalid", "previousId"},
		{"alias without userId", "alias", []byte(`{"previousId":"a1","anonymousId":"a1"}`), []string{basic(apptest.WriteKey)}, 400, "invalid", "userId"},
		{"bad timestamp", "track", []byte(`{"userId":"u1","event":"E","timestamp":"yesterday"}`), []string{basic(apptest.WriteKey)}, 400, "invalid", "timestamp"},
		{"properties not an object", "track", []byte(`{"userId":"u1","event":"E","properties":[1]}`), []string{basic(apptest.WriteKey)}, 400, "invalid", "properties"},
		{"message over 32 KB", "track", []byte(`{"userId":"u1","event":"E","properties":{"x":"` + big + `"}}`), []string{basic(apptest.WriteKey)}, 413, "too_large", ""},
		{"request over 500 KB", "batch", hugeBatch, []string{basic(apptest.WriteKey)}, 413, "too_large", ""},
		{"gzip accepted", "track", gz([]byte(`{"userId":"u2","event":"Zipped"}`)), []string{basic(apptest.WriteKey), "Content-Encoding: gzip"}, 200, "", ""},
		{"gzip bomb refused", "batch", bomb, []string{basic(apptest.WriteKey), "Content-Encoding: gzip"}, 413, "too_large", ""},
		{"broken gzip", "track", []byte("not gzip at all"), []string{basic(apptest.WriteKey), "Content-Encoding: gzip"}, 400, "invalid", "Content-Encoding"},
		{"invalid UTF-8", "track", []byte("{\"userId\":\"u\xff\",\"event\":\"E\"}"), []string{basic(apptest.WriteKey)}, 400, "invalid", "body"},
		{"NUL in userId", "track", []byte(`{"userId":"u\u0000x","event":"E"}`), []string{basic(apptest.WriteKey)}, 400, "invalid", "userId"},
		{"NUL in event name", "track", []byte(`{"userId":"u","event":"E\u0000"}`), []string{basic(apptest.WriteKey)}, 400, "invalid", "event"},
		{"batch without batch", "batch", []byte(`{"sentAt":"2024-01-01T00:00:00Z"}`), []string{basic(apptest.WriteKey)}, 400, "invalid", "batch"},
	}
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				code, body := s.Do(http.MethodPost, "/v1/"+tc.path, tc.body, tc.headers...)
				if code != tc.wantCode {
					t.Fatalf("status %d, want %d: %s", code, tc.wantCode, body)
				}
				if tc.wantCode == 200 {
					if !bytes.Contains(body, []byte(`"success":true`)) {
						t.Fatalf("body %s", body)
					}
					return
				}
				var e apiError
				if err := json.Unmarshal(body, &e); err != nil {
					t.Fatalf("error body is not JSON: %s", body)
				}
				if e.Error.Code != tc.wantError || e.Error.Field != tc.wantField || e.Error.Message == "" {
					t.Fatalf("error %+v, want code %q field %q", e.Error, tc.wantError, tc.wantField)
				}
			})
		}
	})
}

type eventsPage struct {
	Events []struct {
		Seq        int64          `json:"seq"`
		MessageID  string         `json:"messageId"`
		Type       string         `json:"type"`
		Event      string         `json:"event"`
		Channel    string         `json:"channel"`
		Contact    string         `json:"contact"`
		CustomerID string         `json:"customerId"`
		Timestamp  string         `json:"timestamp"`
		Message    map[string]any `json:"message"`
	} `json:"events"`
	Next any `json:"next"`
}

func TestIngestStorage(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		get := func(q string) eventsPage {
			t.Helper()
			var p eventsPage
			if code := s.API("GET", "/api/v1/events?"+q, nil, &p); code != 200 {
				t.Fatalf("GET events?%s: %d", q, code)
			}
			return p
		}

		t.Run("duplicate messageId is stored once", func(t *testing.T) {
			msg := map[string]any{"userId": "dup", "event": "Paid", "messageId": "m-dup-1"}
			s.MustSend("track", msg)
			s.MustSend("track", msg)
			s.MustSend("batch", map[string]any{"batch": []any{
				map[string]any{"type": "track", "userId": "dup", "event": "Paid", "messageId": "m-dup-1"},
				map[string]any{"type": "track", "userId": "dup", "event": "Paid", "messageId": "m-dup-2"},
				map[string]any{"type": "track", "userId": "dup", "event": "Paid", "messageId": "m-dup-2"},
			}})
			s.Sync()
			p := get("customer=dup")
			if len(p.Events) != 2 || p.Events[0].MessageID != "m-dup-1" || p.Events[1].MessageID != "m-dup-2" {
				t.Fatalf("events %+v", p.Events)
			}
		})

		t.Run("missing messageId is generated", func(t *testing.T) {
			s.MustSend("track", map[string]any{"userId": "noid", "event": "A"})
			s.MustSend("track", map[string]any{"userId": "noid", "event": "A"})
			s.Sync()
			p := get("customer=noid")
			if len(p.Events) != 2 || p.Events[0].MessageID == "" || p.Events[0].MessageID == p.Events[1].MessageID {
				t.Fatalf("events %+v", p.Events)
			}
		})

		t.Run("unknown fields are kept as properties", func(t *testing.T) {
			s.MustSend("track", map[string]any{"userId": "extra", "event": "Custom", "loyaltyCard": "LC-9", "properties": map[string]any{"a": 1}})
			s.Sync()
			p := get("customer=extra")
			props, _ := p.Events[0].Message["properties"].(map[string]any)
			if props["loyaltyCard"] != "LC-9" || props["a"] != float64(1) || p.Events[0].Message["loyaltyCard"] != "LC-9" {
				t.Fatalf("message %+v", p.Events[0].Message)
			}
		})

		t.Run("clock skew is corrected from sentAt", func(t *testing.T) {
			// The client's clock is an hour fast: it stamped the event at
			// 10:00 and sent it at 10:00:05 by its own clock.
			s.MustSend("track", map[string]any{"userId": "skew", "event": "E", "timestamp": "2030-01-01T10:00:00Z", "sentAt": "2030-01-01T10:00:05Z"})
			s.Sync()
			p := get("customer=skew")
			ts, err := time.Parse(time.RFC3339, p.Events[0].Timestamp)
			if err != nil {
				t.Fatal(err)
			}
			if d := clock.Now().Sub(ts); d != 5*time.Second {
				t.Fatalf("corrected timestamp %s is %s before its arrival; want 5s", ts, d)
			}
			if p.Events[0].Message["originalTimestamp"] != "2030-01-01T10:00:00.000Z" {
				t.Fatalf("originalTimestamp %v", p.Events[0].Message["originalTimestamp"])
			}
		})

		t.Run("a time more than a day ahead is taken as the arrival", func(t *testing.T) {
			ahead := clock.Now().Add(72 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
			near := clock.Now().Add(23 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z")
			s.MustSend("track", map[string]any{"userId": "future", "event": "Far", "timestamp": ahead})
			s.MustSend("track", map[string]any{"userId": "near-future", "event": "Near", "timestamp": near})
			s.Sync()
			p := get("customer=future")
			if len(p.Events) != 1 {
				t.Fatalf("events %+v", p.Events)
			}
			if ts, err := time.Parse(time.RFC3339, p.Events[0].Timestamp); err != nil || !ts.Equal(clock.Now()) {
				t.Fatalf("a time 3 days ahead became %s, want the arrival %s", p.Events[0].Timestamp, clock.Now())
			}
			if m := p.Events[0].Message; m["originalTimestamp"] != ahead || m["timestampCorrected"] != true {
				t.Fatalf("the correction is not recorded: %+v", m)
			}
			var prof struct {
				LastSeen time.Time `json:"lastSeen"`
			}
			s.API("GET", "/api/v1/customers/future", nil, &prof)
			if !prof.LastSeen.Equal(clock.Now()) {
				t.Fatalf("last seen %s, want the arrival %s", prof.LastSeen, clock.Now())
			}
			p = get("customer=near-future")
			if len(p.Events) != 1 || p.Events[0].Message["timestamp"] != near || p.Events[0].Message["timestampCorrected"] != nil {
				t.Fatalf("a time 23 hours ahead is kept: %+v", p.Events)
			}
		})

		t.Run("channel from context, source and library", func(t *testing.T) {
			var src struct {
				WriteKey string `json:"writeKey"`
				Channel  string `json:"channel"`
			}
			if code := s.API("POST", "/api/v1/sources", map[string]any{"name": "Tills", "channel": "store"}, &src); code != 201 || src.WriteKey == "" || src.Channel != "store" {
				t.Fatalf("create source: %d %+v", code, src)
			}
			s.MustSend("track", map[string]any{"userId": "ch", "event": "E1", "context": map[string]any{"channel": "Call Center"}})
			s.MustSend("track", map[string]any{"userId": "ch", "event": "E2", "context": map[string]any{"library": map[string]any{"name": "analytics-ios"}}})
			s.MustSend("track", map[string]any{"userId": "ch", "event": "E3", "context": map[string]any{"library": map[string]any{"name": "analytics.js"}}})
			s.MustSend("track", map[string]any{"userId": "ch", "event": "E4", "context": map[string]any{"channel": "review_site"}})
			code, body := s.Do("POST", "/v1/track", []byte(`{"userId":"ch","event":"E5"}`), basic(src.WriteKey))
			if code != 200 {
				t.Fatalf("%d %s", code, body)
			}
			s.Sync()
			p := get("customer=ch")
			want := map[string][2]string{"E1": {"call_centre", "direct"}, "E2": {"mobile_app", "direct"}, "E3": {"web", "direct"}, "E4": {"review_site", "indirect"}, "E5": {"store", "direct"}}
			if len(p.Events) != len(want) {
				t.Fatalf("%d events", len(p.Events))
			}
			for _, e := range p.Events {
				if w := want[e.Event]; e.Channel != w[0] || e.Contact != w[1] {
					t.Errorf("%s: channel %s/%s, want %v", e.Event, e.Channel, e.Contact, w)
				}
			}
		})

		t.Run("invalid batch items are quarantined, valid ones stored", func(t *testing.T) {
			code, body := s.Send("batch", map[string]any{"batch": []any{
				map[string]any{"type": "track", "userId": "qb", "event": "Good", "messageId": "qb-1"},
				map[string]any{"type": "track", "userId": "qb", "messageId": "qb-2"},
				map[string]any{"type": "launch", "userId": "qb", "messageId": "qb-3"},
				"not a message",
				map[string]any{"type": "identify", "userId": "qb", "traits": map[string]any{"plan": "pro"}, "messageId": "qb-5"},
			}})
			if code != 200 {
				t.Fatalf("%d %s", code, body)
			}
			var resp struct {
				Accepted, Quarantined int
				Errors                []struct {
					Index int
					Field string
				}
			}
			_ = json.Unmarshal(body, &resp)
			if resp.Accepted != 2 || resp.Quarantined != 3 || resp.Errors[0].Index != 1 || resp.Errors[0].Field != "event" {
				t.Fatalf("response %s", body)
			}
			var q struct {
				Messages []struct {
					Field, Reason string
					Message       json.RawMessage
					ReceivedAt    string `json:"receivedAt"`
				}
			}
			s.API("GET", "/api/v1/quarantine", nil, &q)
			found := map[string]bool{}
			for _, m := range q.Messages {
				found[m.Field] = true
				if m.Reason == "" || len(m.Message) == 0 {
					t.Errorf("quarantined without reason or body: %+v", m)
				}
				if at, err := time.Parse(time.RFC3339, m.ReceivedAt); err != nil || !at.Equal(clock.Now().Truncate(time.Millisecond)) {
					t.Errorf("receivedAt %q, want the arrival as an RFC 3339 time", m.ReceivedAt)
				}
			}
			for _, f := range []string{"batch[1].event", "batch[2].type", "batch[3].type"} {
				if !found[f] {
					t.Errorf("no quarantined message for %s in %+v", f, q.Messages)
				}
			}
			s.Sync()
			if p := get("customer=qb"); len(p.Events) != 2 {
				t.Fatalf("stored %d events, want 2", len(p.Events))
			}
		})

		t.Run("events filter by type and page with after", func(t *testing.T) {
			all := get("limit=1000")
			if len(all.Events) < 10 {
				t.Fatalf("only %d events", len(all.Events))
			}
			for i := 1; i < len(all.Events); i++ {
				if all.Events[i].Seq <= all.Events[i-1].Seq {
					t.Fatal("events not in seq order")
				}
			}
			// Every event names the customer it resolved to.
			for _, e := range all.Events {
				if !strings.HasPrefix(e.CustomerID, "cus_") {
					t.Fatalf("event %d has customer %q", e.Seq, e.CustomerID)
				}
			}
			dup := get("customer=dup").Events
			if dup[0].CustomerID != dup[1].CustomerID {
				t.Fatalf("one customer's events resolve to %s and %s", dup[0].CustomerID, dup[1].CustomerID)
			}
			first := get("limit=3")
			if len(first.Events) != 3 || first.Next == nil {
				t.Fatalf("first page %+v", first)
			}
			second := get(fmt.Sprintf("limit=3&after=%v", first.Next))
			if second.Events[0].Seq != all.Events[3].Seq {
				t.Fatalf("second page starts at %d, want %d", second.Events[0].Seq, all.Events[3].Seq)
			}
			for _, e := range get("type=identify&limit=1000").Events {
				if e.Type != "identify" {
					t.Fatalf("type filter let through %s", e.Type)
				}
			}
			named := get("type=Paid&limit=1000").Events
			if len(named) != 2 {
				t.Fatalf("event-name filter: %d events", len(named))
			}
			if code := s.API("GET", "/api/v1/events?limit=abc", nil, nil); code != 400 {
				t.Fatalf("bad limit: %d", code)
			}
		})
	})
}

// /metrics counts what ingestion accepted and quarantined and how far each
// consumer is behind the log.
func TestMetrics(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.MustSend("batch", map[string]any{"batch": []any{
			map[string]any{"type": "track", "userId": "m", "event": "A"},
			map[string]any{"type": "track", "userId": "m", "event": "B"},
			map[string]any{"type": "track", "userId": "m"},
		}})
		s.MustSend("identify", map[string]any{"userId": "m"})
		// Refused as a whole: a wrong key twice, a body that is not JSON once.
		for range 2 {
			if code, _ := s.Do("POST", "/v1/track", []byte(`{"userId": "m", "event": "A"}`), "Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte("wrong-key:"))); code != 401 {
				t.Fatalf("a wrong key: %d", code)
			}
		}
		if code, _ := s.Do("POST", "/v1/track", []byte(`{not json`), "Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte(apptest.WriteKey+":"))); code != 400 {
			t.Fatalf("not JSON: %d", code)
		}
		s.Sync()
		code, body := s.Do("GET", "/metrics", nil)
		if code != 200 {
			t.Fatalf("/metrics: %d", code)
		}
		for _, want := range []string{
			`cxloop_ingest_messages_total{result="accepted"} 3`,
			`cxloop_ingest_messages_total{result="quarantined"} 1`,
			`cxloop_ingest_messages_total{result="refused"} 3`,
			`cxloop_ingest_requests_refused_total{reason="unauthorized"} 2`,
			`cxloop_ingest_requests_refused_total{reason="invalid"} 1`,
			`cxloop_consumer_lag_events{consumer="profile"} 0`,
			`cxloop_eventlog_appended_events_total 3`,
			`go_goroutines`,
		} {
			if !bytes.Contains(body, []byte(want)) {
				t.Errorf("/metrics lacks %q", want)
			}
		}
	})
}

func TestManagementAuth(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		viewer, err := s.Auth.CreateToken(t.Context(), "v", "viewer", "")
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, method, path, body string
			headers                  []string
			want                     int
		}{
			{"no token", "GET", "/api/v1/sources", "", nil, 401},
			{"bad token", "GET", "/api/v1/sources", "", []string{"Authorization: Bearer nope"}, 401},
			{"viewer reads", "GET", "/api/v1/sources", "", []string{"Authorization: Bearer " + viewer}, 200},
			{"viewer cannot create sources", "POST", "/api/v1/sources", `{"name":"x"}`, []string{"Authorization: Bearer " + viewer}, 403},
			{"admin creates", "POST", "/api/v1/sources", `{"name":"App","channel":"mobile_app"}`, []string{"Authorization: Bearer " + apptest.Token}, 201},
			{"source needs a name", "POST", "/api/v1/sources", `{"channel":"web"}`, []string{"Authorization: Bearer " + apptest.Token}, 400},
			{"bad channel", "POST", "/api/v1/sources", `{"name":"x","channel":"Not A Channel!"}`, []string{"Authorization: Bearer " + apptest.Token}, 400},
			{"unknown customer", "GET", "/api/v1/customers/nobody", "", []string{"Authorization: Bearer " + apptest.Token}, 404},
			{"unknown route", "GET", "/api/v1/nothing", "", []string{"Authorization: Bearer " + apptest.Token}, 404},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				code, body := s.Do(tc.method, tc.path, []byte(tc.body), tc.headers...)
				if code != tc.want {
					t.Fatalf("%d, want %d: %s", code, tc.want, body)
				}
				if code >= 400 && !bytes.Contains(body, []byte(`"error"`)) {
					t.Fatalf("error body %s", body)
				}
			})
		}
		var list struct {
			Sources []struct{ Name, Channel, WriteKeyHint string }
		}
		s.API("GET", "/api/v1/sources", nil, &list)
		if len(list.Sources) != 2 || list.Sources[1].Name != "App" || list.Sources[1].Channel != "mobile_app" {
			t.Fatalf("sources %+v", list.Sources)
		}
		// Write keys are kept only as hashes.
		var n int
		if err := s.DB.QueryRow(`SELECT COUNT(*) FROM sources WHERE key_hash = $1`, apptest.WriteKey).Scan(&n); err != nil || n != 0 {
			t.Fatalf("write key stored in the clear (%d, %v)", n, err)
		}
	})
}
