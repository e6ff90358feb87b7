package web

import (
	"cmp"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cxloop/cxloop/internal/analytics"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/memo"
)

// insightsPage links experience to the bottom line: outcomes over time,
// the journey funnel, the ACSI drivers, lifetime value and the silent
// dissatisfied, online against in-person, and the alignment gap.
func (c *Console) insightsPage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	per := readPeriod(r.URL.Query(), c.Profiles.Now(), "90d", false)
	per = per.withoutComparison() // no report here compares two periods
	var survey *string            // the default unless the selector names one ("" too)
	if q := r.URL.Query(); q.Has("survey") {
		v := q.Get("survey")
		survey = &v
	}
	c.keptPage(w, r, s, "insights", "Insights", "insights", func(ctx context.Context) (map[string]any, error) {
		return c.insights(ctx, per, survey)
	})
}

// insights computes the Insights page's reports, side by side.
func (c *Console) insights(ctx context.Context, per period, survey *string) (map[string]any, error) {
	ctx = memo.With(ctx) // the reports share what they read
	var (
		outcomes *analytics.Outcomes
		funnel   []analytics.FunnelGroup
		silent   []analytics.Silent
		silentN  int
		model    *analytics.Model
		totals   *analytics.ValueTotals
		channels []analytics.ChannelGroup
		fitted   time.Time // of the channels' fits
		gaps     []analytics.Gap
		acsi     *analytics.ACSIModel
	)
	err := parallel(
		func() (err error) {
			read := func(survey *string) (*analytics.Outcomes, error) {
				if per.Key == "all" { // every month since the first activity
					return c.An.OutcomesSince(ctx, survey)
				}
				return c.An.OutcomesIn(ctx, per.From, per.To, survey)
			}
			outcomes, err = read(survey)
			if fault.Code(err) == fault.Invalid { // a survey that is gone: the default
				outcomes, err = read(nil)
			}
			return err
		},
		func() (err error) { funnel, err = c.An.Funnel(ctx, "channel", nil, per.From, per.To); return err },
		func() (err error) { silent, err = c.An.SilentDissatisfied(ctx, 20); return err },
		func() (err error) { silentN, err = c.An.SilentCount(ctx); return err },
		func() (err error) { model, err = c.An.Model(ctx); return err },
		func() (err error) { totals, err = c.An.Totals(ctx); return err },
		func() (err error) {
			channels, fitted, err = c.An.ChannelsFitted(ctx)
			channels = withoutEchoes(channels)
			return err
		},
		func() (err error) { gaps, err = c.An.Gaps(ctx, false); return err },
		func() (err error) {
			acsi, err = c.An.ACSI(ctx, "", "", 0) // the page shows no intervals: no resamples
			if fault.Code(err) == fault.Conflict {
				acsi, err = nil, nil // not enough answers yet
			}
			return err
		},
	)
	if err != nil {
		return nil, err
	}
	var drivers template.HTML
	// Models fitted before this view (kept on large data) say when.
	var acsiFitted *time.Time
	now := c.Profiles.Now()
	if acsi != nil {
		drivers = driverChart(acsi.Drivers)
		acsiFitted = fittedBefore(now, acsi.FittedAt)
	}
	return map[string]any{
		"Outcomes": outcomes, "Funnel": funnel, "FunnelChart": funnelChart(funnel), "RepeatJudged": repeatJudged(funnel), "Silent": silent, "SilentTotal": silentN, "Model": model, "Totals": totals, "Gaps": gaps,
		"Channels": channels, "Period": per, "ACSI": acsi, "Drivers": drivers,
		"ACSIFitted": acsiFitted, "ChannelsFitted": fittedBefore(now, fitted),
	}, nil
}

