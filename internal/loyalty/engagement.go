package loyalty

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// Engagement is a customer's engagement score, 0–100, and its parts:
//
//	recency    30 × 0.5^(days since the last touchpoint ÷ 30)
//	frequency  25 × min(1, ln(1 + interactions in 90 days) ÷ ln(31))
//	surveys    15 × min(1, survey answers in 365 days ÷ 2)
//	community  15 × (⅓ for belonging to an affinity group + ⅔ × min(1, community activity in 90 days ÷ 5))
//	referrals  15 × min(1, customers referred ÷ 2)
//
// Interactions are track, page and screen events other than what the
// business did to the customer (invitations, reminders); community
// activity is the events named "Community …" other than Community Left.
type Engagement struct {
	Customer        string       `json:"customer"`
	Score           float64      `json:"score"`
	Recency         float64      `json:"recency"`
	Frequency       float64      `json:"frequency"`
	Surveys         float64      `json:"surveys"`
	Community       float64      `json:"community"`
	Referrals       float64      `json:"referrals"`
	Interactions90d int64        `json:"interactions90d"`
	LastInteraction store.Millis `json:"lastInteraction"`
	ComputedAt      store.Millis `json:"computedAt"`
}

// activity is what the score is made of, counted for one customer.
type activity struct {
	lastSeen                  int64
	n90, surveys, community90 int64
	member                    bool
	referred                  int64
}

func (a activity) score(c string, now time.Time) Engagement {
	e := Engagement{Customer: c, Interactions90d: a.n90, LastInteraction: store.Millis(a.lastSeen), ComputedAt: store.Millis(now.UnixMilli())}
	if a.lastSeen > 0 {
		days := max(0, now.Sub(time.UnixMilli(a.lastSeen)).Hours()/24)
		e.Recency = 30 * math.Pow(0.5, days/30)
	}
	e.Frequency = 25 * math.Min(1, math.Log1p(float64(a.n90))/math.Log(31))
	e.Surveys = 15 * math.Min(1, float64(a.surveys)/2)
	if a.member {
		e.Community = 5
	}
	e.Community += 10 * math.Min(1, float64(a.community90)/5)
	e.Referrals = 15 * math.Min(1, float64(a.referred)/2)
	round := func(v float64) float64 { return math.Round(v*10) / 10 }
	e.Recency, e.Frequency, e.Surveys, e.Community, e.Referrals = round(e.Recency), round(e.Frequency), round(e.Surveys), round(e.Community), round(e.Referrals)
	e.Score = round(math.Min(100, e.Recency+e.Frequency+e.Surveys+e.Community+e.Referrals))
	return e
}

