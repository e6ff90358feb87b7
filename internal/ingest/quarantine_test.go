package ingest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type quarantined struct {
	ID, SourceID, SourceName, Field, Reason string
	Message                                 json.RawMessage
}

// A message refused inside a batch is found in the quarantine, replayed
// unchanged (refused again, it stays), replayed corrected (its event is in
// the customer's timeline, once, and it leaves the quarantine), and another
// is discarded; each change is in the audit trail, and only an admin may
// make them.
func TestQuarantineReplayAndDiscard(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		arrived := clock.Now()
		bad := map[string]any{"type": "track", "userId": "qr-1", "properties": map[string]any{"total": 42}}
		other := map[string]any{"type": "alias", "userId": "qr-2"}
		code, body := s.Send("batch", map[string]any{"batch": []any{
			map[string]any{"type": "track", "userId": "qr-1", "event": "Signed Up", "messageId": "qr-ok"},
			bad, other}})
		if code != 200 || !strings.Contains(string(body), `"quarantined":2`) {
			t.Fatalf("batch: %d %s", code, body)
		}
		clock.Add(time.Hour) // a replay later keeps the time the message arrived

		var list struct{ Messages []quarantined }
		if code := s.API("GET", "/api/v1/quarantine", nil, &list); code != 200 || len(list.Messages) != 2 {
			t.Fatalf("quarantine: %d %+v", code, list)
		}
		byField := map[string]quarantined{}
		for _, m := range list.Messages {
			byField[m.Field] = m
			if m.SourceName != "Default" {
				t.Errorf("%s: source name %q, want the bootstrap source's", m.ID, m.SourceName)
			}
		}
		refused, ok := byField["batch[1].event"]
		discard, ok2 := byField["batch[2].previousId"]
		if !ok || !ok2 {
			t.Fatalf("fields %v", byField)
		}
		var one quarantined
		if code := s.API("GET", "/api/v1/quarantine/"+refused.ID, nil, &one); code != 200 || one.ID != refused.ID || one.Field != refused.Field ||
			!strings.Contains(string(one.Message), `"qr-1"`) {
			t.Fatalf("one message: %d %+v", code, one)
		}

		timeline := func() []struct{ Event, MessageID string } {
			t.Helper()
			s.Sync()
			var tl struct {
				Events []struct {
					Event     string
					MessageID string `json:"messageId"`
					Timestamp string
				}
			}
			if code := s.API("GET", "/api/v1/customers/qr-1/timeline", nil, &tl); code != 200 {
				t.Fatalf("timeline: %d", code)
			}
			var out []struct{ Event, MessageID string }
			for _, e := range tl.Events {
				out = append(out, struct{ Event, MessageID string }{e.Event, e.MessageID})
				if e.Event == "Order Completed" && e.Timestamp != arrived.UTC().Format("2006-01-02T15:04:05.000Z") {
					t.Errorf("the replayed event's time is %s, want its arrival %s", e.Timestamp, arrived)
				}
			}
			return out
		}
		if tl := timeline(); len(tl) != 1 {
			t.Fatalf("before the replay the timeline holds %+v", tl)
		}

		// Unchanged, it is refused again for the same field, and stays.
		var fail apiError
		if code := s.API("POST", "/api/v1/quarantine/"+refused.ID+"/replay", nil, &fail); code != 422 || fail.Error.Field != "event" || fail.Error.Message == "" {
			t.Fatalf("unchanged replay: %d %+v", code, fail)
		}
		if code := s.API("GET", "/api/v1/quarantine/"+refused.ID, nil, nil); code != 200 {
			t.Fatalf("after a refused replay the message is gone: %d", code)
		}
		// A correction refused for another field says so.
		if code := s.API("POST", "/api/v1/quarantine/"+refused.ID+"/replay", map[string]any{"message": map[string]any{"type": "track", "event": "Order Completed"}}, &fail); code != 422 || fail.Error.Field != "userId" {
			t.Fatalf("correction without userId: %d %+v", code, fail)
		}
		// A request that is not JSON is the request's fault, not the message's.
		if code, b := s.Do("POST", "/api/v1/quarantine/"+refused.ID+"/replay", []byte(`{"message":`), "Authorization: Bearer "+apptest.Token); code != 400 {
			t.Fatalf("broken request: %d %s", code, b)
		}

		// An analyst reads it but may not replay or discard.
		var tok struct{ Token string }
		if code := s.API("POST", "/api/v1/tokens", map[string]string{"name": "reader", "role": "analyst"}, &tok); code != 201 {
			t.Fatalf("token: %d", code)
		}
		if code, _ := s.Do("GET", "/api/v1/quarantine/"+refused.ID, nil, "Authorization: Bearer "+tok.Token); code != 200 {
			t.Fatalf("analyst read: %d", code)
		}
		for _, action := range []string{"replay", "discard"} {
			if code, _ := s.Do("POST", "/api/v1/quarantine/"+refused.ID+"/"+action, nil, "Authorization: Bearer "+tok.Token); code != 403 {
				t.Fatalf("analyst %s: %d", action, code)
			}
		}

		// Corrected, it is accepted: the event is in the customer's
		// timeline and the message leaves the quarantine.
		fixed := map[string]any{}
		for k, v := range bad {
			fixed[k] = v
		}
		fixed["event"] = "Order Completed"
		var ok200 struct{ ID, MessageID string }
		if code := s.API("POST", "/api/v1/quarantine/"+refused.ID+"/replay", map[string]any{"message": fixed}, &ok200); code != 200 || ok200.MessageID == "" || ok200.ID != refused.ID {
			t.Fatalf("corrected replay: %d %+v", code, ok200)
		}
		tl := timeline()
		n := 0
		for _, e := range tl {
			if e.Event == "Order Completed" {
				n++
				if e.MessageID != ok200.MessageID {
					t.Errorf("timeline's messageId %s, the replay said %s", e.MessageID, ok200.MessageID)
				}
			}
		}
		if n != 1 || len(tl) != 2 {
			t.Fatalf("after the replay the timeline holds %+v", tl)
		}
		var nf apiError
		if code := s.API("GET", "/api/v1/quarantine/"+refused.ID, nil, &nf); code != 404 || !strings.Contains(nf.Error.Message, refused.ID) {
			t.Fatalf("replayed message still there: %d %+v", code, nf)
		}
		if code := s.API("GET", "/api/v1/quarantine", nil, &list); code != 200 || len(list.Messages) != 1 || list.Messages[0].ID != discard.ID {
			t.Fatalf("the list after the replay: %+v", list.Messages)
		}

		// Replaying again: gone (404). The same bad message sent again is
		// quarantined again under the same id; replayed corrected, it is
		// the same message: no second event.
		if code := s.API("POST", "/api/v1/quarantine/"+refused.ID+"/replay", map[string]any{"message": fixed}, nil); code != 404 {
			t.Fatalf("second replay: %d", code)
		}
		if code, body := s.Send("batch", map[string]any{"batch": []any{bad}}); code != 200 || !strings.Contains(string(body), `"quarantined":1`) {
			t.Fatalf("resend: %d %s", code, body)
		}
		var again struct{ ID, MessageID string }
		if code := s.API("POST", "/api/v1/quarantine/"+refused.ID+"/replay", map[string]any{"message": fixed}, &again); code != 200 || again.MessageID != ok200.MessageID {
			t.Fatalf("replay of the resent message: %d %+v, first %+v", code, again, ok200)
		}
		if tl := timeline(); len(tl) != 2 {
			t.Fatalf("a second replay added an event: %+v", tl)
		}

		// Discard.
		if code := s.API("POST", "/api/v1/quarantine/"+discard.ID+"/discard", nil, nil); code != 204 {
			t.Fatalf("discard: %d", code)
		}
		for _, path := range []string{"/api/v1/quarantine/" + discard.ID + "/discard", "/api/v1/quarantine/" + discard.ID + "/replay"} {
			if code := s.API("POST", path, nil, &nf); code != 404 || !strings.Contains(nf.Error.Message, discard.ID) {
				t.Fatalf("POST %s after the discard: %d %+v", path, code, nf)
			}
		}
		if code := s.API("GET", "/api/v1/quarantine/q_nothing", nil, &nf); code != 404 || !strings.Contains(nf.Error.Message, "q_nothing") {
			t.Fatalf("missing: %d %+v", code, nf)
		}
		if code := s.API("GET", "/api/v1/quarantine", nil, &list); len(list.Messages) != 0 {
			t.Fatalf("left: %d %+v", code, list.Messages)
		}

		// The trail: two replays accepted and one discard, by id.
		var trail struct {
			Entries []struct{ Action, Resource, ResourceID, Actor string }
		}
		if code := s.API("GET", "/api/v1/audit?limit=500", nil, &trail); code != 200 {
			t.Fatalf("audit: %d", code)
		}
		got := map[string]int{}
		for _, e := range trail.Entries {
			if e.Resource == "quarantine" {
				got[e.Action+" "+e.ResourceID]++
			}
		}
		if got["replay "+refused.ID] != 2 || got["discard "+discard.ID] != 1 || len(got) != 2 {
			t.Fatalf("trail %v", got)
		}
	})
}

