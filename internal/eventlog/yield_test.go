package eventlog

import (
	"context"
	"testing"
	"time"
)

// commits records group commits taking share of the writer's time over
// the span before now.
func commits(l *Log, share float64, span time.Duration) {
	now := time.Now()
	const step = 10 * time.Millisecond
	for t := now.Add(-span); t.Before(now); t = t.Add(step) {
		l.load.add(t, t.Add(time.Duration(share*float64(step))))
	}
}

// Consumers give way to appends while they are queued or take much of the
// writer's time, for at most yieldLimit, and not to light traffic.
func TestYield(t *testing.T) {
	ctx := context.Background()
	waited := func(l *Log, ctx context.Context) time.Duration {
		start := time.Now()
		l.yield(ctx)
		return time.Since(start)
	}

	if d := waited(&Log{}, ctx); d >= yieldLimit/4 {
		t.Fatalf("an idle log held the consumers for %s", d)
	}

	light := &Log{}
	commits(light, 0.05, time.Second)
	if light.load.heavy(time.Now()) {
		t.Fatal("commits taking 5 % of the writer counted as heavy")
	}
	if d := waited(light, ctx); d >= yieldLimit/4 {
		t.Fatalf("light traffic held the consumers for %s", d)
	}

	queued := &Log{}
	queued.queued.Store(1) // appends queued for as long as the test runs
	if d := waited(queued, ctx); d < yieldLimit {
		t.Fatalf("consumers went ahead of queued appends after %s", d)
	}

	// A burst that has just ended: the consumers go on once no commit has
	// come for two load windows, long before the limit.
	burst := &Log{}
	commits(burst, 0.9, time.Second)
	if !burst.load.heavy(time.Now()) {
		t.Fatal("commits taking 90 % of the writer did not count as heavy")
	}
	if d := waited(burst, ctx); d < loadWindow || d >= yieldLimit {
		t.Fatalf("after a burst the consumers went on %s later, want between %s and %s", d, loadWindow, yieldLimit)
	}

	// A cancelled context ends the wait.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if d := waited(queued, cctx); d >= yieldLimit/4 {
		t.Fatalf("a cancelled wait lasted %s", d)
	}
}
