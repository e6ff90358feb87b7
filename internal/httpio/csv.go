package httpio

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
)

// All is the limit a CSV export reads with: the whole result.
const All = math.MaxInt

// WantsCSV reports whether the caller asked for CSV: ?format=csv, or an
// Accept header that names text/csv before application/json. ?format=json
// asks for JSON whatever Accept says; any other format is an error naming it.
func WantsCSV(r *http.Request) (bool, error) {
	switch f := r.URL.Query().Get("format"); f {
	case "csv":
		return true, nil
	case "json":
		return false, nil
	case "":
	default:
		return false, fault.Field("format", "format is csv or json")
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil || params["q"] == "0" {
			continue
		}
		switch mt {
		case "text/csv":
			return true, nil
		case "application/json", "*/*", "application/*":
			return false, nil
		}
	}
	return false, nil
}

// ListPage is Page for a list that a CSV export reads whole: with csv, limit
// is All unless the caller named one (then it has no maximum).
func ListPage(r *http.Request, def, max int, csv bool) (limit, offset int, err error) {
	if !csv {
		return Page(r, def, max)
	}
	return Page(r, All, All)
}

// CSV streams rows as a CSV attachment: each row is written as it is
// given, and the response is flushed every few rows, so an export of any
// size holds only a few rows in memory.
//
// Columns and cells are those of the row's JSON form, so the CSV and the
// JSON say the same thing: a field is a column named by its JSON name, a
// nested object's fields are "parent.child" columns, a map named in Expand
// gives one column per listed key, and any other map or array is one cell
// holding its compact JSON. Numbers and booleans are written as JSON writes
// them (rates as fractions 0–1), times as RFC 3339 UTC, null as an empty
// cell. A text cell that starts with = + - @ or a tab or carriage return is
// written with a leading ' so that a spreadsheet does not read it as a
// formula (OWASP's advice against CSV injection).
type CSV struct {
	w        http.ResponseWriter
	rc       *http.ResponseController
	cw       *csv.Writer
	filename string
	cols     []column
	started  bool
	rows     int
	log      *slog.Logger
}

// CSVOptions shape the columns of an export.
type CSVOptions struct {
	// Expand lists, by the JSON name of a map field, the keys that become
	// columns of their own ("answers" → answers.q1, answers.q2 …); a key
	// with a dot names a key of a nested object ("address.city").
	Expand map[string][]string
	// Others names, by the JSON name of an expanded map field, a last
	// column of its own ("traits" → traits.other) holding, as JSON, the
	// keys Expand did not list (empty when there are none).
	Others map[string]bool
	// Omit names fields (by their JSON path) the list never fills.
	Omit []string
}

type column struct {
	name string
	path []string
	// others, for a map's traits.other column, are the paths (within
	// the map) of the keys with columns of their own, left out of it.
	others [][]string
}

// NewCSV starts a CSV export named filename (without .csv) of rows of
// type row (a struct or a pointer to one). Nothing is sent until the first
// row, so an error before it can still answer as JSON (Fail).
func NewCSV(w http.ResponseWriter, log *slog.Logger, filename string, row any, opt CSVOptions) *CSV {
	t := reflect.TypeOf(row)
	filename = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '-'
	}, filename)
	c := &CSV{w: w, rc: http.NewResponseController(w), cw: csv.NewWriter(w), filename: filename, log: log}
	c.cols = columns(t, nil, opt)
	return c
}

var marshaler = reflect.TypeFor[json.Marshaler]()

// columns lists t's columns as its JSON form has them.
func columns(t reflect.Type, prefix []string, opt CSVOptions) []column {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	var out []column
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if f.Anonymous && name == "" && ft.Kind() == reflect.Struct {
			out = append(out, columns(ft, prefix, opt)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		path := append(append([]string{}, prefix...), name)
		full := strings.Join(path, ".")
		if slices.Contains(opt.Omit, full) {
			continue
		}
		switch {
		case ft.Kind() == reflect.Struct && !ft.Implements(marshaler) && !reflect.PointerTo(ft).Implements(marshaler):
			out = append(out, columns(ft, path, opt)...)
		case ft.Kind() == reflect.Map && opt.Expand[full] != nil:
			var listed [][]string
			for _, k := range opt.Expand[full] {
				key := strings.Split(k, ".")
				listed = append(listed, key)
				out = append(out, column{name: full + "." + k, path: append(append([]string{}, path...), key...)})
			}
			if opt.Others[full] {
				out = append(out, column{name: full + ".other", path: path, others: listed})
			}
		default:
			out = append(out, column{name: full, path: path})
		}
	}
	return out
}

// Header lists the export's column names.
func (c *CSV) Header() []string {
	h := make([]string, len(c.cols))
	for i, col := range c.cols {
		h[i] = col.name
	}
	return h
}

func (c *CSV) start() error {
	if c.started {
		return nil
	}
	c.started = true
	h := c.w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+c.filename+`.csv"`)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	c.w.WriteHeader(http.StatusOK)
	return c.cw.Write(c.Header())
}

