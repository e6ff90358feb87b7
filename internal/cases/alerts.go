package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/outbox"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/survey"
	"github.com/cxloop/cxloop/internal/text"
	"github.com/cxloop/cxloop/internal/vocab"
)

// The metrics an alert can watch.
const (
	MetricNPS              = "nps"               // Net Promoter Score of the answers in the window
	MetricCSAT             = "csat"              // % of CSAT answers in the top two boxes
	MetricComplaints       = "complaints"        // Complaint Submitted events in the window
	MetricNegativeMentions = "negative_mentions" // % of Social Mention events that are negative
	MetricReturnRate       = "return_rate"       // % of the window's orders returned
)

// KindAlert is the kind of case an alert opens: about a group of
// customers, not one.
const KindAlert = "alert"

// alertEvery is how often the worker evaluates the enabled alerts.
const alertEvery = 5 * time.Minute

// alertLock serialises firings across nodes.
const alertLock = 0x616c657274 // "alert"

// The tests alerts apply, as named in their evidence.
const (
	testWelch     = "Welch t-test on promoters +100, passives 0, detractors −100"
	testTwoProp   = "two-proportion z-test (pooled)"
	testPoissonC  = "exact conditional binomial test on two Poisson counts"
	statusTooFew  = "too_few"
	statusNotSig  = "not_significant"
	statusOtherWy = "other_direction"
	statusSig     = "significant"
)

// groupings each metric can be split by.
var alertBys = map[string][]string{
	MetricNPS:              {"", "channel", "team", "store", "segment"},
	MetricCSAT:             {"", "channel", "team", "store", "segment"},
	MetricComplaints:       {"", "channel", "team", "store", "segment"},
	MetricNegativeMentions: {"", "channel", "segment"},
	MetricReturnRate:       {"", "channel", "store", "segment"},
}

// Alert watches a metric over a window, overall or per group, and fires
// when the current window differs significantly from the one before it:
// it opens a case for a team and/or emails a team, with the evidence.
type Alert struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Metric string `json:"metric"`
	// Survey limits nps and csat to one survey's answers.
	Survey string `json:"survey,omitempty"`
	// By splits the metric: channel, team, store or segment ("" overall).
	By string `json:"by,omitempty"`
	// Trait names the customer trait of by=segment (default "segment").
	Trait string `json:"trait,omitempty"`
	// Window is the length of the current window, compared with the
	// window of the same length before it (default 7d).
	Window string `json:"window"`
	// Direction is drop, rise or any (default: the bad way for the metric).
	Direction string `json:"direction"`
	// Alpha is the significance level (default 0.01).
	Alpha float64 `json:"alpha"`
	// MinN is the least each window must hold (answers, mentions, orders;
	// for complaints the two windows together) before the alert may fire.
	MinN      int          `json:"min_n"`
	Then      AlertThen    `json:"then"`
	Enabled   bool         `json:"enabled"`
	CreatedAt store.Millis `json:"createdAt"`
}

// AlertThen is what an alert does when it fires.
type AlertThen struct {
	OpenCase *OpenCase `json:"open_case,omitempty"`
	Notify   *Notify   `json:"notify,omitempty"`
}

// window is the alert's window length.
func (a *Alert) window() time.Duration {
	d, _ := vocab.ParseDuration(a.Window)
	return d
}

