package ingest_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/ingest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// do sends a request and returns the whole response (body read).
func do(t *testing.T, method, url string, body []byte, headers ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	tr := &http.Transport{DisableCompression: true}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp, out
}

// Every path analytics.js and the spec post to takes its message, with the
// write key in the body and a text/plain body, as browsers send them.
func TestBrowserPaths(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		key := `"writeKey":"` + apptest.WriteKey + `"`
		bodies := map[string]string{
			"t": `{"type":"track","event":"Short Track","anonymousId":"bp-anon",` + key + `}`,
			"p": `{"type":"page","name":"Home","anonymousId":"bp-anon",` + key + `}`,
			"i": `{"type":"identify","userId":"bp-user","anonymousId":"bp-anon","traits":{"plan":"gold"},` + key + `}`,
			"g": `{"type":"group","groupId":"bp-co","userId":"bp-user",` + key + `}`,
			"s": `{"type":"screen","name":"Cart","userId":"bp-user",` + key + `}`,
			"a": `{"type":"alias","previousId":"bp-old","userId":"bp-user",` + key + `}`,
			"b": `{"batch":[{"type":"track","event":"Batched","userId":"bp-user",` + key + `}],` + key + `}`,
		}
		for path, body := range bodies {
			resp, out := do(t, "POST", s.URL+"/v1/"+path, []byte(body), "Content-Type: text/plain", "Origin: https://shop.example")
			if resp.StatusCode != 200 || !bytes.Contains(out, []byte(`"success":true`)) {
				t.Fatalf("POST /v1/%s: %d %s", path, resp.StatusCode, out)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
				t.Errorf("POST /v1/%s: Access-Control-Allow-Origin %q", path, resp.Header.Get("Access-Control-Allow-Origin"))
			}
		}
		// The library's metrics are accepted whatever they hold.
		for _, body := range []string{`{"series":[{"type":"Counter","metric":"analytics_js.invoke","value":1,"tags":{}}]}`, `not json`, ``} {
			resp, out := do(t, "POST", s.URL+"/v1/m", []byte(body), "Content-Type: text/plain")
			if resp.StatusCode != 200 {
				t.Fatalf("POST /v1/m %q: %d %s", body, resp.StatusCode, out)
			}
		}
		_, metrics := do(t, "GET", s.URL+"/metrics", nil)
		if !bytes.Contains(metrics, []byte("cxloop_ingest_library_metrics_total 3")) {
			t.Errorf("library metrics not counted")
		}
		s.Sync()
		var p eventsPage
		s.API("GET", "/api/v1/events?customer=bp-user&limit=100", nil, &p)
		seen := map[string]bool{}
		for _, e := range p.Events {
			seen[e.Type] = true
		}
		for _, typ := range []string{"track", "page", "identify", "group", "screen", "alias"} {
			if !seen[typ] {
				t.Errorf("no %s event stored; saw %v", typ, seen)
			}
		}
	})
}

// Every /v1 answer carries CORS headers, errors included, and every error
// is JSON naming the field.
func TestCORSOnErrors(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[0]))
	cases := []struct {
		name, method, path, body string
		code                     int
		errCode, field           string
	}{
		{"unknown path", "POST", "/v1/nope", `{}`, 404, "not_found", "path"},
		{"unknown nested path", "GET", "/v1/web/nothing.js", ``, 404, "not_found", "path"},
		{"wrong method", "GET", "/v1/track", ``, 405, "method_not_allowed", "method"},
		{"wrong method short", "PUT", "/v1/t", `{}`, 405, "method_not_allowed", "method"},
		{"no write key", "POST", "/v1/t", `{"type":"track","event":"E","anonymousId":"a"}`, 401, "unauthorized", ""},
		{"bad json", "POST", "/v1/p", `{"writeKey":`, 400, "invalid", "body"},
		{"missing event", "POST", "/v1/t", `{"type":"track","anonymousId":"a","writeKey":"` + apptest.WriteKey + `"}`, 400, "invalid", "event"},
		{"unknown key for settings", "GET", "/v1/projects/wk_nope/settings", ``, 404, "not_found", "writeKey"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, out := do(t, tc.method, s.URL+tc.path, []byte(tc.body), "Origin: https://shop.example", "Content-Type: text/plain")
			if resp.StatusCode != tc.code {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.code, out)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://shop.example" {
				t.Errorf("Access-Control-Allow-Origin %q", got)
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
			var e apiError
			if err := json.Unmarshal(out, &e); err != nil {
				t.Fatalf("not JSON: %s", out)
			}
			if e.Error.Code != tc.errCode || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("error %+v, want %s on %q", e.Error, tc.errCode, tc.field)
			}
			if tc.code == 405 && !strings.Contains(resp.Header.Get("Allow"), "POST") {
				t.Errorf("Allow %q", resp.Header.Get("Allow"))
			}
		})
	}
}

