package web

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
)

// A period is the time a report covers and the one it is compared with,
// read from the page's URL so that a view can be shared:
//
//	period=7d|30d|90d   the last 7, 30 or 90 days up to now
//	period=quarter      this calendar quarter so far
//	period=custom       from=YYYY-MM-DD to=YYYY-MM-DD, whole UTC days, both included
//	period=all          everything, no comparison
//	compare=previous    the period of the same length just before (the default);
//	                    for this quarter, the same days of the quarter before
//	compare=year        the same dates a year earlier
//	compare=none        no comparison
type period struct {
	Key     string
	Compare string
	// From and To bound the period (To excluded); zero for all time.
	From, To time.Time
	// CFrom and CTo bound the comparison period; zero when there is none.
	CFrom, CTo time.Time
	// FromDay and ToDay are the custom inputs' values (ToDay included).
	FromDay, ToDay string
	// Keep are the page's other query parameters, carried by the picker.
	Keep url.Values
	// Plain: the page reads its period without comparing (no comparison
	// in the picker).
	Plain bool
	// bounded: the page has no "all time" and always compares (the home).
	bounded bool
	// Problem says why the period asked for could not be read; the page
	// then covers its default period and says so beside the picker.
	Problem string
}

var periodKeys = []struct{ Key, Label string }{
	{"7d", "Last 7 days"}, {"30d", "Last 30 days"}, {"90d", "Last 90 days"},
	{"quarter", "This quarter"}, {"custom", "Custom"}, {"all", "All time"},
}

var compareKeys = []struct{ Key, Label string }{
	{"previous", "previous period"}, {"year", "same period last year"}, {"none", "nothing"},
}

const day = 24 * time.Hour

// parsePeriod reads ?period=, ?from=, ?to= and ?compare= (def is the
// period when none is asked for); the page's other parameters are kept
// for the picker's form.
func parsePeriod(q url.Values, now time.Time, def string) (period, error) {
	now = now.UTC()
	p := period{Key: q.Get("period"), Compare: q.Get("compare"), Keep: url.Values{}}
	for k, v := range q {
		switch k {
		case "period", "from", "to", "compare", "page", "after", "before":
		default:
			p.Keep[k] = v
		}
	}
	if p.Key == "" {
		p.Key = def
		if q.Get("from") != "" || q.Get("to") != "" {
			p.Key = "custom"
		}
	}
	if p.Compare == "" {
		p.Compare = "previous"
	}
	// A rolling period runs up to now, and takes what happened at now.
	end := now.Add(time.Millisecond)
	switch p.Key {
	case "7d", "30d", "90d":
		n, _ := strconv.Atoi(strings.TrimSuffix(p.Key, "d"))
		p.To = end
		p.From = end.Add(-time.Duration(n) * day)
	case "quarter":
		first := time.Month((int(now.Month())-1)/3*3 + 1)
		p.From, p.To = time.Date(now.Year(), first, 1, 0, 0, 0, 0, time.UTC), end
	case "custom":
		from, err := time.Parse(time.DateOnly, strings.TrimSpace(q.Get("from")))
		if err != nil {
			return p, fault.Field("from", "from is a date, YYYY-MM-DD")
		}
		to, err := time.Parse(time.DateOnly, strings.TrimSpace(q.Get("to")))
		if err != nil {
			return p, fault.Field("to", "to is a date, YYYY-MM-DD")
		}
		if to.Before(from) {
			return p, fault.Field("to", "to must not be before from")
		}
		p.From, p.To = from, to.Add(day)
		if p.To.After(end) && p.From.Before(end) {
			p.To = end // days still to come hold nothing: the period runs to now
		}
	case "all": // nothing to compare with
	default:
		return p, fault.Field("period", "period must be 7d, 30d, 90d, quarter, custom or all")
	}
	switch p.Compare {
	case "previous", "year":
		if !p.Bounded() {
			break
		}
		if p.Compare == "year" {
			p.CFrom, p.CTo = p.From.AddDate(-1, 0, 0), p.To.AddDate(-1, 0, 0)
			break
		}
		if p.Key == "quarter" {
			// This quarter so far against the same days of the quarter
			// before: 1 Oct – 20 Nov against 1 Jul – 20 Aug.
			p.CFrom = p.From.AddDate(0, -3, 0)
			p.CTo = p.CFrom.Add(p.To.Sub(p.From))
			if p.CTo.After(p.From) {
				p.CTo = p.From
			}
			break
		}
		p.CFrom, p.CTo = p.From.Add(-p.To.Sub(p.From)), p.From
	case "none":
	default:
		return p, fault.Field("compare", "compare must be previous, year or none")
	}
	if !p.From.IsZero() {
		p.FromDay, p.ToDay = p.From.Format(time.DateOnly), p.To.Add(-time.Nanosecond).Format(time.DateOnly)
	}
	return p, nil
}

