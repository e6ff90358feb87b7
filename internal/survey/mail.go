package survey

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/smtp"
	"strings"
	"time"

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

var mailHTML = template.Must(template.New("mail").Parse(`<!doctype html>
<html lang="{{.Lang}}" dir="{{.Dir}}"><body style="font-family:sans-serif;font-size:16px;line-height:1.5;color:#1f2328">
<p>{{.Body}}</p>
<p><a href="{{.URL}}" style="display:inline-block;padding:12px 20px;background:#0b5fff;color:#fff;text-decoration:none;border-radius:6px">{{.Button}}</a></p>
<p style="font-size:13px;color:#57606a">{{.Footer}}</p>
</body></html>`))

// DeliverMail sends queued invitation and reminder emails, retrying a
// failed delivery with growing waits (at most 6 attempts).
func (s *Service) DeliverMail(ctx context.Context) (int, error) {
	if s.cfg.Mail == nil {
		return 0, nil
	}
	now := s.now().UnixMilli()
	rows, err := s.db.QueryContext(ctx, invitationCols+` WHERE i.mail_state = 'queued' AND i.mail_next_at <= $1 ORDER BY i.mail_next_at LIMIT 50`, now)
	if err != nil {
		return 0, err
	}
	var list []*Invitation
	attempts := map[string]int{}
	for rows.Next() {
		i, err := scanInvitation(rows)
		if err != nil {
			rows.Close()
			return 0, err
		}
		list = append(list, i)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	for _, i := range list {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT mail_attempts FROM survey_invitations WHERE id = $1`, i.ID).Scan(&n); err != nil {
			return 0, err
		}
		attempts[i.ID] = n
	}
	sent := 0
	for _, i := range list {
		err := s.mail(ctx, i)
		state, next, msg := "sent", any(nil), ""
		if err != nil {
			n := attempts[i.ID] + 1
			msg = err.Error()
			state = "queued"
			next = s.now().Add(time.Duration(1<<min(n, 10)) * 30 * time.Second).UnixMilli()
			if n >= 6 {
				state, next = "failed", nil
			}
			s.logger.Warn("survey email not delivered", "invitation", i.ID, "attempt", n, "err", err)
		} else {
			sent++
		}
		if err := s.db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET mail_state = $1, mail_next_at = $2, mail_error = $3,
				mail_attempts = mail_attempts + $4 WHERE id = $5 AND mail_state = 'queued'`, state, next, msg, boolInt(err != nil), i.ID)
			return err
		}); err != nil {
			return sent, err
		}
	}
	return sent, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mail composes and sends one invitation's email in the customer's language.
func (s *Service) mail(ctx context.Context, i *Invitation) error {
	sv, err := s.Get(ctx, i.Survey)
	if err != nil {
		return err
	}
	if i.email == "" {
		return fmt.Errorf("no address")
	}
	t, err := s.token(ctx, i.ID)
	if err != nil {
		return err
	}
	lang := sv.Language(i.locale)
	w := words(lang)
	subject := sv.Email.Subject.In(lang, sv.DefaultLanguage)
	if subject == "" {
		subject = w.Subject
	}
	body := sv.Email.Body.In(lang, sv.DefaultLanguage)
	if body == "" {
		body = w.Invite
	}
	if i.Reminders > 0 {
		subject = w.Reminder + ": " + subject
	}
	url := s.URL(t)
	dir := "ltr"
	if rtl(lang) {
		dir = "rtl"
	}
	var html bytes.Buffer
	if err := mailHTML.Execute(&html, map[string]string{"Lang": lang, "Dir": dir, "Body": body, "URL": url, "Button": w.Start, "Footer": w.MailFooter}); err != nil {
		return err
	}
	text := body + "\r\n\r\n" + url + "\r\n\r\n" + w.MailFooter + "\r\n"
	id := fmt.Sprintf("%s.%d", i.ID, i.Reminders)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return s.cfg.Mail.Send(ctx, i.email, subject, text, html.String(), id)
}
