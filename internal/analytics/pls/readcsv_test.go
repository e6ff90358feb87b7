package pls

import (
	"encoding/csv"
	"errors"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestReadCSV(t *testing.T) {
	nan := math.NaN()
	cols, rows, err := ReadCSV(strings.NewReader("\ufeffimag1,imag2,sat1\n" + // as a spreadsheet saves UTF-8
		"7, 8 ,10\n" +
		"NA,,9.5\n" +
		"\n" +
		"\"6\",inf,-Inf\n" + // infinities are no measurement: missing
		"1e400,NaN,3\n" + // out of range: missing
		"5\n" + // a short row: the rest missing
		"4,5,6,7\n")) // a long row: the extra cell dropped
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(cols, "|") != "imag1|imag2|sat1" {
		t.Errorf("columns %q", cols)
	}
	want := [][]float64{{7, 8, 10}, {nan, nan, 9.5}, {6, nan, nan}, {nan, nan, 3}, {5, nan, nan}, {4, 5, 6}}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d: %v", len(rows), len(want), rows)
	}
	for i := range want {
		for j := range want[i] {
			if g, w := rows[i][j], want[i][j]; !(g == w || math.IsNaN(g) && math.IsNaN(w)) {
				t.Errorf("row %d column %d = %v, want %v", i, j, g, w)
			}
		}
	}

	// A bad row names its own line, even after a blank line and a value over two lines.
	_, _, err = ReadCSV(strings.NewReader("a,b\n\n1,\"x\ny\"\n2,b\"ad\n"))
	var pe *csv.ParseError
	if !errors.As(err, &pe) || pe.Line != 5 {
		t.Fatalf("err = %v, want a parse error on line 5", err)
	}
	if lines := lineNumbers(err.Error()); len(lines) != 1 || lines[0] != 5 {
		t.Errorf("error %q names lines %v, want only 5", err, lines)
	}
	if _, _, err := ReadCSV(strings.NewReader("")); err == nil {
		t.Error("an empty file has a header")
	}
}

var lineRe = regexp.MustCompile(`line (\d+)`)

func lineNumbers(s string) []int {
	var out []int
	for _, m := range lineRe.FindAllStringSubmatch(s, -1) {
		n, _ := strconv.Atoi(m[1])
		out = append(out, n)
	}
	return out
}

// quoted writes a CSV record with every field quoted.
func quoted(b *strings.Builder, fields []string) {
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + strings.ReplaceAll(f, `"`, `""`) + `"`)
	}
	b.WriteByte('\n')
}

func sameCell(a, b float64) bool {
	return math.IsNaN(a) && math.IsNaN(b) || math.Float64bits(a) == math.Float64bits(b)
}

// ReadCSV takes any bytes without panicking. A table it reads is
// rectangular, of finite numbers and NaN, and reads back the same when
// written out again; on files without quotes each cell is the number its
// text says (or missing), row by line; a failure names the line at fault.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"imag1,imag2,sat1\n7,8,10\n6,NA,9\n",
		"\ufeffimag1,loy1\r\n10,9\r\n,8\r\n",
		"a,b\n1.5e3, -2 \nx,+Inf\n0x1p3,1_0\n",
		"a,b\n\n1,\"x\ny\"\n2,b\"ad\n",
		"\"a \"\"q\"\"\",b\n\"3\",\"4\"\n5\n6,7,8\n",
		"only\n",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		cols, rows, err := ReadCSV(strings.NewReader(in))
		if err != nil {
			var pe *csv.ParseError
			switch {
			case errors.As(err, &pe):
				for _, n := range lineNumbers(err.Error()) {
					if n != pe.Line && n != pe.StartLine {
						t.Fatalf("ReadCSV(%q): %q names line %d; the error is on line %d (record from %d)", in, err, n, pe.Line, pe.StartLine)
					}
				}
			case errors.Is(err, io.EOF):
				// Blank lines (\n, \r\n) after a byte order mark or none are all
				// a headerless file has.
				if strings.Trim(strings.TrimPrefix(in, "\ufeff"), "\r\n") != "" {
					t.Fatalf("ReadCSV(%q): no header (%v) in a file that is not blank", in, err)
				}
			default:
				t.Fatalf("ReadCSV(%q): %v names no line", in, err)
			}
			return
		}
		if len(cols) == 0 {
			t.Fatalf("ReadCSV(%q): columns %q", in, cols)
		}
		for i, r := range rows {
			if len(r) != len(cols) {
				t.Fatalf("ReadCSV(%q): row %d has %d cells, %d columns", in, i, len(r), len(cols))
			}
			for j, v := range r {
				if math.IsInf(v, 0) {
					t.Fatalf("ReadCSV(%q): row %d column %d is %v", in, i, j, v)
				}
			}
		}

		// Written out again, with every cell quoted, the table reads the same.
		if !strings.Contains(strings.Join(cols, ""), "\r") { // a quoted \r\n reads as \n
			var b strings.Builder
			quoted(&b, cols)
			for _, r := range rows {
				cells := make([]string, len(r))
				for j, v := range r {
					cells[j] = "NA"
					if !math.IsNaN(v) {
						cells[j] = strconv.FormatFloat(v, 'g', -1, 64)
					}
				}
				quoted(&b, cells)
			}
			cols2, rows2, err := ReadCSV(strings.NewReader(b.String()))
			if err != nil {
				t.Fatalf("ReadCSV(%q) wrote %q, which does not read: %v", in, b.String(), err)
			}
			if strings.Join(cols2, "\x00") != strings.Join(cols, "\x00") || len(cols2) != len(cols) || len(rows2) != len(rows) {
				t.Fatalf("ReadCSV(%q) = %q, %d rows; read back %q, %d rows", in, cols, len(rows), cols2, len(rows2))
			}
			for i := range rows {
				for j := range rows[i] {
					if !sameCell(rows[i][j], rows2[i][j]) {
						t.Fatalf("ReadCSV(%q): row %d column %d = %v, read back %v", in, i, j, rows[i][j], rows2[i][j])
					}
				}
			}
		}

		// Without quotes or carriage returns a record is a line split at commas.
		if strings.ContainsAny(in, "\"\r") {
			return
		}
		var lines []string
		for _, l := range strings.Split(strings.TrimPrefix(in, "\ufeff"), "\n") { // the mark is not a line's text
			if l != "" {
				lines = append(lines, l)
			}
		}
		if len(rows) != len(lines)-1 {
			t.Fatalf("ReadCSV(%q): %d rows from %d lines after the header", in, len(rows), len(lines)-1)
		}
		for i, l := range lines[1:] {
			cells := strings.Split(l, ",")
			for j := range cols {
				cell, want := "", math.NaN()
				if j < len(cells) {
					cell = strings.TrimSpace(cells[j])
				}
				if v, err := strconv.ParseFloat(cell, 64); err == nil && !math.IsInf(v, 0) {
					want = v
				}
				if !sameCell(rows[i][j], want) {
					t.Fatalf("ReadCSV(%q): row %d column %d = %v, the cell %q says %v", in, i, j, rows[i][j], cell, want)
				}
			}
		}
	})
}
