package cases

import (
	"cmp"
	"context"
	"database/sql"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/principal"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/survey"
)

// recoveryWindow is how soon after a complaint's resolution a purchase
// counts the complainer as recovered.
const recoveryWindow = 90 * 24 * time.Hour

// Complainer is one complaint and what became of the customer: their
// satisfaction before the complaint and after its resolution.
type Complainer struct {
	Case       string        `json:"case"`
	Customer   string        `json:"customer"`
	Formal     bool          `json:"formal"`
	Channel    string        `json:"channel"`
	OpenedAt   store.Millis  `json:"openedAt"`
	ResolvedAt *store.Millis `json:"resolvedAt,omitempty"`
	// Before is the customer's last NPS answer before the complaint.
	Before *float64 `json:"npsBefore,omitempty"`
	// After is their first NPS answer after the resolution.
	After *float64 `json:"npsAfter,omitempty"`
	// Handling is their 0–10 rating of how the complaint was handled.
	Handling    *float64 `json:"handling,omitempty"`
	BoughtAgain bool     `json:"boughtAgain"`
	// Outcome: recovered (bought again within 90 days of the resolution,
	// and neither rated the handling nor answered an NPS after it 0–6),
	// unhappy (bought again, but said one of those), lost (did not buy),
	// waiting (the 90 days are not over), open (unresolved).
	Outcome string `json:"outcome"`
}

// Recovery is the complaint-recovery report.
type Recovery struct {
	Complaints int `json:"complaints"`
	Resolved   int `json:"resolved"`
	Rated      int `json:"rated"`
	// HandledWell counts handling ratings of 9 or 10: the level at which
	// complainers come back as satisfied as before.
	HandledWell int `json:"handledWell"`
	// HandledWellShare is HandledWell ÷ Rated (0–1).
	HandledWellShare float64        `json:"handledWellShare"`
	Outcomes         map[string]int `json:"outcomes"`
	Complainers      []Complainer   `json:"complainers"`
}

// Recovery reports on the complaints opened in [from, to) (a zero bound is
// open) that p may see (a reader limited to teams sees, and counts, only
// those teams' complaints): how their handling was rated and whether each
// complainer was recovered or lost.
func (s *Service) Recovery(ctx context.Context, p principal.Principal, from, to time.Time) (*Recovery, error) {
	list, handling, err := s.complaints(ctx, p, from, to)
	if err != nil {
		return nil, err
	}
	rep := &Recovery{Outcomes: map[string]int{}, Complainers: make([]Complainer, len(list))}
	for i, c := range list {
		rep.Complainers[i] = Complainer{Case: c.ID, Customer: c.Customer, Formal: c.Formal, Channel: c.Channel, OpenedAt: c.CreatedAt, ResolvedAt: c.ResolvedAt}
		rep.Complainers[i].Handling = rep.count(c, handling)
	}
	// Each complainer is followed on their own (a few reads each), four at
	// a time.
	now := s.now()
	errs := make([]error, len(list))
	sem := make(chan struct{}, 4)
	var wg sync.WaitGroup
	for i, c := range list {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = s.follow(ctx, c, &rep.Complainers[i], now)
		})
	}
	wg.Wait()
	for i, cm := range rep.Complainers {
		if errs[i] != nil {
			return nil, errs[i]
		}
		rep.Outcomes[cm.Outcome]++
	}
	rep.share()
	return rep, nil
}

// follow fills in what became of a complainer: their NPS before the
// complaint and after its resolution, whether they bought again within
// 90 days, and so the outcome: recovered (bought again, and neither the
// handling rating nor a later NPS was 0–6), unhappy (bought again but
// said one of those), waiting (the 90 days are not over), lost, or open.
func (s *Service) follow(ctx context.Context, c *Case, cm *Complainer, now time.Time) error {
	ref := c.UserID
	if ref == "" {
		ref = c.AnonymousID
	}
	_, q, err := s.profiles.EventFilter(ctx, ref)
	if fault.Code(err) == fault.NotFound {
		q = eventlog.Query{UserIDs: []string{c.UserID}, AnonymousIDs: []string{c.AnonymousID}}
	} else if err != nil {
		return err
	}
	if v, ok, err := s.surveys.LastScore(ctx, survey.TypeNPS, q.UserIDs, q.AnonymousIDs, int64(c.CreatedAt)); err != nil {
		return err
	} else if ok {
		cm.Before = &v
	}
	if c.ResolvedAt == nil {
		cm.Outcome = "open"
		return nil
	}
	from := int64(*c.ResolvedAt)
	if v, ok, err := s.surveys.NextScore(ctx, survey.TypeNPS, q.UserIDs, q.AnonymousIDs, from); err != nil {
		return err
	} else if ok {
		cm.After = &v
	}
	bought, err := s.boughtBetween(ctx, append(q.UserIDs, q.AnonymousIDs...), from, from+recoveryWindow.Milliseconds())
	if err != nil {
		return err
	}
	cm.BoughtAgain = bought
	// Bought again is not recovered when the customer said since that
	// they are unhappy: the handling rated 0–6, or an NPS of 0–6 after.
	unhappy := (cm.Handling != nil && *cm.Handling <= 6) || (cm.After != nil && *cm.After <= 6)
	switch {
	case bought && unhappy:
		cm.Outcome = "unhappy"
	case bought:
		cm.Outcome = "recovered"
	case now.UnixMilli() < from+recoveryWindow.Milliseconds():
		cm.Outcome = "waiting"
	default:
		cm.Outcome = "lost"
	}
	return nil
}

