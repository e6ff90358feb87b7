package ingest

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
)

// FuzzNormalize feeds arbitrary bytes to the message decoder and validator.
// Whatever it accepts must be valid JSON that is accepted again unchanged in
// meaning; whatever it refuses must be refused with a coded error naming a field.
func FuzzNormalize(f *testing.F) {
	for _, seed := range []string{
		`{"type":"track","userId":"u1","event":"Order Completed","properties":{"total":10.5}}`,
		`{"type":"identify","anonymousId":"a","traits":{"email":"x@y.z"},"timestamp":"2024-01-02T03:04:05.678Z","sentAt":"2024-01-02T03:04:06Z"}`,
		`{"type":"alias","previousId":"a","userId":42}`,
		`{"type":"group","userId":"u","groupId":7,"context":{"channel":"Call Center","library":{"name":"analytics.js"}}}`,
		`{"type":"page","anonymousId":"a","name":null,"extra":[1,2,3]}`,
		`{"type":"screen","userId":"u","originalTimestamp":"2024-01-02"}`,
		`{"type":"identify","anonymousId":"a","writeKey":"wk_x","traits":{},"context":{"traits":{"email":"x@y.z"},"library":{"name":"RudderLabs JavaScript SDK"}}}`,
		`{"userId":""}`, `[]`, `null`, `{"type":1}`, `{"type":"track","userId":"u","event":"e","context":"x"}`,
	} {
		f.Add([]byte(seed))
	}
	rq := &request{source: Source{ID: "src_fuzz"}, received: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), ip: "127.0.0.1"}
	f.Fuzz(func(t *testing.T, data []byte) {
		var m map[string]json.RawMessage
		if json.Unmarshal(data, &m) != nil || m == nil {
			return
		}
		e, err := rq.normalize("", m)
		if err != nil {
			var fe *fault.Error
			if !errors.As(err, &fe) || fe.Code != fault.Invalid || fe.Field == "" {
				t.Fatalf("refusal %v is not an invalid-field error", err)
			}
			return
		}
		if !json.Valid(e.Body) || e.MessageID == "" || e.Channel == "" || (e.UserID == "" && e.AnonymousID == "") {
			t.Fatalf("accepted a bad event %+v", e)
		}
		var again map[string]json.RawMessage
		if err := json.Unmarshal(e.Body, &again); err != nil {
			t.Fatal(err)
		}
		if _, ok := again["writeKey"]; ok {
			t.Fatalf("the stored message keeps its write key: %s", e.Body)
		}
		e2, err := rq.normalize("", again)
		if err != nil {
			t.Fatalf("normalised message %s refused: %v", e.Body, err)
		}
		if e2.MessageID != e.MessageID || e2.Type != e.Type || e2.UserID != e.UserID || e2.AnonymousID != e.AnonymousID ||
			e2.Event != e.Event || e2.Channel != e.Channel || e2.Contact != e.Contact {
			t.Fatalf("normalising twice changed the event:\n%+v\n%+v", e, e2)
		}
	})
}
