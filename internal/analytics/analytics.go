// Package analytics connects experience to outcomes: each customer's
// lifetime value (BG/NBD and Gamma-Gamma, package clv) and the risk that
// they are leaving, with the dissatisfied who never complained.
// EvaluateCLV and EvaluatePLS check its models on published data sets
// (cxloop eval clv, cxloop eval pls).
//
// It reads profiles through the profile package, analyses open answers with
// the text package, asks the survey capability for surveys' names and
// questions' texts through SurveyInfo (wired by app) and keeps its own
// projection of orders and signals; it imports neither survey nor the api,
// web or app packages.
package analytics

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cxloop/cxloop/internal/analytics/clv"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/jobs"
	"github.com/cxloop/cxloop/internal/memo"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// Service is the analyses.
type Service struct {
	db       *store.DB
	profiles *profile.Service
	now      func() time.Time
	logger   *slog.Logger
	mu       sync.Mutex // one refresh at a time
	// jobs, once registered, runs refreshes in the background.
	jobs *jobs.Service
	// surveyInfo, when set, answers what the reports need of surveys.
	surveyInfo SurveyInfo
	// referrals, when set, gives referral revenue by month (YYYY-MM).
	referrals func(ctx context.Context, since time.Time) (map[string]float64, error)
	// fits are the models kept on large data (see kept).
	fits memo.Fits
}

// NewService returns the service; now is the clock (nil: time.Now).
func NewService(db *store.DB, profiles *profile.Service, now func() time.Time, logger *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, profiles: profiles, now: now, logger: logger}
}

// Model is the value model in force: its parameters, when and on how many
// customers it was fitted.
type Model struct {
	BGNBD      clv.BGNBD      `json:"bgnbd"`
	GammaGamma clv.GammaGamma `json:"gamma_gamma"`
	Customers  int            `json:"customers"`
	Orders     int            `json:"orders"`
	Signals    int            `json:"signals"`
	FittedAt   time.Time      `json:"fittedAt"`
	Fitted     bool           `json:"fitted"` // false: too few customers with orders; defaults in use
}

// Horizon and discount of the lifetime value: three years, 10 % a year.
const (
	HorizonWeeks = 156
	AnnualRate   = 0.10
)

// Value is a customer's computed value and risk.
type Value struct {
	Customer     string    `json:"customer"`
	Orders       int       `json:"orders"`
	PAlive       float64   `json:"p_alive"`
	Expected52w  float64   `json:"expected_purchases_52w"`
	Spend        float64   `json:"expected_spend"` // per order
	CLV          float64   `json:"clv"`
	Risk         float64   `json:"risk"`
	Dissatisfied bool      `json:"dissatisfied"` // their latest word in the last year was unhappy
	Complained   bool      `json:"complained"`
	Silent       bool      `json:"silent"` // dissatisfied, never complained, fading (see Silent)
	ComputedAt   time.Time `json:"computedAt"`
}

// defaults are used until enough customers have ordered to fit: the
// CDNOW estimates, a reasonable shape for retail.
var defaults = Model{BGNBD: clv.BGNBD{R: 0.243, Alpha: 4.414, A: 0.793, B: 2.426}, GammaGamma: clv.GammaGamma{P: 6.25, Q: 3.74, V: 15.44}}

