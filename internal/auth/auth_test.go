package auth

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if fault.Code(err) != code {
		t.Errorf("%s: %v, want %s", what, err, code)
	}
}

func wantField(t *testing.T, what string, err error, field string) {
	t.Helper()
	if fault.Code(err) != fault.Invalid || fault.FieldOf(err) != field {
		t.Errorf("%s: %v, want invalid %s", what, err, field)
	}
}

func TestRoles(t *testing.T) {
	order := []string{RoleAnalyst, RoleAgent, RoleOwner, RoleAdmin}
	for i, have := range order {
		for j, need := range order {
			if got := (Principal{Role: have}).Can(need); got != (i >= j) {
				t.Errorf("%s.Can(%s) = %v, want %v", have, need, got, i >= j)
			}
		}
	}
	// Earlier names are today's roles.
	if !(Principal{Role: "editor"}).Can(RoleOwner) || (Principal{Role: "editor"}).Can(RoleAdmin) {
		t.Error("an editor is an owner")
	}
	if !(Principal{Role: "viewer"}).Can(RoleAnalyst) || (Principal{Role: "viewer"}).Can(RoleAgent) {
		t.Error("a viewer is an analyst")
	}
	if !(Principal{Role: RoleAdmin}).Can("editor") {
		t.Error("an admin may do what an editor may")
	}
	// Unknown roles grant nothing, and nobody holds an unknown role.
	for _, p := range []Principal{{}, {Role: "root"}, {Role: "Admin"}} {
		if p.Can(RoleAnalyst) {
			t.Errorf("role %q may read", p.Role)
		}
	}
	for _, need := range []string{"", "root"} {
		if (Principal{Role: RoleAdmin}).Can(need) {
			t.Errorf("an admin holds role %q", need)
		}
	}
	for r, want := range map[string]bool{"admin": true, "owner": true, "agent": true, "analyst": true, "editor": true, "viewer": true,
		"": false, "Admin": false, "superuser": false} {
		if ValidRole(r) != want {
			t.Errorf("ValidRole(%q) = %v, want %v", r, !want, want)
		}
	}
}

