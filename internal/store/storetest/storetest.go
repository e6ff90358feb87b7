// Package storetest gives tests fresh, migrated databases on every engine:
// SQLite always, and PostgreSQL whenever CXLOOP_TEST_POSTGRES names a server
// (make test always sets it).
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/cxloop/cxloop/internal/store"
)

// Engines lists the engines this test run covers.
func Engines() []store.Engine {
	if os.Getenv("CXLOOP_TEST_POSTGRES") != "" {
		return []store.Engine{store.SQLite, store.Postgres}
	}
	return []store.Engine{store.SQLite}
}

// Each runs fn as a subtest once per engine, each with a fresh migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(string(e), func(t *testing.T) { fn(t, Open(t, e)) })
	}
}

// EachDSN runs fn once per engine with the address of a fresh, empty database.
func EachDSN(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(string(e), func(t *testing.T) { fn(t, DSN(t, e)) })
	}
}

// Open returns a fresh migrated database on engine e, closed when t ends.
func Open(t testing.TB, e store.Engine) *store.DB {
	t.Helper()
	return OpenDSN(t, DSN(t, e))
}

// OpenDSN opens and migrates the database at dsn, closed when t ends;
// opening one dsn twice gives two nodes of one installation.
func OpenDSN(t testing.TB, dsn string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return db
}

// DSN returns the address of a fresh, empty database on engine e: a file in
// the test's temporary folder, or a new PostgreSQL schema dropped at the end.
func DSN(t testing.TB, e store.Engine) string {
	t.Helper()
	if e == store.SQLite {
		return filepath.Join(t.TempDir(), "cxloop.db")
	}
	admin := os.Getenv("CXLOOP_TEST_POSTGRES")
	if admin == "" {
		t.Skip("CXLOOP_TEST_POSTGRES is not set")
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		_, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
