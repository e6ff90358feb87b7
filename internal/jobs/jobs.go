// Package jobs is cxloop's one job system: River
// (github.com/riverqueue/river) on the cxloop database, SQLite or
// PostgreSQL. Capabilities register their workers and periodic jobs before
// the system is built, enqueue jobs inside the transaction of the decision
// that causes them (InsertTx), and read nothing of River's tables
// themselves. Each kind of work has its own queue with its own
// concurrency, so that a slow webhook endpoint never delays mail, and a
// periodic job runs once per schedule however many nodes share the
// database (River elects one leader to enqueue them and locks each job to
// one worker).
//
// It imports store only.
package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/cxloop/cxloop/internal/store"
)

// The queues, each with its own workers.
const (
	QueueWebhooks = "webhooks"    // webhook deliveries
	QueueMail     = "mail"        // notification and survey email
	QueueSurveys  = "surveys"     // survey decisions: due invitations, reminders, periodic waves
	QueueRoutine  = "maintenance" // periodic upkeep: escalation, alerts, expiry, training, refreshes
	QueueDefault  = river.QueueDefault
)

// queueWorkers is each queue's concurrency on one node.
var queueWorkers = map[string]int{QueueWebhooks: 16, QueueMail: 4, QueueSurveys: 1, QueueRoutine: 2, QueueDefault: 2}

// PollInterval is how often an idle node looks for jobs that became
// available: the longest a job waits after its time on an idle node.
const PollInterval = 200 * time.Millisecond

// Service is the job system of one database.
type Service struct {
	db       *store.DB
	now      func() time.Time // the decisions' clock; nil: the wall clock
	logger   *slog.Logger
	workers  *river.Workers
	periodic []*river.PeriodicJob
	kinds    []string
	// rescueAfter is how long a job runs before it is run again (0: default).
	rescueAfter time.Duration
	// onCancel, by kind, is what a capability does when an operator
	// cancels a job of that kind.
	onCancel map[string]func(ctx context.Context, args []byte) error
	// onRetry, by kind, is what a capability does when an operator runs a
	// job again (a cancelled delivery becomes pending again).
	onRetry map[string]func(ctx context.Context, args []byte) error

	mu      sync.Mutex
	client  *river.Client[*sql.Tx]
	started bool
	stats   *stats
}

// registry finds the job system of the database a transaction writes to,
// so that a capability enqueues with only its transaction in hand.
var registry sync.Map // *store.DB → *Service

// New returns the job system of db; now is the decisions' clock (nil: the
// wall clock), by which At schedules. River itself, its periodic jobs and
// retries run on the wall clock. Register workers and periodic jobs, then
// Build.
func New(db *store.DB, now func() time.Time, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.Default()
	}
	s := &Service{db: db, now: now, logger: logger, workers: river.NewWorkers(), stats: newStats()}
	registry.Store(db, s)
	return s
}

func (s *Service) driver() riverdriver.Driver[*sql.Tx] {
	if s.db.Engine == store.Postgres {
		return riverdatabasesql.New(s.db.Writer())
	}
	return riversqlite.New(s.db.Writer())
}

// Migrate creates or updates River's tables.
func (s *Service) Migrate(ctx context.Context) error {
	m, err := rivermigrate.New(s.driver(), &rivermigrate.Config{Logger: quiet(s.logger)})
	if err != nil {
		return err
	}
	_, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	return err
}

// quiet passes on River's warnings and errors only.
func quiet(l *slog.Logger) *slog.Logger {
	return slog.New(levelFilter{l.Handler(), slog.LevelWarn})
}

type levelFilter struct {
	slog.Handler
	min slog.Level
}

func (f levelFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= f.min && f.Handler.Enabled(ctx, l)
}

// Handle registers the worker of a job kind (before Build).
func Handle[T river.JobArgs](s *Service, w river.Worker[T]) {
	river.AddWorker(s.workers, w)
	var zero T
	s.kinds = append(s.kinds, zero.Kind())
}

// OnCancel registers what happens when an operator cancels a job of kind
// T (before Build): fn gets the job's arguments, so that the record the job
// was to act on says it will not be (a delivery cancelled, not left pending
// for the next sweep).
func OnCancel[T river.JobArgs](s *Service, fn func(ctx context.Context, args T) error) {
	s.onCancel = withHook(s.onCancel, fn)
}

// OnRetry registers what happens when an operator runs a job of kind T
// again (before Build): a cancelled delivery becomes pending again.
func OnRetry[T river.JobArgs](s *Service, fn func(ctx context.Context, args T) error) {
	s.onRetry = withHook(s.onRetry, fn)
}

