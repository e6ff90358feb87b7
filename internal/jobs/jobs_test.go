package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/cxloop/cxloop/internal/jobs"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type noteArgs struct {
	Note string `json:"note"`
}

func (noteArgs) Kind() string { return "test.note" }

type noteWorker struct {
	river.WorkerDefaults[noteArgs]
	mu   sync.Mutex
	seen []string
	fail atomic.Int32 // fail this many attempts first
}

func (w *noteWorker) Work(ctx context.Context, job *river.Job[noteArgs]) error {
	if w.fail.Add(-1) >= 0 {
		return errors.New("not yet")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, job.Args.Note)
	return nil
}

func (w *noteWorker) NextRetry(*river.Job[noteArgs]) time.Time { return time.Now() }

func (w *noteWorker) notes() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen...)
}

func start(t *testing.T, db *store.DB, w *noteWorker) *jobs.Service {
	t.Helper()
	s := jobs.New(db, nil, nil)
	jobs.Handle(s, w)
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := s.Build(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if err := s.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.Close(context.Background())
		cancel()
	})
	return s
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A job enqueued in a transaction exists only if the transaction commits,
// runs once, and a failed attempt is retried.
func TestJobsFollowTheirTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := &noteWorker{}
		w.fail.Store(1)
		s := start(t, db, w)
		ctx := t.Context()
		_ = db.Tx(ctx, func(tx *store.Tx) error {
			if _, err := jobs.InsertTx(ctx, tx, noteArgs{"rolled back"}, nil); err != nil {
				t.Fatal(err)
			}
			return errors.New("the decision failed")
		})
		if err := db.Tx(ctx, func(tx *store.Tx) error { _, err := jobs.InsertTx(ctx, tx, noteArgs{"committed"}, nil); return err }); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the committed job", func() bool { return len(w.notes()) == 1 })
		time.Sleep(3 * jobs.PollInterval)
		if got := w.notes(); len(got) != 1 || got[0] != "committed" {
			t.Fatalf("worked %v, want only the committed job once", got)
		}
		list, _, err := s.List(ctx, jobs.Filter{Kind: "test.note", Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].State != "completed" || list[0].Attempt != 2 || list[0].LastError != "not yet" {
			t.Fatalf("listed %+v, want one completed job on its second attempt with the first attempt's error", list)
		}
		counts, err := s.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(counts) != 1 || counts[0].N != 1 || counts[0].State != "completed" {
			t.Fatalf("counts %+v", counts)
		}
	})
}

// A scheduled job waits for its time; cancelled, it never runs; retried,
// it runs.
func TestCancelAndRetry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := &noteWorker{}
		s := start(t, db, w)
		ctx := t.Context()
		if err := s.Insert(ctx, noteArgs{"later"}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		list, _, err := s.List(ctx, jobs.Filter{State: "scheduled", Limit: 10})
		if err != nil || len(list) != 1 {
			t.Fatalf("scheduled jobs %+v %v", list, err)
		}
		if _, err := s.Cancel(ctx, list[0].ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Cancel(ctx, list[0].ID); err == nil {
			t.Fatal("cancelling a cancelled job succeeded")
		}
		time.Sleep(3 * jobs.PollInterval)
		if len(w.notes()) != 0 {
			t.Fatal("a cancelled job ran")
		}
		if _, err := s.Retry(ctx, list[0].ID); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the retried job", func() bool { return len(w.notes()) == 1 })
		if _, _, err := s.List(ctx, jobs.Filter{State: "bogus"}); err == nil {
			t.Fatal("an unknown state was accepted")
		}
	})
}
