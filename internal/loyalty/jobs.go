package loyalty

import (
	"context"
	"errors"
	"time"

	"github.com/riverqueue/river"

	"github.com/cxloop/cxloop/internal/jobs"
)

// EngageArgs is the periodic job that keeps engagement scores current:
// with Full, every customer's (scores fade daily), else those with new
// events.
type EngageArgs struct {
	Full bool `json:"full,omitempty"`
}

// Kind names the job.
func (EngageArgs) Kind() string { return "loyalty.engage" }

// InsertOpts puts it on the maintenance queue, once at a time.
func (EngageArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueRoutine, UniqueOpts: jobs.Pending}
}

// reviewArgs is the hourly job that expires points and reviews tiers.
type reviewArgs struct{}

func (reviewArgs) Kind() string { return "loyalty.review" }

func (reviewArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueRoutine, UniqueOpts: jobs.Pending}
}

// Register gives the job system the loyalty capability's periodic work:
// engagement each minute (all of it at start and daily), points expiry and
// the tier review each hour (the first an hour after start).
func (s *Service) Register(js *jobs.Service) {
	jobs.Handle(js, river.WorkFunc(func(ctx context.Context, j *river.Job[EngageArgs]) error {
		_, err := s.Engage(ctx, j.Args.Full)
		return err
	}))
	jobs.Handle(js, river.WorkFunc(func(ctx context.Context, _ *river.Job[reviewArgs]) error {
		_, err := s.Expire(ctx)
		_, err2 := s.ReviewTiers(ctx)
		return errors.Join(err, err2)
	}))
	js.Every(time.Minute, EngageArgs{}, false)
	js.Every(24*time.Hour, EngageArgs{Full: true}, true)
	js.Every(time.Hour, reviewArgs{}, false)
}
