package ingest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
)

// analyticsJS is the published standalone build of @segment/analytics-next
// (dist/umd/standalone.js), vendored unchanged by scripts/vendor-analytics-js.
//
//go:embed assets/analytics.min.js
var analyticsJS []byte

// analyticsBundles are the chunks analytics.js loads on demand from
// {cdn}/analytics-next/bundles/ (link and form tracking, ajs_ query
// parameters, middleware), vendored with it.
//
//go:embed assets/bundles/*.js
var analyticsBundles embed.FS

// AnalyticsJSVersion is the vendored analytics-next's version, as written
// by scripts/vendor-analytics-js.
//
//go:embed assets/analytics.version
var analyticsJSVersion string

// AnalyticsJSVersion returns the version of the analytics.js cxloop serves.
func AnalyticsJSVersion() string { return strings.TrimSpace(analyticsJSVersion) }

// Web serves what a web page needs from cxloop: the analytics.js library and
// the settings document it asks its CDN for.
type Web struct {
	sources   *Sources
	publicURL func() string
	logger    *slog.Logger
	js, jsGz  []byte
	etag      string
}

// NewWeb returns the web assets handler; publicURL (may be nil or return
// "") is where browsers reach cxloop; without it a request's own host is.
func NewWeb(sources *Sources, publicURL func() string, logger *slog.Logger) *Web {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(analyticsJS)
	_ = zw.Close()
	sum := sha256.Sum256(analyticsJS)
	return &Web{sources: sources, publicURL: publicURL, logger: logger, js: analyticsJS, jsGz: buf.Bytes(),
		etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// SetWeb attaches the web assets (analytics.js and its settings) to the
// /v1 routes.
func (h *Handler) SetWeb(w *Web) { h.web = w }

func (wb *Web) register(mux *http.ServeMux) {
	if wb == nil {
		return
	}
	mux.Handle("GET /v1/web/analytics.js", CORS(http.HandlerFunc(wb.analytics)))
	// The layout of Segment's CDN, so that a snippet whose host alone is
	// changed to cxloop's loads the same library.
	mux.Handle("GET /analytics.js/v1/{writeKey}/analytics.min.js", CORS(http.HandlerFunc(wb.analytics)))
	// analytics.js fetches {cdnURL}/v1/projects/{writeKey}/settings.
	mux.Handle("GET /v1/projects/{writeKey}/settings", CORS(http.HandlerFunc(wb.settings)))
	// analytics.js loads its chunks from {cdnURL}/analytics-next/bundles/.
	mux.Handle("GET /analytics-next/bundles/{name}", CORS(http.HandlerFunc(wb.bundle)))
	// RudderStack's SDKs fetch {configUrl}/sourceConfig/?writeKey=...
	mux.Handle("GET /v1/sourceConfig/", CORS(http.HandlerFunc(wb.sourceConfig)))
	mux.Handle("GET /v1/sourceConfig", CORS(http.HandlerFunc(wb.sourceConfig)))
}

// bundle serves one of analytics.js's chunks; their names carry a content
// hash, so they are cached for a year.
func (wb *Web) bundle(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	b, err := analyticsBundles.ReadFile("assets/bundles/" + name)
	if err != nil || strings.Contains(name, "/") {
		httpio.JSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{
			"code": "not_found", "field": "path", "message": "no analytics.js chunk is called " + name}})
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
}

// sourceConfig answers the source configuration RudderStack's SDKs ask
// for (configUrl pointed at cxloop's /v1): the source, enabled, with no
// device-mode destinations and the SDK's own error and metrics reporting off.
func (wb *Web) sourceConfig(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("writeKey")
	if key == "" {
		if u, _, ok := r.BasicAuth(); ok {
			key = u
		}
	}
	src, ok := wb.source(w, r, key)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	httpio.JSON(w, http.StatusOK, map[string]any{
		"isHosted": false,
		"source": map[string]any{
			"id": src.ID, "name": src.Name, "workspaceId": "cxloop", "enabled": true, "writeKey": key,
			"config": map[string]any{
				"statsCollection": map[string]any{"errors": map[string]bool{"enabled": false}, "metrics": map[string]bool{"enabled": false}},
			},
			"destinations": []any{},
		},
	})
}

// source finds the source of a write key asked for in a URL, answering
// 404 (JSON) when there is none.
func (wb *Web) source(w http.ResponseWriter, r *http.Request, key string) (Source, bool) {
	if key == "" {
		httpio.JSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{
			"code": "not_found", "field": "writeKey", "message": "a write key is required"}})
		return Source{}, false
	}
	src, err := wb.sources.ByKey(r.Context(), key)
	if err != nil {
		if fault.Code(err) == fault.Unauthorized {
			httpio.JSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{
				"code": "not_found", "field": "writeKey", "message": "no source has this write key"}})
			return Source{}, false
		}
		httpio.Error(w, wb.logger, err)
		return Source{}, false
	}
	return src, true
}

