package ingest

import (
	"io"
	"net/http"
	"strings"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/httpio"
)

// shortPaths are the one-letter paths analytics.js (analytics-next) posts
// each message type to; the spec's long names are accepted as well.
var shortPaths = map[string]string{
	"t": eventlog.Track, "i": eventlog.Identify, "p": eventlog.Page,
	"s": eventlog.Screen, "g": eventlog.Group, "a": eventlog.Alias,
}

// batchPaths take {"batch": [...]}: the HTTP API's, the import endpoint and
// analytics.js's batching delivery.
var batchPaths = []string{"batch", "import", "b"}

// AllowedHeaders are the request headers a browser may send to /v1 when its
// preflight does not name them: what analytics.js, RudderStack's browser SDK
// and other Segment-spec libraries send. A preflight that names headers gets
// exactly those allowed.
var AllowedHeaders = []string{
	"Content-Type", "Content-Encoding", "Authorization", "X-Retry-Count",
	"AnonymousId", "SentAt", "RSA-Request-Attempt", "RSA-Request-Retry-Attempt",
	"RSA-Request-Retry-Reason", "Retry-Attempt",
}

// corsMaxAge is how long (seconds) a browser may keep a preflight's answer;
// browsers cap it (Chromium at two hours).
const corsMaxAge = "86400"

// Register declares every /v1 route. Every /v1 answer carries CORS headers,
// errors included, and every /v1 error is JSON.
func (h *Handler) Register(mux *http.ServeMux) {
	for _, t := range []string{eventlog.Track, eventlog.Identify, eventlog.Page, eventlog.Screen, eventlog.Group, eventlog.Alias} {
		mux.Handle("POST /v1/"+t, CORS(h.single(t)))
	}
	for short, t := range shortPaths {
		mux.Handle("POST /v1/"+short, CORS(h.single(t)))
	}
	for _, p := range batchPaths {
		mux.Handle("POST /v1/"+p, CORS(http.HandlerFunc(h.batch)))
	}
	mux.Handle("POST /v1/m", CORS(http.HandlerFunc(h.libraryMetrics)))
	mux.Handle("OPTIONS /v1/", CORS(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	mux.Handle("/v1/", CORS(http.HandlerFunc(notFound)))
	h.web.register(mux)
}

// postPath says whether /v1/{name} is a path messages are posted to.
func postPath(name string) bool {
	if eventlog.IsType(name) || shortPaths[name] != "" || name == "m" {
		return true
	}
	for _, p := range batchPaths {
		if p == name {
			return true
		}
	}
	return false
}

// notFound answers any /v1 request no route took: 405 for a message path
// asked with another method than POST, else 404, both as JSON.
func notFound(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/v1/")
	if postPath(name) {
		w.Header().Set("Allow", "POST, OPTIONS")
		httpio.JSON(w, http.StatusMethodNotAllowed, map[string]any{"error": map[string]string{
			"code": "method_not_allowed", "field": "method",
			"message": r.Method + " is not allowed on " + r.URL.Path + "; send messages with POST"}})
		return
	}
	httpio.JSON(w, http.StatusNotFound, map[string]any{"error": map[string]string{
		"code": "not_found", "field": "path",
		"message": r.URL.Path + " is not a cxloop /v1 path; see docs/web.md for the paths accepted"}})
}

// libraryMetrics accepts the metrics analytics.js reports about itself
// (POST /v1/m): they are counted and dropped, and the answer is always 200
// so that the library never retries them.
func (h *Handler) libraryMetrics(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, MaxRequestBytes))
	h.metrics.Inc()
	httpio.JSON(w, http.StatusOK, map[string]any{"success": true})
}

// CORS lets browser libraries on any origin send to cxloop, as they do to
// Segment. It answers preflights with the headers asked for (or
// AllowedHeaders) and a max age, and sets its headers before the handler
// runs, so that errors carry them too. Write keys, not cookies, authorise
// /v1, so reflecting the origin with credentials grants nothing.
func CORS(next http.Handler) http.Handler {
	allowed := strings.Join(AllowedHeaders, ", ")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		if origin := r.Header.Get("Origin"); origin != "" && origin != "null" {
			hd.Set("Access-Control-Allow-Origin", origin)
			hd.Set("Access-Control-Allow-Credentials", "true")
		} else {
			hd.Set("Access-Control-Allow-Origin", "*")
		}
		hd.Add("Vary", "Origin")
		hd.Set("Access-Control-Expose-Headers", "Retry-After, X-RateLimit-Reset")
		if r.Method == http.MethodOptions {
			hd.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			asked := r.Header.Get("Access-Control-Request-Headers")
			if asked != "" && headerList(asked) {
				hd.Set("Access-Control-Allow-Headers", asked)
				hd.Add("Vary", "Access-Control-Request-Headers")
			} else {
				hd.Set("Access-Control-Allow-Headers", allowed)
			}
			hd.Set("Access-Control-Max-Age", corsMaxAge)
		}
		next.ServeHTTP(w, r)
	})
}

// headerList says whether s is a comma-separated list of header names
// short enough to echo back.
func headerList(s string) bool {
	if len(s) > 1024 {
		return false
	}
	for _, name := range strings.Split(s, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			return false
		}
		for i := 0; i < len(name); i++ {
			c := name[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}
