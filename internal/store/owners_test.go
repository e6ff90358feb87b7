package store_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/store"
)

// sideways are the reads of another package's table allowed to remain,
// each with what should replace it: none now. The test fails when one is
// added and when one listed here is gone (remove it from the list).
var sideways = map[string]string{}

var (
	createTable = regexp.MustCompile(`(?i)CREATE TABLE (?:IF NOT EXISTS )?([a-z_]+)`)
	dropTable   = regexp.MustCompile(`(?i)DROP TABLE (?:IF EXISTS )?([a-z_]+)`)
	literal     = regexp.MustCompile("`[^`]*`|\"(?:[^\"\\\\]|\\\\.)*\"")
	tableRef    = regexp.MustCompile(`(?i)\b(?:FROM|JOIN|INTO|UPDATE|TABLE|EXISTS)\s+([a-z_]+)`)
)

// Each table the migrations create has one owner, and only its owner
// names it in SQL (outside tests), but for the reads listed in sideways.
func TestTablesHaveOwners(t *testing.T) {
	created := map[string]bool{}
	sqls, err := filepath.Glob("migrations/*.sql")
	if err != nil || len(sqls) == 0 {
		t.Fatalf("migrations: %v", err)
	}
	sort.Strings(sqls)
	for _, f := range sqls {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range createTable.FindAllStringSubmatch(string(b), -1) {
			created[strings.ToLower(m[1])] = true
		}
		for _, m := range dropTable.FindAllStringSubmatch(string(b), -1) {
			delete(created, strings.ToLower(m[1]))
		}
	}
	for table := range created {
		if store.OwnerOf(table) == "" {
			t.Errorf("table %s has no owner in store.TableOwners", table)
		}
	}
	for table := range store.TableOwners {
		if !created[table] {
			t.Errorf("store.TableOwners names %s, which no migration creates", table)
		}
	}

	// The SQL of every package, by package (internal/x/y is x/y).
	found := map[string]bool{}
	for _, root := range []string{"../../internal", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			rel, _ := filepath.Rel("../../internal", filepath.Dir(path))
			pkg := filepath.ToSlash(rel)
			if strings.HasPrefix(pkg, "..") {
				pkg = "cmd"
			}
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, lit := range literal.FindAllString(string(b), -1) {
				for _, m := range tableRef.FindAllStringSubmatch(lit, -1) {
					table := strings.ToLower(m[1])
					owner := store.OwnerOf(table)
					if owner == "" || !created[table] && !strings.HasPrefix(table, "river_") {
						continue // not a table (a word after FROM in prose, a CTE)
					}
					top := strings.SplitN(pkg, "/", 2)[0]
					if top == owner || pkg == "store" {
						continue
					}
					key := top + " reads " + table
					found[key] = true
					if _, ok := sideways[key]; !ok {
						t.Errorf("%s: %s names %s, owned by %s: ask the owner's Go API or react to its events", path, top, table, owner)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for key := range sideways {
		if !found[key] {
			t.Errorf("%q no longer happens: remove it from sideways", key)
		}
	}
}
