package web

import (
	"encoding/json"
	"fmt"
	"html/template"
	"strings"
)

// A chart is drawn in the browser by Apache ECharts (served from
// /static/vendor, see static.go) from a small description the page carries
// in its data-chart attribute; the same figures are in a table inside the
// figure, which screen readers read instead of the drawing and which is
// what a browser without script shows. static/charts.js turns a
// description into ECharts options.
type chart struct {
	ID    string // the figure's id
	Label string // what the chart shows, in words (its accessible name)
	// Legend keeps the table in sight under the drawing: the points carry
	// numbers and the table names them.
	Legend bool
	Spec   chartSpec
	Table  chartTable
}

// chartSpec is the description charts.js reads. Kind is one of
//
//	trend   a value over time inside its 95 % band (Points), on a time axis
//	bars    grouped bars: Categories along, one Series per group
//	scatter labelled points (Points' X, Y; Size scales the symbol)
type chartSpec struct {
	Kind       string        `json:"kind"`
	XName      string        `json:"xName,omitempty"`
	YName      string        `json:"yName,omitempty"`
	XMin       *float64      `json:"xMin,omitempty"`
	XMax       *float64      `json:"xMax,omitempty"`
	YMin       *float64      `json:"yMin,omitempty"`
	YMax       *float64      `json:"yMax,omitempty"`
	XCats      []string      `json:"xCats,omitempty"` // a category x axis (scatter)
	YCats      []string      `json:"yCats,omitempty"` // a category y axis (scatter)
	Zero       bool          `json:"zero,omitempty"`  // mark the value 0 (NPS)
	Unit       string        `json:"unit,omitempty"`
	Categories []string      `json:"categories,omitempty"`
	Series     []chartSeries `json:"series,omitempty"`
	Points     []chartPoint  `json:"points,omitempty"`
	SmallN     int           `json:"smallN,omitempty"` // points with fewer answers are drawn hollow
}

type chartSeries struct {
	Name   string    `json:"name"`
	Values []float64 `json:"values"`
}

type chartPoint struct {
	Name  string   `json:"name,omitempty"`
	Label string   `json:"label,omitempty"` // a short mark drawn on the point (its number in a visible table)
	T     string   `json:"t,omitempty"`     // an ISO date (trend)
	X     float64  `json:"x,omitempty"`
	Y     float64  `json:"y"`
	Lo    *float64 `json:"lo,omitempty"`
	Hi    *float64 `json:"hi,omitempty"`
	N     int      `json:"n,omitempty"`
	Size  float64  `json:"size,omitempty"`
	XCat  string   `json:"xCat,omitempty"`
	YCat  string   `json:"yCat,omitempty"`
}

// chartTable is the chart's figures as a table: a header row and rows of
// cells; a row's Key becomes its data-key (for tests and links).
type chartTable struct {
	Head []string
	Rows []chartRow
}

type chartRow struct {
	Key   string
	Cells []string
}

func ptr(f float64) *float64 { return &f }

// HTML is the chart's figure: the drawing area, the description and the
// table. Everything inside is escaped by html/template's rules for
// attributes and text.
func (c chart) HTML() template.HTML {
	spec, err := json.Marshal(c.Spec)
	if err != nil {
		return ""
	}
	var b strings.Builder
	esc := template.HTMLEscapeString
	fmt.Fprintf(&b, `<figure class="chart" id="%s" data-chart="%s"><div class="chart-area" role="img" aria-label="%s"></div>`,
		esc(c.ID), esc(string(spec)), esc(c.Label))
	legend := ""
	if c.Legend {
		legend = " legend"
	}
	fmt.Fprintf(&b, `<div class="chart-data scroll%s"><table class="list"><caption>%s</caption><thead><tr>`, legend, esc(c.Label))
	for i, h := range c.Table.Head {
		class := ""
		if i > 0 {
			class = ` class="num"`
		}
		fmt.Fprintf(&b, `<th%s>%s</th>`, class, esc(h))
	}
	b.WriteString(`</tr></thead><tbody>`)
	for _, r := range c.Table.Rows {
		fmt.Fprintf(&b, `<tr data-key="%s">`, esc(r.Key))
		for i, cell := range r.Cells {
			class := ""
			if i > 0 {
				class = ` class="num"`
			}
			fmt.Fprintf(&b, `<td%s>%s</td>`, class, esc(cell))
		}
		b.WriteString(`</tr>`)
	}
	b.WriteString(`</tbody></table></div></figure>`)
	return template.HTML(b.String()) // every value above is escaped
}