// Refresh refits the models on every customer's orders and recomputes
// every customer's value and risk.
func (s *Service) Refresh(ctx context.Context) (*Model, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	orders, signals, err := s.counts(ctx)
	if err != nil {
		return nil, err
	}
	hist, err := s.histories(ctx)
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(hist))
	for c := range hist {
		ids = append(ids, c)
	}
	sort.Strings(ids)
	cs := make([]clv.Customer, len(ids))
	for i, c := range ids {
		cs[i] = summarise(hist[c], now)
	}
	m := defaults
	m.Customers, m.Orders, m.Signals, m.FittedAt = len(ids), orders, signals, now
	repeat := 0
	for _, c := range cs {
		if c.X > 0 {
			repeat++
		}
	}
	if len(cs) >= 50 && repeat >= 10 {
		p, err1 := clv.FitBGNBD(cs)
		g, err2 := clv.FitGammaGamma(cs)
		if err1 == nil && err2 == nil && g.Q > 1 { // q ≤ 1: the spend model has no mean
			m.BGNBD, m.GammaGamma, m.Fitted = p, g, true
		}
	}
	sig, err := s.signals(ctx, now)
	if err != nil {
		return nil, err
	}
	rate := math.Pow(1+AnnualRate, 1.0/52) - 1
	var rows [][]any
	add := func(v Value) error {
		if v.Dissatisfied && !v.Complained {
			if v.Orders > 0 && v.PAlive < 0.5 {
				v.Silent = true
			} else {
				before, recent, err := s.activity(ctx, v.Customer, now)
				if err != nil {
					return err
				}
				v.Silent = recent < before
			}
		}
		rows = append(rows, []any{v.Customer, v.Orders, v.PAlive, v.Expected52w, v.Spend, v.CLV, v.Risk, v.Dissatisfied, v.Complained, v.Silent, now.UnixMilli()})
		return nil
	}
	for i, c := range ids {
		if err := add(m.value(c, cs[i], len(hist[c]), sig[c], rate, now)); err != nil {
			return nil, err
		}
	}
	// Customers with signals but no order yet have a risk too.
	for c, sg := range sig {
		if _, ok := hist[c]; !ok {
			if err := add(m.value(c, clv.Customer{}, 0, sg, rate, now)); err != nil {
				return nil, err
			}
		}
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i][0].(string) < rows[j][0].(string) }) // lock rows in one order
	b, _ := json.Marshal(m)
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.db.BulkInsert(ctx, tx, `INSERT INTO customer_values (customer_id, orders, p_alive, expected_52w, spend, clv, risk, dissatisfied, complained, silent, computed_at) VALUES`,
			`ON CONFLICT (customer_id) DO UPDATE SET orders = excluded.orders, p_alive = excluded.p_alive, expected_52w = excluded.expected_52w, spend = excluded.spend,
			clv = excluded.clv, risk = excluded.risk, dissatisfied = excluded.dissatisfied, complained = excluded.complained, silent = excluded.silent,
			computed_at = excluded.computed_at`, 11, rows); err != nil {
			return err
		}
		// The customers not valued now (merged into another since) keep no
		// value of their own.
		valued := make(map[string]bool, len(rows))
		for _, r := range rows {
			valued[r[0].(string)] = true
		}
		var had []string
		rs, err := tx.QueryContext(ctx, `SELECT customer_id FROM customer_values`)
		if err != nil {
			return err
		}
		for rs.Next() {
			var id string
			if err := rs.Scan(&id); err != nil {
				rs.Close()
				return err
			}
			had = append(had, id)
		}
		if err := cmp.Or(rs.Err(), rs.Close()); err != nil {
			return err
		}
		for _, id := range had {
			if valued[id] {
				continue
			}
			if _, err := tx.ExecContext(ctx, `DELETE FROM customer_values WHERE customer_id = $1`, id); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE analytics_state SET value_model = $1`, string(b))
		return err
	})
	return &m, err
}

func (s *Service) counts(ctx context.Context) (orders, signals int, err error) {
	n, err := s.sizes(ctx)
	return n[0], n[1], err
}

// sizes are how many orders, signals and answers there are, read once in
// a request (memo) for every report of it that asks.
func (s *Service) sizes(ctx context.Context) ([3]int, error) {
	return memo.Get(ctx, "analytics.sizes", func() ([3]int, error) {
		var n [3]int
		err := s.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM an_orders), (SELECT COUNT(*) FROM an_signals), (SELECT COUNT(*) FROM an_answers)`).Scan(&n[0], &n[1], &n[2])
		return n, err
	})
}

// purchase is one day's orders of a customer.
type purchase struct {
	day   int64 // days since the epoch
	value float64
}

// histories are each customer's purchase days (refunded orders left out).
func (s *Service) histories(ctx context.Context) (map[string][]purchase, error) {
	return memo.Get(ctx, "analytics.histories", func() (map[string][]purchase, error) { return s.readHistories(ctx) })
}

// answer is one answer of the projection: its response (message id),
// question, value, channel and survey.
type answer struct {
	msg, question, channel, survey string
	value                          float64
}

