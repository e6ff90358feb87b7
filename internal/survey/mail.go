package survey

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"html/template"
	"strconv"
	"time"

	"github.com/cxloop/cxloop/internal/outbox"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/riverqueue/river"
)

// Mailer sends email through an SMTP server (the outbox's).
type Mailer = outbox.Mailer

var mailHTML = template.Must(template.New("mail").Parse(`<!doctype html>
<html lang="{{.Lang}}" dir="{{.Dir}}"><body style="font-family:sans-serif;font-size:16px;line-height:1.5;color:#1f2328">
<p>{{.Body}}</p>
{{with .Scores}}<p><strong>{{$.Question}}</strong></p>
<table role="presentation" cellspacing="0" cellpadding="0" style="border-collapse:separate;border-spacing:4px"><tr>{{range .}}<td><a href="{{.URL}}" style="display:inline-block;min-width:28px;padding:8px 4px;border:1px solid #0b5fff;border-radius:4px;color:#0b5fff;text-align:center;text-decoration:none">{{.N}}</a></td>{{end}}</tr></table>
<p style="font-size:13px;color:#57606a">{{$.Low}} – {{$.High}}</p>
{{end}}<p><a href="{{.URL}}" style="display:inline-block;padding:12px 20px;background:#0b5fff;color:#fff;text-decoration:none;border-radius:6px">{{.Button}}</a></p>
<p style="font-size:13px;color:#57606a">{{.Footer}}</p>
</body></html>`))

// sendInvitation makes one attempt to send an invitation's queued email
// (the invitation or its reminder) and records the outcome; a failure is
// an error, retried by the job system, and the last attempt's failure
// fails the email. An email no longer queued is not sent; without a mail
// server it stays queued, to be sent once one is configured.
func (s *Service) sendInvitation(ctx context.Context, id string, attempt int, last bool) error {
	if s.cfg.Mail == nil {
		return river.JobCancel(outbox.ErrNoMailServer)
	}
	rows, err := s.db.QueryContext(ctx, invitationCols+` WHERE i.id = $1 AND i.mail_state = 'queued'`, id)
	if err != nil {
		return err
	}
	var i *Invitation
	if rows.Next() {
		i, err = scanInvitation(rows)
	}
	rows.Close()
	if err != nil || i == nil {
		return errors.Join(err, rows.Err())
	}
	sendErr := s.mail(ctx, i)
	state, next, msg := "sent", any(nil), ""
	if sendErr != nil {
		msg = sendErr.Error()
		state = "queued"
		next = s.now().Add(outbox.MailRetryWait(attempt)).UnixMilli()
		if last {
			state, next = "failed", nil
		}
		s.logger.Warn("survey email not delivered", "invitation", i.ID, "attempt", attempt, "err", sendErr)
	}
	ctx = context.WithoutCancel(ctx)
	if err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET mail_state = $1, mail_next_at = $2, mail_error = $3,
			mail_attempts = mail_attempts + $4 WHERE id = $5 AND mail_state = 'queued'`, state, next, msg, boolInt(sendErr != nil), i.ID)
		return err
	}); err != nil {
		return err
	}
	return sendErr
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// mail composes and sends one invitation's email in the customer's language.
func (s *Service) mail(ctx context.Context, i *Invitation) error {
	sv, err := s.version(ctx, i.Survey, i.surveyVersion)
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
	data := map[string]any{"Lang": lang, "Dir": dir, "Body": body, "URL": url, "Button": w.Start, "Footer": w.MailFooter}
	text := body + "\r\n\r\n"
	if q, ok := sv.scoreQuestion(); ok {
		// One link per score: it opens the survey page with the score
		// chosen, where one click records it (see scoreLinks).
		lo, hi := q.scaleOf()
		low, high := q.MinLabel.In(lang, sv.DefaultLanguage), q.MaxLabel.In(lang, sv.DefaultLanguage)
		if low == "" {
			low, high = w.Low, w.High
			if q.Type == TypeNPS {
				low, high = w.NotLikely, w.VeryLikely
			}
		}
		var scores []scoreLink
		text += q.Text.In(lang, sv.DefaultLanguage) + " (" + strconv.Itoa(lo) + " = " + low + ", " + strconv.Itoa(hi) + " = " + high + ")\r\n"
		for n := lo; n <= hi; n++ {
			l := scoreLink{N: n, URL: url + "?score=" + strconv.Itoa(n)}
			scores = append(scores, l)
			text += fmt.Sprintf("%2d: %s\r\n", n, l.URL)
		}
		text += "\r\n"
		data["Scores"], data["Question"], data["Low"], data["High"] = scores, q.Text.In(lang, sv.DefaultLanguage), low, high
	}
	var html bytes.Buffer
	if err := mailHTML.Execute(&html, data); err != nil {
		return err
	}
	text += url + "\r\n\r\n" + w.MailFooter + "\r\n"
	replyTo := ""
	if _, ok := sv.scoreQuestion(); ok {
		// A reply can answer the survey: its leading score, then a comment.
		if replyTo, err = s.replyAddress(ctx, i.ID); err != nil {
			return err
		}
	}
	id := fmt.Sprintf("%s.%d", i.ID, i.Reminders)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return s.cfg.Mail.SendMessage(ctx, outbox.Message{To: i.email, Subject: subject, Text: text, HTML: html.String(), ID: id, ReplyTo: replyTo})
}

// scoreLink is one score of an invitation email's first question.
type scoreLink struct {
	N   int
	URL string
}