// Handling is Recovery's counts alone (complaints, resolved, rated,
// handled well and its share), without following each complainer.
func (s *Service) Handling(ctx context.Context, p principal.Principal, from, to time.Time) (*Recovery, error) {
	list, handling, err := s.complaints(ctx, p, from, to)
	if err != nil {
		return nil, err
	}
	rep := &Recovery{Outcomes: map[string]int{}, Complainers: []Complainer{}}
	for _, c := range list {
		rep.count(c, handling)
	}
	rep.share()
	return rep, nil
}

// complaints are the complaints opened in [from, to) that p may see, and the
// complaint-handling survey's scores by the Case Resolved message they
// answered.
func (s *Service) complaints(ctx context.Context, p principal.Principal, from, to time.Time) ([]*Case, map[string]float64, error) {
	f := Filter{Kind: KindComplaint, Limit: math.MaxInt32}
	if !from.IsZero() {
		f.CreatedFrom = from.UnixMilli()
	}
	if !to.IsZero() {
		f.CreatedTo = to.UnixMilli()
	}
	list, err := s.List(ctx, Scope(f, p))
	if err != nil {
		return nil, nil, err
	}
	// The newest complaint first, as the page and the export list them.
	slices.SortStableFunc(list, func(a, b *Case) int {
		if c := cmp.Compare(b.CreatedAt, a.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	answers, err := s.surveys.HandlingAnswers(ctx)
	return list, latestHandling(answers), err
}

// latestHandling keys the handling scores by case: a case resolved again
// after a reopen is rated by its latest rated resolution.
func latestHandling(answers map[string]float64) map[string]float64 {
	out := map[string]float64{}
	latest := map[string]int{}
	for msg, v := range answers {
		id, n, ok := caseOfResolution(msg)
		if !ok || n < latest[id] {
			continue
		}
		latest[id], out[ResolvedMessage(id)] = n, v
	}
	return out
}

// count adds a complaint to the counts and returns its handling score
// (nil: not rated).
func (rep *Recovery) count(c *Case, handling map[string]float64) *float64 {
	rep.Complaints++
	if c.ResolvedAt != nil {
		rep.Resolved++
	}
	v, ok := handling[ResolvedMessage(c.ID)]
	if !ok {
		return nil
	}
	rep.Rated++
	if v >= 9 {
		rep.HandledWell++
	}
	return &v
}

// share sets HandledWellShare from the counts.
func (rep *Recovery) share() {
	if rep.Rated > 0 {
		rep.HandledWellShare = math.Round(float64(rep.HandledWell)/float64(rep.Rated)*1000) / 1000
	}
}

// boughtBetween reports whether any of the identities placed an order in [from, to).
func (s *Service) boughtBetween(ctx context.Context, refs []string, from, to int64) (bool, error) {
	var clean []any
	var ph []string
	for _, r := range refs {
		if r != "" && len(clean) < 200 {
			clean = append(clean, r)
			ph = append(ph, "$"+strconv.Itoa(len(clean)))
		}
	}
	if len(clean) == 0 {
		return false, nil
	}
	clean = append(clean, from, to)
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM orders WHERE customer_ref IN (`+strings.Join(ph, ",")+`)
		AND ordered_at >= $`+strconv.Itoa(len(clean)-1)+` AND ordered_at < $`+strconv.Itoa(len(clean)), clean...).Scan(&n)
	return n > 0, err
}

// Contact is a case that reached its customer: opened (Unix ms) and
// answered by an agent (a first response).
type Contact struct {
	UserID, AnonymousID string
	OpenedAt            int64
}

// ContactsSince returns the cases opened at or after since that had a
// first response, of every team.
func (s *Service) ContactsSince(ctx context.Context, since time.Time) ([]Contact, error) {
	var out []Contact
	err := s.db.Each(ctx, `SELECT user_id, anonymous_id, created_at FROM cases WHERE created_at >= $1 AND first_response_at IS NOT NULL`,
		[]any{since.UnixMilli()}, func(r *sql.Rows) error {
			var c Contact
			err := r.Scan(&c.UserID, &c.AnonymousID, &c.OpenedAt)
			out = append(out, c)
			return err
		})
	return out, err
}

// TeamSLA is one team's keeping of its resolution SLA, over the cases
// opened in a period: a case met it when resolved by its due time, and
// breached it when resolved later or still open past it; an open case
// not yet due is pending and counts in neither.
type TeamSLA struct {
	Team     string `json:"team"`
	TeamName string `json:"teamName"`
	Cases    int    `json:"cases"`
	Met      int    `json:"met"`
	Breached int    `json:"breached"`
	Pending  int    `json:"pending"`
	// Compliance is Met ÷ (Met + Breached), 0–1; absent when no case has
	// reached its due time.
	Compliance *float64 `json:"compliance,omitempty"`
	// Small: fewer than 30 cases have reached their due time.
	Small bool `json:"small"`
	// The first-response target (a quarter of the SLA): met when the team
	// first answered by it, breached when later or not yet and past it.
	FirstMet      int `json:"firstResponseMet"`
	FirstBreached int `json:"firstResponseBreached"`
	// FirstCompliance is FirstMet ÷ (FirstMet + FirstBreached), 0–1;
	// absent when no case has reached its first-response time.
	FirstCompliance *float64 `json:"firstResponseCompliance,omitempty"`
}

// SLA is each team's SLA compliance over the cases opened in [from, to)
// that p may see (a zero bound is open), teams by name.
func (s *Service) SLA(ctx context.Context, p principal.Principal, from, to time.Time) ([]TeamSLA, error) {
	f := Scope(Filter{}, p)
	if !from.IsZero() {
		f.CreatedFrom = from.UnixMilli()
	}
	if !to.IsZero() {
		f.CreatedTo = to.UnixMilli()
	}
	where, args, none, err := s.conditions(ctx, f)
	if err != nil || none {
		return []TeamSLA{}, err
	}
	args = append(args, s.now().UnixMilli())
	now := "$" + strconv.Itoa(len(args))
	rows, err := s.db.QueryContext(ctx, `SELECT c.team_id, COALESCE(t.name, ''), COUNT(*),
		SUM(CASE WHEN c.resolved_at IS NOT NULL AND c.resolved_at <= c.due_at THEN 1 ELSE 0 END),
		SUM(CASE WHEN (c.resolved_at IS NOT NULL AND c.resolved_at > c.due_at) OR (c.resolved_at IS NULL AND c.due_at < `+now+`) THEN 1 ELSE 0 END),
		SUM(CASE WHEN c.first_response_at IS NOT NULL AND c.first_response_at <= c.first_response_due THEN 1 ELSE 0 END),
		SUM(CASE WHEN (c.first_response_at IS NOT NULL AND c.first_response_at > c.first_response_due) OR (c.first_response_at IS NULL AND c.first_response_due < `+now+`) THEN 1 ELSE 0 END)
		FROM cases c LEFT JOIN teams t ON t.id = c.team_id WHERE `+strings.Join(where, " AND ")+`
		GROUP BY c.team_id, t.name ORDER BY COALESCE(t.name, ''), c.team_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TeamSLA{}
	for rows.Next() {
		var t TeamSLA
		if err := rows.Scan(&t.Team, &t.TeamName, &t.Cases, &t.Met, &t.Breached, &t.FirstMet, &t.FirstBreached); err != nil {
			return nil, err
		}
		t.Pending = t.Cases - t.Met - t.Breached
		if due := t.Met + t.Breached; due > 0 {
			v := math.Round(float64(t.Met)/float64(due)*1000) / 1000
			t.Compliance, t.Small = &v, due < 30
		}
		if due := t.FirstMet + t.FirstBreached; due > 0 {
			v := math.Round(float64(t.FirstMet)/float64(due)*1000) / 1000
			t.FirstCompliance = &v
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
