package profile_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The owners of every key, kept between reads, are what the identities
// say at each read: after new customers, a merge and an erasure.
func TestAllKeysStayExact(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		ctx := context.Background()
		check := func(when string) {
			t.Helper()
			// The owners as the table holds them, read here.
			want := map[string]string{}
			err := s.DB.Each(ctx, `SELECT kind, value, customer_id FROM identities`, nil, func(r *sql.Rows) error {
				var kind, value, c string
				if err := r.Scan(&kind, &value, &c); err != nil {
					return err
				}
				switch kind {
				case "user_id":
					want["u:"+value] = c
				case "anonymous_id":
					want["a:"+value] = c
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			got, err := s.Profiles.AllKeys(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(got, want) {
				t.Fatalf("%s: kept owners %v, want %v", when, got, want)
			}
			// Every customer's survivor, asked for among enough unknown
			// ids to be read from what is kept, against the table's
			// merges read one by one.
			ids, err := s.DB.Strings(ctx, `SELECT id FROM customers`)
			if err != nil {
				t.Fatal(err)
			}
			for i := range 1000 {
				ids = append(ids, fmt.Sprintf("cus_unknown%d", i))
			}
			surv, err := s.Profiles.Survivors(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			direct, err := profile.SurvivorsIn(ctx, s.DB, ids)
			if err != nil {
				t.Fatal(err)
			}
			if !maps.Equal(surv, direct) || len(surv) == 0 {
				t.Fatalf("%s: kept survivors %v, want %v", when, surv, direct)
			}
		}
		send := func(typ string, body map[string]any) {
			s.MustSend(typ, body)
			s.Sync()
		}
		for i := range 3 {
			send("identify", map[string]any{"userId": fmt.Sprintf("u-%d", i), "anonymousId": fmt.Sprintf("anon-%d", i)})
		}
		check("first read")
		check("nothing new")
		send("track", map[string]any{"anonymousId": "anon-new", "event": "Product Viewed"})
		check("a new visitor")
		// The visitor signs in as u-1: two profiles become one.
		send("identify", map[string]any{"anonymousId": "anon-new", "userId": "u-1"})
		check("after a merge")
		if code := s.API("DELETE", "/api/v1/customers/u-2", nil, nil); code != 200 {
			t.Fatalf("erase: %d", code)
		}
		check("after an erasure")
		send("identify", map[string]any{"userId": "u-9", "anonymousId": "anon-9"})
		check("a customer after the erasure")
	})
}
