package loyalty

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// CommunityActivity names the events of what members do in an affinity
// group (its "community" property), by kind of activity.
var CommunityActivity = map[string]string{"Community Post Created": "post", "Community Answer Posted": "answer", "Community Event Attended": "event"}

// community projects Community Joined and Community Left events, and the
// members' activity.
func community(ctx context.Context, tx *store.Tx, e *eventlog.Event, props map[string]any) error {
	name, _ := props["community"].(string)
	name = strings.TrimSpace(name)
	if name == "" {
		return nil
	}
	key := identity(e.UserID, e.AnonymousID)
	if kind, ok := CommunityActivity[e.Event]; ok {
		_, err := tx.ExecContext(ctx, `INSERT INTO community_activity (message_id, community, identity, kind, at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (message_id) DO NOTHING`, e.MessageID, name, key, kind, e.Timestamp)
		return err
	}
	if e.Event == "Community Left" {
		_, err := tx.ExecContext(ctx, `DELETE FROM community_members WHERE community = $1 AND identity = $2`, name, key)
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO community_members (community, identity, joined_at) VALUES ($1, $2, $3) ON CONFLICT (community, identity) DO NOTHING`,
		name, key, e.Timestamp)
	return err
}

// Community is an affinity group and how engaged it is.
type Community struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
	// Active counts the members active in the group in the last 30 days:
	// who joined it, or posted, answered or attended an event in it.
	// Touchpoints elsewhere (an order, a page view) do not count.
	Active int `json:"active"`
	// In the last 30 days: posts, answers and events attended in the
	// group, and the customers its members referred.
	Posts     int `json:"posts30d"`
	Answers   int `json:"answers30d"`
	Events    int `json:"events30d"`
	Referrals int `json:"referrals30d"`
}

// ActiveDays is the window of a community's activity: members active,
// posts, answers and events.
const ActiveDays = 30

// Communities lists the affinity groups by size.
func (s *Service) Communities(ctx context.Context) ([]Community, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT community, identity FROM community_members ORDER BY community`)
	if err != nil {
		return nil, err
	}
	members := map[string][]string{}
	var order []string
	for rows.Next() {
		var c, id string
		if err := rows.Scan(&c, &id); err != nil {
			rows.Close()
			return nil, err
		}
		if members[c] == nil {
			order = append(order, c)
		}
		members[c] = append(members[c], id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	now := s.now()
	since := now.Add(-ActiveDays * 24 * time.Hour).UnixMilli()
	// The customers the members are now, and whom they referred lately.
	owners, err := s.profiles.KeyOwners(ctx, func(yield func(string) bool) {
		for _, ids := range members {
			for _, id := range ids {
				if !yield(id) {
					return
				}
			}
		}
	})
	if err != nil {
		return nil, err
	}
	referred := map[string]int{}
	err = s.db.Each(ctx, `SELECT sender_id, COUNT(*) FROM loyalty_referrals WHERE at >= $1 AND sender_id <> '' GROUP BY sender_id`, []any{since}, func(r *sql.Rows) error {
		var id string
		var n int
		err := r.Scan(&id, &n)
		referred[id] = n
		return err
	})
	if err != nil {
		return nil, err
	}
	out := []Community{}
	for _, c := range order {
		g := Community{Name: c, Members: len(members[c])}
		err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM community_members m WHERE m.community = $1 AND ((m.joined_at >= $2 AND m.joined_at <= $3)
			OR EXISTS (SELECT 1 FROM community_activity a WHERE a.community = m.community AND a.identity = m.identity AND a.at >= $2 AND a.at <= $3))`,
			c, since, now.UnixMilli()).Scan(&g.Active)
		if err != nil {
			return nil, err
		}
		err = s.db.Each(ctx, `SELECT kind, COUNT(*) FROM community_activity WHERE community = $1 AND at >= $2 AND at <= $3 GROUP BY kind`, []any{c, since, now.UnixMilli()}, func(r *sql.Rows) error {
			var kind string
			var n int
			err := r.Scan(&kind, &n)
			switch kind {
			case "post":
				g.Posts = n
			case "answer":
				g.Answers = n
			case "event":
				g.Events = n
			}
			return err
		})
		if err != nil {
			return nil, err
		}
		senders := map[string]bool{}
		for _, id := range members[c] {
			if cus, ok := owners[id]; ok && !senders[cus] {
				senders[cus] = true
				g.Referrals += referred[cus]
			}
		}
		out = append(out, g)
	}
	return out, nil
}

// Introduction is a bridge: one customer introduced to another.
type Introduction struct {
	ID          string        `json:"id"`
	From        string        `json:"from"`
	To          string        `json:"to"`
	Note        string        `json:"note,omitempty"`
	MadeAt      store.Millis  `json:"madeAt"`
	ConvertedAt *store.Millis `json:"convertedAt,omitempty"`
}

// Introduce records that the business introduced customer from to
// customer to (any identities), as an Introduction Made event, now or at
// an earlier time (at, when not zero). It converts when to places an order
// within 90 days, also one already recorded.
func (s *Service) Introduce(ctx context.Context, from, to, note string, at time.Time) (*Introduction, error) {
	if strings.TrimSpace(from) == "" || strings.TrimSpace(to) == "" || from == to {
		return nil, fault.Field("to", "an introduction names two different customers: from and to")
	}
	fm, err := s.member(ctx, from)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if at.After(now) {
		return nil, fault.Field("at", "an introduction is recorded when it was made, not ahead")
	}
	if !at.IsZero() {
		now = at
	}
	in := &Introduction{ID: store.NewID("intro"), From: strings.TrimSpace(from), To: strings.TrimSpace(to), Note: note, MadeAt: store.Millis(now.UnixMilli())}
	// The business made the introduction: its act, on the member's timeline
	// but not their touchpoint.
	ev, err := eventlog.Action("Introduction Made", "introduction-"+in.ID, first(fm.userIDs), firstIf(fm.userIDs, fm.anonymousIDs), "partner", now,
		map[string]any{"introduction_id": in.ID, "to": in.To, "note": note})
	if err != nil {
		return nil, err
	}
	err = s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO introductions (id, from_ref, to_ref, note, made_at) VALUES ($1, $2, $3, $4, $5)`,
			in.ID, in.From, in.To, note, int64(in.MadeAt)); err != nil {
			return err
		}
		events := []eventlog.Event{ev}
		// An order already recorded within the window converts it at once.
		var user, anon string
		var orderAt int64
		err := tx.QueryRowContext(ctx, `SELECT user_id, anonymous_id, at FROM loyalty_orders WHERE (user_id = $1 OR (user_id = '' AND anonymous_id = $1))
			AND at >= $2 AND at <= $3 ORDER BY at LIMIT 1`, in.To, int64(in.MadeAt), int64(in.MadeAt)+int64(90*24*time.Hour/time.Millisecond)).Scan(&user, &anon, &orderAt)
		if err == nil {
			conv, err := convert(ctx, tx, &eventlog.Event{UserID: user, AnonymousID: anon, Channel: "web", Timestamp: orderAt})
			if err != nil {
				return err
			}
			events = append(events, conv...)
			for _, c := range conv {
				if strings.HasSuffix(c.MessageID, in.ID) {
					m := store.Millis(orderAt)
					in.ConvertedAt = &m
				}
			}
		} else if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		return s.log.AppendTx(ctx, tx, events)
	})
	if err != nil {
		return nil, err
	}
	s.log.Notify()
	return in, nil
}

