package analytics

import (
	"testing"
	"time"
)

// On large data a trickle of answers does not refit the model each time:
// it refits once the data moved by 1 % of what it was fitted on, or once
// the fit is ten minutes old and anything moved.
func TestRefitDue(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	m := &Model{Orders: 16_000, Signals: 14_000, FittedAt: at}
	for _, c := range []struct {
		orders, signals int
		after           time.Duration
		due             bool
	}{
		{16_000, 14_000, time.Hour, false},       // nothing moved
		{16_000, 14_001, time.Minute, false},     // one answer
		{16_000, 14_299, 9 * time.Minute, false}, // under 1 % (300)
		{16_100, 14_200, time.Minute, true},      // 1 %
		{16_000, 14_001, 10 * time.Minute, true}, // ten minutes on
		{15_900, 14_000, 10 * time.Minute, true}, // fewer (an erasure) moved too
	} {
		if got := refitDue(m, c.orders, c.signals, at.Add(c.after)); got != c.due {
			t.Errorf("%d orders, %d signals, %v on: due %v, want %v", c.orders, c.signals, c.after, got, c.due)
		}
	}
}