// Validate checks an alert and fills in its defaults, naming the field at fault.
func (a *Alert) Validate(ctx context.Context, s *Service) error {
	a.Name = strings.TrimSpace(a.Name)
	if a.Name == "" || len(a.Name) > 200 {
		return fault.Field("name", "an alert needs a name of at most 200 characters")
	}
	bys, ok := alertBys[a.Metric]
	if !ok {
		return fault.Field("metric", "metric is nps, csat, complaints, negative_mentions or return_rate")
	}
	if !contains(bys, a.By) {
		return fault.Field("by", "%s can be split by %s", a.Metric, strings.Join(bys[1:], ", "))
	}
	if a.Trait != "" && a.By != "segment" {
		return fault.Field("trait", "trait names the customer trait of by=segment")
	}
	if a.Survey != "" {
		if a.Metric != MetricNPS && a.Metric != MetricCSAT {
			return fault.Field("survey", "only nps and csat alerts read one survey")
		}
		if _, err := s.surveys.Get(ctx, a.Survey); err != nil {
			if fault.Code(err) == fault.NotFound {
				return fault.Field("survey", "no survey %q", a.Survey)
			}
			return err
		}
	}
	if a.Window == "" {
		a.Window = "7d"
	}
	if d, err := vocab.ParseDuration(a.Window); err != nil || d < time.Hour || d > 90*24*time.Hour {
		return fault.Field("window", "the window is a duration from 1h to 90d, such as 7d")
	}
	switch a.Direction {
	case "":
		a.Direction = "rise"
		if a.Metric == MetricNPS || a.Metric == MetricCSAT {
			a.Direction = "drop"
		}
	case "drop", "rise", "any":
	default:
		return fault.Field("direction", "direction is drop, rise or any")
	}
	if a.Alpha == 0 {
		a.Alpha = 0.01
	}
	if a.Alpha <= 0 || a.Alpha > 0.1 {
		return fault.Field("alpha", "alpha, the significance level, is above 0 and at most 0.1")
	}
	if a.MinN == 0 {
		a.MinN = 30
		if a.Metric == MetricComplaints {
			a.MinN = 10
		}
	}
	if a.MinN < 5 || a.MinN > 100000 {
		return fault.Field("min_n", "min_n is between 5 and 100,000")
	}
	if a.Then.OpenCase == nil && a.Then.Notify == nil {
		return fault.Field("then", "an alert opens a case (open_case) and/or notifies a team (notify)")
	}
	if oc := a.Then.OpenCase; oc != nil {
		if oc.Kind != "" && oc.Kind != KindAlert {
			return fault.Field("then.open_case.kind", "an alert's case is of the kind alert")
		}
		oc.Kind = KindAlert
		if oc.Priority == "" {
			oc.Priority = "high"
		}
		if oc.SLA == "" {
			oc.SLA = "48h"
		}
	}
	// The team, SLA and priority checks are the rules' own.
	r := Rule{Name: a.Name, When: When{Event: "Alert Fired"}, Then: Then{OpenCase: a.Then.OpenCase, Notify: a.Then.Notify}}
	if a.Then.OpenCase != nil {
		oc := *a.Then.OpenCase
		oc.Kind = KindQuestion // Rule.Validate knows the customer kinds only
		r.Then.OpenCase = &oc
	}
	return r.Validate(ctx, s)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// CreateAlert validates and stores an alert, enabled.
func (s *Service) CreateAlert(ctx context.Context, a *Alert) (*Alert, error) {
	if err := a.Validate(ctx, s); err != nil {
		return nil, err
	}
	a.ID, a.Enabled, a.CreatedAt = store.NewID("alert"), true, store.Millis(s.now().UnixMilli())
	spec, _ := json.Marshal(a)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO alerts (id, name, spec, enabled, created_at) VALUES ($1, $2, $3, 1, $4)`,
			a.ID, a.Name, string(spec), int64(a.CreatedAt))
		return err
	})
	return a, err
}

// Alerts lists the alerts, oldest first.
func (s *Service) Alerts(ctx context.Context) ([]*Alert, error) { return s.alerts(ctx, "", false) }

// GetAlert returns one alert.
func (s *Service) GetAlert(ctx context.Context, id string) (*Alert, error) {
	return s.getAlert(ctx, id, false)
}

// getAlert returns one alert, a removed one too when removed is set.
func (s *Service) getAlert(ctx context.Context, id string, removed bool) (*Alert, error) {
	list, err := s.alerts(ctx, id, removed)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, fault.New(fault.NotFound, "no alert %q", id)
	}
	return list[0], nil
}

// SetAlertEnabled pauses (false) or resumes (true) an alert and returns it
// before and after; a paused alert is not evaluated and fires nothing.
func (s *Service) SetAlertEnabled(ctx context.Context, id string, enabled bool) (before, after *Alert, err error) {
	if before, err = s.GetAlert(ctx, id); err != nil {
		return nil, nil, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE alerts SET enabled = $1 WHERE id = $2`, boolInt(enabled), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.New(fault.NotFound, "no alert %q", id)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	after, err = s.GetAlert(ctx, id)
	return before, after, err
}

// DeleteAlert removes an alert: it is no longer listed or evaluated; its
// firings (GET …/firings) and cases stay readable.
func (s *Service) DeleteAlert(ctx context.Context, id string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE alerts SET enabled = 0, deleted_at = $1 WHERE id = $2 AND deleted_at = 0`, s.now().UnixMilli(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.New(fault.NotFound, "no alert %q", id)
		}
		return nil
	})
}

func (s *Service) alerts(ctx context.Context, id string, removed bool) ([]*Alert, error) {
	query, args := `SELECT id, name, spec, enabled, created_at FROM alerts WHERE (deleted_at = 0 OR $1)`, []any{removed}
	if id != "" {
		query, args = query+` AND id = $2`, append(args, id)
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Alert{}
	for rows.Next() {
		var a Alert
		var spec string
		var enabled int
		var id, name string
		var created store.Millis
		if err := rows.Scan(&id, &name, &spec, &enabled, &created); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(spec), &a); err != nil {
			return nil, err
		}
		a.ID, a.Name, a.Enabled, a.CreatedAt = id, name, enabled == 1, created
		out = append(out, &a)
	}
	return out, rows.Err()
}

// Evidence is one group's test: the metric in the window before and in the
// current window, how many each held, the test and its p-value.
type Evidence struct {
	Alert      string       `json:"alert"`
	Metric     string       `json:"metric"`
	By         string       `json:"by,omitempty"`
	Group      string       `json:"group"`
	Status     string       `json:"status"` // too_few, not_significant, other_direction, significant
	Test       string       `json:"test"`
	Before     *float64     `json:"before"`
	After      *float64     `json:"after"`
	Change     *float64     `json:"change"`
	NBefore    int          `json:"nBefore"`
	NAfter     int          `json:"nAfter"`
	P          *float64     `json:"p"`
	Alpha      float64      `json:"alpha"`
	MinN       int          `json:"minN"`
	Direction  string       `json:"direction"`
	BeforeFrom store.Millis `json:"beforeFrom"`
	From       store.Millis `json:"from"` // the current window: [from, to)
	To         store.Millis `json:"to"`
	Note       string       `json:"note,omitempty"`
	CaseID     string       `json:"caseId,omitempty"`
}

// tally is one window of one group: n observations, x of them "hits"
// (promoters, top-two-box answers, negative mentions, returned orders)
// and, for NPS, y detractors. For complaints n is the count.
type tally struct{ n, x, y int }

// windows are one group's two windows.
type windows struct{ before, after tally }

// Check evaluates an alert now without acting: every group's evidence.
func (s *Service) Check(ctx context.Context, id string) ([]Evidence, error) {
	a, err := s.GetAlert(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.evaluate(ctx, a, s.now())
}

// evaluate computes each group's evidence at now.
func (s *Service) evaluate(ctx context.Context, a *Alert, now time.Time) ([]Evidence, error) {
	w := a.window()
	to := now.UnixMilli()
	from, beforeFrom := to-w.Milliseconds(), to-2*w.Milliseconds()
	groups, err := s.tallies(ctx, a, beforeFrom, from, to)
	if err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(groups))
	for k := range groups {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]Evidence, 0, len(keys))
	for _, k := range keys {
		ev := judge(a, groups[k])
		ev.Alert, ev.Metric, ev.By, ev.Group = a.ID, a.Metric, a.By, k
		ev.BeforeFrom, ev.From, ev.To = store.Millis(beforeFrom), store.Millis(from), store.Millis(to)
		out = append(out, ev)
	}
	return out, nil
}

// judge applies the metric's test to one group's two windows.
func judge(a *Alert, g *windows) Evidence {
	ev := Evidence{Status: statusNotSig, Alpha: a.Alpha, MinN: a.MinN, Direction: a.Direction, NBefore: g.before.n, NAfter: g.after.n}
	b, f := g.before, g.after
	var before, after, p float64
	ok := true
	switch a.Metric {
	case MetricNPS:
		ev.Test = testWelch
		before, after = nps(b), nps(f)
		p, ok = welchNPS(b, f)
	case MetricComplaints:
		ev.Test = testPoissonC
		before, after = float64(b.n), float64(f.n)
		p = poissonCompare(b.n, f.n)
	default:
		ev.Test = testTwoProp
		before, after = share(b), share(f)
		p, ok = twoProportions(b.x, b.n, f.x, f.n)
	}
	if b.n > 0 || a.Metric == MetricComplaints {
		ev.Before = &before
	}
	if f.n > 0 || a.Metric == MetricComplaints {
		ev.After = &after
	}
	if ev.Before != nil && ev.After != nil {
		c := after - before
		ev.Change = &c
	}
	enough := b.n >= a.MinN && f.n >= a.MinN
	if a.Metric == MetricComplaints {
		enough = b.n+f.n >= a.MinN
	}
	if !enough {
		ev.Status = statusTooFew
		if a.Metric == MetricComplaints {
			ev.Note = fmt.Sprintf("too few to test: %d complaints in the two windows, %d needed", b.n+f.n, a.MinN)
		} else {
			ev.Note = fmt.Sprintf("too few to test: %d before and %d now, %d needed in each window", b.n, f.n, a.MinN)
		}
		return ev
	}
	if !ok {
		ev.Note = "no variation in either window to test"
		return ev
	}
	ev.P = &p
	switch {
	case p >= a.Alpha:
		ev.Status = statusNotSig
	case a.Direction == "drop" && after >= before, a.Direction == "rise" && after <= before:
		ev.Status = statusOtherWy
	default:
		ev.Status = statusSig
	}
	return ev
}

func nps(t tally) float64 {
	if t.n == 0 {
		return 0
	}
	return 100 * float64(t.x-t.y) / float64(t.n)
}

func share(t tally) float64 {
	if t.n == 0 {
		return 0
	}
	return 100 * float64(t.x) / float64(t.n)
}

// tallies reads the metric's two windows, [beforeFrom, from) and [from, to), per group.
func (s *Service) tallies(ctx context.Context, a *Alert, beforeFrom, from, to int64) (map[string]*windows, error) {
	out := map[string]*windows{}
	get := func(k string) *windows {
		if k == "" {
			k = "unknown"
		}
		if a.By == "" {
			k = "all"
		}
		if out[k] == nil {
			out[k] = &windows{}
		}
		return out[k]
	}
	if a.Metric == MetricNPS || a.Metric == MetricCSAT {
		by := a.By
		for i, span := range [][2]int64{{beforeFrom, from}, {from, to}} {
			sc, err := s.surveys.Scores(ctx, survey.ScoreQuery{Metric: a.Metric, Survey: a.Survey, By: by, Trait: a.Trait,
				From: time.UnixMilli(span[0]), To: time.UnixMilli(span[1])})
			if err != nil {
				return nil, err
			}
			for _, g := range sc.Groups {
				t := tallyOf(a.Metric, g)
				w := get(g.Key)
				if i == 0 {
					w.before = t
				} else {
					w.after = t
				}
			}
		}
		return out, nil
	}
	type fact struct {
		channel, team, store, user, anon string
		at                               int64
		hit                              bool
	}
	var facts []fact
	var rows *sql.Rows
	var err error
	switch a.Metric {
	case MetricComplaints:
		rows, err = s.db.QueryContext(ctx, `SELECT s.channel, s.team, COALESCE(NULLIF(s.store, ''), o.store, ''), s.user_id, s.anonymous_id, s.at, 1
			FROM signals s LEFT JOIN orders o ON o.order_id = s.order_id AND s.order_id <> ''
			WHERE s.event = 'Complaint Submitted' AND s.at >= $1 AND s.at < $2`, beforeFrom, to)
	case MetricNegativeMentions:
		rows, err = s.db.QueryContext(ctx, `SELECT channel, '', '', user_id, anonymous_id, at, CASE WHEN sentiment = 'negative' THEN 1 ELSE 0 END
			FROM signals WHERE event = 'Social Mention' AND at >= $1 AND at < $2`, beforeFrom, to)
	case MetricReturnRate:
		rows, err = s.db.QueryContext(ctx, `SELECT channel, '', store, customer_ref, customer_ref, ordered_at, CASE WHEN returned_at IS NULL THEN 0 ELSE 1 END
			FROM orders WHERE ordered_at >= $1 AND ordered_at < $2`, beforeFrom, to)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var f fact
		var hit int
		if err := rows.Scan(&f.channel, &f.team, &f.store, &f.user, &f.anon, &f.at, &hit); err != nil {
			return nil, err
		}
		f.hit = hit == 1
		facts = append(facts, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var segments map[int]string
	if a.By == "segment" {
		events := make([]eventlog.Event, len(facts))
		for i, f := range facts {
			events[i] = eventlog.Event{UserID: f.user, AnonymousID: f.anon}
		}
		if segments, err = s.segmentsOf(ctx, events, a.Trait); err != nil {
			return nil, err
		}
	}
	for i, f := range facts {
		k := map[string]string{"channel": f.channel, "team": f.team, "store": f.store, "segment": segments[i]}[a.By]
		w := get(k)
		t := &w.after
		if f.at < from {
			t = &w.before
		}
		t.n++
		if f.hit {
			t.x++
		}
	}
	return out, nil
}

// tallyOf turns a survey score group into counts.
func tallyOf(metric string, g survey.ScoreGroup) tally {
	t := tally{n: g.N}
	if metric == MetricNPS {
		t.x, t.y = g.Distribution["promoters"], g.Distribution["detractors"]
		return t
	}
	for k, c := range g.Distribution {
		if v, err := strconv.ParseFloat(k, 64); err == nil && v >= 4 {
			t.x += c
		}
	}
	return t
}

// segmentsOf labels each event's customer with their trait (default
// "segment") as the profile has it now.
func (s *Service) segmentsOf(ctx context.Context, events []eventlog.Event, trait string) (map[int]string, error) {
	if trait == "" {
		trait = "segment"
	}
	owners, err := s.profiles.Owners(ctx, events)
	if err != nil {
		return nil, err
	}
	cus := make([]string, len(events))
	var ids []string
	seen := map[string]bool{}
	for i, e := range events {
		cus[i] = profile.OwnerOf(owners, e)
		if cus[i] != "" && !seen[cus[i]] {
			seen[cus[i]] = true
			ids = append(ids, cus[i])
		}
	}
	contacts, err := s.profiles.Contacts(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := map[int]string{}
	for i := range events {
		if v, ok := contacts[cus[i]].Traits[trait]; ok && v != nil {
			out[i] = fmt.Sprint(v)
		}
	}
	return out, nil
}

// EvaluateAlerts evaluates every enabled alert now and fires those whose
// groups moved significantly the way they watch, at most once per window
// for each alert and group. It returns how many fired.
func (s *Service) EvaluateAlerts(ctx context.Context) (int, error) {
	list, err := s.Alerts(ctx)
	if err != nil {
		return 0, err
	}
	now := s.now()
	fired := 0
	for _, a := range list {
		if !a.Enabled {
			continue
		}
		evs, err := s.evaluate(ctx, a, now)
		if err != nil {
			return fired, fmt.Errorf("alert %s: %w", a.ID, err)
		}
		for _, ev := range evs {
			if ev.Status != statusSig {
				continue
			}
			ok, err := s.fire(ctx, a, ev, now)
			if err != nil {
				return fired, fmt.Errorf("alert %s: %w", a.ID, err)
			}
			if ok {
				fired++
			}
		}
	}
	return fired, nil
}

// fire records a firing with its evidence, opens the alert's case, queues
// its email and appends the Alert Fired event, in one transaction. It does
// nothing when the alert fired for the group within the last window.
func (s *Service) fire(ctx context.Context, a *Alert, ev Evidence, now time.Time) (bool, error) {
	w := a.window().Milliseconds()
	id := stableID("afire", a.ID, ev.Group, strconv.FormatInt(int64(ev.To)/w, 10))
	fired := false
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.db.Lock(ctx, tx, alertLock); err != nil {
			return err
		}
		var recent int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM alert_firings WHERE alert_id = $1 AND group_key = $2 AND (window_to > $3 OR id = $4)`,
			a.ID, ev.Group, int64(ev.To)-w, id).Scan(&recent); err != nil {
			return err
		}
		if recent > 0 {
			return nil
		}
		subject, body := describe(a, ev)
		nowMs := now.UnixMilli()
		if oc := a.Then.OpenCase; oc != nil {
			team, err := teamID(ctx, tx, oc.Team)
			if err != nil {
				return err
			}
			sla, err := vocab.ParseDuration(oc.SLA)
			if err != nil || sla <= 0 {
				sla = DefaultSLA
			}
			ev.CaseID = stableID("case", a.ID, id)
			channel := ""
			if a.By == "channel" {
				channel = ev.Group
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO cases (id, customer_id, user_id, anonymous_id, kind, formal, channel, team_id, assignee, priority, status,
				subject, body, order_id, rule_id, origin_message, sla_ms, due_at, first_response_due, created_at, updated_at)
				VALUES ($1, '', '', '', $2, 0, $3, $4, '', $5, 'open', $6, $7, '', $8, $9, $10, $11, $12, $13, $13) ON CONFLICT (id) DO NOTHING`,
				ev.CaseID, KindAlert, channel, team, oc.Priority, text.Clip(subject, 200), text.Clip(body, 5000), a.ID, alertMessage(id),
				sla.Milliseconds(), nowMs+sla.Milliseconds(), nowMs+sla.Milliseconds()/4, nowMs); err != nil {
				return err
			}
		}
		evidence, _ := json.Marshal(ev)
		if _, err := tx.ExecContext(ctx, `INSERT INTO alert_firings (id, alert_id, group_key, window_from, window_to, evidence, case_id, fired_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, id, a.ID, ev.Group, int64(ev.From), int64(ev.To), string(evidence), ev.CaseID, nowMs); err != nil {
			return err
		}
		if n := a.Then.Notify; n != nil {
			var email string
			err := tx.QueryRowContext(ctx, `SELECT email FROM teams WHERE id = $1 OR name = $1`, n.Team).Scan(&email)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if email != "" {
				if err := outbox.EnqueueMail(ctx, tx, stableID("mail", id), email, "[cxloop] "+subject, body, now); err != nil {
					return err
				}
			}
		}
		props := map[string]any{"alert_id": a.ID, "alert": a.Name, "firing_id": id, "metric": a.Metric, "by": a.By, "group": ev.Group,
			"test": ev.Test, "before": ev.Before, "after": ev.After, "n_before": ev.NBefore, "n_after": ev.NAfter, "p": ev.P,
			"alpha": ev.Alpha, "direction": a.Direction, "window": a.Window, "case_id": ev.CaseID,
			"from": time.UnixMilli(int64(ev.From)).UTC().Format(time.RFC3339), "to": time.UnixMilli(int64(ev.To)).UTC().Format(time.RFC3339)}
		// About a group, not a customer: no userId or anonymousId, and
		// from cxloop-actions, so no profile counts it as activity.
		e, err := eventlog.Action("Alert Fired", alertMessage(id), "", "", "server", now, props)
		if err != nil {
			return err
		}
		fired = true
		return s.log.AppendTx(ctx, tx, []eventlog.Event{e})
	})
	if err == nil && fired {
		s.log.Notify()
		s.logger.Info("alert fired", "alert", a.ID, "group", ev.Group, "p", *ev.P)
	}
	return fired, err
}

