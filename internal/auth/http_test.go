package auth

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// call runs one handler on a request with a JSON body (and an {id} in the
// path) and returns the status, the decoded answer and the audit note.
func call(t *testing.T, h http.HandlerFunc, method, body, id string) (int, map[string]any, *audit.Change) {
	t.Helper()
	r := httptest.NewRequest(method, "/api/v1/x", strings.NewReader(body))
	ctx, note := audit.WithChange(r.Context())
	r = r.WithContext(ctx)
	if id != "" {
		r.SetPathValue("id", id)
	}
	w := httptest.NewRecorder()
	h(w, r)
	var out map[string]any
	if w.Body.Len() > 0 {
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatalf("%s: answer %q: %v", method, w.Body.String(), err)
		}
	}
	return w.Code, out, note
}

func errField(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

func TestTokenAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := NewService(db)
		a := NewAPI(svc, nil)

		code, out, _ := call(t, a.CreateToken, "POST", `{"name": "ci", "role": "superuser"}`, "")
		if code != 400 || errField(out) != "role" {
			t.Errorf("an unknown role: %d %v", code, out)
		}
		code, out, _ = call(t, a.CreateToken, "POST", `{"name": "ci", "role": "agent", "scope": "all"}`, "")
		if code != 400 {
			t.Errorf("an unknown member: %d %v", code, out)
		}
		code, out, _ = call(t, a.CreateToken, "POST", `{"name": "ci", "role": "viewer", "teams": ["service"]}`, "")
		if code != 201 || out["role"] != RoleAnalyst || out["name"] != "ci" {
			t.Fatalf("create: %d %v", code, out)
		}
		id, _ := out["id"].(string)
		secret, _ := out["token"].(string)
		p, err := svc.Token(context.Background(), secret)
		if err != nil || p.Credential != "token:"+id || p.Role != RoleAnalyst {
			t.Fatalf("the token answered does not authenticate: %+v, %v", p, err)
		}

		r := httptest.NewRequest("GET", "/api/v1/tokens", nil)
		w := httptest.NewRecorder()
		a.Tokens(w, r)
		if w.Code != 200 || strings.Contains(w.Body.String(), secret) || !strings.Contains(w.Body.String(), id) {
			t.Errorf("list: %d %s: want the token without its secret", w.Code, w.Body.String())
		}

		code, out, _ = call(t, a.UpdateToken, "PATCH", `{}`, id)
		if code != 400 || errField(out) != "name" {
			t.Errorf("a rename without a name: %d %v", code, out)
		}
		code, out, note := call(t, a.UpdateToken, "PATCH", `{"name": "deploys"}`, id)
		if code != 200 || out["name"] != "deploys" || note.Resource != "token" || note.ResourceID != id {
			t.Errorf("rename: %d %v, note %+v", code, out, note)
		}

		code, _, note = call(t, a.RevokeToken, "DELETE", ``, id)
		if code != 200 || note.Action != "revoke" || note.ResourceID != id {
			t.Fatalf("revoke: %d, note %+v", code, note)
		}
		if before, ok := note.Before.(*TokenInfo); !ok || before.ID != id || before.RevokedAt != nil {
			t.Errorf("the revocation's note holds %#v, want the live token before", note.Before)
		}
		if b, _ := json.Marshal(note); strings.Contains(string(b), secret) {
			t.Errorf("the audit note holds the secret: %s", b)
		}
		if _, err := svc.Token(context.Background(), secret); err == nil {
			t.Error("a token revoked over the API still authenticates")
		}
		if code, _, _ := call(t, a.RevokeToken, "DELETE", ``, id); code != 404 {
			t.Errorf("revoking twice: %d, want 404", code)
		}
	})
}

func TestUserAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := NewAPI(NewService(db), nil)
		code, out, _ := call(t, a.CreateUser, "POST", `{"email": "ana@example.com", "password": "short", "role": "agent"}`, "")
		if code != 400 || errField(out) != "password" {
			t.Errorf("a short password: %d %v", code, out)
		}
		code, out, note := call(t, a.CreateUser, "POST", `{"email": " Ana@Example.com", "password": "a long password", "role": "editor"}`, "")
		if code != 201 || out["role"] != RoleOwner || note.ResourceID != "ana@example.com" {
			t.Fatalf("create: %d %v, note %+v", code, out, note)
		}
		if strings.Contains(mustJSON(t, out)+mustJSON(t, note), "a long password") {
			t.Error("the password is echoed or noted")
		}

		code, out, note = call(t, a.UpdateUser, "PATCH", `{"disabled": true}`, "ana@example.com")
		if code != 200 || out["disabledAt"] == nil || note.Action != "disable" {
			t.Errorf("disable: %d %v, note %+v", code, out, note)
		}
		code, _, note = call(t, a.UpdateUser, "PATCH", `{"disabled": false}`, "ana@example.com")
		if code != 200 || note.Action != "enable" {
			t.Errorf("enable: %d, note %+v", code, note)
		}
		code, _, note = call(t, a.UpdateUser, "PATCH", `{"role": "analyst"}`, "ana@example.com")
		if code != 200 || note.Action != "update" {
			t.Errorf("a new role: %d, note %+v", code, note)
		}
		if code, _, _ := call(t, a.UpdateUser, "PATCH", `{"disabled": true}`, "bob@example.com"); code != 404 {
			t.Errorf("an unknown user: %d, want 404", code)
		}
		code, _, note = call(t, a.DeleteUser, "DELETE", ``, "ana@example.com")
		if code != 204 || note.Action != "delete" {
			t.Errorf("delete: %d, note %+v", code, note)
		}
		if code, _, _ := call(t, a.DeleteUser, "DELETE", ``, "ana@example.com"); code != 404 {
			t.Errorf("deleting twice: %d, want 404", code)
		}
	})
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
