// Package loyalty runs a relationship program: a points ledger whose
// balance is the sum of append-only entries, earning rules on events as
// data, refunds that reverse what their order earned, redemptions that never
// take a balance below zero, tiers, and referral codes.
//
// It reads profiles through the profile package; it must never import the
// api, web or app packages.
package loyalty

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/match"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// Entry kinds.
const (
	Earn    = "earn"
	Redeem  = "redeem"
	Expire  = "expire"
	Adjust  = "adjust"
	Reverse = "reverse"
)

// Rule earns points on an event: PointsPerUnit per unit of a numeric
// property (by default total, else revenue) plus Points flat.
type Rule struct {
	ID            string  `json:"id"`
	On            string  `json:"on"`
	PointsPerUnit float64 `json:"points_per_unit"`
	Points        int64   `json:"points"`
	Property      string  `json:"property,omitempty"`
	// Beneficiary is who earns: the event's customer (the default) or, for
	// Referral Signed Up and Referral Converted, the sender who referred them.
	Beneficiary string `json:"beneficiary"`
	// Paused: the rule earns nothing on what arrives while it is paused.
	Paused    bool         `json:"paused"`
	CreatedAt store.Millis `json:"createdAt"`
}

// Beneficiaries of a rule.
const (
	Customer = "customer"
	Sender   = "sender"
)

// Entry is one line of the ledger.
type Entry struct {
	ID        string       `json:"id"`
	Kind      string       `json:"kind"`
	Points    int64        `json:"points"`
	Event     string       `json:"event,omitempty"`
	MessageID string       `json:"messageId,omitempty"`
	OrderID   string       `json:"orderId,omitempty"`
	Note      string       `json:"note,omitempty"`
	At        store.Millis `json:"at"`
}

// Service is the loyalty program.
type Service struct {
	db       *store.DB
	log      *eventlog.Log
	profiles *profile.Service
	now      func() time.Time
	logger   *slog.Logger
	// reviewing and engaging serialise tier reviews and engagement runs
	// (the background jobs and callers).
	reviewing, engaging sync.Mutex
	// linkKey signs guide links (made on first use, kept in loyalty_config).
	linkMu  sync.Mutex
	linkKey []byte
	// answers, when set, tells engagement which survey answers count.
	answers SurveyAnswers
}

// NewService returns the loyalty service; now is the clock (nil: time.Now).
func NewService(db *store.DB, log *eventlog.Log, profiles *profile.Service, now func() time.Time, logger *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, log: log, profiles: profiles, now: now, logger: logger}
}

// validate fills in defaults and names the first wrong field.
func (r *Rule) validate() error {
	r.On = strings.TrimSpace(r.On)
	if r.On == "" {
		return fault.Field("on", "name the event that earns points, e.g. \"Order Completed\"")
	}
	if r.PointsPerUnit < 0 || math.IsNaN(r.PointsPerUnit) || r.PointsPerUnit > 1000 {
		return fault.Field("points_per_unit", "points_per_unit is between 0 and 1000")
	}
	if r.Points < 0 || r.Points > 1_000_000 {
		return fault.Field("points", "points is between 0 and 1,000,000")
	}
	if r.PointsPerUnit == 0 && r.Points == 0 {
		return fault.Field("points_per_unit", "a rule earns points_per_unit, points, or both")
	}
	switch r.Beneficiary {
	case "":
		r.Beneficiary = Customer
	case Customer, Sender:
	default:
		return fault.Field("beneficiary", "a rule rewards the event's customer or, for referral events, the sender")
	}
	r.Property = strings.TrimSpace(r.Property)
	return nil
}

// CreateRule validates and stores an earning rule.
func (s *Service) CreateRule(ctx context.Context, r *Rule) (*Rule, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	r.ID, r.CreatedAt = store.NewID("lrule"), store.Millis(s.now().UnixMilli())
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO loyalty_rules (id, event, points_per_unit, points, property, beneficiary, created_at, paused) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			r.ID, r.On, r.PointsPerUnit, r.Points, r.Property, r.Beneficiary, int64(r.CreatedAt), boolInt(r.Paused))
		return err
	})
	return r, err
}

// DeleteRule stops a rule from earning; what it earned stays in the ledger.
func (s *Service) DeleteRule(ctx context.Context, id string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM loyalty_rules WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.New(fault.NotFound, "no earning rule %q", id)
		}
		return nil
	})
}

