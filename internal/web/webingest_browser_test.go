package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// browserLibs is where `npm ci` in clients/browser installs the browser
// libraries, unmodified; without them the tests are skipped unless
// CXLOOP_REQUIRE_NODE is set (make test sets it).
func browserLibs(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs("../../clients/browser/node_modules")
	for _, lib := range []string{"@segment/analytics-next/dist/umd/index.js", "@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js"} {
		if _, err := os.Stat(filepath.Join(dir, lib)); err != nil {
			if os.Getenv("CXLOOP_REQUIRE_NODE") != "" {
				t.Fatalf("clients/browser/node_modules lacks %s: run npm ci in clients/browser", lib)
			}
			t.Skip("clients/browser/node_modules missing; run npm ci in clients/browser")
		}
	}
	return dir
}

// startShop serves a shop on an origin of its own: /start links to /shop
// with campaign parameters (so that /shop has a referrer and a campaign),
// /shop is page, and /lib/ the npm packages.
func startShop(t *testing.T, libs, page string) *httptest.Server {
	t.Helper()
	return startShopLink(t, libs, page, "/shop?utm_source=newsletter&utm_medium=email&utm_campaign=spring")
}

// startShopLink is startShop with /start linking to link.
func startShopLink(t *testing.T, libs, page, link string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /start", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>Shop</title><a id="go" href="%s">Spring sale</a>`, html.EscapeString(link))
	})
	mux.HandleFunc("GET /shop", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	})
	mux.Handle("GET /lib/", http.StripPrefix("/lib/", http.FileServer(http.Dir(libs))))
	shop := httptest.NewServer(mux)
	t.Cleanup(shop.Close)
	return shop
}

// visit opens the shop's /start page in a fresh browser profile (its own
// cookies and storage), follows the link to /shop and waits until the
// page's script sets window.done.
func visit(t *testing.T, parent context.Context, shop string) {
	t.Helper()
	ctx, cancel := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Navigate(shop+"/start"), chromedp.Click(chromedp.CSS("#go")))
	if err != nil {
		t.Fatal(err)
	}
	// The click navigates: ask the new page, retrying while it loads.
	var done string
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname === "/shop" ? String(window.done || "") : ""`))
		if err == nil && v != "" {
			done = v
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the shop page did not finish (%v)", err)
		}
	}
	if done != "ok" {
		t.Fatalf("the shop page failed: %s", done)
	}
	// Give a batching or keepalive library time to flush before the tab closes.
	_, _ = chromedp.Run(ctx, chromedp.Poll[bool](`window.flushed !== false`))
}

type webEvent struct {
	Type    string         `json:"type"`
	Event   string         `json:"event"`
	Channel string         `json:"channel"`
	Message map[string]any `json:"message"`
}

// webStory waits for a visitor's four events (page, identify, two tracks)
// and checks the merged profile cxloop built from them.
func webStory(t *testing.T, s *apptest.Server, shop, user, email string, wantTracks ...string) {
	t.Helper()
	want := append([]string{"page", "identify"}, wantTracks...)
	var events []webEvent
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		s.Sync()
		var p struct{ Events []webEvent }
		s.API("GET", "/api/v1/events?customer="+user+"&limit=100", nil, &p)
		events = p.Events
		if len(events) >= len(want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d events arrived, want %d: %+v", user, len(events), len(want), events)
		}
	}
	got := map[string]int{}
	var page map[string]any
	for _, e := range events {
		key := e.Type
		if e.Type == "track" {
			key = e.Event
		}
		got[key]++
		if e.Channel != "web" {
			t.Errorf("%s: %s on channel %q, want web", user, key, e.Channel)
		}
		if b, _ := json.Marshal(e.Message); strings.Contains(string(b), apptest.WriteKey) {
			t.Errorf("%s: stored %s holds the write key: %s", user, key, b)
		}
		if e.Type == "page" {
			page = e.Message
		}
	}
	for _, w := range append(want[:2:2], wantTracks...) {
		if got[w] != 1 {
			t.Errorf("%s: %d %q events, want 1 (got %v)", user, got[w], w, got)
		}
	}
	if page == nil {
		t.Fatalf("%s: no page event", user)
	}
	ctx, _ := page["context"].(map[string]any)
	pg, _ := ctx["page"].(map[string]any)
	campaign, _ := ctx["campaign"].(map[string]any)
	ua, _ := ctx["userAgent"].(string)
	if url, _ := pg["url"].(string); !strings.HasPrefix(url, shop+"/shop?") || !strings.Contains(url, "utm_campaign=spring") {
		t.Errorf("%s: page url %q", user, pg["url"])
	}
	if pg["referrer"] != shop+"/start" {
		t.Errorf("%s: page referrer %q, want %s/start", user, pg["referrer"], shop)
	}
	if !strings.Contains(ua, "Chrome") {
		t.Errorf("%s: userAgent %q", user, ua)
	}
	if campaign["name"] != "spring" || campaign["source"] != "newsletter" || campaign["medium"] != "email" {
		t.Errorf("%s: campaign %v", user, campaign)
	}
	var c struct {
		Traits   map[string]any
		Channels []struct{ Channel string }
	}
	if code := s.API("GET", "/api/v1/customers/"+user, nil, &c); code != 200 {
		t.Fatalf("%s: customer %d", user, code)
	}
	if c.Traits["email"] != email || c.Traits["plan"] != "gold" {
		t.Errorf("%s: traits %v", user, c.Traits)
	}
	if len(c.Channels) != 1 || c.Channels[0].Channel != "web" {
		t.Errorf("%s: channels %+v", user, c.Channels)
	}
}

// A shop on another origin loads analytics.js (analytics-next, from its
// npm package) with its settings inline and apiHost at cxloop, and sends a
// page view, an identify and two tracks in each delivery mode.
func TestAnalyticsNextBrowser(t *testing.T) {
	libs := browserLibs(t)
	ctx := browser(t)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	s, _ := apptest.StartAt(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]), apptest.Epoch)
	host := strings.TrimPrefix(s.URL, "http://")
	modes := map[string]string{
		"standard":  `{}`,
		"batching":  `{strategy: "batching", config: {size: 10, timeout: 300}}`,
		"keepalive": `{strategy: "standard", config: {keepalive: true}}`,
	}
	for mode, strategy := range modes {
		t.Run(mode, func(t *testing.T) {
			user, email := "ajs-"+mode, "ajs."+mode+"@example.com"
			page := `<!doctype html><title>Shop</title><script src="/lib/@segment/analytics-next/dist/umd/index.js"></script>
