package web

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
)

func TestParsePeriod(t *testing.T) {
	now := time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC)
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		query                string
		from, to, cfrom, cto string // RFC 3339; "" for zero
		words, compareWords  string
	}{
		{"", "2026-08-22T15:30:00.001Z", "2026-11-20T15:30:00.001Z", "2026-05-24T15:30:00.001Z", "2026-08-22T15:30:00.001Z", "22 Aug 2026 – 20 Nov 2026", "24 May 2026 – 22 Aug 2026"},
		{"period=7d", "2026-11-13T15:30:00.001Z", "2026-11-20T15:30:00.001Z", "2026-11-06T15:30:00.001Z", "2026-11-13T15:30:00.001Z", "13 Nov 2026 – 20 Nov 2026", "6 Nov 2026 – 13 Nov 2026"},
		{"period=30d&compare=year", "2026-10-21T15:30:00.001Z", "2026-11-20T15:30:00.001Z", "2025-10-21T15:30:00.001Z", "2025-11-20T15:30:00.001Z", "21 Oct 2026 – 20 Nov 2026", "21 Oct 2025 – 20 Nov 2025"},
		{"period=quarter", "2026-10-01T00:00:00Z", "2026-11-20T15:30:00.001Z", "2026-07-01T00:00:00Z", "2026-08-20T15:30:00.001Z", "1 Oct 2026 – 20 Nov 2026", "1 Jul 2026 – 20 Aug 2026"},
		{"period=quarter&compare=none", "2026-10-01T00:00:00Z", "2026-11-20T15:30:00.001Z", "", "", "1 Oct 2026 – 20 Nov 2026", ""},
		{"period=custom&from=2026-02-01&to=2026-02-28", "2026-02-01T00:00:00Z", "2026-03-01T00:00:00Z", "2026-01-04T00:00:00Z", "2026-02-01T00:00:00Z", "1 Feb 2026 – 28 Feb 2026", "4 Jan 2026 – 31 Jan 2026"},
		{"from=2026-02-01&to=2026-02-01", "2026-02-01T00:00:00Z", "2026-02-02T00:00:00Z", "2026-01-31T00:00:00Z", "2026-02-01T00:00:00Z", "1 Feb 2026", "31 Jan 2026"},
		{"period=all", "", "", "", "", "all time", ""},
	} {
		q, _ := url.ParseQuery(c.query)
		p, err := parsePeriod(q, now, "90d")
		if err != nil {
			t.Fatalf("%s: %v", c.query, err)
		}
		for _, f := range []struct {
			name string
			got  time.Time
			want string
		}{{"from", p.From, c.from}, {"to", p.To, c.to}, {"compare from", p.CFrom, c.cfrom}, {"compare to", p.CTo, c.cto}} {
			if (f.want == "" && !f.got.IsZero()) || (f.want != "" && !f.got.Equal(at(f.want))) {
				t.Errorf("%s: %s is %v, want %q", c.query, f.name, f.got, f.want)
			}
		}
		if p.Words() != c.words || p.CompareWords() != c.compareWords {
			t.Errorf("%s: in words %q, %q; want %q, %q", c.query, p.Words(), p.CompareWords(), c.words, c.compareWords)
		}
		// The period's own query gives the same period back.
		again, err := parsePeriod(mustQuery(t, p.Query()), now, "7d")
		if err != nil || !again.From.Equal(p.From) || !again.To.Equal(p.To) || !again.CFrom.Equal(p.CFrom) {
			t.Errorf("%s: %s reads back as %v–%v (%v)", c.query, p.Query(), again.From, again.To, err)
		}
	}
	for query, field := range map[string]string{
		"period=5d": "period", "period=custom&from=2026-13-01&to=2026-12-01": "from", "period=custom&from=2026-02-01": "to",
		"from=2026-03-01&to=2026-02-01": "to", "period=30d&compare=decade": "compare",
	} {
		q, _ := url.ParseQuery(query)
		_, err := parsePeriod(q, now, "90d")
		if fault.Code(err) != fault.Invalid || !strings.Contains(err.Error(), field) {
			t.Errorf("%s: %v, want an error naming %s", query, err, field)
		}
	}
	// Other parameters are kept for the picker, the period's own are not.
	q, _ := url.ParseQuery("survey=srv_1&period=7d&page=3&sentiment=negative")
	p, _ := parsePeriod(q, now, "90d")
	if p.Keep.Encode() != "sentiment=negative&survey=srv_1" {
		t.Errorf("kept %q", p.Keep.Encode())
	}
}

// This quarter is compared with the same days of the quarter before, never
// reaching into this one when the quarter before is shorter.
func TestQuarterComparesTheQuarterBefore(t *testing.T) {
	for now, want := range map[string][2]string{
		"2026-06-30T23:00:00Z": {"2026-01-01T00:00:00Z", "2026-04-01T00:00:00Z"}, // 91 days against 90
		"2026-02-10T12:00:00Z": {"2025-10-01T00:00:00Z", "2025-11-10T12:00:00.001Z"},
		"2026-12-31T00:00:00Z": {"2026-07-01T00:00:00Z", "2026-09-30T00:00:00.001Z"},
	} {
		n, _ := time.Parse(time.RFC3339, now)
		p, err := parsePeriod(url.Values{"period": {"quarter"}}, n, "90d")
		if err != nil {
			t.Fatal(err)
		}
		if got := [2]string{p.CFrom.Format(time.RFC3339Nano), p.CTo.Format(time.RFC3339Nano)}; got != want {
			t.Errorf("%s: compared with %v, want %v", now, got, want)
		}
	}
}

// A period that cannot be read leaves the page on its default period,
// with the reason, and keeps the page's other parameters.
func TestReadPeriodFallsBack(t *testing.T) {
	now := time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC)
	q := mustQuery(t, "survey=srv_1&period=custom&from=2026-03-01&to=2026-02-01")
	p := readPeriod(q, now, "90d", false)
	if p.Key != "90d" || p.Problem != "to must not be before from; showing the last 90 days instead." || p.Keep.Get("survey") != "srv_1" {
		t.Errorf("read as %q (%q), kept %q", p.Key, p.Problem, p.Keep.Encode())
	}
	if p := readPeriod(mustQuery(t, "period=all"), now, "30d", true); p.Key != "30d" || !strings.HasPrefix(p.Problem, "period must be") || !p.Compared() {
		t.Errorf("the home asked for all time: %q (%q)", p.Key, p.Problem)
	}
	if p := readPeriod(mustQuery(t, "period=7d"), now, "90d", false); p.Key != "7d" || p.Problem != "" {
		t.Errorf("a good period: %q (%q)", p.Key, p.Problem)
	}
}

// A custom period that ends after today runs to now, and is compared with
// as many days before it.
func TestCustomPeriodEndsNow(t *testing.T) {
	now := time.Date(2026, 11, 20, 15, 30, 0, 0, time.UTC)
	p, err := parsePeriod(mustQuery(t, "period=custom&from=2026-11-01&to=2027-01-31"), now, "90d")
	if err != nil {
		t.Fatal(err)
	}
	end := now.Add(time.Millisecond)
	if !p.To.Equal(end) || p.ToDay != "2026-11-20" || !p.CTo.Equal(p.From) || !p.CFrom.Equal(p.From.Add(-end.Sub(p.From))) {
		t.Errorf("1 Nov – 31 Jan read on 20 Nov: %v – %v (to %s), compared with %v – %v", p.From, p.To, p.ToDay, p.CFrom, p.CTo)
	}
}

func mustQuery(t *testing.T, s string) url.Values {
	t.Helper()
	q, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return q
}
