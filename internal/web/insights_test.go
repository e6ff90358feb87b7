package web_test

import (
	"fmt"
	"html"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// debris is what a page must never show: template errors, absent values
// printed as such, and figures that are not numbers.
var debris = regexp.MustCompile(`%!|<nil>|&lt;nil&gt;|\bNaN\b|[+-]?\bInf\b`)

// percents finds every "N%" a page prints.
var percents = regexp.MustCompile(`(-?[0-9]+(?:\.[0-9]+)?)\s*%`)

// bareCounts finds a count of four digits or more printed without
// thousands separators, which reads like a year ("from 2025 responses").
var bareCounts = regexp.MustCompile(`\b[0-9]{4,}\s+(responses|customers|interactions|answers|items|members|journeys)\b`)

// pluralOne finds "1 answers" and its kind: one of something in the plural.
var pluralOne = regexp.MustCompile(`(?:^|[^0-9.,])1 (answers|customers|complaints|ratings|responses|promoters|passives|detractors|members|events|orders|cases|points|items|verbatims|journeys|interactions)\b`)

// checkFigures fails when a page shows template debris, a rate outside
// 0–100 %, a count without thousands separators or one thing counted in
// the plural.
func checkFigures(t *testing.T, name, body string) {
	t.Helper()
	if m := pluralOne.FindString(tags.ReplaceAllString(body, " ")); m != "" {
		t.Errorf("%s counts one in the plural: %q", name, m)
	}
	if m := bareCounts.FindString(body); m != "" {
		t.Errorf("%s shows a count without thousands separators: %q", name, m)
	}
	if m := debris.FindString(body); m != "" {
		i := strings.Index(body, m)
		t.Errorf("%s shows %q: …%s…", name, m, body[max(0, i-200):min(len(body), i+100)])
	}
	for _, m := range percents.FindAllStringSubmatch(body, -1) {
		var v float64
		fmt.Sscan(m[1], &v)
		if v < 0 || v > 100 {
			t.Errorf("%s shows a rate of %s%%", name, m[1])
		}
	}
}

// tags matches HTML tags, to read a cell's text.
var tags = regexp.MustCompile(`<[^>]*>`)

// row returns the cells of the table row whose first cell is key.
func row(t *testing.T, body, key string) []string {
	t.Helper()
	i := strings.Index(body, "<tr><td>"+key+"</td>")
	if i < 0 {
		t.Fatalf("no row %q", key)
	}
	end := strings.Index(body[i:], "</tr>")
	var out []string
	for _, m := range regexp.MustCompile(`<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(body[i:i+end], -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// The outcomes table prints each month's NPS as a number: the share of
// promoters less the share of detractors of the month's answers.
func TestInsightsNPS(t *testing.T) {
	fixed := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	s, clock := apptest.StartAt(t, storetest.DSN(t, "sqlite"), fixed)
	answers := map[string][]int{"2026-01": {10, 9, 9, 7, 3}, "2026-02": {2, 4, 8, 10}}
	var batch []any
	for month, list := range answers {
		at, _ := time.Parse("2006-01", month)
		for i, v := range list {
			batch = append(batch, map[string]any{"type": "track", "userId": fmt.Sprintf("n-%s-%d", month, i), "event": "Survey Responded",
				"timestamp": at.Add(time.Duration(i+1) * 24 * time.Hour).Format(time.RFC3339), "properties": map[string]any{"nps": v}})
		}
	}
	s.MustSend("batch", map[string]any{"batch": batch})
	s.Sync()
	body := s.Page("/insights")
	checkFigures(t, "/insights", body)
	for month, list := range answers {
		promoters, detractors := 0, 0
		for _, v := range list {
			if v >= 9 {
				promoters++
			} else if v <= 6 {
				detractors++
			}
		}
		// The NPS with its n, a small sample under 30 answers.
		want := fmt.Sprintf("%+.0f n = %d · small sample", 100*float64(promoters-detractors)/float64(len(list)), len(list))
		if got := tags.ReplaceAllString(row(t, body, month)[2], ""); got != want {
			t.Errorf("NPS of %s: %q, want %q", month, got, want)
		}
	}
	if got := row(t, body, "2025-12")[2]; got != "—" {
		t.Errorf("NPS of a month without answers: %q", got)
	}

	// The page is kept while nothing it reads has changed, and computed
	// again as soon as an answer has been read, the clock standing still.
	asOf := regexp.MustCompile(`id="as-of">Figures as of ([^<:]+:[0-9:]+) UTC`)
	if asOf.FindStringSubmatch(body) == nil {
		t.Fatal("the page does not say when its figures were computed")
	}
	// (The first view fitted the value model, a change: the next computes
	// again, on the model fitted.)
	clock.Add(time.Second)
	first := asOf.FindStringSubmatch(s.Page("/insights"))
	clock.Add(10 * time.Second)
	if again := asOf.FindStringSubmatch(s.Page("/insights")); again == nil || again[1] != first[1] {
		t.Errorf("nothing changed, yet the figures were computed again: %v then %v", first, again)
	}
	feb, _ := time.Parse("2006-01", "2026-02")
	s.MustSend("track", map[string]any{"userId": "n-late", "event": "Survey Responded", "timestamp": feb.Add(20 * 24 * time.Hour).Format(time.RFC3339), "properties": map[string]any{"nps": 10}})
	s.Sync()
	body = s.Page("/insights")
	if got := tags.ReplaceAllString(row(t, body, "2026-02")[2], ""); got != "+0 n = 5 · small sample" {
		t.Errorf("February after one more promoter: %q, want +0 n = 5", got)
	}
	if again := asOf.FindStringSubmatch(body); again == nil || again[1] == first[1] {
		t.Errorf("new data, yet the figures are those of %v", first)
	}
	// A minute on, the reports (which read the clock) are computed again.
	before := asOf.FindStringSubmatch(body)
	clock.Add(viewMinute)
	body = s.Page("/insights")
	if again := asOf.FindStringSubmatch(body); again == nil || again[1] == before[1] {
		t.Errorf("a minute on, the figures are still those of %v", before)
	}
	// A change made through the API (here, a team) is a change too.
	before = asOf.FindStringSubmatch(body)
	clock.Add(time.Second)
	s.API("POST", "/api/v1/teams", map[string]any{"name": "care"}, nil)
	if again := asOf.FindStringSubmatch(s.Page("/insights")); again == nil || again[1] == before[1] {
		t.Errorf("after a change through the API, the figures are still those of %v", before)
	}
}

// viewMinute is how long a kept report view is shown at most.
const viewMinute = time.Minute

// Where the fit of repurchase on satisfaction cannot be read, the
// insights page gives the reason instead of a satisfaction for 50 %.
func TestInsightsChannelFit(t *testing.T) {
	fixed := time.Date(2026, 3, 14, 12, 0, 0, 0, time.UTC)
	s, _ := apptest.StartAt(t, storetest.DSN(t, "sqlite"), fixed)
	answered := fixed.Add(-120 * 24 * time.Hour)
	var batch []any
	lowCame, low, all := 0, 0, 0
	for i := range 66 {
		sat := i % 11
		came := sat >= 6 || (i/11)%3 != 0 // all the satisfied come back, and two in three of the others
		if came {
			all++
		}
		user := fmt.Sprintf("cf-%d", i)
		batch = append(batch, map[string]any{"type": "track", "userId": user, "event": "Survey Responded", "timestamp": answered.Format(time.RFC3339),
			"properties": map[string]any{"nps": sat, "answers": map[string]any{"nps": sat}}, "context": map[string]any{"channel": "web"}})
		if came {
			batch = append(batch, map[string]any{"type": "track", "userId": user, "event": "Order Completed", "timestamp": answered.Add(240 * time.Hour).Format(time.RFC3339),
				"properties": map[string]any{"order_id": user, "total": 10}, "context": map[string]any{"channel": "web"}})
		}
		if sat <= 2 {
			low++
			if came {
				lowCame++
			}
		}
	}
	if lowCame*2 <= low {
		t.Fatal("the test's data should have most of the least satisfied come back")
	}
	s.MustSend("batch", map[string]any{"batch": batch})
	s.Sync()
	body := s.Page("/insights")
	checkFigures(t, "/insights", body)
	// Online is web alone here: its row stands for both, web's is not repeated.
	if strings.Contains(body, `<tr data-group="web">`) {
		t.Error("the web row repeats the online row")
	}
	i := strings.Index(body, `<tr data-group="online">`)
	if i < 0 {
		t.Fatal("no online row in the online against in-person table")
	}
	cells := regexp.MustCompile(`<td[^>]*>(.*?)</td>`).FindAllStringSubmatch(body[i:i+strings.Index(body[i:], "</tr>")], -1)
	if len(cells) != 4 || !strings.Contains(cells[3][1], "more than half come back at any satisfaction") || cells[2][1] != fmt.Sprintf("%.0f%%", 100*float64(all)/66) {
		t.Fatalf("online row: %q", cells)
	}
}