// A preflight allows the headers the browser asks for, or the documented
// list, and may be cached.
func TestCORSPreflight(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[0]))
	for _, path := range []string{"/v1/t", "/v1/track", "/v1/b", "/v1/batch", "/v1/m", "/v1/projects/x/settings"} {
		asked := "authorization,content-type,x-retry-count,anonymousid,sentat"
		resp, _ := do(t, "OPTIONS", s.URL+path, nil, "Origin: https://shop.example",
			"Access-Control-Request-Method: POST", "Access-Control-Request-Headers: "+asked)
		h := resp.Header
		if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != "https://shop.example" ||
			h.Get("Access-Control-Allow-Headers") != asked || !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			h.Get("Access-Control-Max-Age") == "" || h.Get("Access-Control-Allow-Credentials") != "true" {
			t.Errorf("OPTIONS %s: %d %v", path, resp.StatusCode, h)
		}
	}
	// No header asked, or a list that is not header names: the documented list.
	for _, asked := range []string{"", "x-a, bad header\r"} {
		resp, _ := do(t, "OPTIONS", s.URL+"/v1/p", nil, "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: "+asked)
		got := resp.Header.Get("Access-Control-Allow-Headers")
		for _, want := range []string{"Authorization", "Content-Type", "X-Retry-Count", "AnonymousId", "SentAt", "RSA-Request-Attempt"} {
			if !strings.Contains(got, want) {
				t.Errorf("asked %q: Allow-Headers %q lack %s", asked, got, want)
			}
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("without Origin: Allow-Origin %q", resp.Header.Get("Access-Control-Allow-Origin"))
		}
	}
	if strings.Join(ingest.AllowedHeaders, ",") == "" {
		t.Fatal("no documented headers")
	}
}

// RudderStack's SDKs send identify traits in context.traits only.
func TestContextTraits(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.MustSend("identify", map[string]any{"userId": "rs-user", "anonymousId": "rs-anon", "traits": map[string]any{},
			"context": map[string]any{"traits": map[string]any{"email": "rs@example.com", "plan": "gold"}, "library": map[string]any{"name": "RudderLabs JavaScript SDK", "version": "3.34.1"}}})
		// Top-level traits win over context.traits.
		s.MustSend("identify", map[string]any{"userId": "rs-user2", "traits": map[string]any{"plan": "silver"},
			"context": map[string]any{"traits": map[string]any{"plan": "ignored"}}})
		s.Sync()
		var c struct {
			Traits   map[string]any
			Channels []struct{ Channel string }
		}
		if code := s.API("GET", "/api/v1/customers/rs-user", nil, &c); code != 200 {
			t.Fatalf("customer: %d", code)
		}
		if c.Traits["email"] != "rs@example.com" || c.Traits["plan"] != "gold" {
			t.Errorf("traits %v", c.Traits)
		}
		if len(c.Channels) != 1 || c.Channels[0].Channel != "web" {
			t.Errorf("channels %+v; RudderStack's JavaScript SDK is a web library", c.Channels)
		}
		s.API("GET", "/api/v1/customers/rs-user2", nil, &c)
		if c.Traits["plan"] != "silver" {
			t.Errorf("traits %v", c.Traits)
		}
	})
}

