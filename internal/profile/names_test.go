package profile_test

import (
	"testing"

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
