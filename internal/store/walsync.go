package store

import (
	"fmt"
	"os"
	"sync"
)

// walSync makes SQLite commits durable after they commit. The writer runs
// with synchronous=NORMAL, so a commit appends its pages to the WAL file
// without waiting for the disk; before a commit is reported done, the WAL
// file is synced by walSync. Syncing the file outside the writer's lock lets
// the next transaction run while the disk works, and one sync covers every
// commit made before it began, so concurrent committers share it.
//
// A WAL is only ever read up to its last intact commit (each frame's
// checksum chains to the one before), so after a crash of the machine the
// database holds a prefix of the commits: everything that was synced, and
// nothing that depends on a commit that was lost.
type walSync struct {
	path string

	mu        sync.Mutex
	cond      *sync.Cond
	f         *os.File
	requested uint64 // tickets handed out
	completed uint64 // every ticket up to this one is synced
	running   bool
	err       error  // the first failed sync's error, kept: see sync
	syncs     uint64 // syncs done
}

func newWALSync(dbPath string) *walSync {
	s := &walSync{path: dbPath + "-wal"}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// sync returns once every commit that finished before the call is on disk.
// After a sync has failed it fails for good: the kernel may have dropped the
// pages it could not write and report the next sync clean, so durability
// can no longer be promised until the process restarts and SQLite recovers.
func (s *walSync) sync() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.requested++
	mine := s.requested
	for s.completed < mine {
		if s.running {
			s.cond.Wait()
			continue
		}
		// Lead a sync for every ticket handed out so far.
		s.running = true
		upTo := s.requested
		s.mu.Unlock()
		err := s.fsync()
		s.mu.Lock()
		s.running = false
		s.completed = upTo
		s.syncs++
		if err != nil && s.err == nil {
			s.err = err
		}
		s.cond.Broadcast()
	}
	return s.err
}

// fsync syncs the WAL file's data, opening it the first time (it exists
// from the first commit in WAL mode on) and again should SQLite have made a
// new one (it deletes the WAL when its last connection closes).
func (s *walSync) fsync() error {
	if s.f != nil {
		open, err1 := s.f.Stat()
		now, err2 := os.Stat(s.path)
		if err1 != nil || err2 != nil || !os.SameFile(open, now) {
			s.f.Close()
			s.f = nil
		}
	}
	if s.f == nil {
		f, err := os.Open(s.path)
		if err != nil {
			return fmt.Errorf("open the WAL to sync it: %w", err)
		}
		s.f = f
	}
	if err := datasync(s.f); err != nil {
		return fmt.Errorf("sync the WAL: %w", err)
	}
	return nil
}

func (s *walSync) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.running {
		s.cond.Wait()
	}
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

func (s *walSync) count() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.syncs
}
