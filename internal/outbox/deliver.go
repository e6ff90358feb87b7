package outbox

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/cxloop/cxloop/internal/jobs"
	"github.com/cxloop/cxloop/internal/store"
)

// perEndpoint is how many deliveries to one webhook a node sends at once:
// a slow or dead endpoint holds at most this many of the webhook queue's
// workers, and the others go on delivering to every other endpoint.
const perEndpoint = 4

// mailAttempts is how many times a notification email is tried.
const mailAttempts = 6

// DeliveryArgs is the job that sends one webhook delivery.
type DeliveryArgs struct {
	ID string `json:"delivery"`
}

// Kind names the job.
func (DeliveryArgs) Kind() string { return "webhook.deliver" }

// InsertOpts puts deliveries on the webhook queue, one job per delivery.
func (DeliveryArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueWebhooks, MaxAttempts: maxAttempts, UniqueOpts: jobs.Pending}
}

// MailArgs is the job that sends one notification email.
type MailArgs struct {
	ID string `json:"mail"`
}

// Kind names the job.
func (MailArgs) Kind() string { return "mail.notify" }

// InsertOpts puts notification mail on the mail queue.
func (MailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueMail, MaxAttempts: mailAttempts, UniqueOpts: jobs.Pending}
}

// sweepArgs is the periodic job that queues what has no job: deliveries
// and mail recorded before the job system, or while no mail server was
// configured.
type sweepArgs struct{}

func (sweepArgs) Kind() string { return "outbox.sweep" }

func (sweepArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: jobs.QueueRoutine, UniqueOpts: jobs.Pending}
}

// RetryWait is the wait after a failed webhook call before attempt n+1:
// 10 s, 20 s, 40 s … at most an hour.
func RetryWait(n int) time.Duration { return jobs.Backoff(10*time.Second, time.Hour, n) }

// MailRetryWait is the wait after failed attempt n to send an email: 30 s,
// 1 min, 2 min … at most an hour.
func MailRetryWait(n int) time.Duration { return jobs.Backoff(30*time.Second, time.Hour, n) }

// Register gives the job system the outbox's workers.
func (s *Service) Register(js *jobs.Service) {
	jobs.Handle(js, &deliveryWorker{s: s})
	jobs.Handle(js, &mailWorker{s: s})
	jobs.Handle(js, river.WorkFunc(func(ctx context.Context, _ *river.Job[sweepArgs]) error { return s.sweep(ctx) }))
	js.Every(10*time.Minute, sweepArgs{}, true)
	// An operator's cancel cancels what the job was to send, so that no
	// sweep queues it again; run again, it is pending again.
	jobs.OnCancel(js, func(ctx context.Context, a DeliveryArgs) error {
		return s.exec(ctx, `UPDATE webhook_deliveries SET state = 'cancelled', next_at = NULL WHERE id = $1 AND state = 'pending'`, a.ID)
	})
	jobs.OnRetry(js, func(ctx context.Context, a DeliveryArgs) error {
		return s.exec(ctx, `UPDATE webhook_deliveries SET state = 'pending' WHERE id = $1 AND state IN ('cancelled', 'failed')`, a.ID)
	})
	jobs.OnCancel(js, func(ctx context.Context, a MailArgs) error {
		return s.exec(ctx, `UPDATE mail_outbox SET state = 'cancelled', next_at = NULL WHERE id = $1 AND state = 'pending'`, a.ID)
	})
	jobs.OnRetry(js, func(ctx context.Context, a MailArgs) error {
		return s.exec(ctx, `UPDATE mail_outbox SET state = 'pending' WHERE id = $1 AND state IN ('cancelled', 'failed')`, a.ID)
	})
}

// exec runs one statement in a transaction of its own.
func (s *Service) exec(ctx context.Context, q string, args ...any) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, q, args...)
		return err
	})
}

// ErrNoMailServer ends a mail job (the outbox's or a survey invitation's)
// that cannot send: the email stays queued, and is sent once cxloop runs
// with a mail server.
var ErrNoMailServer = errors.New("no mail server is configured (--smtp-addr): this attempt is cancelled; the email stays queued and is sent once one is")

type deliveryWorker struct {
	river.WorkerDefaults[DeliveryArgs]
	s *Service
}

// NextRetry is when the job system tries again, by its (the wall) clock.
func (w *deliveryWorker) NextRetry(j *river.Job[DeliveryArgs]) time.Time {
	return time.Now().Add(RetryWait(j.Attempt))
}

func (w *deliveryWorker) Work(ctx context.Context, j *river.Job[DeliveryArgs]) error {
	return w.s.deliver(ctx, j.Args.ID, j.Attempt, j.Attempt >= j.MaxAttempts)
}

// endpointSlots counts the calls in flight per webhook on this node.
type endpointSlots struct {
	mu   sync.Mutex
	busy map[string]int
}

func (e *endpointSlots) take(webhook string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.busy == nil {
		e.busy = map[string]int{}
	}
	if e.busy[webhook] >= perEndpoint {
		return false
	}
	e.busy[webhook]++
	return true
}

func (e *endpointSlots) give(webhook string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.busy[webhook]--; e.busy[webhook] <= 0 {
		delete(e.busy, webhook)
	}
}

