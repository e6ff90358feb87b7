package survey

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/jobs"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// decideBatch is how many due invitations one transaction decides.
const decideBatch = 2000

// dispatchLock keeps one node at a time deciding invitations.
const dispatchLock = 0x73757276 // "surv"

// Dispatch makes every decision that is due now: periodic runs, invitations
// whose time has come, reminders and expiry. It returns how many
// invitations it decided.
func (s *Service) Dispatch(ctx context.Context) (int, error) {
	s.dispMu.Lock()
	defer s.dispMu.Unlock()
	if _, err := s.runPeriodic(ctx); err != nil {
		return 0, fmt.Errorf("periodic surveys: %w", err)
	}
	total := 0
	var after dueCursor
	for {
		n, err := s.decide(ctx, nil, false, &after)
		total += n
		if err != nil {
			return total, err
		}
		if n < decideBatch {
			break
		}
	}
	if err := s.remind(ctx); err != nil {
		return total, fmt.Errorf("reminders: %w", err)
	}
	now := s.now().UnixMilli()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET status = 'expired', next_reminder_at = NULL
			WHERE status IN ('sent', 'started') AND expires_at < $1`, now)
		return err
	})
	return total, err
}

// dueCursor is the (due_at, id) of the last invitation a run decided.
type dueCursor struct {
	due int64
	id  string
	set bool
}

// due is a scheduled invitation being decided.
type due struct {
	id, survey, rhythm, wave, customer, user, anon string
	triggerSeq, due                                int64
	triggerEvent, channel, order, shop             string
}

// decide settles up to decideBatch due invitations (or exactly the ids
// given): each is sent or skipped with a reason, and recorded as an event.
// With link, a sent invitation is a link the caller delivers, never an email.
// after, when given, is where the previous batch of the same run ended: the
// next batch starts there rather than at the first due row (on PostgreSQL,
// the index entries of rows just decided stay until vacuumed, and walking
// them again each batch would grow with the run).
func (s *Service) decide(ctx context.Context, ids []string, link bool, after *dueCursor) (int, error) {
	now := s.now()
	nowMs := now.UnixMilli()
	profileSeq, err := s.profilesRead(ctx)
	if err != nil {
		return 0, err
	}
	policy, err := s.Policy(ctx)
	if err != nil {
		return 0, err
	}
	decided := 0
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.db.Lock(ctx, tx, dispatchLock); err != nil {
			return err
		}
		cur := dueCursor{due: -1 << 62}
		if after != nil && after.set {
			cur = *after
		}
		list, err := dueInvitations(ctx, tx, ids, nowMs, profileSeq, cur)
		if err != nil || len(list) == 0 {
			return err
		}
		decided = len(list)
		if after != nil {
			last := list[len(list)-1]
			*after = dueCursor{due: last.due, id: last.id, set: true}
		}
		f, err := s.facts(ctx, tx, list, policy, nowMs)
		if err != nil {
			return err
		}
		b := &decisionBatch{s: s, facts: f, policy: policy, link: link, now: now}
		for _, d := range list {
			if err := b.decide(d); err != nil {
				return err
			}
		}
		return b.save(ctx, tx)
	})
	if err != nil {
		return 0, err
	}
	if decided > 0 {
		s.log.Notify()
	}
	return decided, nil
}

// profilesRead is how far the customer profiles have read the event log:
// an invitation is decided only once its trigger is in the profiles. Without
// profiles to wait for, every invitation is ready.
func (s *Service) profilesRead(ctx context.Context) (int64, error) {
	if s.cfg.ProfileSeq == nil {
		return int64(1 << 62), nil
	}
	return s.cfg.ProfileSeq(ctx)
}

// decisionBatch is one batch of due invitations being decided: what is
// known to decide them, and the events, invitation updates and emails the
// decisions make.
type decisionBatch struct {
	s      *Service
	facts  *decisionFacts
	policy ContactPolicy
	link   bool
	now    time.Time

	events  []eventlog.Event
	updates [][]any
	mails   []jobs.Many
}

// decide sends or skips one due invitation: skipped with the reason the
// contact policy or the customer's contact details give, or sent by email
// or as a link. Either way it is recorded as an event on the customer, when
// the customer is known by an id.
func (b *decisionBatch) decide(d *due) error {
	nowMs := b.now.UnixMilli()
	sv := b.facts.surveys[d.survey]
	ct, known := b.facts.contacts[d.customer]
	user, anon := d.user, d.anon
	if known {
		if ct.UserID != "" || ct.AnonymousID != "" {
			user, anon = ct.UserID, ct.AnonymousID
		}
	}
	reason, scope := b.facts.reason(d, sv, ct, known, b.policy, nowMs)
	delivery := ""
	if reason == "" {
		delivery, reason = b.s.deliveryOf(sv, ct, b.link)
	}
	props := decisionProps(d, sv)
	name, channel := "Survey Invited", "web"
	if reason != "" {
		name = "Survey Invitation Skipped"
		props["reason"] = reason
		if scope != "" {
			props["scope"] = scope
		}
		b.updates = append(b.updates, []any{Skipped, reason, ct.ID, user, anon, "", ct.Locale, "", nil, nil, nil, "", nil, d.id})
	} else {
		props["delivery"] = delivery
		expires := nowMs + time.Duration(sv.Expires).Milliseconds()
		var remindAt, mailAt any
		mail := ""
		if delivery == "email" {
			channel = "email"
			mail, mailAt, remindAt = b.queueMail(d, sv)
		}
		b.updates = append(b.updates, []any{Sent, "", ct.ID, user, anon, ct.Email, ct.Locale, delivery, nowMs, expires, remindAt, mail, mailAt, d.id})
		b.facts.history[ct.ID] = append(b.facts.history[ct.ID], contact{survey: sv.ID, rhythm: sv.Rhythm, at: nowMs})
	}
	if user == "" && anon == "" {
		return nil
	}
	ev, err := eventlog.Action(name, derivedID("msg", d.id, name), user, anon, channel, b.now, props)
	if err != nil {
		return err
	}
	b.events = append(b.events, ev)
	return nil
}

// queueMail queues the email of an invitation sent by email, and returns
// its mail status, when it was queued, and when its reminder is due (nil
// when the survey sends no reminders).
func (b *decisionBatch) queueMail(d *due, sv *Survey) (mail string, mailAt, remindAt any) {
	nowMs := b.now.UnixMilli()
	if sv.Reminders.Max > 0 {
		remindAt = nowMs + time.Duration(sv.Reminders.After).Milliseconds()
	}
	b.mails = append(b.mails, jobs.Many{Args: MailArgs{Invitation: d.id}})
	return "queued", nowMs, remindAt
}

// save writes the batch's decisions: the invitations' new status, the
// emails to send and the events.
func (b *decisionBatch) save(ctx context.Context, tx *store.Tx) error {
	if err := b.s.db.BulkUpdate(ctx, tx, "survey_invitations", decisionColumns, store.Column{Name: "id", Type: "text"}, b.updates); err != nil {
		return err
	}
	if err := jobs.InsertManyTx(ctx, tx, b.mails); err != nil {
		return err
	}
	return b.s.log.AppendTx(ctx, tx, b.events)
}

// dueInvitations reads the scheduled invitations due by nowMs whose
// trigger the profiles have read (up to profileSeq), after cur, at most
// decideBatch; or, with ids, exactly those still scheduled.
func dueInvitations(ctx context.Context, tx *store.Tx, ids []string, nowMs, profileSeq int64, cur dueCursor) ([]*due, error) {
	q := `SELECT id, survey_id, rhythm, wave, customer_id, user_id, anonymous_id, trigger_seq, trigger_event, channel, store, order_id, due_at
		FROM survey_invitations WHERE status = 'scheduled' AND due_at <= $1 AND trigger_seq <= $2
		AND (due_at > $3 OR (due_at = $3 AND id > $4)) ORDER BY due_at, id LIMIT ` + strconv.Itoa(decideBatch)
	args := []any{nowMs, profileSeq, cur.due, cur.id}
	if ids != nil {
		ph := make([]string, len(ids))
		args = []any{}
		for i, id := range ids {
			args = append(args, id)
			ph[i] = "$" + strconv.Itoa(i+1)
		}
		q = `SELECT id, survey_id, rhythm, wave, customer_id, user_id, anonymous_id, trigger_seq, trigger_event, channel, store, order_id, due_at
			FROM survey_invitations WHERE status = 'scheduled' AND id IN (` + strings.Join(ph, ",") + `)`
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []*due
	for rows.Next() {
		d := &due{}
		if err := rows.Scan(&d.id, &d.survey, &d.rhythm, &d.wave, &d.customer, &d.user, &d.anon, &d.triggerSeq, &d.triggerEvent, &d.channel, &d.shop, &d.order, &d.due); err != nil {
			return nil, err
		}
		list = append(list, d)
	}
	return list, rows.Err()
}

// decisionFacts are what deciding a batch of invitations reads: their
// surveys, their customers' contacts, opt-outs and contact history, and
// each quota survey's answers so far.
type decisionFacts struct {
	surveys  map[string]*Survey
	contacts map[string]profile.Contact
	out      map[string]bool
	history  map[string][]contact
	answered map[string]int
}

// facts gathers the decision facts of list, resolving whom each triggered
// invitation is for (it knows only identities).
func (s *Service) facts(ctx context.Context, tx *store.Tx, list []*due, policy ContactPolicy, nowMs int64) (*decisionFacts, error) {
	var unresolved []eventlog.Event
	for _, d := range list {
		if d.customer == "" {
			unresolved = append(unresolved, eventlog.Event{UserID: d.user, AnonymousID: d.anon})
		}
	}
	if len(unresolved) > 0 {
		owners, err := s.profiles.Owners(ctx, unresolved)
		if err != nil {
			return nil, err
		}
		for _, d := range list {
			if d.customer == "" {
				d.customer = profile.OwnerOf(owners, eventlog.Event{UserID: d.user, AnonymousID: d.anon})
			}
		}
	}
	f := &decisionFacts{surveys: map[string]*Survey{}, answered: map[string]int{}}
	var customers []string
	for _, d := range list {
		if d.customer != "" {
			customers = append(customers, d.customer)
		}
		if f.surveys[d.survey] == nil {
			sv, err := getSurvey(ctx, tx, d.survey)
			if err != nil {
				return nil, err
			}
			f.surveys[d.survey] = sv
		}
	}
	slices.Sort(customers)
	customers = slices.Compact(customers)
	var err error
	if f.contacts, err = s.profiles.Contacts(ctx, customers); err != nil {
		return nil, err
	}
	// Contacts follow merges; decide on the profile each id belongs to now.
	var current []string
	for _, c := range f.contacts {
		current = append(current, c.ID)
	}
	slices.Sort(current)
	current = slices.Compact(current)
	if f.out, err = optedOut(ctx, tx, current); err != nil {
		return nil, err
	}
	if f.history, err = contactHistory(ctx, tx, current, nowMs-policy.longest(mapValues(f.surveys)).Milliseconds()); err != nil {
		return nil, err
	}
	for id, sv := range f.surveys {
		if sv.Quota > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM survey_responses WHERE survey_id = $1`, id).Scan(&n); err != nil {
				return nil, err
			}
			f.answered[id] = n
		}
	}
	return f, nil
}

