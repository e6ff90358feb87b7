package survey

import (
	"context"
	"encoding/base64"
	"errors"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cxloop/cxloop/internal/fault"
)

// ReplyResult is what a reply to an invitation email recorded.
type ReplyResult struct {
	Response *Response `json:"response"`
	// Score is the leading number read as the first question's answer
	// (null when the reply gave only a comment).
	Score *int `json:"score"`
	// Comment is the reply's text after the score, without quoted text or
	// signature, recorded as the first open-text question's answer.
	Comment string `json:"comment"`
	// Changed is false when the response already held these answers (the
	// same reply delivered again).
	Changed bool `json:"changed"`
}

// ErrNoScore is a reply whose first words are not a score the survey
// takes: the caller answers 422 Unprocessable Entity with Fault.
type ErrNoScore struct{ Fault *fault.Error }

func (e ErrNoScore) Error() string { return e.Fault.Error() }
func (e ErrNoScore) Unwrap() error { return e.Fault }

// Reply reads a reply to an invitation email (a raw RFC 5322 message, as a
// mail system pipes or a provider's inbound webhook forwards it) and
// records it as the invitation's answer, through the same path as every
// answer: a leading score ("9", "9/10", "9 - great") answers the first
// question, the rest of the text the survey's open-text question. The
// invitation is the one the plus-tag of a To, Cc or Delivered-To address
// names (surveys+<token>@…), else the one whose email the In-Reply-To or
// References header answers, when the reply comes from the address it was
// sent to. A second reply revises the answer instead of adding one.
func (s *Service) Reply(ctx context.Context, raw io.Reader) (*ReplyResult, error) {
	msg, err := mail.ReadMessage(raw)
	if err != nil {
		return nil, fault.Field("body", "the body is not an email message (RFC 5322): %v", err)
	}
	id, err := s.replyInvitation(ctx, msg.Header)
	if err != nil {
		return nil, err
	}
	inv, err := s.byID(ctx, id)
	if err != nil {
		return nil, err
	}
	if inv.Status == Scheduled || inv.Status == Skipped {
		return nil, fault.New(fault.NotFound, "no invitation matches this reply")
	}
	sv, err := s.version(ctx, inv.Survey, inv.surveyVersion)
	if err != nil {
		return nil, err
	}
	if inv.Status == Expired || (inv.ExpiresAt != nil && int64(*inv.ExpiresAt) < s.now().UnixMilli()) {
		return nil, fault.New(fault.Conflict, "the invitation this reply answers has expired")
	}
	if sv.Shut() {
		return nil, fault.New(fault.Conflict, "the survey this reply answers is closed")
	}
	body, err := replyText(msg)
	if err != nil {
		return nil, err
	}
	text := stripReply(body)
	res := &ReplyResult{}
	given := map[string]any{}
	q, hasScore := sv.scoreQuestion()
	rest := text
	if hasScore {
		n, after, found, err := leadingScore(text, q)
		if err != nil {
			return nil, err
		}
		if found {
			given[q.ID], res.Score, rest = n, &n, after
		}
	}
	cq, hasComment := sv.commentQuestion()
	rest = strings.TrimSpace(rest)
	if hasComment && rest != "" {
		if utf8.RuneCountInString(rest) > maxText {
			rest = string([]rune(rest)[:maxText])
		}
		given[cq.ID], res.Comment = rest, rest
	}
	if res.Score == nil {
		switch {
		case !hasScore:
			return nil, ErrNoScore{fault.Field("score", "this survey's first question (%s) cannot be answered by email", sv.Questions[0].ID)}
		case !q.Optional || res.Comment == "":
			lo, hi := q.scaleOf()
			return nil, ErrNoScore{fault.Field("score", "the reply does not start with a score from %d to %d (question %q): write the score first, e.g. \"%d\" or \"%d/%d\"", lo, hi, q.ID, hi-1, hi-1, hi)}
		}
	}
	lang := sv.Language(inv.locale)
	key := strings.TrimSpace(msg.Header.Get("Message-ID"))
	rsp, changed, err := s.answerFromEmail(ctx, inv, sv, given, lang, viaReply, key, false)
	if err != nil {
		if errors.Is(err, errAnswered) {
			return nil, fault.New(fault.Conflict, "the invitation was already answered on its survey page")
		}
		return nil, err
	}
	res.Response, res.Changed = rsp, changed
	return res, nil
}