<script>
window.flushed = false;
(async () => {
  try {
    const [analytics] = await AnalyticsNext.AnalyticsBrowser.load(
      {writeKey: ` + js(apptest.WriteKey) + `, cdnSettings: {integrations: {"Segment.io": {apiKey: ` + js(apptest.WriteKey) + `}}}},
      {integrations: {"Segment.io": {apiHost: ` + js(host+"/v1") + `, protocol: "http", deliveryStrategy: ` + strategy + `}}});
    await analytics.page();
    await analytics.identify(` + js(user) + `, {email: ` + js(email) + `, name: "Web Shopper", plan: "gold"});
    await analytics.track("Product Viewed", {sku: "SKU-1", price: 19.9});
    await analytics.track("Added To Cart", {sku: "SKU-1", quantity: 2});
    window.done = "ok";
    setTimeout(() => { window.flushed = true }, 1000);
  } catch (e) { window.done = "error: " + e }
})();
</script>`
			shop := startShop(t, libs, page)
			visit(t, ctx, shop.URL)
			webStory(t, s, shop.URL, user, email, "Product Viewed", "Added To Cart")
		})
	}
}

// RudderStack's browser SDK (v3, its npm package's bundled build), its
// source configuration and events both from cxloop, on another origin.
func TestRudderStackBrowser(t *testing.T) {
	libs := browserLibs(t)
	ctx := browser(t)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatal(err)
	}
	s, _ := apptest.StartAt(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]), apptest.Epoch)
	modes := map[string]string{
		"standard": `{}`,
		"batching": `{batch: {enabled: true, maxItems: 10, flushInterval: 300}}`,
	}
	for mode, queue := range modes {
		t.Run(mode, func(t *testing.T) {
			user, email := "rs-"+mode, "rs."+mode+"@example.com"
			opts := `{configUrl: ` + js(s.URL+"/v1") + `, destSDKBaseURL: ` + js(s.URL+"/v1/web/rudder-destinations") +
				`, pluginsSDKBaseURL: ` + js(s.URL+"/v1/web/rudder-plugins") + `, polyfillIfRequired: false, logLevel: "ERROR"`
			opts += `, queueOptions: ` + queue + `}`
			page := `<!doctype html><title>Shop</title><script src="/lib/@rudderstack/analytics-js/dist/npm/modern/bundled/umd/index.js"></script>
