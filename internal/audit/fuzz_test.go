package audit_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/audit"
)

// Redact takes any bytes: what it keeps is JSON, and no member named
// password keeps its value.
func FuzzRedact(f *testing.F) {
	for _, s := range []string{`{"password":"x"}`, `[{"url":"https://u:p@h/p?q=1"}]`, `"s"`, `1e999`, `{"a":{"Write_Key":"k"}}`, `nul`, ``} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out := audit.Redact(in)
		if out == nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("Redact(%q) = %q, not JSON", in, out)
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		var walk func(any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					if strings.EqualFold(k, "password") && e != audit.Redacted {
						t.Fatalf("Redact(%q) kept a password: %q", in, out)
					}
					walk(e)
				}
			case []any:
				for _, e := range x {
					walk(e)
				}
			}
		}
		walk(v)
	})
}
