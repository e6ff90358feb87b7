package main

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
)

// serve --demo loads the sample retailer with an admin token of its own
// and revokes it once loaded: the only admin token left is the operator's.
func TestDemoLoaderTokenEnds(t *testing.T) {
	p := start(t, filepath.Join(t.TempDir(), "cxloop.db"), "--demo", "--demo-customers", "40")
	get := func(path string, out any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, p.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+apptest.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	// The trail records the loader's token revoked once the demo is in.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
		var trail struct{ Entries []struct{ ResourceID string } }
		get("/api/v1/audit?action=revoke&resource=token", &trail)
		if len(trail.Entries) == 1 {
			break
		}
		if time.Now().After(deadline) || strings.Contains(p.out.String(), "level=ERROR") {
			t.Fatalf("the loader's token was not revoked: %+v %s", trail, p.out)
		}
	}
	var list struct {
		Tokens []struct {
			Name, Role string
			RevokedAt  *string
		}
	}
	get("/api/v1/tokens", &list)
	var live []string
	revoked := false
	for _, tk := range list.Tokens {
		if tk.RevokedAt == nil {
			live = append(live, tk.Name)
		} else if tk.Name == "demo loader" {
			revoked = true
		}
	}
	if len(live) != 1 || !revoked {
		t.Fatalf("tokens after the demo loaded: live %v, the loader's revoked %v (%+v)", live, revoked, list.Tokens)
	}
	var customers struct{ Customers []struct{ ID string } }
	get("/api/v1/customers?limit=100", &customers)
	if len(customers.Customers) < 30 {
		t.Errorf("the demo's customers: %d", len(customers.Customers))
	}
}