// UpdateRule edits an earning rule: patch is a JSON object of the fields
// to change (as POST /api/v1/loyalty/rules takes them; "paused": true
// pauses it). It returns the rule before and after.
func (s *Service) UpdateRule(ctx context.Context, id string, patch []byte) (before, after *Rule, err error) {
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		list, err := rules(ctx, tx)
		if err != nil {
			return err
		}
		for i := range list {
			if list[i].ID == id {
				before = &list[i]
			}
		}
		if before == nil {
			return fault.New(fault.NotFound, "no earning rule %q", id)
		}
		next := *before
		if err := httpio.DecodeJSON(patch, &next); err != nil {
			return err
		}
		if next.ID != before.ID {
			return fault.Field("id", "a rule's id cannot change")
		}
		if next.CreatedAt != before.CreatedAt {
			return fault.Field("createdAt", "a rule's creation time cannot change")
		}
		if err := next.validate(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE loyalty_rules SET event = $1, points_per_unit = $2, points = $3, property = $4, beneficiary = $5, paused = $6 WHERE id = $7`,
			next.On, next.PointsPerUnit, next.Points, next.Property, next.Beneficiary, boolInt(next.Paused), id); err != nil {
			return err
		}
		after = &next
		return nil
	})
	return before, after, err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Rules lists the earning rules.
func (s *Service) Rules(ctx context.Context) ([]Rule, error) { return rules(ctx, s.db) }

// liveRules lists the rules that are not paused.
func liveRules(ctx context.Context, q eventlog.Querier) ([]Rule, error) {
	list, err := rules(ctx, q)
	out := list[:0]
	for _, r := range list {
		if !r.Paused {
			out = append(out, r)
		}
	}
	return out, err
}

func rules(ctx context.Context, q eventlog.Querier) ([]Rule, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, event, points_per_unit, points, property, beneficiary, created_at, paused FROM loyalty_rules ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Rule{}
	for rows.Next() {
		var r Rule
		var paused int
		if err := rows.Scan(&r.ID, &r.On, &r.PointsPerUnit, &r.Points, &r.Property, &r.Beneficiary, &r.CreatedAt, &paused); err != nil {
			return nil, err
		}
		r.Paused = paused == 1
		out = append(out, r)
	}
	return out, rows.Err()
}

// earned is the points a rule gives for an event's properties.
func (r Rule) earned(props map[string]any) int64 {
	pts := r.Points
	if r.PointsPerUnit > 0 {
		prop := r.Property
		if prop == "" {
			prop = "total"
			if _, ok := props["total"]; !ok {
				prop = "revenue"
			}
		}
		if v, ok := match.Number(props[prop]); ok && v > 0 {
			pts += int64(math.Floor(v * r.PointsPerUnit))
		}
	}
	return pts
}

// member is a customer as the ledger knows them: their identities.
type member struct {
	id           string
	userIDs      []string
	anonymousIDs []string
}

func (s *Service) member(ctx context.Context, ref string) (member, error) {
	id, q, err := s.profiles.EventFilter(ctx, ref)
	if err != nil {
		return member{}, err
	}
	return member{id: id, userIDs: q.UserIDs, anonymousIDs: q.AnonymousIDs}, nil
}

// where selects a member's entries.
func (m member) where(first int) (string, []any) {
	var ors []string
	var args []any
	for _, u := range m.userIDs {
		args = append(args, u)
		ors = append(ors, fmt.Sprintf("user_id = $%d", first+len(args)-1))
	}
	for _, a := range m.anonymousIDs {
		args = append(args, a)
		ors = append(ors, fmt.Sprintf("(user_id = '' AND anonymous_id = $%d)", first+len(args)-1))
	}
	if len(ors) == 0 {
		return "1 = 0", nil
	}
	return "(" + strings.Join(ors, " OR ") + ")", args
}

// keys are the running-sum keys of a member's identities.
func (m member) keys() ([]any, string) {
	var args []any
	var ph []string
	for _, u := range m.userIDs {
		args = append(args, "u:"+u)
		ph = append(ph, fmt.Sprintf("$%d", len(args)))
	}
	for _, a := range m.anonymousIDs {
		args = append(args, "a:"+a)
		ph = append(ph, fmt.Sprintf("$%d", len(args)))
	}
	return args, strings.Join(ph, ",")
}

// identity is the running-sum key of an entry.
func identity(user, anon string) string {
	if user != "" {
		return "u:" + user
	}
	return "a:" + anon
}

// balance adds up a member's running sums through q.
func balance(ctx context.Context, q eventlog.Querier, m member) (int64, error) {
	args, ph := m.keys()
	if len(args) == 0 {
		return 0, nil
	}
	var b int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(points), 0) FROM loyalty_balances WHERE identity IN (`+ph+`)`, args...).Scan(&b)
	return b, err
}

