package web

import (
	"encoding/json"
	"testing"
)

// Traits and event properties read as words, never as JSON.
func TestTraitsInWords(t *testing.T) {
	var traits map[string]any
	if err := json.Unmarshal([]byte(`{"first_name": "Ada", "createdAt": "2026-01-02", "vip": true, "age": 36.5,
		"address": {"city": "Lisbon", "country": "PT", "street": null}, "tags": ["tents", "stoves"],
		"products": [{"product_id": "p1", "name": "Ridge tent", "quantity": 2}, {"product_id": "p2", "name": "Stove", "quantity": 1}]}`), &traits); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"first name": "Ada", "created at": "2026-01-02", "vip": "yes", "age": "36.5",
		"address": "city: Lisbon · country: PT", "tags": "tents, stoves", "products": "2 × Ridge tent, Stove"}
	got := map[string]string{}
	for _, kv := range sortedTraits(traits) {
		got[kv.K] = kv.V
	}
	if len(got) != len(want) {
		t.Fatalf("traits %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %q, want %q", k, got[k], v)
		}
	}
	for v, want := range map[string]string{"2026-05-04T09:46:55.425Z": "2026-05-04 09:46", "2026-05-04T11:46:00+02:00": "2026-05-04 09:46", "2026-05-04": "2026-05-04", "T-shirt": "T-shirt"} {
		if got := format(v); got != want {
			t.Errorf("format(%q) = %q, want %q", v, got, want)
		}
	}
	for v, want := range map[float64]string{0.0022302777777777776: "0", 12.345: "12.35", 36.5: "36.5", 1000: "1000"} {
		if got := format(v); got != want {
			t.Errorf("format(%v) = %q, want %q", v, got, want)
		}
	}
	for id, internal := range map[string]bool{"case_7ec81f810627d8e932dc": true, "rule_n4a3ksbokhp5frd5iy5a": true, "ord-00012": false, "tent-2": false} {
		if internalID.MatchString(id) != internal {
			t.Errorf("%s read as an internal id: %v", id, !internal)
		}
	}
	for k, w := range map[string]string{"order_id": "order", "survey_name": "survey", "nps": "NPS", "paymentMethod": "payment method", "plan": "plan"} {
		if l := label(k); l != w {
			t.Errorf("label(%q) = %q, want %q", k, l, w)
		}
	}
}

// A count reads with its noun, singular for one.
func TestCounted(t *testing.T) {
	for _, c := range []struct {
		n    any
		noun string
		want string
	}{{1, "answer", "1 answer"}, {0, "answer", "0 answers"}, {1204, "customer", "1,204 customers"}, {int64(1), "rating", "1 rating"},
		{2, "repurchase", "2 repurchases"}, {3, "delivery", "3 deliveries"}, {2, "day", "2 days"}, {2, "process", "2 processes"}, {1.0, "point", "1 point"}} {
		if got := counted(c.n, c.noun); got != c.want {
			t.Errorf("counted(%v, %q) = %q, want %q", c.n, c.noun, got, c.want)
		}
	}
}