// answers reads every answer, once under a memo: the reports of a page
// that read them all (ACSI, channels) share one read.
func (s *Service) answers(ctx context.Context) ([]answer, error) {
	return memo.Get(ctx, "analytics.answers", func() ([]answer, error) {
		var out []answer
		err := s.db.Each(ctx, `SELECT message_id, question, value, channel, survey_id FROM an_answers`, nil, func(r *sql.Rows) error {
			var a answer
			err := r.Scan(&a.msg, &a.question, &a.value, &a.channel, &a.survey)
			out = append(out, a)
			return err
		})
		return out, err
	})
}

// readHistories reads every customer's purchases, by day.
func (s *Service) readHistories(ctx context.Context) (map[string][]purchase, error) {
	type row struct {
		key   string
		total float64
		at    int64
	}
	var list []row
	err := s.db.Each(ctx, `SELECT identity, total, at FROM an_orders WHERE refunded_at IS NULL`, nil, func(rows *sql.Rows) error {
		var r row
		err := rows.Scan(&r.key, &r.total, &r.at)
		list = append(list, r)
		return err
	})
	if err != nil {
		return nil, err
	}
	owner, err := profile.OwnersBy(ctx, s.profiles, list, func(r row) string { return r.key })
	if err != nil {
		return nil, err
	}
	out := map[string][]purchase{}
	for _, r := range list {
		c := owner[r.key]
		if c == "" {
			continue
		}
		out[c] = append(out[c], purchase{day: r.at / 86400000, value: r.total})
	}
	for c, ps := range out {
		sort.Slice(ps, func(i, j int) bool { return ps[i].day < ps[j].day })
		merged := ps[:0]
		for _, p := range ps {
			if n := len(merged); n > 0 && merged[n-1].day == p.day {
				merged[n-1].value += p.value
				continue
			}
			merged = append(merged, p)
		}
		out[c] = merged
	}
	return out, nil
}

// summarise is a customer's history in weeks up to now.
func summarise(ps []purchase, now time.Time) clv.Customer {
	today := float64(now.UnixMilli()) / 86400000
	first := float64(ps[0].day)
	c := clv.Customer{T: math.Max(0, today-first) / 7}
	sum := 0.0
	for _, p := range ps[1:] {
		c.X++
		c.Tx = float64(p.day-ps[0].day) / 7
		sum += p.value
	}
	if c.X > 0 {
		c.M = sum / c.X
	}
	return c
}

// signal is what a customer's signals say.
type signal struct {
	lowScore, negative, returned, complained bool
	openCases                                int
	// latest is the customer's latest word in the last year: a survey
	// response or a negative mention.
	latest *Word
}

// Word is something a customer said: a survey response (with its NPS, or
// its lowest score as a share of its scale, or its negative open answer)
// or a negative social mention.
type Word struct {
	Kind    string    `json:"kind"`            // nps, score (a share of its scale), or negative (an open answer or a mention)
	Value   *float64  `json:"value,omitempty"` // the NPS, or the score's share of its scale
	At      time.Time `json:"at"`
	Unhappy bool      `json:"unhappy"`
}

// Unhappy answers: an NPS of 0–6 (a detractor), or any score in the
// bottom quarter of its scale (CSAT 1–2 of 5, CES 1–2 of 7, ACSI 0–25).
const (
	UnhappyNPS   = 6
	UnhappyShare = 0.25
)

// DissatisfiedDays is how far back a customer's latest word counts.
const DissatisfiedDays = 365

// signals reads each customer's signals as of now: their latest word in
// the last DissatisfiedDays (unhappy: see UnhappyNPS; a negative open
// answer or mention is unhappy too), whether their latest survey answer
// was unhappy, a negative mention or a return in 90 days, any complaint,
// cases opened and not resolved.
func (s *Service) signals(ctx context.Context, now time.Time) (map[string]*signal, error) {
	return s.signalsFor(ctx, now, nil)
}

// signalsFor is signals for the customers whose identity keys are given
// (nil: everyone's): a customer's signals depend on their own rows alone.
func (s *Service) signalsFor(ctx context.Context, now time.Time, keys []string) (map[string]*signal, error) {
	if keys != nil && len(keys) == 0 {
		return map[string]*signal{}, nil
	}
	list, err := s.signalRows(ctx, now, keys)
	if err != nil {
		return nil, err
	}
	return s.signalsOf(ctx, now, list)
}