// Engage recomputes the engagement scores of the customers marked for
// rescoring since its last run (all customers when full) and returns how
// many it scored. The engagement consumer marks the identities of every
// event it reads, and loyalty a referral's sender. Recency fades without
// events, so a full run is due daily.
func (s *Service) Engage(ctx context.Context, full bool) (int, error) {
	s.engaging.Lock() // one run at a time on this node
	defer s.engaging.Unlock()
	if err := s.findSenders(ctx); err != nil {
		return 0, err
	}
	// Take the marks made so far: one made again while the run is under
	// way is no longer claimed, and stays for the next run.
	var marks []string
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		// Rows locked in ref order, as the consumer's upserts lock them:
		// on PostgreSQL two orders would deadlock.
		_, err := tx.ExecContext(ctx, `UPDATE engagement_due SET claimed = 1 WHERE ref IN (SELECT ref FROM engagement_due ORDER BY ref`+s.db.ForUpdate()+`)`)
		return err
	})
	if err == nil {
		marks, err = s.db.Strings(ctx, `SELECT ref FROM engagement_due WHERE claimed = 1`)
	}
	if err != nil {
		return 0, err
	}
	if !full && len(marks) == 0 {
		return 0, nil
	}
	var only map[string]bool // nil: every customer
	done := marks            // the marks this run answers
	if !full {
		if only, done, err = s.due(ctx, marks); err != nil {
			return 0, err
		}
	}
	scores, err := s.engagement(ctx, only)
	if err != nil {
		return 0, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		rows := make([][]any, 0, len(scores))
		// In customer order, so that concurrent runs on other nodes lock rows alike.
		sort.Slice(scores, func(i, j int) bool { return scores[i].Customer < scores[j].Customer })
		for _, e := range scores {
			rows = append(rows, []any{e.Customer, e.Score, e.Recency, e.Frequency, e.Surveys, e.Community, e.Referrals, e.Interactions90d,
				int64(e.LastInteraction), int64(e.ComputedAt)})
		}
		err := s.db.BulkInsert(ctx, tx, `INSERT INTO engagement_scores (customer_id, score, recency, frequency, surveys, community, referrals,
			interactions_90d, last_interaction, computed_at) VALUES`, `ON CONFLICT (customer_id) DO UPDATE SET score = excluded.score, recency = excluded.recency,
			frequency = excluded.frequency, surveys = excluded.surveys, community = excluded.community, referrals = excluded.referrals,
			interactions_90d = excluded.interactions_90d, last_interaction = excluded.last_interaction, computed_at = excluded.computed_at`, 10, rows)
		if err != nil {
			return err
		}
		if full {
			// What no score counts any more goes: interactions older than
			// 90 days, answers older than 365.
			now := s.now()
			if _, err := tx.ExecContext(ctx, `DELETE FROM engagement_activity WHERE (identity, day) IN
				(SELECT identity, day FROM engagement_activity WHERE day < $1 ORDER BY identity, day`+s.db.ForUpdate()+`)`, dayOf(now.Add(-90*24*time.Hour).UnixMilli())); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM engagement_answers WHERE at < $1`, now.Add(-365*24*time.Hour).UnixMilli()); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM engagement_due WHERE ref IN (SELECT ref FROM engagement_due WHERE claimed = 1 ORDER BY ref`+s.db.ForUpdate()+`)`)
			return err
		}
		for len(done) > 0 {
			n := min(len(done), 500)
			ph := make([]string, n)
			args := make([]any, n)
			for i := range ph {
				ph[i], args[i] = "$"+strconv.Itoa(i+1), done[i]
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM engagement_due WHERE ref IN (SELECT ref FROM engagement_due WHERE claimed = 1 AND ref IN (`+
				strings.Join(ph, ",")+`) ORDER BY ref`+s.db.ForUpdate()+`)`, args...); err != nil {
				return err
			}
			done = done[n:]
		}
		return nil
	})
	return len(scores), err
}

// due returns the customers that marks name now, and the marks it could
// resolve: an identity profiles do not know yet (its profile is not made
// yet) stays marked for a later run; the daily full run clears every mark.
func (s *Service) due(ctx context.Context, marks []string) (map[string]bool, []string, error) {
	var keys, customers []string
	for _, m := range marks {
		if strings.HasPrefix(m, "u:") || strings.HasPrefix(m, "a:") {
			keys = append(keys, m)
		} else {
			customers = append(customers, m)
		}
	}
	owners, err := profile.OwnersBy(ctx, s.profiles, keys, func(k string) string { return k })
	if err != nil {
		return nil, nil, err
	}
	surv, err := s.profiles.Survivors(ctx, customers)
	if err != nil {
		return nil, nil, err
	}
	only := map[string]bool{}
	var done []string
	for _, k := range keys {
		if c, ok := owners[k]; ok {
			only[c] = true
			done = append(done, k)
		}
	}
	for _, c := range customers {
		if to, ok := surv[c]; ok {
			only[to] = true
		}
		done = append(done, c) // a sender no profile has any more is nobody to score
	}
	return only, done, nil
}

// findSenders completes the referrals whose sender's profile came after
// the sign-up, and marks the senders found for rescoring.
func (s *Service) findSenders(ctx context.Context) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT message_id, code FROM loyalty_referrals WHERE sender_id = '' LIMIT 1000`)
		if err != nil {
			return err
		}
		var open [][2]string
		for rows.Next() {
			var id, code string
			if err := rows.Scan(&id, &code); err != nil {
				rows.Close()
				return err
			}
			open = append(open, [2]string{id, code})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, o := range open {
			sender, err := senderOf(ctx, tx, o[1])
			if err != nil {
				return err
			}
			if sender == "" {
				continue
			}
			if _, err := tx.ExecContext(ctx, `UPDATE loyalty_referrals SET sender_id = $1 WHERE message_id = $2`, sender, o[0]); err != nil {
				return err
			}
			if err := markDue(ctx, tx, sender); err != nil {
				return err
			}
		}
		return nil
	})
}

