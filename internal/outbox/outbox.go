// Package outbox carries actions out of cxloop: notification mail and
// webhook deliveries, recorded and queued as jobs (package jobs) in the same
// transaction as the decision that makes them, and sent by the job system's
// workers.
// Webhook calls carry an HMAC-SHA256 signature, are retried with
// exponential backoff and logged; delivery is at least once, and the
// X-Cxloop-Delivery header is the receiver's idempotency key.
//
// It imports eventlog, jobs, store, fault, netguard, httpio and audit only.
package outbox

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/jobs"
	"github.com/cxloop/cxloop/internal/netguard"
	"github.com/cxloop/cxloop/internal/store"
)

// maxAttempts is how many times a delivery is tried before it is failed.
const maxAttempts = 10

// Webhook is an endpoint that receives the events it names.
type Webhook struct {
	ID        string       `json:"id"`
	URL       string       `json:"url"`
	Events    []string     `json:"events"`
	Secret    string       `json:"secret,omitempty"`
	Active    bool         `json:"active"`
	CreatedAt store.Millis `json:"createdAt"`
}

// Delivery is one attempt series to send one event to one webhook.
type Delivery struct {
	ID          string        `json:"id"`
	Webhook     string        `json:"webhook"`
	MessageID   string        `json:"messageId"`
	Event       string        `json:"event"`
	State       string        `json:"state"` // pending, delivered, failed, cancelled (its webhook was paused or removed)
	Attempts    int           `json:"attempts"`
	NextAt      *store.Millis `json:"nextAt,omitempty"`
	LastStatus  int           `json:"lastStatus"`
	LastError   string        `json:"lastError,omitempty"`
	CreatedAt   store.Millis  `json:"createdAt"`
	DeliveredAt *store.Millis `json:"deliveredAt,omitempty"`
}

// Service stores webhooks and delivers their queued events and mail.
type Service struct {
	slots        endpointSlots
	db           *store.DB
	client       *http.Client
	allowPrivate bool
	mail         *Mailer
	now          func() time.Time
	logger       *slog.Logger
}

// NewService returns the outbox; mail may be nil (no notification mail is
// sent); now is the clock (nil: time.Now).
func NewService(db *store.DB, mail *Mailer, now func() time.Time, logger *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, client: netguard.Client(10*time.Second, false), mail: mail, now: now, logger: logger}
}

// AllowPrivateTargets lets webhooks reach internal addresses (loopback,
// private networks, link-local): for on-premises use, where the receiving
// system is inside. By default they are refused at creation and at every
// connection, redirects included.
func (s *Service) AllowPrivateTargets(allow bool) {
	s.allowPrivate = allow
	s.client = netguard.Client(10*time.Second, allow)
}

// CreateWebhook registers an endpoint for event names ("*" for every event)
// and returns it with its signing secret.
func (s *Service) CreateWebhook(ctx context.Context, w *Webhook) (*Webhook, error) {
	if err := s.checkURL(ctx, w.URL); err != nil {
		return nil, err
	}
	if err := checkEvents(w.Events); err != nil {
		return nil, err
	}
	w.ID, w.Secret, w.Active, w.CreatedAt = store.NewID("wh"), "whsec_"+store.Secret(24), true, store.Millis(s.now().UnixMilli())
	events, _ := json.Marshal(w.Events)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webhooks (id, url, events, secret, active, created_at) VALUES ($1, $2, $3, $4, 1, $5)`,
			w.ID, w.URL, string(events), w.Secret, int64(w.CreatedAt))
		return err
	})
	return w, err
}

// checkURL admits an http(s) URL that does not name an internal address
// (unless private targets are allowed).
func (s *Service) checkURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fault.Field("url", "the webhook URL is an http or https URL")
	}
	if !s.allowPrivate {
		if err := netguard.CheckURL(ctx, raw); err != nil {
			return fault.Field("url", "webhooks may not call internal addresses (%v); start cxloop with --allow-private-targets to allow them on premises", err)
		}
	}
	return nil
}

func checkEvents(events []string) error {
	if len(events) == 0 {
		return fault.Field("events", "name the events to send, e.g. [\"Case Opened\"] (\"*\" for all)")
	}
	for i, e := range events {
		if strings.TrimSpace(e) == "" {
			return fault.Field(fmt.Sprintf("events[%d]", i), "an event name is empty")
		}
	}
	return nil
}

// WebhookChange is an edit of a webhook: the fields sent are changed.
type WebhookChange struct {
	URL    *string   `json:"url"`
	Events *[]string `json:"events"`
	Active *bool     `json:"active"`
}

// Webhook returns a webhook (without its secret); a removed one is not found.
func (s *Service) Webhook(ctx context.Context, id string) (*Webhook, error) {
	return webhookByID(ctx, s.db, id)
}

func webhookByID(ctx context.Context, q eventlog.Querier, id string) (*Webhook, error) {
	list, err := webhooks(ctx, q)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].ID == id {
			list[i].Secret = ""
			return &list[i], nil
		}
	}
	return nil, fault.New(fault.NotFound, "no webhook %q", id)
}

// UpdateWebhook changes a webhook's URL (checked as at creation), events or
// active flag and returns it before and after. Pausing it (active false)
// cancels its pending deliveries at once: they are not sent later, even when
// it is resumed.
func (s *Service) UpdateWebhook(ctx context.Context, id string, c WebhookChange) (before, after *Webhook, err error) {
	if c.URL == nil && c.Events == nil && c.Active == nil {
		return nil, nil, fault.Field("active", "send url, events or active (false pauses the webhook, true resumes it)")
	}
	if c.URL != nil {
		if err := s.checkURL(ctx, *c.URL); err != nil {
			return nil, nil, err
		}
	}
	if c.Events != nil {
		if err := checkEvents(*c.Events); err != nil {
			return nil, nil, err
		}
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if before, err = webhookByID(ctx, tx, id); err != nil {
			return err
		}
		next := *before
		if c.URL != nil {
			next.URL = *c.URL
		}
		if c.Events != nil {
			next.Events = *c.Events
		}
		if c.Active != nil {
			next.Active = *c.Active
		}
		events, _ := json.Marshal(next.Events)
		if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET url = $1, events = $2, active = $3 WHERE id = $4`, next.URL, string(events), boolInt(next.Active), id); err != nil {
			return err
		}
		if !next.Active {
			if err := cancelPending(ctx, tx, id); err != nil {
				return err
			}
		}
		after = &next
		return nil
	})
	return before, after, err
}

