package outbox_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// Two nodes on one database share the deliveries: every event reaches the
// receiver exactly once, and both nodes' metrics count the jobs.
func TestNodesShareDeliveries(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		var (
			mu   sync.Mutex
			seen = map[string]int{}
		)
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct{ MessageID string }
			_ = json.NewDecoder(r.Body).Decode(&body)
			time.Sleep(20 * time.Millisecond) // long enough for both nodes to be busy
			mu.Lock()
			seen[body.MessageID]++
			mu.Unlock()
		}))
		defer receiver.Close()
		a := apptest.Start(t, dsn)
		b := apptest.Start(t, dsn)
		if code := a.API("POST", "/api/v1/webhooks", map[string]any{"url": receiver.URL, "events": []string{"Order Completed"}}, nil); code != 201 {
			t.Fatalf("webhook: %d", code)
		}
		const n = 200
		var batch []map[string]any
		for i := range n {
			batch = append(batch, map[string]any{"type": "track", "messageId": fmt.Sprintf("n-%d", i), "userId": fmt.Sprintf("u-%d", i%20), "event": "Order Completed"})
		}
		a.MustSend("batch", map[string]any{"batch": batch[:n/2]})
		b.MustSend("batch", map[string]any{"batch": batch[n/2:]})
		for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			mu.Lock()
			got := len(seen)
			mu.Unlock()
			if got == n {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d messages delivered", got, n)
			}
		}
		time.Sleep(time.Second)
		mu.Lock()
		for id, c := range seen {
			if c != 1 {
				t.Errorf("%s delivered %d times", id, c)
			}
		}
		mu.Unlock()
		// Both nodes worked deliveries, and /metrics counts the jobs (River
		// records a job's completion shortly after it ends).
		completed := regexp.MustCompile(`(?m)^cxloop_jobs\{kind="webhook.deliver",queue="webhooks",state="completed"\} (\d+)$`)
		worked := 0
		for _, s := range []*apptest.Server{a, b} {
			var body []byte
			for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
				resp, err := http.Get(s.URL + "/metrics")
				if err != nil {
					t.Fatal(err)
				}
				body, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				if countOf(completed, body) >= n || time.Now().After(deadline) {
					break
				}
			}
			// At least one job per delivery: a sweep may queue a second job
			// for a delivery whose first just ended, which then sends nothing.
			if got := countOf(completed, body); got < n {
				t.Errorf("/metrics counts %d completed deliveries, want at least %d", got, n)
			}
			for _, line := range strings.Split(string(body), "\n") {
				if strings.HasPrefix(line, `cxloop_jobs_finished_total{kind="webhook.deliver",outcome="completed"}`) {
					worked++
				}
			}
		}
		if a.DB.Engine == store.Postgres && worked != 2 {
			t.Errorf("%d of 2 nodes delivered", worked)
		}
	})
}

// countOf is the number the metric line re matches holds (-1 for none).
func countOf(re *regexp.Regexp, body []byte) int {
	m := re.FindSubmatch(body)
	if m == nil {
		return -1
	}
	n, err := strconv.Atoi(string(m[1]))
	if err != nil {
		return -1
	}
	return n
}
