package outbox

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
)

// verify checks a signature header the way a receiver does: split it,
// recompute the HMAC of "<t>.<body>" with crypto/hmac, compare.
func verify(t *testing.T, header, secret string, body []byte) (ts int64, ok bool) {
	t.Helper()
	parts := strings.Split(header, ",")
	if len(parts) != 2 || !strings.HasPrefix(parts[0], "t=") || !strings.HasPrefix(parts[1], "v1=") {
		t.Fatalf("signature %q is not t=<seconds>,v1=<hex>", header)
	}
	ts, err := strconv.ParseInt(strings.TrimPrefix(parts[0], "t="), 10, 64)
	if err != nil {
		t.Fatalf("signature %q: time: %v", header, err)
	}
	got, err := hex.DecodeString(strings.TrimPrefix(parts[1], "v1="))
	if err != nil {
		t.Fatalf("signature %q: mac: %v", header, err)
	}
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "%d.", ts)
	m.Write(body)
	return ts, hmac.Equal(got, m.Sum(nil))
}

func TestSign(t *testing.T) {
	const secret = "whsec_0123456789abcdef"
	body := []byte(`{"seq":7,"event":"Case Opened","message":{"properties":{"team":"service"}}}`)
	at := time.Date(2026, 3, 14, 15, 9, 26, 535_000_000, time.UTC)
	sig := Sign(secret, at, body)

	ts, ok := verify(t, sig, secret, body)
	if !ok {
		t.Fatalf("Sign(%q) = %q: the HMAC does not verify", body, sig)
	}
	// 2026-03-14T15:09:26Z in Unix seconds, counted by hand: 20526 days
	// since 1970-01-01 (56 years, 14 of them leap: 20454 days, then 31+28+13
	// days of 2026) and 15:09:26 into the day.
	if want := int64(20526*86400 + 15*3600 + 9*60 + 26); ts != want {
		t.Errorf("t = %d, want %d (whole seconds; the fraction is dropped)", ts, want)
	}
	if want := "t=" + strconv.FormatInt(ts, 10) + ",v1="; !strings.HasPrefix(sig, want) || len(sig) != len(want)+64 {
		t.Errorf("signature %q: want %s and 64 hex digits", sig, want)
	}

	if _, ok := verify(t, sig, "whsec_other", body); ok {
		t.Error("the signature verifies with another secret")
	}
	tampered := bytes.Replace(body, []byte("service"), []byte("billing"), 1)
	if _, ok := verify(t, sig, secret, tampered); ok {
		t.Error("the signature verifies a changed body")
	}
	if Sign(secret, at.Add(time.Second), body) == sig {
		t.Error("a second later, the signature is the same: it does not cover the time")
	}
	if Sign(secret, at.Truncate(time.Second), body) != sig {
		t.Error("within one second the signature changes")
	}
	// An empty body and an empty secret still sign (and verify) as specified.
	if _, ok := verify(t, Sign("", at, nil), "", nil); !ok {
		t.Error("an empty body with an empty secret does not verify")
	}
}

