package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the advisory-lock key that serialises migrating nodes.
const migrationLock = 0x63786c6f6f70 // "cxloop"

// A migration file is NNNN_name.sql for both engines, or
// NNNN_name.sqlite.sql / NNNN_name.postgres.sql where they must differ;
// it is recorded under NNNN_name.
type migration struct{ name, file string }

func (db *DB) pending() ([]migration, error) {
	entries, err := fs.ReadDir(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		base := strings.TrimSuffix(e.Name(), ".sql")
		name, engine, split := strings.Cut(base, ".")
		if split && Engine(engine) != db.Engine {
			continue
		}
		out = append(out, migration{name: name, file: "migrations/" + e.Name()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// Migrate applies every embedded migration not yet recorded, each in its own
// transaction, and returns the names it applied.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	if err := db.Tx(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`)
		return err
	}); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	all, err := db.pending()
	if err != nil {
		return nil, err
	}
	var applied []string
	for _, m := range all {
		err := db.Tx(ctx, func(tx *Tx) error {
			if err := db.Lock(ctx, tx, migrationLock); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE name = $1`, m.name).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			body, err := migrations.ReadFile(m.file)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", m.file, err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)`, m.name, Now()); err != nil {
				return err
			}
			applied = append(applied, m.name)
			return nil
		})
		if err != nil {
			return applied, fmt.Errorf("migrate: %w", err)
		}
	}
	return applied, nil
}