// cxloop serves analytics.js (gzipped when accepted, cacheable) and the
// settings document analytics.js asks its CDN for.
func TestAnalyticsJSAndSettings(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[0]))
	plain, js := do(t, "GET", s.URL+"/v1/web/analytics.js", nil)
	if plain.StatusCode != 200 || !strings.HasPrefix(plain.Header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(plain.Header.Get("Cache-Control"), "max-age=") || plain.Header.Get("ETag") == "" || len(js) < 50_000 {
		t.Fatalf("analytics.js: %d %v, %d bytes", plain.StatusCode, plain.Header, len(js))
	}
	if !bytes.Contains(js, []byte(ingest.AnalyticsJSVersion())) {
		t.Errorf("analytics.js does not name its version %s", ingest.AnalyticsJSVersion())
	}
	zipped, gz := do(t, "GET", s.URL+"/v1/web/analytics.js", nil, "Accept-Encoding: br, gzip")
	if zipped.Header.Get("Content-Encoding") != "gzip" || len(gz) > len(js)/2 {
		t.Fatalf("gzip: %v, %d bytes", zipped.Header, len(gz))
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, _ := io.ReadAll(zr)
	if !bytes.Equal(unzipped, js) {
		t.Fatal("gzipped analytics.js differs")
	}
	again, body := do(t, "GET", s.URL+"/v1/web/analytics.js", nil, "If-None-Match: "+plain.Header.Get("ETag"))
	if again.StatusCode != 304 || len(body) != 0 {
		t.Errorf("revalidation: %d, %d bytes", again.StatusCode, len(body))
	}
	// The Segment CDN's layout serves the same file.
	cdn, same := do(t, "GET", s.URL+"/analytics.js/v1/"+apptest.WriteKey+"/analytics.min.js", nil)
	if cdn.StatusCode != 200 || !bytes.Equal(same, js) {
		t.Errorf("CDN layout: %d", cdn.StatusCode)
	}

	// Its chunks, loaded on demand from {cdn}/analytics-next/bundles/.
	chunk, body := do(t, "GET", s.URL+"/analytics-next/bundles/queryString.bundle.34b193ada8fe288d1bd1.js", nil)
	if chunk.StatusCode != 200 || !strings.Contains(chunk.Header.Get("Cache-Control"), "immutable") || !bytes.Contains(body, []byte("queryString")) {
		t.Errorf("chunk: %d %v", chunk.StatusCode, chunk.Header)
	}
	if missing, _ := do(t, "GET", s.URL+"/analytics-next/bundles/nope.js", nil); missing.StatusCode != 404 {
		t.Errorf("unknown chunk: %d", missing.StatusCode)
	}

	// RudderStack's source configuration.
	for _, path := range []string{"/v1/sourceConfig/?p=npm&v=3.34.1&writeKey=" + apptest.WriteKey, "/v1/sourceConfig?writeKey=" + apptest.WriteKey} {
		rs, out := do(t, "GET", s.URL+path, nil, "Origin: https://shop.example")
		var cfg struct {
			Source struct {
				ID           string `json:"id"`
				Enabled      bool   `json:"enabled"`
				Destinations []any  `json:"destinations"`
				Config       map[string]any
			}
		}
		if err := json.Unmarshal(out, &cfg); err != nil || rs.StatusCode != 200 || cfg.Source.ID == "" || !cfg.Source.Enabled ||
			cfg.Source.Destinations == nil || cfg.Source.Config == nil || rs.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
			t.Errorf("GET %s: %d %s", path, rs.StatusCode, out)
		}
	}
	if rs, _ := do(t, "GET", s.URL+"/v1/sourceConfig/?writeKey=wk_nope", nil); rs.StatusCode != 404 {
		t.Errorf("sourceConfig for an unknown key: %d", rs.StatusCode)
	}

	resp, out := do(t, "GET", s.URL+"/v1/projects/"+apptest.WriteKey+"/settings", nil, "Origin: https://shop.example")
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Fatalf("settings: %d %v %s", resp.StatusCode, resp.Header, out)
	}
	var settings struct {
		Integrations map[string]struct {
			APIKey   string `json:"apiKey"`
			APIHost  string `json:"apiHost"`
			Protocol string `json:"protocol"`
		} `json:"integrations"`
	}
	if err := json.Unmarshal(out, &settings); err != nil {
		t.Fatal(err)
	}
	seg, ok := settings.Integrations["Segment.io"]
	host := strings.TrimPrefix(s.URL, "http://")
	if !ok || len(settings.Integrations) != 1 || seg.APIHost != host+"/v1" || seg.Protocol != "http" || seg.APIKey != apptest.WriteKey {
		t.Errorf("settings %s", out)
	}
}

// The snippet loads analytics.js from the given cxloop, carries the write
// key as a JavaScript string that cannot end the script, and is the one
// docs/web.md shows.
func TestSnippet(t *testing.T) {
	sn := ingest.Snippet("https://cx.example.com/", "wk_abc")
	for _, want := range []string{`a._writeKey="wk_abc"`, `a._cdn="https://cx.example.com"`, `"https://cx.example.com"+"/v1/web/analytics.js"`, "analytics.load();\nanalytics.page();",
		`<script async src="https://cx.example.com/v1/web/cxloop.js" data-write-key="wk_abc"></script>`} {
		if !strings.Contains(sn, want) {
			t.Errorf("snippet lacks %s:\n%s", want, sn)
		}
	}
	evil := ingest.Snippet("https://cx.example.com", `"</script><script>alert(1)//`)
	if strings.Count(evil, "</script>") != 2 || strings.Contains(evil, `"</script>`) || strings.Contains(evil, `"<`) {
		t.Errorf("a write key ends the script:\n%s", evil)
	}
	doc, err := os.ReadFile("../../docs/web.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), ingest.Snippet("https://cx.example.com", "wk_…")) {
		t.Errorf("docs/web.md does not show the snippet cxloop gives:\n%s", ingest.Snippet("https://cx.example.com", "wk_…"))
	}
}
