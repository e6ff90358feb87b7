package survey_test

import (
	"context"
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/survey"
)

// clock is a test clock the server's decisions read.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// mail is one message the test SMTP server received.
type mail struct {
	From string
	To   []string
	Data string
}

// Text is the message decoded from quoted-printable.
func (m mail) Text() string {
	b, _ := io.ReadAll(quotedprintable.NewReader(strings.NewReader(m.Data)))
	return string(b)
}

var linkPattern = regexp.MustCompile(`https?://[^\s"<>]+/s/[A-Za-z0-9_.\-]+`)

// Link is the survey link in the message.
func (m mail) Link() string { return linkPattern.FindString(m.Text()) }

// mailbox is a real SMTP server (go-smtp) in the test process.
type mailbox struct {
	Addr string
	mu   sync.Mutex
	got  []mail
	more chan struct{}
}

func startMailbox(t *testing.T) *mailbox {
	t.Helper()
	mb := &mailbox{more: make(chan struct{}, 100)}
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

func (mb *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{mb: mb}, nil }

type session struct {
	mb  *mailbox
	cur mail
}

func (s *session) Reset()        { s.cur = mail{} }
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
	s.mb.more <- struct{}{}
	return nil
}

// Wait returns the n-th message (from 1), waiting up to 10 s for it.
func (mb *mailbox) Wait(t *testing.T, n int) mail {
	t.Helper()
	deadline := time.After(10 * time.Second)
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
		case <-deadline:
			t.Fatalf("no mail number %d within 10 s", n)
		}
	}
}

// Count is how many messages arrived.
func (mb *mailbox) Count() int {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return len(mb.got)
}

// server starts cxloop with a test clock and, when mb is not nil, mail.
func server(t *testing.T, dsn string, c *clock, mb *mailbox) *apptest.Server {
	t.Helper()
	return apptest.StartWith(t, dsn, func(cfg *app.Config) {
		if c != nil {
			cfg.Now = c.Now
		}
		if mb != nil {
			cfg.Mail = &survey.Mailer{Addr: mb.Addr, From: "Northwind <surveys@northwind.test>"}
		}
	})
}

// createSurvey posts a survey definition and returns its id.
func createSurvey(t *testing.T, s *apptest.Server, def string) string {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	if code := s.API("POST", "/api/v1/surveys", json.RawMessage(def), &out); code != http.StatusCreated {
		t.Fatalf("create survey: %d %+v", code, out)
	}
	if !strings.HasPrefix(out.ID, "srv_") {
		t.Fatalf("survey id %q", out.ID)
	}
	return out.ID
}

type invitation struct {
	Survey  string `json:"survey"`
	Token   string `json:"token"`
	URL     string `json:"url"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	OrderID string `json:"orderId"`
	Channel string `json:"channel"`
	Rhythm  string `json:"rhythm"`
}

// invitations lists a customer's invitations.
func invitations(t *testing.T, s *apptest.Server, customer string) []invitation {
	t.Helper()
	var out struct {
		Invitations []invitation `json:"invitations"`
	}
	if code := s.API("GET", "/api/v1/customers/"+customer+"/invitations", nil, &out); code != http.StatusOK {
		t.Fatalf("invitations of %s: %d", customer, code)
	}
	return out.Invitations
}

// dispatch makes the server's due decisions now.
func dispatch(t *testing.T, s *apptest.Server) {
	t.Helper()
	s.Sync()
	if _, err := s.Surveys.Dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Sync()
}

// get fetches a page without following redirects.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// postForm submits a survey form like a browser without JavaScript.
func postForm(t *testing.T, target string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(target, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
