// Package cases makes every signal an owned action: teams, rules that turn
// events and scores into cases (or webhook calls), cases with SLAs, owners
// and a timeline, informal complaints from social media and review sites,
// and the projection of orders and returns behind return rates.
//
// Every change to a case is an event in the log. The package reads profiles
// through the profile package, analyses text with the text package, reads
// durations with the vocab package, scores answers and reads scores and the
// complaint-handling answers through the survey package, and queues webhook
// calls through the outbox package; it must never import the api, web or app
// packages.
package cases

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/principal"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/survey"
)

// Case kinds.
const (
	KindComplaint = "complaint"
	KindDetractor = "detractor"
	KindReturn    = "return"
	KindQuestion  = "question"
)

// Case statuses, in their usual order.
const (
	Open     = "open"
	Pending  = "pending"
	Resolved = "resolved"
	Closed   = "closed"
)

// DefaultSLA is a case's resolution time when its rule names none.
const DefaultSLA = 72 * time.Hour

// Case is one owned piece of work about a customer.
type Case struct {
	ID          string `json:"id"`
	Customer    string `json:"customer"`
	UserID      string `json:"userId,omitempty"`
	AnonymousID string `json:"anonymousId,omitempty"`
	Kind        string `json:"kind"`
	Formal      bool   `json:"formal"`
	Channel     string `json:"channel"`
	Team        string `json:"team"`
	TeamName    string `json:"teamName,omitempty"`
	Assignee    string `json:"assignee"`
	Priority    string `json:"priority"`
	Status      string `json:"status"`
	Subject     string `json:"subject"`
	Body        string `json:"body,omitempty"`
	OrderID     string `json:"orderId,omitempty"`
	// Origin is the messageId of the event that opened the case (an
	// answer, a complaint, a post, an order), when one did.
	Origin           string        `json:"originMessage,omitempty"`
	Rule             string        `json:"rule,omitempty"`
	DueAt            store.Millis  `json:"dueAt"`
	FirstResponseDue store.Millis  `json:"firstResponseDue"`
	FirstResponseAt  *store.Millis `json:"firstResponseAt,omitempty"`
	ResolvedAt       *store.Millis `json:"resolvedAt,omitempty"`
	EscalatedAt      *store.Millis `json:"escalatedAt,omitempty"`
	Breached         bool          `json:"breached"`
	// Reopened counts the times the case was reopened after a resolution.
	Reopened  int          `json:"reopened"`
	CreatedAt store.Millis `json:"createdAt"`
	UpdatedAt store.Millis `json:"updatedAt"`
	Notes     []Note       `json:"notes,omitempty"`
}

// Note is a remark on a case.
type Note struct {
	ID     string       `json:"id"`
	Author string       `json:"author"`
	Body   string       `json:"body"`
	At     store.Millis `json:"at"`
}

// Service owns teams, rules and cases.
type Service struct {
	db        *store.DB
	log       *eventlog.Log
	profiles  *profile.Service
	surveys   *survey.Service
	priority  func(ctx context.Context, ref string) (bool, error)
	rulesRead func(ctx context.Context) error
	// alertsRead waits for the projections alerts read to be current.
	alertsRead func(ctx context.Context) error
	now        func() time.Time
	logger     *slog.Logger
	alertState alertClock
	// assignable lists who may be given a team's cases.
	assignable func(ctx context.Context, team ...string) ([]string, error)
}

// SetRulesRead gives the wait until the rules have read what the log holds
// now (the cases consumer caught up); nil, or an error from it, means no
// rules run in this process.
func (s *Service) SetRulesRead(fn func(ctx context.Context) error) { s.rulesRead = fn }

