package analytics

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
)

// Silent is a silent dissatisfied customer, with the evidence: their
// latest word, and their own touches in the FadingDays before the values
// were computed and the FadingDays before those.
//
// A customer is silent dissatisfied when their latest word in the last
// DissatisfiedDays was unhappy, they never complained (no Complaint
// Submitted, no complaint case), and they are fading: their own touches
// fell (Recent < Before) or, having ordered, the value model puts the
// chance they are still a customer below ½.
type Silent struct {
	Customer   string    `json:"customer"`
	Name       string    `json:"name,omitempty"`
	Email      string    `json:"email,omitempty"`
	Risk       float64   `json:"risk"`
	PAlive     float64   `json:"p_alive"`
	Orders     int       `json:"orders"`
	CLV        float64   `json:"clv"`
	Latest     *Word     `json:"latest"`
	Before     int       `json:"before"`
	Recent     int       `json:"recent"`
	ComputedAt time.Time `json:"computedAt"`
}

// SilentDissatisfied lists the silent dissatisfied, most at risk first
// (the customers of AtRisk with silent), with the evidence for each.
// SilentCount is how many live customers are silent dissatisfied (the
// lists show the most at risk of them).
func (s *Service) SilentCount(ctx context.Context) (int, error) {
	if err := s.fresh(ctx); err != nil {
		return 0, err
	}
	ids, err := liveValues(ctx, s, `SELECT customer_id FROM customer_values WHERE silent`, nil, func(r *sql.Rows) (string, string, error) {
		var id string
		err := r.Scan(&id)
		return id, id, err
	})
	return len(ids), err
}

func (s *Service) SilentDissatisfied(ctx context.Context, limit int) ([]Silent, error) {
	values, err := s.AtRisk(ctx, true, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Silent, 0, len(values))
	// The signals of these customers only, as of each refresh (one, almost always).
	keys := map[time.Time][]string{}
	queries := map[string]eventlog.Query{}
	ids := make([]string, 0, len(values))
	for _, v := range values {
		_, q, err := s.profiles.EventFilter(ctx, v.Customer)
		if fault.Code(err) == fault.NotFound {
			continue
		} else if err != nil {
			return nil, err
		}
		queries[v.Customer] = q
		ids = append(ids, v.Customer)
		for _, u := range q.UserIDs {
			keys[v.ComputedAt] = append(keys[v.ComputedAt], profile.Key(u, ""))
		}
		for _, a := range q.AnonymousIDs {
			keys[v.ComputedAt] = append(keys[v.ComputedAt], profile.Key("", a))
		}
	}
	byTime := map[time.Time]map[string]*signal{}
	for at, ks := range keys {
		if byTime[at], err = s.signalsFor(ctx, at, ks); err != nil {
			return nil, err
		}
	}
	// Their traits in one read: of the customer each is now (merged since:
	// the one it joined, as a profile read gives it).
	surv, err := s.profiles.Survivors(ctx, ids)
	if err != nil {
		return nil, err
	}
	live := make([]string, 0, len(surv))
	for _, c := range surv {
		live = append(live, c)
	}
	traits := map[string]map[string]any{}
	err = s.profiles.LiveOf(ctx, live, func(l profile.Live) error {
		t := map[string]any{}
		if err := json.Unmarshal([]byte(l.Traits), &t); err != nil {
			return err
		}
		traits[l.ID] = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, v := range values {
		t, ok := traits[surv[v.Customer]]
		if !ok {
			continue // gone since
		}
		sig := byTime[v.ComputedAt]
		x := Silent{Customer: v.Customer, Name: profile.Customer{Traits: t}.Name(), Risk: v.Risk, PAlive: v.PAlive, Orders: v.Orders, CLV: v.CLV, ComputedAt: v.ComputedAt}
		x.Email, _ = t["email"].(string)
		if sg := sig[v.Customer]; sg != nil {
			x.Latest = sg.latest
		}
		if x.Before, x.Recent, err = s.activityIn(ctx, queries[v.Customer], v.ComputedAt); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, nil
}
