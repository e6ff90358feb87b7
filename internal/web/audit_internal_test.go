package web

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"testing"
)

// Every console form that changes something is classified in one place
// (consoleChanges): whether its entries keep the form's fields or ids only.
func TestEveryConsoleChangeIsClassified(t *testing.T) {
	src, err := os.ReadFile("web.go")
	if err != nil {
		t.Fatal(err)
	}
	routes := regexp.MustCompile(`mux\.Handle(?:Func)?\("(POST /[^"]*|GET /[^"]*/export)"`).FindAllStringSubmatch(string(src), -1)
	if len(routes) < 10 {
		t.Fatalf("found only %d POST routes in web.go", len(routes))
	}
	for _, m := range routes {
		if m[1] == "POST /login" { // recorded by the sign-in handler itself
			continue
		}
		if _, ok := consoleChanges[m[1]]; !ok {
			t.Errorf("%s is not in consoleChanges (internal/web/audit.go)", m[1])
		}
	}
}

// An audited change reads field by field in words: only what changed,
// no JSON, no field that every change moves.
func TestAuditChangesInWords(t *testing.T) {
	before := json.RawMessage(`{"name": "Post-order", "status": "active", "sample_rate": 1, "languages": ["en"], "updatedAt": "2026-11-01T00:00:00Z", "owner": "service"}`)
	after := json.RawMessage(`{"name": "Post-order", "status": "paused", "sample_rate": 0.5, "languages": ["en", "fr"], "updatedAt": "2026-11-02T00:00:00Z", "owner": "service", "webhook": {"url": "https://example.com/x"}}`)
	got := auditChanges(before, after)
	want := []fieldChange{{"languages", "en", "en, fr"}, {"sample rate", "1", "0.5"}, {"status", "active", "paused"}, {"webhook", "—", "url: https://example.com/x"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("changes:\n got %v\nwant %v", got, want)
	}
	if created := auditChanges(nil, json.RawMessage(`{"name": "care"}`)); len(created) != 1 || created[0] != (fieldChange{"name", "—", "care"}) {
		t.Errorf("a creation: %v", created)
	}
	if none := auditChanges(before, before); len(none) != 0 {
		t.Errorf("no change: %v", none)
	}
	if scalar := auditChanges(json.RawMessage(`"a"`), json.RawMessage(`"b"`)); len(scalar) != 1 || scalar[0] != (fieldChange{"", "a", "b"}) {
		t.Errorf("not an object: %v", scalar)
	}
}
