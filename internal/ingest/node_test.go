package ingest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The official Segment Node.js library, unmodified, pointed at cxloop. It
// needs node and `npm ci` in clients/node (make test does both); without
// them the test is skipped unless CXLOOP_REQUIRE_NODE is set.
func TestSegmentNodeClient(t *testing.T) {
	dir, _ := filepath.Abs("../../clients/node")
	node, err := exec.LookPath("node")
	_, modErr := os.Stat(filepath.Join(dir, "node_modules", "@segment", "analytics-node"))
	if err != nil || modErr != nil {
		if os.Getenv("CXLOOP_REQUIRE_NODE") != "" {
			t.Fatalf("node or clients/node/node_modules missing (%v, %v)", err, modErr)
		}
		t.Skip("node or clients/node/node_modules missing; run npm ci in clients/node")
	}
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		cmd := exec.Command(node, "send.mjs")
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "CXLOOP_URL="+s.URL, "CXLOOP_WRITE_KEY="+apptest.WriteKey)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("node client: %v\n%s", err, out)
		}
		s.Sync()
		var c struct {
			Identities []struct{ Kind, Value string }
			Traits     map[string]any
			EventCount int
			Accounts   []struct{ AccountID, Role string }
		}
		if code := s.API("GET", "/api/v1/customers/node.user@example.com", nil, &c); code != 200 {
			t.Fatalf("lookup: %d", code)
		}
		ids := map[string]bool{}
		for _, i := range c.Identities {
			ids[i.Kind+"="+i.Value] = true
		}
		for _, want := range []string{"anonymous_id=node-anon", "user_id=node-user", "user_id=node-legacy", "email=node.user@example.com"} {
			if !ids[want] {
				t.Errorf("missing identity %s in %v", want, ids)
			}
		}
		if c.EventCount != 6 || c.Traits["name"] != "Node User" || c.Traits["legacy"] != true {
			t.Errorf("profile %+v", c)
		}
		if len(c.Accounts) != 1 || c.Accounts[0].AccountID != "node-co" || c.Accounts[0].Role != "" {
			t.Errorf("accounts %+v", c.Accounts)
		}
		var acc struct {
			Members []struct{ Role string }
		}
		s.API("GET", "/api/v1/accounts/node-co", nil, &acc)
		if len(acc.Members) != 1 || acc.Members[0].Role != "decision_maker" {
			t.Errorf("account members %+v", acc.Members)
		}
	})
}