// withHook adds fn, by its kind, to hooks that get a job's stored
// arguments.
func withHook[T river.JobArgs](hooks map[string]func(context.Context, []byte) error, fn func(context.Context, T) error) map[string]func(context.Context, []byte) error {
	if hooks == nil {
		hooks = map[string]func(context.Context, []byte) error{}
	}
	var zero T
	hooks[zero.Kind()] = func(ctx context.Context, raw []byte) error {
		var args T
		if err := json.Unmarshal(raw, &args); err != nil {
			return err
		}
		return fn(ctx, args)
	}
	return hooks
}

// Every registers a periodic job: args enqueued every interval (and once
// when the node starts leading, with onStart), by the wall clock. After a
// gap (a node that slept), the next run is one interval after now, not a
// run for every interval missed.
func (s *Service) Every(interval time.Duration, args river.JobArgs, onStart bool) {
	s.periodic = append(s.periodic, river.NewPeriodicJob(schedule{every: interval, now: time.Now},
		func() (river.JobArgs, *river.InsertOpts) { return args, nil },
		&river.PeriodicJobOpts{ID: periodicID(args), RunOnStart: onStart}))
}

// periodicID names a periodic job by its kind and arguments.
func periodicID(args river.JobArgs) string {
	id := args.Kind()
	if b, err := json.Marshal(args); err == nil && string(b) != "{}" {
		// {"full":true} → loyalty.engage/full:true
		id += "/" + strings.NewReplacer("{", "", "}", "", `"`, "", ",", "+", " ", "").Replace(string(b))
	}
	return id
}

type schedule struct {
	every time.Duration
	now   func() time.Time
}

func (p schedule) Next(current time.Time) time.Time {
	next := current.Add(p.every)
	if now := p.now(); next.Before(now) {
		next = now.Add(p.every)
	}
	return next
}

func (s *Service) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// SetRescueAfter sets how long a job may run before it is taken for
// abandoned by a node that died and run again (10 minutes when not set);
// no attempt may run longer. Call before Build.
func (s *Service) SetRescueAfter(d time.Duration) { s.rescueAfter = d }

// Build makes the client: after every worker and periodic job is
// registered, before anything is enqueued.
func (s *Service) Build() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	queues := map[string]river.QueueConfig{}
	for q, n := range queueWorkers {
		queues[q] = river.QueueConfig{MaxWorkers: n}
	}
	rescue := 10 * time.Minute
	if s.rescueAfter > 0 {
		rescue = s.rescueAfter
	}
	completed, cancelled, discarded := 24*time.Hour, 24*time.Hour, 7*24*time.Hour
	cfg := &river.Config{
		Queues:            queues,
		Workers:           s.workers,
		PeriodicJobs:      s.periodic,
		FetchPollInterval: PollInterval,
		FetchCooldown:     50 * time.Millisecond,
		// Finished jobs stay listed for a day (failed ones a week) and are
		// then removed by the leader.
		CompletedJobRetentionPeriod: completed,
		CancelledJobRetentionPeriod: cancelled,
		DiscardedJobRetentionPeriod: discarded,
		// A job running longer than this is taken for abandoned (its node
		// died) and run again; no attempt may run longer.
		RescueStuckJobsAfter: rescue,
		JobTimeout:           min(rescue, 10*time.Minute),
		MaxAttempts:          10,
		ErrorHandler:         errorHandler{s.logger},
		Logger:               quiet(s.logger),
		SoftStopTimeout:      10 * time.Second,
	}
	c, err := river.NewClient(s.driver(), cfg)
	if err != nil {
		return fmt.Errorf("job system: %w", err)
	}
	s.client = c
	return nil
}

// Start works jobs on this node until ctx ends or Stop.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.client == nil {
		return errors.New("job system not built")
	}
	if s.started {
		return nil
	}
	if err := s.client.Start(ctx); err != nil {
		return err
	}
	s.started = true
	events, cancel := s.client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed, river.EventKindJobCancelled, river.EventKindJobSnoozed)
	go func() {
		defer cancel()
		for {
			select {
			case <-s.client.Stopped():
				return
			case e, ok := <-events:
				if !ok {
					return
				}
				s.stats.record(e)
			}
		}
	}()
	return nil
}