// signalsOf reads the signal rows (in time order) into each customer's signal.
func (s *Service) signalsOf(ctx context.Context, now time.Time, list []signalRow) (map[string]*signal, error) {
	owner, err := profile.OwnersBy(ctx, s.profiles, list, func(r signalRow) string { return r.key })
	if err != nil {
		return nil, err
	}
	recent := now.Add(-90 * 24 * time.Hour).UnixMilli()
	lastYear := now.Add(-DissatisfiedDays * 24 * time.Hour).UnixMilli()
	responses := responsesOf(list)
	out := map[string]*signal{}
	open := map[string]map[string]bool{}
	done := map[string]bool{} // responses read
	for _, r := range list {
		c := owner[r.key]
		if c == "" {
			continue
		}
		sg := out[c]
		if sg == nil {
			sg = &signal{}
			out[c] = sg
			open[c] = map[string]bool{}
		}
		var word *Word
		switch r.kind {
		case "score", "nps", "negative":
			if x := responses[r.msg]; x != nil {
				if done[r.msg] {
					continue
				}
				done[r.msg] = true
				if word = x.word(r.at); word == nil {
					continue // no score on its scale
				}
				if x.hasNPS || x.hasShare {
					sg.lowScore = word.Kind != "negative" && word.Unhappy // the latest answer counts (rows are in time order)
				}
				sg.negative = sg.negative || (x.negative && r.at >= recent)
			} else if r.kind == "negative" { // a negative mention, or an open answer without a score
				word = &Word{Kind: "negative", At: time.UnixMilli(r.at).UTC(), Unhappy: true}
				sg.negative = sg.negative || r.at >= recent
			}
		case "return":
			sg.returned = sg.returned || r.at >= recent
		case "complaint":
			sg.complained = true
		case "case_open":
			open[c][r.ref] = true
		case "case_resolved":
			delete(open[c], r.ref)
		}
		if word != nil && r.at >= lastYear {
			sg.latest = word
		}
	}
	for c, sg := range out {
		sg.openCases = len(open[c])
	}
	return out, nil
}

// signalRow is one signal the consumer kept: of an identity, of a kind,
// with its value, what it refers to, and the message it came with.
type signalRow struct {
	key, kind, ref, msg string
	value               float64
	at                  int64
}

// signalRows reads the signals kept up to now, in time order: of the
// identity keys given, or (nil) of everyone.
func (s *Service) signalRows(ctx context.Context, now time.Time, keys []string) ([]signalRow, error) {
	where, args := `at <= $1`, []any{now.UnixMilli()}
	if keys != nil {
		ph := make([]string, len(keys))
		for i, k := range keys {
			args = append(args, k)
			ph[i] = fmt.Sprintf("$%d", i+2)
		}
		where += ` AND identity IN (` + strings.Join(ph, ",") + `)`
	}
	var list []signalRow
	err := s.db.Each(ctx, `SELECT identity, kind, value, ref, message_id, at FROM an_signals WHERE `+where+` ORDER BY at, message_id`, args,
		func(rows *sql.Rows) error {
			var r signalRow
			err := rows.Scan(&r.key, &r.kind, &r.value, &r.ref, &r.msg, &r.at)
			list = append(list, r)
			return err
		})
	return list, err
}

// response is what a survey response's signals say together: its lowest
// score as a share of its scale, its NPS, and whether an open answer was
// negative.
type response struct {
	share, nps       float64
	hasShare, hasNPS bool
	negative         bool
}

// responsesOf reads the survey responses among the signals, by message
// id: a response's signals (its score, its NPS, a negative open answer)
// share it, and are read as one word.
func responsesOf(list []signalRow) map[string]*response {
	responses := map[string]*response{}
	for _, r := range list {
		if r.kind != "score" && r.kind != "nps" {
			continue
		}
		x := responses[r.msg]
		if x == nil {
			x = &response{}
			responses[r.msg] = x
		}
		if r.kind == "score" {
			x.share, x.hasShare = r.value, r.value >= 0 && r.value <= 1
		} else {
			x.nps, x.hasNPS = r.value, r.value >= 0 && r.value <= 10
		}
	}
	for _, r := range list {
		if x := responses[r.msg]; x != nil && r.kind == "negative" {
			x.negative = true
		}
	}
	return responses
}

