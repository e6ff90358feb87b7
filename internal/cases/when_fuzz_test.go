package cases

import (
	"context"
	"encoding/json"
	"maps"
	"strconv"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
)

// whenFaults is what the rule language's documentation refuses in a
// condition, field by field: no event, a score limit off its question's
// scale, an unknown sentiment, a filter on anything but channel, contact
// or properties.<name>.
func whenFaults(w When) map[string]bool {
	faults := map[string]bool{}
	if strings.TrimSpace(w.Event) == "" {
		faults["when.event"] = true
	}
	for _, l := range []struct {
		field  string
		v      *float64
		lo, hi float64
	}{{"when.nps_max", w.NPSMax, 0, 10}, {"when.nps_min", w.NPSMin, 0, 10}, {"when.csat_max", w.CSATMax, 1, 5}, {"when.ces_min", w.CESMin, 1, 7}} {
		if l.v != nil && !(*l.v >= l.lo && *l.v <= l.hi) {
			faults[l.field] = true
		}
	}
	switch w.Sentiment {
	case "", "positive", "neutral", "negative":
	default:
		faults["when.sentiment"] = true
	}
	for k := range w.Where {
		if k != "channel" && k != "contact" && !strings.HasPrefix(k, "properties.") {
			faults["when.where."+k] = true
		}
	}
	return faults
}

// isNumber is whether s reads as a number (then filters compare it as one).
func isNumber(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

// A rule's condition, as JSON the API takes: validation refuses exactly the
// bad ones, naming a field at fault; a good one decides the same after it is
// stored (as JSON) and read back; no event fires a rule it fails a
// condition of (a score past its limit, a missing score, another channel);
// and dropping a condition never stops a rule from firing.
func FuzzRuleWhen(f *testing.F) {
	for _, c := range []struct{ when, props, channel string }{
		{`{"event": "Survey Responded", "nps_max": 6}`, `{"nps": 3}`, "email"},
		{`{"event": "Survey Responded", "nps_min": 9, "nps_max": 10}`, `{"nps": "9"}`, "web"},
		{`{"event": "Order Completed", "where": {"properties.total": {"gte": 100}, "channel": ["web", "app"]}}`, `{"total": "120.5"}`, "web"},
		{`{"event": "Complaint Submitted", "sentiment": "negative"}`, `{"text": "terrible service, never again"}`, "email"},
		{`{"event": "Product Returned", "reason": "damaged", "where": {"properties.order.country": "DE"}}`,
			`{"reason": "Damaged", "order": {"country": "de"}}`, "web"},
		{`{"event": "Survey Responded", "csat_max": 2, "ces_min": 5}`, `{"csat": "1", "ces": 6}`, "app"},
		{`{"event": "Order Completed", "where": {"contact": {"exists": true}, "properties.coupon": {"ne": "STAFF"}}}`, `{"coupon": null}`, "pos"},
		{`{"event": " "}`, `{}`, ""},
		{`{"event": "x", "nps_max": 11}`, `{"nps": 11}`, "web"},
		{`{"event": "x", "csat_max": 0.5}`, `{}`, "web"},
		{`{"event": "x", "where": {"total": 5}}`, `{"total": 5}`, "web"},
		{`{"event": "x", "sentiment": "angry"}`, `{"sentiment": "angry"}`, "web"},
	} {
		f.Add(c.when, c.props, c.channel)
	}
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, when, propsJSON, channel string) {
		var w When
		var props map[string]any
		if json.Unmarshal([]byte(when), &w) != nil || json.Unmarshal([]byte(propsJSON), &props) != nil {
			return
		}
		// Validate reads the database only for what a rule does (then); a
		// rule that does nothing is refused before, so no service is needed.
		err := (&Rule{Name: "fuzz", When: w}).Validate(ctx, nil)
		faults := whenFaults(w)
		field := fault.FieldOf(err)
		if fault.Code(err) != fault.Invalid {
			t.Fatalf("Validate(%s) = %v, want an invalid field", when, err)
		}
		if len(faults) == 0 {
			if field != "then" {
				t.Fatalf("Validate(%s) refuses %q; only then (no action) is at fault", when, field)
			}
		} else if !faults[field] {
			t.Fatalf("Validate(%s) names %q; the fields at fault are %v", when, field, faults)
		}
		if len(faults) > 0 {
			return
		}

		e := &eventlog.Event{Type: eventlog.Track, Event: w.Event, Channel: channel, Contact: "ann@example.com"}
		fired := fires(w, e, props)

		b, err := json.Marshal(w)
		if err != nil {
			t.Fatal(err)
		}
		var stored When
		if err := json.Unmarshal(b, &stored); err != nil {
			t.Fatalf("the stored condition %s does not read back: %v", b, err)
		}
		if fires(stored, e, props) != fired {
			t.Fatalf("condition %s fires %v; stored and read back (%s), %v", when, fired, b, !fired)
		}
		if !fired {
			return
		}

		for _, l := range []struct {
			prop  string
			limit *float64
			max   bool
		}{{"nps", w.NPSMax, true}, {"nps", w.NPSMin, false}, {"csat", w.CSATMax, true}, {"ces", w.CESMin, false}} {
			if l.limit == nil {
				continue
			}
			v, ok := props[l.prop]
			if !ok {
				t.Fatalf("condition %s fired on %s, which has no %s", when, propsJSON, l.prop)
			}
			if x, ok := v.(float64); ok && (l.max && x > *l.limit || !l.max && x < *l.limit) {
				t.Fatalf("condition %s fired on %s = %v", when, l.prop, x)
			}
		}
		if s, ok := w.Where["channel"].(string); ok && !isNumber(s) && !isNumber(channel) && !strings.EqualFold(s, channel) {
			t.Fatalf("condition %s fired on channel %q", when, channel)
		}

		// Fewer conditions fire at least as often.
		var looser []When
		for k := range w.Where {
			l := w
			l.Where = maps.Clone(w.Where)
			delete(l.Where, k)
			looser = append(looser, l)
		}
		for _, drop := range []func(*When){
			func(l *When) { l.NPSMax = nil }, func(l *When) { l.NPSMin = nil }, func(l *When) { l.CSATMax = nil },
			func(l *When) { l.CESMin = nil }, func(l *When) { l.Sentiment = "" }, func(l *When) { l.Reason = "" },
		} {
			l := w
			drop(&l)
			looser = append(looser, l)
		}
		for _, l := range looser {
			if !fires(l, e, props) {
				lb, _ := json.Marshal(l)
				t.Fatalf("condition %s fires on %s, but the looser %s does not", when, propsJSON, lb)
			}
		}
	})
}

