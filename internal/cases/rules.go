package cases

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/outbox"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/text"
	"github.com/cxloop/cxloop/internal/vocab"
)

// Team is a function that owns signals: service, delivery, product …
type Team struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Email     string       `json:"email,omitempty"` // where rules notify the team
	CreatedAt store.Millis `json:"createdAt"`
}

// CreateTeam adds a team; names are unique. email, when given, is where
// rules that notify the team write.
func (s *Service) CreateTeam(ctx context.Context, name string, email ...string) (*Team, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 || strings.Contains(name, ",") {
		return nil, fault.Field("name", "a team needs a name of at most 100 characters, without commas")
	}
	t := &Team{ID: store.NewID("team"), Name: name, CreatedAt: store.Millis(s.now().UnixMilli())}
	if len(email) > 0 {
		t.Email = strings.TrimSpace(email[0])
		if t.Email != "" && (!strings.Contains(t.Email, "@") || strings.ContainsAny(t.Email, " \r\n<>,")) {
			return nil, fault.Field("email", "the team's email is one address, such as service@example.com")
		}
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO teams (id, name, created_at, email) VALUES ($1, $2, $3, $4)`, t.ID, t.Name, int64(t.CreatedAt), t.Email)
		return err
	})
	if store.IsUniqueViolation(err) {
		return nil, fault.New(fault.Conflict, "a team named %q exists (or existed: removed teams keep their names)", name)
	}
	return t, err
}

// Team returns a team by id or name; a removed one is not found.
func (s *Service) Team(ctx context.Context, ref string) (*Team, error) { return team(ctx, s.db, ref) }

func team(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, ref string) (*Team, error) {
	var t Team
	err := q.QueryRowContext(ctx, `SELECT id, name, created_at, email FROM teams WHERE (id = $1 OR name = $1) AND deleted_at = 0`, ref).Scan(&t.ID, &t.Name, &t.CreatedAt, &t.Email)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.New(fault.NotFound, "no team %q", ref)
	}
	return &t, err
}

// TeamChange is an edit of a team: the fields sent are changed.
type TeamChange struct {
	Name  *string `json:"name"`
	Email *string `json:"email"`
}

// UpdateTeam renames a team or changes its address and returns it before
// and after; its cases follow it, and so do the rules and alerts that name it.
func (s *Service) UpdateTeam(ctx context.Context, ref string, c TeamChange) (before, after *Team, err error) {
	if c.Name == nil && c.Email == nil {
		return nil, nil, fault.Field("name", "send the team's new name or email")
	}
	if c.Name != nil {
		n := strings.TrimSpace(*c.Name)
		if n == "" || len(n) > 100 || strings.Contains(n, ",") {
			return nil, nil, fault.Field("name", "a team needs a name of at most 100 characters, without commas")
		}
		c.Name = &n
	}
	if c.Email != nil {
		e := strings.TrimSpace(*c.Email)
		if e != "" && (!strings.Contains(e, "@") || strings.ContainsAny(e, " \r\n<>,")) {
			return nil, nil, fault.Field("email", "the team's email is one address, such as service@example.com")
		}
		c.Email = &e
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if before, err = team(ctx, tx, ref); err != nil {
			return err
		}
		next := *before
		if c.Name != nil {
			next.Name = *c.Name
		}
		if c.Email != nil {
			next.Email = *c.Email
		}
		if _, err := tx.ExecContext(ctx, `UPDATE teams SET name = $1, email = $2 WHERE id = $3`, next.Name, next.Email, next.ID); err != nil {
			return err
		}
		after = &next
		if next.Name == before.Name {
			return nil
		}
		// Rules that name the team follow it to its new name.
		rules, err := listRules(ctx, tx, false)
		if err != nil {
			return err
		}
		for _, r := range rules {
			changed := false
			if oc := r.Then.OpenCase; oc != nil && oc.Team == before.Name {
				oc.Team, changed = next.Name, true
			}
			if n := r.Then.Notify; n != nil && n.Team == before.Name {
				n.Team, changed = next.Name, true
			}
			if changed {
				action, _ := json.Marshal(r.Then)
				if _, err := tx.ExecContext(ctx, `UPDATE rules SET action = $1 WHERE id = $2`, string(action), r.ID); err != nil {
					return err
				}
			}
		}
		// And so do the alerts.
		alerts, err := s.alerts(ctx, "", false)
		if err != nil {
			return err
		}
		for _, a := range alerts {
			changed := false
			if oc := a.Then.OpenCase; oc != nil && oc.Team == before.Name {
				oc.Team, changed = next.Name, true
			}
			if n := a.Then.Notify; n != nil && n.Team == before.Name {
				n.Team, changed = next.Name, true
			}
			if changed {
				spec, _ := json.Marshal(a)
				if _, err := tx.ExecContext(ctx, `UPDATE alerts SET spec = $1 WHERE id = $2`, string(spec), a.ID); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if store.IsUniqueViolation(err) {
		return nil, nil, fault.Field("name", "a team named %q exists (or existed: removed teams keep their names)", *c.Name)
	}
	return before, after, err
}

// DeleteTeam removes a team that has no open cases (409 naming "cases"
// otherwise: resolve or reassign them first) and that no live rule or alert
// opens cases for or notifies (409 naming "rules" or "alerts"). Its past cases keep it, so
// their history reads as before; it is no longer listed or assignable.
func (s *Service) DeleteTeam(ctx context.Context, ref string) (*Team, error) {
	var before *Team
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		var err error
		if before, err = team(ctx, tx, ref); err != nil {
			return err
		}
		var open int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM cases WHERE team_id = $1 AND status <> $2`, before.ID, Resolved).Scan(&open); err != nil {
			return err
		}
		if open > 0 {
			return &fault.Error{Code: fault.Conflict, Field: "cases", Message: fmt.Sprintf("team %q has %d open cases: resolve or reassign them first", before.Name, open)}
		}
		rules, err := listRules(ctx, tx, false)
		if err != nil {
			return err
		}
		for _, r := range rules {
			for _, t := range []string{teamOf(r.Then.OpenCase), notified(r.Then.Notify)} {
				if t != "" && (t == before.ID || t == before.Name) {
					return &fault.Error{Code: fault.Conflict, Field: "rules", Message: fmt.Sprintf("rule %q (%s) acts for team %q: remove it or change it first", r.Name, r.ID, before.Name)}
				}
			}
		}
		alerts, err := s.alerts(ctx, "", false)
		if err != nil {
			return err
		}
		for _, a := range alerts {
			for _, t := range []string{teamOf(a.Then.OpenCase), notified(a.Then.Notify)} {
				if t != "" && (t == before.ID || t == before.Name) {
					return &fault.Error{Code: fault.Conflict, Field: "alerts", Message: fmt.Sprintf("alert %q (%s) acts for team %q: remove it or change it first", a.Name, a.ID, before.Name)}
				}
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE teams SET deleted_at = $1 WHERE id = $2`, s.now().UnixMilli(), before.ID)
		return err
	})
	return before, err
}

func teamOf(oc *OpenCase) string {
	if oc == nil {
		return ""
	}
	return oc.Team
}

func notified(n *Notify) string {
	if n == nil {
		return ""
	}
	return n.Team
}

// Teams lists the teams by name (not the removed ones).
func (s *Service) Teams(ctx context.Context) ([]Team, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, created_at, email FROM teams WHERE deleted_at = 0 ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Team{}
	for rows.Next() {
		var t Team
		if err := rows.Scan(&t.ID, &t.Name, &t.CreatedAt, &t.Email); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// teamID finds a team by id or name ("" when there is none).
func teamID(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, ref string) (string, error) {
	var id string
	err := q.QueryRowContext(ctx, `SELECT id FROM teams WHERE (id = $1 OR name = $1) AND deleted_at = 0`, ref).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return id, err
}

// Rule turns an event or a score condition into an action.
type Rule struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	When      When         `json:"when"`
	Then      Then         `json:"then"`
	Enabled   bool         `json:"enabled"`
	CreatedAt store.Millis `json:"createdAt"`
}

// When is a rule's condition: the event, and optionally score limits, a
// sentiment, a return reason and property filters (as survey triggers take them).
type When struct {
	Event     string         `json:"event"`
	NPSMax    *float64       `json:"nps_max,omitempty"`
	NPSMin    *float64       `json:"nps_min,omitempty"`
	CSATMax   *float64       `json:"csat_max,omitempty"`
	CESMin    *float64       `json:"ces_min,omitempty"`
	Sentiment string         `json:"sentiment,omitempty"`
	Reason    string         `json:"reason,omitempty"`
	Where     map[string]any `json:"where,omitempty"`
}

// Then is what a rule does: open a case for a team, notify a team by
// email, and/or call a webhook.
type Then struct {
	OpenCase *OpenCase `json:"open_case,omitempty"`
	Notify   *Notify   `json:"notify,omitempty"`
	Webhook  string    `json:"webhook,omitempty"`
}

// Notify emails a team (at the team's address).
type Notify struct {
	Team string `json:"team"`
}

// OpenCase describes the case a rule opens.
type OpenCase struct {
	Team     string `json:"team"`
	Kind     string `json:"kind"`
	SLA      string `json:"sla,omitempty"`
	Priority string `json:"priority,omitempty"`
	Formal   *bool  `json:"formal,omitempty"`
}

// Validate checks a rule, naming the field at fault.
func (r *Rule) Validate(ctx context.Context, s *Service) error {
	r.Name = strings.TrimSpace(r.Name)
	if r.Name == "" {
		return fault.Field("name", "a rule needs a name")
	}
	if strings.TrimSpace(r.When.Event) == "" {
		return fault.Field("when.event", "a rule names the event it watches, e.g. \"Survey Responded\"")
	}
	for _, lim := range []struct {
		field    string
		v        *float64
		min, max float64
		scale    string
	}{{"when.nps_max", r.When.NPSMax, 0, 10, "0–10"}, {"when.nps_min", r.When.NPSMin, 0, 10, "0–10"},
		{"when.csat_max", r.When.CSATMax, 1, 5, "1–5"}, {"when.ces_min", r.When.CESMin, 1, 7, "1–7"}} {
		if lim.v != nil && (*lim.v < lim.min || *lim.v > lim.max || math.IsNaN(*lim.v)) {
			return fault.Field(lim.field, "the limit is on the question's scale, %s (a limit outside it fires on every answer or none)", lim.scale)
		}
	}
	switch r.When.Sentiment {
	case "", text.Positive, text.Neutral, text.Negative:
	default:
		return fault.Field("when.sentiment", "sentiment is positive, neutral or negative")
	}
	for k := range r.When.Where {
		if !strings.HasPrefix(k, "properties.") && k != "channel" && k != "contact" {
			return fault.Field("when.where."+k, "filter on channel, contact or properties.<name>")
		}
	}
	if r.Then.OpenCase == nil && r.Then.Webhook == "" && r.Then.Notify == nil {
		return fault.Field("then", "a rule does something: it opens a case for a team, notifies a team or calls a webhook")
	}
	if n := r.Then.Notify; n != nil {
		var email string
		err := s.db.QueryRowContext(ctx, `SELECT email FROM teams WHERE (id = $1 OR name = $1) AND deleted_at = 0`, n.Team).Scan(&email)
		if errors.Is(err, sql.ErrNoRows) {
			return fault.Field("then.notify.team", "no team %q", n.Team)
		}
		if err != nil {
			return err
		}
		if email == "" {
			return fault.Field("then.notify.team", "team %q has no email address to notify", n.Team)
		}
	}
	if oc := r.Then.OpenCase; oc != nil {
		if oc.Team == "" {
			return fault.Field("then.open_case.team", "name the team that owns the case")
		}
		id, err := teamID(ctx, s.db, oc.Team)
		if err != nil {
			return err
		}
		if id == "" {
			return fault.Field("then.open_case.team", "no team %q: add it first (Settings → Teams, or POST /api/v1/teams)", oc.Team)
		}
		switch oc.Kind {
		case KindComplaint, KindDetractor, KindReturn, KindQuestion:
		case "":
			oc.Kind = KindQuestion
		default:
			return fault.Field("then.open_case.kind", "kind is complaint, detractor, return or question")
		}
		if oc.SLA != "" {
			if d, err := vocab.ParseDuration(oc.SLA); err != nil || d <= 0 {
				return fault.Field("then.open_case.sla", "the SLA is a duration such as 24h or 3d")
			}
		}
		switch oc.Priority {
		case "", "low", "normal", "high", "urgent":
		default:
			return fault.Field("then.open_case.priority", "priority is low, normal, high or urgent")
		}
	}
	if r.Then.Webhook != "" {
		ok, err := outbox.WebhookExists(ctx, s.db, r.Then.Webhook)
		if err != nil {
			return err
		}
		if !ok {
			return fault.Field("then.webhook", "no webhook %q", r.Then.Webhook)
		}
	}
	return nil
}

// CreateRule validates and stores a rule, enabled.
func (s *Service) CreateRule(ctx context.Context, r *Rule) (*Rule, error) {
	return s.createRule(ctx, r, true)
}

// CreatePausedRule stores a rule that fires only once it is resumed.
func (s *Service) CreatePausedRule(ctx context.Context, r *Rule) (*Rule, error) {
	return s.createRule(ctx, r, false)
}

func (s *Service) createRule(ctx context.Context, r *Rule, enabled bool) (*Rule, error) {
	if err := r.Validate(ctx, s); err != nil {
		return nil, err
	}
	r.ID, r.Enabled, r.CreatedAt = store.NewID("rule"), enabled, store.Millis(s.now().UnixMilli())
	when, _ := json.Marshal(r.When)
	then, _ := json.Marshal(r.Then)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO rules (id, name, cond, action, enabled, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
			r.ID, r.Name, string(when), string(then), boolInt(enabled), int64(r.CreatedAt))
		return err
	})
	return r, err
}

// Rules lists the rules, oldest first.
func (s *Service) Rules(ctx context.Context) ([]*Rule, error) { return listRules(ctx, s.db, false) }

func listRules(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, enabledOnly bool) ([]*Rule, error) {
	query := `SELECT id, name, cond, action, enabled, created_at FROM rules WHERE deleted_at = 0`
	if enabledOnly {
		query += ` AND enabled = 1`
	}
	rows, err := q.QueryContext(ctx, query+` ORDER BY created_at, id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Rule{}
	for rows.Next() {
		var r Rule
		var when, then string
		var enabled int
		if err := rows.Scan(&r.ID, &r.Name, &when, &then, &enabled, &r.CreatedAt); err != nil {
			return nil, err
		}
		r.Enabled = enabled == 1
		if err := json.Unmarshal([]byte(when), &r.When); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(then), &r.Then); err != nil {
			return nil, err
		}
		out = append(out, &r)
	}
	return out, rows.Err()
}

// SetRuleEnabled pauses (false) or resumes (true) a rule and returns it. A
// paused rule fires on nothing that arrives while it is paused.
func (s *Service) SetRuleEnabled(ctx context.Context, id string, enabled bool) (*Rule, error) {
	var out *Rule
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE rules SET enabled = $1 WHERE id = $2 AND deleted_at = 0`, boolInt(enabled), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.New(fault.NotFound, "no rule %q", id)
		}
		list, err := listRules(ctx, tx, false)
		if err != nil {
			return err
		}
		for _, r := range list {
			if r.ID == id {
				out = r
			}
		}
		return nil
	})
	return out, err
}

// RuleChange is an edit of a rule: each field given replaces the rule's
// (when and then whole).
type RuleChange struct {
	Name    *string `json:"name"`
	When    *When   `json:"when"`
	Then    *Then   `json:"then"`
	Enabled *bool   `json:"enabled"`
}

// EditRule changes a rule's name, condition, action or state, checked as a
// new rule is; it acts on what arrives after the change.
func (s *Service) EditRule(ctx context.Context, id string, c RuleChange) (before, after *Rule, err error) {
	if before, err = s.rule(ctx, id); err != nil {
		return nil, nil, err
	}
	r := *before
	if c.Name != nil {
		r.Name = *c.Name
	}
	if c.When != nil {
		r.When = *c.When
	}
	if c.Then != nil {
		r.Then = *c.Then
	}
	if c.Enabled != nil {
		r.Enabled = *c.Enabled
	}
	if err := r.Validate(ctx, s); err != nil {
		return nil, nil, err
	}
	when, _ := json.Marshal(r.When)
	then, _ := json.Marshal(r.Then)
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE rules SET name = $1, cond = $2, action = $3, enabled = $4 WHERE id = $5 AND deleted_at = 0`,
			r.Name, string(when), string(then), boolInt(r.Enabled), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.New(fault.NotFound, "no rule %q", id)
		}
		return nil
	})
	return before, &r, err
}

