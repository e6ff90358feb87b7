package profile_test

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

func plainID(kind, value string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + value))
	return "cus_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:])[:20])
}

func idOf(t *testing.T, s *apptest.Server, ref string) string {
	t.Helper()
	var c struct{ ID string }
	if code := s.API("GET", "/api/v1/customers/"+ref, nil, &c); code != 200 {
		t.Fatalf("GET %s: %d", ref, code)
	}
	return c.ID
}

// A new installation derives customer ids with a secret of its own: the id
// of an email cannot be computed from the email, two installations give
// the same person different ids, and a replay rebuilds the same ones.
func TestCustomerIDsNeedTheInstallationsKey(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.MustSend("identify", map[string]any{"userId": "u-1", "traits": map[string]any{"email": "one@example.org"}})
		s.Sync()
		id := idOf(t, s, "u-1")
		if id == plainID("user_id", "u-1") || !strings.HasPrefix(id, "cus_") || len(id) != 24 {
			t.Fatalf("id %s is the plain hash of the identity", id)
		}
		other := apptest.Start(t, storetest.DSN(t, s.DB.Engine))
		other.MustSend("identify", map[string]any{"userId": "u-1"})
		other.Sync()
		if idOf(t, other, "u-1") == id {
			t.Fatal("two installations gave one identity the same id")
		}
		ctx := context.Background()
		for _, c := range s.Runner.Consumers() {
			if c.Name() == "profile" {
				if _, err := s.Runner.Replay(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
		}
		s.Sync()
		if got := idOf(t, s, "one@example.org"); got != id {
			t.Fatalf("after a replay the id is %s, was %s", got, id)
		}
	})
}

// An installation that had profiles before the key existed keeps deriving
// ids as it did, so that its ids, and every row naming them, stay valid.
func TestOlderInstallationsKeepTheirIDs(t *testing.T) {
	dsn := storetest.DSN(t, "sqlite")
	db := storetest.OpenDSN(t, dsn)
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO customers (id, traits, trait_times, first_seen, last_seen, event_count, created_seq, search)
			VALUES ('cus_older', '{}', '{}', 0, 0, 0, 0, '')`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s := apptest.Start(t, dsn)
	s.MustSend("identify", map[string]any{"userId": "u-2"})
	s.Sync()
	if got := idOf(t, s, "u-2"); got != plainID("user_id", "u-2") {
		t.Fatalf("id %s, want the id earlier versions derive", got)
	}
}
