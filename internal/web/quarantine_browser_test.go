package web_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// In Chromium, an admin opens a refused message from the Quarantine page,
// corrects it in the editor and replays it: back on the list, the page
// names the accepted messageId. Both pages fit a 390 px screen.
func TestConsoleQuarantineReplay(t *testing.T) {
	ctx := browser(t)
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]))
	s.MustSend("batch", map[string]any{"batch": []any{
		map[string]any{"type": "track", "userId": "qb-1", "messageId": "qb-order-1", "properties": map[string]any{"total": 30, "note": strings.Repeat("a long note ", 20)}}}})
	login(t, ctx, s, "/quarantine")
	waitFor(t, ctx, `#quarantine tr.refused`)
	checkFits(t, ctx, s.URL+"/quarantine", "#quarantine tr.refused")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#quarantine tr.refused td.preview a`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `#replay-form textarea`)
	field := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#refused-field").innerText`))
	if field != "event" {
		t.Fatalf("the page names %q as the refused field", field)
	}
	path := run(t, ctx, chromedp.Evaluate[string](`location.pathname`))
	checkFits(t, ctx, s.URL+path, "#replay-form textarea")
	// The editor holds the message; add the event name and replay.
	if ok := run(t, ctx, chromedp.Evaluate[bool](`(() => { const ta = document.querySelector("#message");
		const m = JSON.parse(ta.value); m.event = "Order Completed"; ta.value = JSON.stringify(m, null, 2); return true; })()`)); !ok {
		t.Fatal("the editor was not changed")
	}
	submit(t, ctx, `#message`, "/quarantine?replayed=qb-order-1")
	waitFor(t, ctx, `#replayed`)
	if text := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#replayed").innerText + " | " + document.querySelector("#quarantine-count").innerText`)); !strings.Contains(text, "qb-order-1") ||
		!strings.Contains(text, "Nothing is quarantined.") {
		t.Fatalf("after the replay the page says %q", text)
	}
	s.Sync()
	var events struct {
		Events []struct{ Event, MessageID string }
	}
	if s.API("GET", "/api/v1/events?customer=qb-1", nil, &events); len(events.Events) != 1 || events.Events[0].Event != "Order Completed" {
		t.Fatalf("events %+v", events)
	}
}
