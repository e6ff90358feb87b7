package survey

import (
	"bytes"
	"context"
	"net/mail"
)

// ForView exposes the survey pages' invitation read to the tests.
func (s *Service) ForView(ctx context.Context, id string) (*Invitation, error) {
	return s.forView(ctx, id)
}

// ReplyText exposes what a reply's own text reads as: its text part
// without the quoted original and the signature.
func ReplyText(raw []byte) (string, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", err
	}
	t, err := replyText(msg)
	return stripReply(t), err
}

// LeadingScore exposes how a reply's leading score is read for a question
// of type typ.
func LeadingScore(text, typ string) (int, string, bool, error) {
	return leadingScore(text, Question{ID: "q1", Type: typ})
}
