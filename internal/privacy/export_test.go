package privacy_test

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

func TestExportHoldsEveryKindOfData(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		richCustomer(t, s)
		code, body := s.Do("GET", "/api/v1/customers/"+zeldaPhone+"/export", nil, "Authorization: Bearer "+apptest.Token)
		if code != 200 {
			t.Fatalf("export: %d %s", code, body)
		}
		var doc struct {
			Format   string
			Customer struct {
				ID     string
				Traits map[string]any
			}
			Identities struct {
				UserIDs, AnonymousIDs, Emails, Phones []string
			}
			Events []map[string]any
			Tables map[string][]map[string]any
		}
		if err := json.Unmarshal(body, &doc); err != nil {
			t.Fatal(err)
		}
		if doc.Format != "cxloop.customer-export.v1" || doc.Customer.Traits["name"] != zeldaName ||
			len(doc.Identities.UserIDs) != 1 || len(doc.Identities.AnonymousIDs) != 1 || doc.Identities.Emails[0] != zeldaEmail || doc.Identities.Phones[0] != zeldaPhone {
			t.Fatalf("export head: %+v", doc)
		}
		// Every event she sent (identify, page, two tracks) and the ones
		// cxloop wrote about her (the answer, the case, the introduction).
		kinds := map[string]bool{}
		for _, e := range doc.Events {
			name, _ := e["event"].(string)
			kinds[e["type"].(string)+":"+name] = true
		}
		for _, k := range []string{"identify:", "page:", "track:Product Viewed", "track:Order Completed", "track:Survey Responded", "track:Case Opened"} {
			if !kinds[k] {
				t.Errorf("export lacks the event %s (has %v)", k, kinds)
			}
		}
		// Her rows in each capability's tables, with what she said.
		want := map[string]string{"customers": zeldaName, "identities": zeldaEmail, "survey_responses": "tent leaked", "survey_texts": "tent leaked",
			"cases": "tent leaked", "case_notes": "Called Zelda", "orders": "o-zelda-1", "loyalty_entries": zeldaUser, "loyalty_balances": zeldaUser,
			"interactions": "tent-2", "order_lines": "tent-2", "an_orders": "o-zelda-1", "introductions": zeldaEmail, "customer_channels": "server"}
		for table, text := range want {
			rows := doc.Tables[table]
			b, _ := json.Marshal(rows)
			if len(rows) == 0 || !strings.Contains(string(b), text) {
				t.Errorf("export table %s = %s, want a row with %q", table, b, text)
			}
		}
		// Bob is not in her export.
		if strings.Contains(string(body), "bob@example.org") || strings.Contains(string(body), "o-bob-1") {
			t.Fatal("export holds another customer's data")
		}
		// Only admins export.
		var analyst struct{ Token string }
		must(t, s.API("POST", "/api/v1/tokens", map[string]any{"name": "a", "role": "analyst"}, &analyst), 201, "token")
		if code, _ := s.Do("GET", "/api/v1/customers/"+zeldaUser+"/export", nil, "Authorization: Bearer "+analyst.Token); code != 403 {
			t.Fatalf("analyst export: %d", code)
		}
		if code, _ := s.Do("DELETE", "/api/v1/customers/"+zeldaUser, nil, "Authorization: Bearer "+analyst.Token); code != 403 {
			t.Fatalf("analyst erase: %d", code)
		}
	})
}

func TestSuppressionRefusesAndLifts(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.MustSend("identify", map[string]any{"userId": zeldaUser, "traits": map[string]any{"email": zeldaEmail, "phone": "+44 7700 900123"}})
		s.Sync()
		var out struct{ SuppressionID string }
		must(t, s.API("DELETE", "/api/v1/customers/"+zeldaUser+"?suppress=true", nil, &out), 200, "erase")
		if !strings.HasPrefix(out.SuppressionID, "sup_") {
			t.Fatalf("erasure: %+v", out)
		}
		var list struct {
			Suppressions []struct {
				ID         string
				Kinds      []string
				Identities int
			}
		}
		s.API("GET", "/api/v1/suppressions", nil, &list)
		if len(list.Suppressions) != 1 || list.Suppressions[0].Identities != 3 || strings.Join(list.Suppressions[0].Kinds, ",") != "user_id,email,phone" {
			t.Fatalf("suppressions: %+v", list)
		}
		b, _ := json.Marshal(list)
		if strings.Contains(string(b), zeldaEmail) || strings.Contains(string(b), zeldaUser) {
			t.Fatal("the suppression list shows identities in clear")
		}
		// Her userId, her email in another spelling, her phone in another
		// format: each refused, by /v1 single messages and batches alike.
		s.MustSend("track", map[string]any{"userId": zeldaUser, "event": "Product Viewed"})
		s.MustSend("identify", map[string]any{"anonymousId": "new-device", "traits": map[string]any{"email": " Zelda.Quartermaine@Example.org"}})
		s.MustSend("batch", map[string]any{"batch": []any{
			map[string]any{"type": "track", "anonymousId": "other-device", "event": "Product Viewed", "context": map[string]any{"traits": map[string]any{"phone": "+447700900123"}}},
			map[string]any{"type": "track", "userId": "u-carol", "event": "Product Viewed"},
		}})
		s.Sync()
		for _, ref := range []string{zeldaUser, zeldaEmail, "new-device", "other-device"} {
			if code := s.API("GET", "/api/v1/customers/"+ref, nil, nil); code != 404 {
				t.Fatalf("suppressed %s got a profile: %d", ref, code)
			}
		}
		if code := s.API("GET", "/api/v1/customers/u-carol", nil, nil); code != 200 {
			t.Fatalf("carol: %d", code)
		}
		if m := metric(t, s, `cxloop_ingest_messages_total{result="suppressed"}`); m != "3" {
			t.Fatalf("suppressed metric = %q", m)
		}
		// Lifted: she is accepted again.
		must(t, s.API("DELETE", "/api/v1/suppressions/"+out.SuppressionID, nil, nil), 200, "lift")
		must(t, s.API("DELETE", "/api/v1/suppressions/"+out.SuppressionID, nil, nil), 404, "lift again")
		s.MustSend("track", map[string]any{"userId": zeldaUser, "event": "Product Viewed"})
		s.Sync()
		if code := s.API("GET", "/api/v1/customers/"+zeldaUser, nil, nil); code != 200 {
			t.Fatalf("after the lift: %d", code)
		}
	})
}

