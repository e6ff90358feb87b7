package match

import (
	"encoding/json"
	"math"
	"testing"
)

// Matches takes any field value and any filter (as JSON decodes them)
// without panicking, and obeys the filter language's laws: a value equals
// itself; equality is symmetric; a list is "any of"; an object of operators
// is "all of"; ne is the negation of eq; exists says presence; gt/lte and
// lt/gte split the numbers; and a missing field's value does not matter.
func FuzzMatches(f *testing.F) {
	for _, c := range []struct {
		value, filter string
		present       bool
	}{
		{`"web"`, `"WEB"`, true},
		{`"sms"`, `["email", "sms"]`, true},
		{`"9"`, `{"gte": 7, "lte": 8}`, true},
		{`120.5`, `{"gt": "100"}`, true},
		{`null`, `{"exists": false}`, false},
		{`"DE"`, `{"ne": "de", "in": ["DE", "AT"]}`, true},
		{`"Nan"`, `"Nan"`, true},
		{`"Infinity"`, `{"lt": 0}`, true},
		{`{"tier": "gold"}`, `{"eq": {"tier": "gold"}}`, true},
		{`true`, `{"in": [true, "yes"]}`, true},
		{`3`, `{"like": 3}`, true},
		{`"x"`, `{}`, false},
	} {
		f.Add(c.value, c.filter, c.present)
	}
	f.Fuzz(func(t *testing.T, value, filter string, present bool) {
		var v, w any
		if json.Unmarshal([]byte(value), &v) != nil || json.Unmarshal([]byte(filter), &w) != nil {
			return
		}
		got := Matches(v, present, w)
		if again := Matches(v, present, w); again != got {
			t.Fatalf("Matches(%s, %v, %s) is %v, then %v", value, present, filter, got, again)
		}
		if !Equal(v, v) {
			t.Fatalf("%s does not equal itself", value)
		}
		if !present && Matches(nil, false, w) != got {
			t.Fatalf("a missing field matches %s or not by the value it does not have (%s)", filter, value)
		}

		switch w := w.(type) {
		case []any:
			anyOf := false
			for _, x := range w {
				if Equal(v, x) != Equal(x, v) {
					t.Fatalf("Equal(%s, %v) is not symmetric", value, x)
				}
				anyOf = anyOf || Equal(v, x)
			}
			if got != (present && anyOf) {
				t.Fatalf("Matches(%s, %v, %s) = %v, want present and any of the list: %v", value, present, filter, got, present && anyOf)
			}
		case map[string]any:
			all := true
			for op, x := range w {
				one := Matches(v, present, map[string]any{op: x})
				all = all && one
				eq := Matches(v, present, map[string]any{"eq": x})
				if ne := Matches(v, present, map[string]any{"ne": x}); ne == eq {
					t.Fatalf("%s against %v: eq and ne are both %v", value, x, eq)
				}
				if eq && !present {
					t.Fatalf("a missing field is eq %v", x)
				}
				if ex := Matches(v, present, map[string]any{"exists": true}); ex != present {
					t.Fatalf("exists true is %v for a field present %v", ex, present)
				}
				if ex := Matches(v, present, map[string]any{"exists": false}); ex == present {
					t.Fatalf("exists false is %v for a field present %v", ex, present)
				}
				cmp := map[string]bool{}
				for _, op := range []string{"gt", "gte", "lt", "lte"} {
					cmp[op] = Matches(v, present, map[string]any{op: x})
				}
				a, okA := Number(v)
				b, okB := Number(x)
				if okA && (math.IsNaN(a) || math.IsInf(a, 0)) || okB && (math.IsNaN(b) || math.IsInf(b, 0)) {
					t.Fatalf("Number reads %s or %v as %v, %v: not a finite number", value, x, a, b)
				}
				if present && okA && okB {
					if cmp["gt"] == cmp["lte"] || cmp["lt"] == cmp["gte"] || cmp["gte"] != (cmp["gt"] || a == b) {
						t.Fatalf("%s (%v) against %v (%v): gt, gte, lt, lte = %v", value, a, x, b, cmp)
					}
				} else if cmp["gt"] || cmp["gte"] || cmp["lt"] || cmp["lte"] {
					t.Fatalf("%s (present %v) against %v: not two numbers, yet compared: %v", value, present, x, cmp)
				}
			}
			if got != all {
				t.Fatalf("Matches(%s, %v, %s) = %v, but its operators one by one give %v", value, present, filter, got, all)
			}
		default:
			if Equal(v, w) != Equal(w, v) {
				t.Fatalf("Equal(%s, %s) is not symmetric", value, filter)
			}
			if got != (present && Equal(v, w)) {
				t.Fatalf("Matches(%s, %v, %s) = %v, want %v", value, present, filter, got, present && Equal(v, w))
			}
		}
	})
}