// Stop lets running jobs finish (up to the soft stop timeout, then cancels
// them) and stops working. Unfinished jobs stay queued for the next node.
func (s *Service) Stop(ctx context.Context) error {
	s.mu.Lock()
	started := s.started
	s.started = false
	s.mu.Unlock()
	if !started {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return s.client.Stop(ctx)
}

// Close stops working and forgets the database.
func (s *Service) Close(ctx context.Context) error {
	registry.Delete(s.db)
	return s.Stop(ctx)
}

// Working reports whether this node works jobs.
func (s *Service) Working() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.started
}

// Pending is the unique-job setting for a job that must not be queued
// twice while one like it (same kind and arguments) waits, retries or
// runs; once it has finished, the same job may be queued again.
var Pending = river.UniqueOpts{ByArgs: true, ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending,
	rivertype.JobStateRunning, rivertype.JobStateScheduled, rivertype.JobStateRetryable}}

// Inserted is what enqueueing did: the job's id, and whether a job like
// it already waited (a unique job) so nothing new was queued.
type Inserted struct {
	ID        int64
	Duplicate bool
}

func of(tx *store.Tx) (*Service, error) {
	v, ok := registry.Load(tx.DB())
	if !ok {
		return nil, errors.New("no job system on this database")
	}
	s := v.(*Service)
	if s.client == nil {
		return nil, errors.New("job system not built")
	}
	return s, nil
}

// InsertTx enqueues a job inside tx, the transaction of the decision that
// causes it: the job exists exactly when the decision is committed.
func InsertTx(ctx context.Context, tx *store.Tx, args river.JobArgs, opts *river.InsertOpts) (Inserted, error) {
	s, err := of(tx)
	if err != nil {
		return Inserted{}, err
	}
	res, err := s.client.InsertTx(ctx, tx.Tx, args, opts)
	if err != nil {
		return Inserted{}, err
	}
	return Inserted{ID: res.Job.ID, Duplicate: res.UniqueSkippedAsDuplicate}, nil
}

// At is the insert option of a job due at t by the decisions' clock. River
// runs on the wall clock: the job is scheduled as far after the wall
// clock's now as t is after the decisions' now, and is available at once
// when t is not after it (a time already past is not held back for the
// scheduler's next round).
func At(tx *store.Tx, t time.Time) *river.InsertOpts {
	s, err := of(tx)
	if err != nil {
		return nil
	}
	wait := t.Sub(s.clock())
	if wait <= 0 {
		return nil
	}
	return &river.InsertOpts{ScheduledAt: time.Now().Add(wait)}
}

// Many is one job to enqueue with InsertManyTx.
type Many = river.InsertManyParams

// InsertManyTx enqueues several jobs inside tx in one statement.
func InsertManyTx(ctx context.Context, tx *store.Tx, list []Many) error {
	if len(list) == 0 {
		return nil
	}
	s, err := of(tx)
	if err != nil {
		return err
	}
	for start := 0; start < len(list); start += 1000 {
		if _, err := s.client.InsertManyTx(ctx, tx.Tx, list[start:min(start+1000, len(list))]); err != nil {
			return err
		}
	}
	return nil
}

// RunNowTx makes a waiting or retrying job available at once, inside tx.
func RunNowTx(ctx context.Context, tx *store.Tx, id int64) error {
	s, err := of(tx)
	if err != nil {
		return err
	}
	_, err = s.client.JobRetryTx(ctx, tx.Tx, id)
	return err
}

// Insert enqueues a job in a transaction of its own.
func (s *Service) Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := InsertTx(ctx, tx, args, opts)
		return err
	})
}

// Backoff is the wait before retry n (1, 2, …): base·2^(n-1), at most max.
func Backoff(base, max time.Duration, n int) time.Duration {
	return min(max, base*time.Duration(1<<min(max0(n-1), 20)))
}

func max0(n int) int {
	if n < 0 {
		return 0
	}
	return n
}

// errorHandler logs a job's failure and a worker's panic.
type errorHandler struct{ logger *slog.Logger }

func (h errorHandler) HandleError(ctx context.Context, job *rivertype.JobRow, err error) *river.ErrorHandlerResult {
	level := slog.LevelWarn
	if job.Attempt >= job.MaxAttempts {
		level = slog.LevelError
	}
	h.logger.Log(ctx, level, "job failed", "kind", job.Kind, "id", job.ID, "attempt", job.Attempt, "of", job.MaxAttempts, "err", err)
	return nil
}

func (h errorHandler) HandlePanic(ctx context.Context, job *rivertype.JobRow, v any, trace string) *river.ErrorHandlerResult {
	h.logger.Error("job panicked", "kind", job.Kind, "id", job.ID, "panic", v, "trace", trace)
	return nil
}
