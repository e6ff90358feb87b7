package benchkit

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestConn(t *testing.T) {
	for _, kind := range []string{"lean", "nethttp"} {
		t.Run(kind, func(t *testing.T) { testClient(t, kind) })
	}
}

func testClient(t *testing.T, kind string) {
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Key")+" "+string(b))
		switch r.URL.Path {
		case "/big": // no Content-Length: chunked
			w.WriteHeader(http.StatusCreated)
			for range 100 {
				_, _ = io.WriteString(w, strings.Repeat("x", 1000))
				w.(http.Flusher).Flush()
			}
		case "/close":
			w.Header().Set("Connection", "close")
			_, _ = io.WriteString(w, "bye")
		default:
			http.Error(w, "no", http.StatusTeapot)
		}
	}))
	defer srv.Close()
	c, err := NewClient(kind, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i, tc := range []struct {
		method, path string
		body         string
		want         int
	}{{"GET", "/big", "", 201}, {"POST", "/other", `{"a":1}`, 418}, {"GET", "/close", "", 200}, {"GET", "/big", "", 201}} {
		var body []byte
		if tc.body != "" {
			body = []byte(tc.body)
		}
		got, err := c.Do(tc.method, tc.path, []byte("X-Key: k\r\n"), body)
		if err != nil || got != tc.want {
			t.Fatalf("request %d: status %d, %v; want %d", i, got, err, tc.want)
		}
	}
	want := []string{"GET /big k ", `POST /other k {"a":1}`, "GET /close k ", "GET /big k "}
	if strings.Join(bodies, "|") != strings.Join(want, "|") {
		t.Fatalf("server saw %q, want %q", bodies, want)
	}
}
