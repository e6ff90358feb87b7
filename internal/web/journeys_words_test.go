package web

import (
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/analytics"
)

// The journey chart leaves Repeat out until some journey can be judged
// (90 days after its response), so that no 0 reads as "no one came back".
func TestFunnelChartRepeatOnceJudged(t *testing.T) {
	young := []analytics.FunnelGroup{{Key: "web", Recognize: 5, Request: 9, Respond: 7}}
	if got := string(funnelChart(young)); strings.Contains(got, "Repeat") || !strings.Contains(got, "Respond") {
		t.Errorf("no journey judged, yet the chart reads: %s", got)
	}
	old := []analytics.FunnelGroup{{Key: "web", Recognize: 5, Request: 9, Respond: 7, RepeatBase: 4, Repeat: 0}, {Key: "store", Respond: 3}}
	got := string(funnelChart(old))
	if !strings.Contains(got, "Repeat") {
		t.Errorf("journeys judged, no Repeat: %s", got)
	}
	if !repeatJudged(old) || repeatJudged(young) {
		t.Error("repeatJudged")
	}
}

// A duration reads in minutes, hours or days, whichever suits it.
func TestDurationWords(t *testing.T) {
	for s, want := range map[float64]string{20: "1 min", 1080: "18 min", 3600: "1.0 h", 83.8 * 3600: "3.5 days", 47 * 3600: "47.0 h"} {
		if got := duration(&s); got != want {
			t.Errorf("%v s reads %q, want %q", s, got, want)
		}
	}
	if duration(nil) != "—" {
		t.Error("no time")
	}
}