// reason is why an invitation is skipped ("" to send it), and for a
// recontact wait the policy's scope that stops it.
func (f *decisionFacts) reason(d *due, sv *Survey, ct profile.Contact, known bool, policy ContactPolicy, nowMs int64) (reason, scope string) {
	switch {
	case sv.Status != Active:
		return ReasonInactive, ""
	case !known:
		return ReasonUnknown, ""
	case f.out[ct.ID]:
		return ReasonOptedOut, ""
	case sv.Rhythm == Persistent && sv.Trigger != nil && fraction(d.id) >= *sv.Trigger.Sample:
		return ReasonSampledOut, ""
	case sv.Quota > 0 && f.answered[sv.ID] >= sv.Quota:
		return ReasonQuotaFull, ""
	}
	if scope = policy.allows(sv, f.history[ct.ID], nowMs); scope != "" {
		return ReasonRecontactWait, scope
	}
	return "", ""
}

// deliveryOf is how an invitation to be sent reaches the customer: a link
// (asked for, or no email address), or email when the customer has an
// address and a mail server is configured; a survey that must be emailed
// to a customer without one is skipped (the reason).
func (s *Service) deliveryOf(sv *Survey, ct profile.Contact, link bool) (delivery, reason string) {
	switch {
	case link || sv.Delivery == "link":
		return "link", ""
	case ct.Email != "" && s.cfg.Mail != nil:
		return "email", ""
	case sv.Delivery == "email":
		return "", ReasonNoEmail
	}
	return "link", ""
}

