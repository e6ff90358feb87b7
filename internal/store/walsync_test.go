package store

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Commits that ask for a sync while one is running share the next one.
func TestWALSyncShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	writeWAL(t, path)
	s := newWALSync(path)
	defer s.close()
	if err := s.sync(); err != nil || s.count() != 1 {
		t.Fatalf("first sync: %v, %d syncs", err, s.count())
	}
	// Hold a sync "in flight" while ten commits ask for theirs.
	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	const waiters = 10
	var wg sync.WaitGroup
	errs := make(chan error, waiters)
	for range waiters {
		wg.Add(1)
		go func() { defer wg.Done(); errs <- s.sync() }()
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		s.mu.Lock()
		asked := s.requested
		s.mu.Unlock()
		if asked == 1+waiters {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d waiters asked", asked-1, waiters)
		}
		time.Sleep(time.Millisecond)
	}
	s.mu.Lock()
	if s.completed != 1 {
		t.Fatalf("a waiter was released without a sync: completed %d", s.completed)
	}
	s.running = false // the sync in flight ends without covering them
	s.cond.Broadcast()
	s.mu.Unlock()
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := s.count(); got != 2 {
		t.Fatalf("ten waiting commits took %d syncs, want one shared", got-1)
	}
}

// A failed sync fails every later one: durability is no longer promised.
func TestWALSyncFailureSticks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.db")
	s := newWALSync(path)
	defer s.close()
	if err := s.sync(); err == nil {
		t.Fatal("syncing a WAL that does not exist succeeded")
	}
	writeWAL(t, path)
	if err := s.sync(); err == nil {
		t.Fatal("a sync after a failed one succeeded")
	}
}

// A WAL made anew after the one synced so far was deleted is the one synced.
func TestWALSyncFollowsANewWAL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	writeWAL(t, path)
	s := newWALSync(path)
	defer s.close()
	if err := s.sync(); err != nil {
		t.Fatal(err)
	}
	first := s.f
	if err := os.Remove(path + "-wal"); err != nil {
		t.Fatal(err)
	}
	writeWAL(t, path)
	if err := s.sync(); err != nil {
		t.Fatal(err)
	}
	open, err := s.f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	now, err := os.Stat(path + "-wal")
	if err != nil || s.f == first || !os.SameFile(open, now) {
		t.Fatalf("still syncing the deleted WAL (%v)", err)
	}
}

// writeWAL writes a WAL file beside the database at path.
func writeWAL(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path+"-wal", []byte("frames"), 0o600); err != nil {
		t.Fatal(err)
	}
}
