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
		checkClientStory(t, s, "node", "Node", "decision_maker", 6)
	})
}
