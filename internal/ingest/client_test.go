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

		var c struct {
			ID         string
			Identities []struct{ Kind, Value string }
			Traits     map[string]any
			EventCount int
			Channels   []struct{ Channel string }
			Accounts   []struct{ AccountID, Role string }
		}
		if code := s.API("GET", "/api/v1/customers/go.user@example.com", nil, &c); code != 200 {
			t.Fatalf("lookup by email: %d", code)
		}
		ids := map[string]bool{}
		for _, i := range c.Identities {
			ids[i.Kind+"="+i.Value] = true
		}
		for _, want := range []string{"anonymous_id=go-anon", "user_id=go-user", "user_id=go-legacy", "email=go.user@example.com"} {
			if !ids[want] {
				t.Errorf("missing identity %s in %v", want, ids)
			}
		}
		if c.EventCount != len(msgs) || c.Traits["name"] != "Go User" || c.Traits["legacy"] != true {
			t.Errorf("profile %+v", c)
		}
		if len(c.Channels) != 1 || c.Channels[0].Channel != "server" {
			t.Errorf("channels %+v; analytics-go is a server library", c.Channels)
		}
		if len(c.Accounts) != 1 || c.Accounts[0].AccountID != "go-co" {
			t.Errorf("accounts %+v", c.Accounts)
		}
		var acc struct {
			Traits  map[string]any
			Members []struct{ Role string }
		}
		s.API("GET", "/api/v1/accounts/go-co", nil, &acc)
		if acc.Traits["name"] != "Go Co" || len(acc.Members) != 1 || acc.Members[0].Role != "buyer" {
			t.Errorf("account %+v", acc)
		}
	})
}
