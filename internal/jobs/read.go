package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// The states a job passes through, as listed and filtered.
var States = []string{"available", "scheduled", "running", "retryable", "completed", "cancelled", "discarded", "pending"}

// StateWords are the words the console shows for River's states, also
// accepted as filters.
var StateWords = map[string]string{"queued": "available", "retrying": "retryable", "failed": "discarded", "done": "completed"}

// Job is one job as the API and the console show it. A job that has
// failed for good is "discarded"; one waiting for its next attempt after a
// failure is "retryable".
type Job struct {
	ID          int64           `json:"id"`
	Kind        string          `json:"kind"`
	Queue       string          `json:"queue"`
	State       string          `json:"state"`
	Attempt     int             `json:"attempt"`
	MaxAttempts int             `json:"maxAttempts"`
	Args        json.RawMessage `json:"args"`
	LastError   string          `json:"lastError,omitempty"`
	CreatedAt   store.Millis    `json:"createdAt"`
	ScheduledAt store.Millis    `json:"scheduledAt"`
	AttemptedAt store.Millis    `json:"attemptedAt,omitempty"`
	FinalizedAt store.Millis    `json:"finalizedAt,omitempty"`
}

func view(r *rivertype.JobRow) Job {
	j := Job{ID: r.ID, Kind: r.Kind, Queue: r.Queue, State: string(r.State), Attempt: r.Attempt, MaxAttempts: r.MaxAttempts,
		Args: json.RawMessage(r.EncodedArgs), CreatedAt: store.Millis(r.CreatedAt.UnixMilli()), ScheduledAt: store.Millis(r.ScheduledAt.UnixMilli())}
	if len(j.Args) == 0 {
		j.Args = json.RawMessage("{}")
	}
	if n := len(r.Errors); n > 0 {
		// A job cancelled by its worker says why (nothing to send): the
		// reason, without River's name for the error.
		j.LastError = strings.TrimPrefix(r.Errors[n-1].Error, "JobCancelError: ")
	}
	if r.AttemptedAt != nil {
		j.AttemptedAt = store.Millis(r.AttemptedAt.UnixMilli())
	}
	if r.FinalizedAt != nil {
		j.FinalizedAt = store.Millis(r.FinalizedAt.UnixMilli())
	}
	return j
}

// Filter selects jobs to list.
type Filter struct {
	State  string // one of States, "" for all
	Kind   string // "" for all
	Limit  int
	Cursor string // where the previous page ended
}

// List returns jobs newest first and the cursor of the next page ("" at
// the end).
func (s *Service) List(ctx context.Context, f Filter) ([]Job, string, error) {
	if s.client == nil {
		return nil, "", errors.New("job system not built")
	}
	p := river.NewJobListParams().OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(max(1, min(f.Limit, 1000)))
	if st, ok := StateWords[f.State]; ok {
		f.State = st
	}
	if f.State != "" {
		if !slices.Contains(States, f.State) {
			return nil, "", fault.Field("state", "state is one of %s, or queued, retrying, failed or done", strings.Join(States, ", "))
		}
		p = p.States(rivertype.JobState(f.State))
	} else {
		var all []rivertype.JobState
		for _, st := range States {
			all = append(all, rivertype.JobState(st))
		}
		p = p.States(all...)
	}
	if f.Kind != "" {
		p = p.Kinds(f.Kind)
	}
	if f.Cursor != "" {
		var c river.JobListCursor
		if err := c.UnmarshalText([]byte(f.Cursor)); err != nil {
			return nil, "", fault.Field("cursor", "the cursor is one a previous page returned")
		}
		p = p.After(&c)
	}
	res, err := s.client.JobList(ctx, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]Job, 0, len(res.Jobs))
	for _, r := range res.Jobs {
		out = append(out, view(r))
	}
	next := ""
	if len(res.Jobs) == max(1, min(f.Limit, 1000)) && res.LastCursor != nil {
		b, err := res.LastCursor.MarshalText()
		if err != nil {
			return nil, "", err
		}
		next = string(b)
	}
	return out, next, nil
}

// Get returns one job.
func (s *Service) Get(ctx context.Context, id int64) (*Job, error) {
	r, err := s.client.JobGet(ctx, id)
	if errors.Is(err, river.ErrNotFound) {
		return nil, fault.New(fault.NotFound, "no job %d", id)
	}
	if err != nil {
		return nil, err
	}
	j := view(r)
	return &j, nil
}

