// Package match tests event fields against the filters that survey
// triggers and rules are written in: a value (equal), a list (any of) or an
// object of operators eq, ne, gt, gte, lt, lte, in, exists.
//
// It imports nothing from cxloop.
package match

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Lookup follows a dotted path into decoded JSON objects.
func Lookup(m map[string]any, path []string) (any, bool) {
	var v any = m
	for _, p := range path {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = obj[p]; !ok {
			return nil, false
		}
	}
	return v, true
}

// Matches tests a value (present tells whether the field exists) against a filter.
func Matches(v any, present bool, want any) bool {
	switch w := want.(type) {
	case []any:
		for _, x := range w {
			if present && Equal(v, x) {
				return true
			}
		}
		return false
	case map[string]any:
		for op, x := range w {
			ok := false
			switch op {
			case "exists":
				b, _ := x.(bool)
				ok = present == b
			case "eq":
				ok = present && Equal(v, x)
			case "ne":
				ok = !present || !Equal(v, x)
			case "in":
				ok = Matches(v, present, x)
			case "gt", "gte", "lt", "lte":
				a, okA := Number(v)
				b, okB := Number(x)
				if present && okA && okB {
					switch op {
					case "gt":
						ok = a > b
					case "gte":
						ok = a >= b
					case "lt":
						ok = a < b
					case "lte":
						ok = a <= b
					}
				}
			}
			if !ok {
				return false
			}
		}
		return true
	}
	return present && Equal(v, want)
}

// Equal compares numbers as numbers and anything else as text, ignoring case.
func Equal(a, b any) bool {
	if fa, ok := Number(a); ok {
		if fb, ok := Number(b); ok {
			return fa == fb
		}
	}
	return strings.EqualFold(fmt.Sprint(a), fmt.Sprint(b))
}

// Number reads a JSON number or a numeric string. A string is a number
// only when it is a finite one: "NaN" and "Inf" (also a name, "Nan") are text.
func Number(v any) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case int:
		return float64(v), true
	case string:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, false
		}
		return f, true
	}
	return 0, false
}
