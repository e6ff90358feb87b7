package survey

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
)

// ImportResult says what an import stored and which rows it refused.
type ImportResult struct {
	Rows     int        `json:"rows"`
	Imported int        `json:"imported"`
	Refused  int        `json:"refused"`
	Errors   []RowError `json:"errors"` // the first 100 refusals
}

// RowError is one refused row: its line in the file, the field and why.
type RowError struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// maxImportErrors bounds the errors an import reports (it still reads every row).
const maxImportErrors = 100

// ImportCSV records the responses of a CSV file. The header names the
// columns: customer (required: any identity), and optionally id (makes a
// repeated import count once; without it a row's content does), at (the
// answer's time, a date or RFC 3339), channel, language, order_id; every
// other column is a question id (an ACSI item is question.item, multi
// choices are separated by |). Valid rows are stored even when others are
// refused; each refusal names its line and field.
func (s *Service) ImportCSV(ctx context.Context, surveyID string, r io.Reader) (ImportResult, error) {
	res := ImportResult{Errors: []RowError{}}
	sv, err := s.Get(ctx, surveyID)
	if err != nil {
		return res, err
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return res, fault.Field("header", "the file needs a header row naming its columns (customer, and question ids)")
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		header[i] = h
		col[h] = i
	}
	if _, ok := col["customer"]; !ok {
		return res, fault.Field("customer", "the header has no customer column")
	}
	meta := map[string]bool{"customer": true, "id": true, "at": true, "channel": true, "language": true, "order_id": true}
	for _, h := range header {
		qid, _, _ := strings.Cut(h, ".")
		if _, ok := sv.Question(qid); !ok && !meta[h] {
			return res, fault.Field(h, "column %q is neither a question of the survey nor customer, id, at, channel, language or order_id", h)
		}
	}
	refuse := func(line int, err error) {
		res.Refused++
		if len(res.Errors) < maxImportErrors {
			res.Errors = append(res.Errors, RowError{Line: line, Field: fault.FieldOf(err), Message: fault.MessageOf(err)})
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := cr.FieldPos(0)
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				res.Rows++
				refuse(pe.Line, fault.New(fault.Invalid, "%v", pe.Err))
				continue
			}
			return res, err
		}
		res.Rows++
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		in := ResponseInput{Customer: get("customer"), Channel: get("channel"), Language: get("language"), OrderID: get("order_id"), Answers: map[string]any{}}
		if at := get("at"); at != "" {
			t, err := parseWhen(at)
			if err != nil {
				refuse(line, fault.Field("at", "at is a date (2026-01-31) or an RFC 3339 time"))
				continue
			}
			in.At = &t
		}
		for i, h := range header {
			if meta[h] || i >= len(rec) || strings.TrimSpace(rec[i]) == "" {
				continue
			}
			v := strings.TrimSpace(rec[i])
			qid, item, isItem := strings.Cut(h, ".")
			q, _ := sv.Question(qid)
			switch {
			case isItem:
				m, _ := in.Answers[qid].(map[string]any)
				if m == nil {
					m = map[string]any{}
					in.Answers[qid] = m
				}
				m[item] = v
			case q.Type == TypeMulti:
				var list []any
				for _, c := range strings.Split(v, "|") {
					list = append(list, strings.TrimSpace(c))
				}
				in.Answers[qid] = list
			default:
				in.Answers[qid] = v
			}
		}
		in.ID = get("id")
		if in.ID == "" {
			h := sha256.Sum256([]byte(strings.Join(rec, "\x1f")))
			in.ID = "row-" + hex.EncodeToString(h[:12])
		}
		if _, err := s.Respond(ctx, sv.ID, in); err != nil {
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

func parseWhen(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02", s)
}