// decisionProps are the properties of an invitation's decision event.
func decisionProps(d *due, sv *Survey) map[string]any {
	props := map[string]any{"survey_id": sv.ID, "survey_name": sv.Name, "invitation_id": d.id, "rhythm": sv.Rhythm, "owner": sv.Owner}
	if d.wave != "" {
		props["wave"] = d.wave
	}
	if d.triggerEvent != "" {
		props["trigger_event"], props["touchpoint_channel"] = d.triggerEvent, d.channel
	}
	if d.order != "" {
		props["order_id"] = d.order
	}
	if d.shop != "" {
		props["touchpoint_store"] = d.shop
	}
	return props
}

// decisionColumns are what deciding an invitation sets, in the order of
// the rows decide builds (the id follows them).
var decisionColumns = []store.Column{{Name: "status", Type: "text"}, {Name: "reason", Type: "text"}, {Name: "customer_id", Type: "text"},
	{Name: "user_id", Type: "text"}, {Name: "anonymous_id", Type: "text"}, {Name: "email", Type: "text"}, {Name: "locale", Type: "text"},
	{Name: "delivery", Type: "text"}, {Name: "sent_at", Type: "bigint"}, {Name: "expires_at", Type: "bigint"}, {Name: "next_reminder_at", Type: "bigint"},
	{Name: "mail_state", Type: "text"}, {Name: "mail_next_at", Type: "bigint"}}