// The fuzz target's valid seeds, decided by hand: each condition and an
// event it fires on, or not.
func TestFires(t *testing.T) {
	for _, c := range []struct {
		when, props, channel string
		want                 bool
	}{
		{`{"event": "Survey Responded", "nps_max": 6}`, `{"nps": 3}`, "email", true},
		{`{"event": "Survey Responded", "nps_max": 6}`, `{"nps": 7}`, "email", false},
		{`{"event": "Survey Responded", "nps_max": 6}`, `{}`, "email", false}, // no score, no detractor
		{`{"event": "Survey Responded", "nps_min": 9, "nps_max": 10}`, `{"nps": "9"}`, "web", true},
		{`{"event": "Order Completed", "where": {"properties.total": {"gte": 100}, "channel": ["web", "app"]}}`, `{"total": "120.5"}`, "web", true},
		{`{"event": "Order Completed", "where": {"properties.total": {"gte": 100}, "channel": ["web", "app"]}}`, `{"total": "120.5"}`, "pos", false},
		{`{"event": "Order Completed", "where": {"properties.total": {"gte": 100}, "channel": ["web", "app"]}}`, `{"total": 99}`, "app", false},
		{`{"event": "Product Returned", "reason": "damaged", "where": {"properties.order.country": "DE"}}`, `{"reason": "Damaged", "order": {"country": "de"}}`, "web", true},
		{`{"event": "Product Returned", "reason": "damaged"}`, `{"reason": "too small"}`, "web", false},
		{`{"event": "Survey Responded", "csat_max": 2, "ces_min": 5}`, `{"csat": "1", "ces": 6}`, "app", true},
		{`{"event": "Survey Responded", "csat_max": 2, "ces_min": 5}`, `{"csat": "1", "ces": 4}`, "app", false},
		{`{"event": "Order Completed", "where": {"contact": {"exists": true}, "properties.coupon": {"ne": "STAFF"}}}`, `{"coupon": null}`, "pos", true},
		{`{"event": "Order Completed", "where": {"properties.coupon": {"ne": "STAFF"}}}`, `{"coupon": "staff"}`, "pos", false},
		{`{"event": "Complaint Submitted", "sentiment": "negative"}`, `{"sentiment": "Negative"}`, "email", true},
		{`{"event": "Complaint Submitted", "sentiment": "negative"}`, `{"sentiment": "positive"}`, "email", false},
	} {
		var w When
		var props map[string]any
		if err := json.Unmarshal([]byte(c.when), &w); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(c.props), &props); err != nil {
			t.Fatal(err)
		}
		e := &eventlog.Event{Type: eventlog.Track, Event: w.Event, Channel: c.channel, Contact: "ann@example.com"}
		if got := fires(w, e, props); got != c.want {
			t.Errorf("%s on %s via %s: fires %v, want %v", c.when, c.props, c.channel, got, c.want)
		}
	}
}
