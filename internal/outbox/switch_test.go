package outbox_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type deliveries struct {
	Deliveries []struct {
		ID, State, Event string
		Attempts         int
	}
}

// A paused webhook's pending deliveries are cancelled at once: a real
// receiver gets nothing after the pause, however long the clock runs; once
// resumed it gets what arrives next; removed, it gets nothing and its
// deliveries stay readable.
func TestPausedWebhookReceivesNothing(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		var (
			mu        sync.Mutex
			calls     int
			delivered []string
		)
		// The first call fails, so the delivery waits for its retry.
		receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			calls++
			if calls == 1 {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			delivered = append(delivered, r.Header.Get("X-Cxloop-Event"))
		}))
		defer receiver.Close()
		got := func() []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string(nil), delivered...)
		}
		var hook struct {
			ID     string
			Active bool
		}
		if code := s.API("POST", "/api/v1/webhooks", map[string]any{"url": receiver.URL, "events": []string{"Order Completed"}}, &hook); code != 201 {
			t.Fatalf("create: %d", code)
		}
		// The job system delivers; settle gives it time to act on what is due.
		settle := func() { time.Sleep(1500 * time.Millisecond) }
		s.MustSend("track", map[string]any{"userId": "p-1", "event": "Order Completed", "properties": map[string]any{"order_id": "o-1"}})
		s.Sync()
		// The receiver fails: the delivery waits 10 s.
		var ds deliveries
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			s.API("GET", "/api/v1/webhooks/"+hook.ID+"/deliveries", nil, &ds)
			if len(ds.Deliveries) == 1 && ds.Deliveries[0].Attempts == 1 || time.Now().After(deadline) {
				break
			}
		}
		if len(ds.Deliveries) != 1 || ds.Deliveries[0].State != "pending" || ds.Deliveries[0].Attempts != 1 {
			t.Fatalf("before the pause: %+v", ds)
		}

		if code := s.API("PATCH", "/api/v1/webhooks/"+hook.ID, map[string]any{"active": false}, &hook); code != 200 || hook.Active {
			t.Fatalf("pause: %d %+v", code, hook)
		}
		s.MustSend("track", map[string]any{"userId": "p-1", "event": "Order Completed", "properties": map[string]any{"order_id": "o-2"}})
		s.Sync()
		for range 3 {
			clock.Add(time.Hour)
			settle()
		}
		if d := got(); len(d) != 0 {
			t.Fatalf("a paused webhook received %q", d)
		}
		s.API("GET", "/api/v1/webhooks/"+hook.ID+"/deliveries", nil, &ds)
		if len(ds.Deliveries) != 1 || ds.Deliveries[0].State != "cancelled" {
			t.Fatalf("after the pause: %+v", ds)
		}

		// Resumed: what arrives next is delivered; the cancelled one is not.
		if code := s.API("PATCH", "/api/v1/webhooks/"+hook.ID, map[string]any{"active": true}, &hook); code != 200 || !hook.Active {
			t.Fatalf("resume: %d %+v", code, hook)
		}
		s.MustSend("track", map[string]any{"userId": "p-1", "event": "Order Completed", "properties": map[string]any{"order_id": "o-3"}})
		s.Sync()
		// Wait for the job system's call.
		for i := 0; i < 1000 && len(got()) == 0; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		if d := got(); len(d) != 1 || d[0] != "Order Completed" {
			t.Fatalf("after resuming the receiver got %q", d)
		}
		// The call's outcome is recorded once the receiver has answered.
		states := map[string]int{}
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			s.API("GET", "/api/v1/webhooks/"+hook.ID+"/deliveries", nil, &ds)
			states = map[string]int{}
			for _, d := range ds.Deliveries {
				states[d.State]++
			}
			if states["delivered"] == 1 || time.Now().After(deadline) {
				break
			}
		}
		if len(ds.Deliveries) != 2 || states["cancelled"] != 1 || states["delivered"] != 1 {
			t.Fatalf("deliveries: %+v", ds)
		}

		// Removed: nothing more, the history stays, the id is gone.
		if code := s.API("DELETE", "/api/v1/webhooks/"+hook.ID, nil, nil); code != 204 {
			t.Fatalf("delete: %d", code)
		}
		s.MustSend("track", map[string]any{"userId": "p-1", "event": "Order Completed", "properties": map[string]any{"order_id": "o-4"}})
		s.Sync()
		clock.Add(time.Hour)
		settle()
		if d := got(); len(d) != 1 {
			t.Fatalf("a removed webhook received %q", d)
		}
		if code := s.API("GET", "/api/v1/webhooks/"+hook.ID+"/deliveries", nil, &ds); code != 200 || len(ds.Deliveries) != 2 {
			t.Fatalf("history after delete: %d %+v", code, ds)
		}
		if code := s.API("GET", "/api/v1/webhooks/wh_nosuchhook/deliveries", nil, nil); code != 404 {
			t.Fatalf("deliveries of a webhook that never was: %d, want 404", code)
		}
		var list struct{ Webhooks []struct{ ID string } }
		s.API("GET", "/api/v1/webhooks", nil, &list)
		if len(list.Webhooks) != 0 {
			t.Fatalf("listed after delete: %+v", list)
		}
		for _, c := range []struct{ method, body string }{{"PATCH", `{"active": true}`}, {"DELETE", ``}} {
			code, body := s.Do(c.method, "/api/v1/webhooks/"+hook.ID, []byte(c.body), "Authorization: Bearer "+apptest.Token)
			if code != 404 || !strings.Contains(string(body), "not_found") {
				t.Fatalf("%s a removed webhook: %d %s", c.method, code, body)
			}
		}
	})
}