// alertMessage is the messageId of a firing's Alert Fired event.
func alertMessage(firing string) string { return "alert-fired-" + firing }

// describe is a firing's case subject and the evidence as text.
func describe(a *Alert, ev Evidence) (subject, body string) {
	unit := map[string]string{MetricNPS: "NPS", MetricCSAT: "CSAT %", MetricComplaints: "complaints",
		MetricNegativeMentions: "negative mentions %", MetricReturnRate: "return rate %"}[a.Metric]
	where := "overall"
	if a.By != "" {
		where = a.By + " " + ev.Group
	}
	verb := "rose"
	if *ev.Change < 0 {
		verb = "fell"
	}
	subject = fmt.Sprintf("%s: %s %s from %s to %s (%s, p %s)", a.Name, unit, verb, num(*ev.Before), num(*ev.After), where, pIs(*ev.P))
	var b strings.Builder
	fmt.Fprintf(&b, "Alert %q (%s) fired for %s.\n\n", a.Name, a.ID, where)
	fmt.Fprintf(&b, "%s in the last %s (%s to %s): %s, n = %d\n", unit, a.Window, day(ev.From), day(ev.To), num(*ev.After), ev.NAfter)
	fmt.Fprintf(&b, "%s in the %s before (%s to %s): %s, n = %d\n", unit, a.Window, day(ev.BeforeFrom), day(ev.From), num(*ev.Before), ev.NBefore)
	fmt.Fprintf(&b, "Test: %s; p %s (fires below %s, direction %s, at least %d in each window).\n", ev.Test, pIs(*ev.P),
		strconv.FormatFloat(ev.Alpha, 'f', -1, 64), a.Direction, a.MinN)
	if a.Metric == MetricComplaints {
		b.Reset()
		fmt.Fprintf(&b, "Alert %q (%s) fired for %s.\n\n%d complaints in the last %s, %d in the %s before.\n", a.Name, a.ID, where,
			ev.NAfter, a.Window, ev.NBefore, a.Window)
		fmt.Fprintf(&b, "Test: %s; p %s (fires below %s, at least %d complaints in the two windows).\n", ev.Test, pIs(*ev.P),
			strconv.FormatFloat(ev.Alpha, 'f', -1, 64), a.MinN)
	}
	return subject, b.String()
}