// A message whose source was removed cannot be replayed (409), and the
// quarantine still names the source.
func TestQuarantineRemovedSource(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		var src struct{ ID, WriteKey string }
		if code := s.API("POST", "/api/v1/sources", map[string]any{"name": "Old tills"}, &src); code != 201 {
			t.Fatalf("source: %d", code)
		}
		if code, body := s.Do("POST", "/v1/track", []byte(`{"userId":"qs"}`), basic(src.WriteKey)); code != 400 {
			t.Fatalf("track without event: %d %s", code, body)
		}
		if code := s.API("DELETE", "/api/v1/sources/"+src.ID, nil, nil); code != 204 {
			t.Fatalf("delete source: %d", code)
		}
		var list struct{ Messages []quarantined }
		s.API("GET", "/api/v1/quarantine", nil, &list)
		if len(list.Messages) != 1 || list.Messages[0].SourceName != "Old tills" || list.Messages[0].Field != "event" {
			t.Fatalf("quarantine %+v", list.Messages)
		}
		var e apiError
		fixed := map[string]any{"message": map[string]any{"userId": "qs", "event": "Came Back", "type": "track"}}
		if code := s.API("POST", "/api/v1/quarantine/"+list.Messages[0].ID+"/replay", fixed, &e); code != http.StatusConflict || !strings.Contains(e.Error.Message, "Old tills") {
			t.Fatalf("replay from a removed source: %d %+v", code, e)
		}
	})
}

