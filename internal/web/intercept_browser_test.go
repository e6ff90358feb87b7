package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
	"github.com/cxloop/cxloop/internal/survey"
)

// hostile is a shop's stylesheet that would wreck a widget living in the
// page's own DOM: huge magenta text, and every element it uses hidden.
const hostile = `* { font-size: 40px !important; line-height: 3 !important; color: #f0f !important; letter-spacing: 6px !important;
  box-sizing: content-box !important; direction: ltr !important; }
div, p, form, fieldset, legend, label, span, input, button, textarea { display: none !important; }
#buy { display: inline-block !important; }
cxloop-survey { --cxloop-accent: rgb(10, 125, 72); }
body { margin: 0; }`

// shop serves a shop's pages from an origin of its own, loading the widget
// from cxloop with the snippet.
func shop(t *testing.T, cxloop string) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /shop.css", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/css")
		fmt.Fprint(w, hostile)
	})
	mux.HandleFunc("GET /analytics-next.js", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript")
		http.ServeFile(w, r, analyticsNext)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		consent, lib := "", ""
		if r.URL.Query().Get("consent") == "wait" {
			consent = ` data-consent="wait"`
		}
		if r.URL.Query().Get("analytics") != "" {
			// analytics.js from npm, as a shop bundles it, on window.analytics.
			lib = fmt.Sprintf(`<script src="/analytics-next.js"></script><script>
window.analytics = AnalyticsNext.AnalyticsBrowser.load({writeKey: %q,
  cdnSettings: {integrations: {"Segment.io": {apiKey: %[1]q, apiHost: %[2]q, protocol: "http"}}}});
analytics.identify(%[3]q);
</script>`, apptest.WriteKey, strings.TrimPrefix(cxloop, "http://")+"/v1", r.URL.Query().Get("analytics"))
		}
		if q := r.URL.Query().Get("queue"); q != "" {
			lib += fmt.Sprintf(`<script>window.cxloop = window.cxloop || []; cxloop.push(["track", %q]);</script>`, q)
		}
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Shop</title><link rel="stylesheet" href="/shop.css">%s</head>
<body><h1>Northwind shop</h1><button id="buy" type="button">Buy</button>
<script async src="%s/v1/web/cxloop.js" data-write-key="%s"%s></script></body></html>`, lib, cxloop, apptest.WriteKey, consent)
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	return hs
}

// analyticsNext is the browser build of @segment/analytics-next, installed
// pinned by make test (clients/browser).
const analyticsNext = "../../clients/browser/node_modules/@segment/analytics-next/dist/umd/index.js"

// widgetState is what the test reads of the widget inside its shadow root.
type widgetState struct {
	Shown      bool
	Dir        string
	Lang       string
	Role       string
	Label      string
	Legend     string
	FontSize   string
	Color      string
	Active     string
	Checked    string
	Left       float64
	Right      float64
	Top        float64
	Bottom     float64
	LastRight  float64
	FirstLeft  float64
	ViewWidth  float64
	ViewHeight float64
	Thanks     string
	PageActive string
	Accent     string
}

const readWidget = `(() => {
  const h = document.querySelector('cxloop-survey');
  const out = {shown: false, pageActive: document.activeElement ? document.activeElement.id : ''};
  if (!h) return out;
  const r = h.shadowRoot, box = r.querySelector('[role=dialog]');
  const rect = box.getBoundingClientRect(), st = getComputedStyle(box);
  const spans = r.querySelectorAll('.scale span');
  const lbl = r.getElementById(box.getAttribute('aria-labelledby'));
  const legend = r.querySelector('legend');
  const a = r.activeElement, c = r.querySelector('input:checked'), th = r.querySelector('[role=status]');
  return {shown: rect.width > 0 && rect.height > 0 && st.display !== 'none' && st.visibility !== 'hidden',
    dir: st.direction, lang: box.getAttribute('lang'), role: box.getAttribute('role'), label: lbl ? lbl.textContent : '',
    legend: legend ? legend.textContent : '', fontSize: legend ? getComputedStyle(legend).fontSize : '', color: legend ? getComputedStyle(legend).color : '',
    active: a ? (a.name || a.tagName) + '=' + (a.value || '') : '', checked: c ? c.value : '',
    left: rect.left, right: rect.right, top: rect.top, bottom: rect.bottom,
    lastRight: spans.length ? spans[spans.length-1].getBoundingClientRect().right : 0,
    firstLeft: spans.length ? spans[0].getBoundingClientRect().left : 0,
    viewWidth: document.documentElement.clientWidth, viewHeight: window.innerHeight,
    thanks: th ? th.textContent : '', pageActive: out.pageActive,
    accent: r.querySelector('.send') ? getComputedStyle(r.querySelector('.send')).backgroundColor : ''};
})()`

func widget(t *testing.T, ctx context.Context) widgetState {
	t.Helper()
	var w widgetState
	raw := run(t, ctx, chromedp.Evaluate[json.RawMessage](readWidget))
	if err := json.Unmarshal(raw, &w); err != nil {
		t.Fatalf("widget state %s: %v", raw, err)
	}
	return w
}

// waitWidget waits up to 10 s for the widget to show and returns how long it took.
func waitWidget(t *testing.T, ctx context.Context) (widgetState, time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		w := widget(t, ctx)
		if w.Shown {
			return w, time.Since(start)
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("the survey did not show: %+v", w)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// visitShop opens a shop page, as a new visitor when fresh (the widget's
// anonymous id forgotten), and waits for the widget to load.
func visitShop(t *testing.T, ctx context.Context, url string, fresh bool) {
	t.Helper()
	open(t, ctx, url, `#buy`)
	if fresh {
		run(t, ctx, chromedp.Evaluate[bool](`localStorage.removeItem('cxloop_aid'), true`))
		open(t, ctx, url, `#buy`)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!(window.cxloop && window.cxloop.version)`))
		if err == nil && ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the widget did not load on %s (%v)", url, err)
		}
	}
}

func press(t *testing.T, ctx context.Context, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := chromedp.Do(ctx, chromedp.KeyEvent(k)); err != nil {
			t.Fatal(err)
		}
	}
}

// checkout is one test's cxloop with a persistent survey shown on the
// checkout pages, a second origin serving the shop, and a browser.
type checkout struct {
	s   *apptest.Server
	id  string
	hs  *httptest.Server
	ctx context.Context
}

func newCheckout(t *testing.T, dsn string) *checkout {
	t.Helper()
	ctx := browser(t)
	s, _ := apptest.StartAt(t, dsn, apptest.Epoch)
	s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
	var sv struct{ ID string }
	if code := s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "Checkout", "rhythm": "persistent", "owner": "web",
		"languages": ["en", "ar"], "web": {"event": "Checkout Started", "url": "/checkout/*", "delay": "1s"},
		"questions": [{"id": "q1", "type": "nps", "text": {"en": "How likely are you to recommend our shop?", "ar": "ما مدى احتمال أن توصي بمتجرنا؟"}},
			{"id": "q2", "type": "text", "text": {"en": "What could we do better?", "ar": "ما الذي يمكننا تحسينه؟"}}]}`), &sv); code != 201 {
		t.Fatalf("survey: %d", code)
	}
	if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "Detractors", "when": {"event": "Survey Responded", "nps_max": 6},
		"then": {"open_case": {"team": "service", "kind": "detractor", "sla": "48h"}}}`), nil); code != 201 {
		t.Fatalf("rule: %d", code)
	}
	return &checkout{s: s, id: sv.ID, hs: shop(t, s.URL), ctx: ctx}
}

func (c *checkout) funnel() survey.Funnel {
	var out struct{ Funnel survey.Funnel }
	c.s.API("GET", "/api/v1/surveys/"+c.id, nil, &out)
	return out.Funnel
}

// track focuses the shop's button and tells the widget about Checkout Started.
func (c *checkout) track(t *testing.T) {
	t.Helper()
	if err := chromedp.Do(c.ctx, chromedp.Focus(chromedp.CSS(`#buy`))); err != nil {
		t.Fatal(err)
	}
	run(t, c.ctx, chromedp.Evaluate[bool](`cxloop.track('Checkout Started'), true`))
}

