package match

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
)

// decode turns a JSON text into the values filters and events are made of.
func decode(t testing.TB, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func TestLookup(t *testing.T) {
	m := decode(t, `{"order": {"shipping": {"country": "DE", "fee": 4.5}, "items": [{"sku": "a"}]},
		"note": null, "plan": "pro", "a.b": "dotted key", "": "empty key"}`).(map[string]any)
	shipping := m["order"].(map[string]any)["shipping"]
	for _, c := range []struct {
		name   string
		path   []string
		want   any
		wantOK bool
	}{
		{"top-level string", []string{"plan"}, "pro", true},
		{"nested two levels", []string{"order", "shipping", "country"}, "DE", true},
		{"nested number", []string{"order", "shipping", "fee"}, 4.5, true},
		{"an object on the way", []string{"order", "shipping"}, shipping, true},
		{"present null", []string{"note"}, nil, true},
		{"missing top-level key", []string{"tier"}, nil, false},
		{"missing nested key", []string{"order", "shipping", "city"}, nil, false},
		{"through a string", []string{"plan", "name"}, nil, false},
		{"through a null", []string{"note", "x"}, nil, false},
		{"arrays are not indexed", []string{"order", "items", "0"}, nil, false},
		{"a key containing a dot is one step", []string{"a.b"}, "dotted key", true},
		{"a split dotted key is two steps", []string{"a", "b"}, nil, false},
		{"the empty key", []string{""}, "empty key", true},
		{"keys are case-sensitive", []string{"Plan"}, nil, false},
	} {
		got, ok := Lookup(m, c.path)
		if ok != c.wantOK || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: Lookup(%q) = %v, %v; want %v, %v", c.name, c.path, got, ok, c.want, c.wantOK)
		}
	}
	if got, ok := Lookup(m, nil); !ok || !reflect.DeepEqual(got, m) {
		t.Errorf("the empty path is the object itself: got %v, %v", got, ok)
	}
	if _, ok := Lookup(nil, []string{"plan"}); ok {
		t.Error("a nil object has no fields")
	}
}