func mapValues[V any](m map[string]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// contactedStatuses are the invitations that reached a customer: what the
// contact policy counts.
const contactedStatuses = `('sent', 'started', 'answered', 'expired', 'dismissed')`

// contactHistory returns, per customer, the invitations that reached them since.
// An invitation withdrawn because its case was reopened does not count:
// the next resolution asks again in its place.
func contactHistory(ctx context.Context, tx *store.Tx, customers []string, since int64) (map[string][]contact, error) {
	out := map[string][]contact{}
	err := inChunks(customers, func(args []any, ph string) error {
		args = append(args, since)
		rows, err := tx.QueryContext(ctx, `SELECT customer_id, survey_id, rhythm, sent_at FROM survey_invitations
			WHERE customer_id IN (`+ph+`) AND sent_at > $`+strconv.Itoa(len(args))+` AND status IN `+contactedStatuses+`
			AND reason <> '`+ReasonCaseReopened+`'`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var c contact
			var id string
			if err := rows.Scan(&id, &c.survey, &c.rhythm, &c.at); err != nil {
				return err
			}
			out[id] = append(out[id], c)
		}
		return rows.Err()
	})
	return out, err
}

// remind queues reminder emails for unanswered invitations whose wait is over.
func (s *Service) remind(ctx context.Context) error {
	now := s.now()
	nowMs := now.UnixMilli()
	var n int
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.db.Lock(ctx, tx, dispatchLock); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, invitationCols+` WHERE i.next_reminder_at IS NOT NULL AND i.next_reminder_at <= $1
			AND i.status IN ('sent', 'started') ORDER BY i.next_reminder_at LIMIT 500`, nowMs)
		if err != nil {
			return err
		}
		var list []*Invitation
		for rows.Next() {
			i, err := scanInvitation(rows)
			if err != nil {
				rows.Close()
				return err
			}
			list = append(list, i)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var events []eventlog.Event
		var mails []jobs.Many
		for _, i := range list {
			sv, err := getSurvey(ctx, tx, i.Survey)
			if err != nil {
				return err
			}
			count := i.Reminders + 1
			var next any
			if count < sv.Reminders.Max {
				next = nowMs + time.Duration(sv.Reminders.After).Milliseconds()
			}
			if i.Reminders >= sv.Reminders.Max || sv.Status != Active {
				count, next = i.Reminders, nil
			} else {
				ev, err := eventlog.Action("Survey Reminder Sent", derivedID("msg", i.ID, "reminder", strconv.Itoa(count)), i.UserID, i.AnonymousID, "email", now,
					map[string]any{"survey_id": sv.ID, "invitation_id": i.ID, "reminder": count})
				if err != nil {
					return err
				}
				if i.UserID != "" || i.AnonymousID != "" {
					events = append(events, ev)
				}
				n++
			}
			mail := "queued"
			if count == i.Reminders {
				mail = i.Mail
			} else {
				mails = append(mails, jobs.Many{Args: MailArgs{Invitation: i.ID, Reminder: count}})
			}
			if _, err := tx.ExecContext(ctx, `UPDATE survey_invitations SET reminders = $1, next_reminder_at = $2, mail_state = $3, mail_next_at = $4
				WHERE id = $5`, count, next, mail, nowMs, i.ID); err != nil {
				return err
			}
		}
		if err := jobs.InsertManyTx(ctx, tx, mails); err != nil {
			return err
		}
		return s.log.AppendTx(ctx, tx, events)
	})
	if err == nil && n > 0 {
		s.log.Notify()
	}
	return err
}

