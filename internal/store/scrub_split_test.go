package store_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/cxloop/cxloop/internal/store"
)

// secure_delete leaves, now and then, an old copy of a cell that a page
// split moved in a page's free space; Scrub finds what it is asked to
// erase in the file and rewrites the file then.
func TestScrubFindsWhatPageSplitsLeft(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cxloop.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Writer().ExecContext(ctx, `CREATE TABLE keys (id INTEGER PRIMARY KEY, k TEXT)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Writer().ExecContext(ctx, `CREATE INDEX keys_k ON keys (k)`); err != nil {
		t.Fatal(err)
	}
	// Keys inserted in random order split the index's pages as they fill.
	key := func(i int) string { return fmt.Sprintf("needle-%05d", i) }
	for _, i := range rand.New(rand.NewSource(1)).Perm(20000) {
		if _, err := db.Writer().ExecContext(ctx, `INSERT INTO keys (k) VALUES ($1)`, key(i)); err != nil {
			t.Fatal(err)
		}
	}
	var gone []string
	for i := 0; i < 20000; i += 97 {
		if _, err := db.Writer().ExecContext(ctx, `DELETE FROM keys WHERE k = $1`, key(i)); err != nil {
			t.Fatal(err)
		}
		gone = append(gone, key(i))
	}
	left := func() (out []string) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range gone {
			if bytes.Contains(b, []byte(g)) {
				out = append(out, g)
			}
		}
		return out
	}
	if err := db.Scrub(ctx); err != nil { // nothing to look for: the WAL only
		t.Fatal(err)
	}
	// The case Scrub is for: with these keys SQLite leaves one behind.
	if n := len(left()); n == 0 {
		t.Fatalf("after a checkpoint none of %d deleted keys is in the file: the test no longer shows a leftover", len(gone))
	} else {
		t.Logf("after a checkpoint, %d of %d deleted keys are still in the file", n, len(gone))
	}
	if err := db.Scrub(ctx, gone...); err != nil {
		t.Fatal(err)
	}
	if l := left(); len(l) > 0 {
		t.Fatalf("after Scrub, %v are still in the file", l)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM keys`).Scan(&n); err != nil || n != 20000-len(gone) {
		t.Fatalf("rows kept: %d, %v; want %d", n, err, 20000-len(gone))
	}
}