func metric(t *testing.T, s *apptest.Server, name string) string {
	t.Helper()
	_, body := s.Do("GET", "/metrics", nil)
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return ""
}

// A Segment delete message erases the customer it names, from a server
// source only: a browser's write key is public.
func TestSegmentDeleteMessage(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.MustSend("identify", map[string]any{"userId": zeldaUser, "traits": map[string]any{"email": zeldaEmail}})
		s.MustSend("identify", map[string]any{"userId": "u-bob", "traits": map[string]any{"email": "bob@example.org"}})
		s.Sync()
		del := map[string]any{"batch": []any{map[string]any{"type": "delete", "userId": zeldaUser, "messageId": "del-1"}}}
		// The default source is not a server source: refused, naming type.
		code, body := s.Send("batch", del)
		if code != 200 || !strings.Contains(string(body), `"field":"type"`) || !strings.Contains(string(body), `"quarantined":1`) {
			t.Fatalf("delete from a web source: %d %s", code, body)
		}
		if code := s.API("GET", "/api/v1/customers/"+zeldaUser, nil, nil); code != 200 {
			t.Fatalf("erased by a web source: %d", code)
		}
		var q struct {
			Quarantine []struct{ Field string } `json:"messages"`
		}
		s.API("GET", "/api/v1/quarantine", nil, &q)
		if len(q.Quarantine) != 1 || q.Quarantine[0].Field != "batch[0].type" {
			t.Fatalf("quarantine: %+v", q)
		}
		var src struct {
			ID       string
			WriteKey string
		}
		must(t, s.API("POST", "/api/v1/sources", map[string]any{"name": "warehouse", "channel": "server"}, &src), 201, "source")
		if src.WriteKey == "" {
			t.Fatalf("source: %+v", src)
		}
		b, _ := json.Marshal(del)
		auth := base64.StdEncoding.EncodeToString([]byte(src.WriteKey + ":"))
		code, body = s.Do("POST", "/v1/batch", b, "Authorization: Basic "+auth, "Content-Type: application/json")
		if code != 200 {
			t.Fatalf("delete from a server source: %d %s", code, body)
		}
		s.Sync()
		if code := s.API("GET", "/api/v1/customers/"+zeldaEmail, nil, nil); code != 404 {
			t.Fatalf("after delete: %d", code)
		}
		if code := s.API("GET", "/api/v1/customers/u-bob", nil, nil); code != 200 {
			t.Fatalf("bob: %d", code)
		}
		// The refused delete named her: it left the quarantine with her.
		q.Quarantine = nil
		s.API("GET", "/api/v1/quarantine", nil, &q)
		if len(q.Quarantine) != 0 {
			t.Fatalf("quarantine after the erasure: %+v", q)
		}
		// Nobody of that name left: a second delete is done already.
		code, body = s.Do("POST", "/v1/batch", b, "Authorization: Basic "+auth, "Content-Type: application/json")
		if code != 200 {
			t.Fatalf("second delete: %d %s", code, body)
		}
	})
}

// An erased customer's device keeps sending: its identities can be
// refused afterwards, without an erasure, by the API and the console.
func TestSuppressWithoutErasing(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		must(t, s.API("POST", "/api/v1/suppressions", map[string]any{}, nil), 400, "nothing to suppress")
		var bad struct{ Error struct{ Field string } }
		if code := s.API("POST", "/api/v1/suppressions", map[string]any{"emails": []string{"not an email"}}, &bad); code != 400 || bad.Error.Field != "emails[0]" {
			t.Fatalf("bad email: %d %+v", code, bad)
		}
		var p struct {
			ID         string
			Identities int
			Kinds      []string
		}
		must(t, s.API("POST", "/api/v1/suppressions", map[string]any{"anonymousIds": []string{"device-77"}, "emails": []string{"Gone@Example.org"}}, &p), 201, "suppress")
		if p.Identities != 2 || strings.Join(p.Kinds, ",") != "anonymous_id,email" {
			t.Fatalf("suppression: %+v", p)
		}
		s.MustSend("page", map[string]any{"anonymousId": "device-77", "name": "Home"})
		s.MustSend("identify", map[string]any{"userId": "u-new", "traits": map[string]any{"email": "gone@example.org"}})
		s.MustSend("page", map[string]any{"anonymousId": "device-78", "name": "Home"})
		s.Sync()
		for _, ref := range []string{"device-77", "u-new", "gone@example.org"} {
			if code := s.API("GET", "/api/v1/customers/"+ref, nil, nil); code != 404 {
				t.Fatalf("%s accepted: %d", ref, code)
			}
		}
		if code := s.API("GET", "/api/v1/customers/device-78", nil, nil); code != 200 {
			t.Fatal("another device refused")
		}
		_, raw := s.Do("GET", "/api/v1/audit?limit=500", nil, "Authorization: Bearer "+apptest.Token)
		if strings.Contains(strings.ToLower(string(raw)), "gone@example.org") || strings.Contains(string(raw), "device-77") {
			t.Fatal("the trail holds the suppressed identities")
		}
	})
}
