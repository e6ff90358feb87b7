package csvimport_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/csvimport"
	"github.com/cxloop/cxloop/internal/fault"
)

// importer is a small import in the shape of the real ones (survey answers,
// mentions): a customer column is required, score is 0–10, at is a time; a
// customer "dup" was recorded before and "boom" fails the store.
type importer struct {
	lines      []int // the line of each row handed to the row function
	imported   int
	duplicates int
	refused    map[string]int // row-function refusals by field
	t          *testing.T
}

func (im *importer) read(in string) (csvimport.Result, error) {
	im.refused = map[string]int{}
	return csvimport.Read(strings.NewReader(in), func(cols []string) error {
		if !slices.Contains(cols, "customer") {
			return fault.Field("customer", "the header has no customer column")
		}
		return nil
	}, func(row csvimport.Row) error {
		im.lines = append(im.lines, row.Line)
		for _, name := range []string{"customer", "score", "at", "nothing"} {
			if v := row.Get(name); v != strings.TrimSpace(v) {
				im.t.Errorf("line %d: Get(%q) = %q, not trimmed", row.Line, name, v)
			}
		}
		if v := row.Get("no such column"); v != "" {
			im.t.Errorf("line %d: an absent column reads %q", row.Line, v)
		}
		refuse := func(err error) error {
			im.refused[fault.FieldOf(err)]++
			return err
		}
		customer := row.Get("customer")
		switch customer {
		case "":
			return refuse(fault.Field("customer", "a row names its customer"))
		case "dup":
			im.duplicates++
			return csvimport.ErrDuplicate
		case "boom":
			return errors.New("boom: the store failed")
		}
		if _, _, err := csvimport.Time(row, "at"); err != nil {
			return refuse(err)
		}
		if v := row.Get("score"); v != "" {
			if n, err := strconv.Atoi(v); err != nil || n < 0 || n > 10 {
				return refuse(fault.Field("score", "score is a whole number from 0 to 10"))
			}
		}
		im.imported++
		return nil
	})
}

func TestRead(t *testing.T) {
	im := &importer{t: t}
	res, err := im.read("\ufeffcustomer, score ,at\n" + // a BOM and padded names, as spreadsheets write them
		"ann@example.com,9,2026-01-31\n" +
		"\n" + // blank lines are skipped, and still counted as lines
		" bob ,11,\n" +
		",5,\n" +
		"dup,3\n" +
		"\"carl\nsecond line\",10,2026-02-01T10:00:00Z\n" + // a quoted value over two lines
		"dana,7,last tuesday\n" +
		"erin\n") // fewer columns than the header: the others are empty
	if err != nil {
		t.Fatal(err)
	}
	want := csvimport.Result{Rows: 7, Imported: 3, Refused: 3, Duplicates: 1, Errors: []csvimport.RowError{
		{Line: 4, Field: "score", Message: "score is a whole number from 0 to 10"},
		{Line: 5, Field: "customer", Message: "a row names its customer"},
		{Line: 9, Field: "at", Message: "at is a date (2026-01-31) or an RFC 3339 time"},
	}}
	if res.Rows != want.Rows || res.Imported != want.Imported || res.Refused != want.Refused || res.Duplicates != want.Duplicates ||
		!slices.Equal(res.Errors, want.Errors) {
		t.Errorf("result %+v\nwant   %+v", res, want)
	}
	if wantLines := []int{2, 4, 5, 6, 7, 9, 10}; !slices.Equal(im.lines, wantLines) {
		t.Errorf("rows read at lines %v, want %v", im.lines, wantLines)
	}
}

// A row the CSV reader cannot parse is refused naming its line; the import
// goes on. A bad quote in a row's first field once panicked (no field
// position to name the line by).
func TestReadRefusesUnparsableRows(t *testing.T) {
	im := &importer{t: t}
	res, err := im.read("customer,score\n" +
		"ann,5\n" +
		"b\"ob,3\n" + // a quote inside an unquoted first field
		"cy,\"4\"x\n" + // text after a closing quote
		"dee,6\n" +
		"\"eve,4\n") // a quote never closed: the rest of the file
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 5 || res.Imported != 2 || res.Refused != 3 || len(res.Errors) != 3 {
		t.Fatalf("result %+v: want 5 rows, 2 imported, 3 refused", res)
	}
	for i, line := range []int{3, 4, 6} {
		e := res.Errors[i]
		if e.Line != line || e.Field != "" || !strings.Contains(e.Message, `"`) {
			t.Errorf("error %d = %+v: want line %d and a message about the quote", i, e, line)
		}
	}
	if !slices.Equal(im.lines, []int{2, 5}) {
		t.Errorf("rows read at lines %v, want 2 and 5", im.lines)
	}
}

func TestReadHeader(t *testing.T) {
	for in, field := range map[string]string{
		"":                          "header",
		"\n\n":                      "header",
		"\"customer\n":              "header", // the header itself does not parse
		"email,score\nann,1\n":      "customer",
		"Customer,score\nann,1\n":   "customer", // column names are case-sensitive
		"customerid,score\nann,1\n": "customer",
	} {
		im := &importer{t: t}
		_, err := im.read(in)
		if fault.Code(err) != fault.Invalid || fault.FieldOf(err) != field {
			t.Errorf("header of %q: %v, want invalid %s", in, err, field)
		}
		if len(im.lines) != 0 {
			t.Errorf("header of %q refused, yet rows were read", in)
		}
	}
}

