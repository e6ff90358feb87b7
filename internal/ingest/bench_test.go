package ingest

import (
	"encoding/json"
	"testing"
	"time"
)

// BenchmarkNormalize measures validating and normalising one realistic
// message, the per-event CPU cost of ingestion before the append.
//
//	go test -run '^$' -bench Normalize ./internal/ingest
func BenchmarkNormalize(b *testing.B) {
	raw := []byte(`{"type":"track","userId":"user-00042","event":"Order Completed","messageId":"m-1",
		"timestamp":"2025-06-01T10:00:00.000Z","context":{"channel":"web","library":{"name":"analytics.js","version":"2.1"},
		"ip":"10.1.2.3","userAgent":"Mozilla/5.0 (X11; Linux x86_64)","page":{"path":"/checkout","url":"https://shop.example/checkout"}},
		"properties":{"order_id":"ord-1","total":107.5,"revenue":87.4,"tax":20.1,"currency":"EUR","products":[
		{"product_id":"p0101","sku":"NW-01-011","name":"Ridge 2 Tent","category":"Tents","price":160.3,"quantity":1},
		{"product_id":"p0502","sku":"NW-05-018","name":"Canister Stove","category":"Cooking","price":33.15,"quantity":2}]}}`)
	rq := &request{source: Source{ID: "src_bench"}, received: time.Now(), ip: "127.0.0.1"}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		var m map[string]json.RawMessage
		if err := json.Unmarshal(raw, &m); err != nil {
			b.Fatal(err)
		}
		if _, err := rq.normalize("", m); err != nil {
			b.Fatal(err)
		}
	}
}
