package web_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/demo"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// browser starts Debian's chromium headless. Without one the test is
// skipped, unless CXLOOP_REQUIRE_BROWSER is set (make test sets it).
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("CXLOOP_CHROMIUM")
	if path == "" {
		path, _ = exec.LookPath("chromium")
	}
	if path == "" {
		if os.Getenv("CXLOOP_REQUIRE_BROWSER") != "" {
			t.Fatal("chromium is not installed")
		}
		t.Skip("chromium is not installed")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 180*time.Second)
	t.Cleanup(func() { cancelT(); cancelC(); cancelA() })
	// A page's "are you sure?" is answered yes, and kept for the test to read.
	asked := &dialogs{}
	ctx = context.WithValue(ctx, dialogsKey{}, asked)
	err := chromedp.Listen(ctx, func(ev any) {
		if d, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			asked.add(d.Message)
			go func() {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
			}()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return ctx
}

type dialogsKey struct{}

// dialogs are the questions pages asked in a browser, in order.
type dialogs struct {
	mu   sync.Mutex
	list []string
}

func (d *dialogs) add(m string) { d.mu.Lock(); d.list = append(d.list, m); d.mu.Unlock() }

// asked is what the pages in ctx's browser asked so far.
func asked(ctx context.Context) []string {
	d := ctx.Value(dialogsKey{}).(*dialogs)
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.list...)
}

// A person signs in, searches for a demo customer by email and sees one
// merged profile whose timeline spans several channels.
func TestConsoleCustomerJourney(t *testing.T) {
	ctx := browser(t)
	s, _ := apptest.StartAt(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]), apptest.Epoch)
	if _, err := demo.Send(context.Background(), s.URL, apptest.WriteKey, demo.Options{Customers: 40, Seed: 7, End: apptest.Epoch}); err != nil {
		t.Fatal(err)
	}
	s.Sync()
	// Pick the demo customer with the most channels.
	var found struct {
		Customers []struct {
			ID     string
			Traits map[string]any
		}
	}
	s.API("GET", "/api/v1/customers?limit=100", nil, &found)
	var email, name string
	best := 0
	for _, c := range found.Customers {
		var full struct{ Channels []struct{ Channel string } }
		s.API("GET", "/api/v1/customers/"+c.ID, nil, &full)
		e, _ := c.Traits["email"].(string)
		if len(full.Channels) > best && e != "" {
			best, email, name = len(full.Channels), e, c.Traits["name"].(string)
		}
	}
	if best < 3 {
		t.Fatalf("no demo customer uses three channels (best %d)", best)
	}

	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/customers"),
		chromedp.WaitVisible(chromedp.CSS(`#token-login`)),
		chromedp.SendKeys(chromedp.CSS(`#token-login input[name=token]`), apptest.Token),
		chromedp.Submit(chromedp.CSS(`#token-login input[name=token]`)),
		chromedp.WaitVisible(chromedp.CSS(`#customers`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=q]`), email),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The list before the search has links too: wait for the search's page.
	submit(t, ctx, `input[name=q]`, "q="+url.QueryEscape(email))
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`#customers a[href^="/customers/cus_"]`)),
		chromedp.Click(chromedp.CSS(`#customers a[href^="/customers/cus_"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#timeline`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	heading := run(t, ctx, chromedp.Text(chromedp.CSS(`h1`)))
	identities := run(t, ctx, chromedp.Text(chromedp.CSS(`#identities`)))
	points := run(t, ctx, chromedp.AttributesAll(chromedp.CSSAll(`#timeline li.tp`)))
	shot := run(t, ctx, chromedp.FullScreenshot(80))
	if dir := os.Getenv("CXLOOP_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "customer.jpg"), shot, 0o644)
	}
	if strings.TrimSpace(heading) != name {
		t.Errorf("heading %q, want %q", heading, name)
	}
	for _, want := range []string{"user id", "anonymous id", "email", email} {
		if !strings.Contains(identities, want) {
			t.Errorf("identities %q lack %q", identities, want)
		}
	}
	seen := map[string]bool{}
	for _, p := range points {
		seen[p["data-channel"]] = true
	}
	if len(seen) < 3 {
		t.Errorf("timeline shows channels %v, want at least three", seen)
	}

	// Signing out ends the session: the console sends the visitor to sign in again.
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`form.who button`)),
		chromedp.WaitVisible(chromedp.CSS(`#token-login`)),
		chromedp.Navigate(s.URL+"/customers"),
		chromedp.WaitVisible(chromedp.CSS(`#token-login`)),
	); err != nil {
		t.Fatal(err)
	}
	loc := run(t, ctx, chromedp.Location())
	if !strings.Contains(loc, "/login") {
		t.Errorf("after sign-out /customers went to %s", loc)
	}
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// open navigates to url and waits for sel. A form's redirect that is still
// loading aborts a navigation started meanwhile; open then tries again.
func open(t *testing.T, ctx context.Context, url, sel string) {
	t.Helper()
	var err error
	for range 10 {
		if err = chromedp.Do(ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS(sel))); err == nil || !strings.Contains(err.Error(), "ERR_ABORTED") {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// submit submits the form of sel and waits until the browser has followed
// the answer's redirect to a URL ending in landing and loaded it, so that
// a navigation after it cannot abort the form's request.
func submit(t *testing.T, ctx context.Context, sel, landing string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Submit(chromedp.CSS(sel))); err != nil {
		t.Fatal(err)
	}
	landOn(t, ctx, sel, landing)
}

// clickTo clicks sel (a form's button, as a person does: the page's own
// handlers run, such as its "are you sure?") and waits to land on landing.
func clickTo(t *testing.T, ctx context.Context, sel, landing string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		t.Fatal(err)
	}
	landOn(t, ctx, sel, landing)
}