// replyInvitation finds the invitation a reply answers from its headers.
func (s *Service) replyInvitation(ctx context.Context, h mail.Header) (string, error) {
	var addrs []string
	for _, name := range []string{"Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc"} {
		for _, v := range h[name] {
			list, err := mail.ParseAddressList(v)
			if err != nil {
				if a, err := mail.ParseAddress(v); err == nil {
					list = []*mail.Address{a}
				} else {
					// A bare address without a domain part or similar: take it as it is.
					list = []*mail.Address{{Address: strings.Trim(strings.TrimSpace(v), "<>")}}
				}
			}
			for _, a := range list {
				addrs = append(addrs, a.Address)
			}
		}
	}
	tagged := false
	for _, a := range addrs {
		local, _, _ := strings.Cut(a, "@")
		_, tag, ok := strings.Cut(local, "+")
		if !ok {
			continue
		}
		tagged = true
		if id, err := s.invitationOfReply(ctx, tag); err == nil {
			return id, nil
		} else if !errors.Is(err, errForged) {
			return "", err
		}
	}
	// The Message-ID of the invitation email (<inv_….N@cxloop>) in
	// In-Reply-To or References: it is not signed, so the reply must come
	// from the address the invitation was sent to.
	from, _ := mail.ParseAddress(h.Get("From"))
	for _, name := range []string{"In-Reply-To", "References"} {
		for _, ref := range strings.Fields(h.Get(name)) {
			ref = strings.Trim(ref, "<>")
			local, host, ok := strings.Cut(ref, "@")
			if !ok || host != "cxloop" || !strings.HasPrefix(local, "inv_") {
				continue
			}
			id := local
			if i := strings.LastIndex(local, "."); i > 0 {
				id = local[:i]
			}
			var email string
			if err := s.db.QueryRowContext(ctx, `SELECT email FROM survey_invitations WHERE id = $1`, id).Scan(&email); err != nil {
				continue
			}
			if from != nil && email != "" && strings.EqualFold(from.Address, email) {
				return id, nil
			}
		}
	}
	if tagged {
		return "", fault.New(fault.NotFound, "the reply address names no invitation: its +token is not valid")
	}
	return "", fault.New(fault.NotFound, "no invitation matches this reply: it is addressed to no surveys+<token> address and answers no invitation email sent to its sender")
}

// maxReplyText bounds the text read from a reply.
const maxReplyText = 256 << 10

// replyText is the reply's own text: its text/plain part, else its text/html
// part without markup.
func replyText(msg *mail.Message) (string, error) {
	plain, htm, err := textParts(msg.Header, msg.Body, 0)
	if err != nil {
		return "", fault.Field("body", "the message cannot be read: %v", err)
	}
	if strings.TrimSpace(plain) != "" {
		return plain, nil
	}
	if htm != "" {
		return htmlText(htm), nil
	}
	return "", nil
}

// header is the part of a MIME header textParts reads.
type header interface{ Get(string) string }

// textParts walks a MIME entity and returns its first text/plain and
// text/html contents, decoded to UTF-8.
func textParts(h header, body io.Reader, depth int) (plain, htm string, err error) {
	if depth > 10 {
		return "", "", nil
	}
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii"
	}
	media, params, err := mime.ParseMediaType(ct)
	if err != nil {
		media, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(media, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return plain, htm, err
			}
			if strings.HasPrefix(strings.ToLower(part.Header.Get("Content-Disposition")), "attachment") {
				continue
			}
			p, h, err := textParts(part.Header, part, depth+1)
			if err != nil {
				return plain, htm, err
			}
			if plain == "" {
				plain = p
			}
			if htm == "" {
				htm = h
			}
		}
		return plain, htm, nil
	}
	if media != "text/plain" && media != "text/html" {
		return "", "", nil
	}
	var r io.Reader = io.LimitReader(body, maxReplyText)
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &newlineSkipper{r: r})
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", "", err
	}
	text := decodeCharset(b, params["charset"])
	if media == "text/html" {
		return "", text, nil
	}
	return text, "", nil
}

// newlineSkipper drops line breaks from base64 text.
type newlineSkipper struct{ r io.Reader }

