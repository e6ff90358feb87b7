package experience_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/experience"
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
	if r.Interactions != n || len(r.Models) != 4 || len(r.Validation) != 4 {
		t.Fatalf("%d interactions (want %d), %d models", r.Interactions, n, len(r.Models))
	}
	for i, name := range []string{"popularity", "item-knn", "als", "sequence"} {
		m := r.Models[i]
		if m.Name != name || m.Users != 30 || m.HR10 < 0 || m.HR10 > 1 || m.NDCG10 > m.HR10 || m.Coverage <= 0 || m.Coverage > 1 || m.TrainSeconds < 0 {
			t.Errorf("model %d: %+v, want %s on 30 users", i, m, name)
		}
	}
	if _, err := experience.EvaluateRecommend(t.TempDir()); err == nil {
		t.Fatal("a folder without ratings.csv was evaluated")
	}
}
