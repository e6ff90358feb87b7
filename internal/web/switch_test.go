package web_test

import (
	"encoding/json"
	"net/url"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A user's role and teams can be changed (their sessions end, so they sign
// in again under the new ones) and a user removed (their session ends at
// once; they cannot sign in); a token can be renamed.
func TestUserEditsAndRemovalEndSessions(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		var u struct {
			ID, Email, Role string
			Teams           []string
		}
		if code := s.API("POST", "/api/v1/users", map[string]any{"email": "bo@example.com", "password": "a long password", "role": "agent"}, nil); code != 201 {
			t.Fatalf("user: %d", code)
		}
		form := url.Values{"email": {"bo@example.com"}, "password": {"a long password"}}
		c, code, _ := signIn(t, s.URL, form)
		if code != 200 || !signedIn(t, c, s.URL) {
			t.Fatalf("sign-in: %d", code)
		}
		if code := s.API("PATCH", "/api/v1/users/bo@example.com", map[string]any{"role": "analyst", "teams": []string{"vip desk"}}, &u); code != 200 ||
			u.Role != "analyst" || len(u.Teams) != 1 || u.Teams[0] != "vip desk" {
			t.Fatalf("edit: %d %+v", code, u)
		}
		if signedIn(t, c, s.URL) {
			t.Error("a session opened under the old role still works")
		}
		again, code, _ := signIn(t, s.URL, form)
		if code != 200 || !signedIn(t, again, s.URL) {
			t.Fatalf("sign-in under the new role: %d", code)
		}
		for _, b := range []struct{ body, field string }{
			{`{"role": "boss"}`, "role"},
			{`{"teams": "vip desk"}`, "teams"},
			{`{"email": "x@example.com"}`, "email"},
			{`{"teams": ["a,b"]}`, "teams"},
			{`{}`, "disabled"},
		} {
			code, body := s.Do("PATCH", "/api/v1/users/"+u.ID, []byte(b.body), "Authorization: Bearer "+apptest.Token)
			var e struct{ Error struct{ Field string } }
			_ = json.Unmarshal(body, &e)
			if code != 400 || e.Error.Field != b.field {
				t.Errorf("%s: %d %s, want 400 naming %s", b.body, code, body, b.field)
			}
		}

		if code := s.API("DELETE", "/api/v1/users/"+u.ID, nil, nil); code != 204 {
			t.Fatalf("delete: %d", code)
		}
		if signedIn(t, again, s.URL) {
			t.Error("a removed user's session still opens the console")
		}
		if _, code, _ := signIn(t, s.URL, form); code != 401 {
			t.Errorf("a removed user signs in: %d", code)
		}
		var users struct{ Users []struct{ ID string } }
		s.API("GET", "/api/v1/users", nil, &users)
		if len(users.Users) != 0 {
			t.Errorf("users after delete: %+v", users)
		}
		if code := s.API("DELETE", "/api/v1/users/"+u.ID, nil, nil); code != 404 {
			t.Errorf("delete again: %d", code)
		}

		var tok struct{ ID, Name, Token string }
		s.API("POST", "/api/v1/tokens", map[string]any{"name": "laptop", "role": "analyst"}, &tok)
		if code := s.API("PATCH", "/api/v1/tokens/"+tok.ID, map[string]any{"name": "old laptop"}, &tok); code != 200 || tok.Name != "old laptop" {
			t.Fatalf("rename: %d %+v", code, tok)
		}
		if code := s.API("PATCH", "/api/v1/tokens/"+tok.ID, map[string]any{"name": " "}, nil); code != 400 {
			t.Errorf("an empty name: %d", code)
		}
		if code := s.API("PATCH", "/api/v1/tokens/tok_nope", map[string]any{"name": "x"}, nil); code != 404 {
			t.Errorf("an unknown token: %d", code)
		}
	})
}
