// Package apptest runs a whole cxloop — real database, real HTTP — inside a
// test, with a known write key and admin token.
package apptest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/eventlog"
)

// The write key and admin token every test server starts with.
const (
	WriteKey = "wk_test_write_key"
	Token    = "cxt_test_admin_token"
)

// Server is a running cxloop for one test.
type Server struct {
	*app.App
	URL string
	t   testing.TB
}

// Start runs cxloop on dsn until the test ends, on a clock stopped at
// Epoch: no test depends on the day it runs (StartAt picks the time).
func Start(t testing.TB, dsn string) *Server {
	t.Helper()
	s, _ := StartAt(t, dsn, Epoch)
	return s
}

// StartWith runs cxloop on dsn with configure applied to its configuration
// (a mail server, a clock) until the test ends.
func StartWith(t testing.TB, dsn string, configure func(*app.Config)) *Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	level := slog.LevelWarn
	if os.Getenv("CXLOOP_TEST_LOG") != "" {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	// Tests run their webhook receivers on 127.0.0.1; the guard's own test
	// turns this off.
	cfg := app.Config{DB: dsn, BootstrapWriteKey: WriteKey, BootstrapToken: Token, Logger: log, AllowPrivateTargets: true}
	if configure != nil {
		configure(&cfg)
	}
	a, err := app.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if _, err := a.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(a.Handler())
	a.SetPublicURL(hs.URL)
	a.Start(ctx)
	t.Cleanup(func() {
		hs.Close()
		cancel()
		time.Sleep(20 * time.Millisecond)
		a.Close()
	})
	return &Server{App: a, URL: hs.URL, t: t}
}

// StartAt runs cxloop on dsn on a test clock stopped at now (decisions and
// the arrival of events read it), and returns the clock to move.
func StartAt(t testing.TB, dsn string, now time.Time) (*Server, *Clock) {
	t.Helper()
	c := NewClock(now)
	return StartWith(t, dsn, func(cfg *app.Config) { cfg.Now = c.Now }), c
}

// Do sends a request and returns the status and body. Headers are given as
// "Name: value" strings.
func (s *Server) Do(method, path string, body []byte, headers ...string) (int, []byte) {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, bytes.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, out
}

// Send posts a message (or batch) to /v1/{path} with the test write key.
func (s *Server) Send(path string, msg any) (int, []byte) {
	s.t.Helper()
	b, err := json.Marshal(msg)
	if err != nil {
		s.t.Fatal(err)
	}
	auth := base64.StdEncoding.EncodeToString([]byte(WriteKey + ":"))
	return s.Do(http.MethodPost, "/v1/"+path, b, "Authorization: Basic "+auth, "Content-Type: application/json")
}

// MustSend is Send that fails the test unless cxloop answers 200.
func (s *Server) MustSend(path string, msg any) {
	s.t.Helper()
	if code, body := s.Send(path, msg); code != http.StatusOK {
		s.t.Fatalf("POST /v1/%s: %d %s", path, code, body)
	}
}

// API calls the management API with the admin token and decodes the JSON
// answer into out (when out is not nil). It returns the status.
func (s *Server) API(method, path string, in, out any) int {
	s.t.Helper()
	var body []byte
	if in != nil {
		body, _ = json.Marshal(in)
	}
	code, resp := s.Do(method, path, body, "Authorization: Bearer "+Token, "Content-Type: application/json")
	if out != nil {
		if err := json.Unmarshal(resp, out); err != nil {
			s.t.Fatalf("%s %s: %d %s: %v", method, path, code, resp, err)
		}
	}
	return code
}

// Page signs in to the console with the admin token and returns the page
// at path; anything but 200 fails the test.
func (s *Server) Page(path string) string {
	s.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(s.URL+"/login", url.Values{"token": {Token}, "next": {path}})
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
	}
	return string(b)
}

// Sync waits until every consumer has read the whole log.
func (s *Server) Sync() {
	s.t.Helper()
	s.SyncFor(60 * time.Second)
}

// SyncFor is Sync with a longer wait, for a test that loads a lot.
func (s *Server) SyncFor(d time.Duration) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	head, err := eventlog.Head(ctx, s.DB)
	if err != nil {
		s.t.Fatal(err)
	}
	if err := s.Runner.Wait(ctx, head); err != nil {
		s.t.Fatalf("consumers did not catch up to %d: %v", head, err)
	}
}