// landOn waits up to 15 s for the page to be landing, loaded.
func landOn(t *testing.T, ctx context.Context, sel, landing string) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`({href: location.href, ready: document.readyState})`))
		if err == nil && strings.HasSuffix(v["href"], landing) && v["ready"] == "complete" {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText.slice(0, 500) : ""`))
			t.Fatalf("submitting %s did not land on %s: at %v (%v); the page says %q", sel, landing, v, err, body)
		}
	}
}

// waitFor waits up to 20 s for sel and, failing, reports what the page says.
func waitFor(t *testing.T, ctx context.Context, sel string) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(wctx, chromedp.WaitVisible(chromedp.CSS(sel))); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + " — " + (document.body ? document.body.innerText.slice(0, 500) : "")`))
		t.Fatalf("no %s on the page (%v): %q", sel, err, body)
	}
}

// fitsJS lists what does not fit the page at the current width: the page
// scrolling sideways, an element reaching out of its card (or, outside
// cards, out of the viewport) — a table may scroll inside its own
// scrolling box, which must fit — a chart's text running out of its chart
// or over another text of it, and, when strict, a scrolling box that has
// to scroll.
const fitsJS = `((strict) => {
	const out = [], vw = document.documentElement.clientWidth;
	const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : "") +
		" «" + (el.textContent || "").trim().slice(0, 40) + "»";
	if (document.documentElement.scrollWidth > vw + 1) out.push("the page is " + document.documentElement.scrollWidth + " px wide in a " + vw + " px window");
	const scrolls = el => { for (let p = el.parentElement; p && p.tagName !== "MAIN"; p = p.parentElement) { const o = getComputedStyle(p).overflowX; if (o === "auto" || o === "scroll") return true; } return false; };
	const reported = new Set(); // the outermost element that sticks out stands for its contents
	for (const el of document.querySelectorAll("main *")) {
		const r = el.getBoundingClientRect();
		if (r.width === 0 || r.height === 0 || el.closest("svg") || scrolls(el)) continue;
		if ([...reported].some(x => x.contains(el))) continue;
		const card = el.parentElement.closest(".card");
		const b = card ? card.getBoundingClientRect() : {left: 0, right: vw};
		if (r.right > b.right + 1 || r.left < b.left - 1) reported.add(el), out.push(name(el) + " spans " + Math.round(r.left) + "–" + Math.round(r.right) + " px, outside its " + (card ? "card " + name(card).split(" ")[0] : "window") + " (" + Math.round(b.left) + "–" + Math.round(b.right) + ")");
	}
	for (const svg of document.querySelectorAll("main svg")) {
		const s = svg.getBoundingClientRect();
		const texts = [...svg.querySelectorAll("text")].map(t => [t, t.getBoundingClientRect()]).filter(([, r]) => r.width > 0);
		texts.forEach(([t, r], i) => {
			if (r.left < s.left - 1 || r.right > s.right + 1 || r.top < s.top - 1 || r.bottom > s.bottom + 1) out.push("chart text «" + t.textContent + "» runs out of its chart (" + [r.left, r.top, r.right, r.bottom].map(Math.round) + " in " + [s.left, s.top, s.right, s.bottom].map(Math.round) + ")");
			for (const [u, q] of texts.slice(i + 1)) {
				if (r.left < q.right - 1 && q.left < r.right - 1 && r.top < q.bottom - 1 && q.top < r.bottom - 1) out.push("chart texts «" + t.textContent + "» and «" + u.textContent + "» overlap (" + [r.left, r.top, r.right, r.bottom].map(Math.round) + " and " + [q.left, q.top, q.right, q.bottom].map(Math.round) + ")");
			}
		});
	}
	if (strict) for (const el of document.querySelectorAll("main *")) {
		const o = getComputedStyle(el).overflowX;
		if ((o === "auto" || o === "scroll") && el.scrollWidth > el.clientWidth + 1) out.push(name(el) + " has to scroll: " + el.scrollWidth + " px in " + el.clientWidth);
	}
	return out;
})`

// checkFits opens url at 1440 px, where everything must fit without
// scrolling, and at 390 px (a phone), where a table may scroll within its
// card but nothing may stick out of it, and reports what does not fit.
func checkFits(t *testing.T, ctx context.Context, url, sel string) {
	t.Helper()
	for _, w := range []int64{1440, 390} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 900)); err != nil {
			t.Fatal(err)
		}
		open(t, ctx, url, sel)
		chartsDrawn(t, ctx)
		strict := "false"
		if w >= 1440 {
			strict = "true"
		}
		for _, p := range run(t, ctx, chromedp.Evaluate[[]string](fitsJS+"("+strict+")")) {
			t.Errorf("%s at %d px: %s", url, w, p)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
}

// chartsDrawn waits until every chart on the page is drawn.
func chartsDrawn(t *testing.T, ctx context.Context) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("figure.chart:not(.drawn)").length`))
		if err == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d charts not drawn (%v)", n, err)
		}
	}
}

// login signs in with the admin token from path's sign-in page and waits
// until the browser has followed the sign-in back to path: the sign-in
// page has a main of its own, and a navigation started before the sign-in
// answered would abort it.
func login(t *testing.T, ctx context.Context, s *apptest.Server, path string) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+path),
		chromedp.WaitVisible(chromedp.CSS(`#token-login`)),
		chromedp.SendKeys(chromedp.CSS(`#token-login input[name=token]`), apptest.Token),
	); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `#token-login input[name=token]`, path)
	waitFor(t, ctx, `main`)
}
