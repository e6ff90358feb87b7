package loyalty_test

import (
	"context"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type member struct {
	Balance            int64
	Tier               string
	Measure            string
	Value              int64
	ToNext             int64  `json:"toNext"`
	ReferralCode       string `json:"referral_code"`
	Engagement         float64
	Communities        []string
	Referred           int
	ReferralsConverted int `json:"referralsConverted"`
}

// A friend's first order converts the referral: a Referral Converted event
// attributes it to the sender, and reward rules credit the sender and the
// friend, once, also after a replay.
func TestReferralConversionAndRewards(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		for _, r := range []map[string]any{
			{"on": "Order Completed", "points_per_unit": 1},
			{"on": "Referral Signed Up", "points": 10, "beneficiary": "sender"},
			{"on": "Referral Converted", "points": 100, "beneficiary": "sender"},
			{"on": "Referral Converted", "points": 50},
		} {
			if code := s.API("POST", "/api/v1/loyalty/rules", r, nil); code != 201 {
				t.Fatalf("rule %v: %d", r, code)
			}
		}
		if code := s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Referral Converted", "points": 5, "beneficiary": "friend-of-friend"}, nil); code != 400 {
			t.Fatalf("unknown beneficiary: %d", code)
		}
		s.MustSend("track", order("sam", "s-1", 10))
		var sam member
		s.API("GET", "/api/v1/customers/sam/loyalty", nil, &sam)
		// Fran's app sends her sign-up and first order two days late, with
		// their own times: the rules made before they arrived still reward
		// what follows from them.
		early := apptest.Epoch.Add(-48 * time.Hour).Format(time.RFC3339)
		s.MustSend("track", map[string]any{"userId": "fran", "event": "Signed Up", "timestamp": early, "properties": map[string]any{"referral_code": sam.ReferralCode}})
		first := order("fran", "f-1", 400)
		first["timestamp"] = early
		s.MustSend("track", first)
		s.MustSend("track", order("fran", "f-2", 200))
		check := func(when string) {
			t.Helper()
			s.Sync() // the order's conversion is an event of its own
			s.Sync()
			var fran member
			s.API("GET", "/api/v1/customers/sam/loyalty", nil, &sam)
			s.API("GET", "/api/v1/customers/fran/loyalty", nil, &fran)
			if sam.Balance != 10+10+100 || fran.Balance != 400+200+50 || sam.Referred != 1 || sam.ReferralsConverted != 1 {
				t.Fatalf("%s: sam %+v, fran %+v", when, sam, fran)
			}
			var ev struct {
				Events []struct {
					Message struct{ Properties map[string]any }
				}
			}
			s.API("GET", "/api/v1/events?type=Referral+Converted", nil, &ev)
			if len(ev.Events) != 1 || ev.Events[0].Message.Properties["order_id"] != "f-1" || ev.Events[0].Message.Properties["revenue"] != 400.0 ||
				ev.Events[0].Message.Properties["sender_user_id"] != "sam" {
				t.Fatalf("%s: conversion events %+v", when, ev.Events)
			}
			s.API("GET", "/api/v1/events?type=Referral+Signed+Up", nil, &ev)
			if len(ev.Events) != 1 || ev.Events[0].Message.Properties["sender_user_id"] != "sam" {
				t.Fatalf("%s: sign-up events %+v", when, ev.Events)
			}
		}
		check("after the orders")
		c, err := s.Runner.Lookup("loyalty")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Runner.Replay(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		check("after a replay")
	})
}

