package api_test

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/api"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/ingest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The served OpenAPI document names exactly the routes the API registers,
// with the same least role.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, "sqlite"))
	code, body := s.Do(http.MethodGet, "/api/v1/openapi.json", nil)
	if code != 200 {
		t.Fatalf("openapi.json: %d", code)
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("not an OpenAPI 3 document: %v", err)
	}
	documented := map[string]string{}
	for path, ops := range doc.Paths {
		if strings.HasPrefix(path, "/v1/web/") {
			// The widget's paths (write key, not an API token): served by the survey package.
			for method := range ops {
				req, _ := http.NewRequest(strings.ToUpper(method), s.URL+path, strings.NewReader(`{}`))
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusMethodNotAllowed {
					t.Errorf("documented %s %s answers %d", method, path, resp.StatusCode)
				}
			}
			continue
		}
		for method, op := range ops {
			role, _ := op["x-cxloop-role"].(string)
			documented[strings.ToUpper(method)+" "+path] = role
		}
	}
	served := map[string]string{}
	for _, r := range api.Routes(api.Deps{DB: s.DB, Auth: s.Auth, Ingest: ingest.NewAPI(s.DB, s.Sources, s.Logger), Profiles: s.Profiles, Logger: s.Logger}) {
		served[r.Method+" "+r.Path] = r.Role
	}
	var diff []string
	for k, role := range served {
		if documented[k] != role {
			diff = append(diff, "served "+k+" ("+role+") documented as "+documented[k])
		}
	}
	for k := range documented {
		if _, ok := served[k]; !ok {
			diff = append(diff, "documented "+k+" is not served")
		}
	}
	sort.Strings(diff)
	if len(diff) > 0 {
		t.Fatal(strings.Join(diff, "\n"))
	}
}

// Operators: an admin creates a user and a token; a viewer may not.
func TestOperators(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		var tok struct{ Token, Role string }
		if code := s.API("POST", "/api/v1/tokens", map[string]string{"name": "reporting", "role": "viewer"}, &tok); code != 201 || tok.Role != "analyst" {
			t.Fatalf("create token: %d %+v", code, tok)
		}
		code, body := s.Do("POST", "/api/v1/users", []byte(`{"email":"x@y.z","password":"long enough pw","role":"viewer"}`), "Authorization: Bearer "+tok.Token)
		if code != 403 {
			t.Fatalf("viewer created a user: %d %s", code, body)
		}
		if code := s.API("POST", "/api/v1/users", map[string]string{"email": "ana@example.com", "password": "short", "role": "editor"}, nil); code != 400 {
			t.Fatalf("short password: %d", code)
		}
		if code := s.API("POST", "/api/v1/users", map[string]string{"email": "ana@example.com", "password": "correct horse battery", "role": "editor"}, nil); code != 201 {
			t.Fatalf("create user: %d", code)
		}
		if code := s.API("POST", "/api/v1/users", map[string]string{"email": "ANA@example.com", "password": "correct horse battery", "role": "editor"}, nil); code != 400 {
			t.Fatalf("duplicate user: %d", code)
		}
		if _, err := s.Auth.Login(t.Context(), "Ana@Example.com", "correct horse battery"); err != nil {
			t.Fatalf("login: %v", err)
		}
		if _, err := s.Auth.Login(t.Context(), "ana@example.com", "wrong password!"); err == nil {
			t.Fatal("wrong password accepted")
		}
	})
}
