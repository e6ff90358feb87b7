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
