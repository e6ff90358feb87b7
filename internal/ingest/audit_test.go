package ingest_test

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/ingest"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A rotation is noted with the source before and after, without either key.
func TestRotationIsNotedWithoutKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		sources := ingest.NewSources(db, nil)
		src, old, err := sources.Create(t.Context(), "Shop", "", "")
		if err != nil {
			t.Fatal(err)
		}
		ctx, change := audit.WithChange(t.Context())
		r := httptest.NewRequestWithContext(ctx, "POST", "/api/v1/sources/"+src.ID+"/rotate", strings.NewReader(`{"overlap": "1h"}`))
		r.SetPathValue("id", src.ID)
		w := httptest.NewRecorder()
		ingest.NewAPI(db, sources, nil).RotateSource(w, r)
		var out struct{ WriteKey string }
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		if w.Code != 200 || out.WriteKey == "" || change.Action != "rotate" || change.Resource != "source" || change.ResourceID != src.ID {
			t.Fatalf("rotate: %d %+v", w.Code, change)
		}
		noted, _ := json.Marshal([]any{change.Before, change.After})
		for _, k := range []string{old, out.WriteKey} {
			if strings.Contains(string(noted), k) {
				t.Fatalf("the audit note holds a write key: %s", noted)
			}
		}
		if a := change.After.(ingest.Source); a.OldKeyUntil == 0 {
			t.Fatalf("after: %+v", a)
		}
	})
}
