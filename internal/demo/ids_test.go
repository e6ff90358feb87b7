package demo

import (
	"testing"
	"time"
)

// Each order and each survey response the demo sends has an id of its
// own: two orders under one id would count once in revenue, two answers
// under one response id once in scores.
func TestIDsAreUnique(t *testing.T) {
	end := time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC)
	seen := map[string]map[string]int{"order_id": {}, "response_id": {}}
	err := Generate(Options{Customers: 2000, Seed: 42, End: end, Surveys: Surveys{PostOrder: "po", Relationship: "rel", Pulse: "pu"}}, func(m Message) error {
		props, _ := m["properties"].(map[string]any)
		switch m["event"] {
		case "Order Completed":
			if id, _ := props["order_id"].(string); id != "" {
				seen["order_id"][id]++
			}
		case "Survey Responded":
			if id, _ := props["response_id"].(string); id != "" {
				seen["response_id"][id]++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for kind, ids := range seen {
		if len(ids) < 1000 {
			t.Errorf("only %d %ss", len(ids), kind)
		}
		dup := 0
		for id, n := range ids {
			if n > 1 {
				if dup++; dup <= 3 {
					t.Errorf("%s %s sent %d times", kind, id, n)
				}
			}
		}
		if dup > 0 {
			t.Errorf("%d %ss sent more than once", dup, kind)
		}
	}
}