// engagement scores the customers in only (every customer when nil),
// from what the engagement consumer keeps by identity and what profiles
// tell: which customers are live, when each was last seen, and which
// identities each has now (a merge moves a profile's identities, and so
// its interactions, to the profile it joins).
func (s *Service) engagement(ctx context.Context, only map[string]bool) ([]Engagement, error) {
	if only != nil && len(only) == 0 {
		return nil, nil
	}
	now := s.now()
	acts, err := s.liveActivity(ctx, only)
	if err != nil {
		return nil, err
	}
	t, err := s.tally(ctx, acts, only == nil)
	if err != nil {
		return nil, err
	}
	since90, since365 := now.Add(-90*24*time.Hour).UnixMilli(), now.Add(-365*24*time.Hour).UnixMilli()
	if err := s.countInteractions(ctx, t, since90); err != nil {
		return nil, err
	}
	if err := s.countSurveys(ctx, t, since365); err != nil {
		return nil, err
	}
	if err := s.markMembers(ctx, t); err != nil {
		return nil, err
	}
	if err := s.countReferred(ctx, acts); err != nil {
		return nil, err
	}
	out := make([]Engagement, 0, len(acts))
	for c, a := range acts {
		out = append(out, a.score(c, now))
	}
	return out, nil
}

// liveActivity starts the activity of each live customer in only (every
// live customer when nil) with when they were last seen.
func (s *Service) liveActivity(ctx context.Context, only map[string]bool) (map[string]*activity, error) {
	acts := map[string]*activity{}
	var ids []string // nil: every customer
	if only != nil {
		ids = make([]string, 0, len(only))
		for c := range only {
			ids = append(ids, c)
		}
		sort.Strings(ids)
	}
	err := s.profiles.LiveOf(ctx, ids, func(c profile.Live) error {
		acts[c.ID] = &activity{lastSeen: c.LastSeen}
		return nil
	})
	return acts, err
}

// engagementTally is the activity counted for the customers being scored,
// with the customer each of their identities belongs to.
type engagementTally struct {
	acts  map[string]*activity // customer → activity
	who   map[string]string    // identity ("u:…" / "a:…") → customer
	every bool                 // every customer is scored
	keys  []any                // the identities of the customers scored, unless every
}

// of is the activity of the customer the identity belongs to (nil when
// that customer is not scored).
func (t *engagementTally) of(identity string) *activity { return t.acts[t.who[identity]] }

// tally finds the identities of the customers in acts (of every customer
// when every), to count their activity by.
func (s *Service) tally(ctx context.Context, acts map[string]*activity, every bool) (*engagementTally, error) {
	var ids []string // nil: every customer
	if !every {
		ids = make([]string, 0, len(acts))
		for c := range acts {
			ids = append(ids, c)
		}
	}
	who, err := s.profiles.Keys(ctx, ids)
	if err != nil {
		return nil, err
	}
	t := &engagementTally{acts: acts, who: who, every: every}
	if !every {
		t.keys = make([]any, 0, len(who))
		for k := range who {
			t.keys = append(t.keys, k)
		}
	}
	return t, nil
}

// eachScored reads q for every identity, or for the identities of the
// customers scored.
func (s *Service) eachScored(ctx context.Context, t *engagementTally, q string, lead []any, fn func(*sql.Rows) error) error {
	if t.every {
		return s.db.Each(ctx, q, lead, fn)
	}
	return s.db.EachIn(ctx, q+` AND identity IN `, lead, t.keys, fn)
}

// countInteractions adds up each customer's interactions and community
// activity from the day of since.
func (s *Service) countInteractions(ctx context.Context, t *engagementTally, since int64) error {
	return s.eachScored(ctx, t, `SELECT identity, interactions, community FROM engagement_activity WHERE day >= $1`, []any{dayOf(since)}, func(r *sql.Rows) error {
		var id string
		var n, community int64
		if err := r.Scan(&id, &n, &community); err != nil {
			return err
		}
		if a := t.of(id); a != nil {
			a.n90 += n
			a.community90 += community
		}
		return nil
	})
}

// countSurveys counts each customer's survey answers from since, those
// that count (see answerCheck).
func (s *Service) countSurveys(ctx context.Context, t *engagementTally, since int64) error {
	answers, err := s.countedAnswers(ctx, since)
	if err != nil {
		return err
	}
	return s.eachScored(ctx, t, `SELECT identity, seq, survey_id FROM engagement_answers WHERE at >= $1`, []any{since}, func(r *sql.Rows) error {
		var id, survey string
		var seq int64
		if err := r.Scan(&id, &seq, &survey); err != nil {
			return err
		}
		if a := t.of(id); a != nil && answers.counts(seq, survey) {
			a.surveys++
		}
		return nil
	})
}

