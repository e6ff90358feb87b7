package web

import "testing"

// An address wraps after its @ and slashes, and stays escaped.
func TestBreakable(t *testing.T) {
	for in, want := range map[string]string{
		"ana.lima@example.com": "ana.lima@<wbr>example.com",
		".hidden<b>":           ".hidden&lt;b&gt;",
		"https://x.io/a":       "https:/<wbr>/<wbr>x.io/<wbr>a",
		"":                     "",
	} {
		if got := string(breakable(in)); got != want {
			t.Errorf("breakable(%q) = %q, want %q", in, got, want)
		}
	}
}
