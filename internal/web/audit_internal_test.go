package web

import (
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