func (n *newlineSkipper) Read(p []byte) (int, error) {
	for {
		k, err := n.r.Read(p)
		j := 0
		for _, c := range p[:k] {
			if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
				p[j] = c
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
}

// decodeCharset turns text in UTF-8, US-ASCII, ISO-8859-1 or Windows-1252
// into UTF-8; invalid bytes of other charsets become U+FFFD.
func decodeCharset(b []byte, charset string) string {
	switch strings.ToLower(charset) {
	case "iso-8859-1", "latin1", "windows-1252", "cp1252":
		r := make([]rune, len(b))
		for i, c := range b {
			r[i] = rune(c)
		}
		return string(r)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

var (
	htmlDrop  = regexp.MustCompile(`(?is)<(head|style|script|title)\b.*?</(head|style|script|title)\s*>|<blockquote\b.*?</blockquote\s*>`)
	htmlQuote = regexp.MustCompile(`(?is)<div[^>]*class="?(gmail_quote|moz-cite-prefix|yahoo_quoted)"?[^>]*>.*`)
	htmlBreak = regexp.MustCompile(`(?i)<br\s*/?>|</(p|div|li|tr|h[1-6])\s*>`)
	htmlTag   = regexp.MustCompile(`(?s)<[^>]*>`)
)

// htmlText is the text of an HTML reply, without its quoted original.
func htmlText(h string) string {
	h = htmlQuote.ReplaceAllString(h, "")
	h = htmlDrop.ReplaceAllString(h, "")
	h = htmlBreak.ReplaceAllString(h, "\n")
	h = htmlTag.ReplaceAllString(h, "")
	return html.UnescapeString(h)
}

var (
	wroteLine  = regexp.MustCompile(`(?i)^(on\b.*|am\b.*|le\b.*|el\b.*|.*\b\d{4}\b.*)(wrote|schrieb|a écrit|escribió)\s*:?\s*$`)
	headerLine = regexp.MustCompile(`(?i)^(from|von|de|sent|date|to|subject):\s`)
	sentFrom   = regexp.MustCompile(`(?i)^(sent from my|get outlook for|envoyé de mon|von meinem)\b`)
)

// stripReply removes the quoted original and the signature from a reply's
// text: it ends at a "-- " signature line, an "On … wrote:" line (also when
// wrapped over two lines), an "-----Original Message-----" or underscore
// rule, a block of forwarded headers, or a "Sent from my phone" line;
// quoted (">") lines are dropped.
func stripReply(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var out []string
	done := func() string { return strings.TrimSpace(strings.Join(out, "\n")) }
	for i, raw := range lines {
		line := strings.TrimRight(raw, " \t\u00a0")
		trimmed := strings.TrimSpace(line)
		next := ""
		if i+1 < len(lines) {
			next = strings.TrimSpace(lines[i+1])
		}
		switch {
		case raw == "-- " || line == "--":
			return done()
		case wroteLine.MatchString(trimmed), wroteLine.MatchString(trimmed+" "+next) && strings.HasPrefix(strings.ToLower(trimmed), "on "),
			strings.HasPrefix(trimmed, "-----Original Message-----"), strings.HasPrefix(trimmed, "________________"),
			sentFrom.MatchString(trimmed):
			return done()
		case headerLine.MatchString(trimmed) && (len(out) == 0 || strings.TrimSpace(out[len(out)-1]) == "") && headerLine.MatchString(next):
			return done()
		case strings.HasPrefix(trimmed, ">"):
			continue
		}
		out = append(out, line)
	}
	return done()
}

var scorePattern = regexp.MustCompile(`(?i)^\s*(\d{1,3})(?:\s*(?:/|out of|of)\s*(\d{1,3}))?(?:$|[^\p{L}\p{N}/.,]|[.,](?:\D|$))`)

// leadingScore reads the score a reply starts with: "9", "9/10", "9 out of
// 10", "9 - great", "9. Great". found is false when the reply does not
// start with a number; a number outside the question's scale is an error
// naming it.
func leadingScore(text string, q Question) (n int, rest string, found bool, err error) {
	m := scorePattern.FindStringSubmatchIndex(text)
	if m == nil {
		return 0, text, false, nil
	}
	n, _ = strconv.Atoi(text[m[2]:m[3]])
	lo, hi := q.scaleOf()
	if m[4] >= 0 {
		if d, _ := strconv.Atoi(text[m[4]:m[5]]); d != hi {
			return 0, "", false, ErrNoScore{fault.Field("score", "the reply's score %s is out of %d, but question %q is answered from %d to %d", text[m[2]:m[5]], d, q.ID, lo, hi)}
		}
	}
	if n < lo || n > hi {
		return 0, "", false, ErrNoScore{fault.Field("score", "the reply's score %d is outside %d–%d (question %q)", n, lo, hi, q.ID)}
	}
	end := m[3]
	if m[4] >= 0 {
		end = m[5]
	}
	rest = strings.TrimLeft(text[end:], " \t\r\n-–—:,.;!)")
	return n, rest, true, nil
}