// DeleteWebhook removes a webhook: it receives nothing more, its pending
// deliveries are cancelled, and its deliveries stay readable.
func (s *Service) DeleteWebhook(ctx context.Context, id string) (*Webhook, error) {
	var before *Webhook
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if before, err = webhookByID(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET active = 0, deleted_at = $1 WHERE id = $2`, s.now().UnixMilli(), id); err != nil {
			return err
		}
		return cancelPending(ctx, tx, id)
	})
	return before, err
}

func cancelPending(ctx context.Context, tx *store.Tx, webhook string) error {
	_, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = 'cancelled', next_at = NULL WHERE webhook_id = $1 AND state = 'pending'`, webhook)
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// DeliveryTarget is what a delivery sends where: its event and its
// webhook's URL ("" for an unknown delivery).
func (s *Service) DeliveryTarget(ctx context.Context, id string) (event, url string, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT d.event, w.url FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1`, id).Scan(&event, &url)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	return event, url, err
}

// WebhookExists tells whether a webhook of that id was ever created (a
// removed one included: rules that name it keep their meaning).
func WebhookExists(ctx context.Context, q eventlog.Querier, id string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhooks WHERE id = $1`, id).Scan(&n)
	return n > 0, err
}

// Webhooks lists the webhooks (without their secrets).
func (s *Service) Webhooks(ctx context.Context) ([]Webhook, error) {
	list, err := webhooks(ctx, s.db)
	for i := range list {
		list[i].Secret = ""
	}
	return list, err
}

func webhooks(ctx context.Context, q eventlog.Querier) ([]Webhook, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, url, events, secret, active, created_at FROM webhooks WHERE deleted_at = 0 ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Webhook{}
	for rows.Next() {
		var w Webhook
		var events string
		var active int
		if err := rows.Scan(&w.ID, &w.URL, &events, &w.Secret, &active, &w.CreatedAt); err != nil {
			return nil, err
		}
		w.Active = active == 1
		_ = json.Unmarshal([]byte(events), &w.Events)
		out = append(out, w)
	}
	return out, rows.Err()
}

// Enqueue queues e for the webhook inside tx (the caller's decision's
// transaction), due now (the caller's clock). The same event is queued for
// a webhook once.
func Enqueue(ctx context.Context, tx *store.Tx, webhook string, e *eventlog.Event, now time.Time) error {
	payload, err := Payload(e)
	if err != nil {
		return err
	}
	id := "dlv_" + hex.EncodeToString(digest(webhook + "\x00" + e.MessageID)[:10])
	// A paused or removed webhook's delivery is recorded, cancelled.
	var live int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhooks WHERE id = $1 AND active = 1 AND deleted_at = 0`, webhook).Scan(&live); err != nil {
		return err
	}
	state, next := "pending", any(now.UnixMilli())
	if live == 0 {
		state, next = "cancelled", nil
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, webhook_id, message_id, event, payload, state, attempts, next_at, last_status, last_error, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, 0, $7, 0, '', $8) ON CONFLICT (id) DO NOTHING`, id, webhook, e.MessageID, e.Event, string(payload), state, next, now.UnixMilli())
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 || state != "pending" {
		return nil
	}
	_, err = jobs.InsertTx(ctx, tx, DeliveryArgs{ID: id}, nil)
	return err
}