<script>
window.flushed = false;
const rudder = new window.rudderanalytics.RudderAnalytics();
rudder.load(` + js(apptest.WriteKey) + `, ` + js(s.URL) + `, ` + opts + `);
rudder.ready(() => {
  try {
    rudder.page();
    rudder.identify(` + js(user) + `, {email: ` + js(email) + `, name: "Rudder Shopper", plan: "gold"});
    rudder.track("Product Viewed", {sku: "SKU-2", price: 5});
    rudder.track("Added To Cart", {sku: "SKU-2", quantity: 1});
    window.done = "ok";
    setTimeout(() => { window.flushed = true }, 1500);
  } catch (e) { window.done = "error: " + e }
});
</script>`
			shop := startShop(t, libs, page)
			visit(t, ctx, shop.URL)
			webStory(t, s, shop.URL, user, email, "Product Viewed", "Added To Cart")
		})
	}
}

// js writes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// An admin creates a web source on the Sources page and pastes its snippet
// into a shop on another origin: analytics.js, its settings and its chunks
// load from cxloop, and the page view, an identify and tracks arrive.
func TestSourcesSnippet(t *testing.T) {
	libs := browserLibs(t)
	ctx := browser(t)
	s, _ := apptest.StartAt(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]), apptest.Epoch)
	err := chromedp.Do(ctx,
		chromedp.Navigate(s.URL+"/sources"),
		chromedp.WaitVisible(chromedp.CSS(`#token-login`)),
		chromedp.SendKeys(chromedp.CSS(`#token-login input[name=token]`), apptest.Token),
		chromedp.Submit(chromedp.CSS(`#token-login input[name=token]`)),
		chromedp.WaitVisible(chromedp.CSS(`#new-source`)),
		chromedp.SendKeys(chromedp.CSS(`#new-source input[name=name]`), "Online shop"),
	)
	if err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `#new-source input[name=name]`, "/sources")
	waitFor(t, ctx, "#snippet")
	snippet := run(t, ctx, chromedp.Text(chromedp.CSS(`#snippet`)))
	if dir := os.Getenv("CXLOOP_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "sources.png"), run(t, ctx, chromedp.FullScreenshot(100)), 0o644)
	}
	if !strings.Contains(snippet, s.URL+"/v1/web/analytics.js") && !strings.Contains(snippet, `"/v1/web/analytics.js"`) {
		t.Fatalf("the snippet does not load analytics.js from cxloop: %s", snippet)
	}
	if !strings.Contains(snippet, js(s.URL)) || !strings.Contains(snippet, "analytics.page()") || !strings.Contains(snippet, `"wk_`) {
		t.Fatalf("snippet %s", snippet)
	}
	var sources struct {
		Sources []struct{ Name, Channel string }
	}
	s.API("GET", "/api/v1/sources", nil, &sources)
	if n := len(sources.Sources); n != 2 || sources.Sources[1].Name != "Online shop" || sources.Sources[1].Channel != "web" {
		t.Fatalf("sources %+v", sources.Sources)
	}

	page := `<!doctype html><html><head><title>Shop</title>
` + snippet + `
</head><body><h1>Spring sale</h1>
<script>
window.flushed = false;
analytics.identify("snip-user", {email: "snip@example.com", name: "Snippet Shopper", plan: "gold"});
analytics.track("Signed Up", {method: "newsletter"});
analytics.ready(() => { window.done = "ok"; setTimeout(() => { window.flushed = true }, 1500) });
</script></body></html>`
	// ajs_event makes analytics.js load its queryString chunk, from cxloop.
	shop := startShopLink(t, libs, page, "/shop?utm_source=newsletter&utm_medium=email&utm_campaign=spring&ajs_event=Newsletter%20Clicked")
	visit(t, ctx, shop.URL)
	webStory(t, s, shop.URL, "snip-user", "snip@example.com", "Signed Up", "Newsletter Clicked")
	// The snippet's last line loads the survey widget too.
	open(t, ctx, shop.URL+"/shop", "h1")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(window.cxloop && window.cxloop.version)`)); err == nil && ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the snippet did not load the survey widget")
		}
	}

	// A write key kept from before (the default source's) gets its snippet
	// too; a wrong one an error naming the field.
	for _, key := range []string{"wk_not_a_key", apptest.WriteKey} {
		open(t, ctx, s.URL+"/sources", "#key-snippet")
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#key-snippet input[name=writeKey]`), key)); err != nil {
			t.Fatal(err)
		}
		submit(t, ctx, `#key-snippet input[name=writeKey]`, "/sources/snippet")
		body := run(t, ctx, chromedp.Text(chromedp.CSS(`main`)))
		if key == apptest.WriteKey {
			if !strings.Contains(body, js(apptest.WriteKey)) || !strings.Contains(body, "Snippet for Default") {
				t.Errorf("snippet for the default key: %s", body)
			}
		} else if !strings.Contains(body, "writeKey: no source has this write key") || strings.Contains(body, "<script>") {
			t.Errorf("wrong key: %s", body)
		}
	}
}
