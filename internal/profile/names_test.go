package profile_test

import (
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A customer is named by name, else email, else the id the business knows
// them by; someone known only from a social post by their handle.
func TestNames(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	s.MustSend("identify", map[string]any{"userId": "u-ana", "traits": map[string]any{"name": "Ana Lima", "email": "ana@example.com"}})
	s.MustSend("identify", map[string]any{"userId": "u-bo", "traits": map[string]any{"email": "bo@example.com"}})
	s.MustSend("track", map[string]any{"anonymousId": "social:@kim_outdoors", "event": "Social Mention", "properties": map[string]any{"text": "Nice boots"}})
	s.MustSend("track", map[string]any{"anonymousId": "device-7", "event": "Product Viewed"})
	s.Sync()
	got, err := s.Profiles.Names(t.Context(), []string{"u-ana", "u-bo", "social:@kim_outdoors", "device-7", "nobody"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"u-ana": "Ana Lima", "u-bo": "bo@example.com", "social:@kim_outdoors": "@kim_outdoors (social)", "device-7": "device-7"}
	if len(got) != len(want) {
		t.Errorf("names: %v, want %v", got, want)
	}
	for ref, w := range want {
		if got[ref] != w {
			t.Errorf("%s is named %q, want %q", ref, got[ref], w)
		}
	}
}

// What cxloop does to a customer (here, a case resolved hours later) is
// not a touch of theirs: it moves neither their last seen nor their count.
func TestLastSeenIsTheCustomers(t *testing.T) {
	t0 := apptest.Epoch
	s, clock := apptest.StartAt(t, storetest.DSN(t, "sqlite"), t0)
	s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
	s.MustSend("track", map[string]any{"userId": "u-late", "event": "Complaint Submitted", "properties": map[string]any{"subject": "Lost parcel"}})
	s.Sync()
	var list struct{ Cases []struct{ ID string } }
	s.API("GET", "/api/v1/cases", nil, &list)
	if len(list.Cases) != 1 {
		t.Fatalf("cases: %+v", list)
	}
	clock.Add(5 * time.Hour)
	if code := s.API("POST", "/api/v1/cases/"+list.Cases[0].ID+"/resolve", map[string]any{"note": "Found it."}, nil); code != 200 {
		t.Fatalf("resolve: %d", code)
	}
	s.Sync()
	var c struct {
		LastSeen   time.Time `json:"lastSeen"`
		EventCount int       `json:"eventCount"`
	}
	s.API("GET", "/api/v1/customers/u-late", nil, &c)
	if !c.LastSeen.Equal(t0) || c.EventCount != 1 {
		t.Errorf("last seen %v with %d events, want %v and 1", c.LastSeen, c.EventCount, t0)
	}
}
