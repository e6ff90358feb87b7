package eventlog

import (
	"context"
	"testing"
	"time"
)

// Consumers give way to appends for at most yieldLimit, and go on as soon
// as the appends stop.
func TestYield(t *testing.T) {
	ctx := context.Background()
	l := &Log{}

	start := time.Now()
	l.yield(ctx)
	if d := time.Since(start); d >= yieldLimit/2 {
		t.Fatalf("an idle log held the consumers for %s", d)
	}

	l.queued.Store(1) // appends queued for as long as the test runs
	start = time.Now()
	l.yield(ctx)
	if d := time.Since(start); d < yieldLimit {
		t.Fatalf("consumers went ahead of queued appends after %s", d)
	}

	// Appends stop: the consumers go on about busyGap after the last commit.
	done := make(chan time.Duration)
	start = time.Now()
	go func() { l.yield(ctx); done <- time.Since(start) }()
	time.Sleep(50 * time.Millisecond)
	l.lastAt.Store(time.Now().UnixNano())
	l.queued.Store(0)
	if d := <-done; d < 50*time.Millisecond+busyGap || d >= yieldLimit {
		t.Fatalf("consumers went on %s after the wait began, want between %s and %s", d, 50*time.Millisecond+busyGap, yieldLimit)
	}

	// A cancelled context ends the wait.
	l.queued.Store(1)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	start = time.Now()
	l.yield(cctx)
	if d := time.Since(start); d >= yieldLimit/2 {
		t.Fatalf("a cancelled wait lasted %s", d)
	}
}
