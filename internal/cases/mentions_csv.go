package cases

import (
	"context"
	"io"

	"github.com/cxloop/cxloop/internal/csvimport"
	"github.com/cxloop/cxloop/internal/fault"
)

// ImportMentions records the posts of a CSV file whose header names the
// columns platform, handle, text, at (a date or RFC 3339 time) and
// optionally url. Valid rows are recorded even when others are refused; each
// refusal names its line and field. A row recorded before (same platform,
// handle, text and time) is not recorded twice: it counts as a duplicate.
func (s *Service) ImportMentions(ctx context.Context, r io.Reader, backfill bool) (csvimport.Result, error) {
	var messages []string
	res, err := csvimport.Read(r, func(cols []string) error {
		have := map[string]bool{}
		for _, c := range cols {
			have[c] = true
		}
		for _, need := range []string{"platform", "handle", "text", "at"} {
			if !have[need] {
				return fault.Field(need, "the header has no %s column", need)
			}
		}
		return nil
	}, func(row csvimport.Row) error {
		m := Mention{Platform: row.Get("platform"), Handle: row.Get("handle"), Text: row.Get("text"), URL: row.Get("url")}
		t, ok, err := csvimport.Time(row, "at")
		if err != nil {
			return err
		}
		if !ok {
			return fault.Field("at", "an imported post needs its time")
		}
		m.At = &t
		m.Backfill = backfill
		out, err := s.Mention(ctx, m)
		if err != nil {
			return err
		}
		if out.Duplicate {
			return csvimport.ErrDuplicate // recorded before: not stored again
		}
		messages = append(messages, out.ID)
		return nil
	})
	res.Backfill = backfill
	if err != nil || backfill {
		return res, err
	}
	if len(messages) == 0 {
		none := 0
		res.FiredRules = &none
		return res, nil
	}
	n, ok, err := s.Fired(ctx, messages)
	if ok {
		res.FiredRules = &n
	}
	return res, err
}
