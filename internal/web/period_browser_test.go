package web_test

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// npsOf is the Net Promoter Score of answers, computed here from its
// definition: % of 9–10 minus % of 0–6.
func npsOf(vs []int) (nps float64, p, pa, d int) {
	for _, v := range vs {
		switch {
		case v >= 9:
			p++
		case v <= 6:
			d++
		default:
			pa++
		}
	}
	return math.Round(1000*float64(p-d)/float64(len(vs))) / 10, p, pa, d
}

// A survey's page covers the period in its URL and compares it with the
// period before (or a year before): the score, its split into promoters,
// passives and detractors, the change, the trend from the first week with
// enough answers, and a small sample said as such.
func TestSurveyPeriodAndComparison(t *testing.T) {
	ctx := browser(t)
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) // a Monday
	s, clock := apptest.StartAt(t, storetest.DSN(t, storetest.Engines()[0]), t0)
	var sv struct{ ID string }
	s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "Relationship NPS", "rhythm": "pulse", "owner": "cx",
		"questions": [{"id": "q1", "type": "nps", "text": {"en": "How likely are you to recommend us?"}}]}`), &sv)
	answer := func(at time.Time, who string, v int) {
		clock.Add(at.Sub(clock.Now()))
		if code := s.API("POST", "/api/v1/surveys/"+sv.ID+"/responses", map[string]any{"customer": who, "answers": map[string]any{"q1": v}}, nil); code != 201 {
			t.Fatalf("answer: %d", code)
		}
	}
	// March: ten answers over two weeks; April: 31 in the week of the 6th.
	march := []int{10, 9, 3, 5, 8, 7, 10, 2, 6, 9}
	for i, v := range march {
		answer(t0.Add(time.Duration(i)*24*time.Hour), fmt.Sprintf("m-%d", i), v)
	}
	var april []int
	for i := range 31 {
		v := (i*7 + 3) % 11
		april = append(april, v)
		answer(time.Date(2026, 4, 6, 8, 0, 0, 0, time.UTC).Add(time.Duration(i)*2*time.Hour), fmt.Sprintf("a-%d", i), v)
	}
	clock.Add(time.Date(2026, 5, 1, 8, 0, 0, 0, time.UTC).Sub(clock.Now()))
	s.Sync()

	login(t, ctx, s, "/surveys/"+sv.ID+"?period=30d")
	waitFor(t, ctx, `#score-value`)
	want, p, pa, d := npsOf(april)
	before, _, _, _ := npsOf(march)
	if v := run(t, ctx, chromedp.Text(chromedp.CSS(`#score-value`))); v != strconv.FormatFloat(want, 'f', -1, 64) {
		t.Errorf("the last 30 days' NPS reads %q, want %v", v, want)
	}
	if n := run(t, ctx, chromedp.Text(chromedp.CSS(`#score-n`))); n != "31" {
		t.Errorf("n = %q, want 31", n)
	}
	split := run(t, ctx, chromedp.Text(chromedp.CSS(`#score-split`)))
	for _, w := range []string{fmt.Sprintf("%d promoters", p), fmt.Sprintf("%d passives", pa), fmt.Sprintf("%d detractors", d)} {
		if !strings.Contains(split, w) {
			t.Errorf("split %q lacks %q", split, w)
		}
	}
	change := run(t, ctx, chromedp.Text(chromedp.CSS(`#score-change`)))
	if w := fmt.Sprintf("%+.1f vs %v (10 answers)", math.Round((want-before)*10)/10, before); !strings.Contains(change, w) {
		t.Errorf("change %q lacks %q", change, w)
	}
	if words := run(t, ctx, chromedp.Text(chromedp.CSS(`#period-words`))); words != "1 Apr 2026 – 1 May 2026, compared with 2 Mar 2026 – 1 Apr 2026" {
		t.Errorf("the period in words: %q", words)
	}
	// The trend: one week, drawn by ECharts, the table with its n.
	waitFor(t, ctx, `#trend.drawn svg`)
	if rows := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#trend tbody tr")].map(r => r.dataset.key + " " + r.cells[3].innerText)`)); len(rows) != 1 || rows[0] != "2026-W15 31" {
		t.Errorf("trend rows: %q", rows)
	}

	// All time: every answer, no comparison; the trend starts at April's
	// week and says that two earlier weeks had fewer answers.
	open(t, ctx, s.URL+"/surveys/"+sv.ID+"?period=all", `#score-value`)
	all, _, _, _ := npsOf(append(append([]int{}, march...), april...))
	if v := run(t, ctx, chromedp.Text(chromedp.CSS(`#score-value`))); v != strconv.FormatFloat(all, 'f', -1, 64) {
		t.Errorf("all time's NPS reads %q, want %v", v, all)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#score-change").length`)); n != 0 {
		t.Error("all time shows a comparison")
	}
	if note := run(t, ctx, chromedp.Text(chromedp.CSS(`#trend-note`))); !strings.Contains(note, "2 earlier weeks had fewer") {
		t.Errorf("trend note: %q", note)
	}
	// The time axis is labelled on the points' own weeks, as a day and a
	// month ("6 Apr", the Monday of 2026-W15), never on dates between them.
	waitFor(t, ctx, `#trend.drawn svg`)
	if ok := run(t, ctx, chromedp.Evaluate[bool](`(() => {
		const o = echarts.getInstanceByDom(document.querySelector("#trend .chart-area")).getOption();
		const pts = JSON.parse(document.querySelector("#trend").dataset.chart).points.map(p => Date.parse(p.t));
		const at = o.xAxis[0].axisLabel.customValues || [];
		return at.length > 0 && at.every(v => pts.includes(v)) && [...document.querySelectorAll("#trend svg text")].some(t => t.textContent === "6 Apr");
	})()`)); !ok {
		t.Error("the trend's axis is not labelled on its weeks")
	}

	// March through the picker: a custom period, kept in the URL; ten
	// answers are a small sample, not a headline.
	err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#period select[name=period]`), "custom"),
		chromedp.SetValue(chromedp.CSS(`#period input[name=from]`), "2026-03-01"),
		chromedp.SetValue(chromedp.CSS(`#period input[name=to]`), "2026-03-31"),
	)
	if err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `#period`, "to=2026-03-31&compare=previous")
	if v := run(t, ctx, chromedp.Text(chromedp.CSS(`#score-value`))); v != strconv.FormatFloat(before, 'f', -1, 64) {
		t.Errorf("March's NPS reads %q, want %v", v, before)
	}
	if small := run(t, ctx, chromedp.Text(chromedp.CSS(`#score .small-sample`))); !strings.Contains(small, "small sample: 10 answers") {
		t.Errorf("small sample: %q", small)
	}
	if n := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("#score .big").length`)); n != 0 {
		t.Error("a small sample is shown as a headline")
	}
	if note := run(t, ctx, chromedp.Text(chromedp.CSS(`#trend-note`))); !strings.Contains(note, "Too few answers for a trend") {
		t.Errorf("trend note for March: %q", note)
	}
	// The same period a year before has no answers.
	open(t, ctx, s.URL+"/surveys/"+sv.ID+"?period=30d&compare=year", `#score-value`)
	if change := run(t, ctx, chromedp.Text(chromedp.CSS(`#score-change`))); !strings.Contains(change, "No answers in the period compared with") {
		t.Errorf("compared with last year: %q", change)
	}
	// A period not offered, or a range that ends before it starts, names
	// the field beside the picker and the page covers its default period.
	for query, want := range map[string]string{
		"period=5d": "period must be 7d, 30d, 90d, quarter, custom or all; showing the last 90 days instead.",
		"period=custom&from=2026-03-01&to=2026-02-01": "to must not be before from; showing the last 90 days instead.",
	} {
		open(t, ctx, s.URL+"/surveys/"+sv.ID+"?"+query, `#period-problem`)
		if got := run(t, ctx, chromedp.Text(chromedp.CSS(`#period-problem`))); got != want {
			t.Errorf("%s: the picker says %q, want %q", query, got, want)
		}
		if nav := run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("nav a").length`)); nav == 0 {
			t.Errorf("%s: the page lost its navigation", query)
		}
		if sel := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#period select[name=period]").value`)); sel != "90d" {
			t.Errorf("%s: the picker shows %q, want the default 90d", query, sel)
		}
	}
	checkFits(t, ctx, s.URL+"/surveys/"+sv.ID+"?period=all", `#score-value`)
}