// word is what the response given at at says: an unhappy NPS, an unhappy
// score or a negative open answer first, else its NPS or score (nil when
// it has no score on its scale and no negative answer).
func (x *response) word(at int64) *Word {
	word := &Word{At: time.UnixMilli(at).UTC()}
	switch {
	case x.hasNPS && x.nps <= UnhappyNPS:
		word.Kind, word.Value, word.Unhappy = "nps", &x.nps, true
	case x.hasShare && x.share <= UnhappyShare:
		word.Kind, word.Value, word.Unhappy = "score", &x.share, true
	case x.negative:
		word.Kind, word.Unhappy = "negative", true
	case x.hasNPS:
		word.Kind, word.Value = "nps", &x.nps
	case x.hasShare:
		word.Kind, word.Value = "score", &x.share
	default:
		return nil
	}
	return word
}

// FadingDays is the window of the activity test: a customer is fading
// when their own touches in the last FadingDays fell below those of the
// FadingDays before.
const FadingDays = 90

// activity counts the customer's own events (not the business's actions
// on them) in the FadingDays up to now and in the FadingDays before.
func (s *Service) activity(ctx context.Context, customer string, now time.Time) (before, recent int, err error) {
	c, err := s.profiles.Get(ctx, customer)
	if err != nil {
		return 0, 0, err
	}
	return s.activityOf(ctx, c, now)
}

// activityOf is activity for a customer already read.
func (s *Service) activityOf(ctx context.Context, c profile.Customer, now time.Time) (before, recent int, err error) {
	return s.activityIn(ctx, c.EventQuery(), now)
}

// activityIn is activity for the events q finds.
func (s *Service) activityIn(ctx context.Context, q eventlog.Query, now time.Time) (before, recent int, err error) {
	end := now.UnixMilli() + 1
	mid := now.Add(-FadingDays * 24 * time.Hour).UnixMilli()
	if recent, err = eventlog.Count(ctx, s.db, q, mid, end); err != nil {
		return 0, 0, err
	}
	before, err = eventlog.Count(ctx, s.db, q, now.Add(-2*FadingDays*24*time.Hour).UnixMilli(), mid)
	return before, recent, err
}

// RiskDays is the horizon of the risk's first part: the chance that a
// buyer orders nothing in the next RiskDays days (the horizon cxloop eval
// churn checks the model on).
const RiskDays = 90

// riskScore is the risk of a customer whose chance of ordering nothing in
// the next RiskDays is noOrder (0 for a customer who has not ordered),
// with the signals sg (see value).
func riskScore(noOrder float64, sg *signal) float64 {
	risk := 0.5 * noOrder
	for _, x := range []struct {
		on bool
		w  float64
	}{{sg.lowScore, 0.2}, {sg.negative, 0.1}, {sg.returned, 0.1}, {sg.openCases > 0, 0.1}} {
		if x.on {
			risk += x.w
		}
	}
	return math.Min(1, risk)
}

// value computes one customer's value and risk:
//
//	risk = 0.5 × P(no order in the next 90 days) + 0.2 × an unhappy latest answer
//	     + 0.1 × negative mention or answer (90 days) + 0.1 × return (90 days) + 0.1 × unresolved case
//
// The first part is the value model's (BG/NBD) chance that a buyer orders
// nothing in the next RiskDays; it was 1 − P(alive), which ranked the
// customers who then ordered nothing no better than chance (AUC 0.495 on
// the demo, eval churn): under BG/NBD a one-time buyer is always alive,
// and a buyer who is alive may still be a rare one.
//
// A customer is dissatisfied when their latest word in the last year (a
// survey answer or a negative mention) was unhappy. Whether they are
// silent (never complained and fading) is decided by Refresh.
func (m Model) value(customer string, c clv.Customer, orders int, sg *signal, rate float64, now time.Time) Value {
	v := Value{Customer: customer, Orders: orders, ComputedAt: now, PAlive: 1}
	noOrder := 0.0
	if orders > 0 {
		v.PAlive = m.BGNBD.PAlive(c)
		v.Expected52w = m.BGNBD.Expected(c, 52)
		v.Spend = m.GammaGamma.Spend(c)
		v.CLV = clv.Value(m.BGNBD, m.GammaGamma, c, HorizonWeeks, rate)
		noOrder = m.BGNBD.PNoPurchase(c, RiskDays/7.0)
	}
	if sg == nil {
		sg = &signal{}
	}
	v.Risk = round(riskScore(noOrder, sg), 3)
	v.Dissatisfied = sg.latest != nil && sg.latest.Unhappy
	v.Complained = sg.complained
	v.PAlive, v.Expected52w, v.Spend, v.CLV = round(v.PAlive, 3), round(v.Expected52w, 2), round(v.Spend, 2), round(v.CLV, 2)
	return v
}

