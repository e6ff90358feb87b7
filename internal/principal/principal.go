// Package principal is who acts on cxloop: an operator's name, role and
// teams, carried in a request's context. Business packages take a
// Principal and know nothing of how it signed in (package auth does that).
//
// It imports the standard library only.
package principal

import (
	"context"
	"strings"
)

// Roles, from most to least powerful. Each may do what the ones below it may.
const (
	RoleAdmin   = "admin"   // everything, including sources, teams, rules, webhooks, tokens and users
	RoleOwner   = "owner"   // leads a team: changes customer-facing data (surveys, answers, mentions) and works cases
	RoleAgent   = "agent"   // works a team's cases: notes, assignment, resolution
	RoleAnalyst = "analyst" // reads everything, changes nothing
)

var rank = map[string]int{RoleAdmin: 4, RoleOwner: 3, RoleAgent: 2, RoleAnalyst: 1}

// aliases are the role names of earlier versions.
var aliases = map[string]string{"editor": RoleOwner, "viewer": RoleAnalyst}

// NormalizeRole maps an earlier role name to today's.
func NormalizeRole(r string) string {
	if a, ok := aliases[r]; ok {
		return a
	}
	return r
}

// ValidRole reports whether r is a known role (or an earlier name of one).
func ValidRole(r string) bool { return rank[NormalizeRole(r)] > 0 }

// Principal is an authenticated operator.
type Principal struct {
	Name string `json:"name"`
	Role string `json:"role"`
	// Teams, when not empty, limit an owner's or agent's cases to these teams.
	Teams []string `json:"teams,omitempty"`
	// Credential is what authenticated the principal ("token:<id>" or
	// "user:<id>"): a console session lives only as long as it does.
	Credential string `json:"-"`
}

// Can reports whether p's role is at least role.
func (p Principal) Can(role string) bool {
	return rank[NormalizeRole(p.Role)] >= rank[NormalizeRole(role)] && rank[NormalizeRole(role)] > 0
}

// Scoped reports whether p's case work is limited to p.Teams.
func (p Principal) Scoped() bool {
	r := NormalizeRole(p.Role)
	return len(p.Teams) > 0 && (r == RoleOwner || r == RoleAgent)
}

// InTeam reports whether p may work a case of the team (by id or name).
func (p Principal) InTeam(ids ...string) bool {
	if !p.Scoped() {
		return true
	}
	for _, t := range p.Teams {
		for _, id := range ids {
			if id != "" && strings.EqualFold(t, id) {
				return true
			}
		}
	}
	return false
}

type ctxKey struct{}

// With returns ctx carrying p.
func With(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// From returns the principal ctx carries.
func From(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// Member is a person or token whose case work a team includes.
type Member struct {
	Kind string `json:"kind"` // user or token
	Name string `json:"name"`
	Role string `json:"role"`
}
