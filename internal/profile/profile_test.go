package profile_test

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type customer struct {
	ID         string `json:"id"`
	Identities []struct {
		Kind, Value string
	} `json:"identities"`
	Traits     map[string]any `json:"traits"`
	EventCount int            `json:"eventCount"`
	FirstSeen  string         `json:"firstSeen"`
	LastSeen   string         `json:"lastSeen"`
	Channels   []struct {
		Channel string
		Events  int
	} `json:"channels"`
	Accounts []struct {
		AccountID, Role string
	} `json:"accounts"`
	Merges []struct {
		From, Reason string
	} `json:"merges"`
}

func (c customer) ids() string {
	var out []string
	for _, i := range c.Identities {
		out = append(out, i.Kind+"="+i.Value)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func TestIdentityResolution(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		get := func(ref string) customer {
			t.Helper()
			var c customer
			if code := s.API("GET", "/api/v1/customers/"+ref, nil, &c); code != 200 {
				t.Fatalf("GET customer %s: %d", ref, code)
			}
			return c
		}

		// Anonymous browsing on the web, then signing up.
		s.MustSend("page", map[string]any{"anonymousId": "anon-1", "name": "Home", "timestamp": "2025-01-01T10:00:00Z", "context": map[string]any{"channel": "web"}})
		s.MustSend("track", map[string]any{"anonymousId": "anon-1", "event": "Product Viewed", "timestamp": "2025-01-01T10:01:00Z", "context": map[string]any{"channel": "web"}})
		s.MustSend("identify", map[string]any{"anonymousId": "anon-1", "userId": "u-1", "timestamp": "2025-01-01T10:02:00Z",
			"traits": map[string]any{"email": " Ana@Example.COM ", "name": "Ana", "plan": "basic"}})
		// A store purchase recognised by the loyalty card's email.
		s.MustSend("track", map[string]any{"anonymousId": "pos-77", "event": "Order Completed", "timestamp": "2025-02-01T12:00:00Z",
			"context": map[string]any{"channel": "store", "traits": map[string]any{"email": "ana@example.com"}}})
		// A call, recognised by phone only, first unknown…
		s.MustSend("track", map[string]any{"anonymousId": "call-5", "event": "Call Completed", "timestamp": "2025-03-01T09:00:00Z",
			"context": map[string]any{"channel": "call_centre", "traits": map[string]any{"phone": "+351 912 345 678"}}})
		s.Sync()
		if c := get("call-5"); c.ID == get("u-1").ID {
			t.Fatal("the caller was merged before anything linked the phone")
		}
		// …until the customer adds the phone to the profile.
		s.MustSend("identify", map[string]any{"userId": "u-1", "timestamp": "2025-03-02T09:00:00Z", "traits": map[string]any{"phone": "00351912345678"}})
		// The app knew the customer under another id; alias joins them.
		s.MustSend("screen", map[string]any{"anonymousId": "app-anon", "userId": "app-9", "name": "Home", "timestamp": "2025-04-01T08:00:00Z", "context": map[string]any{"library": map[string]any{"name": "analytics-android"}}})
		s.MustSend("alias", map[string]any{"previousId": "app-9", "userId": "u-1", "timestamp": "2025-04-01T08:01:00Z"})
		// A social post, indirect.
		s.MustSend("track", map[string]any{"anonymousId": "social:@ana", "event": "Social Mention", "timestamp": "2025-05-01T08:00:00Z",
			"context": map[string]any{"channel": "social", "traits": map[string]any{"email": "ana@example.com"}}})
		s.Sync()

		c := get("u-1")
		want := "anonymous_id=anon-1 anonymous_id=app-anon anonymous_id=call-5 anonymous_id=pos-77 anonymous_id=social:@ana email=ana@example.com phone=+351912345678 user_id=app-9 user_id=u-1"
		if c.ids() != want {
			t.Fatalf("identities\n got %s\nwant %s", c.ids(), want)
		}
		for _, ref := range []string{"anon-1", "ANA@example.com", "pos-77", "call-5", "+351 912 345 678", "app-9", "app-anon", "social:@ana", c.ID} {
			if got := get(ref); got.ID != c.ID {
				t.Errorf("lookup by %q found %s, want %s", ref, got.ID, c.ID)
			}
		}
		if c.EventCount != 9 {
			t.Errorf("event count %d, want 9", c.EventCount)
		}
		channels := map[string]int{}
		for _, ch := range c.Channels {
			channels[ch.Channel] = ch.Events
		}
		if channels["web"] < 2 || channels["store"] != 1 || channels["call_centre"] != 1 || channels["social"] != 1 || channels["mobile_app"] != 1 {
			t.Errorf("channels %v", channels)
		}
		if c.FirstSeen != "2025-01-01T10:00:00.000Z" || c.LastSeen != "2025-05-01T08:00:00.000Z" {
			t.Errorf("seen %s – %s", c.FirstSeen, c.LastSeen)
		}
		// The phone and the alias each joined a separate profile; the store
		// and social touchpoints arrived with an email already known.
		if len(c.Merges) != 2 {
			t.Fatalf("merge history %+v", c.Merges)
		}
		for _, m := range c.Merges {
			if m.Reason == "" || !strings.HasPrefix(m.From, "cus_") {
				t.Errorf("merge %+v", m)
			}
			// A merged-away id still finds the merged profile.
			if got := get(m.From); got.ID != c.ID {
				t.Errorf("old id %s found %s", m.From, got.ID)
			}
		}

		// The timeline holds every touchpoint, across channels, in time order.
		var tl struct {
			Events []struct {
				Channel, Timestamp, Type string
			}
			NextOffset any
		}
		s.API("GET", "/api/v1/customers/ana@example.com/timeline", nil, &tl)
		if len(tl.Events) != 9 {
			t.Fatalf("timeline has %d events", len(tl.Events))
		}
		for i := 1; i < len(tl.Events); i++ {
			if tl.Events[i].Timestamp < tl.Events[i-1].Timestamp {
				t.Fatalf("timeline out of order at %d", i)
			}
		}
		s.API("GET", "/api/v1/customers/u-1/timeline?limit=4&offset=4", nil, &tl)
		if len(tl.Events) != 4 || tl.NextOffset != float64(8) || tl.Events[0].Timestamp != "2025-03-01T09:00:00.000Z" {
			t.Fatalf("second page %+v next %v", tl.Events, tl.NextOffset)
		}
	})
}