// Retry makes a job available to run again now: a failed (discarded) or
// cancelled job, or one waiting for its next attempt. A running job is
// left alone.
func (s *Service) Retry(ctx context.Context, id int64) (*Job, error) {
	before, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if before.State == "running" {
		return nil, fault.New(fault.Conflict, "job %d is running", id)
	}
	if fn := s.onRetry[before.Kind]; fn != nil {
		if err := fn(ctx, before.Args); err != nil {
			return nil, err
		}
	}
	r, err := s.client.JobRetry(ctx, id)
	if err != nil {
		return nil, err
	}
	j := view(r)
	return &j, nil
}

// Cancel cancels a job that has not finished: it will not run (again). A
// running job is asked to stop.
func (s *Service) Cancel(ctx context.Context, id int64) (*Job, error) {
	before, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	switch before.State {
	case "completed", "cancelled", "discarded":
		return nil, fault.New(fault.Conflict, "job %d has already finished (%s)", id, before.State)
	}
	r, err := s.client.JobCancel(ctx, id)
	if err != nil {
		return nil, err
	}
	if fn := s.onCancel[r.Kind]; fn != nil {
		if err := fn(ctx, r.EncodedArgs); err != nil {
			return nil, err
		}
	}
	j := view(r)
	return &j, nil
}

// Count is how many jobs of a kind are in a state.
type Count struct {
	Kind  string `json:"kind"`
	Queue string `json:"queue"`
	State string `json:"state"`
	N     int    `json:"n"`
}

// Counts counts the jobs by kind, queue and state.
func (s *Service) Counts(ctx context.Context) ([]Count, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kind, queue, state, COUNT(*) FROM river_job GROUP BY kind, queue, state ORDER BY kind, queue, state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Count
	for rows.Next() {
		var c Count
		if err := rows.Scan(&c.Kind, &c.Queue, &c.State, &c.N); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// stats counts the jobs this node finished, by kind and outcome.
type stats struct {
	mu       sync.Mutex
	finished *prometheus.CounterVec
	run      *prometheus.HistogramVec
	wait     *prometheus.HistogramVec
}

func newStats() *stats {
	return &stats{
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cxloop_jobs_finished_total",
			Help: "Job attempts this node finished, by kind and outcome (completed, failed: will be retried or was discarded, cancelled, snoozed)."}, []string{"kind", "outcome"}),
		run: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cxloop_job_run_seconds",
			Help: "How long a job attempt ran on this node, by kind.", Buckets: prometheus.ExponentialBuckets(0.001, 4, 10)}, []string{"kind"}),
		wait: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "cxloop_job_wait_seconds",
			Help: "How long a job waited between becoming available and starting, by queue.", Buckets: prometheus.ExponentialBuckets(0.01, 3, 10)}, []string{"queue"}),
	}
}

func (st *stats) record(e *river.Event) {
	if e == nil || e.Job == nil {
		return
	}
	outcome := map[river.EventKind]string{river.EventKindJobCompleted: "completed", river.EventKindJobFailed: "failed",
		river.EventKindJobCancelled: "cancelled", river.EventKindJobSnoozed: "snoozed"}[e.Kind]
	st.finished.WithLabelValues(e.Job.Kind, outcome).Inc()
	if e.JobStats != nil {
		st.run.WithLabelValues(e.Job.Kind).Observe(e.JobStats.RunDuration.Seconds())
		st.wait.WithLabelValues(e.Job.Queue).Observe(e.JobStats.QueueWaitDuration.Seconds())
	}
}

// Collectors are the job system's Prometheus metrics: the jobs in each
// state by kind (read from the database when scraped) and what this node
// finished.
func (s *Service) Collectors() []prometheus.Collector {
	return []prometheus.Collector{s.stats.finished, s.stats.run, s.stats.wait, gauge{s}}
}

type gauge struct{ s *Service }

var jobsDesc = prometheus.NewDesc("cxloop_jobs", "Jobs in the database by kind, queue and state (available, scheduled, running, retryable, completed, cancelled, discarded).",
	[]string{"kind", "queue", "state"}, nil)

func (g gauge) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDesc }

func (g gauge) Collect(ch chan<- prometheus.Metric) {
	counts, err := g.s.Counts(context.Background())
	if err != nil {
		return
	}
	for _, c := range counts {
		ch <- prometheus.MustNewConstMetric(jobsDesc, prometheus.GaugeValue, float64(c.N), c.Kind, c.Queue, c.State)
	}
}