func round(v float64, d int) float64 {
	p := math.Pow(10, float64(d))
	return math.Round(v*p) / p
}

// fresh refreshes when orders or signals came in since the last refresh
// and the data is small enough to refit in a moment (the background job
// keeps large data current).
func (s *Service) fresh(ctx context.Context) error {
	m, err := s.Model(ctx)
	if err != nil {
		return err
	}
	orders, signals, err := s.counts(ctx)
	if err != nil {
		return err
	}
	switch {
	case m != nil && m.Orders == orders && m.Signals == signals:
		return nil
	case m != nil && m.Orders+m.Signals >= memo.LargeData:
		// Large data: answer with the values in hand, and refit soon when
		// the data grew materially (a load or an import arriving) or the
		// fit is older than memo.RefitAfter — not for every answer that comes
		// in: a refit reads every customer's history.
		if refitDue(m, orders, signals, s.now()) {
			s.refreshSoon()
		}
		return nil
	}
	_, err = s.Refresh(ctx)
	return err
}

// refitDue says whether a model fitted on large data is due a refit now
// that there are orders and signals: they differ by 1 % of what it was
// fitted on, or it is memo.RefitAfter old and they differ at all.
func refitDue(m *Model, orders, signals int, now time.Time) bool {
	moved := abs(orders-m.Orders) + abs(signals-m.Signals)
	return moved > 0 && (moved*100 >= m.Orders+m.Signals || now.Sub(m.FittedAt) >= memo.RefitAfter)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// refreshSoon queues a refresh when this node works jobs, so that values
// computed on part of the data (a demo or an import still arriving) do
// not stand until the hourly refresh.
func (s *Service) refreshSoon() {
	if s.jobs == nil || !s.jobs.Working() {
		return
	}
	if err := s.jobs.Insert(context.Background(), RefreshArgs{}, nil); err != nil {
		s.logger.Error("customer values", "err", err)
	}
}

// Model returns the value model in force (nil before the first refresh).
func (s *Service) Model(ctx context.Context) (*Model, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value_model FROM analytics_state`).Scan(&v)
	if err != nil || v == "" {
		return nil, err
	}
	var m Model
	return &m, json.Unmarshal([]byte(v), &m)
}

// ValueOf returns a customer's value and risk.
func (s *Service) ValueOf(ctx context.Context, ref string) (*Value, error) {
	c, err := s.profiles.Resolve(ctx, ref)
	if err != nil {
		return nil, err
	}
	if err := s.fresh(ctx); err != nil {
		return nil, err
	}
	v := &Value{Customer: c, PAlive: 1}
	var at int64
	err = s.db.QueryRowContext(ctx, `SELECT orders, p_alive, expected_52w, spend, clv, risk, dissatisfied, complained, silent, computed_at FROM customer_values
		WHERE customer_id = $1`, c).Scan(&v.Orders, &v.PAlive, &v.Expected52w, &v.Spend, &v.CLV, &v.Risk, &v.Dissatisfied, &v.Complained, &v.Silent, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return v, nil // no order and no signal yet
	}
	v.ComputedAt = time.UnixMilli(at).UTC()
	return v, err
}

// MaxAtRisk is the most customers AtRisk lists (and its CSV export holds).
const MaxAtRisk = 1000

// AtRisk lists the customers most at risk (only the silent dissatisfied
// when silent), highest risk first.
func (s *Service) AtRisk(ctx context.Context, silent bool, limit int) ([]Value, error) {
	if limit <= 0 || limit > MaxAtRisk {
		return nil, fault.Field("limit", "limit is between 1 and 1000")
	}
	if err := s.fresh(ctx); err != nil {
		return nil, err
	}
	q := `SELECT customer_id, orders, p_alive, expected_52w, spend, clv, risk, dissatisfied, complained, silent, computed_at FROM customer_values`
	if silent {
		q += ` WHERE silent`
	}
	q += ` ORDER BY risk DESC, clv DESC, customer_id LIMIT $1 OFFSET $2`
	// Page by risk, keeping the customers profile says are live (not
	// merged into another), until limit are found.
	out := []Value{}
	page := 2 * limit
	for offset := 0; len(out) < limit; offset += page {
		list, err := s.valuePage(ctx, q, page, offset)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(list))
		for i, v := range list {
			ids[i] = v.Customer
		}
		live, err := s.profiles.Live(ctx, ids)
		if err != nil {
			return nil, err
		}
		for _, v := range list {
			if live[v.Customer] && len(out) < limit {
				out = append(out, v)
			}
		}
		if len(list) < page {
			break
		}
	}
	return out, nil
}

// valuePage reads one page of customer values.
func (s *Service) valuePage(ctx context.Context, q string, limit, offset int) ([]Value, error) {
	rows, err := s.db.QueryContext(ctx, q, limit, offset)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Value
	for rows.Next() {
		var v Value
		var at int64
		if err := rows.Scan(&v.Customer, &v.Orders, &v.PAlive, &v.Expected52w, &v.Spend, &v.CLV, &v.Risk, &v.Dissatisfied, &v.Complained, &v.Silent, &at); err != nil {
			return nil, err
		}
		v.ComputedAt = time.UnixMilli(at).UTC()
		out = append(out, v)
	}
	return out, rows.Err()
}

// ValueTotals sums up the values of the customers with orders (live, not
// merged into another): how many they are, their lifetime value in all and
// on average, the orders expected of them in the next 52 weeks, and how
// many are likely still active (P(alive) at least one half). Customers with
// signals but no order have a risk, not a value: they are not counted.
type ValueTotals struct {
	Customers      int     `json:"customers"`
	CLV            float64 `json:"clv"`
	MeanCLV        float64 `json:"meanClv"`
	ExpectedOrders float64 `json:"expectedOrders52w"`
	LikelyActive   int     `json:"likelyActive"`
}

// Totals reads ValueTotals from the customers' values as last computed.
func (s *Service) Totals(ctx context.Context) (*ValueTotals, error) {
	type row struct {
		clv, expected float64
		alive         bool
	}
	list, err := liveValues(ctx, s, `SELECT customer_id, clv, expected_52w, p_alive >= 0.5 FROM customer_values WHERE orders > 0`, nil,
		func(r *sql.Rows) (string, row, error) {
			var id string
			var x row
			err := r.Scan(&id, &x.clv, &x.expected, &x.alive)
			return id, x, err
		})
	if err != nil {
		return nil, err
	}
	t := &ValueTotals{Customers: len(list)}
	for _, x := range list {
		t.CLV += x.clv
		t.ExpectedOrders += x.expected
		if x.alive {
			t.LikelyActive++
		}
	}
	if t.Customers > 0 {
		t.MeanCLV = t.CLV / float64(t.Customers)
	}
	return t, nil
}

// liveValues reads the rows of customer_values that q selects, scan giving
// each row's customer and value, and keeps those of customers profile says
// are live (not merged into another since the values were computed).
func liveValues[T any](ctx context.Context, s *Service, q string, args []any, scan func(*sql.Rows) (string, T, error)) ([]T, error) {
	var ids []string
	var rows []T
	err := s.db.Each(ctx, q, args, func(r *sql.Rows) error {
		id, x, err := scan(r)
		ids, rows = append(ids, id), append(rows, x)
		return err
	})
	if err != nil {
		return nil, err
	}
	live, err := s.profiles.Live(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := rows[:0]
	for i, x := range rows {
		if live[ids[i]] {
			out = append(out, x)
		}
	}
	return out, nil
}

// ModelVersion names the value model in force: it changes with a refit
// that changes the model (and so every customer's value and risk), not
// with one that fits the same data again.
func (s *Service) ModelVersion(ctx context.Context) (string, error) {
	m, err := s.Model(ctx)
	if err != nil || m == nil {
		return "none", err
	}
	m.FittedAt = time.Time{}
	b, _ := json.Marshal(m)
	h := fnv.New64a()
	h.Write(b)
	return strconv.FormatUint(h.Sum64(), 36), nil
}
