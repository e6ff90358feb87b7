package survey_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
	"github.com/cxloop/cxloop/internal/survey"
)

const emailSurvey = `{"name": "After your order", "rhythm": "persistent", "owner": "service", "delivery": "email",
	"trigger": {"event": "Order Completed"},
	"questions": [
		{"id": "q1", "type": "nps", "text": {"en": "How likely are you to recommend Northwind?"}},
		{"id": "why", "type": "text", "text": {"en": "What is the main reason for your score?"}}]}`

// mailServer starts cxloop on the test clock with mail through a real SMTP
// server and replies to surveys@northwind.test, with a detractor rule.
func mailServer(t *testing.T, dsn string) (*apptest.Server, *apptest.Clock, *apptest.Mailbox, string) {
	t.Helper()
	c := apptest.NewClock(apptest.Epoch)
	mb := apptest.StartMailbox(t)
	s := apptest.StartWith(t, dsn, func(cfg *app.Config) {
		cfg.Now = c.Now
		cfg.Mail = &survey.Mailer{Addr: mb.Addr, From: "Northwind <surveys@northwind.test>"}
		cfg.SurveyReplyTo = "Northwind Surveys <surveys@northwind.test>"
	})
	if code := s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil); code != http.StatusCreated {
		t.Fatalf("team: %d", code)
	}
	if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "Detractor follow-up", "when": {"event": "Survey Responded", "nps_max": 6},
		"then": {"open_case": {"team": "service", "kind": "detractor", "sla": "48h"}}}`), nil); code != http.StatusCreated {
		t.Fatalf("rule: %d", code)
	}
	return s, c, mb, createSurvey(t, s, emailSurvey)
}

// invite sends an order for a customer with an email address and returns
// the invitation email they receive (the n-th mail of the mailbox).
func invite(t *testing.T, s *apptest.Server, c *apptest.Clock, mb *apptest.Mailbox, user string, n int) received {
	t.Helper()
	s.MustSend("identify", map[string]any{"type": "identify", "userId": user, "traits": map[string]any{"email": user + "@example.com"}})
	s.MustSend("track", order(user, "o-"+user, "web", c.Now()))
	dispatch(t, s)
	return parseMail(t, mb.Wait(t, n))
}

// received is an invitation email as its reader sees it.
type received struct {
	Header     mail.Header
	Text, HTML string
}

func parseMail(t *testing.T, m apptest.Mail) received {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		t.Fatal(err)
	}
	media, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || media != "multipart/alternative" {
		t.Fatalf("content type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	out := received{Header: msg.Header}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		switch {
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain"):
			out.Text = string(b)
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/html"):
			out.HTML = string(b)
		}
	}
	return out
}

var (
	htmlScoreLink = regexp.MustCompile(`href="(http[^"]+/s/[^"?]+\?score=(\d+))"`)
	textScoreLink = regexp.MustCompile(`(?m)^\s*(\d+): (http\S+/s/\S+\?score=(\d+))\s*$`)
)

// scoreLinks returns the score links of a part by score.
func scoreLinks(t *testing.T, part string, html bool) map[string]string {
	t.Helper()
	out := map[string]string{}
	if html {
		for _, m := range htmlScoreLink.FindAllStringSubmatch(part, -1) {
			out[m[2]] = m[1]
		}
		return out
	}
	for _, m := range textScoreLink.FindAllStringSubmatch(part, -1) {
		if m[1] != m[3] {
			t.Fatalf("text line %q labels score %s", m[0], m[1])
		}
		out[m[3]] = m[2]
	}
	return out
}

type responseList struct {
	Responses []struct {
		ID         string         `json:"id"`
		Invitation string         `json:"invitation"`
		Customer   string         `json:"customer"`
		UserID     string         `json:"userId"`
		Answers    map[string]any `json:"answers"`
		Texts      []struct {
			Body string `json:"body"`
		} `json:"texts"`
	} `json:"responses"`
}

func responsesOf(t *testing.T, s *apptest.Server, id string) responseList {
	t.Helper()
	s.Sync()
	var out responseList
	if code := s.API("GET", "/api/v1/surveys/"+id+"/responses", nil, &out); code != 200 {
		t.Fatalf("responses: %d", code)
	}
	return out
}

type caseList struct {
	Cases []struct {
		ID, Kind, Rule, Status string
	} `json:"cases"`
}

func casesOf(t *testing.T, s *apptest.Server, customer string) caseList {
	t.Helper()
	s.Sync()
	var out caseList
	if code := s.API("GET", "/api/v1/cases?customer="+url.QueryEscape(customer), nil, &out); code != 200 {
		t.Fatalf("cases: %d", code)
	}
	return out
}

func npsOf(t *testing.T, s *apptest.Server, id string) (n int, value float64) {
	t.Helper()
	var got scores
	s.API("GET", "/api/v1/scores?metric=nps&survey="+id, nil, &got)
	if len(got.Groups) == 0 {
		return 0, 0
	}
	return got.Groups[0].N, got.Groups[0].Value
}

// answeredOf returns how many of the survey's contacted invitations are
// answered, and how many were contacted, after checking that the survey's
// response rate is answered ÷ contacted (as a fraction from 0 to 1, or as
// a percentage, the unit earlier versions gave).
func answeredOf(t *testing.T, s *apptest.Server, id string) (answered, contacted int) {
	t.Helper()
	var sv struct {
		Funnel struct {
			Sent, Started, Answered, Expired int
			ResponseRate                     *float64 `json:"responseRate"`
		} `json:"funnel"`
	}
	s.API("GET", "/api/v1/surveys/"+id, nil, &sv)
	f := sv.Funnel
	contacted = f.Sent + f.Started + f.Answered + f.Expired
	if f.ResponseRate == nil || contacted == 0 {
		t.Fatalf("no response rate: %+v", f)
	}
	want := float64(f.Answered) / float64(contacted)
	if r := *f.ResponseRate; math.Abs(r-want) > 0.001 && math.Abs(r-100*want) > 0.1 {
		t.Fatalf("response rate %v, but %d of %d answered", r, f.Answered, contacted)
	}
	return f.Answered, contacted
}

// One-click score links: the invitation email carries one link per score
// in both parts; following one shows the page with the score chosen (a
// GET records nothing: mail scanners follow links), one click records it
// through the answer path every answer takes (scores, rules, response
// rate), and clicking again changes the answer instead of adding one.
func TestEmailScoreLinks(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, c, mb, id := mailServer(t, dsn)
		m := invite(t, s, c, mb, "ana", 1)
		invite(t, s, c, mb, "ben", 2) // invited, never answers

		if got := m.Header.Get("Reply-To"); !strings.Contains(got, "<surveys+inv_") || !strings.HasSuffix(got, "@northwind.test>") {
			t.Fatalf("Reply-To = %q", got)
		}
		html, text := scoreLinks(t, m.HTML, true), scoreLinks(t, m.Text, false)
		if len(html) != 11 || len(text) != 11 || html["0"] == "" || html["10"] == "" || html["3"] != text["3"] {
			t.Fatalf("score links: html %v text %v\n%s", html, text, m.Text)
		}
		if !strings.Contains(m.HTML, "How likely are you to recommend Northwind?") || !strings.Contains(m.Text, "0 = Not at all likely") {
			t.Fatalf("the question is not in the email:\n%s", m.Text)
		}
		link := html["3"]
		page := strings.TrimSuffix(link, "?score=3")

		// A GET (what a mail scanner does) shows the score chosen and records nothing.
		code, body := get(t, link)
		if code != 200 || !regexp.MustCompile(`name="q1" value="3" checked`).MatchString(body) || !strings.Contains(body, `/score"`) ||
			strings.Contains(body, `name="why"`) {
			t.Fatalf("score page: %d\n%s", code, body)
		}
		if got := responsesOf(t, s, id); len(got.Responses) != 0 {
			t.Fatalf("a GET recorded %+v", got)
		}
		if st := invitations(t, s, "ana")[0].Status; st != "sent" {
			t.Fatalf("status after a GET = %s", st)
		}

		// One click records the score and opens the page for the rest, the score filled in.
		code, body = postForm(t, page+"/score", url.Values{"q1": {"3"}})
		if code != 200 || !strings.Contains(body, `name="why"`) || !regexp.MustCompile(`name="q1" value="3" checked`).MatchString(body) ||
			!strings.Contains(body, "Thank you") {
			t.Fatalf("after the click: %d\n%s", code, body)
		}
		got := responsesOf(t, s, id)
		if len(got.Responses) != 1 || got.Responses[0].Answers["q1"] != 3.0 || got.Responses[0].UserID != "ana" {
			t.Fatalf("responses = %+v", got)
		}
		if n, v := npsOf(t, s, id); n != 1 || v != -100 {
			t.Fatalf("nps = %d %v", n, v)
		}
		cs := casesOf(t, s, "ana")
		if len(cs.Cases) != 1 || cs.Cases[0].Kind != "detractor" || cs.Cases[0].Rule == "" {
			t.Fatalf("cases = %+v", cs)
		}
		if a, c := answeredOf(t, s, id); a != 1 || c != 2 {
			t.Fatalf("answered = %d of %d", a, c)
		}

		// A second click changes the answer: still one response, one case.
		if code, _ := postForm(t, page+"/score", url.Values{"q1": {"5"}}); code != 200 {
			t.Fatalf("second click: %d", code)
		}
		got = responsesOf(t, s, id)
		if len(got.Responses) != 1 || got.Responses[0].Answers["q1"] != 5.0 {
			t.Fatalf("responses after a second click = %+v", got)
		}
		if n, v := npsOf(t, s, id); n != 1 || v != -100 {
			t.Fatalf("nps after a second click = %d %v", n, v)
		}
		// The rest of the questions on the page complete the same response.
		code, body = postForm(t, page, url.Values{"q1": {"9"}, "why": {"Quick delivery, but the box was dented"}})
		if code != 200 || !strings.Contains(body, "Thank you") {
			t.Fatalf("page: %d\n%s", code, body)
		}
		got = responsesOf(t, s, id)
		if len(got.Responses) != 1 || got.Responses[0].Answers["q1"] != 9.0 || got.Responses[0].Answers["why"] != "Quick delivery, but the box was dented" ||
			len(got.Responses[0].Texts) != 1 || got.Responses[0].Texts[0].Body != "Quick delivery, but the box was dented" {
			t.Fatalf("responses after the page = %+v", got)
		}
		if n, v := npsOf(t, s, id); n != 1 || v != 100 {
			t.Fatalf("nps after the page = %d %v (a promoter)", n, v)
		}
		if cs := casesOf(t, s, "ana"); len(cs.Cases) != 1 {
			t.Fatalf("cases after changes = %+v", cs)
		}
		// The analytics (at-risk, silent dissatisfied) hold the answer once, as last changed.
		var signals int
		var last float64
		if err := s.DB.QueryRowContext(t.Context(), `SELECT COUNT(*), MAX(value) FROM an_signals WHERE kind = 'nps'`).Scan(&signals, &last); err != nil ||
			signals != 1 || last != 9 {
			t.Fatalf("nps signals: %d, last %v (%v)", signals, last, err)
		}
		if a, c := answeredOf(t, s, id); a != 1 || c != 2 {
			t.Fatalf("answered after changes = %d of %d", a, c)
		}
		// A score out of range from a forged form is refused.
		if code, _ := postForm(t, page+"/score", url.Values{"q1": {"11"}}); code != http.StatusUnprocessableEntity {
			t.Fatalf("score 11: %d", code)
		}

		// A promoter's click opens no case and keeps what was written on
		// the page before; a forged token finds nothing.
		benPage := strings.TrimSuffix(scoreLinks(t, parseMail(t, mb.Wait(t, 2)).HTML, true)["10"], "?score=10")
		if code, _ := postForm(t, benPage, url.Values{"why": {"Great boots"}}); code != http.StatusUnprocessableEntity {
			t.Fatalf("unfinished page: %d", code)
		}
		if code, _ := postForm(t, benPage+"/score", url.Values{"q1": {"10"}}); code != 200 {
			t.Fatalf("promoter click: %d", code)
		}
		got = responsesOf(t, s, id)
		if len(got.Responses) != 2 || got.Responses[0].UserID != "ben" || got.Responses[0].Answers["q1"] != 10.0 || got.Responses[0].Answers["why"] != "Great boots" {
			t.Fatalf("ben's response = %+v", got)
		}
		if cs := casesOf(t, s, "ben"); len(cs.Cases) != 0 {
			t.Fatalf("a promoter has cases %+v", cs)
		}
		if a, c := answeredOf(t, s, id); a != 2 || c != 2 {
			t.Fatalf("answered = %d of %d", a, c)
		}
		if code, _ := postForm(t, page[:len(page)-3]+"xyz/score", url.Values{"q1": {"1"}}); code != http.StatusNotFound {
			t.Fatalf("forged token: %d", code)
		}
	})
}

