package profile

import (
	"fmt"
	"strings"
)

// Identity kinds.
const (
	KindUserID      = "user_id"
	KindAnonymousID = "anonymous_id"
	KindEmail       = "email"
	KindPhone       = "phone"
)

type ident struct{ kind, value string }

func (i ident) String() string { return i.kind + " " + i.value }

// NormalizeEmail returns the comparable form of an email address, or "".
func NormalizeEmail(v any) string {
	s, ok := v.(string)
	if !ok {
		return ""
	}
	s = strings.ToLower(strings.TrimSpace(s))
	at := strings.LastIndexByte(s, '@')
	if at < 1 || at == len(s)-1 || strings.ContainsAny(s, " \t\r\n") || len(s) > 320 {
		return ""
	}
	return s
}

// NormalizePhone returns the comparable form of a phone number — its digits,
// with a leading + when international — or "".
func NormalizePhone(v any) string {
	var s string
	switch t := v.(type) {
	case string:
		s = t
	case float64:
		s = fmt.Sprintf("%.0f", t)
	default:
		return ""
	}
	s = strings.TrimSpace(s)
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		}
	}
	out := b.String()
	if strings.HasPrefix(out, "00") {
		out = "+" + out[2:]
	}
	digits := strings.TrimPrefix(out, "+")
	if len(digits) < 7 || len(digits) > 15 {
		return ""
	}
	return out
}
