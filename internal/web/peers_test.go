package web_test

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// One address may hold at most the cap of unauthenticated requests at
// once: past it an unauthenticated request is refused at once with 429,
// Retry-After and a JSON body, counted in /metrics; another address and an
// authenticated client from the same one are still served, and a made-up
// credential cannot hold the connection on a slow body.
func TestUnauthenticatedRequestsCappedPerAddress(t *testing.T) {
	const limit = 8
	s := apptest.StartWith(t, storetest.DSN(t, "sqlite"), func(c *app.Config) { c.MaxUnauthenticatedPerAddress = limit })
	u, _ := url.Parse(s.URL)
	_, port, _ := net.SplitHostPort(u.Host)
	// dial connects from a given loopback address (Linux routes 127/8 to lo).
	dial := func(from string) net.Conn {
		t.Helper()
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 2 * time.Second}
		c, err := d.Dial("tcp", net.JoinHostPort("127.0.0.1", port))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// slow starts a /v1 request whose key is in a body that never finishes.
	slow := func(from string) net.Conn {
		c := dial(from)
		fmt.Fprintf(c, "POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 5000\r\n\r\n{\"writeKey\": \"")
		return c
	}
	// ask sends one whole request from an address and returns the answer.
	ask := func(from, req string) (*http.Response, string) {
		t.Helper()
		c := dial(from)
		timer := time.AfterFunc(5*time.Second, func() { c.Close() }) // no answer in 5 s fails
		defer timer.Stop()
		fmt.Fprint(c, req)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("no answer: %v", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	beacon := `{"writeKey": "` + apptest.WriteKey + `", "userId": "u1", "event": "Beacon"}`
	unauth := fmt.Sprintf("POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(beacon), beacon)

	var held []net.Conn
	for range limit {
		held = append(held, slow("127.0.0.1"))
	}
	// The held requests reach their handlers in their own time: the next
	// one is refused once they all have (within seconds, not the minutes
	// the body deadline allows).
	// On a busy machine an asking request can reach its handler before a
	// held one does, which is then refused as over the cap and answered:
	// refill holds another in its place.
	refill := func() {
		for i, c := range held {
			_ = c.SetReadDeadline(time.Now().Add(time.Millisecond))
			var b [1]byte
			if n, _ := c.Read(b[:]); n > 0 {
				held[i] = slow("127.0.0.1")
			} else {
				_ = c.SetReadDeadline(time.Time{})
			}
		}
	}
	var resp *http.Response
	var body string
	// A busy machine (the whole suite on two cores) may take a while to
	// start the held requests' handlers: up to 30 s.
	for give := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if resp, body = ask("127.0.0.1", unauth); resp.StatusCode == http.StatusTooManyRequests || time.Now().After(give) {
			break
		}
		refill()
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || resp.Header.Get("Access-Control-Allow-Origin") == "" || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != "too_many_requests" {
		t.Fatalf("past the cap: %d Retry-After %q %s", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}

	// Another address is served.
	if resp, body := ask("127.0.0.2", unauth); resp.StatusCode != 200 {
		t.Errorf("another address: %d %s", resp.StatusCode, body)
	}
	// An authenticated client from the same address is served: the API
	// with a token, /v1 with the write key in the header.
	api := fmt.Sprintf("GET /api/v1/cases HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nConnection: close\r\n\r\n", apptest.Token)
	if resp, body := ask("127.0.0.1", api); resp.StatusCode != 200 {
		t.Errorf("authenticated API call: %d %s", resp.StatusCode, body)
	}
	msg := `{"userId": "u1", "event": "Keyed"}`
	keyed := fmt.Sprintf("POST /v1/track HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		base64.StdEncoding.EncodeToString([]byte(apptest.WriteKey+":")), len(msg), msg)
	if resp, body := ask("127.0.0.1", keyed); resp.StatusCode != 200 {
		t.Errorf("/v1 with the write key in the header: %d %s", resp.StatusCode, body)
	}
	// A made-up credential past the cap is answered at once, its slow body unread.
	for _, cred := range []string{"Authorization: Bearer made-up", "Cookie: cxloop_session=made-up"} {
		c := dial("127.0.0.1")
		time.AfterFunc(5*time.Second, func() { c.Close() })
		fmt.Fprintf(c, "POST /v1/track HTTP/1.1\r\nHost: x\r\n%s\r\nContent-Type: text/plain\r\nContent-Length: 5000\r\n\r\n{\"writeKey\": \"", cred)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("%s with a slow body past the cap: no answer: %v", cred, err)
		}
		resp.Body.Close()
		if resp.StatusCode < 400 {
			t.Errorf("%s with a slow body past the cap: %d", cred, resp.StatusCode)
		}
	}

	// Counted in /metrics by reason.
	_, metrics := ask("127.0.0.2", "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	m := regexp.MustCompile(`cxloop_http_requests_refused_total\{reason="unauthenticated_per_address"\} (\d+)`).FindStringSubmatch(metrics)
	if n, _ := strconv.Atoi(m2(m)); n < 1 {
		t.Errorf("refusals not counted: %q", m)
	}

	// When the held requests end, the address is served again.
	for _, c := range held {
		c.Close()
	}
	for try := 0; ; try++ {
		resp, body := ask("127.0.0.1", unauth)
		if resp.StatusCode == 200 {
			break
		}
		if try == 250 {
			t.Fatalf("after the held requests ended: %d %s", resp.StatusCode, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func m2(m []string) string {
	if len(m) < 2 {
		return ""
	}
	return m[1]
}
