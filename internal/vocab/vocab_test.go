package vocab

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	for s, want := range map[string]time.Duration{"": 0, "48h": 48 * time.Hour, " 14d ": 14 * 24 * time.Hour,
		"2d12h": 60 * time.Hour, "30m": 30 * time.Minute} {
		if d, err := ParseDuration(s); err != nil || d != want {
			t.Errorf("%q: %v %v, want %v", s, d, err, want)
		}
	}
	for _, s := range []string{"xd", "14days", "soon"} {
		if _, err := ParseDuration(s); err == nil {
			t.Errorf("%q read", s)
		}
	}
	var d struct{ A, B Duration }
	if err := json.Unmarshal([]byte(`{"A": "14d", "B": 90}`), &d); err != nil || d.A != Duration(14*24*time.Hour) || d.B != Duration(90*time.Second) {
		t.Fatalf("%+v %v", d, err)
	}
	if b, _ := json.Marshal(d); string(b) != `{"A":"14d","B":"1m30s"}` {
		t.Errorf("%s", b)
	}
}

func TestTextIn(t *testing.T) {
	x := Text{"fa": "سلام", "en": "Hello", "de": "Hallo"}
	for _, c := range [][3]string{{"fa", "en", "سلام"}, {"pt", "en", "Hello"}, {"pt", "es", "Hallo"}} {
		if v := x.In(c[0], c[1]); v != c[2] {
			t.Errorf("In(%s, %s) = %q, want %q", c[0], c[1], v, c[2])
		}
	}
	if v := (Text{}).In("en", "en"); v != "" {
		t.Errorf("empty: %q", v)
	}
}
