package memo

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
)

// Under a memo an input is read once however many reports ask for it at
// once; without one, every call reads; an error is shared like a value.
func TestMemo(t *testing.T) {
	var reads atomic.Int32
	read := func() (int, error) { return int(reads.Add(1)), nil }
	ctx := With(context.Background())
	var wg sync.WaitGroup
	got := make([]int, 8)
	for i := range got {
		wg.Go(func() { got[i], _ = Get(ctx, "x", read) })
	}
	wg.Wait()
	for _, v := range got {
		if v != 1 {
			t.Fatalf("read %d times under one memo: %v", reads.Load(), got)
		}
	}
	if v, _ := Get(context.Background(), "x", read); v != 2 {
		t.Fatalf("without a memo: %d", v)
	}
	if v, _ := Get(With(context.Background()), "x", read); v != 3 {
		t.Fatalf("another request's memo: %d", v)
	}
	boom := errors.New("boom")
	fail := func() (int, error) { reads.Add(1); return 0, boom }
	for range 2 {
		if _, err := Get(ctx, "y", fail); !errors.Is(err, boom) {
			t.Fatalf("error: %v", err)
		}
	}
	if reads.Load() != 4 {
		t.Fatalf("a failed read was tried %d times", reads.Load()-3)
	}
}

// Ensure shares the request's memo when there is one and gives a report
// its own otherwise: either way an input is read once under it.
func TestEnsure(t *testing.T) {
	reads := 0
	read := func() (int, error) { reads++; return reads, nil }
	req := With(context.Background())
	_, _ = Get(req, "k", read)
	_, _ = Get(Ensure(req), "k", read)
	if reads != 1 {
		t.Errorf("under the request's memo: %d reads, want 1", reads)
	}
	own := Ensure(context.Background())
	_, _ = Get(own, "k", read)
	_, _ = Get(own, "k", read)
	if reads != 2 {
		t.Errorf("under a memo of its own: %d reads in all, want 2", reads)
	}
}
