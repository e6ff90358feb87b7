package outbox

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/jobs"
	"github.com/cxloop/cxloop/internal/store"
)

// Mailer sends email through an SMTP server.
type Mailer struct {
	Addr     string // host:port
	From     string // the sender address
	Username string // with Password: PLAIN authentication (over TLS or to localhost)
	Password string
}

// Send delivers one message with a plain-text and an HTML part. id becomes
// the Message-ID, so that a retried delivery is recognisable as the same mail.
func (m *Mailer) Send(ctx context.Context, to, subject, text, html, id string) error {
	return m.SendMessage(ctx, Message{To: to, Subject: subject, Text: text, HTML: html, ID: id})
}

// Message is one email: a plain-text and an HTML part.
type Message struct {
	To, Subject, Text, HTML string
	ID                      string // the Message-ID is <ID@cxloop>
	ReplyTo                 string // where replies go; "" sets no Reply-To
}

// SendMessage delivers msg.
func (m *Mailer) SendMessage(ctx context.Context, msg Message) error {
	to, subject, text, html, id := msg.To, msg.Subject, msg.Text, msg.HTML, msg.ID
	host, _, err := net.SplitHostPort(m.Addr)
	if err != nil {
		return fmt.Errorf("smtp address %q: %w", m.Addr, err)
	}
	var auth smtp.Auth
	if m.Username != "" {
		auth = smtp.PlainAuth("", m.Username, m.Password, host)
	}
	const boundary = "cxloop-alternative-boundary"
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@cxloop>\r\nDate: %s\r\nMIME-Version: 1.0\r\n",
		m.From, to, mime.QEncoding.Encode("utf-8", subject), id, time.Now().UTC().Format(time.RFC1123Z))
	if msg.ReplyTo != "" && !strings.ContainsAny(msg.ReplyTo, "\r\n") {
		fmt.Fprintf(&b, "Reply-To: %s\r\n", msg.ReplyTo)
	}
	fmt.Fprintf(&b, "Content-Type: multipart/alternative; boundary=%q\r\n\r\n", boundary)
	for _, part := range []struct{ kind, body string }{{"text/plain", text}, {"text/html", html}} {
		fmt.Fprintf(&b, "--%s\r\nContent-Type: %s; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", boundary, part.kind)
		w := quotedprintable.NewWriter(&b)
		_, _ = w.Write([]byte(part.body))
		_ = w.Close()
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	done := make(chan error, 1)
	go func() { done <- smtp.SendMail(m.Addr, auth, addressOf(m.From), []string{to}, b.Bytes()) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// addressOf returns the bare address of "Name <a@b>".
func addressOf(from string) string {
	if i := strings.LastIndex(from, "<"); i >= 0 {
		return strings.TrimSuffix(from[i+1:], ">")
	}
	return from
}

// EnqueueMail queues a plain notification email inside tx, due now (the
// caller's clock); key makes the same notification queue once.
func EnqueueMail(ctx context.Context, tx *store.Tx, key, to, subject, body string, now time.Time) error {
	return EnqueueMailAt(ctx, tx, key, to, subject, body, now.UnixMilli())
}

// EnqueueMailAt is EnqueueMail with the time it is due (Unix ms), for a
// caller that keeps its own clock.
func EnqueueMailAt(ctx context.Context, tx *store.Tx, key, to, subject, body string, at int64) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO mail_outbox (id, recipient, subject, body, state, attempts, next_at, last_error, created_at)
		VALUES ($1, $2, $3, $4, 'pending', 0, $5, '', $5) ON CONFLICT (id) DO NOTHING`, key, to, subject, body, at)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	_, err = jobs.InsertTx(ctx, tx, MailArgs{ID: key}, jobs.At(tx, time.UnixMilli(at)))
	return err
}

// escapeHTML escapes text for HTML.
func escapeHTML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}
