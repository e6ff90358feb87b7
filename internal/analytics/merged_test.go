package analytics_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A customer merged into another leaves the at-risk list: its values stay
// until the next refresh, but the list names only live customers.
func TestAtRiskNamesLiveCustomersOnly(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := startAt(t, dsn, fixed)
		day := func(d int) time.Time { return fixed.Add(-time.Duration(d) * 24 * time.Hour) }
		// Two shoppers who stopped buying, each known by an anonymous id.
		for _, a := range []string{"anon-a", "anon-b"} {
			for k, d := range []int{300, 280, 260, 240} {
				m := order("", fmt.Sprintf("%s-%d", a, k), day(d), 40)
				delete(m, "userId")
				m["anonymousId"] = a
				s.MustSend("track", m)
			}
		}
		for i := range 30 { // others, so the model has something to fit
			for k := range 5 {
				s.MustSend("track", order(fmt.Sprintf("u-%d", i), fmt.Sprintf("u-%d-%d", i, k), day(10+40*k+i), 30))
			}
		}
		s.Sync()
		if _, err := s.An.Refresh(t.Context()); err != nil {
			t.Fatal(err)
		}
		type customer struct {
			ID     string
			Merges []struct{ From string }
		}
		var a, b customer
		s.API("GET", "/api/v1/customers/anon-a", nil, &a)
		s.API("GET", "/api/v1/customers/anon-b", nil, &b)
		if a.ID == "" || b.ID == "" || a.ID == b.ID {
			t.Fatalf("customers %q and %q", a.ID, b.ID)
		}
		atRisk := func() map[string]bool {
			var list struct{ Customers []struct{ Customer string } }
			if code := s.API("GET", "/api/v1/analytics/at-risk?limit=1000", nil, &list); code != 200 {
				t.Fatalf("at-risk: %d", code)
			}
			ids := map[string]bool{}
			for _, v := range list.Customers {
				ids[v.Customer] = true
			}
			return ids
		}
		if before := atRisk(); !before[a.ID] || !before[b.ID] {
			t.Fatalf("before the merge the list lacks %s or %s", a.ID, b.ID)
		}
		// One person: both anonymous ids sign in as the same user.
		for _, anon := range []string{"anon-a", "anon-b"} {
			s.MustSend("identify", map[string]any{"userId": "one-person", "anonymousId": anon})
		}
		s.Sync()
		var merged customer
		s.API("GET", "/api/v1/customers/one-person", nil, &merged)
		if len(merged.Merges) != 1 {
			t.Fatalf("the merge: %+v", merged)
		}
		gone := merged.Merges[0].From
		after := atRisk()
		if after[gone] {
			t.Errorf("the at-risk list names %s, merged into %s", gone, merged.ID)
		}
		if !after[merged.ID] {
			t.Errorf("the at-risk list lacks the live customer %s", merged.ID)
		}
	})
}
