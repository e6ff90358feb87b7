package audit_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

var t0 = time.Date(2026, 5, 13, 10, 0, 0, 0, time.UTC)

// Entries are read back newest first, filtered and paged; the table takes
// no update.
func TestTrailFiltersAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := t0
		s := audit.NewService(db, func() time.Time { return now }, nil)
		// Six entries, one a minute: two actors, three resources.
		plan := []struct{ actor, action, resource, id string }{
			{"ana@example.com", "create", "webhook", "wh_1"},
			{"ana@example.com", "update", "webhook", "wh_1"},
			{"token:tok_1", "create", "rule", "rul_1"},
			{"ana@example.com", "delete", "webhook", "wh_1"},
			{"token:tok_1", "create", "token", "tok_2"},
			{"ana@example.com", audit.SignIn, "session", ""},
		}
		for i, p := range plan {
			now = t0.Add(time.Duration(i) * time.Minute)
			e := audit.Entry{Action: p.action, Resource: p.resource, ResourceID: p.id, Address: "192.0.2.7"}
			if strings.HasPrefix(p.actor, "token:") {
				e.Actor, e.ActorID = "deploy", p.actor
			} else {
				e.Actor, e.ActorID = p.actor, "user:usr_1"
			}
			if err := s.Record(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		ids := func(q audit.Query) []string {
			list, _, err := s.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, e := range list {
				out = append(out, e.Action+":"+e.Resource)
			}
			return out
		}
		check := func(name string, q audit.Query, want ...string) {
			t.Helper()
			if got := ids(q); strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("%s: %v, want %v", name, got, want)
			}
		}
		check("all", audit.Query{}, "sign_in:session", "create:token", "delete:webhook", "create:rule", "update:webhook", "create:webhook")
		check("actor by email", audit.Query{Actor: "ANA@example.com"}, "sign_in:session", "delete:webhook", "update:webhook", "create:webhook")
		check("actor by token id", audit.Query{Actor: "token:tok_1"}, "create:token", "create:rule")
		check("resource", audit.Query{Resource: "webhook", ResourceID: "wh_1"}, "delete:webhook", "update:webhook", "create:webhook")
		check("action", audit.Query{Action: "create"}, "create:token", "create:rule", "create:webhook")
		check("time range", audit.Query{From: t0.Add(time.Minute), To: t0.Add(3 * time.Minute)}, "create:rule", "update:webhook")

		// Pages of two, following the cursor, give all six once.
		var seen []string
		q := audit.Query{Limit: 2}
		for pages := 0; ; pages++ {
			list, next, err := s.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range list {
				seen = append(seen, e.Action+":"+e.Resource)
				if e.At != store.Millis(t0.Add(time.Duration(5-len(seen)+1)*time.Minute).UnixMilli()) {
					t.Errorf("entry %d at %v", len(seen), e.At)
				}
			}
			if next == 0 {
				break
			}
			if pages > 5 {
				t.Fatal("the cursor does not end")
			}
			q.Before = next
		}
		if len(seen) != 6 || seen[0] != "sign_in:session" || seen[5] != "create:webhook" {
			t.Errorf("paged %v", seen)
		}

		// The database refuses to change an entry.
		err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE audit_log SET actor = 'someone else'`)
			return err
		})
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("update of the trail: %v", err)
		}
	})
}

// Secrets in a state are redacted, wherever they sit, and URLs lose their
// credentials.
func TestStatesAreRedacted(t *testing.T) {
	in := map[string]any{"name": "deploy", "password": "correct horse battery", "token": "cxt_abc",
		"webhook": map[string]any{"url": "https://u:pw@hooks.example.com/in?sig=s3cr3t#x", "signingSecret": "whsec_1"},
		"sources": []any{map[string]any{"write_key": "wk_live"}}}
	got := string(audit.State(in))
	for _, secret := range []string{"correct horse", "cxt_abc", "s3cr3t", "whsec_1", "wk_live", "u:pw"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q leaks %q", got, secret)
		}
	}
	var back map[string]any
	if err := json.Unmarshal([]byte(got), &back); err != nil {
		t.Fatal(err)
	}
	if back["name"] != "deploy" || back["password"] != audit.Redacted || back["webhook"].(map[string]any)["url"] != "https://hooks.example.com/in" {
		t.Errorf("redacted state %s", got)
	}
	if audit.State(json.RawMessage(`not json`)) != nil {
		t.Error("a state that is not JSON was kept")
	}
}