// Tiers may count spend in the last 365 days (refunds taken out) or the
// engagement score instead of points.
func TestTiersBySpendAndEngagement(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		if code := s.API("PUT", "/api/v1/loyalty/tiers", map[string]any{"measure": "visits", "tiers": []any{map[string]any{"name": "all", "from": 0}}}, nil); code != 400 {
			t.Fatalf("unknown measure: %d", code)
		}
		spend := map[string]any{"measure": "spend", "tiers": []any{map[string]any{"name": "regular", "from": 0}, map[string]any{"name": "vip", "from": 500}}}
		if code := s.API("PUT", "/api/v1/loyalty/tiers", spend, nil); code != 200 {
			t.Fatalf("spend tiers: %d", code)
		}
		s.MustSend("track", order("spender", "o-1", 300))
		s.MustSend("track", order("spender", "o-2", 250.5))
		var m member
		s.API("GET", "/api/v1/customers/spender/loyalty", nil, &m)
		if m.Measure != "spend" || m.Value != 550 || m.Tier != "vip" || m.Balance != 0 {
			t.Fatalf("by spend: %+v", m)
		}
		if _, err := s.Loyalty.ReviewTiers(context.Background()); err != nil {
			t.Fatal(err)
		}
		s.MustSend("track", map[string]any{"userId": "spender", "event": "Order Refunded", "properties": map[string]any{"order_id": "o-1"}})
		s.API("GET", "/api/v1/customers/spender/loyalty", nil, &m)
		if m.Value != 250 || m.Tier != "vip" { // kept through the grace period
			t.Fatalf("after a refund: %+v", m)
		}
		engaged := map[string]any{"measure": "engagement", "tiers": []any{map[string]any{"name": "casual", "from": 0}, map[string]any{"name": "engaged", "from": 40}}}
		if code := s.API("PUT", "/api/v1/loyalty/tiers", engaged, nil); code != 200 {
			t.Fatalf("engagement tiers: %d", code)
		}
		for range 4 {
			s.MustSend("page", map[string]any{"userId": "fan", "name": "Home"})
		}
		s.MustSend("page", map[string]any{"userId": "browser", "name": "Home", "timestamp": clock.Now().Add(-60 * 24 * time.Hour).Format(time.RFC3339)})
		s.Sync()
		if _, err := s.Loyalty.Engage(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		// fan: recency 30 + frequency 25·ln 5/ln 31 = 11.7; browser: 30·¼ + 25·ln 2/ln 31.
		for _, c := range []struct {
			who, tier string
			value     int64
		}{{"fan", "engaged", 41}, {"browser", "casual", 12}} {
			s.API("GET", "/api/v1/customers/"+c.who+"/loyalty", nil, &m)
			if m.Measure != "engagement" || m.Tier != c.tier || m.Value != c.value {
				t.Fatalf("%s by engagement: %+v", c.who, m)
			}
		}
	})
}