// A survey appears inside a shop's page (another origin, a hostile
// stylesheet) when its trigger fires: the track event, on a page whose URL
// matches, after the delay. The visitor answers with the keyboard only; the
// score is recorded and the detractor rule opens a case. A second visitor
// dismisses it with Escape and is not asked again on the next page view.
func TestWebIntercept(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		c := newCheckout(t, dsn)
		s, sv, hs, ctx, funnel := c.s, struct{ ID string }{c.id}, c.hs, c.ctx, c.funnel
		track := func() { t.Helper(); c.track(t) }

		// The URL pattern: the same event on the home page shows nothing.
		visitShop(t, ctx, hs.URL+"/", true)
		track()
		time.Sleep(2 * time.Second)
		if w := widget(t, ctx); w.Shown || funnel().Contacted != 0 {
			t.Fatalf("shown off the checkout pages: %+v %+v", w, funnel())
		}
		// A page view alone on a checkout page shows nothing either.
		visitShop(t, ctx, hs.URL+"/checkout/cart", false)
		time.Sleep(1500 * time.Millisecond)
		if w := widget(t, ctx); w.Shown {
			t.Fatalf("shown without the track event: %+v", w)
		}

		// The track event on a checkout page: shown after the delay.
		track()
		w, waited := waitWidget(t, ctx)
		if waited < 900*time.Millisecond {
			t.Errorf("shown %v after the event, before the 1 s delay", waited)
		}
		if w.Role != "dialog" || w.Label != "How likely are you to recommend our shop?" || w.Dir != "ltr" || w.Lang != "en" {
			t.Errorf("dialog %+v", w)
		}
		if w.FontSize != "15px" || w.Color == "rgb(255, 0, 255)" {
			t.Errorf("the shop's stylesheet reached the widget: font %s colour %s", w.FontSize, w.Color)
		}
		if w.Accent != "rgb(10, 125, 72)" {
			t.Errorf("the shop's --cxloop-accent did not colour the button: %q", w.Accent)
		}
		if w.Active != "q1=0" {
			t.Errorf("focus is on %q, want the first point of the scale", w.Active)
		}
		if dir := os.Getenv("CXLOOP_SCREENSHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "web-intercept.png"), run(t, ctx, chromedp.FullScreenshot(100)), 0o644)
		}

		// Keyboard only: arrows pick 3 in the radio group, Tab to the text
		// question, type, Tab to the button, Enter.
		press(t, ctx, kb.ArrowRight, kb.ArrowRight, kb.ArrowRight)
		if w := widget(t, ctx); w.Checked != "3" || w.Active != "q1=3" {
			t.Fatalf("after three right arrows: checked %q, focus %q", w.Checked, w.Active)
		}
		press(t, ctx, "\t", "Slow checkout", "\t")
		if w := widget(t, ctx); w.Active != "BUTTON=" {
			t.Fatalf("Tab order: focus on %q, want the submit button", w.Active)
		}
		press(t, ctx, kb.Enter)
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			if w = widget(t, ctx); w.Thanks != "" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no thanks after submitting: %+v", w)
			}
		}
		s.Sync()
		var sc struct {
			Groups []struct {
				Value float64
				N     int
			}
		}
		s.API("GET", "/api/v1/scores?metric=nps&survey="+sv.ID, nil, &sc)
		if len(sc.Groups) != 1 || sc.Groups[0].N != 1 || sc.Groups[0].Value != -100 {
			t.Fatalf("scores after the in-page answer: %+v", sc)
		}
		var cs struct {
			Cases []struct{ Kind string }
		}
		s.API("GET", "/api/v1/cases?limit=10", nil, &cs)
		if len(cs.Cases) != 1 || cs.Cases[0].Kind != "detractor" {
			t.Fatalf("cases after a detractor's in-page answer: %+v", cs)
		}
		var rs struct {
			Responses []struct {
				Channel string
				Answers map[string]any
			}
		}
		s.API("GET", "/api/v1/surveys/"+sv.ID+"/responses", nil, &rs)
		if len(rs.Responses) != 1 || rs.Responses[0].Channel != "web" || rs.Responses[0].Answers["q2"] != "Slow checkout" {
			t.Fatalf("responses %+v", rs)
		}

		// A new visitor dismisses it with Escape; focus goes back to the page.
		visitShop(t, ctx, hs.URL+"/checkout/cart", true)
		track()
		waitWidget(t, ctx)
		press(t, ctx, kb.Escape)
		time.Sleep(300 * time.Millisecond)
		if w := widget(t, ctx); w.Shown || w.PageActive != "buy" {
			t.Fatalf("after Escape: %+v", w)
		}
		for deadline := time.Now().Add(5 * time.Second); funnel().Dismissed != 1; time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("dismissal not recorded: %+v", funnel())
			}
		}
		// The next page view: the contact policy keeps it away.
		visitShop(t, ctx, hs.URL+"/checkout/pay", false)
		track()
		time.Sleep(2500 * time.Millisecond)
		if w := widget(t, ctx); w.Shown {
			t.Fatalf("shown again on the next page view: %+v", w)
		}
		if f := funnel(); f.Contacted != 2 || f.Answered != 1 || f.ResponseRate == nil || *f.ResponseRate != 0.5 {
			t.Fatalf("funnel %+v", f)
		}

	})
}