// runPeriodic starts the waves of periodic surveys whose run is due.
func (s *Service) runPeriodic(ctx context.Context) (int, error) {
	now := s.now()
	list, err := listSurveys(ctx, s.db, `WHERE rhythm = 'periodic' AND status = 'active' AND next_run IS NOT NULL AND next_run <= $1`, now.UnixMilli())
	if err != nil {
		return 0, err
	}
	total := 0
	for _, sv := range list {
		wave := sv.ID + "@" + time.UnixMilli(int64(*sv.NextRun)).UTC().Format(time.RFC3339)
		q := profile.Query{}
		if sv.Segment != nil {
			q = *sv.Segment
		}
		members, err := s.profiles.Members(ctx, q, now)
		if err != nil {
			return total, err
		}
		n, err := s.fanOut(ctx, sv, wave, members, sv.SampleSize)
		if err != nil {
			return total, err
		}
		total += n
		next := sv.Schedule.Next(now)
		err = s.db.Tx(ctx, func(tx *store.Tx) error {
			var v any
			if !next.IsZero() {
				v = next.UnixMilli()
			}
			_, err := tx.ExecContext(ctx, `UPDATE surveys SET next_run = $1 WHERE id = $2 AND next_run = $3`, v, sv.ID, int64(*sv.NextRun))
			return err
		})
		if err != nil {
			return total, err
		}
		s.logger.Info("periodic survey wave", "survey", sv.ID, "wave", wave, "segment", len(members), "invited", n)
	}
	return total, nil
}

// fanOut schedules one wave of a survey to customers, drawing a stable
// random sample of size sample when it is smaller than the list.
func (s *Service) fanOut(ctx context.Context, sv *Survey, wave string, customers []string, sample int) (int, error) {
	if sample > 0 && len(customers) > sample {
		customers = slices.Clone(customers)
		slices.SortFunc(customers, func(a, b string) int {
			fa, fb := fraction(wave, a), fraction(wave, b)
			switch {
			case fa < fb:
				return -1
			case fa > fb:
				return 1
			}
			return strings.Compare(a, b)
		})
		customers = customers[:sample]
	}
	now := s.now().UnixMilli()
	for start := 0; start < len(customers); start += 5000 {
		chunk := customers[start:min(start+5000, len(customers))]
		list := make([]newInvitation, len(chunk))
		for i, c := range chunk {
			list[i] = newInvitation{id: derivedID("inv", sv.ID, wave, c), survey: sv.ID, rhythm: sv.Rhythm, wave: wave, customer: c, due: now}
		}
		if err := s.db.Tx(ctx, func(tx *store.Tx) error { return insertInvitations(ctx, s.db, tx, list, now) }); err != nil {
			return start, err
		}
	}
	if len(customers) >= 10000 {
		// A wave this large changes the table's size at once; let the planner know.
		if err := s.db.Analyze(ctx, "survey_invitations"); err != nil {
			return len(customers), err
		}
	}
	return len(customers), nil
}