func firstIf(users, anons []string) string {
	if len(users) > 0 {
		return ""
	}
	return first(anons)
}

// convert marks the open introductions to the ordering identity as
// converted and returns their Introduction Converted events.
func convert(ctx context.Context, tx *store.Tx, e *eventlog.Event) ([]eventlog.Event, error) {
	var out []eventlog.Event
	for _, ref := range []string{e.UserID, e.AnonymousID} {
		if ref == "" {
			continue
		}
		rows, err := tx.QueryContext(ctx, `UPDATE introductions SET converted_at = $1 WHERE to_ref = $2 AND converted_at IS NULL AND made_at <= $1 AND made_at >= $3
			RETURNING id, from_ref`, e.Timestamp, ref, e.Timestamp-int64(90*24*time.Hour/time.Millisecond))
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, from string
			if err := rows.Scan(&id, &from); err != nil {
				rows.Close()
				return nil, err
			}
			ev, err := eventlog.OwnArrived("Introduction Converted", "introduction-converted-"+id, e.UserID, e.AnonymousID, e.Channel, time.UnixMilli(e.Timestamp), e.Arrival(),
				map[string]any{"introduction_id": id, "from": from, "order_message_id": e.MessageID})
			if err != nil {
				rows.Close()
				return nil, err
			}
			out = append(out, ev)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Introductions lists the bridges made, newest first.
func (s *Service) Introductions(ctx context.Context) ([]Introduction, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, from_ref, to_ref, note, made_at, converted_at FROM introductions ORDER BY made_at DESC, id LIMIT 500`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Introduction{}
	for rows.Next() {
		var in Introduction
		var conv *int64
		if err := rows.Scan(&in.ID, &in.From, &in.To, &in.Note, &in.MadeAt, &conv); err != nil {
			return nil, err
		}
		if conv != nil {
			m := store.Millis(*conv)
			in.ConvertedAt = &m
		}
		out = append(out, in)
	}
	return out, rows.Err()
}
