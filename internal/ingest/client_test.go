package ingest_test

import (
	"sync"
	"testing"
	"time"

	analytics "github.com/segmentio/analytics-go/v3"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

type callback struct {
	mu       sync.Mutex
	ok, fail int
	errs     []error
}

func (c *callback) Success(analytics.Message) { c.mu.Lock(); c.ok++; c.mu.Unlock() }
func (c *callback) Failure(_ analytics.Message, err error) {
	c.mu.Lock()
	c.fail++
	c.errs = append(c.errs, err)
	c.mu.Unlock()
}

// The official Segment Go library, unmodified, pointed at cxloop.
func TestSegmentGoClient(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		cb := &callback{}
		client, err := analytics.NewWithConfig(apptest.WriteKey, analytics.Config{Endpoint: s.URL, Interval: 50 * time.Millisecond, BatchSize: 3, Callback: cb})
		if err != nil {
			t.Fatal(err)
		}
		msgs := []analytics.Message{
			analytics.Page{AnonymousId: "go-anon", Name: "Pricing", Properties: analytics.NewProperties().SetURL("https://shop.example/pricing")},
			analytics.Identify{AnonymousId: "go-anon", UserId: "go-user", Traits: analytics.NewTraits().SetEmail("Go.User@Example.com").SetName("Go User").Set("role", "buyer")},
			analytics.Track{UserId: "go-user", Event: "Order Completed", Properties: analytics.NewProperties().SetRevenue(42.5).SetCurrency("EUR").SetOrderId("o-1")},
			analytics.Group{UserId: "go-user", GroupId: "go-co", Traits: analytics.NewTraits().SetName("Go Co").Set("industry", "Retail")},
			analytics.Identify{UserId: "go-legacy", Traits: analytics.NewTraits().Set("legacy", true)},
			analytics.Alias{PreviousId: "go-legacy", UserId: "go-user"},
		}
		for _, m := range msgs {
			if err := client.Enqueue(m); err != nil {
				t.Fatal(err)
			}
		}
		if err := client.Close(); err != nil {
			t.Fatal(err)
		}
		if cb.fail != 0 || cb.ok != len(msgs) {
			t.Fatalf("client reported %d successes, %d failures: %v", cb.ok, cb.fail, cb.errs)
		}
		s.Sync()

		checkClientStory(t, s, "go", "Go", "buyer", len(msgs))
	})
}

// checkClientStory checks the profile an official client's story built: the
// customer p-user, first anonymous (p-anon), identified with an email and the
// role, who bought, joined the account p-co and was aliased from p-legacy.
func checkClientStory(t *testing.T, s *apptest.Server, p, name, role string, events int) {
	t.Helper()
	var c struct {
		Identities []struct{ Kind, Value string }
		Traits     map[string]any
		EventCount int
		Channels   []struct{ Channel string }
		Accounts   []struct{ AccountID, Role string }
	}
	email := p + ".user@example.com"
	if code := s.API("GET", "/api/v1/customers/"+email, nil, &c); code != 200 {
		t.Fatalf("lookup by email: %d", code)
	}
	ids := map[string]bool{}
	for _, i := range c.Identities {
		ids[i.Kind+"="+i.Value] = true
	}
	for _, want := range []string{"anonymous_id=" + p + "-anon", "user_id=" + p + "-user", "user_id=" + p + "-legacy", "email=" + email} {
		if !ids[want] {
			t.Errorf("missing identity %s in %v", want, ids)
		}
	}
	if c.EventCount != events || c.Traits["name"] != name+" User" || c.Traits["legacy"] != true {
		t.Errorf("profile %+v", c)
	}
	if len(c.Channels) != 1 || c.Channels[0].Channel != "server" {
		t.Errorf("channels %+v; the client is a server library", c.Channels)
	}
	if len(c.Accounts) != 1 || c.Accounts[0].AccountID != p+"-co" || c.Accounts[0].Role != "" {
		t.Errorf("accounts %+v", c.Accounts)
	}
	var acc struct {
		Traits  map[string]any
		Members []struct{ Role string }
	}
	s.API("GET", "/api/v1/accounts/"+p+"-co", nil, &acc)
	if acc.Traits["name"] != name+" Co" || len(acc.Members) != 1 || acc.Members[0].Role != role {
		t.Errorf("account %+v", acc)
	}
}
