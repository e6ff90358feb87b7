package web_test

import (
	"encoding/json"
	"io"
	"net/url"
	"regexp"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The reporting currency: set through the API or the settings page, every
// amount the console shows says it; a wrong code is refused, naming the
// field, and only an admin may set it.
func TestReportingCurrency(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.API("POST", "/api/v1/loyalty/rules", map[string]any{"on": "Order Completed", "points_per_unit": 1}, nil)
		s.MustSend("track", map[string]any{"userId": "cur-1", "event": "Order Completed", "properties": map[string]any{"order_id": "cur-o1", "total": 1234.4, "currency": "EUR"}})
		s.MustSend("track", map[string]any{"userId": "cur-2", "event": "Signed Up", "properties": map[string]any{"referred_by": "cur-1"}})
		s.MustSend("track", map[string]any{"userId": "cur-2", "event": "Order Completed", "properties": map[string]any{"order_id": "cur-o2", "total": 56, "currency": "EUR"}})
		s.Sync()
		var ds struct{ Currency *string }
		if code := s.API("GET", "/api/v1/display-settings", nil, &ds); code != 200 || ds.Currency == nil || *ds.Currency != "" {
			t.Fatalf("display settings at first: %d %+v", code, ds)
		}
		c, _, _ := signIn(t, s.URL, url.Values{"token": {apptest.Token}})
		get := func(path string) string {
			resp, err := c.Get(s.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return string(b)
		}
		spent := regexp.MustCompile(`id="referrals"><h2>[^<]*</h2><p class="big">([^<]*)</p>`)
		if m := spent.FindStringSubmatch(get("/loyalty")); m == nil || m[1] != "56" {
			t.Fatalf("referred spend without a currency: %v", m)
		}
		if code := s.API("PATCH", "/api/v1/display-settings", map[string]any{"currency": "eur"}, &ds); code != 200 || *ds.Currency != "EUR" {
			t.Fatalf("set EUR: %d %+v", code, ds)
		}
		if m := spent.FindStringSubmatch(get("/loyalty")); m == nil || m[1] != "56 EUR" {
			t.Fatalf("referred spend in EUR: %v", m)
		}
		code, body := s.Do("PATCH", "/api/v1/display-settings", []byte(`{"currency": "EURO"}`), "Authorization: Bearer "+apptest.Token, "Content-Type: application/json")
		var e struct{ Error struct{ Field string } }
		_ = json.Unmarshal(body, &e)
		if code != 400 || e.Error.Field != "currency" {
			t.Fatalf("a four-letter code: %d %s", code, body)
		}
		// The settings page sets it too.
		page := get("/settings")
		form := url.Values{"csrf": {csrfField.FindStringSubmatch(page)[1]}, "currency": {"usd"}}
		resp, err := c.PostForm(s.URL+"/settings/currency", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if s.API("GET", "/api/v1/display-settings", nil, &ds); *ds.Currency != "USD" {
			t.Fatalf("after the settings form: %+v", ds)
		}
		if m := spent.FindStringSubmatch(get("/loyalty")); m == nil || m[1] != "56 USD" {
			t.Fatalf("referred spend in USD: %v", m)
		}
		if err := s.Auth.CreateUser(t.Context(), "analyst@example.com", "a long password", "analyst"); err != nil {
			t.Fatal(err)
		}
		tok, err := s.Auth.CreateToken(t.Context(), "analyst", "analyst", "")
		if err != nil {
			t.Fatal(err)
		}
		if code, _ := s.Do("PATCH", "/api/v1/display-settings", []byte(`{"currency": "GBP"}`), "Authorization: Bearer "+tok, "Content-Type: application/json"); code != 403 {
			t.Fatalf("an analyst sets the currency: %d", code)
		}
	})
}