// DeleteRule removes a rule: it fires no more and is no longer listed;
// its firings and the cases it opened stay.
func (s *Service) DeleteRule(ctx context.Context, id string) error {
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE rules SET enabled = 0, deleted_at = $1 WHERE id = $2 AND deleted_at = 0`, s.now().UnixMilli(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.New(fault.NotFound, "no rule %q", id)
		}
		return nil
	})
}

// Firing is one time a rule fired.
type Firing struct {
	Seq       int64        `json:"seq"`
	MessageID string       `json:"messageId"`
	Outcome   string       `json:"outcome"`
	At        store.Millis `json:"at"`
}

// Firings lists a rule's firings, newest first (a removed rule's too).
func (s *Service) Firings(ctx context.Context, rule string, limit int) ([]Firing, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM rules WHERE id = $1`, rule).Scan(&n); err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, fault.New(fault.NotFound, "no rule %q", rule)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, message_id, outcome, at FROM rule_firings WHERE rule_id = $1 ORDER BY seq DESC LIMIT $2`, rule, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Firing{}
	for rows.Next() {
		var f Firing
		if err := rows.Scan(&f.Seq, &f.MessageID, &f.Outcome, &f.At); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// rule returns a rule that is not removed.
// Rule returns one rule (not a removed one).
func (s *Service) Rule(ctx context.Context, id string) (*Rule, error) { return s.rule(ctx, id) }

func (s *Service) rule(ctx context.Context, id string) (*Rule, error) {
	list, err := listRules(ctx, s.db, false)
	if err != nil {
		return nil, err
	}
	for _, r := range list {
		if r.ID == id {
			return r, nil
		}
	}
	return nil, fault.New(fault.NotFound, "no rule %q", id)
}