// reply builds a reply to an invitation email as a mail client would.
func reply(from, to, inReplyTo, messageID, contentType, body string) []byte {
	h := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: Re: We'd value your opinion\r\nDate: Wed, 13 May 2026 10:05:00 +0000\r\nMIME-Version: 1.0\r\n", from, to)
	if inReplyTo != "" {
		h += "In-Reply-To: " + inReplyTo + "\r\nReferences: " + inReplyTo + "\r\n"
	}
	if messageID != "" {
		h += "Message-ID: " + messageID + "\r\n"
	}
	return []byte(h + "Content-Type: " + contentType + "\r\n\r\n" + strings.ReplaceAll(body, "\n", "\r\n"))
}

type replyResult struct {
	Response struct {
		ID      string         `json:"id"`
		Answers map[string]any `json:"answers"`
		Scores  map[string]any `json:"scores"`
	} `json:"response"`
	Score   *int   `json:"score"`
	Comment string `json:"comment"`
	Changed bool   `json:"changed"`
	Error   struct {
		Code, Field, Message string
	} `json:"error"`
}

func postReply(t *testing.T, s *apptest.Server, raw []byte) (int, replyResult) {
	t.Helper()
	code, body := s.Do("POST", "/api/v1/surveys/replies", raw, "Authorization: Bearer "+apptest.Token, "Content-Type: message/rfc822")
	var out replyResult
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("reply: %d %s", code, body)
	}
	return code, out
}