// add writes a ledger entry, once per idempotency key, and moves the
// running sums with it. It reports whether the entry was new.
func add(ctx context.Context, tx *store.Tx, id, user, anon, kind string, points int64, event, message, order, rule, key, note string, at int64) (bool, error) {
	res, err := tx.ExecContext(ctx, `INSERT INTO loyalty_entries (id, user_id, anonymous_id, kind, points, event, message_id, order_id, rule_id,
		idempotency_key, note, at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (idempotency_key) DO NOTHING`,
		id, user, anon, kind, points, event, message, order, rule, key, note, at)
	if err != nil {
		return false, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return false, nil
	}
	return true, sums(ctx, tx, identity(user, anon), kind, points, at)
}

// sums moves a running balance, and the monthly earned points for earns and reversals.
func sums(ctx context.Context, tx *store.Tx, key, kind string, points, at int64) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO loyalty_balances (identity, points) VALUES ($1, $2)
		ON CONFLICT (identity) DO UPDATE SET points = loyalty_balances.points + $2`, key, points); err != nil {
		return err
	}
	if kind != Earn && kind != Reverse {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO loyalty_earned (identity, month, points) VALUES ($1, $2, $3)
		ON CONFLICT (identity, month) DO UPDATE SET points = loyalty_earned.points + $3`, key, time.UnixMilli(at).UTC().Format("2006-01"), points)
	return err
}

// Summary is a member's standing.
type Summary struct {
	Customer     string `json:"customer"`
	Balance      int64  `json:"balance"`
	Tier         string `json:"tier"`
	NextTier     string `json:"nextTier,omitempty"`
	PointsToNext int64  `json:"pointsToNext,omitempty"` // when tiers count points
	Earned12m    int64  `json:"earned12m"`              // in this calendar month and the 11 before
	// Measure is what the tiers count (points, spend or engagement), Value
	// the member's count and ToNext what the next tier needs more.
	Measure       string `json:"measure"`
	Value         int64  `json:"value"`
	ToNext        int64  `json:"toNext,omitempty"`
	ReferralCode  string `json:"referral_code"`
	LifetimeEarns int64  `json:"lifetimeEarned"`
	// The relationship beyond points: engagement (0–100), affinity groups,
	// customers referred and how many of them ordered.
	Engagement         float64  `json:"engagement"`
	Communities        []string `json:"communities"`
	Referred           int      `json:"referred"`
	ReferralsConverted int      `json:"referralsConverted"`
}

// Summary returns a member's balance, tier and referral code.
func (s *Service) Summary(ctx context.Context, ref string) (*Summary, error) {
	return s.summary(ctx, ref, true)
}

// summary is a member's standing; with relationship, also their
// engagement, groups and referrals.
func (s *Service) summary(ctx context.Context, ref string, relationship bool) (*Summary, error) {
	m, err := s.member(ctx, ref)
	if err != nil {
		return nil, err
	}
	out := &Summary{Customer: m.id, ReferralCode: ReferralCode(m.id)}
	if out.Balance, err = balance(ctx, s.db, m); err != nil {
		return nil, err
	}
	if args, ph := m.keys(); len(args) > 0 {
		since := s.now().UTC().AddDate(0, -11, 0).Format("2006-01")
		args = append(args, since)
		err = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN month >= $`+fmt.Sprint(len(args))+` THEN points ELSE 0 END), 0), COALESCE(SUM(points), 0)
			FROM loyalty_earned WHERE identity IN (`+ph+`)`, args...).Scan(&out.Earned12m, &out.LifetimeEarns)
		if err != nil {
			return nil, err
		}
	}
	p, err := s.Program(ctx)
	if err != nil {
		return nil, err
	}
	out.Measure = p.Measure
	if out.Value, err = s.measure(ctx, p, m, out.Earned12m); err != nil {
		return nil, err
	}
	t, next := p.tierOf(out.Value)
	out.Tier = t.Name
	if next != nil {
		out.NextTier, out.ToNext = next.Name, next.From-out.Value
	}
	// A member keeps a higher reviewed tier through the grace period.
	stored, err := s.storedTier(ctx, m.id)
	if err != nil {
		return nil, err
	}
	for i, pt := range p.Tiers {
		if pt.Name == stored {
			for j, ct := range p.Tiers {
				if ct.Name == t.Name && i > j {
					out.Tier = stored
					out.NextTier, out.ToNext = "", 0
					if i+1 < len(p.Tiers) {
						out.NextTier, out.ToNext = p.Tiers[i+1].Name, p.Tiers[i+1].From-out.Value
					}
				}
			}
		}
	}
	if p.Measure == ByPoints {
		out.PointsToNext = out.ToNext
	}
	if !relationship {
		return out, nil
	}
	return out, s.relationship(ctx, m, out)
}

// relationship fills in a member's engagement, groups and referrals.
func (s *Service) relationship(ctx context.Context, m member, out *Summary) error {
	e, err := s.EngagementOf(ctx, m.id)
	if err != nil {
		return err
	}
	out.Engagement, out.Communities = e.Score, []string{}
	if args, ph := m.keys(); len(args) > 0 {
		err := s.db.Each(ctx, `SELECT DISTINCT community FROM community_members WHERE identity IN (`+ph+`) ORDER BY community`, args, func(r *sql.Rows) error {
			var c string
			err := r.Scan(&c)
			out.Communities = append(out.Communities, c)
			return err
		})
		if err != nil {
			return err
		}
	}
	return s.db.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(converted_at) FROM loyalty_referrals WHERE sender_id = $1`, m.id).
		Scan(&out.Referred, &out.ReferralsConverted)
}

