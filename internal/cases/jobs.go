package cases

import (
	"context"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/jobs"
)

// escalateArgs is the periodic job that escalates breached cases.
type escalateArgs struct{}

func (escalateArgs) Kind() string { return "cases.escalate" }

func (escalateArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueRoutine, UniqueOpts: jobs.Pending}
}

// alertsArgs is the periodic job that evaluates the alerts.
type alertsArgs struct{}

func (alertsArgs) Kind() string { return "cases.alerts" }

func (alertsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueRoutine, UniqueOpts: jobs.Pending}
}

// Register gives the job system the cases capability's periodic work:
// escalation every 30 seconds, alerts considered every minute.
func (s *Service) Register(js *jobs.Service) {
	jobs.Handle(js, river.WorkFunc(func(ctx context.Context, _ *river.Job[escalateArgs]) error {
		_, err := s.Escalate(ctx)
		return err
	}))
	jobs.Handle(js, river.WorkFunc(func(ctx context.Context, _ *river.Job[alertsArgs]) error { return s.alertRound(ctx) }))
	js.Every(30*time.Second, escalateArgs{}, true)
	js.Every(time.Minute, alertsArgs{}, true)
}

// alertClock is what the alert rounds remember between runs on this node.
type alertClock struct {
	mu              sync.Mutex
	last            time.Time
	evaluated, seen int64
}

// alertRound evaluates the alerts at start-up, every alertEvery, and once
// the log has grown since the last evaluation and then went quiet for a
// minute (a burst — an import, a backfill, the demo — is judged once it
// has settled, not up to alertEvery later and not half-read).
func (s *Service) alertRound(ctx context.Context) error {
	c := &s.alertState
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last.IsZero() && c.seen == 0 {
		c.evaluated, c.seen = -1, -1
	}
	head, err := eventlog.Head(ctx, s.db)
	if err != nil {
		return err
	}
	settled := c.seen >= 0 && head != c.evaluated && head-c.seen < quietEvents
	c.seen = head
	if time.Since(c.last) < alertEvery && !settled {
		return nil
	}
	if s.alertsRead != nil && s.alertsRead(ctx) != nil {
		return nil
	}
	if _, err := s.EvaluateAlerts(ctx); err != nil {
		return err
	}
	c.last, c.evaluated = time.Now(), head
	return nil
}