// Replies by email: a reply to the invitation (multipart, quoted original,
// signature) posted as a raw message is recorded as the invitation's
// answer through the same path as every answer: its score, its comment,
// the case a rule opens and the response rate. HTML-only replies, 10/10,
// no score, an unknown token and a duplicate delivery.
func TestEmailReplies(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, c, mb, id := mailServer(t, dsn)
		m := invite(t, s, c, mb, "cleo", 1)
		invite(t, s, c, mb, "dan", 2) // invited, never answers
		replyTo := m.Header.Get("Reply-To")
		to, err := mail.ParseAddress(replyTo)
		if err != nil || !strings.HasPrefix(to.Address, "surveys+inv_") {
			t.Fatalf("Reply-To %q: %v", replyTo, err)
		}
		if a, c := answeredOf(t, s, id); a != 0 || c != 2 {
			t.Fatalf("answered before = %d of %d", a, c)
		}

		raw := reply(`"Cleo" <cleo@example.com>`, to.String(), m.Header.Get("Message-ID"), "<r1@mail.example.com>",
			`multipart/alternative; boundary="b1"`, `--b1
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: quoted-printable

3 - the parcel arrived damaged and nobody answered my calls.
Please call me back.

--=20
Cleo Marsh
Head of Purchasing, Marsh & Co

On Wed, May 13, 2026 at 10:00 AM Northwind Surveys <surveys@northwind.test> wr=
ote:
> Thank you for choosing us. Would you take a minute to tell us how we did?
> 9: http://example/s/x?score=3D9
--b1
Content-Type: text/html; charset=utf-8

<div dir="ltr">3 - the parcel arrived damaged</div><div class="gmail_quote">On Wed wrote: 9</div>
--b1--
`)
		code, res := postReply(t, s, raw)
		want := "the parcel arrived damaged and nobody answered my calls.\nPlease call me back."
		if code != 200 || res.Score == nil || *res.Score != 3 || res.Comment != want || !res.Changed ||
			res.Response.Answers["q1"] != 3.0 || res.Response.Answers["why"] != want || res.Response.Scores["nps"] != 3.0 {
			t.Fatalf("reply: %d %+v", code, res)
		}
		got := responsesOf(t, s, id)
		if len(got.Responses) != 1 || got.Responses[0].Answers["why"] != want || got.Responses[0].UserID != "cleo" {
			t.Fatalf("responses = %+v", got)
		}
		cs := casesOf(t, s, "cleo")
		if len(cs.Cases) != 1 || cs.Cases[0].Kind != "detractor" {
			t.Fatalf("cases = %+v", cs)
		}
		if a, c := answeredOf(t, s, id); a != 1 || c != 2 {
			t.Fatalf("answered = %d of %d", a, c)
		}
		if st := invitations(t, s, "cleo")[0].Status; st != "answered" {
			t.Fatalf("status = %s", st)
		}

		// The same reply delivered twice changes nothing.
		code, res = postReply(t, s, raw)
		if code != 200 || res.Changed || res.Response.ID != got.Responses[0].ID {
			t.Fatalf("duplicate: %d %+v", code, res)
		}
		// A second detractor reply revises the answer: one response, one case.
		code, res = postReply(t, s, reply("cleo@example.com", to.Address, "", "<r1b@mail.example.com>", "text/plain; charset=utf-8", "2\n"))
		if code != 200 || *res.Score != 2 || !res.Changed || res.Response.Answers["why"] != want {
			t.Fatalf("second reply: %d %+v", code, res)
		}
		if cs := casesOf(t, s, "cleo"); len(cs.Cases) != 1 {
			t.Fatalf("cases after a second detractor reply = %+v", cs)
		}
		// A third, "10/10", revises it again.
		code, res = postReply(t, s, reply("cleo@example.com", to.Address, "", "<r2@mail.example.com>", "text/plain; charset=utf-8",
			"10/10 they called back and replaced it!\n\nSent from my phone\n"))
		if code != 200 || *res.Score != 10 || res.Comment != "they called back and replaced it!" || !res.Changed {
			t.Fatalf("10/10: %d %+v", code, res)
		}
		got = responsesOf(t, s, id)
		if len(got.Responses) != 1 || got.Responses[0].Answers["q1"] != 10.0 {
			t.Fatalf("responses after 10/10 = %+v", got)
		}
		if n, v := npsOf(t, s, id); n != 1 || v != 100 {
			t.Fatalf("nps = %d %v", n, v)
		}
		if cs := casesOf(t, s, "cleo"); len(cs.Cases) != 1 {
			t.Fatalf("cases after a revision = %+v", cs)
		}

		// HTML only, found by In-Reply-To from the address invited (no plus-tag).
		m2 := parseMail(t, mb.Wait(t, 2))
		html := `<html><head><style>p{}</style></head><body><p>8</p><p>Fine overall &amp; fast</p>
<blockquote type="cite">Would you take a minute? 2</blockquote></body></html>`
		if code, res := postReply(t, s, reply("Dan <DAN@example.com>", "surveys@northwind.test", m2.Header.Get("Message-ID"), "<r3@x>",
			"text/html; charset=utf-8", html)); code != 200 || *res.Score != 8 || res.Comment != "Fine overall & fast" {
			t.Fatalf("html reply: %d %+v", code, res)
		}
		if a, c := answeredOf(t, s, id); a != 2 || c != 2 {
			t.Fatalf("answered = %d of %d", a, c)
		}

		// Refusals: JSON naming what is wrong; nothing recorded.
		m3 := invite(t, s, c, mb, "eve", 3)
		eveTo, _ := mail.ParseAddress(m3.Header.Get("Reply-To"))
		if code, res := postReply(t, s, reply("eve@example.com", eveTo.Address, "", "<r4@x>", "text/plain", "Thanks for asking!\n")); code != http.StatusUnprocessableEntity ||
			res.Error.Field != "score" || !strings.Contains(res.Error.Message, "0 to 10") {
			t.Fatalf("no score: %d %+v", code, res)
		}
		if code, res := postReply(t, s, reply("eve@example.com", eveTo.Address, "", "<r5@x>", "text/plain", "11 stars\n")); code != http.StatusUnprocessableEntity ||
			res.Error.Field != "score" {
			t.Fatalf("score 11: %d %+v", code, res)
		}
		if code, res := postReply(t, s, reply("eve@example.com", eveTo.Address, "", "<r6@x>", "text/plain", "4/5 good\n")); code != http.StatusUnprocessableEntity ||
			!strings.Contains(res.Error.Message, "out of 5") {
			t.Fatalf("4/5: %d %+v", code, res)
		}
		if st := invitations(t, s, "eve")[0].Status; st != "sent" {
			t.Fatalf("status after refused replies = %s", st)
		}
		forged := strings.Replace(eveTo.Address, "+inv_", "+inv_0", 1)
		if code, res := postReply(t, s, reply("eve@example.com", forged, "", "", "text/plain", "2\n")); code != http.StatusNotFound || res.Error.Code != "not_found" {
			t.Fatalf("unknown token: %d %+v", code, res)
		}
		// The Message-ID of another customer's invitation, from another address.
		if code, _ := postReply(t, s, reply("mallory@example.com", "surveys@northwind.test", m3.Header.Get("Message-ID"), "", "text/plain", "0\n")); code != http.StatusNotFound {
			t.Fatalf("In-Reply-To from a stranger: %d", code)
		}
		if code, body := s.Do("POST", "/api/v1/surveys/replies", raw, "Authorization: Bearer "+apptest.Token, "Content-Type: application/json"); code != http.StatusUnsupportedMediaType ||
			!strings.Contains(string(body), `"field":"Content-Type"`) {
			t.Fatalf("wrong content type: %d %s", code, body)
		}
		if code, _ := s.Do("POST", "/api/v1/surveys/replies", make([]byte, 11<<20), "Authorization: Bearer "+apptest.Token, "Content-Type: message/rfc822"); code != http.StatusRequestEntityTooLarge {
			t.Fatalf("11 MB: %d", code)
		}
		if code, _ := s.Do("POST", "/api/v1/surveys/replies", raw, "Content-Type: message/rfc822"); code != http.StatusUnauthorized {
			t.Fatalf("without a token: %d", code)
		}
		if st := invitations(t, s, "eve")[0].Status; st != "sent" {
			t.Fatalf("status after refused replies = %s", st)
		}

		// When the first question is optional, words alone record the comment.
		c.Add(time.Minute) // a new version of the survey
		if code := s.API("PATCH", "/api/v1/surveys/"+id, json.RawMessage(`{"questions": [
			{"id": "q1", "type": "nps", "optional": true, "text": {"en": "How likely are you to recommend Northwind?"}},
			{"id": "why", "type": "text", "text": {"en": "What is the main reason for your score?"}}]}`), nil); code != 200 {
			t.Fatalf("patch: %d", code)
		}
		code, res = postReply(t, s, reply("eve@example.com", eveTo.Address, "", "<r7@x>", "text/plain", "Thanks for asking!\n"))
		if code != 200 || res.Score != nil || res.Comment != "Thanks for asking!" || res.Response.Answers["why"] != "Thanks for asking!" || res.Response.Answers["q1"] != nil {
			t.Fatalf("comment only: %d %+v", code, res)
		}
		if st := invitations(t, s, "eve")[0].Status; st != "answered" {
			t.Fatalf("status after a comment = %s", st)
		}
	})
}

