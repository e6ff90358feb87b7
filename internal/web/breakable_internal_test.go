package web

import (
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/analytics"
)

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

// A survey link only this machine or its network reaches is named, so the
// page can warn before it is printed on receipts.
func TestLocalHost(t *testing.T) {
	for link, want := range map[string]string{
		"http://localhost:8080/s/x": "localhost", "http://127.0.0.1:18090/s/x": "127.0.0.1", "http://[::1]/s/x": "::1",
		"http://10.0.0.5/s/x": "10.0.0.5", "http://192.168.1.2/s/x": "192.168.1.2", "https://cx.example.com/s/x": "", "http://93.184.216.34/s": "",
	} {
		if got := localHost(link); got != want {
			t.Errorf("localHost(%q) = %q, want %q", link, got, want)
		}
	}
}

// A kind of channel made of one channel alone keeps its row; the
// channel's own row, which would say the same, is left out.
func TestWithoutEchoes(t *testing.T) {
	in := []analytics.ChannelGroup{
		{Group: "in_person", Channels: []string{"store"}}, {Group: "online", Channels: []string{"web", "mobile_app"}},
		{Group: "mobile_app", Channels: []string{"mobile_app"}}, {Group: "store", Channels: []string{"store"}}, {Group: "web", Channels: []string{"web"}},
	}
	var got []string
	for _, g := range withoutEchoes(in) {
		got = append(got, g.Group)
	}
	if strings.Join(got, ",") != "in_person,online,mobile_app,web" {
		t.Errorf("rows %v", got)
	}
}

// A merge's reason reads as words; one in another form stays as it is.
func TestMergeWords(t *testing.T) {
	for in, want := range map[string]string{
		"identify demo-01496-0011 links user_id user-01496 (cus_abc123) with anonymous_id anon 7 (cus_def456)": "an identify call named both user id user-01496 and anonymous id anon 7",
		"track m-1 links email a@b.c (cus_x1) with phone +3519 (cus_y2)":                                       "a track call named both email a@b.c and phone +3519",
		"merged by hand": "merged by hand",
	} {
		if got := mergeWords(in); got != want {
			t.Errorf("mergeWords(%q) = %q, want %q", in, got, want)
		}
	}
}
