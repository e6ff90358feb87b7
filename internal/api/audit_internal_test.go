package api

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A customer's export and erasure are recorded as such, with the
// customer's cus_ id and nothing of the answer or the body; a customer
// named by email leaves no email in the trail.
func TestExportAndEraseAreRecorded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		now := time.Date(2026, 5, 13, 10, 0, 0, 0, time.UTC)
		trail := audit.NewService(db, func() time.Time { return now }, nil)
		rc := recorder{trail: trail}
		export := rc.wrap(Route{"GET", "/api/v1/customers/{id}/export", auth.RoleAdmin, func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"id":"cus_1","traits":{"email":"cora@example.net"}}`))
		}})
		erase := rc.wrap(Route{"DELETE", "/api/v1/customers/{id}", auth.RoleAdmin, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}})
		call := func(h http.HandlerFunc, method, id string) *httptest.ResponseRecorder {
			r := httptest.NewRequest(method, "/api/v1/customers/"+id, strings.NewReader(`{"reason":"cora@example.net asked"}`))
			r.SetPathValue("id", id)
			r = r.WithContext(auth.WithPrincipal(r.Context(), auth.Principal{Name: "dpo", Role: auth.RoleAdmin, Credential: "token:tok_dpo"}))
			w := httptest.NewRecorder()
			h(w, r)
			return w
		}
		if w := call(export, "GET", "cus_1"); w.Code != 200 || !strings.Contains(w.Body.String(), "cora@example.net") {
			t.Fatalf("export answered %d %s", w.Code, w.Body)
		}
		if w := call(erase, "DELETE", "cora@example.net"); w.Code != 204 {
			t.Fatalf("erase answered %d", w.Code)
		}
		if w := call(erase, "DELETE", "cus_1"); w.Code != 204 {
			t.Fatalf("erase answered %d", w.Code)
		}
		list, _, err := trail.List(context.Background(), audit.Query{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range list {
			got = append(got, e.Action+" "+e.Resource+" "+e.ResourceID+" "+e.Actor+" "+e.ActorID)
			if e.Before != nil || e.After != nil || strings.Contains(e.ResourceID, "@") {
				t.Errorf("entry %+v keeps customer data", e)
			}
		}
		want := []string{"erase customer cus_1 dpo token:tok_dpo", "erase customer  dpo token:tok_dpo", "export customer cus_1 dpo token:tok_dpo"}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("trail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})
}

// A trail that cannot be written is logged as an error; the change already
// made is still answered.
func TestTrailFailureIsLogged(t *testing.T) {
	db := storetest.Open(t, store.SQLite)
	var logged bytes.Buffer
	trail := audit.NewService(db, nil, slog.New(slog.NewTextHandler(&logged, nil)))
	rc := recorder{trail: trail}
	h := rc.wrap(Route{"POST", "/api/v1/teams", auth.RoleAdmin, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		w.Write([]byte(`{"id":"team_1"}`))
	}})
	db.Close()
	w := httptest.NewRecorder()
	h(w, httptest.NewRequest("POST", "/api/v1/teams", strings.NewReader(`{"name":"service"}`)))
	if w.Code != 201 || w.Body.String() != `{"id":"team_1"}` {
		t.Errorf("answered %d %s", w.Code, w.Body)
	}
	if !strings.Contains(logged.String(), "level=ERROR") || !strings.Contains(logged.String(), "audit entry not written") || !strings.Contains(logged.String(), "team_1") {
		t.Errorf("log: %s", logged.String())
	}
}
