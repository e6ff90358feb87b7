package httpio

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
)

type span time.Duration

func (s *span) UnmarshalJSON(b []byte) error {
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return errors.New("a span is a string such as \"48h\"")
	}
	d, err := time.ParseDuration(str)
	if err != nil {
		return fmt.Errorf("invalid span %q: use forms like 48h or 30m", str)
	}
	*s = span(d)
	return nil
}

type inner struct {
	Event string         `json:"event"`
	Max   *float64       `json:"nps_max,omitempty"`
	Where map[string]any `json:"where,omitempty"`
	Delay span           `json:"delay"`
}

type Base struct {
	ID string `json:"id"`
}

type outer struct {
	Base
	Name  string           `json:"name"`
	When  inner            `json:"when"`
	List  []inner          `json:"list"`
	ByKey map[string]inner `json:"byKey"`
	Skip  string           `json:"-"`
}

func TestDecodeJSONNamesTheField(t *testing.T) {
	for _, c := range []struct {
		body, field, message string
	}{
		{`{"when":{"event":"x","nps_maxx":6}}`, "when.nps_maxx", "accepted: event, nps_max, where, delay"},
		{`{"nmae":"x"}`, "nmae", "accepted: id, name, when, list, byKey"},
		{`{"Skip":"x"}`, "Skip", "unknown field"},
		{`{"list":[{"event":"a"},{"evnt":"b"}]}`, "list[1].evnt", "unknown field"},
		{`{"byKey":{"k":{"bad":1}}}`, "byKey.k.bad", "unknown field"},
		{`{"name":42}`, "name", "name must be a JSON string, not a number"},
		{`{"when":{"nps_max":"six"}}`, "when.nps_max", "must be a JSON number, not a string"},
		{`{"when":{"delay":"2 days"}}`, "when.delay", "use forms like 48h"},
		{`{"list":[{"delay":5}]}`, "list[0].delay", "a span is a string"},
		{`{"name":`, "body", "not valid JSON"},
		{``, "body", "not valid JSON"},
		{`[1]`, "body", "body must be a JSON object"},
	} {
		var v outer
		err := DecodeJSON([]byte(c.body), &v)
		if fault.FieldOf(err) != c.field || !strings.Contains(fault.MessageOf(err), c.message) || fault.Code(err) != fault.Invalid {
			t.Errorf("%s: got field %q message %q, want %q containing %q", c.body, fault.FieldOf(err), fault.MessageOf(err), c.field, c.message)
		}
	}
}

func TestDecodeJSONTakesKnownKeys(t *testing.T) {
	var v outer
	body := `{"ID":"a","name":"n","when":{"event":"e","NPS_MAX":6,"where":{"anything":{"goes":1}},"delay":"48h"},"byKey":{"k":{"event":"z"}},"list":null}`
	if err := DecodeJSON([]byte(body), &v); err != nil {
		t.Fatal(err)
	}
	if v.ID != "a" || v.When.Max == nil || *v.When.Max != 6 || time.Duration(v.When.Delay) != 48*time.Hour || v.ByKey["k"].Event != "z" {
		t.Fatalf("decoded %+v", v)
	}
	var m map[string]any
	if err := DecodeJSON([]byte(`{"free":{"x":1}}`), &m); err != nil {
		t.Fatal(err)
	}
}
