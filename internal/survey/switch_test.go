package survey_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A paused survey's page says it is closed, and opens again when resumed;
// a deleted survey is archived: not listed or editable, its page closed,
// the survey and its responses still readable.
func TestPausedAndDeletedSurveys(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, c := apptest.StartAt(t, dsn, apptest.Epoch)
		id := createSurvey(t, s, `{"name": "After order", "rhythm": "persistent", "owner": "service", "delivery": "link",
			"trigger": {"event": "Order Completed"},
			"questions": [{"id": "q1", "type": "nps", "text": {"en": "How likely are you to recommend us?"}}]}`)
		s.MustSend("track", order("ps-1", "o-1", "web", c.Now()))
		invs := invitations(t, s, "ps-1")
		if len(invs) != 1 || invs[0].URL == "" {
			t.Fatalf("invitations = %+v", invs)
		}
		link := invs[0].URL
		if code, _ := get(t, link); code != 200 {
			t.Fatalf("open: %d", code)
		}
		if code := s.API("PATCH", "/api/v1/surveys/"+id, map[string]any{"status": "paused"}, nil); code != 200 {
			t.Fatalf("pause: %d", code)
		}
		if code, page := get(t, link); code != http.StatusGone || !strings.Contains(page, "closed") {
			t.Fatalf("paused page: %d\n%s", code, page)
		}
		if code, _ := postForm(t, link, url.Values{"q1": {"9"}}); code != http.StatusGone {
			t.Fatalf("an answer to a paused survey: %d", code)
		}
		s.MustSend("track", order("ps-2", "o-2", "web", c.Now()))
		if invs := invitations(t, s, "ps-2"); len(invs) != 0 {
			t.Fatalf("a paused survey invited: %+v", invs)
		}
		if code := s.API("PATCH", "/api/v1/surveys/"+id, map[string]any{"status": "active"}, nil); code != 200 {
			t.Fatalf("resume: %d", code)
		}
		if code, _ := postForm(t, link, url.Values{"q1": {"9"}}); code != 200 {
			t.Fatalf("an answer once resumed: %d", code)
		}

		s.MustSend("track", order("ps-4", "o-4", "web", c.Now()))
		unanswered := invitations(t, s, "ps-4")
		if len(unanswered) != 1 {
			t.Fatalf("resumed, invitations = %+v", unanswered)
		}
		if code := s.API("DELETE", "/api/v1/surveys/"+id, nil, nil); code != 204 {
			t.Fatalf("delete: %d", code)
		}
		var list struct{ Surveys []struct{ ID string } }
		s.API("GET", "/api/v1/surveys", nil, &list)
		for _, sv := range list.Surveys {
			if sv.ID == id {
				t.Fatal("a deleted survey is listed")
			}
		}
		var sv struct{ Status string }
		if code := s.API("GET", "/api/v1/surveys/"+id, nil, &sv); code != 200 || sv.Status != "archived" {
			t.Fatalf("the deleted survey: %d %+v", code, sv)
		}
		var resp struct{ Responses []struct{ Customer string } }
		if code := s.API("GET", "/api/v1/surveys/"+id+"/responses", nil, &resp); code != 200 || len(resp.Responses) != 1 {
			t.Fatalf("responses after delete: %d %+v", code, resp)
		}
		if code, page := get(t, unanswered[0].URL); code != http.StatusGone || !strings.Contains(page, "closed") {
			t.Fatalf("a deleted survey's page: %d", code)
		}
		s.MustSend("track", order("ps-3", "o-3", "web", c.Now()))
		if invs := invitations(t, s, "ps-3"); len(invs) != 0 {
			t.Fatalf("a deleted survey invited: %+v", invs)
		}
		for _, m := range []string{"PATCH", "DELETE"} {
			if code, _ := s.Do(m, "/api/v1/surveys/"+id, []byte(`{"status": "active"}`), "Authorization: Bearer "+apptest.Token); code != 404 {
				t.Errorf("%s a deleted survey: %d", m, code)
			}
		}
		if code, _ := s.Do("PATCH", "/api/v1/surveys/"+id, []byte(`{"status": "archived"}`), "Authorization: Bearer "+apptest.Token); code != 404 {
			t.Errorf("archived by PATCH: %d", code)
		}
	})
}
