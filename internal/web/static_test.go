package web_test

import (
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The console's scripts come from cxloop itself: ECharts as vendored from
// npm (byte for byte), compressed when the browser takes gzip, cached for
// a year under its versioned name, and revalidated by ETag.
func TestStaticFiles(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[0]))
	local, err := os.ReadFile("static/vendor/echarts-6.1.0.min.js")
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, h map[string]string) *http.Response {
		req, _ := http.NewRequest("GET", s.URL+path, nil)
		for k, v := range h {
			req.Header.Set(k, v)
		}
		// No transparent decompression: the test reads what was sent.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	resp := get("/static/vendor/echarts-6.1.0.min.js", map[string]string{"Accept-Encoding": "gzip, br"})
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") ||
		!strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
		t.Fatalf("echarts: %d %v", resp.StatusCode, resp.Header)
	}
	zr, err := gzip.NewReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(zr)
	a, b := sha256.Sum256(body), sha256.Sum256(local)
	if hex.EncodeToString(a[:]) != hex.EncodeToString(b[:]) {
		t.Fatalf("served echarts differs from the vendored file (%d bytes, want %d)", len(body), len(local))
	}
	if n, _ := io.Copy(io.Discard, get("/static/vendor/echarts-6.1.0.min.js", nil).Body); n != int64(len(local)) {
		t.Fatalf("without gzip: %d bytes, want %d", n, len(local))
	}
	css := get("/static/app.css", nil)
	etag := css.Header.Get("ETag")
	if css.StatusCode != 200 || etag == "" || css.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("app.css: %d %v", css.StatusCode, css.Header)
	}
	if again := get("/static/app.css", map[string]string{"If-None-Match": etag}); again.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidating app.css: %d", again.StatusCode)
	}
	for _, p := range []string{"/static/nothing.js", "/static/vendor/", "/static/charts"} {
		if r := get(p, nil); r.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", p, r.StatusCode)
		}
	}
	// No page refers to anything outside cxloop.
	page := get("/login", nil)
	html, _ := io.ReadAll(page.Body)
	if !strings.Contains(string(html), `src="/static/charts.js"`) || strings.Contains(string(html), "//cdn") || strings.Contains(string(html), "https://") {
		t.Fatalf("the sign-in page's scripts: %s", html)
	}
}

// A path that is no page gets the console's own 404 page, with the way
// home; the API and ingestion keep answering JSON.
func TestNotFoundPage(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[0]))
	c, code, _ := signIn(t, s.URL, url.Values{"token": {apptest.Token}})
	if code != 200 {
		t.Fatalf("sign-in: %d", code)
	}
	for _, client := range []*http.Client{c, http.DefaultClient} {
		resp, err := client.Get(s.URL + "/no/such/page")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		signedIn := client == c
		if resp.StatusCode != 404 || !strings.Contains(string(b), `href="/static/app.css"`) || !strings.Contains(string(b), "There is no page at /no/such/page.") ||
			strings.Contains(string(b), `<nav>`) != signedIn {
			t.Errorf("signed in %v: %d %s", signedIn, resp.StatusCode, b)
		}
	}
	for _, p := range []string{"/api/v1/nothing", "/v1/nothing"} {
		code, body := s.Do(http.MethodGet, p, nil, "Authorization: Bearer "+apptest.Token)
		if code != 404 || !strings.HasPrefix(strings.TrimSpace(string(body)), "{") {
			t.Errorf("%s: %d %s", p, code, body)
		}
	}
}
