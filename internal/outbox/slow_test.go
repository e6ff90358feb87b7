package outbox_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/outbox"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// One webhook endpoint answering in 12 s (past the 10 s the call may
// take) beside a fast one: the fast endpoint receives each event within
// two seconds of it being sent, and notification mail caused by the same
// events is not held up either.
func TestSlowEndpointDelaysNoOther(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		mb := apptest.StartMailbox(t)
		s := apptest.StartWith(t, dsn, func(c *app.Config) {
			c.Mail = &outbox.Mailer{Addr: mb.Addr, From: "cxloop@northwind.test"}
		})
		release := make(chan struct{})
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-time.After(12 * time.Second):
			case <-release:
			}
		}))
		defer slow.Close()
		defer close(release)
		var (
			mu      sync.Mutex
			arrived = map[string]time.Time{}
		)
		fast := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var body struct{ MessageID string }
			_ = json.NewDecoder(r.Body).Decode(&body)
			mu.Lock()
			if _, ok := arrived[body.MessageID]; !ok {
				arrived[body.MessageID] = time.Now()
			}
			mu.Unlock()
		}))
		defer fast.Close()
		for _, url := range []string{slow.URL, fast.URL} {
			if code := s.API("POST", "/api/v1/webhooks", map[string]any{"url": url, "events": []string{"Order Completed"}}, nil); code != 201 {
				t.Fatalf("webhook %s: %d", url, code)
			}
		}
		s.API("POST", "/api/v1/teams", map[string]any{"name": "orders", "email": "orders@northwind.test"}, nil)
		if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "big orders", "when": {"event": "Order Completed"},
			"then": {"notify": {"team": "orders"}}}`), nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		sent := map[string]time.Time{}
		for i, id := range []string{"m-1", "m-2", "m-3", "m-4"} {
			sent[id] = time.Now()
			s.MustSend("track", map[string]any{"messageId": id, "userId": "u-1", "event": "Order Completed",
				"properties": map[string]any{"order_id": "o-" + id, "total": 10 * (i + 1)}})
			time.Sleep(time.Second)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			n := len(arrived)
			mu.Unlock()
			if n == len(sent) || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		for id, at := range sent {
			got, ok := arrived[id]
			if !ok {
				t.Fatalf("the fast endpoint never received %s (got %v)", id, arrived)
			}
			if wait := got.Sub(at); wait > 2*time.Second {
				t.Errorf("the fast endpoint received %s %v after it was sent", id, wait.Round(time.Millisecond))
			}
		}
		mailStart := time.Now()
		mb.Wait(t, len(sent))
		if wait := time.Since(mailStart); wait > 2*time.Second {
			t.Errorf("notification mail waited %v", wait)
		}
	})
}
