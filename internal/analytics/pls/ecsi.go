package pls

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// ECSI is the standard ECSI/ACSI model of the satisfaction data set:
// image, expectations, perceived quality and value driving satisfaction
// and loyalty, every block reflective.
func ECSI() ([]Block, []Path) {
	block := func(name, prefix string, n int) Block {
		b := Block{Name: name, Mode: "A"}
		for i := 1; i <= n; i++ {
			b.Columns = append(b.Columns, fmt.Sprintf("%s%d", prefix, i))
		}
		return b
	}
	blocks := []Block{block("IMAG", "imag", 5), block("EXPE", "expe", 5), block("QUAL", "qual", 5), block("VAL", "val", 4), block("SAT", "sat", 4),
		block("LOY", "loy", 4)}
	var paths []Path
	for _, p := range [][2]string{{"IMAG", "EXPE"}, {"IMAG", "SAT"}, {"IMAG", "LOY"}, {"EXPE", "QUAL"}, {"EXPE", "VAL"}, {"EXPE", "SAT"},
		{"QUAL", "VAL"}, {"QUAL", "SAT"}, {"VAL", "SAT"}, {"SAT", "LOY"}} {
		paths = append(paths, Path{From: p[0], To: p[1]})
	}
	return blocks, paths
}

// ReadCSV reads a table with a header (a spreadsheet's byte order mark
// before it is dropped); cells that are not finite numbers (or empty, or
// NA, or Inf) are missing (NaN).
func ReadCSV(r io.Reader) ([]string, [][]float64, error) {
	// The mark is the file's first three bytes, before any quoting: a
	// quoted first name that starts with U+FEFF keeps it.
	br := bufio.NewReader(r)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	head, err := cr.Read()
	if err != nil {
		return nil, nil, err
	}
	var rows [][]float64
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return head, rows, nil
		}
		if err != nil {
			return nil, nil, err // a csv.ParseError names its line
		}
		row := make([]float64, len(head))
		for i := range row {
			row[i] = math.NaN()
			if i < len(rec) {
				if v, err := strconv.ParseFloat(strings.TrimSpace(rec[i]), 64); err == nil && !math.IsInf(v, 0) {
					row[i] = v
				}
			}
		}
		rows = append(rows, row)
	}
}
