package memo

import (
	"errors"
	"testing"
	"time"
)

// Models fitted at a read are kept on large data until it moves by 1 % or
// ten minutes pass; on small data, or once data was erased, every read
// fits afresh.
func TestKeep(t *testing.T) {
	at := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		fitted, size int
		after        time.Duration
		keep         bool
	}{
		{30_000, 30_000, time.Minute, true},       // nothing moved
		{30_000, 30_003, time.Minute, true},       // an answer and its signals
		{30_000, 30_299, 9 * time.Minute, true},   // under 1 %
		{30_000, 30_300, time.Minute, false},      // 1 %
		{30_000, 30_003, 10 * time.Minute, false}, // ten minutes on
		{30_000, 30_000, 10 * time.Minute, true},  // ten minutes, nothing moved
		{30_000, 29_999, time.Minute, false},      // an erasure
		{19_999, 19_999, time.Second, false},      // small data: always afresh
		{30_000, 30_000, -time.Minute, false},     // a clock set back
	} {
		if got := keep(c.fitted, at, c.size, at.Add(c.after)); got != c.keep {
			t.Errorf("fitted on %d, %d now, %v on: keep %v, want %v", c.fitted, c.size, c.after, got, c.keep)
		}
	}
	// Through Keep: a fit is made, kept, made again once due; a failed fit
	// keeps nothing.
	var f Fits
	fits := 0
	fit := func() (int, error) { fits++; return fits, nil }
	for i, c := range []struct {
		size  int
		after time.Duration
		want  int
	}{{30_000, 0, 1}, {30_001, time.Minute, 1}, {30_400, 2 * time.Minute, 2}, {30_400, 3 * time.Minute, 2}} {
		v, fitted, err := Keep(&f, "m", c.size, at.Add(c.after), fit)
		if err != nil || v != c.want {
			t.Fatalf("read %d: %v, %v; want fit %d", i, v, err, c.want)
		}
		if wantAt := map[int]time.Duration{1: 0, 2: 2 * time.Minute}[c.want]; !fitted.Equal(at.Add(wantAt)) {
			t.Errorf("read %d: fitted at %v", i, fitted)
		}
	}
	if _, _, err := Keep(&f, "n", 30_000, at, func() (int, error) { return 0, errors.New("no") }); err == nil {
		t.Fatal("a failed fit reported none")
	}
	if v, _, _ := Keep(&f, "n", 30_000, at, fit); v != 3 {
		t.Fatalf("after a failed fit: %d, want a new fit (3)", v)
	}
}
