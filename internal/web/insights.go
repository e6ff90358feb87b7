package web

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strings"

	"github.com/cxloop/cxloop/internal/analytics"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/fault"
)

// insightsPage links experience to the bottom line: outcomes over time,
// the journey funnel, the ACSI drivers, lifetime value and the silent
// dissatisfied, online against in-person, and the alignment gap.
func (c *Console) insightsPage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	ctx := r.Context()
	var survey *string // the default unless the selector names one ("" too)
	if q := r.URL.Query(); q.Has("survey") {
		v := q.Get("survey")
		survey = &v
	}
	outcomes, err := c.An.Outcomes(ctx, 12, survey)
	if fault.Code(err) == fault.Invalid { // a survey that is gone: the default
		outcomes, err = c.An.Outcomes(ctx, 12, nil)
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	funnel, err := c.An.Funnel(ctx, "channel", nil)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	silent, err := c.An.SilentDissatisfied(ctx, 20)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	model, err := c.An.Model(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	channels, err := c.An.Channels(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	gaps, err := c.An.Gaps(ctx, false)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	var drivers template.HTML
	acsi, err := c.An.ACSI(ctx, "", "", 0) // the page shows no intervals: no resamples
	switch {
	case err == nil:
		drivers = driverChart(acsi.Drivers)
	case fault.Code(err) == fault.Conflict:
		acsi, err = nil, nil // not enough answers yet
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "insights", view{Title: "Insights", Session: &s, Nav: "insights", Data: map[string]any{
		"Outcomes": outcomes, "Funnel": funnel, "FunnelChart": funnelChart(funnel), "Silent": silent, "Model": model, "Gaps": gaps,
		"Channels": channels,
		"ACSI":     acsi, "Drivers": drivers,
	}})
}

// funnelChart draws, per group, a bar for each stage (journeys reaching it)
// on one scale.
func funnelChart(groups []analytics.FunnelGroup) template.HTML {
	if len(groups) == 0 {
		return ""
	}
	if len(groups) > 6 {
		groups = groups[:6]
	}
	most := 1
	for _, g := range groups {
		most = max(most, g.Journeys)
	}
	const rowH = 22
	var b strings.Builder
	h := len(groups)*(4*rowH+16) + 10
	fmt.Fprintf(&b, `<svg viewBox="0 0 420 %d" role="img" aria-label="Journeys reaching each stage, by channel" class="chart">`, h)
	y := 4
	for _, g := range groups {
		fmt.Fprintf(&b, `<text x="0" y="%d" font-size="12" font-weight="bold">%s</text>`, y+12, template.HTMLEscapeString(g.Key))
		y += 16
		for _, st := range []struct {
			name string
			n    int
		}{{"recognize", g.Recognize}, {"request", g.Request}, {"respond", g.Respond}, {"repeat", g.Repeat}} {
			wd := 300 * float64(st.n) / float64(most)
			fmt.Fprintf(&b, `<g data-stage="%s-%s"><text x="0" y="%d" font-size="11">%s</text><rect x="80" y="%d" width="%.1f" height="%d" fill="currentColor" fill-opacity=".4"/>`+
				`<text x="%.1f" y="%d" font-size="11">%d</text></g>`, template.HTMLEscapeString(g.Key), st.name, y+14, st.name, y+3, wd, rowH-6, 84+wd, y+14, st.n)
			y += rowH
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // numbers and escaped names only
}

// driverChart plots each driver's importance (across) against its
// performance (up): the ones to work on sit right and low. Points carry a
// number; the names and figures are in a list under the chart, so that
// labels of close points cannot overlap or run off the chart.
func driverChart(drivers []analytics.Driver) template.HTML {
	if len(drivers) == 0 {
		return ""
	}
	most := 0.0
	for _, d := range drivers {
		most = math.Max(most, math.Abs(d.Importance))
	}
	if most == 0 {
		most = 1
	}
	var b strings.Builder
	b.WriteString(`<svg viewBox="0 0 420 260" role="img" aria-label="Drivers of satisfaction: importance against performance" class="chart">`)
	b.WriteString(`<line x1="40" y1="220" x2="410" y2="220" stroke="currentColor" stroke-opacity=".4"/><line x1="40" y1="10" x2="40" y2="220" stroke="currentColor" stroke-opacity=".4"/>`)
	b.WriteString(`<text x="225" y="250" text-anchor="middle" font-size="11">importance (total effect on satisfaction)</text>`)
	b.WriteString(`<text x="12" y="115" transform="rotate(-90 12 115)" text-anchor="middle" font-size="11">performance (0–100)</text>`)
	for i, d := range drivers {
		// Inside the plot, clear of the axes and the edges.
		x := 52 + 346*math.Max(0, d.Importance)/most
		y := 208 - 1.9*math.Max(0, math.Min(100, d.Performance))
		fmt.Fprintf(&b, `<g data-driver="%s"><title>%s: importance %.2f, performance %.0f</title><circle cx="%.1f" cy="%.1f" r="9" fill="currentColor" fill-opacity=".5"/>`+
			`<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#fff" font-weight="bold">%d</text></g>`,
			template.HTMLEscapeString(d.Driver), driverName(d.Driver), d.Importance, d.Performance, x, y, x, y+4, i+1)
	}
	b.WriteString(`</svg><ol class="legend" id="driver-legend">`)
	for _, d := range drivers {
		fmt.Fprintf(&b, `<li data-driver="%s"><b>%s</b> — importance %.2f, performance %.0f</li>`, template.HTMLEscapeString(d.Driver), driverName(d.Driver), d.Importance, d.Performance)
	}
	b.WriteString(`</ol>`)
	return template.HTML(b.String()) // numbers and escaped names only
}

// driverName is a driver in words: perceived_quality → perceived quality.
func driverName(id string) string {
	return strings.ReplaceAll(template.HTMLEscapeString(id), "_", " ")
}