// flushEvery is how many rows are buffered before the response is flushed.
const flushEvery = 64

// Write sends one row.
func (c *CSV) Write(row any) error {
	if err := c.start(); err != nil {
		return err
	}
	b, err := json.Marshal(row)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return err
	}
	rec := make([]string, len(c.cols))
	for i, col := range c.cols {
		if col.others != nil {
			rec[i] = othersCell(jsonAt(v, col.path), col.others)
			continue
		}
		rec[i] = cell(jsonAt(v, col.path))
	}
	if err := c.cw.Write(rec); err != nil {
		return err
	}
	c.rows++
	if c.rows%flushEvery == 0 {
		return c.flush()
	}
	return nil
}

// exportStall is how long an export may wait on its client: each flush
// moves the connection's write deadline this far ahead, so a long export
// goes on past the server's answer deadline while the client keeps reading.
const exportStall = 2 * time.Minute

func (c *CSV) flush() error {
	_ = c.rc.SetWriteDeadline(time.Now().Add(exportStall))
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return err
	}
	if err := c.rc.Flush(); err != nil && err != http.ErrNotSupported {
		return err
	}
	return nil
}

// Rows is the number of rows written.
func (c *CSV) Rows() int { return c.rows }

// Close ends the export: the header row alone when there were no rows.
func (c *CSV) Close() error {
	if err := c.start(); err != nil {
		return err
	}
	return c.flush()
}

// Finish ends the export after err, the error of reading or writing its
// rows (nil when all went well): before the first row the error answers as
// JSON with its status; after it the response is cut short, so that the
// client sees an incomplete transfer rather than a CSV that looks whole.
func (c *CSV) Finish(err error) {
	if err == nil {
		err = c.Close()
		if err == nil {
			return
		}
	}
	if !c.started {
		Error(c.w, c.log, err)
		return
	}
	if c.log != nil && fault.Code(err) == fault.Internal {
		c.log.Warn("CSV export cut short", "file", c.filename, "rows", c.rows, "err", err)
	}
	panic(http.ErrAbortHandler)
}

// CSVList writes list (a slice) as a whole CSV export, or err as JSON.
func CSVList[T any](w http.ResponseWriter, log *slog.Logger, filename string, list []T, err error, opt CSVOptions) {
	var zero T
	c := NewCSV(w, log, filename, zero, opt)
	if err != nil {
		c.Finish(err)
		return
	}
	for _, row := range list {
		if err = c.Write(row); err != nil {
			break
		}
	}
	c.Finish(err)
}

// csvPage is how many rows CSVPages reads at a time.
const csvPage = 500

// CSVPages writes an export of a paged list: page is asked for csvPage rows
// at a time, each written before the next is read, until it gives fewer or
// limit rows are written.
func CSVPages[T any](w http.ResponseWriter, log *slog.Logger, filename string, limit, offset int, opt CSVOptions, page func(limit, offset int) ([]T, error)) {
	var zero T
	out := NewCSV(w, log, filename, zero, opt)
	for left := limit; left > 0; {
		n := min(left, csvPage)
		rows, err := page(n, offset)
		for i := 0; err == nil && i < len(rows); i++ {
			err = out.Write(rows[i])
		}
		if err != nil || len(rows) < n {
			out.Finish(err)
			return
		}
		left, offset = left-n, offset+n
	}
	out.Finish(nil)
}

// othersCell is the JSON of the object v without the keys at the paths
// listed (and without objects those leave empty): "" when nothing is left.
func othersCell(v any, listed [][]string) string {
	m, ok := v.(map[string]any)
	if !ok {
		return cell(v)
	}
	rest := without(m, listed)
	if len(rest) == 0 {
		return ""
	}
	return cell(rest)
}

// without copies m leaving out the keys at the paths listed.
func without(m map[string]any, listed [][]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		var deeper [][]string
		drop := false
		for _, p := range listed {
			switch {
			case p[0] != k:
			case len(p) == 1:
				drop = true
			default:
				deeper = append(deeper, p[1:])
			}
		}
		if drop {
			continue
		}
		if sub, ok := v.(map[string]any); ok && deeper != nil {
			if sub = without(sub, deeper); len(sub) == 0 {
				continue
			}
			v = sub
		}
		out[k] = v
	}
	return out
}

func jsonAt(v any, path []string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// cell writes a JSON value as a CSV cell.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return SafeCell(x)
	case json.Number:
		return x.String()
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return SafeCell(string(b))
}

// SafeCell guards a text cell against formula injection: one that starts
// with = + - @, a tab or a carriage return gets a leading '.
func SafeCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
