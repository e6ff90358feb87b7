package ingest_test

import (
	"bufio"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A write key in the Authorization header is checked before the body is
// read: a wrong one gets its 401 at once, however slowly the body comes
// (here it never finishes), with a declared length or chunked. A key in the
// body (analytics.js's beacon mode) still works. The same holds for the
// API's token and the console's session.
func TestBadKeyRefusedBeforeTheBody(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	u, _ := url.Parse(s.URL)
	bad := base64.StdEncoding.EncodeToString([]byte("wk_wrong:"))
	for _, framing := range []string{"Content-Length: 400000", "Transfer-Encoding: chunked", "Content-Length: 2000"} {
		t.Run(framing, func(t *testing.T) {
			c, err := net.Dial("tcp", u.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			start := `{"userId": "u1", "event": "Slow", "properties": {"x": "`
			if strings.HasPrefix(framing, "Transfer") {
				start = fmt.Sprintf("%x\r\n%s\r\n", len(start), start)
			}
			fmt.Fprintf(c, "POST /v1/track HTTP/1.1\r\nHost: %s\r\nAuthorization: Basic %s\r\nContent-Type: application/json\r\n%s\r\n\r\n%s", u.Host, bad, framing, start)
			// The rest of the body never comes. The answer must, within
			// seconds (the server's body deadline is minutes).
			time.AfterFunc(5*time.Second, func() { c.Close() })
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			if err != nil {
				t.Fatalf("no answer while the body is unfinished: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", resp.StatusCode)
			}
		})
	}
	// So are a wrong API token, a stale console session, and an
	// Authorization header on /v1 that is not a write key.
	for _, c := range []struct {
		path, header string
		want         int
	}{
		{"/api/v1/rules", "Authorization: Bearer cxt_wrong", 401},
		{"/surveys", "Cookie: cxloop_session=stale", 303},
		{"/v1/track", "Authorization: Bearer wk_in_the_wrong_place", 401},
	} {
		t.Run(c.path, func(t *testing.T) {
			conn, err := net.Dial("tcp", u.Host)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\n%s\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n{\"name\": \"", c.path, u.Host, c.header)
			time.AfterFunc(5*time.Second, func() { conn.Close() })
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer while the body is unfinished: %v", err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
	// The key in the body (beacon mode) is still read from the body.
	code, body := s.Do("POST", "/v1/track", []byte(`{"writeKey": "`+apptest.WriteKey+`", "userId": "u1", "event": "Beacon"}`), "Content-Type: text/plain")
	if code != 200 {
		t.Fatalf("write key in the body: %d %s", code, body)
	}
	if code, _ := s.Do("POST", "/v1/track", []byte(`{"writeKey": "wk_wrong", "userId": "u1", "event": "Beacon"}`), "Content-Type: text/plain"); code != 401 {
		t.Fatalf("a wrong write key in the body: %d", code)
	}
}
