package web

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/analytics"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/store"
)

// A timeline line says what happened in words: a time taken as a
// duration, and none of cxloop's own record ids (an invitation's, a
// send's), which say nothing to a reader.
func TestDescribeSaysItInWords(t *testing.T) {
	body, _ := json.Marshal(map[string]any{"type": "track", "event": "Case Resolved", "properties": map[string]any{
		"hours_to_resolve": 37.5, "invitation_id": store.NewID("inv"), "first_invitation": "inv_0a1b2c3d4e5f60718293", "touchpoint_channel": "mobile_app", "send_id": store.NewID("nsend"), "team": "service"}})
	tp := describe(eventlog.Event{Type: eventlog.Track, Event: "Case Resolved", Body: body})
	var got []string
	for _, d := range tp.Details {
		got = append(got, d.K+": "+d.V)
	}
	if want := "time to resolve: 37.5 h; team: service; touchpoint channel: mobile app"; strings.Join(got, "; ") != want {
		t.Errorf("details %q, want %q", strings.Join(got, "; "), want)
	}
}

// The drivers chart numbers drivers by importance: 1 moves satisfaction most.
func TestDriversNumberedByImportance(t *testing.T) {
	html := string(driverChart([]analytics.Driver{{Driver: "expectations", Importance: 0.1, Performance: 70},
		{Driver: "perceived_value", Importance: 0.5, Performance: 60}, {Driver: "perceived_quality", Importance: 0.3, Performance: 80}}))
	first, second, third := strings.Index(html, "1. perceived value"), strings.Index(html, "2. perceived quality"), strings.Index(html, "3. expectations")
	if first < 0 || second < first || third < second {
		t.Errorf("drivers not numbered by importance: %s", html)
	}
}
