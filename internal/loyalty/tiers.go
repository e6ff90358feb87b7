package loyalty

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// Perk is a benefit of a tier: early access to launches, VIP deals,
// priority service or a free service.
type Perk struct {
	Kind        string `json:"kind"` // early_access, vip_deal, priority_service, free_service
	Name        string `json:"name"`
	Hours       int    `json:"hours,omitempty"` // early_access: how long before general release
	Code        string `json:"code,omitempty"`  // vip_deal: the code to use
	Description string `json:"description,omitempty"`
}

// Program is the tiers and their perks.
type Program struct {
	Tiers []ProgramTier `json:"tiers"`
}

// ProgramTier is a tier from a number of points earned in 12 months, with its perks.
type ProgramTier struct {
	Name  string `json:"name"`
	From  int64  `json:"from"`
	Perks []Perk `json:"perks"`
}

const programKey = "loyalty_program"

// DefaultProgram is the program of a new installation.
func DefaultProgram() Program {
	return Program{Tiers: []ProgramTier{
		{Name: "bronze", From: 0, Perks: []Perk{}},
		{Name: "silver", From: 50, Perks: []Perk{{Kind: "free_service", Name: "Free repairs"}}},
		{Name: "gold", From: 100, Perks: []Perk{{Kind: "early_access", Name: "New collections", Hours: 48}, {Kind: "free_service", Name: "Free repairs"},
			{Kind: "priority_service", Name: "Priority service"}}},
		{Name: "platinum", From: 500, Perks: []Perk{{Kind: "early_access", Name: "New collections", Hours: 72}, {Kind: "vip_deal", Name: "VIP evening", Code: "VIP-NIGHT"},
			{Kind: "free_service", Name: "Free repairs"}, {Kind: "priority_service", Name: "Priority service"}}},
	}}
}

// Validate checks the program: tiers named, rising thresholds from 0, known perk kinds.
func (p *Program) Validate() error {
	if len(p.Tiers) == 0 {
		return fault.Field("tiers", "a program has at least one tier")
	}
	seen := map[string]bool{}
	for i, t := range p.Tiers {
		f := fmt.Sprintf("tiers[%d]", i)
		t.Name = strings.TrimSpace(t.Name)
		if t.Name == "" || seen[t.Name] {
			return fault.Field(f+".name", "tiers have distinct names")
		}
		seen[t.Name] = true
		if (i == 0 && t.From != 0) || (i > 0 && t.From <= p.Tiers[i-1].From) {
			return fault.Field(f+".from", "the first tier starts at 0 and each next one higher")
		}
		for j, pk := range t.Perks {
			switch pk.Kind {
			case "early_access", "vip_deal", "priority_service", "free_service":
			default:
				return fault.Field(fmt.Sprintf("%s.perks[%d].kind", f, j), "perks are early_access, vip_deal, priority_service or free_service")
			}
			if pk.Kind == "early_access" && pk.Hours <= 0 {
				return fault.Field(fmt.Sprintf("%s.perks[%d].hours", f, j), "early access is some hours before general release")
			}
		}
		if t.Perks == nil {
			p.Tiers[i].Perks = []Perk{}
		}
	}
	return nil
}

// Program returns the tiers and perks in force.
func (s *Service) Program(ctx context.Context) (Program, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, programKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultProgram(), nil
	}
	if err != nil {
		return Program{}, err
	}
	var p Program
	err = json.Unmarshal([]byte(v), &p)
	return p, err
}

// SetProgram replaces the tiers and perks.
func (s *Service) SetProgram(ctx context.Context, p Program) error {
	if err := p.Validate(); err != nil {
		return err
	}
	b, _ := json.Marshal(p)
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2`, programKey, string(b))
		return err
	})
}

// tierOf is the tier reached with points earned in 12 months, and the next.
func (p Program) tierOf(earned int64) (ProgramTier, *ProgramTier) {
	cur := p.Tiers[0]
	var next *ProgramTier
	for i, t := range p.Tiers {
		if earned >= t.From {
			cur, next = t, nil
			if i+1 < len(p.Tiers) {
				n := p.Tiers[i+1]
				next = &n
			}
		}
	}
	return cur, next
}

// Perks returns the member's tier and its perks.
func (s *Service) Perks(ctx context.Context, ref string) (string, []Perk, error) {
	sum, err := s.Summary(ctx, ref)
	if err != nil {
		return "", nil, err
	}
	p, err := s.Program(ctx)
	if err != nil {
		return "", nil, err
	}
	t, _ := p.tierOf(sum.Earned12m)
	return t.Name, t.Perks, nil
}

// PriorityService reports whether the member's tier includes priority service.
func (s *Service) PriorityService(ctx context.Context, ref string) (bool, error) {
	_, perks, err := s.Perks(ctx, ref)
	if fault.Code(err) == fault.NotFound {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, p := range perks {
		if p.Kind == "priority_service" {
			return true, nil
		}
	}
	return false, nil
}
