// Package csvimport reads the CSV files cxloop imports (survey answers,
// social posts): a header naming the columns, then one record a row. Valid
// rows are stored even when others are refused, and each refusal names its
// line and field.
//
// It imports fault and httpio only.
package csvimport

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
)

// Result says what an import stored and which rows it refused.
type Result struct {
	Rows     int `json:"rows"`
	Imported int `json:"imported"`
	Refused  int `json:"refused"`
	// Duplicates counts the rows recorded by an earlier import (same id, or
	// same content): read, valid, and not stored again.
	Duplicates int        `json:"duplicates"`
	Errors     []RowError `json:"errors"` // the first 100 refusals
	// Backfill is true when the rows were imported as history: they count
	// in reports but fire no rule and send no survey.
	Backfill bool `json:"backfill"`
	// FiredRules counts the imported rows on which at least one rule fired
	// (opened a case, notified a team or called a webhook); absent when no
	// rule can have read them yet (a backfill, or a command-line import
	// while no cxloop serve runs: rules read the rows when it does).
	FiredRules *int `json:"firedRules,omitempty"`
}

// Backfill reads an import's backfill flag (?backfill=true): absent is false.
func Backfill(v string) (bool, error) {
	switch v {
	case "", "false", "0":
		return false, nil
	case "true", "1":
		return true, nil
	}
	return false, fault.Field("backfill", "backfill must be true (history being loaded: counted in reports, no rule fires) or false")
}

// RowError is one refused row: its line in the file, the field and why.
type RowError struct {
	Line    int    `json:"line"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// maxErrors bounds the errors an import reports (it still reads every row).
const maxErrors = 100

// Row is one record, read by column name.
type Row struct {
	Line   int
	Record []string
	col    map[string]int
}

// Get returns the trimmed value of the named column ("" when absent).
func (r Row) Get(name string) string {
	if i, ok := r.col[name]; ok && i < len(r.Record) {
		return strings.TrimSpace(r.Record[i])
	}
	return ""
}

// Read reads the header, checks it with header (which may refuse the file
// with an error naming a column), then calls row for each record. A row
// error with code invalid (or another caller-facing code) refuses that row
// and the import goes on; any other error stops it.
func Read(r io.Reader, header func(columns []string) error, row func(Row) error) (Result, error) {
	res := Result{Errors: []RowError{}}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cols, err := cr.Read()
	if err != nil {
		return res, fault.Field("header", "the file needs a header row naming its columns")
	}
	col := map[string]int{}
	for i, h := range cols {
		cols[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		col[cols[i]] = i
	}
	if err := header(cols); err != nil {
		return res, err
	}
	refuse := func(line int, err error) {
		res.Refused++
		if len(res.Errors) < maxErrors {
			res.Errors = append(res.Errors, RowError{Line: line, Field: fault.FieldOf(err), Message: fault.MessageOf(err)})
		}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return res, nil
		}
		res.Rows++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				refuse(pe.Line, fault.New(fault.Invalid, "%v", pe.Err))
				continue
			}
			return res, err
		}
		// Only a record read whole has a position (a bad quote in its first
		// field leaves none).
		line, _ := cr.FieldPos(0)
		if err := row(Row{Line: line, Record: rec, col: col}); err != nil {
			if errors.Is(err, ErrDuplicate) {
				res.Duplicates++
				continue
			}
			if fault.Code(err) == fault.Internal {
				return res, fmt.Errorf("line %d: %w", line, err)
			}
			refuse(line, err)
			continue
		}
		res.Imported++
	}
}

// ErrDuplicate is what a row function returns for a row an earlier import
// recorded: the row is counted as a duplicate, not as imported.
var ErrDuplicate = errors.New("recorded before")

// Time reads a date (2026-01-31) or an RFC 3339 time from the named column.
func Time(r Row, name string) (time.Time, bool, error) {
	v := r.Get(name)
	if v == "" {
		return time.Time{}, false, nil
	}
	t, err := httpio.ParseTime(v)
	if err != nil {
		return time.Time{}, false, fault.Field(name, "%s is a date (2026-01-31) or an RFC 3339 time", name)
	}
	return t, true, nil
}