// The engagement score adds up recency, frequency, survey answers,
// community belonging and activity, and referrals as documented; it
// selects segments and follows new events.
func TestEngagementScore(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, clock := apptest.StartAt(t, dsn, apptest.Epoch)
		startRunDone(t, s)
		for range 8 {
			s.MustSend("page", map[string]any{"userId": "ada", "name": "Guides"})
		}
		s.MustSend("track", map[string]any{"userId": "ada", "event": "Survey Responded", "properties": map[string]any{"score": 9}})
		s.MustSend("track", map[string]any{"userId": "ada", "event": "Community Joined", "properties": map[string]any{"community": "Alpine club"}})
		s.MustSend("track", map[string]any{"userId": "ada", "event": "Community Post Created", "properties": map[string]any{"community": "Alpine club"}})
		s.MustSend("track", map[string]any{"userId": "ben", "event": "Signed Up", "properties": map[string]any{"referred_by": "ada"}})
		old := clock.Now().Add(-40 * 24 * time.Hour).Format(time.RFC3339)
		s.MustSend("page", map[string]any{"userId": "cid", "name": "Home", "timestamp": old})
		s.Sync() // ben's sign-up makes a Referral Signed Up event of its own
		s.Sync()
		if _, err := s.Loyalty.Engage(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		var ada struct {
			Score, Recency, Frequency, Surveys, Community, Referrals float64
			Interactions90d                                          int `json:"interactions90d"`
		}
		if code := s.API("GET", "/api/v1/customers/ada/engagement", nil, &ada); code != 200 {
			t.Fatalf("engagement: %d", code)
		}
		// 11 interactions: 25·ln 12/ln 31 = 18.1; one survey answer of two: 7.5;
		// a member with 2 community events of 5: 5 + 4; one referral of two: 7.5.
		if ada.Interactions90d != 11 || ada.Recency != 30 || ada.Frequency != 18.1 || ada.Surveys != 7.5 || ada.Community != 9 || ada.Referrals != 7.5 ||
			ada.Score != 72.1 {
			t.Fatalf("ada: %+v", ada)
		}
		var cid struct{ Score float64 }
		s.API("GET", "/api/v1/customers/cid/engagement", nil, &cid)
		want := math.Round((30*math.Pow(0.5, 40.0/30)+25*math.Log(2)/math.Log(31))*10) / 10
		if math.Abs(cid.Score-want) > 0.25 {
			t.Fatalf("cid: %v, want about %v", cid.Score, want)
		}
		lo := 50.0
		members, err := s.Profiles.Members(context.Background(), profile.Query{Engagement: &profile.Range{Min: &lo}}, clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		adaID, _ := s.Profiles.Resolve(context.Background(), "ada")
		if len(members) != 1 || members[0] != adaID {
			t.Fatalf("engaged segment %v, want [%s]", members, adaID)
		}
		// cid comes back: the next run rescores cid alone.
		s.MustSend("page", map[string]any{"userId": "cid", "name": "Home"})
		s.Sync()
		n, err := s.Loyalty.Engage(context.Background(), false)
		if err != nil || n != 1 {
			t.Fatalf("incremental run scored %d: %v", n, err)
		}
		s.API("GET", "/api/v1/customers/cid/engagement", nil, &cid)
		if want := math.Round((30+25*math.Log(3)/math.Log(31))*10) / 10; cid.Score != want {
			t.Fatalf("cid after a visit: %v, want %v", cid.Score, want)
		}
		var got struct {
			Communities []struct {
				Name      string
				Posts     int `json:"posts30d"`
				Referrals int `json:"referrals30d"`
			}
		}
		s.API("GET", "/api/v1/communities", nil, &got)
		if len(got.Communities) != 1 || got.Communities[0].Posts != 1 || got.Communities[0].Referrals != 1 {
			t.Fatalf("communities: %+v", got)
		}
		var m member
		s.API("GET", "/api/v1/customers/ada/loyalty", nil, &m)
		if m.Engagement != 72.1 || len(m.Communities) != 1 || m.Communities[0] != "Alpine club" || m.Referred != 1 {
			t.Fatalf("member: %+v", m)
		}
	})
}

