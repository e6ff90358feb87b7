package survey

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// ContactPolicy is the one server-side rule against over-surveying, across
// every channel: rolling-window limits for all surveys together (Global)
// and per rhythm. A survey adds its own limit and may be exempt from these.
//
// By default each rhythm allows one invitation per customer per 14 days and
// there is no global limit, so a quarterly relationship survey is not
// blocked by last week's post-order survey; set Global to make it so.
type ContactPolicy struct {
	Global  *Limit            `json:"global"`
	Rhythms map[string]*Limit `json:"rhythms"`
}

// Limit allows at most Max invitations per customer in Days days.
type Limit struct {
	Max  int `json:"max"`
	Days int `json:"days"`
}

// DefaultPolicy is the contact policy of a new installation.
func DefaultPolicy() ContactPolicy {
	return ContactPolicy{Rhythms: map[string]*Limit{
		Persistent: {Max: 1, Days: 14},
		Periodic:   {Max: 1, Days: 14},
		Pulse:      {Max: 1, Days: 14},
	}}
}

// Validate reports the first problem with the policy, naming its field.
func (p *ContactPolicy) Validate() error {
	check := func(field string, l *Limit) error {
		if l == nil {
			return nil
		}
		if l.Max < 1 || l.Days < 1 || l.Days > 3660 {
			return fault.Field(field, "a limit needs max ≥ 1 and days between 1 and 3660 (or null for none)")
		}
		return nil
	}
	if err := check("global", p.Global); err != nil {
		return err
	}
	for r, l := range p.Rhythms {
		switch r {
		case Persistent, Periodic, Pulse:
		default:
			return fault.Field("rhythms."+r, "rhythms are persistent, periodic and pulse")
		}
		if err := check("rhythms."+r, l); err != nil {
			return err
		}
	}
	return nil
}

// Policy returns the installation's contact policy.
func (s *Service) Policy(ctx context.Context) (ContactPolicy, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT contact_policy FROM survey_state`).Scan(&v)
	if err != nil {
		return ContactPolicy{}, err
	}
	if v == "" {
		return DefaultPolicy(), nil
	}
	var p ContactPolicy
	if err := json.Unmarshal([]byte(v), &p); err != nil {
		return ContactPolicy{}, fmt.Errorf("stored contact policy: %w", err)
	}
	return p, nil
}

// SetPolicy replaces the contact policy.
func (s *Service) SetPolicy(ctx context.Context, p ContactPolicy) error {
	if p.Rhythms == nil {
		p.Rhythms = map[string]*Limit{}
	}
	if err := p.Validate(); err != nil {
		return err
	}
	b, _ := json.Marshal(p)
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE survey_state SET contact_policy = $1`, string(b))
		return err
	})
}

// contact is one past invitation that reached a customer.
type contact struct {
	survey, rhythm string
	at             int64
}

// longest is the widest window any limit looks back over.
func (p ContactPolicy) longest(surveys []*Survey) time.Duration {
	days := 0
	if p.Global != nil {
		days = p.Global.Days
	}
	for _, l := range p.Rhythms {
		if l != nil {
			days = max(days, l.Days)
		}
	}
	for _, s := range surveys {
		days = max(days, s.Policy.Days)
	}
	return time.Duration(days) * 24 * time.Hour
}

// allows decides whether sv may contact a customer with this history now.
// It returns "" or the limit's scope (global, rhythm, survey) that refuses.
func (p ContactPolicy) allows(sv *Survey, history []contact, now int64) string {
	count := func(days int, match func(contact) bool) int {
		since := now - int64(days)*24*int64(time.Hour/time.Millisecond)
		n := 0
		for _, c := range history {
			if c.at > since && match(c) {
				n++
			}
		}
		return n
	}
	if !sv.Policy.Exempt {
		if g := p.Global; g != nil && count(g.Days, func(contact) bool { return true }) >= g.Max {
			return "global"
		}
		if r := p.Rhythms[sv.Rhythm]; r != nil && count(r.Days, func(c contact) bool { return c.rhythm == sv.Rhythm }) >= r.Max {
			return "rhythm"
		}
	}
	if sv.Policy.Max > 0 && count(sv.Policy.Days, func(c contact) bool { return c.survey == sv.ID }) >= sv.Policy.Max {
		return "survey"
	}
	return ""
}