// ReferralCode is a member's stable referral code.
func ReferralCode(customer string) string {
	h := sha256.Sum256([]byte("referral\x00" + customer))
	return "R" + base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:6])
}

// Ledger lists a member's entries, newest first.
func (s *Service) Ledger(ctx context.Context, ref string, limit int) ([]Entry, error) {
	m, err := s.member(ctx, ref)
	if err != nil {
		return nil, err
	}
	where, args := m.where(1)
	args = append(args, limit)
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, points, event, message_id, order_id, note, at FROM loyalty_entries WHERE `+where+
		fmt.Sprintf(` ORDER BY at DESC, id DESC LIMIT $%d`, len(args)), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.ID, &e.Kind, &e.Points, &e.Event, &e.MessageID, &e.OrderID, &e.Note, &e.At); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// lockKey is the advisory lock that serialises one member's redemptions.
func lockKey(customer string) int64 {
	h := sha256.Sum256([]byte("loyalty\x00" + customer))
	return int64(binary.BigEndian.Uint64(h[:8]) >> 1)
}

// Redeem takes points from a member's balance, once per idempotency key:
// a repeated key answers the first redemption again. It refuses (conflict)
// when the balance is too low, also under concurrent redemptions.
func (s *Service) Redeem(ctx context.Context, ref string, points int64, key, note string) (*Entry, int64, error) {
	if points <= 0 || points > 100_000_000 {
		return nil, 0, fault.Field("points", "points is a whole number above 0")
	}
	key = strings.TrimSpace(key)
	if key == "" || len(key) > 200 {
		return nil, 0, fault.Field("idempotency_key", "an idempotency_key of at most 200 characters makes a retried redemption count once")
	}
	m, err := s.member(ctx, ref)
	if err != nil {
		return nil, 0, err
	}
	if len(m.userIDs) == 0 && len(m.anonymousIDs) == 0 {
		return nil, 0, fault.New(fault.Conflict, "the member has no points")
	}
	now := s.now()
	e := &Entry{ID: store.NewID("lent"), Kind: Redeem, Points: -points, Note: note, At: store.Millis(now.UnixMilli())}
	var left int64
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if err := s.db.Lock(ctx, tx, lockKey(m.id)); err != nil {
			return err
		}
		var prior Entry
		err := tx.QueryRowContext(ctx, `SELECT id, kind, points, note, at FROM loyalty_entries WHERE idempotency_key = $1`, "redeem:"+m.id+":"+key).
			Scan(&prior.ID, &prior.Kind, &prior.Points, &prior.Note, &prior.At)
		if err == nil {
			*e = prior
			left, err = balance(ctx, tx, m)
			return err
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		b, err := balance(ctx, tx, m)
		if err != nil {
			return err
		}
		if b < points {
			return fault.New(fault.Conflict, "the balance is %d points; %d cannot be redeemed", b, points)
		}
		user, anon := first(m.userIDs), ""
		if user == "" {
			anon = first(m.anonymousIDs)
		}
		if _, err := add(ctx, tx, e.ID, user, anon, Redeem, -points, "", "", "", "", "redeem:"+m.id+":"+key, note, int64(e.At)); err != nil {
			return err
		}
		left = b - points
		ev, err := eventlog.Own("Points Redeemed", "redeem-"+e.ID, user, anon, "web", now,
			map[string]any{"points": points, "balance": left, "entry_id": e.ID, "note": note})
		if err != nil {
			return err
		}
		return s.log.AppendTx(ctx, tx, []eventlog.Event{ev})
	})
	if err != nil {
		return nil, 0, err
	}
	s.log.Notify()
	return e, left, nil
}

func first(list []string) string {
	if len(list) > 0 {
		return list[0]
	}
	return ""
}