func TestTraitsMergeByTimestamp(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.MustSend("identify", map[string]any{"userId": "t-1", "timestamp": "2025-06-01T00:00:00Z", "traits": map[string]any{"plan": "gold", "city": "Porto"}})
		s.Sync()
		// A late-arriving, older identify must not overwrite newer values…
		s.MustSend("identify", map[string]any{"userId": "t-1", "timestamp": "2025-01-01T00:00:00Z", "traits": map[string]any{"plan": "free", "nickname": "tt"}})
		// …and a newer one does.
		s.MustSend("identify", map[string]any{"userId": "t-1", "timestamp": "2025-07-01T00:00:00Z", "traits": map[string]any{"city": "Lisbon"}})
		s.Sync()
		var c customer
		s.API("GET", "/api/v1/customers/t-1", nil, &c)
		if c.Traits["plan"] != "gold" || c.Traits["city"] != "Lisbon" || c.Traits["nickname"] != "tt" {
			t.Fatalf("traits %v", c.Traits)
		}

		// When two profiles merge, each trait keeps its newest value.
		s.MustSend("identify", map[string]any{"anonymousId": "t-anon", "timestamp": "2025-08-01T00:00:00Z", "traits": map[string]any{"plan": "platinum"}})
		s.MustSend("identify", map[string]any{"anonymousId": "t-anon", "timestamp": "2024-01-01T00:00:00Z", "traits": map[string]any{"city": "Faro"}})
		s.MustSend("identify", map[string]any{"anonymousId": "t-anon", "userId": "t-1", "timestamp": "2025-08-02T00:00:00Z"})
		s.Sync()
		s.API("GET", "/api/v1/customers/t-anon", nil, &c)
		if c.Traits["plan"] != "platinum" || c.Traits["city"] != "Lisbon" {
			t.Fatalf("merged traits %v", c.Traits)
		}
	})
}

