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
	for k, w := range map[string]string{"order_id": "order", "survey_name": "survey", "nps": "NPS", "paymentMethod": "payment method", "plan": "plan"} {
		if l := label(k); l != w {
			t.Errorf("label(%q) = %q, want %q", k, l, w)
		}
	}
}
