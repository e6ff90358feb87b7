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

	"github.com/cxloop/cxloop/internal/eventlog"
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

const engagementKey = "engagement_seq"

// Engage recomputes the engagement scores of the customers with events
// since its last run (all customers when full, or on the first run) and
// returns how many it scored. Recency fades without events, so a full run
// is due daily.
func (s *Service) Engage(ctx context.Context, full bool) (int, error) {
	s.engaging.Lock() // one run at a time on this node
	defer s.engaging.Unlock()
	var from int64
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, engagementKey).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		full = true
	case err != nil:
		return 0, err
	default:
		from, _ = strconv.ParseInt(v, 10, 64)
	}
	var head int64
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM events`).Scan(&head); err != nil {
		return 0, err
	}
	if !full && head <= from {
		return 0, nil
	}
	if err := s.findSenders(ctx); err != nil {
		return 0, err
	}
	var only map[string]bool // nil: every customer
	if !full {
		if only, err = s.touched(ctx, from, head); err != nil {
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
		_, err = tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2`,
			engagementKey, strconv.FormatInt(head, 10))
		return err
	})
	return len(scores), err
}

// findSenders completes the referrals whose sender's profile came after the sign-up.
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
		}
		return nil
	})
}

// touched returns the customers whose score events in (from, to] may move:
// those who did them and the senders of referrals among them.
func (s *Service) touched(ctx context.Context, from, to int64) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT COALESCE(user_id, ''), COALESCE(anonymous_id, '') FROM events WHERE seq > $1 AND seq <= $2`, from, to)
	if err != nil {
		return nil, err
	}
	var refs []eventlog.Event
	for rows.Next() {
		var e eventlog.Event
		if err := rows.Scan(&e.UserID, &e.AnonymousID); err != nil {
			rows.Close()
			return nil, err
		}
		refs = append(refs, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	owners, err := s.profiles.Owners(ctx, refs)
	if err != nil {
		return nil, err
	}
	only := map[string]bool{}
	for _, o := range owners {
		only[o] = true
	}
	rows, err = s.db.QueryContext(ctx, `SELECT DISTINCT r.sender_id FROM loyalty_referrals r JOIN events e ON e.message_id = r.message_id
		WHERE e.seq > $1 AND e.seq <= $2 AND r.sender_id <> ''`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		only[id] = true
	}
	return only, rows.Err()
}

// engagement scores the customers in only (every customer when nil).
func (s *Service) engagement(ctx context.Context, only map[string]bool) ([]Engagement, error) {
	now := s.now()
	acts := map[string]*activity{}
	merged := map[string]string{}
	var ids []any
	for c := range only {
		ids = append(ids, c)
	}
	customer := func(r *sql.Rows) error {
		var id string
		var into sql.NullString
		var seen int64
		if err := r.Scan(&id, &into, &seen); err != nil {
			return err
		}
		if into.Valid {
			merged[id] = into.String
		} else {
			acts[id] = &activity{lastSeen: seen}
		}
		return nil
	}
	// Identities of the customers scored, to read their events (merges
	// move a profile's identities to the profile it joins).
	who := map[string]string{} // "u:…" / "a:…" → customer
	var users, anons []any
	identities := func(r *sql.Rows) error {
		var kind, value, c string
		if err := r.Scan(&kind, &value, &c); err != nil {
			return err
		}
		if acts[c] == nil {
			return nil
		}
		if kind == "user_id" {
			who["u:"+value] = c
			users = append(users, value)
		} else {
			who["a:"+value] = c
			anons = append(anons, value)
		}
		return nil
	}
	const customers, idents = `SELECT id, merged_into, last_seen FROM customers`, `SELECT kind, value, customer_id FROM identities WHERE kind IN ('user_id', 'anonymous_id')`
	var err error
	if only == nil {
		if err = s.db.Each(ctx, customers, nil, customer); err == nil {
			err = s.db.Each(ctx, idents, nil, identities)
		}
	} else if err = s.db.EachIn(ctx, customers+` WHERE id IN `, nil, ids, customer); err == nil {
		err = s.db.EachIn(ctx, idents+` AND customer_id IN `, nil, ids, identities)
	}
	if err != nil {
		return nil, err
	}
	owner := func(id string) string {
		for range 16 {
			into, ok := merged[id]
			if !ok {
				break
			}
			id = into
		}
		return id
	}
	since90, since365 := now.Add(-90*24*time.Hour).UnixMilli(), now.Add(-365*24*time.Hour).UnixMilli()
	answers, err := s.countedAnswers(ctx, since365)
	if err != nil {
		return nil, err
	}
	count := func(r *sql.Rows) error {
		var user, anon, typ, name, source, body string
		var ts, seq int64
		if err := r.Scan(&user, &anon, &typ, &name, &source, &ts, &seq, &body); err != nil {
			return err
		}
		a := acts[who[identity(user, anon)]]
		if a == nil || source == eventlog.SourceActions || (typ != eventlog.Track && typ != "page" && typ != "screen") {
			return nil
		}
		if name == "Survey Responded" && answers.counts(seq, body) {
			a.surveys++
		}
		if ts >= since90 {
			a.n90++
			if strings.HasPrefix(name, "Community ") && name != "Community Left" {
				a.community90++
			}
		}
		return nil
	}
	const cols = `SELECT COALESCE(user_id, ''), COALESCE(anonymous_id, ''), type, event, source_id, ts, seq,
		CASE WHEN event = 'Survey Responded' THEN body ELSE '' END FROM events`
	if only == nil {
		err = s.db.Each(ctx, cols+` WHERE ts >= $1`, []any{since365}, count)
	} else {
		err = s.db.EachIn(ctx, cols+` WHERE ts >= $1 AND user_id IN `, []any{since365}, users, count)
		if err == nil {
			err = s.db.EachIn(ctx, cols+` WHERE ts >= $1 AND user_id IS NULL AND anonymous_id IN `, []any{since365}, anons, count)
		}
	}
	if err != nil {
		return nil, err
	}
	err = s.db.Each(ctx, `SELECT DISTINCT identity FROM community_members`, nil, func(r *sql.Rows) error {
		var id string
		if err := r.Scan(&id); err != nil {
			return err
		}
		if a := acts[who[id]]; a != nil {
			a.member = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// A sender's profile may have joined another since the sign-up.
	err = s.db.Each(ctx, `SELECT r.sender_id, COALESCE(c.merged_into, ''), COUNT(*) FROM loyalty_referrals r LEFT JOIN customers c ON c.id = r.sender_id
		WHERE r.sender_id <> '' GROUP BY r.sender_id, c.merged_into`, nil, func(r *sql.Rows) error {
		var id, into string
		var n int64
		if err := r.Scan(&id, &into, &n); err != nil {
			return err
		}
		if into != "" {
			id = into // one step; the daily full run sees deeper chains through merged
		}
		if a := acts[owner(id)]; a != nil {
			a.referred += n
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Engagement, 0, len(acts))
	for c, a := range acts {
		out = append(out, a.score(c, now))
	}
	return out, nil
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

// counts reports whether the Survey Responded event at seq with body counts.
func (c answerCheck) counts(seq int64, body string) bool {
	if c.recorded[seq] {
		return true
	}
	var m struct {
		Properties struct {
			SurveyID any `json:"survey_id"`
		} `json:"properties"`
	}
	if json.Unmarshal([]byte(body), &m) != nil {
		return false
	}
	id, isString := m.Properties.SurveyID.(string)
	switch {
	case m.Properties.SurveyID == nil:
		return true // no survey named: another tool's answer
	case !isString:
		return false
	case c.surveys[id] || strings.HasPrefix(id, "srv_"):
		return false // a cxloop survey's answer that was not recorded
	}
	return true
}
