package apptest

import (
	"io"
	"mime/quotedprintable"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Clock is a test clock that cxloop's decisions read (Config.Now).
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// Epoch is the fixed instant tests start their clocks at when the date
// does not matter: mid-month, mid-week, mid-morning, so that no test
// depends on the day it runs.
var Epoch = time.Date(2026, 5, 13, 10, 0, 0, 0, time.UTC)

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock on.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Mail is one message the test SMTP server received.
type Mail struct {
	From string
	To   []string
	Data string
}

// Text is the message with its quoted-printable parts decoded.
func (m Mail) Text() string {
	b, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(m.Data)))
	return string(b)
}

var linkPattern = regexp.MustCompile(`https?://[^\s"<>]+/s/[A-Za-z0-9_.\-]+`)

// Link is the first survey link in the message.
func (m Mail) Link() string { return linkPattern.FindString(m.Text()) }

// Mailbox is a real SMTP server (go-smtp) inside the test process.
type Mailbox struct {
	Addr string
	mu   sync.Mutex
	got  []Mail
	more chan struct{}
}

// StartMailbox listens for SMTP on a free local port until the test ends.
func StartMailbox(t testing.TB) *Mailbox {
	t.Helper()
	mb := &Mailbox{more: make(chan struct{}, 1000)}
	srv := smtp.NewServer(mb)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mb.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return mb
}

// NewSession starts an SMTP session (the go-smtp backend interface).
func (mb *Mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{mb: mb}, nil }

type session struct {
	mb  *Mailbox
	cur Mail
}

func (s *session) Reset()        { s.cur = Mail{} }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.cur.From = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.To = append(s.cur.To, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.Data = string(b)
	s.mb.mu.Lock()
	s.mb.got = append(s.mb.got, s.cur)
	s.mb.mu.Unlock()
	select {
	case s.mb.more <- struct{}{}:
	default:
	}
	return nil
}

// Wait returns the n-th message (from 1), waiting up to 15 s for it.
func (mb *Mailbox) Wait(t testing.TB, n int) Mail {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		mb.mu.Lock()
		if len(mb.got) >= n {
			m := mb.got[n-1]
			mb.mu.Unlock()
			return m
		}
		mb.mu.Unlock()
		select {
		case <-mb.more:
		case <-time.After(50 * time.Millisecond):
		case <-deadline:
			t.Fatalf("no mail number %d within 15 s", n)
		}
	}
}

// Count is how many messages arrived.
func (mb *Mailbox) Count() int {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return len(mb.got)
}
