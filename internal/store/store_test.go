package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

func TestStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t.Run("migrate is idempotent", func(t *testing.T) {
			applied, err := db.Migrate(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(applied) != 0 {
				t.Fatalf("second migrate applied %v", applied)
			}
		})
		t.Run("numbered placeholders and returning", func(t *testing.T) {
			var got string
			err := db.Tx(ctx, func(tx *store.Tx) error {
				return tx.QueryRowContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)
					ON CONFLICT (key) DO UPDATE SET value = $2 RETURNING value`, "k", "v1").Scan(&got)
			})
			if err != nil || got != "v1" {
				t.Fatalf("got %q, %v", got, err)
			}
			if err := db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, "k").Scan(&got); err != nil || got != "v1" {
				t.Fatalf("read back %q, %v", got, err)
			}
		})
		t.Run("rollback on error", func(t *testing.T) {
			boom := errors.New("boom")
			err := db.Tx(ctx, func(tx *store.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('gone', 'x')`); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("err = %v", err)
			}
			var n int
			_ = db.QueryRowContext(ctx, `SELECT COUNT(*) FROM settings WHERE key = 'gone'`).Scan(&n)
			if n != 0 {
				t.Fatal("rolled-back row is visible")
			}
		})
		t.Run("commits are synced, recomputable ones are not waited for", func(t *testing.T) {
			before := db.WALSyncs()
			if err := db.TxRecomputable(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('r', 'x')`)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM settings WHERE key = 'r'`).Scan(&n); err != nil || n != 1 {
				t.Fatalf("recomputable commit not visible: %d %v", n, err)
			}
			if db.Engine != store.SQLite {
				return
			}
			if got := db.WALSyncs(); got != before {
				t.Fatalf("a recomputable commit synced the WAL (%d -> %d syncs)", before, got)
			}
			if err := db.Tx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('s', 'x')`)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if got := db.WALSyncs(); got != before+1 {
				t.Fatalf("a commit synced the WAL %d times, want once", got-before)
			}
			// Commits waiting for the disk at once share syncs.
			before = db.WALSyncs()
			const writers = 16
			var wg sync.WaitGroup
			errs := make(chan error, writers)
			for i := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs <- db.Tx(ctx, func(tx *store.Tx) error {
						_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, 'x')`, fmt.Sprintf("w%d", i))
						return err
					})
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				if err != nil {
					t.Fatal(err)
				}
			}
			if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM settings WHERE key LIKE 'w%'`).Scan(&n); err != nil || n != writers {
				t.Fatalf("%d of %d concurrent commits visible (%v)", n, writers, err)
			}
			if got := db.WALSyncs() - before; got < 1 || got > writers {
				t.Fatalf("%d concurrent commits took %d syncs", writers, got)
			}
		})
		t.Run("unique violation", func(t *testing.T) {
			err := db.Tx(ctx, func(tx *store.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ('k', 'again')`)
				return err
			})
			if !store.IsUniqueViolation(err) {
				t.Fatalf("err = %v, want unique violation", err)
			}
		})
	})
}

// On SQLite committed pages reach the database file from the WAL within
// about a second, by the checkpointer, though the writer itself copies
// them back only when the WAL has grown large.
func TestCheckpointer(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ck.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE filler (n INTEGER PRIMARY KEY, s TEXT)`); err != nil {
			return err
		}
		for i := range 2000 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO filler (n, s) VALUES ($1, $2)`, i, strings.Repeat("x", 500)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() > 512<<10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the database file holds %d bytes 5 s after a commit of 1 MB: the WAL was not checkpointed", st.Size())
		}
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM filler`).Scan(&n); err != nil || n != 2000 {
		t.Fatalf("rows: %d %v", n, err)
	}
}