func TestTeamScope(t *testing.T) {
	agent := Principal{Role: RoleAgent, Teams: []string{"Service", "billing"}}
	if !agent.Scoped() {
		t.Fatal("an agent with teams is scoped")
	}
	for ids, want := range map[string]bool{"service": true, "BILLING": true, "sales": false, "": false} {
		if got := agent.InTeam(ids); got != want {
			t.Errorf("agent.InTeam(%q) = %v, want %v", ids, got, want)
		}
	}
	if !agent.InTeam("team_123", "Service") {
		t.Error("a case matched by the team's name (not its id) is in the team")
	}
	// Admins and analysts see every case, teams or not; so does anyone without teams.
	for _, p := range []Principal{{Role: RoleAdmin, Teams: []string{"service"}}, {Role: RoleAnalyst, Teams: []string{"service"}}, {Role: RoleAgent}} {
		if p.Scoped() || !p.InTeam("sales") {
			t.Errorf("%+v is limited to its teams", p)
		}
	}
	if !(Principal{Role: "editor", Teams: []string{"x"}}).Scoped() {
		t.Error("an editor (an owner) with teams is scoped")
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := NewService(db)
		_, _, err := s.CreateScopedToken(ctx, "ci", "root", nil, "")
		wantField(t, "an unknown role", err, "role")
		_, _, err = s.CreateScopedToken(ctx, "ci", RoleAgent, []string{"a,b"}, "")
		wantField(t, "a team with a comma", err, "teams")

		id, secret, err := s.CreateScopedToken(ctx, "laptop", "viewer", []string{" service ", "", "billing"}, "")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(secret, "cxt_") || len(secret) < 30 {
			t.Errorf("secret %q: want cxt_ and a long random part", secret)
		}
		p, err := s.Token(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "laptop" || p.Role != RoleAnalyst || !slices.Equal(p.Teams, []string{"service", "billing"}) || p.Credential != "token:"+id {
			t.Errorf("principal %+v: want laptop, analyst (was viewer), teams service and billing, credential token:%s", p, id)
		}
		_, err = s.Token(ctx, secret+"x")
		wantCode(t, "a wrong secret", err, fault.Unauthorized)
		_, err = s.Token(ctx, "")
		wantCode(t, "no secret", err, fault.Unauthorized)

		// A secret given is used as given, and only once.
		if got, err := s.CreateToken(ctx, "bootstrap", RoleAdmin, "cxt_given"); err != nil || got != "cxt_given" {
			t.Fatalf("a given secret: %q, %v", got, err)
		}
		if p, err := s.Token(ctx, "cxt_given"); err != nil || p.Role != RoleAdmin {
			t.Errorf("the given secret: %+v, %v", p, err)
		}
		_, err = s.CreateToken(ctx, "again", RoleAdmin, "cxt_given")
		wantCode(t, "the same secret twice", err, fault.Conflict)

		byID := func() map[string]TokenInfo {
			t.Helper()
			list, err := s.Tokens(ctx)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]TokenInfo{}
			for _, tok := range list {
				out[tok.ID] = tok
			}
			if len(out) != len(list) {
				t.Errorf("tokens listed twice: %+v", list)
			}
			return out
		}
		list, err := s.Tokens(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tok := byID()[id]; len(list) != 2 || tok.Name != "laptop" || tok.Role != RoleAnalyst || !slices.Equal(tok.Teams, []string{"service", "billing"}) ||
			tok.RevokedAt != nil || tok.CreatedAt == 0 {
			t.Errorf("tokens %+v", list)
		}
		b, _ := json.Marshal(list)
		if strings.Contains(string(b), secret) || strings.Contains(string(b), store.Hash(secret)) || strings.Contains(string(b), "cxt_given") {
			t.Errorf("the token list shows a secret or its hash: %s", b)
		}
		if n, err := s.CountTokens(ctx); err != nil || n != 2 {
			t.Errorf("CountTokens = %d, %v; want 2", n, err)
		}

		// Renaming shows at once, even though the token was read before.
		_, _, err = s.RenameToken(ctx, id, "  ")
		wantField(t, "an empty name", err, "name")
		_, _, err = s.RenameToken(ctx, "tok_nothing", "x")
		wantCode(t, "renaming an unknown token", err, fault.NotFound)
		before, after, err := s.RenameToken(ctx, id, " old laptop ")
		if err != nil || before.Name != "laptop" || after.Name != "old laptop" {
			t.Errorf("rename: %+v → %+v, %v", before, after, err)
		}
		if p, err := s.Token(ctx, secret); err != nil || p.Name != "old laptop" {
			t.Errorf("after renaming: %+v, %v", p, err)
		}

		// Revoking stops the token at once on this node, though it was cached.
		if err := s.RevokeToken(ctx, id); err != nil {
			t.Fatal(err)
		}
		_, err = s.Token(ctx, secret)
		wantCode(t, "a revoked token", err, fault.Unauthorized)
		wantCode(t, "revoking twice", s.RevokeToken(ctx, id), fault.NotFound)
		wantCode(t, "revoking an unknown token", s.RevokeToken(ctx, "tok_nothing"), fault.NotFound)
		for tid, tok := range byID() {
			if (tok.RevokedAt != nil) != (tid == id) {
				t.Errorf("after revoking %s: %+v", id, tok)
			}
		}
		if p, err := s.Token(ctx, "cxt_given"); err != nil || p.Name != "bootstrap" {
			t.Errorf("the other token after a revocation: %+v, %v", p, err)
		}
		// A revoked token is a member of no team.
		members, err := s.Members(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(members) != 0 {
			t.Errorf("members after revoking the only scoped token: %+v", members)
		}
	})
}

func TestUsersAndLogin(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := NewService(db)
		wantField(t, "no @", s.CreateUser(ctx, "ana.example.com", "a long password", RoleAgent), "email")
		wantField(t, "a short password", s.CreateUser(ctx, "ana@example.com", "123456789", RoleAgent), "password")
		wantField(t, "an unknown role", s.CreateUser(ctx, "ana@example.com", "a long password", "boss"), "role")
		wantField(t, "a team with a comma", s.CreateUser(ctx, "ana@example.com", "a long password", RoleAgent, "a,b"), "teams")
		if err := s.CreateUser(ctx, "  Ana@Example.com ", "a long password", "editor", "Service"); err != nil {
			t.Fatal(err)
		}
		wantField(t, "the same email in other case", s.CreateUser(ctx, "ana@EXAMPLE.com", "another password", RoleAgent), "email")

		p, err := s.Login(ctx, "ANA@example.com ", "a long password")
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != "ana@example.com" || p.Role != RoleOwner || !slices.Equal(p.Teams, []string{"Service"}) || !strings.HasPrefix(p.Credential, "user:usr_") {
			t.Errorf("principal %+v: want ana@example.com, owner (was editor), team Service, a user credential", p)
		}
		_, err = s.Login(ctx, "ana@example.com", "a long passwore")
		wantCode(t, "a wrong password", err, fault.Unauthorized)
		_, err2 := s.Login(ctx, "bob@example.com", "a long password")
		wantCode(t, "an unknown email", err2, fault.Unauthorized)
		if fault.MessageOf(err) != fault.MessageOf(err2) {
			t.Errorf("a wrong password (%q) and an unknown email (%q) are told apart", fault.MessageOf(err), fault.MessageOf(err2))
		}

		users, err := s.Users(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(users) != 1 || users[0].Email != "ana@example.com" || "user:"+users[0].ID != p.Credential {
			t.Fatalf("users %+v", users)
		}
		if b, _ := json.Marshal(users); strings.Contains(string(b), "pbkdf2") || strings.Contains(string(b), "a long password") {
			t.Errorf("the user list shows a password: %s", b)
		}

		// Disabled, the user cannot sign in; enabled again, they can.
		yes, no := true, false
		before, after, err := s.UpdateUser(ctx, "ana@example.com", UserChange{Disabled: &yes})
		if err != nil || before.DisabledAt != nil || after.DisabledAt == nil {
			t.Fatalf("disable: %+v → %+v, %v", before, after, err)
		}
		_, err = s.Login(ctx, "ana@example.com", "a long password")
		wantCode(t, "a disabled user", err, fault.Unauthorized)
		if _, _, err := s.UpdateUser(ctx, users[0].ID, UserChange{Disabled: &no}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Login(ctx, "ana@example.com", "a long password"); err != nil {
			t.Errorf("enabled again: %v", err)
		}

		_, _, err = s.UpdateUser(ctx, "ana@example.com", UserChange{})
		wantField(t, "an empty change", err, "disabled")
		bad := "boss"
		_, _, err = s.UpdateUser(ctx, "ana@example.com", UserChange{Role: &bad})
		wantField(t, "an unknown role", err, "role")
		_, _, err = s.UpdateUser(ctx, "nobody@example.com", UserChange{Disabled: &yes})
		wantCode(t, "an unknown user", err, fault.NotFound)

		members, err := s.Members(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if m := members["service"]; len(m) != 1 || m[0] != (Member{Kind: "user", Name: "ana@example.com", Role: RoleOwner}) {
			t.Errorf("members %+v: want ana in service (by its lower-case name)", members)
		}

		if _, err := s.DeleteUser(ctx, "ana@example.com"); err != nil {
			t.Fatal(err)
		}
		_, err = s.Login(ctx, "ana@example.com", "a long password")
		wantCode(t, "a removed user", err, fault.Unauthorized)
		_, err = s.DeleteUser(ctx, "ana@example.com")
		wantCode(t, "removing twice", err, fault.NotFound)
	})
}

// A console session lives as long as what opened it: it ends when its
// token is revoked, its user is disabled (and does not come back when they
// are enabled again), changes role or teams, or is removed.
func TestSessionEndsWithItsCredential(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := NewService(db)
		live := func(id string) bool {
			t.Helper()
			ss, err := s.Session(ctx, id)
			if err != nil {
				if fault.Code(err) != fault.Unauthorized {
					t.Fatalf("session: %v", err)
				}
				return false
			}
			if ss.CSRF == "" {
				t.Error("a session without a CSRF token")
			}
			return true
		}
		signIn := func(email string) string {
			t.Helper()
			p, err := s.Login(ctx, email, "a long password")
			if err != nil {
				t.Fatal(err)
			}
			id, err := s.StartSession(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			return id
		}

		// A token's session.
		tokID, secret, err := s.CreateScopedToken(ctx, "laptop", RoleAgent, []string{"service"}, "")
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Token(ctx, secret)
		if err != nil {
			t.Fatal(err)
		}
		byToken, err := s.StartSession(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := s.Session(ctx, byToken)
		if err != nil {
			t.Fatal(err)
		}
		if ss.Name != "laptop" || ss.Role != RoleAgent || !slices.Equal(ss.Teams, []string{"service"}) || ss.Credential != "token:"+tokID {
			t.Errorf("session %+v: want the token's principal", ss)
		}
		other, _ := s.StartSession(ctx, p)
		if other == byToken {
			t.Error("two sessions share an id")
		}
		if o, _ := s.Session(ctx, other); o.CSRF == ss.CSRF {
			t.Error("two sessions share a CSRF token")
		}
		if live("not-a-session") || live("") {
			t.Error("an unknown session id is signed in")
		}
		if err := s.RevokeToken(ctx, tokID); err != nil {
			t.Fatal(err)
		}
		if live(byToken) || live(other) {
			t.Error("a revoked token's sessions go on")
		}

		// A user's session, through disabling and enabling.
		if err := s.CreateUser(ctx, "ana@example.com", "a long password", RoleAgent); err != nil {
			t.Fatal(err)
		}
		first := signIn("ana@example.com")
		if !live(first) {
			t.Fatal("a new session is not signed in")
		}
		yes, no := true, false
		if _, _, err := s.UpdateUser(ctx, "ana@example.com", UserChange{Disabled: &yes}); err != nil {
			t.Fatal(err)
		}
		if live(first) {
			t.Error("a disabled user's session goes on")
		}
		if _, _, err := s.UpdateUser(ctx, "ana@example.com", UserChange{Disabled: &no}); err != nil {
			t.Fatal(err)
		}
		if live(first) {
			t.Error("a session ended by disabling the user comes back when they are enabled")
		}
		second := signIn("ana@example.com")
		if !live(second) {
			t.Fatal("enabled again, a new session is not signed in")
		}
		if _, err := s.SetUserDisabled(ctx, "ana@example.com", true); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetUserDisabled(ctx, "ana@example.com", false); err != nil {
			t.Fatal(err)
		}
		if live(second) {
			t.Error("a session ended by SetUserDisabled comes back when the user is enabled")
		}

		// A new role ends the sessions (the user signs in again under it);
		// an unchanged one does not.
		third := signIn("ana@example.com")
		same := RoleAgent
		if _, _, err := s.UpdateUser(ctx, "ana@example.com", UserChange{Role: &same}); err != nil {
			t.Fatal(err)
		}
		if !live(third) {
			t.Error("setting the role a user has ended their session")
		}
		owner := RoleOwner
		if _, _, err := s.UpdateUser(ctx, "ana@example.com", UserChange{Role: &owner}); err != nil {
			t.Fatal(err)
		}
		if live(third) {
			t.Error("a user's session goes on under their old role")
		}
		fourth := signIn("ana@example.com")
		teams := []string{"billing"}
		if _, _, err := s.UpdateUser(ctx, "ana@example.com", UserChange{Teams: &teams}); err != nil {
			t.Fatal(err)
		}
		if live(fourth) {
			t.Error("a user's session goes on with their old teams")
		}

		// Signing out, expiry, removal.
		fifth := signIn("ana@example.com")
		if err := s.EndSession(ctx, fifth); err != nil {
			t.Fatal(err)
		}
		if live(fifth) {
			t.Error("a session goes on after signing out")
		}
		sixth := signIn("ana@example.com")
		if err := db.Tx(ctx, func(tx *store.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET expires_at = $1 WHERE id_hash = $2`, store.Now()-1, store.Hash(sixth))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if live(sixth) {
			t.Error("an expired session goes on")
		}
		seventh := signIn("ana@example.com")
		if _, err := s.DeleteUser(ctx, "ana@example.com"); err != nil {
			t.Fatal(err)
		}
		if live(seventh) {
			t.Error("a removed user's session goes on")
		}

		// A session whose principal names no credential is never live.
		orphan, err := s.StartSession(ctx, Principal{Name: "ghost", Role: RoleAdmin})
		if err != nil {
			t.Fatal(err)
		}
		if live(orphan) {
			t.Error("a session without a credential is signed in")
		}
	})
}