// A guide is a tracked asset: its link records who opened it, Guide Viewed
// events from any client count too, and the time it saved adds up.
func TestGuides(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	if code := s.API("POST", "/api/v1/guides", map[string]any{"title": "Wax your skis", "url": "javascript:alert(1)"}, nil); code != 400 {
		t.Fatalf("bad url: %d", code)
	}
	var g struct{ ID, Link string }
	if code := s.API("POST", "/api/v1/guides", map[string]any{"title": "Wax your skis", "url": "https://example.com/wax", "minutes_saved": 15}, &g); code != 201 || g.Link != "/g/"+g.ID {
		t.Fatalf("guide: %d %+v", code, g)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	open := func(link string) {
		t.Helper()
		resp, err := noFollow.Get(s.URL + link)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://example.com/wax" {
			t.Fatalf("%s: %d %s", link, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	// Reader 1's signed link records a view; a made-up link, or reader 1's
	// changed to name someone else, leads to the guide and records nothing.
	var signed struct{ Link string }
	if code := s.API("GET", "/api/v1/guides/"+g.ID+"/link?user_id=reader-1", nil, &signed); code != 200 || !strings.HasPrefix(signed.Link, g.Link+"?") {
		t.Fatalf("signed link: %d %+v", code, signed)
	}
	if code := s.API("GET", "/api/v1/guides/"+g.ID+"/link", nil, nil); code != 400 {
		t.Fatalf("a link for nobody: %d, want 400", code)
	}
	open(signed.Link)
	open(g.Link + "?u=forger")
	open(strings.Replace(signed.Link, "u=reader-1", "u=victim", 1))
	var forged struct{ Events []any }
	s.API("GET", "/api/v1/events?customer=forger", nil, &forged)
	if len(forged.Events) != 0 {
		t.Fatalf("an unsigned link wrote events: %+v", forged)
	}
	if code := s.API("GET", "/api/v1/customers/victim", nil, nil); code != 404 {
		t.Fatalf("a changed link made a customer: %d", code)
	}
	if code, _ := s.Do("GET", "/g/guide_nope", nil); code != 404 {
		t.Fatalf("unknown guide: %d", code)
	}
	s.MustSend("track", map[string]any{"userId": "reader-2", "event": "Guide Viewed", "properties": map[string]any{"guide_id": g.ID}})
	s.MustSend("track", map[string]any{"userId": "reader-2", "event": "Guide Viewed", "properties": map[string]any{"guide_id": g.ID}})
	s.MustSend("track", map[string]any{"userId": "reader-3", "event": "Guide Viewed", "properties": map[string]any{"guide_id": "guide_other"}})
	s.Sync()
	var list struct {
		Guides []struct {
			Views, Readers int
			MinutesTotal   int `json:"minutesSavedTotal"`
		}
	}
	if code := s.API("GET", "/api/v1/guides", nil, &list); code != 200 || len(list.Guides) != 1 || list.Guides[0].Views != 3 || list.Guides[0].Readers != 2 ||
		list.Guides[0].MinutesTotal != 30 {
		t.Fatalf("guides: %d %+v", code, list)
	}
}

// A client-sent answer to a cxloop survey counts toward engagement once the
// survey capability has recorded it (engagement asks survey which it has).
func TestEngagementCountsRecordedAnswers(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		var sv struct{ ID string }
		if code := s.API("POST", "/api/v1/surveys", map[string]any{"name": "Pulse", "rhythm": "pulse", "owner": "service",
			"questions": []any{map[string]any{"id": "q1", "type": "nps", "text": map[string]any{"en": "Recommend us?"}}}}, &sv); code != 201 {
			t.Fatalf("survey: %d", code)
		}
		for who, survey := range map[string]string{"eve": sv.ID} {
			s.MustSend("page", map[string]any{"userId": who, "name": "Home"})
			s.MustSend("track", map[string]any{"userId": who, "event": "Survey Responded",
				"properties": map[string]any{"survey_id": survey, "answers": map[string]any{"q1": 9}}})
		}
		s.Sync()
		if _, err := s.Loyalty.Engage(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		for who, counted := range map[string]bool{"eve": true} {
			var e struct{ Surveys float64 }
			if code := s.API("GET", "/api/v1/customers/"+who+"/engagement", nil, &e); code != 200 {
				t.Fatalf("%s: %d", who, code)
			}
			if (e.Surveys > 0) != counted {
				t.Errorf("%s: survey points %v, counted %v", who, e.Surveys, counted)
			}
		}
	})
}

// A profile merged into another brings its interactions: the survivor's
// score counts the events sent under either identity, also in a run that
// rescores only the customers with new events.
func TestEngagementAfterMerge(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		startRunDone(t, s)
		for range 3 {
			s.MustSend("page", map[string]any{"anonymousId": "device-1", "name": "Home"})
		}
		for range 2 {
			s.MustSend("track", map[string]any{"userId": "mia", "event": "Product Viewed"})
		}
		s.Sync()
		if _, err := s.Loyalty.Engage(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		interactions := func() int {
			t.Helper()
			var e struct {
				Interactions90d int `json:"interactions90d"`
			}
			if code := s.API("GET", "/api/v1/customers/mia/engagement", nil, &e); code != 200 {
				t.Fatalf("engagement: %d", code)
			}
			return e.Interactions90d
		}
		if n := interactions(); n != 2 {
			t.Fatalf("before the merge: %d interactions, want 2", n)
		}
		s.MustSend("identify", map[string]any{"userId": "mia", "anonymousId": "device-1", "traits": map[string]any{"name": "Mia"}})
		s.Sync()
		if n, err := s.Loyalty.Engage(context.Background(), false); err != nil || n != 1 {
			t.Fatalf("incremental run after the merge scored %d: %v", n, err)
		}
		if n := interactions(); n != 5 {
			t.Fatalf("after the merge: %d interactions, want 5", n)
		}
		s.MustSend("page", map[string]any{"anonymousId": "device-1", "name": "Home"})
		s.Sync()
		if n, err := s.Loyalty.Engage(context.Background(), false); err != nil || n != 1 {
			t.Fatalf("incremental run scored %d: %v", n, err)
		}
		if n := interactions(); n != 6 {
			t.Fatalf("after a visit on the device: %d interactions, want 6", n)
		}
		if _, err := s.Loyalty.Engage(context.Background(), true); err != nil {
			t.Fatal(err)
		}
		if n := interactions(); n != 6 {
			t.Fatalf("after a full run: %d interactions, want 6", n)
		}
	})
}

// An installation that kept the program and the guide-link key in the
// settings table keeps them in loyalty_config after the migration.
func TestLoyaltyStateMigrates(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		ctx := context.Background()
		for _, q := range []string{`DROP TABLE loyalty_config`, `DROP TABLE engagement_activity`, `DROP TABLE engagement_answers`, `DROP TABLE engagement_due`,
			`DELETE FROM schema_migrations WHERE name = '0039_loyalty_state'`,
			`INSERT INTO settings (key, value) VALUES ('loyalty_program', '{"measure":"spend","tiers":[{"name":"one","from":0,"perks":[]}]}'),
				('guide_link_key', 'old-key'), ('engagement_seq', '7')`} {
			if err := s.DB.Tx(ctx, func(tx *store.Tx) error { _, err := tx.ExecContext(ctx, q); return err }); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if applied, err := s.DB.Migrate(ctx); err != nil || len(applied) != 1 {
			t.Fatalf("migrate: %v %v", applied, err)
		}
		p, err := s.Loyalty.Program(ctx)
		if err != nil || p.Measure != "spend" || len(p.Tiers) != 1 || p.Tiers[0].Name != "one" {
			t.Fatalf("program: %+v %v", p, err)
		}
		var key string
		if err := s.DB.QueryRowContext(ctx, `SELECT guide_link_key FROM loyalty_config WHERE id = 1`).Scan(&key); err != nil || key != "old-key" {
			t.Fatalf("guide link key %q: %v", key, err)
		}
		var left int
		if err := s.DB.QueryRowContext(ctx, `SELECT COUNT(*) FROM settings WHERE key IN ('loyalty_program', 'guide_link_key', 'engagement_seq')`).Scan(&left); err != nil || left != 0 {
			t.Fatalf("%d keys left in settings: %v", left, err)
		}
	})
}

// startRunDone waits for the engagement run the job system makes at start
// (on PostgreSQL once the node leads, seconds later), so that it does not
// take the marks of a test's own runs.
func startRunDone(t *testing.T, s *apptest.Server) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		var done struct{ Jobs []struct{ ID int64 } }
		s.API("GET", "/api/v1/jobs?kind=loyalty.engage&state=done", nil, &done)
		if len(done.Jobs) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the start's engagement run did not finish")
		}
	}
}