// An edit is checked like a creation and names the field it refuses.
func TestWebhookEditIsChecked(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.StartWith(t, dsn, nil)
		var hook struct{ ID string }
		s.API("POST", "/api/v1/webhooks", map[string]any{"url": "http://example.com/h", "events": []string{"Case Opened"}}, &hook)
		for _, c := range []struct{ body, field string }{
			{`{"url": "ftp://x"}`, "url"},
			{`{"events": []}`, "events"},
			{`{"events": [""]}`, "events[0]"},
			{`{"active": "no"}`, "active"},
			{`{"secret": "x"}`, "secret"},
			{`{}`, "active"},
		} {
			code, body := s.Do("PATCH", "/api/v1/webhooks/"+hook.ID, []byte(c.body), "Authorization: Bearer "+apptest.Token)
			var e struct{ Error struct{ Field string } }
			_ = json.Unmarshal(body, &e)
			if code != 400 || e.Error.Field != c.field {
				t.Errorf("%s: %d %s, want 400 naming %s", c.body, code, body, c.field)
			}
		}
		var out struct {
			URL    string
			Events []string
		}
		if code := s.API("PATCH", "/api/v1/webhooks/"+hook.ID, map[string]any{"url": "https://example.org/in", "events": []string{"*"}}, &out); code != 200 ||
			out.URL != "https://example.org/in" || len(out.Events) != 1 || out.Events[0] != "*" {
			t.Fatalf("edit: %d %+v", code, out)
		}
		if code := s.API("PATCH", "/api/v1/webhooks/wh_nope", map[string]any{"active": false}, nil); code != 404 {
			t.Fatalf("unknown id: %d", code)
		}
	})
	// The SSRF guard applies to an edited URL as to a new one.
	s := apptest.StartWith(t, storetest.DSN(t, "sqlite"), func(c *app.Config) { c.AllowPrivateTargets = false })
	var hook struct{ ID string }
	if code := s.API("POST", "/api/v1/webhooks", map[string]any{"url": "http://93.184.215.14/h", "events": []string{"Case Opened"}}, &hook); code != 201 {
		t.Fatalf("create: %d", code)
	}
	code, body := s.Do("PATCH", "/api/v1/webhooks/"+hook.ID, []byte(`{"url": "http://169.254.169.254/latest"}`), "Authorization: Bearer "+apptest.Token)
	if code != 400 || !strings.Contains(string(body), `"field":"url"`) {
		t.Fatalf("internal address: %d %s", code, body)
	}
}
