package cases

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/survey"
)

// ImportMentions records the posts of a CSV file whose header names the
// columns platform, handle, text and optionally url and at (a date or RFC
// 3339 time). Valid rows are recorded even when others are refused; each
// refusal names its line and field. A row recorded before (same platform,
// handle, text and time) is not recorded twice.
func (s *Service) ImportMentions(ctx context.Context, r io.Reader) (survey.ImportResult, error) {
	res := survey.ImportResult{Errors: []survey.RowError{}}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return res, fault.Field("header", "the file needs a header row: platform, handle, text, url, at")
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"platform", "handle", "text"} {
		if _, ok := col[need]; !ok {
			return res, fault.Field(need, "the header has no %s column", need)
		}
	}
	refuse := func(line int, err error) {
		res.Refused++
		if len(res.Errors) < 100 {
			res.Errors = append(res.Errors, survey.RowError{Line: line, Field: fault.FieldOf(err), Message: fault.MessageOf(err)})
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		res.Rows++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				refuse(pe.Line, fault.New(fault.Invalid, "%v", pe.Err))
				continue
			}
			return res, err
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		m := Mention{Platform: get("platform"), Handle: get("handle"), Text: get("text"), URL: get("url")}
		if at := get("at"); at != "" {
			t, err := time.Parse(time.RFC3339, at)
			if err != nil {
				if t, err = time.Parse("2006-01-02", at); err != nil {
					refuse(line, fault.Field("at", "at is a date (2026-01-31) or an RFC 3339 time"))
					continue
				}
			}
			m.At = &t
		} else {
			refuse(line, fault.Field("at", "an imported post needs its time"))
			continue
		}
		if _, err := s.Mention(ctx, m); err != nil {
			if fault.Code(err) == fault.Internal {
				return res, fmt.Errorf("line %d: %w", line, err)
			}
			refuse(line, err)
			continue
		}
		res.Imported++
	}
	return res, nil
}
