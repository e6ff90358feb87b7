package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A node killed while a webhook call is in flight loses no delivery: the
// next node sends it again, with the same X-Cxloop-Delivery (the
// receiver's idempotency key), once the job counts as abandoned; and the
// receiver, keeping the keys it has answered, acts on each message once.
func TestKilledNodeLosesNoDelivery(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		var (
			mu       sync.Mutex
			seen     = map[string]int{} // delivery key → calls
			messages = map[string]string{}
			answered = map[string]bool{}
			hold     = make(chan struct{})
		)
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct{ MessageID string }
			_ = json.NewDecoder(r.Body).Decode(&body)
			key := r.Header.Get("X-Cxloop-Delivery")
			mu.Lock()
			seen[key]++
			messages[key] = body.MessageID
			first := seen[key] == 1 && body.MessageID == "k-1"
			mu.Unlock()
			if first {
				<-hold // the first call of k-1 never gets its answer: its node dies meanwhile
				return
			}
			mu.Lock()
			answered[key] = true
			mu.Unlock()
		}))
		defer receiver.Close()
		defer close(hold)
		args := []string{"--allow-private-targets", "--job-rescue-after", "3s"}
		p := start(t, dsn, args...)
		body, _ := json.Marshal(map[string]any{"url": receiver.URL, "events": []string{"Order Completed"}})
		req, _ := http.NewRequest(http.MethodPost, p.URL+"/api/v1/webhooks", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+apptest.Token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("webhook: %v %v", resp, err)
		}
		resp.Body.Close()
		if code, err := post(http.DefaultClient, p.URL, []byte(`{"batch":[{"type":"track","messageId":"k-1","userId":"u-1","event":"Order Completed"}]}`)); err != nil || code != 200 {
			t.Fatalf("send: %d %v", code, err)
		}
		calls := func() int {
			mu.Lock()
			defer mu.Unlock()
			n := 0
			for _, c := range seen {
				n += c
			}
			return n
		}
		for deadline := time.Now().Add(20 * time.Second); calls() == 0; time.Sleep(20 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the webhook was not called: %s", p.out)
			}
		}
		if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = p.Cmd.Wait()

		// The next node; a message sent to it is delivered too.
		p2 := start(t, dsn, args...)
		if code, err := post(http.DefaultClient, p2.URL, []byte(`{"batch":[{"type":"track","messageId":"k-2","userId":"u-1","event":"Order Completed"}]}`)); err != nil || code != 200 {
			t.Fatalf("send: %d %v", code, err)
		}
		for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			mu.Lock()
			done := len(answered) == 2
			mu.Unlock()
			if done {
				break
			}
			if time.Now().After(deadline) {
				mu.Lock()
				t.Fatalf("calls %v, answered %v: %s", seen, answered, p2.out)
			}
		}
		time.Sleep(time.Second)
		mu.Lock()
		defer mu.Unlock()
		byMessage := map[string]string{}
		for key, m := range messages {
			if other, ok := byMessage[m]; ok {
				t.Errorf("message %s came under two keys, %s and %s", m, other, key)
			}
			byMessage[m] = key
		}
		if k := byMessage["k-1"]; seen[k] != 2 {
			t.Errorf("the delivery in flight at the kill was called %d times (want 2: once before, once after)", seen[k])
		}
		if k := byMessage["k-2"]; seen[k] != 1 {
			t.Errorf("the delivery after the restart was called %d times", seen[k])
		}
	})
}
