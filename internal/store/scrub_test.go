package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/cxloop/cxloop/internal/store"
)

// What a database deletes is zeroed as it is freed, and Scrub leaves no old
// page in the WAL; Vacuum cleans a file written without secure_delete.
func TestDeletedTextLeavesTheFiles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cxloop.db")
	needle := []byte("needle-7f3a9c-customer@example.org")
	inFiles := func() bool {
		for _, f := range []string{path, path + "-wal"} {
			if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, needle) {
				return true
			}
		}
		return false
	}
	// An earlier version's file: the row deleted without secure_delete.
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=journal_mode(WAL)&_pragma=secure_delete(0)")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)`, `INSERT INTO notes (body) VALUES ('` + string(needle) + `'), ('keep')`,
		`DELETE FROM notes WHERE body LIKE 'needle%'`, `PRAGMA wal_checkpoint(TRUNCATE)`} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	if !inFiles() {
		t.Fatal("without secure_delete the deleted text should stay in the file")
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Vacuum(ctx); err != nil {
		t.Fatal(err)
	}
	if inFiles() {
		t.Fatal("after Vacuum the deleted text is still in the files")
	}
	// From now on a delete zeroes what it frees; Scrub empties the WAL.
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO notes (body) VALUES ($1)`, string(needle))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Scrub(ctx); err != nil {
		t.Fatal(err)
	}
	if !inFiles() {
		t.Fatal("the inserted text should be in the file")
	}
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM notes WHERE body = $1`, string(needle))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.Scrub(ctx); err != nil {
		t.Fatal(err)
	}
	if inFiles() {
		t.Fatal("after a delete and Scrub the text is still in the files")
	}
}
