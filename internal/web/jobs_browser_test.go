package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The Jobs page shows a failing webhook delivery retrying with its error;
// cancelled there it is not tried again, and "Retry now" tries it at once.
func TestConsoleJobs(t *testing.T) {
	ctx := browser(t)
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]))
	var calls atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
	}))
	defer receiver.Close()
	var hook struct{ ID string }
	if code := s.API("POST", "/api/v1/webhooks", map[string]any{"url": receiver.URL, "events": []string{"Order Completed"}}, &hook); code != 201 {
		t.Fatalf("webhook: %d", code)
	}
	delivery := func() string {
		var ds struct{ Deliveries []struct{ State string } }
		s.API("GET", "/api/v1/webhooks/"+hook.ID+"/deliveries", nil, &ds)
		if len(ds.Deliveries) != 1 {
			t.Fatalf("deliveries: %+v", ds)
		}
		return ds.Deliveries[0].State
	}
	s.MustSend("track", map[string]any{"userId": "j-1", "event": "Order Completed", "properties": map[string]any{"order_id": "o-1"}})
	type job struct {
		ID               int64
		Kind, State      string
		Attempt          int
		LastError, Queue string
	}
	var page struct{ Jobs []job }
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		s.API("GET", "/api/v1/jobs?kind=webhook.deliver", nil, &page)
		if len(page.Jobs) == 1 && page.Jobs[0].State == "retryable" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the delivery job: %+v", page.Jobs)
		}
	}
	j := page.Jobs[0]
	if j.Attempt != 1 || j.Queue != "webhooks" || !strings.Contains(j.LastError, "503") || calls.Load() != 1 {
		t.Fatalf("after one failed call (%d calls): %+v", calls.Load(), j)
	}
	row := fmt.Sprintf("#job-%d", j.ID)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/jobs?state=retrying"),
		chromedp.WaitVisible(chromedp.CSS(`#token-login`)),
		chromedp.SendKeys(chromedp.CSS(`#token-login input[name=token]`), apptest.Token),
		chromedp.Submit(chromedp.CSS(`#token-login input[name=token]`)),
		chromedp.WaitVisible(chromedp.CSS(row)),
	); err != nil {
		t.Fatal(err)
	}
	text := run(t, ctx, chromedp.Text(chromedp.CSS(row)))
	for _, want := range []string{"Webhook delivery", "Order Completed to " + receiver.URL, "retrying", "1 of 10", "503"} {
		if !strings.Contains(text, want) {
			t.Errorf("job row %q lacks %q", text, want)
		}
	}
	counts := run(t, ctx, chromedp.Text(chromedp.CSS(`#job-counts tr[data-kind="webhook.deliver"]`)))
	if !strings.Contains(counts, "Webhook delivery") || !strings.Contains(counts, "webhooks") {
		t.Errorf("counts row %q", counts)
	}
	nav := run(t, ctx, chromedp.Evaluate[string](`document.querySelector('header nav a[aria-current="page"]').innerText`))
	if nav != "Jobs" {
		t.Errorf("navigation marks %q", nav)
	}

	// Cancelled: the delivery is cancelled too, and nothing queues it again.
	submit(t, ctx, row+` form[action$="/cancel"] button`, fmt.Sprintf("#job-%d", j.ID))
	open(t, ctx, s.URL+"/jobs", row)
	if st := run(t, ctx, chromedp.Text(chromedp.CSS(row+` .state`))); st != "cancelled" {
		t.Errorf("after cancel: %q", st)
	}
	// Every consumer's lag, caught up here, and the bound past which ingestion waits.
	s.Sync()
	open(t, ctx, s.URL+"/jobs", `#consumer-lag`)
	if lag := run(t, ctx, chromedp.Text(chromedp.CSS(`#consumer-lag tr[data-consumer="profile"]`))); !strings.Contains(lag, "0") || !strings.Contains(lag, "—") {
		t.Errorf("the profile consumer's lag: %q", lag)
	}
	if cap := run(t, ctx, chromedp.Text(chromedp.CSS(`#consumer-lag caption`))); !strings.Contains(cap, "2,000,000 events behind") {
		t.Errorf("the lag's caption: %q", cap)
	}
	if st := delivery(); st != "cancelled" {
		t.Errorf("the delivery after its job was cancelled: %s", st)
	}
	time.Sleep(1500 * time.Millisecond)
	if n := calls.Load(); n != 1 {
		t.Errorf("%d calls after the cancel", n)
	}

	// Retry now: one more call at once, and the job waits for its next attempt again.
	submit(t, ctx, row+` form[action$="/retry"] button`, fmt.Sprintf("#job-%d", j.ID))
	for deadline := time.Now().Add(10 * time.Second); calls.Load() < 2; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("retry now did not call the endpoint")
		}
	}
	var after job
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		s.API("GET", fmt.Sprintf("/api/v1/jobs/%d", j.ID), nil, &after)
		if after.State == "retryable" || time.Now().After(deadline) {
			break
		}
	}
	if after.State != "retryable" || after.Attempt != 2 {
		t.Errorf("after retry now: %+v", after)
	}
	if st := delivery(); st != "pending" {
		t.Errorf("the delivery after retry now: %s", st)
	}
	checkFits(t, ctx, s.URL+"/jobs", "#jobs")
}
