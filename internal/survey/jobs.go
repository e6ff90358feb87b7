package survey

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/cxloop/cxloop/internal/jobs"
	"github.com/cxloop/cxloop/internal/outbox"
	"github.com/cxloop/cxloop/internal/store"
)

// mailAttempts is how many times an invitation's email is tried.
const mailAttempts = 6

// MailArgs is the job that sends an invitation's email: the invitation
// itself (Reminder 0) or its nth reminder.
type MailArgs struct {
	Invitation string `json:"invitation"`
	Reminder   int    `json:"reminder,omitempty"`
}

// Kind names the job.
func (MailArgs) Kind() string { return "survey.mail" }

// InsertOpts puts survey mail on the mail queue, beside notifications.
func (MailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueMail, MaxAttempts: mailAttempts, UniqueOpts: jobs.Pending}
}

// DispatchArgs is the job that makes the survey decisions due: invitations
// whose time has come, reminders, expiry and periodic waves. At (Unix
// ms, a whole second) is the time it was scheduled for; 0 is the
// periodic run.
type DispatchArgs struct {
	At int64 `json:"at,omitempty"`
}

// Kind names the job.
func (DispatchArgs) Kind() string { return "survey.dispatch" }

// InsertOpts puts decisions on the surveys queue, one at a time.
func (DispatchArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueSurveys, MaxAttempts: 5, UniqueOpts: jobs.Pending}
}

// Register gives the job system the survey capability's workers and its
// periodic run: every minute, the decisions due (reminders, expiry,
// periodic waves, and invitations a scheduled run left waiting).
func (s *Service) Register(js *jobs.Service) {
	jobs.Handle(js, &mailWorker{s: s})
	jobs.Handle(js, &dispatchWorker{s: s})
	js.Every(time.Minute, DispatchArgs{}, true)
	// An operator's cancel cancels the email, so that no sweep queues it
	// again; run again, a cancelled or failed email is queued again.
	jobs.OnCancel(js, func(ctx context.Context, a MailArgs) error {
		return s.setMailState(ctx, a.Invitation, "cancelled", "queued")
	})
	jobs.OnRetry(js, func(ctx context.Context, a MailArgs) error {
		return s.setMailState(ctx, a.Invitation, "queued", "cancelled", "failed")
	})
}

type mailWorker struct {
	river.WorkerDefaults[MailArgs]
	s *Service
}

func (w *mailWorker) NextRetry(j *river.Job[MailArgs]) time.Time {
	return time.Now().Add(outbox.MailRetryWait(j.Attempt))
}

func (w *mailWorker) Work(ctx context.Context, j *river.Job[MailArgs]) error {
	return w.s.sendInvitation(ctx, j.Args.Invitation, j.Attempt, j.Attempt >= j.MaxAttempts)
}

type dispatchWorker struct {
	river.WorkerDefaults[DispatchArgs]
	s *Service
}

// Work makes the decisions due. Invitations due but waiting for their
// customer's profile to take in the event that triggered them are decided
// as soon as it has, for up to a few seconds; the minute's run takes any
// left.
func (w *dispatchWorker) Work(ctx context.Context, j *river.Job[DispatchArgs]) error {
	for range 20 {
		if _, err := w.s.Dispatch(ctx); err != nil {
			return err
		}
		if j.Args.At == 0 {
			return w.s.sweepMail(ctx)
		}
		waiting, err := w.s.dueWaiting(ctx)
		if err != nil || !waiting {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return nil
}

// dueWaiting tells whether invitations are due but not decided.
func (s *Service) dueWaiting(ctx context.Context) (bool, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM survey_invitations WHERE status = 'scheduled' AND due_at <= $1 LIMIT 1) d`,
		s.now().UnixMilli()).Scan(&n)
	return n > 0, err
}

// scheduleDispatch queues, inside tx, a decision run at each time an
// invitation of list falls due (now for those already due), to the second
// (a run already queued for that second serves).
func scheduleDispatch(ctx context.Context, tx *store.Tx, list []newInvitation, now int64) error {
	seen := map[int64]bool{}
	var runs []jobs.Many
	for _, n := range list {
		// One run a second, at the first of its invitations' times:
		// invitations falling due in the same second (a burst of
		// triggers, or history already due now) share it; one due a
		// moment after the run is decided by the minute's run at the
		// latest.
		at := (max(n.due, now) + 999) / 1000 * 1000
		if seen[at] {
			continue
		}
		seen[at] = true
		runs = append(runs, jobs.Many{Args: DispatchArgs{At: at}, InsertOpts: jobs.At(tx, time.UnixMilli(n.due))})
	}
	return jobs.InsertManyTx(ctx, tx, runs)
}

// sweepMail queues a job for every queued email that is due and has none
// waiting: emails queued before the job system, or while no mail server
// was configured.
func (s *Service) sweepMail(ctx context.Context) error {
	if s.cfg.Mail == nil {
		return nil
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, reminders FROM survey_invitations WHERE mail_state = 'queued' AND mail_next_at <= $1
		ORDER BY mail_next_at LIMIT 5000`, s.now().Add(-time.Minute).UnixMilli())
	if err != nil {
		return err
	}
	var list []jobs.Many
	for rows.Next() {
		var a MailArgs
		if err := rows.Scan(&a.Invitation, &a.Reminder); err != nil {
			rows.Close()
			return err
		}
		list = append(list, jobs.Many{Args: a})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error { return jobs.InsertManyTx(ctx, tx, list) })
}

// setMailState moves an invitation's email to state from any of from.
func (s *Service) setMailState(ctx context.Context, invitation, state string, from ...string) error {
	args := []any{state, invitation}
	ph := make([]string, len(from))
	for i, f := range from {
		args = append(args, f)
		ph[i] = "$" + strconv.Itoa(i+3)
	}
	next := "mail_next_at"
	if state != "queued" {
		next = "NULL"
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET mail_state = $1, mail_next_at = `+next+`
			WHERE id = $2 AND mail_state IN (`+strings.Join(ph, ", ")+`)`, args...)
		return err
	})
}