// The recovery page covers its period: complaints opened in it, SLA
// compliance per team (met by the due time, breached, pending), and the
// CSV links carry the same period.
func TestRecoveryByPeriod(t *testing.T) {
	ctx := browser(t)
	t0 := apptest.Epoch
	s, clock := apptest.StartAt(t, storetest.DSN(t, storetest.Engines()[0]), t0.Add(-40*24*time.Hour))
	at := func(d time.Duration) { clock.Add(t0.Add(d).Sub(clock.Now())) }
	s.API("POST", "/api/v1/teams", map[string]any{"name": "care"}, nil)
	s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "angry posts", "when": {"event": "Social Mention", "sentiment": "negative"},
		"then": {"open_case": {"team": "care", "kind": "complaint", "sla": "4h"}}}`), nil)
	var ids []string
	mention := func(handle string) {
		s.API("POST", "/api/v1/mentions", map[string]any{"platform": "instagram", "handle": handle, "text": "The boots were damaged and support was rude."}, nil)
		s.Sync()
		var list struct{ Cases []struct{ ID string } }
		s.API("GET", "/api/v1/cases?status=all&limit=100", nil, &list)
		ids = append(ids, list.Cases[len(list.Cases)-1].ID) // the list is by due time: the newest is due last
	}
	resolve := func(i int) {
		if code := s.API("POST", "/api/v1/cases/"+ids[i]+"/resolve", map[string]any{"note": "done"}, nil); code != 200 {
			t.Fatalf("resolve: %d", code)
		}
	}
	mention("@old") // 40 days ago, resolved late: before a 30-day period
	at(-40*24*time.Hour + 6*time.Hour)
	resolve(0)
	at(-5 * 24 * time.Hour)
	mention("@a") // resolved in time
	at(-5*24*time.Hour + time.Hour)
	resolve(1)
	mention("@b") // never resolved: breached
	at(-time.Hour)
	mention("@c") // due in 3 hours: pending
	at(0)
	login(t, ctx, s, "/recovery?period=30d")
	waitFor(t, ctx, `#sla tr[data-team="care"]`)
	row := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#sla tr[data-team="care"] td')].map(td => td.innerText)`))
	// cases, met, breached, pending, compliance (1 of 2 due), first
	// response (answered on resolving: @a in time, @b never), before (the late one)
	if strings.Join(row[1:6], "|") != "3|1|1|1|50% small sample" || row[6] != "50%\nof 2" || !strings.HasPrefix(row[7], "0%") {
		t.Errorf("care's SLA row: %q", row)
	}
	if sub := run(t, ctx, chromedp.Text(chromedp.CSS(`#handled .sub`))); !strings.Contains(sub, "3 complaint cases opened, 1 resolved") {
		t.Errorf("complaints of the period: %q", sub)
	}
	href := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#download-recovery").getAttribute("href")`))
	if want := "/export/recovery?from=" + url.QueryEscape(t0.Add(-30*24*time.Hour).Format(time.RFC3339)); !strings.HasPrefix(href, want) {
		t.Errorf("CSV link %q, want it to start %q", href, want)
	}
	checkFits(t, ctx, s.URL+"/recovery?period=30d", `#sla`)
}