// The widget waits for consent when the shop says so, takes the visitor
// and the events from analytics.js, waits for exit intent, fits a 360 px
// phone and reads right to left in Arabic.
func TestWebInterceptPages(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		c := newCheckout(t, dsn)
		s, sv, hs, ctx, funnel := c.s, struct{ ID string }{c.id}, c.hs, c.ctx, c.funnel
		track := func() { t.Helper(); c.track(t) }
		var w widgetState

		// A shop that waits for consent: nothing stored, nothing asked, until
		// it calls cxloop.consent(); then the event seen before shows the survey.
		visitShop(t, ctx, hs.URL+"/checkout/cart?consent=wait", true)
		track()
		time.Sleep(1500 * time.Millisecond)
		if w := widget(t, ctx); w.Shown || run(t, ctx, chromedp.Evaluate[bool](`localStorage.getItem('cxloop_aid') === null`)) != true || funnel().Contacted != 0 {
			t.Fatalf("before consent: %+v %+v", w, funnel())
		}
		run(t, ctx, chromedp.Evaluate[bool](`cxloop.consent(), true`))
		waitWidget(t, ctx)
		if run(t, ctx, chromedp.Evaluate[bool](`localStorage.getItem('cxloop_aid') !== null`)) != true {
			t.Fatal("no anonymous id stored after consent")
		}
		press(t, ctx, kb.Escape)

		// analytics.js on the page: the widget uses its visitor and hears its track.
		if _, err := os.Stat(analyticsNext); err == nil {
			visitShop(t, ctx, hs.URL+"/checkout/cart?analytics=shopper-7", true)
			if err := chromedp.Do(ctx, chromedp.Focus(chromedp.CSS(`#buy`))); err != nil {
				t.Fatal(err)
			}
			// The track promise waits for delivery, which this cxloop is not asked about here.
			anon := run(t, ctx, chromedp.Evaluate[string](`analytics.track('Checkout Started'), analytics.user().then(u => u.anonymousId())`, chromedp.EvalAwaitPromise))
			waitWidget(t, ctx)
			var invs struct {
				Invitations []struct{ UserID, AnonymousID, Delivery, Status string }
			}
			s.API("GET", "/api/v1/surveys/"+sv.ID+"/invitations", nil, &invs)
			found := 0
			for _, inv := range invs.Invitations {
				if inv.UserID == "shopper-7" && inv.AnonymousID == anon && anon != "" && inv.Delivery == "web" && inv.Status == "sent" {
					found++
				}
			}
			if found != 1 {
				t.Fatalf("the invitation shown with analytics.js (anonymousId %q): %+v", anon, invs.Invitations)
			}
			press(t, ctx, kb.Escape)
		} else if os.Getenv("CXLOOP_REQUIRE_NODE") != "" {
			t.Fatalf("analytics.js is not installed: %v (make test runs npm ci in clients/browser)", err)
		}

		// Exit intent: a survey for leavers waits until the pointer leaves
		// through the top of the window; a call queued before the script
		// loaded (window.cxloop as an array) is run.
		var leave struct{ ID string }
		if code := s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "Leaving", "rhythm": "pulse", "owner": "web",
			"web": {"event": "Cart Viewed", "url": "leaving", "exitIntent": true},
			"questions": [{"id": "q1", "type": "csat", "text": {"en": "How was your visit?"}}]}`), &leave); code != 201 {
			t.Fatalf("exit survey: %d", code)
		}
		visitShop(t, ctx, hs.URL+"/leaving?queue=Cart+Viewed", true)
		if err := chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 600, 300)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(1500 * time.Millisecond)
		if w := widget(t, ctx); w.Shown {
			t.Fatalf("an exit-intent survey showed before the pointer left: %+v", w)
		}
		if err := chromedp.Do(ctx, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 600, 100), chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 600, -20)); err != nil {
			t.Fatal(err)
		}
		if w, _ = waitWidget(t, ctx); w.Label != "How was your visit?" {
			t.Fatalf("exit-intent survey: %+v", w)
		}
		press(t, ctx, kb.Escape)

		// Phone width: within the 360 px viewport, the whole 0–10 scale too.
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740, chromedp.EmulateMobile, chromedp.EmulatePortrait)); err != nil {
			t.Fatal(err)
		}
		visitShop(t, ctx, hs.URL+"/checkout/cart", true)
		track()
		w, _ = waitWidget(t, ctx)
		if w.ViewWidth != 360 || w.Left < 0 || w.Right > 360 || w.Top < 0 || w.Bottom > w.ViewHeight || w.Right-w.Left < 300 || w.LastRight > 360 || w.FirstLeft < 0 {
			t.Fatalf("at 360 px: %+v", w)
		}
		if dir := os.Getenv("CXLOOP_SCREENSHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "web-intercept-phone.png"), run(t, ctx, chromedp.FullScreenshot(100)), 0o644)
		}

		// An Arabic browser: the survey in Arabic, right to left, on the left side.
		ua := run(t, ctx, chromedp.Evaluate[string](`navigator.userAgent`))
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900), chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: ua, AcceptLanguage: "ar-EG,ar"})
			return err
		})); err != nil {
			t.Fatal(err)
		}
		visitShop(t, ctx, hs.URL+"/checkout/cart", true)
		if lang := run(t, ctx, chromedp.Evaluate[string](`navigator.language`)); !strings.HasPrefix(lang, "ar") {
			t.Fatalf("navigator.language %q", lang)
		}
		track()
		w, _ = waitWidget(t, ctx)
		if w.Dir != "rtl" || w.Lang != "ar" || w.Legend != "ما مدى احتمال أن توصي بمتجرنا؟" || w.Left > 100 {
			t.Fatalf("in Arabic: %+v", w)
		}
		if dir := os.Getenv("CXLOOP_SCREENSHOTS"); dir != "" {
			_ = os.WriteFile(filepath.Join(dir, "web-intercept-rtl.png"), run(t, ctx, chromedp.FullScreenshot(100)), 0o644)
		}
	})
}
