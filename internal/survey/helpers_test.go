package survey_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/survey"
)

type (
	clock   = apptest.Clock
	mailbox = apptest.Mailbox
)

func startMailbox(t *testing.T) *mailbox { return apptest.StartMailbox(t) }

// server starts cxloop with a test clock and, when mb is not nil, mail.
func server(t *testing.T, dsn string, c *clock, mb *mailbox) *apptest.Server {
	t.Helper()
	return apptest.StartWith(t, dsn, func(cfg *app.Config) {
		if c != nil {
			cfg.Now = c.Now
		}
		if mb != nil {
			cfg.Mail = &survey.Mailer{Addr: mb.Addr, From: "Northwind <surveys@northwind.test>"}
		}
	})
}

// createSurvey posts a survey definition and returns its id.
func createSurvey(t *testing.T, s *apptest.Server, def string) string {
	t.Helper()
	var out struct {
		ID string `json:"id"`
	}
	if code := s.API("POST", "/api/v1/surveys", json.RawMessage(def), &out); code != http.StatusCreated {
		t.Fatalf("create survey: %d %+v", code, out)
	}
	if !strings.HasPrefix(out.ID, "srv_") {
		t.Fatalf("survey id %q", out.ID)
	}
	return out.ID
}

type invitation struct {
	Survey  string `json:"survey"`
	Token   string `json:"token"`
	URL     string `json:"url"`
	Status  string `json:"status"`
	Reason  string `json:"reason"`
	OrderID string `json:"orderId"`
	Channel string `json:"channel"`
	Rhythm  string `json:"rhythm"`
}

// invitations lists a customer's invitations.
func invitations(t *testing.T, s *apptest.Server, customer string) []invitation {
	t.Helper()
	var out struct {
		Invitations []invitation `json:"invitations"`
	}
	if code := s.API("GET", "/api/v1/customers/"+customer+"/invitations", nil, &out); code != http.StatusOK {
		t.Fatalf("invitations of %s: %d", customer, code)
	}
	return out.Invitations
}

// dispatch makes the server's due decisions now.
func dispatch(t *testing.T, s *apptest.Server) {
	t.Helper()
	s.Sync()
	if _, err := s.Surveys.Dispatch(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.Sync()
}

// get fetches a page without following redirects.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// postForm submits a survey form like a browser without JavaScript.
func postForm(t *testing.T, target string, form url.Values) (int, string) {
	t.Helper()
	resp, err := http.PostForm(target, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