func digest(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// Payload is the JSON a webhook receives for an event: the stored message
// with its log position.
func Payload(e *eventlog.Event) ([]byte, error) {
	return json.Marshal(map[string]any{"seq": e.Seq, "messageId": e.MessageID, "type": e.Type, "event": e.Event,
		"userId": e.UserID, "anonymousId": e.AnonymousID, "channel": e.Channel, "message": e.Body})
}

// Sign is the X-Cxloop-Signature header value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" with the secret>".
func Sign(secret string, t time.Time, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	ts := strconv.FormatInt(t.Unix(), 10)
	m.Write([]byte(ts + "."))
	m.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// Consumer queues every event a webhook subscribes to.
type Consumer struct {
	// Now is the clock deliveries are queued by (time.Now when nil).
	Now func() time.Time
}

// Name is the consumer's checkpoint key.
func (Consumer) Name() string { return "webhooks" }

// Reset keeps the deliveries: they are actions already queued or taken.
func (Consumer) Reset(context.Context, *store.Tx) error { return nil }

// Events names what the consumer reads: the events webhooks subscribe to
// (every event when one takes "*" or a message type).
func (Consumer) Events(ctx context.Context, tx *store.Tx) ([]string, bool, error) {
	hooks, err := webhooks(ctx, tx)
	if err != nil {
		return nil, false, err
	}
	var names []string
	for _, w := range hooks {
		if !w.Active {
			continue
		}
		for _, e := range w.Events {
			if e == "*" || eventlog.IsType(e) {
				return nil, true, nil
			}
			names = append(names, e)
		}
	}
	return names, false, nil
}

// Apply queues the batch's events for the webhooks that subscribe to them.
func (c Consumer) Apply(ctx context.Context, tx *store.Tx, events []eventlog.Event) error {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	hooks, err := webhooks(ctx, tx)
	if err != nil || len(hooks) == 0 {
		return err
	}
	for i := range events {
		e := &events[i]
		for _, w := range hooks {
			if !w.Active || e.ReceivedAt < int64(w.CreatedAt) {
				continue
			}
			if slices.Contains(w.Events, e.Event) || slices.Contains(w.Events, "*") || (e.Event == "" && slices.Contains(w.Events, e.Type)) {
				if err := Enqueue(ctx, tx, w.ID, e, now()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *Service) post(ctx context.Context, url, secret, id, event string, body []byte) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "cxloop-webhooks")
	req.Header.Set("X-Cxloop-Delivery", id)
	req.Header.Set("X-Cxloop-Event", event)
	req.Header.Set("X-Cxloop-Signature", Sign(secret, s.now(), body))
	resp, err := s.client.Do(req)
	if errors.Is(err, context.DeadlineExceeded) {
		return 0, errors.New("no answer within 10 s")
	}
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("the endpoint answered %s", resp.Status)
	}
	return resp.StatusCode, nil
}

// Deliveries lists a webhook's deliveries, newest first (a removed
// webhook's too); 404 for an id no webhook ever had.
func (s *Service) Deliveries(ctx context.Context, webhook string, limit int) ([]Delivery, error) {
	if ok, err := WebhookExists(ctx, s.db, webhook); err != nil || !ok {
		if err == nil {
			err = fault.New(fault.NotFound, "no webhook %q", webhook)
		}
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, webhook_id, message_id, event, state, attempts, next_at, last_status, last_error, created_at, delivered_at
		FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY created_at DESC, id LIMIT $2`, webhook, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Delivery{}
	for rows.Next() {
		var d Delivery
		var next, delivered sql.NullInt64
		if err := rows.Scan(&d.ID, &d.Webhook, &d.MessageID, &d.Event, &d.State, &d.Attempts, &next, &d.LastStatus, &d.LastError, &d.CreatedAt, &delivered); err != nil {
			return nil, err
		}
		if next.Valid {
			m := store.Millis(next.Int64)
			d.NextAt = &m
		}
		if delivered.Valid {
			m := store.Millis(delivered.Int64)
			d.DeliveredAt = &m
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Redeliver queues a delivery again now, whatever its state, unless its
// webhook is paused or removed.
func (s *Service) Redeliver(ctx context.Context, webhook, id string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		var live int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM webhooks WHERE id = $1 AND active = 1 AND deleted_at = 0`, webhook).Scan(&live); err != nil {
			return err
		}
		if live == 0 {
			return fault.New(fault.Conflict, "webhook %q is paused or removed: resume it first", webhook)
		}
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET state = 'pending', next_at = $1 WHERE id = $2 AND webhook_id = $3`, s.now().UnixMilli(), id, webhook)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.New(fault.NotFound, "no delivery %q of webhook %q", id, webhook)
		}
		// A delivery waiting for its next attempt is tried now.
		in, err := jobs.InsertTx(ctx, tx, DeliveryArgs{ID: id}, nil)
		if err != nil || !in.Duplicate {
			return err
		}
		return jobs.RunNowTx(ctx, tx, in.ID)
	})
}
