// Package shareddata finds the shared data sets (../shared/data seen from
// the project root) for tests that check models against published
// results.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the folder of the named data set: under CXLOOP_SHARED_DATA
// when set, else the first shared/data found going up from the working
// directory. Without it the test is skipped, or fails when
// CXLOOP_REQUIRE_DATA is set.
func Dir(t testing.TB, name string) string {
	t.Helper()
	if dir := os.Getenv("CXLOOP_SHARED_DATA"); dir != "" {
		return filepath.Join(dir, name)
	}
	wd, _ := os.Getwd()
	for dir := wd; ; dir = filepath.Dir(dir) {
		p := filepath.Join(dir, "shared", "data", name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if filepath.Dir(dir) == dir {
			break
		}
	}
	if os.Getenv("CXLOOP_REQUIRE_DATA") != "" {
		t.Fatalf("the shared data set %s is not beside the project", name)
	}
	t.Skipf("the shared data set %s is not beside the project", name)
	return ""
}