// How a reply's text is read: the part, without quote and signature, and
// its leading score.
func TestReplyText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"9\n\n-- \nJo", "9"},
		{"7 ok\n\nOn Tue, 12 May 2026, Northwind <surveys+x@n.test>\nwrote:\n> hi", "7 ok"},
		{"6\n-----Original Message-----\nFrom: x", "6"},
		{"5 meh\n\nFrom: Northwind\nSent: Tuesday\nTo: me\n", "5 meh"},
		{"> quoted\n4 fine", "4 fine"},
	} {
		got, err := survey.ReplyText(reply("a@b.c", "d@e.f", "", "", "text/plain; charset=utf-8", c.in))
		if err != nil || got != c.want {
			t.Errorf("%q read as %q (%v), want %q", c.in, got, err, c.want)
		}
	}
	latin := reply("a@b.c", "d@e.f", "", "", "text/plain; charset=iso-8859-1", "8 tr\xe8s bien")
	if got, _ := survey.ReplyText(latin); got != "8 très bien" {
		t.Errorf("latin-1 read as %q", got)
	}
	b64 := reply("a@b.c", "d@e.f", "", "", "multipart/mixed; boundary=x", "--x\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\nOSAtIGdy\nZWF0\n--x--\n")
	if got, _ := survey.ReplyText(b64); got != "9 - great" {
		t.Errorf("base64 read as %q", got)
	}
	for _, c := range []struct {
		in    string
		n     int
		rest  string
		found bool
	}{
		{"9", 9, "", true}, {"9/10", 9, "", true}, {"9 - great", 9, "great", true}, {"10/10 love it", 10, "love it", true},
		{"  8. Good", 8, "Good", true}, {"7 out of 10", 7, "", true}, {"9, thanks", 9, "thanks", true},
		{"Great!", 0, "Great!", false}, {"9.5", 0, "9.5", false}, {"2021 was fine", 0, "2021 was fine", false}, {"3rd time lucky", 0, "3rd time lucky", false},
	} {
		n, rest, found, err := survey.LeadingScore(c.in, "nps")
		if err != nil || n != c.n || rest != c.rest || found != c.found {
			t.Errorf("%q: %d %q %v %v", c.in, n, rest, found, err)
		}
	}
	if _, _, _, err := survey.LeadingScore("12", "nps"); err == nil {
		t.Error("12 is not an nps score")
	}
	if n, _, _, err := survey.LeadingScore("4/5", "csat"); err != nil || n != 4 {
		t.Errorf("4/5 csat: %d %v", n, err)
	}
}