func TestPayload(t *testing.T) {
	e := &eventlog.Event{Seq: 42, MessageID: "msg-1", Type: "track", Event: "Order Completed", UserID: "u-7", AnonymousID: "anon-3",
		Channel: "web", Contact: "ann@example.com", SourceID: "src_x", Timestamp: 1, ReceivedAt: 2,
		Body: json.RawMessage(`{"type":"track","event":"Order Completed","properties":{"total":12.5,"items":["a","b"]}}`)}
	b, err := Payload(e)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]json.RawMessage
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatalf("payload %s: %v", b, err)
	}
	var keys []string
	for k := range got {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	// The receivers' contract: these members, no others (no contact, source or internal times).
	if want := []string{"anonymousId", "channel", "event", "message", "messageId", "seq", "type", "userId"}; !slices.Equal(keys, want) {
		t.Errorf("payload members %v, want %v", keys, want)
	}
	for k, want := range map[string]string{"seq": `42`, "messageId": `"msg-1"`, "type": `"track"`, "event": `"Order Completed"`,
		"userId": `"u-7"`, "anonymousId": `"anon-3"`, "channel": `"web"`} {
		if string(got[k]) != want {
			t.Errorf("%s = %s, want %s", k, got[k], want)
		}
	}
	var msg, body any
	if err := json.Unmarshal(got["message"], &msg); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(e.Body, &body); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(msg, body) {
		t.Errorf("message = %s, want the stored body %s", got["message"], e.Body)
	}

	// A body that is not JSON cannot be sent as JSON.
	if _, err := Payload(&eventlog.Event{MessageID: "m", Body: json.RawMessage(`{"broken"`)}); err == nil {
		t.Error("a payload with a broken body was made")
	}
	// No body at all is a null message.
	b, err = Payload(&eventlog.Event{MessageID: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &got); err != nil || string(got["message"]) != "null" {
		t.Errorf("payload without a body = %s (%v), want message null", b, err)
	}
}

// doubling is the documented schedule: base, then twice the previous wait
// after every failure, never more than an hour.
func doubling(base time.Duration, n int) time.Duration {
	w := base
	for i := 1; i < n; i++ {
		w *= 2
		if w > time.Hour {
			return time.Hour
		}
	}
	return w
}

func TestRetryWait(t *testing.T) {
	for _, c := range []struct {
		name string
		wait func(int) time.Duration
		base time.Duration
		// capAt is the first attempt whose doubled wait passes an hour:
		// 10 s · 2^9 = 5120 s, 30 s · 2^7 = 3840 s.
		capAt int
	}{{"RetryWait", RetryWait, 10 * time.Second, 10}, {"MailRetryWait", MailRetryWait, 30 * time.Second, 8}} {
		if got := c.wait(1); got != c.base {
			t.Errorf("%s(1) = %v, want %v", c.name, got, c.base)
		}
		if got := c.wait(2); got != 2*c.base {
			t.Errorf("%s(2) = %v, want %v", c.name, got, 2*c.base)
		}
		if got := c.wait(3); got != 4*c.base {
			t.Errorf("%s(3) = %v, want %v", c.name, got, 4*c.base)
		}
		for n := 1; n <= 40; n++ {
			if got, want := c.wait(n), doubling(c.base, n); got != want {
				t.Errorf("%s(%d) = %v, want %v", c.name, n, got, want)
			}
			if n > 1 && c.wait(n) < c.wait(n-1) {
				t.Errorf("%s(%d) = %v is shorter than the wait before it", c.name, n, c.wait(n))
			}
		}
		if got := c.wait(c.capAt - 1); got >= time.Hour {
			t.Errorf("%s(%d) = %v: capped too early", c.name, c.capAt-1, got)
		}
		if got := c.wait(c.capAt); got != time.Hour {
			t.Errorf("%s(%d) = %v, want the one-hour cap", c.name, c.capAt, got)
		}
		// However many attempts, the wait neither overflows nor passes the cap.
		for _, n := range []int{64, 100, 1 << 20, 1<<31 - 1} {
			if got := c.wait(n); got != time.Hour {
				t.Errorf("%s(%d) = %v, want the one-hour cap", c.name, n, got)
			}
		}
		// Before a first attempt there is no shorter wait than the base.
		for _, n := range []int{0, -1, -100} {
			if got := c.wait(n); got != c.base {
				t.Errorf("%s(%d) = %v, want %v", c.name, n, got, c.base)
			}
		}
	}
}

func TestAddressOf(t *testing.T) {
	for in, want := range map[string]string{
		"cxloop <surveys@localhost>":               "surveys@localhost",
		"surveys@example.com":                      "surveys@example.com",
		"<surveys@example.com>":                    "surveys@example.com",
		`"Support <desk>" <help@example.com>`:      "help@example.com", // the last angle bracket holds the address
		"Müller & Söhne <kontakt@example.de>":      "kontakt@example.de",
		"Unclosed <noreply@example.com":            "noreply@example.com",
		"":                                         "",
		"cxloop surveys <surveys+nps@example.com>": "surveys+nps@example.com",
	} {
		if got := addressOf(in); got != want {
			t.Errorf("addressOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEscapeHTML(t *testing.T) {
	for in, want := range map[string]string{
		`<b>"Tom & Jerry"</b>`: "&lt;b&gt;&quot;Tom &amp; Jerry&quot;&lt;/b&gt;",
		"&amp;":                "&amp;amp;", // escaped text is escaped again, not trusted
		"plain text":           "plain text",
	} {
		if got := escapeHTML(in); got != want {
			t.Errorf("escapeHTML(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCheckEvents(t *testing.T) {
	for _, c := range []struct {
		events []string
		field  string // "" when accepted
	}{
		{nil, "events"},
		{[]string{}, "events"},
		{[]string{"Case Opened"}, ""},
		{[]string{"*"}, ""},
		{[]string{"Case Opened", "  "}, "events[1]"},
		{[]string{"", "Case Opened"}, "events[0]"},
	} {
		err := checkEvents(c.events)
		if c.field == "" {
			if err != nil {
				t.Errorf("checkEvents(%q) = %v, want accepted", c.events, err)
			}
			continue
		}
		if fault.Code(err) != fault.Invalid || fault.FieldOf(err) != c.field {
			t.Errorf("checkEvents(%q) = %v, want invalid %s", c.events, err, c.field)
		}
	}
}