// Compared reports whether the period has a comparison.
func (p period) Compared() bool { return !p.CFrom.IsZero() }

// Bounded reports whether the period is not all time.
func (p period) Bounded() bool { return !p.From.IsZero() }

// Days is the period's length in whole days (0 for all time).
func (p period) Days() int { return int(p.To.Sub(p.From).Round(day) / day) }

// Words is the period in words: "2026-09-03 – 2026-12-01".
func (p period) Words() string {
	if !p.Bounded() {
		return "all time"
	}
	return spanWords(p.From, p.To)
}

// CompareWords is the comparison period in words.
func (p period) CompareWords() string {
	if !p.Compared() {
		return ""
	}
	return spanWords(p.CFrom, p.CTo)
}

func spanWords(from, to time.Time) string {
	last := to.Add(-time.Nanosecond)
	if from.Format(time.DateOnly) == last.Format(time.DateOnly) {
		return from.Format("2 Jan 2006")
	}
	return from.Format("2 Jan 2006") + " – " + last.Format("2 Jan 2006")
}

// Query is the period's own parameters, to add to a link that keeps it.
func (p period) Query() string {
	v := p.Values()
	if p.Compare != "previous" && p.Key != "all" {
		v.Set("compare", p.Compare)
	}
	return v.Encode()
}

// withoutComparison is the period of a page that compares nothing with
// another period: its picker offers no comparison and says none.
func (p period) withoutComparison() period {
	p.Compare, p.CFrom, p.CTo, p.Plain = "none", time.Time{}, time.Time{}, true
	return p
}

// Values are the period's own parameters (not its comparison): the key,
// and a custom period's days.
func (p period) Values() url.Values {
	v := url.Values{"period": {p.Key}}
	if p.Key == "custom" {
		v.Set("from", p.FromDay)
		v.Set("to", p.ToDay)
	}
	return v
}

// SpanQuery is the period as an API's ?from=&to= (RFC 3339); empty for
// all time.
func (p period) SpanQuery() template.URL {
	// Safe as it stands: encoded here, so the template must not encode it again.
	return template.URL(p.Span().Encode())
}

// Span is the period as an API's from and to (RFC 3339); none for all time.
func (p period) Span() url.Values {
	if !p.Bounded() {
		return url.Values{}
	}
	return url.Values{"from": {p.From.Format(time.RFC3339)}, "to": {p.To.Format(time.RFC3339)}}
}

// Options are the picker's choices.
func (p period) Options() []struct{ Key, Label string } {
	if p.bounded {
		return periodKeys[:len(periodKeys)-1]
	}
	return periodKeys
}

// CompareOptions are the picker's comparison choices.
func (p period) CompareOptions() []struct{ Key, Label string } {
	if p.bounded {
		return compareKeys[:len(compareKeys)-1]
	}
	return compareKeys
}

// parseBoundedPeriod is parsePeriod for a page that always covers a period
// and compares it (the home): no "all time", no "compare with nothing".
func parseBoundedPeriod(q url.Values, now time.Time, def string) (period, error) {
	p, err := parsePeriod(q, now, def)
	p.bounded = true
	switch {
	case err != nil:
	case p.Key == "all":
		err = fault.Field("period", "period must be 7d, 30d, 90d, quarter or custom")
	case p.Compare == "none":
		err = fault.Field("compare", "compare must be previous or year")
	}
	return p, err
}

// readPeriod is the period a page covers: the one its URL asks for, or,
// when that cannot be read (a date that is not one, a range that ends
// before it starts), the page's default with the reason in Problem, so
// the page still answers and its picker says what to correct.
func readPeriod(q url.Values, now time.Time, def string, bounded bool) period {
	parse := parsePeriod
	if bounded {
		parse = parseBoundedPeriod
	}
	p, err := parse(q, now, def)
	if err == nil {
		return p
	}
	p, _ = parse(p.Keep, now, def) // the page's other parameters, read as ever
	instead := strings.ToLower(periodLabel(def))
	if strings.HasPrefix(instead, "last") {
		instead = "the " + instead
	}
	p.Problem = fault.MessageOf(err) + "; showing " + instead + " instead."
	return p
}

func periodLabel(key string) string {
	for _, k := range periodKeys {
		if k.Key == key {
			return k.Label
		}
	}
	return key
}
