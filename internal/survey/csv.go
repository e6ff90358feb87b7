package survey

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"slices"
	"strings"

	"github.com/cxloop/cxloop/internal/csvimport"
	"github.com/cxloop/cxloop/internal/fault"
)

// csvColumns are the columns of an answers file that are not questions.
var csvColumns = []string{"customer", "id", "at", "channel", "store", "language", "order_id"}

// questionIDs lists a survey's question ids.
func questionIDs(sv *Survey) []string {
	ids := make([]string, len(sv.Questions))
	for i, q := range sv.Questions {
		ids[i] = q.ID
	}
	return ids
}

// ImportResult says what an import stored and which rows it refused.
type ImportResult = csvimport.Result

// ImportCSV records the responses of a CSV file. The header names the
// columns: customer (required: any identity), and optionally id (makes a
// repeated import count once; without it a row's content does), at (the
// answer's time, a date or RFC 3339), channel, store, language, order_id; every
// other column is a question id (an ACSI item is question.item, multi
// choices are separated by |). A row recorded before counts as a duplicate,
// not as imported, and fires nothing again. Valid rows are stored even when others are
// refused; each refusal names its line and field. A backfill is history
// being loaded: its answers count in reports but fire no rule; otherwise
// rules act on them as on answers given now, and the result says on how
// many rows a rule fired.
func (s *Service) ImportCSV(ctx context.Context, surveyID string, r io.Reader, backfill bool) (ImportResult, error) {
	sv, err := s.Get(ctx, surveyID)
	if err != nil {
		return ImportResult{Errors: []csvimport.RowError{}}, err
	}
	var messages []string
	meta := map[string]bool{}
	for _, c := range csvColumns {
		meta[c] = true
	}
	var header []string
	res, err := csvimport.Read(r, func(cols []string) error {
		header = cols
		if !slices.Contains(cols, "customer") {
			return fault.Field("customer", "the header has no customer column")
		}
		for _, h := range cols {
			qid, _, _ := strings.Cut(h, ".")
			if _, ok := sv.Question(qid); !ok && !meta[h] {
				return fault.Field(h, "column %q is neither a question of the survey (%s) nor one of %s", h, strings.Join(questionIDs(sv), ", "), strings.Join(csvColumns, ", "))
			}
		}
		return nil
	}, func(row csvimport.Row) error {
		in := ResponseInput{Customer: row.Get("customer"), Channel: row.Get("channel"), Store: row.Get("store"), Language: row.Get("language"), OrderID: row.Get("order_id"),
			Answers: map[string]any{}, Backfill: backfill}
		if t, ok, err := csvimport.Time(row, "at"); err != nil {
			return err
		} else if ok {
			in.At = &t
		}
		for i, h := range header {
			if meta[h] || i >= len(row.Record) || strings.TrimSpace(row.Record[i]) == "" {
				continue
			}
			v := strings.TrimSpace(row.Record[i])
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
		in.ID = row.Get("id")
		if in.ID == "" {
			h := sha256.Sum256([]byte(strings.Join(row.Record, "\x1f")))
			in.ID = "row-" + hex.EncodeToString(h[:12])
		}
		rsp, err := s.Respond(ctx, sv.ID, in)
		if err != nil {
			return err
		}
		if rsp.Duplicate {
			return csvimport.ErrDuplicate
		}
		messages = append(messages, derivedID("msg", rsp.ID))
		return nil
	})
	res.Backfill = backfill
	if err != nil || backfill || s.cfg.Fired == nil {
		return res, err
	}
	if len(messages) == 0 {
		none := 0
		res.FiredRules = &none // nothing new was stored: nothing fired
		return res, nil
	}
	n, ok, err := s.cfg.Fired(ctx, messages)
	if ok {
		res.FiredRules = &n
	}
	return res, err
}
