package experience

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/cxloop/cxloop/internal/jobs"
)

// PlaceArgs is the job that places a scheduled replenishment once its
// cancel window has passed (with any other then due).
type PlaceArgs struct {
	Replenishment string `json:"replenishment"`
}

// Kind names the job.
func (PlaceArgs) Kind() string { return "replenishment.place" }

// InsertOpts puts it on the maintenance queue.
func (PlaceArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueRoutine, UniqueOpts: jobs.Pending, MaxAttempts: 5}
}

// roundArgs is the job of one background round.
type roundArgs struct{}

func (roundArgs) Kind() string { return "experience.round" }

func (roundArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueRoutine, UniqueOpts: jobs.Pending, MaxAttempts: 3}
}

// trainClock is what the rounds remember between runs on this node.
type trainClock struct {
	mu      sync.Mutex
	seen    int64
	trained time.Time
}

// Register gives the job system the round run each minute (and at start):
// it trains the recommender when due, then runs replenishment and nudges;
// and the job that places a replenishment when its cancel window ends.
// Each round looks at the interactions (see TrainSettled): it trains once
// new ones have stopped coming in (a burst, such as an import, has
// settled), at once when the model in use was trained on nothing, and at
// least every ten minutes while they keep coming. A small model also
// retrains as it serves.
func (s *Service) Register(js *jobs.Service) {
	s.rounding.seen, s.rounding.trained = -1, time.Now()
	jobs.Handle(js, river.WorkFunc(func(ctx context.Context, _ *river.Job[roundArgs]) error { return s.round(ctx) }))
	jobs.Handle(js, river.WorkFunc(func(ctx context.Context, _ *river.Job[PlaceArgs]) error {
		set, err := s.ReplenishSettings(ctx)
		if err != nil || set.Paused {
			return err // paused: the round places it once resumed
		}
		n, err := s.placeDue(ctx, s.now())
		if n > 0 {
			s.log.Notify()
		}
		return err
	}))
	js.Every(time.Minute, roundArgs{}, true)
}

// round is one background round.
func (s *Service) round(ctx context.Context) error {
	c := &s.rounding
	c.mu.Lock()
	n, did, err := s.TrainSettled(ctx, c.seen, time.Since(c.trained))
	if did {
		c.trained = time.Now()
	}
	if err == nil {
		c.seen = n
	}
	c.mu.Unlock()
	_, _, err2 := s.Replenish(ctx)
	_, _, err3 := s.Nudge(ctx)
	s.rounds.Add(1)
	return errors.Join(err, err2, err3)
}
