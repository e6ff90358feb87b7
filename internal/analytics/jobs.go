package analytics

import (
	"context"
	"time"

	"github.com/riverqueue/river"

	"github.com/cxloop/cxloop/internal/jobs"
)

// RefreshArgs is the job that refreshes customer values.
type RefreshArgs struct{}

// Kind names the job.
func (RefreshArgs) Kind() string { return "analytics.refresh" }

// InsertOpts puts it on the maintenance queue; a refresh already waiting
// serves a second request.
func (RefreshArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueRoutine, UniqueOpts: jobs.Pending, MaxAttempts: 3}
}

// Register gives the job system the refresh, run at start and hourly.
func (s *Service) Register(js *jobs.Service) {
	s.jobs = js
	jobs.Handle(js, river.WorkFunc(func(ctx context.Context, _ *river.Job[RefreshArgs]) error {
		_, err := s.Refresh(ctx)
		return err
	}))
	js.Every(time.Hour, RefreshArgs{}, true)
}
