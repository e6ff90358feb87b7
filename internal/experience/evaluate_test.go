package experience_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/experience"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// EvaluateRecommend reads a MovieLens folder and reports every standard
// model on each user's latest interaction.
func TestEvaluateRecommend(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("userId,movieId,rating,timestamp\n")
	n := 0
	for u := 1; u <= 30; u++ {
		for m := 1; m <= 8; m++ {
			if (u+m)%3 != 0 {
				fmt.Fprintf(&b, "%d,%d,4.0,%d\n", u, m+(u%2)*10, 1000+m)
				n++
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "ratings.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := experience.EvaluateRecommend(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.Interactions != n || len(r.Models) != 5 || len(r.Validation) != 5 {
		t.Fatalf("%d interactions (want %d), %d models", r.Interactions, n, len(r.Models))
	}
	for i, name := range []string{"popularity", "item-knn", "als", "sequence", "ease-"} {
		m := r.Models[i]
		if !strings.HasPrefix(m.Name, name) || m.Users != 30 || m.HR10 < 0 || m.HR10 > 1 || m.NDCG10 > m.HR10 || m.Coverage <= 0 || m.Coverage > 1 || m.TrainSeconds < 0 {
			t.Errorf("model %d: %+v, want %s on 30 users", i, m, name)
		}
	}
	if _, err := experience.EvaluateRecommend(t.TempDir()); err == nil {
		t.Fatal("a folder without ratings.csv was evaluated")
	}
}

// The same evaluation on a store's own interactions, by customer: each
// customer with two interests or more is ranked on their latest; a
// returned product is no interest to hold out.
func TestEvaluateRecommendOwn(t *testing.T) {
	s, _ := apptest.StartAt(t, storetest.DSN(t, "sqlite"), apptest.Epoch)
	var batch []any
	for c := range 12 {
		user := fmt.Sprintf("ev-%02d", c)
		for k := range 2 + c%3 {
			batch = append(batch, map[string]any{"type": "track", "userId": user, "event": "Product Viewed",
				"timestamp":  apptest.Epoch.Add(time.Duration(-100+10*k+c) * time.Hour).Format(time.RFC3339),
				"properties": map[string]any{"product_id": fmt.Sprintf("p-%d", (c+k)%5)}})
		}
	}
	// One viewer only: nothing left to train on once the view is held out.
	batch = append(batch, map[string]any{"type": "track", "userId": "ev-once", "event": "Product Viewed", "properties": map[string]any{"product_id": "p-1"}})
	s.MustSend("batch", map[string]any{"batch": batch})
	s.Sync()
	r, err := s.Exp.EvaluateRecommendOwn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Models) != 5 || len(r.Validation) != 5 || r.Interactions < 12*2 {
		t.Fatalf("%d interactions, %d models", r.Interactions, len(r.Models))
	}
	for _, m := range r.Models {
		if m.Users != 12 || m.HR10 < 0 || m.HR10 > 1 || m.NDCG10 > m.HR10 {
			t.Errorf("%+v, want 12 customers ranked", m)
		}
	}
}