// An internal failure stops the import at its line; what came before stays counted.
func TestReadStopsOnInternalError(t *testing.T) {
	im := &importer{t: t}
	res, err := im.read("customer\nann\nboom\ncarl\n")
	if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("err = %v, want the store's failure at line 3", err)
	}
	if res.Imported != 1 || !slices.Equal(im.lines, []int{2, 3}) {
		t.Errorf("result %+v, lines %v: want ann imported and carl not read", res, im.lines)
	}
}

func TestErrorsAreBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("customer,score\n")
	for i := 0; i < 250; i++ {
		b.WriteString("x,99\n")
	}
	res, err := (&importer{t: t}).read(b.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 250 || res.Refused != 250 || len(res.Errors) != 100 || res.Errors[99].Line != 101 {
		t.Errorf("rows %d, refused %d, %d errors (last at line %d): want 250, 250, the first 100 (to line 101)",
			res.Rows, res.Refused, len(res.Errors), res.Errors[len(res.Errors)-1].Line)
	}
}

func TestBackfill(t *testing.T) {
	for v, want := range map[string]bool{"": false, "false": false, "0": false, "true": true, "1": true} {
		if got, err := csvimport.Backfill(v); err != nil || got != want {
			t.Errorf("Backfill(%q) = %v, %v; want %v", v, got, err, want)
		}
	}
	for _, v := range []string{"yes", "TRUE", " true", "2"} {
		if _, err := csvimport.Backfill(v); fault.FieldOf(err) != "backfill" {
			t.Errorf("Backfill(%q) = %v, want invalid backfill", v, err)
		}
	}
}

// simpleLines numbers the lines of a file without quotes or carriage
// returns (where a CSV record is one line): the lines of the records after
// the header, blank lines skipped.
func simpleLines(in string) (rows []int) {
	header := false
	for i, l := range strings.Split(in, "\n") {
		switch {
		case l == "":
		case !header:
			header = true
		default:
			rows = append(rows, i+1)
		}
	}
	return rows
}

// Read takes any bytes: it does not panic; every refusal names a line
// after the header and, when the row function refused it, the field; the
// counts add up; and on files without quotes, rows are read at exactly the
// lines they are on.
func FuzzRead(f *testing.F) {
	for _, s := range []string{
		"customer,score,at\nann@example.com,9,2026-01-31\nbob,11,\n,5,\n",
		"\ufeffcustomer;score\nann;9\n",
		"customer,score\r\nann,10\r\nbob,x\r\n",
		"customer,note\n\"ann\",\"said \"\"hi\"\"\nand left\"\n",
		"customer\nb\"ob\n\"eve\n",
		"customer,at\ncy,\"2026-02-01\"x\ndup\nboom\nlast\n",
		"score\n1\n",
		"customer\n\n\n   \n,\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		im := &importer{t: t}
		res, err := im.read(in)
		if err != nil {
			switch field := fault.FieldOf(err); {
			case fault.Code(err) == fault.Invalid && (field == "header" || field == "customer"):
				if len(im.lines) != 0 {
					t.Fatalf("the header was refused (%v) and rows were read", err)
				}
			case strings.Contains(err.Error(), "boom") && strings.Contains(err.Error(), "line "):
			default:
				t.Fatalf("Read(%q): %v: neither a refused header nor the store's failure", in, err)
			}
			return
		}
		refusedByRow := 0
		for _, n := range im.refused {
			refusedByRow += n
		}
		parseRefused := res.Refused - refusedByRow
		if res.Imported != im.imported || res.Duplicates != im.duplicates || parseRefused < 0 ||
			res.Rows != len(im.lines)+parseRefused || res.Rows != res.Imported+res.Duplicates+res.Refused {
			t.Fatalf("Read(%q) = %+v; the row function saw %d rows, imported %d, %d duplicates, refused %v",
				in, res, len(im.lines), im.imported, im.duplicates, im.refused)
		}
		if len(res.Errors) != min(res.Refused, 100) {
			t.Fatalf("%d refusals, %d errors", res.Refused, len(res.Errors))
		}
		byField := map[string]int{}
		for i, e := range res.Errors {
			if e.Line < 2 || e.Message == "" || (i > 0 && e.Line <= res.Errors[i-1].Line) {
				t.Fatalf("Read(%q): error %d %+v: want a line after the header and after the last error's, and a message", in, i, e)
			}
			byField[e.Field]++
		}
		if byField[""] > parseRefused {
			t.Fatalf("Read(%q): %d errors name no field; %d rows did not parse", in, byField[""], parseRefused)
		}
		for field, n := range byField {
			if field != "" && n > im.refused[field] {
				t.Fatalf("Read(%q): %d errors name %q; the row function refused %d", in, n, field, im.refused[field])
			}
		}
		for i, l := range im.lines {
			if l < 2 || (i > 0 && l <= im.lines[i-1]) {
				t.Fatalf("Read(%q): rows at lines %v: want increasing lines after the header", in, im.lines)
			}
		}
		if !strings.ContainsAny(in, "\"\r") {
			rows := simpleLines(in)
			if !slices.Equal(im.lines, rows) || parseRefused != 0 {
				t.Fatalf("Read(%q): rows at lines %v (%d unparsable), want %v", in, im.lines, parseRefused, rows)
			}
		}
	})
}