// A message refused on a single-message path is replayed with the type its
// path named, even when the body names none.
func TestQuarantineSingleMessageKeepsItsType(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		if code, body := s.Do("POST", "/v1/identify", []byte(`{"traits":{"plan":"pro"},"anonymousId":{"x":1}}`), basic(apptest.WriteKey)); code != 400 {
			t.Fatalf("identify: %d %s", code, body)
		}
		var list struct{ Messages []quarantined }
		s.API("GET", "/api/v1/quarantine", nil, &list)
		if len(list.Messages) != 1 || list.Messages[0].Field != "anonymousId" {
			t.Fatalf("quarantine %+v", list.Messages)
		}
		var m map[string]any
		_ = json.Unmarshal(list.Messages[0].Message, &m)
		m["anonymousId"] = "anon-qs"
		var ok struct{ MessageID string }
		if code := s.API("POST", "/api/v1/quarantine/"+list.Messages[0].ID+"/replay", map[string]any{"message": m}, &ok); code != 200 {
			t.Fatalf("replay: %d", code)
		}
		s.Sync()
		var c struct{ Traits map[string]any }
		if code := s.API("GET", "/api/v1/customers/anon-qs", nil, &c); code != 200 || c.Traits["plan"] != "pro" {
			t.Fatalf("the replayed identify: %d %+v", code, c)
		}
	})
}