func TestNumber(t *testing.T) {
	for _, c := range []struct {
		in     any
		want   float64
		wantOK bool
	}{
		{3.5, 3.5, true},
		{float64(-2), -2, true},
		{7, 7, true},
		{"42", 42, true},
		{"-1.5e2", -150, true},
		{"0.25", 0.25, true},
		{"007", 7, true},
		{" 7", 0, false}, // not trimmed: a padded string is text
		{"7 ", 0, false},
		{"", 0, false},
		{"seven", 0, false},
		{"1,5", 0, false},
		{"1e400", 0, false}, // out of range
		{"NaN", 0, false},   // not a number, whatever ParseFloat says
		{"Nan", 0, false},   // a name, not a number
		{"Inf", 0, false},
		{"-infinity", 0, false},
		{true, 0, false},
		{nil, 0, false},
		{[]any{1.0}, 0, false},
		{map[string]any{"v": 1.0}, 0, false},
	} {
		got, ok := Number(c.in)
		if ok != c.wantOK || (ok && got != c.want) {
			t.Errorf("Number(%#v) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.wantOK)
		}
	}
}

func TestEqual(t *testing.T) {
	for _, c := range []struct {
		a, b any
		want bool
	}{
		{1.0, "1", true},     // a number and a numeric string
		{"1.0", "1", true},   // two numeric strings compare as numbers
		{"01", 1, true},      // leading zeros do not matter to numbers
		{"1e2", 100.0, true}, // nor does notation
		{1.0, 2.0, false},
		{"2", "3", false},
		{"abc", "ABC", true}, // text ignores case
		{"Äpfel", "äPFEL", true},
		{"abc", "abd", false},
		{"web", "web ", false}, // text is not trimmed
		{true, "true", true},
		{true, "TRUE", true},
		{false, "true", false},
		{nil, nil, true},
		{"Nan", "nan", true}, // a name that ParseFloat would read as NaN is text
		{"Nan", "Nan", true},
		{"inf", "Infinity", false}, // text, not the same infinity
		{"10", "ten", false},
	} {
		if got := Equal(c.a, c.b); got != c.want {
			t.Errorf("Equal(%#v, %#v) = %v, want %v", c.a, c.b, got, c.want)
		}
		if got := Equal(c.b, c.a); got != c.want {
			t.Errorf("Equal(%#v, %#v) = %v, want %v (symmetry)", c.b, c.a, got, c.want)
		}
	}
}

func TestMatches(t *testing.T) {
	for _, c := range []struct {
		name    string
		v       any
		present bool
		filter  string // JSON, as a rule or trigger stores it
		want    bool
	}{
		{"value equal", "web", true, `"web"`, true},
		{"value equal ignoring case", "web", true, `"WEB"`, true},
		{"value differs", "email", true, `"web"`, false},
		{"value against a missing field", nil, false, `"web"`, false},
		{"number against a numeric string", "5", true, `5`, true},
		{"numeric string against a number", 5.0, true, `"5.0"`, true},
		{"bool value", true, true, `true`, true},

		{"list: one of", "sms", true, `["email", "sms"]`, true},
		{"list: one of, ignoring case", "SMS", true, `["email", "sms"]`, true},
		{"list: none of", "web", true, `["email", "sms"]`, false},
		{"list: missing field", nil, false, `["email", "sms"]`, false},
		{"list: empty", "web", true, `[]`, false},
		{"list: numbers", "3", true, `[1, 2, 3]`, true},

		{"exists true, present", "x", true, `{"exists": true}`, true},
		{"exists true, missing", nil, false, `{"exists": true}`, false},
		{"exists false, missing", nil, false, `{"exists": false}`, true},
		{"exists false, present", "x", true, `{"exists": false}`, false},
		{"exists true, present null", nil, true, `{"exists": true}`, true},

		{"eq", "DE", true, `{"eq": "de"}`, true},
		{"eq, differs", "FR", true, `{"eq": "de"}`, false},
		{"eq, missing", nil, false, `{"eq": "de"}`, false},
		{"ne", "FR", true, `{"ne": "DE"}`, true},
		{"ne, equal", "de", true, `{"ne": "DE"}`, false},
		{"ne, missing", nil, false, `{"ne": "DE"}`, true},

		{"gt", 9.0, true, `{"gt": 8}`, true},
		{"gt, equal", 8.0, true, `{"gt": 8}`, false},
		{"gt, numeric string", "9", true, `{"gt": 8}`, true},
		{"gt, string limit", 9.0, true, `{"gt": "8"}`, true},
		{"gt, text value", "nine", true, `{"gt": 8}`, false},
		{"gt, text limit", 9.0, true, `{"gt": "eight"}`, false},
		{"gt, missing", nil, false, `{"gt": -1}`, false},
		{"gte, equal", 8.0, true, `{"gte": 8}`, true},
		{"gte, less", 7.99, true, `{"gte": 8}`, false},
		{"lt", -1.0, true, `{"lt": 0}`, true},
		{"lt, equal", 0.0, true, `{"lt": 0}`, false},
		{"lte, equal", 6.0, true, `{"lte": 6}`, true},
		{"lte, more", 6.5, true, `{"lte": 6}`, false},
		{"range inside", 7.5, true, `{"gte": 7, "lte": 8}`, true},
		{"range below", 6.0, true, `{"gte": 7, "lte": 8}`, false},
		{"range above", 9.0, true, `{"gte": 7, "lte": 8}`, false},
		{"NaN-looking text is not a number", "NaN", true, `{"lte": 10}`, false},

		{"in", "B", true, `{"in": ["a", "b"]}`, true},
		{"in, none", "c", true, `{"in": ["a", "b"]}`, false},
		{"in, missing", nil, false, `{"in": ["a", "b"]}`, false},
		{"in a single value", "a", true, `{"in": "A"}`, true},
		{"in and ne together", "b", true, `{"in": ["a", "b"], "ne": "a"}`, true},
		{"in and ne together, excluded", "a", true, `{"in": ["a", "b"], "ne": "a"}`, false},

		{"unknown operator matches nothing", "x", true, `{"like": "x"}`, false},
		{"unknown operator beside a true one", 5.0, true, `{"gt": 1, "between": [1, 9]}`, false},
		{"no operators: nothing to fail", "x", true, `{}`, true},
		{"no operators, missing field", nil, false, `{}`, true},
	} {
		if got := Matches(c.v, c.present, decode(t, c.filter)); got != c.want {
			t.Errorf("%s: Matches(%#v, %v, %s) = %v, want %v", c.name, c.v, c.present, c.filter, got, c.want)
		}
	}
}

// Filters read event fields at nested paths: Lookup and Matches together,
// as survey triggers and rules use them.
func TestLookupThenMatches(t *testing.T) {
	props := decode(t, `{"order": {"total": "120.50", "country": "de"}, "items": 3}`).(map[string]any)
	for _, c := range []struct {
		path   []string
		filter string
		want   bool
	}{
		{[]string{"order", "total"}, `{"gte": 100}`, true},
		{[]string{"order", "total"}, `{"gt": 120.5}`, false},
		{[]string{"order", "country"}, `["DE", "AT", "CH"]`, true},
		{[]string{"order", "coupon"}, `{"exists": false}`, true},
		{[]string{"order", "coupon"}, `{"ne": "SPRING"}`, true},
		{[]string{"order", "coupon"}, `"SPRING"`, false},
		{[]string{"items"}, `{"lt": "4"}`, true},
		{[]string{"items", "count"}, `{"exists": true}`, false},
	} {
		v, ok := Lookup(props, c.path)
		if got := Matches(v, ok, decode(t, c.filter)); got != c.want {
			t.Errorf("%q against %s = %v, want %v", c.path, c.filter, got, c.want)
		}
	}
}

func TestNumberIsFinite(t *testing.T) {
	for _, s := range []string{"NaN", "nan", "+Inf", "-Inf", "inf", "Infinity", "1e999"} {
		if v, ok := Number(s); ok || math.IsNaN(v) || math.IsInf(v, 0) {
			t.Errorf("Number(%q) = %v, %v: not a finite number", s, v, ok)
		}
	}
}
