package web_test

import (
	"io"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A customer without a name or email is listed by what the business knows
// them by (their user id, their social handle), never by cxloop's cus_ id.
func TestCustomersListedByWhatTheBusinessKnows(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.MustSend("track", map[string]any{"userId": "u-77", "event": "Product Viewed"})
		s.MustSend("track", map[string]any{"anonymousId": "social:@kim_outdoors", "event": "Mention Posted", "properties": map[string]any{"text": "great tent"}})
		s.MustSend("identify", map[string]any{"userId": "u-ada", "traits": map[string]any{"name": "Ada Lima"}})
		s.Sync()
		c, _, _ := signIn(t, s.URL, url.Values{"token": {apptest.Token}})
		resp, err := c.Get(s.URL + "/customers")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(b)
		for _, want := range []string{">u-77</a>", ">@kim_outdoors (social)</a>", ">Ada Lima</a>"} {
			if !strings.Contains(page, want) {
				t.Errorf("the list lacks %s", want)
			}
		}
		if strings.Contains(page, ">cus_") {
			t.Errorf("a customer listed by their cus_ id")
		}
		// So does the customer's own page.
		resp, err = c.Get(s.URL + "/customers/social:@kim_outdoors")
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(b), "<h1>@kim_outdoors (social)</h1>") {
			t.Errorf("the customer's page is not headed by their handle")
		}
		// The API and the CSV export name them the same way.
		var list struct{ Customers []struct{ ID, Name string } }
		s.API("GET", "/api/v1/customers", nil, &list)
		var names []string
		for _, c := range list.Customers {
			names = append(names, c.Name)
		}
		slices.Sort(names)
		if got := strings.Join(names, "|"); got != "@kim_outdoors (social)|Ada Lima|u-77" {
			t.Errorf("API names: %q", got)
		}
		if csv := s.Page("/export/customers"); !strings.Contains(csv, "@kim_outdoors (social)") || !strings.HasPrefix(csv, "id,name,") {
			t.Errorf("CSV export: %q", csv)
		}
	})
}
