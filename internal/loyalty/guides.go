package loyalty

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// Guide is content that saves customers time (a how-to guide), tracked as
// an asset: who read it and how much time it saved them.
type Guide struct {
	ID           string       `json:"id"`
	Title        string       `json:"title"`
	URL          string       `json:"url"`
	Topic        string       `json:"topic,omitempty"`
	MinutesSaved int          `json:"minutes_saved"` // per reader, as the business estimates it
	CreatedAt    store.Millis `json:"createdAt"`
	// Link is the tracked address to share: it records a Guide Viewed
	// event for the customer named in its u parameter and redirects.
	Link string `json:"link"`
	// Readership, from Guide Viewed events.
	Views        int `json:"views"`
	Readers      int `json:"readers"`
	Views30d     int `json:"views30d"`
	MinutesTotal int `json:"minutesSavedTotal"` // readers × minutes_saved
}

var guideID = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)

// CreateGuide stores a guide, under its own id when it names one (so the
// site's Guide Viewed events can carry a readable guide_id).
func (s *Service) CreateGuide(ctx context.Context, g *Guide) (*Guide, error) {
	g.Title, g.URL, g.Topic = strings.TrimSpace(g.Title), strings.TrimSpace(g.URL), strings.TrimSpace(g.Topic)
	if g.Title == "" || len(g.Title) > 300 {
		return nil, fault.Field("title", "a guide has a title of at most 300 characters")
	}
	if u, err := url.Parse(g.URL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fault.Field("url", "a guide has an http(s) address")
	}
	if g.MinutesSaved < 0 || g.MinutesSaved > 10_000 {
		return nil, fault.Field("minutes_saved", "minutes_saved is between 0 and 10,000")
	}
	if g.ID == "" {
		g.ID = store.NewID("guide")
	} else if !guideID.MatchString(g.ID) {
		return nil, fault.Field("id", "a guide's own id is 1–64 lowercase letters, digits and dashes")
	}
	g.CreatedAt = store.Millis(s.now().UnixMilli())
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO guides (id, title, url, topic, minutes_saved, created_at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (id) DO NOTHING`, g.ID, g.Title, g.URL, g.Topic, g.MinutesSaved, int64(g.CreatedAt))
		if n, _ := res.RowsAffected(); err == nil && n == 0 {
			return fault.New(fault.Conflict, "a guide %q exists", g.ID)
		}
		return err
	})
	g.Link = "/g/" + g.ID
	return g, err
}

// Guides lists the guides with their readership, most read first.
func (s *Service) Guides(ctx context.Context) ([]Guide, error) {
	since := s.now().Add(-30 * 24 * time.Hour).UnixMilli()
	rows, err := s.db.QueryContext(ctx, `SELECT g.id, g.title, g.url, g.topic, g.minutes_saved, g.created_at, COUNT(v.message_id), COUNT(DISTINCT v.identity),
		COALESCE(SUM(CASE WHEN v.at >= $1 THEN 1 ELSE 0 END), 0)
		FROM guides g LEFT JOIN guide_views v ON v.guide_id = g.id GROUP BY g.id, g.title, g.url, g.topic, g.minutes_saved, g.created_at
		ORDER BY COUNT(v.message_id) DESC, g.created_at`, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Guide{}
	for rows.Next() {
		var g Guide
		if err := rows.Scan(&g.ID, &g.Title, &g.URL, &g.Topic, &g.MinutesSaved, &g.CreatedAt, &g.Views, &g.Readers, &g.Views30d); err != nil {
			return nil, err
		}
		g.Link, g.MinutesTotal = "/g/"+g.ID, g.Readers*g.MinutesSaved
		out = append(out, g)
	}
	return out, rows.Err()
}

// guide returns one guide's address, or not found.
func (s *Service) guide(ctx context.Context, id string) (string, error) {
	var u string
	err := s.db.QueryRowContext(ctx, `SELECT url FROM guides WHERE id = $1`, id).Scan(&u)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fault.New(fault.NotFound, "no guide %q", id)
	}
	return u, err
}

// guideKey is the installation's secret for signing guide links.
func (s *Service) guideKey(ctx context.Context) ([]byte, error) {
	s.linkMu.Lock()
	defer s.linkMu.Unlock()
	if s.linkKey != nil {
		return s.linkKey, nil
	}
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO loyalty_config (id) VALUES (1) ON CONFLICT (id) DO NOTHING`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE loyalty_config SET guide_link_key = $1 WHERE id = 1 AND guide_link_key IS NULL`, store.Secret(32))
		return err
	})
	var v string
	if err == nil {
		err = s.db.QueryRowContext(ctx, `SELECT guide_link_key FROM loyalty_config WHERE id = 1`).Scan(&v)
	}
	if err != nil {
		return nil, err
	}
	s.linkKey = []byte(v)
	return s.linkKey, nil
}

// linkSig signs a guide link for one customer.
func linkSig(key []byte, id, user, anon string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "\x00u:" + user + "\x00a:" + anon))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:12])
}

// GuideLink is a guide's tracked link for one customer (a userId or an
// anonymousId), signed so that only links the business made record views.
func (s *Service) GuideLink(ctx context.Context, id, user, anon string) (string, error) {
	if _, err := s.guide(ctx, id); err != nil {
		return "", err
	}
	user, anon = strings.TrimSpace(user), strings.TrimSpace(anon)
	if (user == "") == (anon == "") || len(user) > 200 || len(anon) > 200 {
		return "", fault.Field("user_id", "name the customer by user_id or anonymous_id (one of them, at most 200 characters)")
	}
	key, err := s.guideKey(ctx)
	if err != nil {
		return "", err
	}
	q := url.Values{"s": {linkSig(key, id, user, anon)}}
	if user != "" {
		q.Set("u", user)
	} else {
		q.Set("a", anon)
	}
	return "/g/" + id + "?" + q.Encode(), nil
}

// Opened records that a customer opened a guide through their signed link
// and returns where the guide is. A link without a valid signature (made
// up, or changed to name someone else) still leads to the guide but
// records nothing: nobody can write events or make customers through it.
func (s *Service) Opened(ctx context.Context, id, user, anon, sig string) (string, error) {
	u, err := s.guide(ctx, id)
	if err != nil || (user == "" && anon == "") || sig == "" {
		return u, err
	}
	key, err := s.guideKey(ctx)
	if err != nil {
		return "", err
	}
	if !hmac.Equal([]byte(sig), []byte(linkSig(key, id, user, anon))) {
		return u, nil
	}
	now := s.now()
	ev, err := eventlog.Own("Guide Viewed", store.NewID("gview"), user, anon, "web", now, map[string]any{"guide_id": id, "via": "link"})
	if err != nil {
		return "", err
	}
	if err := s.db.Tx(ctx, func(tx *store.Tx) error { return s.log.AppendTx(ctx, tx, []eventlog.Event{ev}) }); err != nil {
		return "", err
	}
	s.log.Notify()
	return u, nil
}

// guideViewed projects a Guide Viewed event (guide_id) of a known guide.
func guideViewed(ctx context.Context, tx *store.Tx, e *eventlog.Event, props map[string]any) error {
	id, _ := props["guide_id"].(string)
	if id == "" {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO guide_views (message_id, guide_id, identity, at) SELECT $1, id, $3, $4 FROM guides WHERE id = $2
		ON CONFLICT (message_id) DO NOTHING`, e.MessageID, id, identity(e.UserID, e.AnonymousID), e.Timestamp)
	return err
}