// markMembers marks the customers who belong to an affinity group.
func (s *Service) markMembers(ctx context.Context, t *engagementTally) error {
	return s.db.Each(ctx, `SELECT DISTINCT identity FROM community_members`, nil, func(r *sql.Rows) error {
		var id string
		if err := r.Scan(&id); err != nil {
			return err
		}
		if a := t.of(id); a != nil {
			a.member = true
		}
		return nil
	})
}

// countReferred adds up the customers each customer referred.
func (s *Service) countReferred(ctx context.Context, acts map[string]*activity) error {
	// A sender's profile may have joined another since the sign-up.
	referred := map[string]int64{}
	var senders []string
	err := s.db.Each(ctx, `SELECT sender_id, COUNT(*) FROM loyalty_referrals WHERE sender_id <> '' GROUP BY sender_id`, nil, func(r *sql.Rows) error {
		var id string
		var n int64
		if err := r.Scan(&id, &n); err != nil {
			return err
		}
		referred[id] = n
		senders = append(senders, id)
		return nil
	})
	if err != nil {
		return err
	}
	surv, err := s.profiles.Survivors(ctx, senders)
	if err != nil {
		return err
	}
	for id, n := range referred {
		if a := acts[surv[id]]; a != nil {
			a.referred += n
		}
	}
	return nil
}

// EngagementOf returns a customer's stored engagement score, computing it
// first when the customer has none yet.
func (s *Service) EngagementOf(ctx context.Context, ref string) (*Engagement, error) {
	c, err := s.profiles.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	e := &Engagement{Customer: c}
	err = s.db.QueryRowContext(ctx, `SELECT score, recency, frequency, surveys, community, referrals, interactions_90d, last_interaction, computed_at
		FROM engagement_scores WHERE customer_id = $1`, c).Scan(&e.Score, &e.Recency, &e.Frequency, &e.Surveys, &e.Community, &e.Referrals,
		&e.Interactions90d, &e.LastInteraction, &e.ComputedAt)
	if !errors.Is(err, sql.ErrNoRows) {
		return e, err
	}
	list, err := s.engagement(ctx, map[string]bool{c: true})
	if err != nil || len(list) == 0 {
		return e, err
	}
	return &list[0], nil
}

// answerCheck tells the survey answers the engagement score counts: those
// recorded as responses to a cxloop survey, and those that name no cxloop
// survey (an answer given in another tool). An answer naming a cxloop
// survey (srv_…) that was not recorded — it did not fit the survey, or the
// survey does not exist — was never scored and counts for nothing.
type answerCheck struct {
	recorded map[int64]bool  // log positions of recorded responses
	surveys  map[string]bool // cxloop's survey ids
}

// SurveyAnswers is what engagement asks the survey capability (app wires
// it): the log positions of the responses recorded since a time (Unix
// ms), and the surveys by id.
type SurveyAnswers struct {
	RecordedSince func(ctx context.Context, since int64) (map[int64]bool, error)
	Surveys       func(ctx context.Context) (map[string]string, error)
}

// SetSurveyAnswers gives engagement the survey capability's answers.
func (s *Service) SetSurveyAnswers(a SurveyAnswers) { s.answers = a }

func (s *Service) countedAnswers(ctx context.Context, since int64) (answerCheck, error) {
	c := answerCheck{recorded: map[int64]bool{}, surveys: map[string]bool{}}
	if s.answers.RecordedSince == nil || s.answers.Surveys == nil {
		return c, nil
	}
	var err error
	if c.recorded, err = s.answers.RecordedSince(ctx, since); err != nil {
		return c, err
	}
	names, err := s.answers.Surveys(ctx)
	for id := range names {
		c.surveys[id] = true
	}
	return c, err
}

// counts reports whether the Survey Responded event at seq counts, whose
// survey_id property is survey (as JSON, see surveyNamed).
func (c answerCheck) counts(seq int64, survey string) bool {
	if c.recorded[seq] {
		return true
	}
	var named any
	if json.Unmarshal([]byte(survey), &named) != nil {
		return false
	}
	id, isString := named.(string)
	switch {
	case named == nil:
		return true // no survey named: another tool's answer
	case !isString:
		return false
	case c.surveys[id] || strings.HasPrefix(id, "srv_"):
		return false // a cxloop survey's answer that was not recorded
	}
	return true
}