// analytics serves the vendored analytics.js, gzipped when the browser
// accepts it, cacheable for a day and revalidated by its ETag.
func (wb *Web) analytics(w http.ResponseWriter, r *http.Request) {
	body, etag := wb.js, wb.etag
	hd := w.Header()
	hd.Add("Vary", "Accept-Encoding")
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = wb.jsGz, strings.TrimSuffix(wb.etag, `"`)+`-gz"`
		hd.Set("Content-Encoding", "gzip")
	}
	hd.Set("Content-Type", "text/javascript; charset=utf-8")
	hd.Set("Cache-Control", "public, max-age=86400")
	hd.Set("ETag", etag)
	hd.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// acceptsGzip says whether an Accept-Encoding header accepts gzip (a q of
// zero refuses it).
func acceptsGzip(header string) bool {
	for _, part := range strings.Split(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		q := strings.TrimSpace(params)
		if v, ok := strings.CutPrefix(q, "q="); ok {
			if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil && f == 0 {
				return false
			}
		}
		return true
	}
	return false
}

// settings answers analytics.js's settings request for a write key: the
// "Segment.io" integration, pointed at this cxloop's /v1, and nothing else
// (no destinations, no middleware, no remote plugins).
func (wb *Web) settings(w http.ResponseWriter, r *http.Request) {
	key := r.PathValue("writeKey")
	if _, ok := wb.source(w, r, key); !ok {
		return
	}
	base := wb.base(r)
	u, _ := url.Parse(base)
	apiHost := u.Host + strings.TrimRight(u.Path, "/") + "/v1"
	w.Header().Set("Cache-Control", "public, max-age=300")
	httpio.JSON(w, http.StatusOK, map[string]any{
		"integrations": map[string]any{
			"Segment.io": map[string]any{
				"apiKey":                key,
				"apiHost":               apiHost,
				"protocol":              u.Scheme,
				"unbundledIntegrations": []string{},
				"addBundledMetadata":    false,
			},
		},
		"plan": map[string]any{
			"track":    map[string]any{"__default": map[string]any{"enabled": true, "integrations": map[string]any{}}},
			"identify": map[string]any{"__default": map[string]any{"enabled": true}},
			"group":    map[string]any{"__default": map[string]any{"enabled": true}},
		},
		"analyticsNextEnabled":      true,
		"middlewareSettings":        map[string]any{},
		"enabledMiddleware":         map[string]any{},
		"metrics":                   map[string]any{"sampleRate": 0.1, "host": apiHost},
		"legacyVideoPluginsEnabled": false,
		"remotePlugins":             []any{},
	})
}

// base is cxloop's public URL, or the scheme and host the request came to.
func (wb *Web) base(r *http.Request) string {
	if wb.publicURL != nil {
		if u := strings.TrimRight(wb.publicURL(), "/"); u != "" {
			return u
		}
	}
	scheme := "http"
	if r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// Snippet is the HTML a shop pastes into its pages' <head>: it defines
// window.analytics as a queue at once, loads analytics.js from cxloop at base
// (its public URL) with the source's write key, settings and events going
// to cxloop too, and records the page view; then it loads the survey widget
// (/v1/web/cxloop.js), which shows the web surveys inside the page. A shop that must ask for
// consent first removes the analytics.load() line and calls it once the
// visitor agrees: until then nothing is loaded, stored or sent.
func Snippet(base, writeKey string) string {
	base = strings.TrimRight(base, "/")
	var buf bytes.Buffer
	_ = snippet.Execute(&buf, map[string]string{"Base": base, "WriteKey": writeKey})
	return buf.String()
}

var snippet = template.Must(template.New("snippet").Parse(`<script>
!function(){var a=window.analytics=window.analytics||[];if(a.initialize||a.invoked)return;a.invoked=!0;
a.methods=["track","identify","page","group","alias","screen","reset","ready","on","once","off","debug","setAnonymousId","addSourceMiddleware","addIntegrationMiddleware","addDestinationMiddleware","register","trackLink","trackForm","pageview","user"];
a.factory=function(m){return function(){var e=Array.prototype.slice.call(arguments);e.unshift(m);a.push(e);return a}};
for(var i=0;i<a.methods.length;i++){var k=a.methods[i];a[k]=a.factory(k)}
a.load=function(opts){if(a._loaded)return;a._loaded=!0;a._writeKey={{.WriteKey}};a._cdn={{.Base}};a._loadOptions=opts;
var s=document.createElement("script");s.async=!0;s.src={{.Base}}+"/v1/web/analytics.js";
var f=document.getElementsByTagName("script")[0];f?f.parentNode.insertBefore(s,f):document.head.appendChild(s)};
analytics.load();
analytics.page();
}();
</script>
<script async src="{{.Base}}/v1/web/cxloop.js" data-write-key="{{.WriteKey}}"></script>`))
