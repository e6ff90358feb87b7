package app

import (
	"context"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/jobs"
)

// MinRetainDays is the shortest retention the log takes: the reports that
// read raw events (the silent dissatisfied's touches over 180 days, a
// customer's timeline, segments on events done) see the retained window.
const MinRetainDays = 180

// Archive is one archived range of the log (eventlog.Archive).
type Archive = eventlog.Archive

// ArchiveLog archives to dir the events received more than days ago and
// applied by every consumer, and drops them from the log
// (docs/retention.md). It returns nil when there was nothing to archive.
func (a *App) ArchiveLog(ctx context.Context, dir string, days int) (*Archive, error) {
	if days < MinRetainDays {
		return nil, fmt.Errorf("the log keeps at least %d days of events (asked: %d)", MinRetainDays, days)
	}
	if dir == "" {
		return nil, fmt.Errorf("archive: no directory given")
	}
	now := a.now()
	return eventlog.ArchiveBefore(ctx, a.DB, dir, now.AddDate(0, 0, -days), a.Runner.Names(), now)
}

// Archives lists the log's archives, oldest first.
func (a *App) Archives(ctx context.Context) ([]Archive, error) { return eventlog.Archives(ctx, a.DB) }

// RestoreLog puts every archived event back in the log under its own seq
// (a replay then reads them with the live log) and returns how many.
func (a *App) RestoreLog(ctx context.Context) (int64, error) {
	n, err := eventlog.Restore(ctx, a.DB)
	if err == nil && a.Log != nil {
		a.Log.Notify()
	}
	return n, err
}

func (a *App) now() time.Time {
	if a.Config.Now != nil {
		return a.Config.Now()
	}
	return time.Now()
}

// retainArgs is the daily job that keeps the log to Config.RetainDays.
type retainArgs struct{}

func (retainArgs) Kind() string { return "log.retain" }

func (retainArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueRoutine, UniqueOpts: jobs.Pending}
}

// registerRetention archives the log daily (and at start) when a
// retention is configured.
func (a *App) registerRetention() error {
	if a.Config.RetainDays == 0 {
		return nil
	}
	if a.Config.RetainDays < MinRetainDays || a.Config.ArchiveDir == "" {
		return fmt.Errorf("--retain-days is at least %d and needs --archive-dir", MinRetainDays)
	}
	jobs.Handle(a.Jobs, river.WorkFunc(func(ctx context.Context, _ *river.Job[retainArgs]) error {
		ar, err := a.ArchiveLog(ctx, a.Config.ArchiveDir, a.Config.RetainDays)
		if ar != nil {
			a.Logger.Info("log archived", "file", ar.File, "first", ar.First, "last", ar.Last, "events", ar.Events, "bytes", ar.Bytes)
		}
		return err
	}))
	a.Jobs.Every(24*time.Hour, retainArgs{}, true)
	return nil
}