// deliver makes one attempt to send a delivery and records its outcome: a
// 2xx answer delivers; anything else is an error, retried by the job
// system after RetryWait, and the last attempt's failure fails the
// delivery. A delivery no longer pending (delivered, cancelled) is not sent.
func (s *Service) deliver(ctx context.Context, id string, attempt int, last bool) error {
	var payload, event, state, webhook, url, secret string
	var active, deleted int64
	err := s.db.QueryRowContext(ctx, `SELECT d.payload, d.event, d.state, d.webhook_id, w.url, w.secret, w.active, w.deleted_at
		FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1`, id).
		Scan(&payload, &event, &state, &webhook, &url, &secret, &active, &deleted)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && state == "delivered") {
		return nil
	}
	if err != nil {
		return err
	}
	if active == 0 || deleted != 0 {
		if err := s.db.Tx(ctx, func(tx *store.Tx) error { return cancelPending(ctx, tx, webhook) }); err != nil {
			return err
		}
		return river.JobCancel(errors.New("not sent: its webhook is paused or removed"))
	}
	if state != "pending" {
		return river.JobCancel(fmt.Errorf("not sent: the delivery is %s", state))
	}
	if !s.slots.take(webhook) {
		// The endpoint already has its share of this node's workers.
		return river.JobSnooze(time.Second)
	}
	status, postErr := s.post(ctx, url, secret, id, event, []byte(payload))
	s.slots.give(webhook)
	now := s.now()
	state, msg := "delivered", ""
	var next, at any = nil, now.UnixMilli()
	if postErr != nil {
		msg, at = postErr.Error(), nil
		state, next = "pending", now.Add(RetryWait(attempt)).UnixMilli()
		if last {
			state, next = "failed", nil
		}
	}
	// The job's own context may have ended with the call: the outcome is
	// recorded all the same.
	ctx = context.WithoutCancel(ctx)
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		// A delivery cancelled while it was being sent stays cancelled
		// unless it arrived. next_at shows when the job system tries again.
		_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = CASE WHEN state = 'cancelled' AND $1 <> 'delivered' THEN 'cancelled' ELSE $1 END,
			attempts = attempts + 1, next_at = CASE WHEN state = 'cancelled' AND $1 <> 'delivered' THEN NULL ELSE CAST($2 AS BIGINT) END, last_status = $3, last_error = $4,
			delivered_at = $5 WHERE id = $6`, state, next, status, msg, at, id)
		return err
	})
	if err != nil {
		return err
	}
	return postErr
}

type mailWorker struct {
	river.WorkerDefaults[MailArgs]
	s *Service
}

// NextRetry is when the job system tries again, by its (the wall) clock.
func (w *mailWorker) NextRetry(j *river.Job[MailArgs]) time.Time {
	return time.Now().Add(MailRetryWait(j.Attempt))
}

func (w *mailWorker) Work(ctx context.Context, j *river.Job[MailArgs]) error {
	return w.s.sendMail(ctx, j.Args.ID, j.Attempt, j.Attempt >= j.MaxAttempts)
}

// sendMail makes one attempt to send a notification email and records its
// outcome. Without a mail server it stays pending, to be sent once one is
// configured.
func (s *Service) sendMail(ctx context.Context, id string, attempt int, last bool) error {
	if s.mail == nil {
		return river.JobCancel(ErrNoMailServer)
	}
	var to, subject, body, state string
	err := s.db.QueryRowContext(ctx, `SELECT recipient, subject, body, state FROM mail_outbox WHERE id = $1`, id).Scan(&to, &subject, &body, &state)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && state == "delivered") {
		return nil
	}
	if err != nil {
		return err
	}
	if state != "pending" {
		return river.JobCancel(fmt.Errorf("not sent: the email is %s", state))
	}
	html := "<p>" + strings.ReplaceAll(escapeHTML(body), "\n", "<br>") + "</p>"
	sendErr := s.mail.Send(ctx, to, subject, body, html, id)
	now := s.now()
	state, msg := "delivered", ""
	var next, at any = nil, now.UnixMilli()
	if sendErr != nil {
		state, msg, at = "pending", sendErr.Error(), nil
		next = now.Add(MailRetryWait(attempt)).UnixMilli()
		if last {
			state, next = "failed", nil
		}
	}
	ctx = context.WithoutCancel(ctx)
	if err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE mail_outbox SET state = $1, attempts = attempts + 1, next_at = $2, last_error = $3, delivered_at = $4 WHERE id = $5`,
			state, next, msg, at, id)
		return err
	}); err != nil {
		return err
	}
	if sendErr != nil {
		return fmt.Errorf("mail %s: %w", id, sendErr)
	}
	return nil
}

// sweep queues a job for every pending delivery and email that is due and
// has none waiting (a job like it already queued is not queued twice).
func (s *Service) sweep(ctx context.Context) error {
	now := s.now().UnixMilli()
	var list []jobs.Many
	for _, q := range []struct {
		sql  string
		args func(string) river.JobArgs
		skip bool
	}{
		{`SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_at <= $1 ORDER BY next_at LIMIT 5000`, func(id string) river.JobArgs { return DeliveryArgs{ID: id} }, false},
		{`SELECT id FROM mail_outbox WHERE state = 'pending' AND next_at <= $1 ORDER BY next_at LIMIT 5000`, func(id string) river.JobArgs { return MailArgs{ID: id} }, s.mail == nil},
	} {
		if q.skip {
			continue
		}
		ids, err := s.db.Strings(ctx, q.sql, now)
		if err != nil {
			return err
		}
		for _, id := range ids {
			list = append(list, jobs.Many{Args: q.args(id)})
		}
	}
	return s.db.Tx(ctx, func(tx *store.Tx) error { return jobs.InsertManyTx(ctx, tx, list) })
}