// Fired counts the events, by messageId, on which at least one rule fired,
// once the rules have read what the log holds now. ok is false when no
// rules run in this process to read them.
func (s *Service) Fired(ctx context.Context, messageIDs []string) (n int, ok bool, err error) {
	if s.rulesRead == nil || s.rulesRead(ctx) != nil {
		return 0, false, nil
	}
	for len(messageIDs) > 0 {
		chunk := messageIDs[:min(len(messageIDs), 500)]
		messageIDs = messageIDs[len(chunk):]
		args := make([]any, len(chunk))
		marks := make([]string, len(chunk))
		for i, id := range chunk {
			args[i], marks[i] = id, fmt.Sprintf("$%d", i+1)
		}
		var c int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(DISTINCT message_id) FROM rule_firings WHERE message_id IN (`+strings.Join(marks, ", ")+`)`,
			args...).Scan(&c); err != nil {
			return 0, false, err
		}
		n += c
	}
	return n, true, nil
}

// SetPriorityService tells the cases which customers are owed priority
// service (a perk of their loyalty tier): their cases open a priority
// higher and with half the resolution time.
func (s *Service) SetPriorityService(fn func(ctx context.Context, ref string) (bool, error)) {
	s.priority = fn
}

// NewService returns the cases service; now is the clock (nil: time.Now).
func NewService(db *store.DB, log *eventlog.Log, profiles *profile.Service, surveys *survey.Service, now func() time.Time, logger *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, log: log, profiles: profiles, surveys: surveys, now: now, logger: logger}
}

// ResolvedMessage is the messageId of a case's Case Resolved event.
func ResolvedMessage(caseID string) string { return "case-resolved-" + caseID }

// ResolutionMessage is the messageId of a case's resolution after it was
// reopened n times: ResolvedMessage for the first, then "-r2", "-r3" ….
func ResolutionMessage(caseID string, reopened int) string {
	if reopened == 0 {
		return ResolvedMessage(caseID)
	}
	return ResolvedMessage(caseID) + "-r" + strconv.Itoa(reopened+1)
}

// caseOfResolution is the case and resolution number a ResolutionMessage names.
func caseOfResolution(msg string) (id string, n int, ok bool) {
	rest, ok := strings.CutPrefix(msg, "case-resolved-")
	if !ok {
		return "", 0, false
	}
	if i := strings.LastIndex(rest, "-r"); i > 0 {
		if k, err := strconv.Atoi(rest[i+2:]); err == nil && k > 1 {
			return rest[:i], k, true
		}
	}
	return rest, 1, true
}

const caseCols = `SELECT c.id, c.customer_id, c.user_id, c.anonymous_id, c.kind, c.formal, c.channel, c.team_id, COALESCE(t.name, ''), c.assignee,
	c.priority, c.status, c.subject, c.body, c.order_id, c.rule_id, c.origin_message, c.due_at, c.first_response_due, c.first_response_at, c.resolved_at,
	c.escalated_at, c.created_at, c.updated_at, c.reopened FROM cases c LEFT JOIN teams t ON t.id = c.team_id`

func scanCase(r interface{ Scan(...any) error }, now int64) (*Case, error) {
	var c Case
	var formal int
	var first, resolved, escalated sql.NullInt64
	err := r.Scan(&c.ID, &c.Customer, &c.UserID, &c.AnonymousID, &c.Kind, &formal, &c.Channel, &c.Team, &c.TeamName, &c.Assignee,
		&c.Priority, &c.Status, &c.Subject, &c.Body, &c.OrderID, &c.Rule, &c.Origin, &c.DueAt, &c.FirstResponseDue, &first, &resolved,
		&escalated, &c.CreatedAt, &c.UpdatedAt, &c.Reopened)
	if err != nil {
		return nil, err
	}
	c.Formal = formal == 1
	c.FirstResponseAt, c.ResolvedAt, c.EscalatedAt = ms(first), ms(resolved), ms(escalated)
	open := c.Status == Open || c.Status == Pending
	c.Breached = (open && int64(c.DueAt) < now) || (c.ResolvedAt != nil && *c.ResolvedAt > c.DueAt)
	return &c, nil
}

func ms(n sql.NullInt64) *store.Millis {
	if !n.Valid {
		return nil
	}
	m := store.Millis(n.Int64)
	return &m
}

// Get returns a case with its notes.
func (s *Service) Get(ctx context.Context, id string) (*Case, error) {
	c, err := scanCase(s.db.QueryRowContext(ctx, caseCols+` WHERE c.id = $1`, id), s.now().UnixMilli())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.New(fault.NotFound, "no case %q", id)
	}
	if err != nil {
		return nil, err
	}
	if err := s.fill(ctx, []*Case{c}); err != nil {
		return nil, err
	}
	rows, err := s.db.QueryContext(ctx, `SELECT id, author, body, at FROM case_notes WHERE case_id = $1 ORDER BY at, id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	c.Notes = []Note{}
	for rows.Next() {
		var n Note
		if err := rows.Scan(&n.ID, &n.Author, &n.Body, &n.At); err != nil {
			return nil, err
		}
		c.Notes = append(c.Notes, n)
	}
	return c, rows.Err()
}

// Filter selects cases.
type Filter struct {
	Team     string // a team id or name
	Status   string
	Kind     string
	Customer string   // any identity
	Teams    []string // when not empty, only these teams' cases (ids or names)
	Assignee string   // who the cases are assigned to
	// Unassigned: only cases assigned to nobody.
	Unassigned bool
	Priority   string
	Channel    string
	// CreatedFrom and CreatedTo (Unix ms, 0: open) keep cases opened in
	// [CreatedFrom, CreatedTo).
	CreatedFrom, CreatedTo int64
	Limit                  int
	Offset                 int
}

// List returns the cases the filter selects, the soonest due first.
func (s *Service) List(ctx context.Context, f Filter) ([]*Case, error) {
	out := []*Case{}
	err := s.Each(ctx, f, func(c *Case) error {
		out = append(out, c)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// eachChunk is how many cases Each reads at a time.
const eachChunk = 200

// Counts counts the cases the filter selects by status, whatever its
// Status says (the queue's tabs).
func (s *Service) Counts(ctx context.Context, f Filter) (map[string]int, error) {
	f.Status = ""
	out := map[string]int{Open: 0, Pending: 0, Resolved: 0, Closed: 0}
	where, args, none, err := s.conditions(ctx, f)
	if err != nil || none {
		return out, err
	}
	err = s.db.Each(ctx, `SELECT c.status, COUNT(*) FROM cases c LEFT JOIN teams t ON t.id = c.team_id WHERE `+strings.Join(where, " AND ")+` GROUP BY c.status`, args,
		func(r *sql.Rows) error {
			var st string
			var n int
			err := r.Scan(&st, &n)
			out[st] = n
			return err
		})
	return out, err
}

// TeamBacklog is one team's cases still to do (open or pending) and, of
// them, those past their due time (Breached).
type TeamBacklog struct {
	Team    string `json:"team"`
	Name    string `json:"name"`
	Open    int    `json:"open"`
	Overdue int    `json:"overdue"`
}

// Backlog counts, by team, the cases the filter selects (whatever its
// Status) that are open or pending, and those of them overdue now.
func (s *Service) Backlog(ctx context.Context, f Filter) ([]TeamBacklog, error) {
	f.Status = ""
	out := []TeamBacklog{}
	where, args, none, err := s.conditions(ctx, f)
	if err != nil || none {
		return out, err
	}
	args = append(args, s.now().UnixMilli())
	err = s.db.Each(ctx, `SELECT c.team_id, COALESCE(t.name, ''), COUNT(*), SUM(CASE WHEN c.due_at < $`+strconv.Itoa(len(args))+` THEN 1 ELSE 0 END)
		FROM cases c LEFT JOIN teams t ON t.id = c.team_id WHERE `+strings.Join(where, " AND ")+` AND c.status IN ('open', 'pending')
		GROUP BY c.team_id, t.name`, args, func(r *sql.Rows) error {
		var b TeamBacklog
		err := r.Scan(&b.Team, &b.Name, &b.Open, &b.Overdue)
		out = append(out, b)
		return err
	})
	return out, err
}

// conditions are the filter's SQL conditions on cases c joined with their
// teams t, and their arguments; none says the filter selects nothing.
func (s *Service) conditions(ctx context.Context, f Filter) (where []string, args []any, none bool, err error) {
	where = []string{"1 = 1"}
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.Team != "" {
		add("(c.team_id = ? OR t.name = ?)", f.Team)
		args = append(args, f.Team)
		where[len(where)-1] = fmt.Sprintf("(c.team_id = $%d OR t.name = $%d)", len(args)-1, len(args))
	}
	if len(f.Teams) > 0 {
		var ors []string
		for _, t := range f.Teams {
			args = append(args, t)
			ors = append(ors, fmt.Sprintf("c.team_id = $%d OR t.name = $%d", len(args), len(args)))
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	if f.Status != "" {
		switch f.Status {
		case Open, Pending, Resolved, Closed:
		default:
			return nil, nil, false, fault.Field("status", "status is open, pending, resolved or closed")
		}
		add("c.status = ?", f.Status)
	}
	if f.Kind != "" {
		add("c.kind = ?", f.Kind)
	}
	if f.Customer != "" {
		_, q, err := s.profiles.EventFilter(ctx, f.Customer)
		if err != nil {
			return nil, nil, false, err
		}
		var ors []string
		for _, u := range q.UserIDs {
			args = append(args, u)
			ors = append(ors, fmt.Sprintf("c.user_id = $%d", len(args)))
		}
		for _, a := range q.AnonymousIDs {
			args = append(args, a)
			ors = append(ors, fmt.Sprintf("(c.user_id = '' AND c.anonymous_id = $%d)", len(args)))
		}
		if len(ors) == 0 || len(ors) > 200 {
			return nil, nil, true, nil
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	if f.Assignee != "" {
		add("c.assignee = ?", f.Assignee)
	}
	if f.Unassigned {
		where = append(where, "c.assignee = ''")
	}
	if f.Priority != "" {
		add("c.priority = ?", f.Priority)
	}
	if f.Channel != "" {
		add("c.channel = ?", f.Channel)
	}
	if f.CreatedFrom != 0 {
		add("c.created_at >= ?", f.CreatedFrom)
	}
	if f.CreatedTo != 0 {
		add("c.created_at < ?", f.CreatedTo)
	}
	return where, args, false, nil
}

// Each calls fn with each case the filter selects, the soonest due first, as
// they are read (a few hundred at a time, with their customers named): the
// list and the CSV export are one definition. A Limit of 0 is 100.
func (s *Service) Each(ctx context.Context, f Filter, fn func(*Case) error) error {
	where, args, none, err := s.conditions(ctx, f)
	if err != nil || none {
		return err
	}
	if f.Limit == 0 {
		f.Limit = 100
	}
	// Pages of eachChunk, each after the last case of the one before (due
	// time, id: the list's order), so no connection is held while the
	// customers are named or the caller writes.
	left, offset := f.Limit, f.Offset
	var lastDue int64
	var lastID string
	now := s.now().UnixMilli()
	for first := true; left > 0; first = false {
		n := min(left, eachChunk)
		cond, pargs := where, args
		if !first {
			pargs = append(append([]any{}, args...), lastDue, lastID)
			cond = append(append([]string{}, where...), fmt.Sprintf("(c.due_at > $%d OR (c.due_at = $%d AND c.id > $%d))", len(pargs)-1, len(pargs)-1, len(pargs)))
		}
		pargs = append(pargs, n, offset)
		chunk, err := s.scanCases(ctx, caseCols+` WHERE `+strings.Join(cond, " AND ")+
			fmt.Sprintf(` ORDER BY c.due_at, c.id LIMIT $%d OFFSET $%d`, len(pargs)-1, len(pargs)), pargs, now)
		if err != nil {
			return err
		}
		if err := s.fill(ctx, chunk); err != nil {
			return err
		}
		for _, c := range chunk {
			if err := fn(c); err != nil {
				return err
			}
		}
		if len(chunk) < n {
			return nil
		}
		left, offset = left-n, 0
		lastDue, lastID = int64(chunk[len(chunk)-1].DueAt), chunk[len(chunk)-1].ID
	}
	return nil
}

func (s *Service) scanCases(ctx context.Context, query string, args []any, now int64) ([]*Case, error) {
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []*Case
	for rows.Next() {
		c, err := scanCase(rows, now)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// fill names each case's customer as the profiles know them now (a case
// may open before the profile consumer has read its event, and profiles merge).
func (s *Service) fill(ctx context.Context, list []*Case) error {
	events := make([]eventlog.Event, len(list))
	for i, c := range list {
		events[i] = eventlog.Event{UserID: c.UserID, AnonymousID: c.AnonymousID}
	}
	owners, err := s.profiles.Owners(ctx, events)
	if err != nil {
		return err
	}
	for i, c := range list {
		if cus := profile.OwnerOf(owners, events[i]); cus != "" {
			c.Customer = cus
		}
	}
	return nil
}

// Resolve marks a case resolved with an optional note, as who.
func (s *Service) Resolve(ctx context.Context, id, note, who string) (*Case, error) {
	return s.ResolveAt(ctx, id, note, who, time.Time{})
}

// ResolveAt is Resolve for work done elsewhere (another helpdesk, a call
// logged afterwards): the case is resolved, and its note written, at at —
// between the case's opening and now; a zero at is now.
func (s *Service) ResolveAt(ctx context.Context, id, note, who string, at time.Time) (*Case, error) {
	return s.changeAt(ctx, id, who, "Case Resolved", at, func(c *Case, now int64) ([]any, string, error) {
		if c.Status == Resolved || c.Status == Closed {
			return nil, "", fault.New(fault.Conflict, "the case is already %s", c.Status)
		}
		return []any{Resolved, c.Assignee, now}, note, nil
	})
}

// SetStatus moves a case between open and pending (waiting on the
// customer), reopens a resolved case, or closes a resolved one.
//
// A case reopened needs a reason (the note); it gets a new due time, as
// long after the reopening as its SLA gave it at the start, so that the
// resolution that met its SLA stays met and the work now has its own
// clock; the invitation its resolution triggered (the complaint-handling
// survey) is withdrawn, and its next resolution is an event of its own.
func (s *Service) SetStatus(ctx context.Context, id, status, note, who string) (*Case, error) {
	return s.change(ctx, id, who, "Case Status Changed", func(c *Case, now int64) ([]any, string, error) {
		if c.Status == Resolved && status == Open && strings.TrimSpace(note) == "" {
			return nil, "", fault.Field("note", "say why the case is reopened")
		}
		ok := map[string][]string{Open: {Pending}, Pending: {Open}, Resolved: {Open, Closed}}[c.Status]
		for _, to := range ok {
			if to == status {
				return []any{status, c.Assignee, nil}, note, nil
			}
		}
		if status != Open && status != Pending && status != Closed {
			return nil, "", fault.Field("status", "status is open, pending or closed (resolve a case with /resolve)")
		}
		return nil, "", fault.New(fault.Conflict, "a %s case cannot become %s", c.Status, status)
	})
}

// AddNote records a note; the first note from the team is the case's first response.
func (s *Service) AddNote(ctx context.Context, id, note, who string) (*Case, error) {
	if strings.TrimSpace(note) == "" {
		return nil, fault.Field("note", "the note is empty")
	}
	return s.change(ctx, id, who, "Case Note Added", func(c *Case, now int64) ([]any, string, error) {
		status := c.Status
		if status == Resolved || status == Closed {
			return nil, "", fault.New(fault.Conflict, "the case is %s", c.Status)
		}
		return []any{status, c.Assignee, nil}, note, nil
	})
}

// SetAssignable gives the service who may be given a team's cases (the
// team by id and name); without it any name is taken.
func (s *Service) SetAssignable(fn func(ctx context.Context, team ...string) ([]string, error)) {
	s.assignable = fn
}

// Assign gives a case to a person of its team: a user or token that
// works cases of that team ("" takes the case from whoever had it).
func (s *Service) Assign(ctx context.Context, id, assignee, who string) (*Case, error) {
	assignee = strings.TrimSpace(assignee)
	if assignee != "" && s.assignable != nil {
		c, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		people, err := s.assignable(ctx, c.Team, c.TeamName)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(people, assignee) {
			team := c.TeamName
			if team == "" {
				team = "no team"
			}
			if len(people) == 0 {
				return nil, fault.Field("assignee", "no one can work cases of %s yet: add a user or token for the team in Settings", team)
			}
			return nil, fault.Field("assignee", "%q does not work cases of %s; assign one of: %s", assignee, team, strings.Join(people, ", "))
		}
	}
	return s.change(ctx, id, who, "Case Assigned", func(c *Case, now int64) ([]any, string, error) {
		if c.Status == Resolved || c.Status == Closed {
			return nil, "", fault.New(fault.Conflict, "the case is %s", c.Status)
		}
		return []any{c.Status, assignee, nil}, "", nil
	})
}

// change applies one command to a case: the row, a note and the event, in one transaction.
func (s *Service) change(ctx context.Context, id, who, event string, apply func(c *Case, now int64) ([]any, string, error)) (*Case, error) {
	return s.changeAt(ctx, id, who, event, time.Time{}, apply)
}

// changeAt is change done at a time already past (zero: now): the note, the
// event and a resolution carry that time.
func (s *Service) changeAt(ctx context.Context, id, who, event string, at time.Time, apply func(c *Case, when int64) ([]any, string, error)) (*Case, error) {
	now := s.now()
	if at.IsZero() {
		at = now
	}
	nowMs, atMs := now.UnixMilli(), at.UnixMilli()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var locked string
		err := tx.QueryRowContext(ctx, `SELECT id FROM cases WHERE id = $1`+s.db.ForUpdate(), id).Scan(&locked)
		if errors.Is(err, sql.ErrNoRows) {
			return fault.New(fault.NotFound, "no case %q", id)
		}
		if err != nil {
			return err
		}
		c, err := scanCase(tx.QueryRowContext(ctx, caseCols+` WHERE c.id = $1`, id), nowMs)
		if errors.Is(err, sql.ErrNoRows) {
			return fault.New(fault.NotFound, "no case %q", id)
		}
		if err != nil {
			return err
		}
		if atMs > nowMs || atMs < int64(c.CreatedAt) {
			return fault.Field("resolvedAt", "resolvedAt must lie between the case's opening (%s) and now",
				time.UnixMilli(int64(c.CreatedAt)).UTC().Format(time.RFC3339))
		}
		set, note, err := apply(c, atMs)
		if err != nil {
			return err
		}
		status, assignee, resolvedAt := set[0], set[1], set[2]
		reopen := event == "Case Status Changed" && c.Status == Resolved && status == Open
		if reopen {
			due := nowMs + int64(c.DueAt) - int64(c.CreatedAt)
			if _, err := tx.ExecContext(ctx, `UPDATE cases SET due_at = $1, escalated_at = NULL, reopened = reopened + 1 WHERE id = $2`, due, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE cases SET status = $1, assignee = $2, resolved_at = CASE WHEN $1 IN ('open', 'pending') THEN NULL ELSE COALESCE($3, resolved_at) END, updated_at = $4,
			first_response_at = CASE WHEN first_response_at IS NULL AND $5 <> '' THEN $7 ELSE first_response_at END WHERE id = $6`,
			status, assignee, resolvedAt, nowMs, note, id, atMs); err != nil {
			return err
		}
		if note != "" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO case_notes (id, case_id, author, body, at) VALUES ($1, $2, $3, $4, $5)`,
				store.NewID("note"), id, who, note, atMs); err != nil {
				return err
			}
		}
		props := map[string]any{"case_id": c.ID, "kind": c.Kind, "team": c.TeamName, "status": status, "by": who}
		if note != "" {
			props["note"] = note
		}
		if a, _ := assignee.(string); a != "" {
			props["assignee"] = a
		}
		if reopen {
			props["reopened"] = true
			props["resolution_withdrawn"] = ResolutionMessage(c.ID, c.Reopened)
		}
		if event == "Case Resolved" {
			props["sla_breached"] = atMs > int64(c.DueAt)
			props["hours_to_resolve"] = float64(atMs-int64(c.CreatedAt)) / float64(time.Hour/time.Millisecond)
		}
		msgID := store.NewID("msg")
		if event == "Case Resolved" {
			// A case is resolved once: the id names the case, so that what the
			// resolution triggers (the handling survey) leads back to it.
			msgID = ResolutionMessage(c.ID, c.Reopened)
		}
		ev, err := eventlog.ActionArrived(event, msgID, c.UserID, c.AnonymousID, "server", at, eventlog.Arrival{At: now}, props)
		if err != nil {
			return err
		}
		if c.UserID == "" && c.AnonymousID == "" {
			return nil
		}
		return s.log.AppendTx(ctx, tx, []eventlog.Event{ev})
	})
	if err != nil {
		return nil, err
	}
	s.log.Notify()
	return s.Get(ctx, id)
}

// Allowed returns the case if p may work it: an owner or agent limited to
// teams sees only those teams' cases.
func (s *Service) Allowed(ctx context.Context, p principal.Principal, id string) (*Case, error) {
	c, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if !p.InTeam(c.Team, c.TeamName) {
		return nil, fault.New(fault.Forbidden, "case %s belongs to team %q, which is not yours", c.ID, c.TeamName)
	}
	return c, nil
}

// Scope limits a filter to what p may see.
func Scope(f Filter, p principal.Principal) Filter {
	if p.Scoped() {
		f.Teams = p.Teams
	}
	return f
}