func TestAccountsAndSearch(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		for i, role := range []string{"buyer", "decision_maker", "user"} {
			uid := fmt.Sprintf("b2b-%d", i)
			s.MustSend("identify", map[string]any{"userId": uid, "traits": map[string]any{"email": uid + "@acme.example", "name": "Person " + uid, "role": role}})
			s.MustSend("group", map[string]any{"userId": uid, "groupId": "acme", "traits": map[string]any{"name": "Acme Ltd", "industry": "Tourism"}})
		}
		s.MustSend("group", map[string]any{"userId": "b2b-2", "groupId": "acme", "traits": map[string]any{"role": "finance"}})
		s.Sync()
		var acc struct {
			ID      string
			Traits  map[string]any
			Members []struct{ CustomerID, Role, Email string }
		}
		if code := s.API("GET", "/api/v1/accounts/acme", nil, &acc); code != 200 {
			t.Fatalf("account: %d", code)
		}
		if acc.Traits["name"] != "Acme Ltd" || acc.Traits["role"] != nil || len(acc.Members) != 3 {
			t.Fatalf("account %+v", acc)
		}
		roles := map[string]string{}
		for _, m := range acc.Members {
			roles[m.Email] = m.Role
		}
		if roles["b2b-0@acme.example"] != "buyer" || roles["b2b-1@acme.example"] != "decision_maker" || roles["b2b-2@acme.example"] != "finance" {
			t.Fatalf("roles %v", roles)
		}
		if code := s.API("GET", "/api/v1/accounts/none", nil, nil); code != 404 {
			t.Fatalf("unknown account: %d", code)
		}
		var c customer
		s.API("GET", "/api/v1/customers/b2b-1", nil, &c)
		if len(c.Accounts) != 1 || c.Accounts[0].AccountID != "acme" {
			t.Fatalf("customer accounts %+v", c.Accounts)
		}

		var found struct {
			Customers []struct{ ID string }
		}
		for q, want := range map[string]int{"b2b-1@acme.example": 1, "person b2b": 3, "decision_maker": 1, "ACME.example": 3, "nothing-like-this": 0, "b2b": 3, "100%": 0} {
			s.API("GET", "/api/v1/customers?q="+url.QueryEscape(q), nil, &found)
			if len(found.Customers) != want {
				t.Errorf("q=%q found %d, want %d", q, len(found.Customers), want)
			}
		}
		s.API("GET", "/api/v1/customers?limit=2", nil, &found)
		if len(found.Customers) != 2 {
			t.Errorf("limit: %d", len(found.Customers))
		}
	})
}

// snapshot reads every profile table in a fixed order.
func snapshot(t *testing.T, s *apptest.Server) string {
	t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id, COALESCE(merged_into, ''), traits, trait_times, first_seen, last_seen, event_count, created_seq, search FROM customers ORDER BY id`,
		`SELECT kind, value, customer_id, first_seen, seq FROM identities ORDER BY kind, value`,
		`SELECT customer_id, channel, events, last_seen FROM customer_channels ORDER BY customer_id, channel`,
		`SELECT from_id, into_id, reason, seq, at FROM customer_merges ORDER BY from_id`,
		`SELECT id, traits, trait_times, first_seen, last_seen FROM accounts ORDER BY id`,
		`SELECT account_id, customer_id, role, joined_at FROM account_members ORDER BY account_id, customer_id`,
	} {
		rows, err := s.DB.Query(q)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
	}
	return b.String()
}

func TestReplayRebuildsTheSameProfiles(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		for i := 0; i < 30; i++ {
			s.MustSend("page", map[string]any{"anonymousId": fmt.Sprintf("a%d", i), "name": "Home"})
			s.MustSend("identify", map[string]any{"anonymousId": fmt.Sprintf("a%d", i), "userId": fmt.Sprintf("u%d", i%12),
				"traits": map[string]any{"email": fmt.Sprintf("p%d@example.com", i%7), "n": i}})
			s.MustSend("group", map[string]any{"userId": fmt.Sprintf("u%d", i%12), "groupId": fmt.Sprintf("g%d", i%3), "traits": map[string]any{"size": i}})
		}
		s.Sync()
		before := snapshot(t, s)
		if !strings.Contains(before, "cus_") {
			t.Fatal("no profiles built")
		}
		c, err := s.Runner.Lookup("profile")
		if err != nil {
			t.Fatal(err)
		}
		// The server's own consumer loop runs too and may apply part of the
		// replay; the checkpoint's row lock keeps each event applied once.
		if _, err := s.Runner.Replay(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		s.Sync()
		if after := snapshot(t, s); after != before {
			t.Fatalf("replay changed the profiles\nbefore:\n%s\nafter:\n%s", before, after)
		}
	})
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{" A@B.co ": "a@b.co", "no-at": "", "@x": "", "x@": ""} {
		if got := profile.NormalizeEmail(in); got != want {
			t.Errorf("email %q: %q, want %q", in, got, want)
		}
	}
	for in, want := range map[any]string{"+351 912-345-678": "+351912345678", "0044 20 7946 0000": "+442079460000", "(555) 010-2030": "5550102030", "12": "", 5550102030.0: "5550102030"} {
		if got := profile.NormalizePhone(in); got != want {
			t.Errorf("phone %v: %q, want %q", in, got, want)
		}
	}
}