// parallel runs fns at once and returns the first error of theirs, if any.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// funnelChart draws, per channel, the journeys reaching each stage (the
// six channels with most journeys).
func funnelChart(groups []analytics.FunnelGroup) template.HTML {
	if len(groups) == 0 {
		return ""
	}
	if len(groups) > 6 {
		groups = groups[:6]
	}
	// Repeat is shown once some journey can be judged: 90 days after its
	// response. Before that a 0 would read as "no one came back".
	stages := []string{"Recognize", "Request", "Respond", "Repeat"}
	if !repeatJudged(groups) {
		stages = stages[:3]
	}
	ch := chart{
		ID:    "funnel-chart",
		Label: "Journeys reaching each stage, by channel",
		Spec:  chartSpec{Kind: "bars", Categories: stages, YName: "journeys"},
		Table: chartTable{Head: append([]string{"Channel"}, stages...)},
	}
	for _, g := range groups {
		v := []int{g.Recognize, g.Request, g.Respond, g.Repeat}[:len(stages)]
		row := chartRow{Key: g.Key, Cells: []string{say(g.Key)}}
		ser := chartSeries{Name: say(g.Key)}
		for _, n := range v {
			ser.Values = append(ser.Values, float64(n))
			row.Cells = append(row.Cells, count(int64(n)))
		}
		ch.Spec.Series = append(ch.Spec.Series, ser)
		ch.Table.Rows = append(ch.Table.Rows, row)
	}
	return ch.HTML()
}

// repeatJudged reports whether some journey's repeat can be judged.
func repeatJudged(groups []analytics.FunnelGroup) bool {
	for _, g := range groups {
		if g.RepeatBase > 0 {
			return true
		}
	}
	return false
}

// driverChart plots each driver's importance (across) against its
// performance (up): the ones to work on sit right and low.
func driverChart(drivers []analytics.Driver) template.HTML {
	if len(drivers) == 0 {
		return ""
	}
	ch := chart{
		ID:     "drivers-chart",
		Label:  "Drivers of satisfaction: importance against performance",
		Legend: true,
		Spec:   chartSpec{Kind: "scatter", XName: "importance (total effect on satisfaction)", YName: "performance (0–100)", YMin: ptr(0), YMax: ptr(100)},
		Table:  chartTable{Head: []string{"Driver", "Importance", "Performance"}},
	}
	// Numbered by importance: 1 is what moves satisfaction most.
	drivers = slices.Clone(drivers)
	slices.SortStableFunc(drivers, func(a, b analytics.Driver) int { return cmp.Compare(b.Importance, a.Importance) })
	for i, d := range drivers {
		name := driverName(d.Driver)
		ch.Spec.Points = append(ch.Spec.Points, chartPoint{Name: name, Label: strconv.Itoa(i + 1), X: d.Importance, Y: d.Performance})
		ch.Table.Rows = append(ch.Table.Rows, chartRow{Key: d.Driver, Cells: []string{fmt.Sprintf("%d. %s", i+1, name), fmt.Sprintf("%.2f", d.Importance), fmt.Sprintf("%.0f", d.Performance)}})
	}
	return ch.HTML()
}

// driverName is a driver in words: perceived_quality → perceived quality.
func driverName(id string) string {
	return strings.ReplaceAll(id, "_", " ")
}

// fittedBefore is when a model shown at now was fitted, when that was
// before this view (a fit kept on large data, memo.Keep); nil when it was
// fitted for it.
func fittedBefore(now, fitted time.Time) *time.Time {
	if fitted.IsZero() || now.Sub(fitted) <= time.Second {
		return nil
	}
	return &fitted
}

// withoutEchoes leaves out a channel's row when a kind of channel (online,
// in person) is that channel alone: the two rows would say the same.
func withoutEchoes(groups []analytics.ChannelGroup) []analytics.ChannelGroup {
	alone := map[string]bool{}
	for _, g := range groups {
		if len(g.Channels) == 1 && g.Channels[0] != g.Group {
			alone[g.Channels[0]] = true
		}
	}
	out := groups[:0:0]
	for _, g := range groups {
		if len(g.Channels) <= 1 && alone[g.Group] && (len(g.Channels) == 0 || g.Channels[0] == g.Group) {
			continue
		}
		out = append(out, g)
	}
	return out
}