func num(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }

// pIs is "= 0.0123" or "< 0.0001": a p-value after "p".
func pIs(p float64) string {
	if v := pval(p); v[0] != '<' {
		return "= " + v
	}
	return pval(p)
}

func pval(p float64) string {
	if p < 0.0001 {
		return "< 0.0001"
	}
	return strconv.FormatFloat(p, 'f', 4, 64)
}

func day(ms store.Millis) string { return time.UnixMilli(int64(ms)).UTC().Format("2006-01-02 15:04") }

// AlertFiring is one time an alert fired for a group.
type AlertFiring struct {
	ID       string       `json:"id"`
	Group    string       `json:"group"`
	CaseID   string       `json:"caseId,omitempty"`
	FiredAt  store.Millis `json:"firedAt"`
	Evidence Evidence     `json:"evidence"`
}

// AlertFirings lists an alert's firings, newest first.
func (s *Service) AlertFirings(ctx context.Context, id string, limit int) ([]AlertFiring, error) {
	list, _, err := s.AlertFiringsIn(ctx, id, time.Time{}, time.Time{}, limit)
	return list, err
}

// AlertFiringsIn lists the alert's latest firings in [from, to) (a zero
// bound is open), at most limit, and counts all of them.
func (s *Service) AlertFiringsIn(ctx context.Context, id string, from, to time.Time, limit int) ([]AlertFiring, int, error) {
	if _, err := s.getAlert(ctx, id, true); err != nil {
		return nil, 0, err
	}
	lo, hi := store.Span(from, to)
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM alert_firings WHERE alert_id = $1 AND fired_at >= $2 AND fired_at < $3`, id, lo, hi).Scan(&total); err != nil {
		return nil, 0, err
	}
	list, err := s.firings(ctx, id, lo, hi, limit)
	return list, total, err
}

func (s *Service) firings(ctx context.Context, id string, lo, hi int64, limit int) ([]AlertFiring, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, group_key, case_id, fired_at, evidence FROM alert_firings WHERE alert_id = $1
		AND fired_at >= $2 AND fired_at < $3 ORDER BY fired_at DESC, id LIMIT $4`, id, lo, hi, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []AlertFiring{}
	for rows.Next() {
		var f AlertFiring
		var evidence string
		if err := rows.Scan(&f.ID, &f.Group, &f.CaseID, &f.FiredAt, &evidence); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(evidence), &f.Evidence); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// SetAlertsRead gives the wait until the projections alerts read (scores,
// signals, orders) hold what the log holds now; the worker skips a round
// when it fails, so a window is not judged on half-read data.
func (s *Service) SetAlertsRead(fn func(ctx context.Context) error) { s.alertsRead = fn }

// quietEvents is how few events a minute may append for the log to count
// as settled after a burst.
const quietEvents = 1000
