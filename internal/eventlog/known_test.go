package eventlog

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// Known names every event of the spec's tables in docs/events.md, and
// nothing else.
func TestKnownIsTheSpec(t *testing.T) {
	b, err := os.ReadFile("../../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	spec := string(b)
	spec = spec[strings.Index(spec, "## Customer events"):]
	name := regexp.MustCompile("`([A-Z][A-Za-z-]*(?: [A-Z][A-Za-z-]*)+)`")
	var documented []string
	for _, line := range strings.Split(spec, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		for _, m := range name.FindAllStringSubmatch(strings.Split(line, "|")[1], -1) {
			if !slices.Contains(documented, m[1]) {
				documented = append(documented, m[1])
			}
		}
	}
	if len(documented) < 40 {
		t.Fatalf("found only %d event names in docs/events.md", len(documented))
	}
	for _, n := range documented {
		if !slices.Contains(Known, n) {
			t.Errorf("%q is in docs/events.md, not in Known", n)
		}
	}
	for _, n := range Known {
		if !slices.Contains(documented, n) {
			t.Errorf("%q is in Known, not in docs/events.md", n)
		}
	}
}
