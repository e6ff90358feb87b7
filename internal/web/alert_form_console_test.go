package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// An admin adds an alert from the alerts page and removes it; blank
// fields take the API's defaults, a wrong field comes back named, and an
// analyst can do neither.
func TestConsoleAlertForm(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.API("POST", "/api/v1/teams", map[string]any{"name": "service", "email": "service@example.com"}, nil)
		as := func(form url.Values) *http.Client { c, _, _ := signIn(t, s.URL, form); return c }
		post := func(c *http.Client, path string, form url.Values) (int, string) {
			resp, err := c.Get(s.URL + "/alerts")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			form.Set("csrf", csrfField.FindStringSubmatch(string(b))[1])
			resp, err = c.PostForm(s.URL+path, form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ = io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		type alert struct {
			ID, Name, Metric, By, Window, Direction string
			Alpha                                   float64
			MinN                                    int `json:"min_n"`
			Then                                    struct {
				OpenCase *struct{ Team, Kind, Priority string } `json:"open_case"`
				Notify   *struct{ Team string }
			}
		}
		alerts := func() []alert {
			var out struct{ Alerts []alert }
			s.API("GET", "/api/v1/alerts", nil, &out)
			return out.Alerts
		}
		admin := as(url.Values{"token": {apptest.Token}})
		code, page := post(admin, "/alerts", url.Values{"name": {"NPS by channel"}, "metric": {"nps"}, "by": {"channel"}, "window": {"14d"}, "case_team": {"service"}})
		if code != 200 || !strings.Contains(page, "NPS by channel") {
			t.Fatalf("add alert: %d", code)
		}
		list := alerts()
		if len(list) != 1 {
			t.Fatalf("alerts: %+v", list)
		}
		a := list[0]
		if a.Metric != "nps" || a.By != "channel" || a.Window != "14d" || a.Direction != "drop" || a.Alpha != 0.01 || a.MinN != 30 ||
			a.Then.OpenCase == nil || a.Then.OpenCase.Team != "service" || a.Then.OpenCase.Priority != "high" || a.Then.Notify != nil {
			t.Fatalf("the alert made: %+v %+v", a, a.Then.OpenCase)
		}
		// Overall, notifying only.
		if code, _ := post(admin, "/alerts", url.Values{"name": {"Complaints"}, "metric": {"complaints"}, "by": {"overall"}, "window": {"7d"}, "notify_team": {"service"}}); code != 200 {
			t.Fatalf("a notify-only alert: %d", code)
		}
		list = alerts()
		var notify *alert
		for i := range list {
			if list[i].Name == "Complaints" {
				notify = &list[i]
			}
		}
		if len(list) != 2 || notify == nil || notify.By != "" || notify.Then.Notify == nil || notify.Then.Notify.Team != "service" || notify.Then.OpenCase != nil || notify.MinN != 10 {
			t.Fatalf("the notify-only alert: %+v", list)
		}
		for field, form := range map[string]url.Values{
			"alpha": {"name": {"Too loose"}, "metric": {"nps"}, "by": {"overall"}, "alpha": {"0.5"}, "case_team": {"service"}},
			"then":  {"name": {"Does nothing"}, "metric": {"nps"}, "by": {"overall"}},
			"by":    {"name": {"Returns by team"}, "metric": {"return_rate"}, "by": {"team"}, "case_team": {"service"}},
		} {
			code, page := post(admin, "/alerts", form)
			if code != 400 || !strings.Contains(page, field+":") || !strings.Contains(page, form.Get("name")) {
				t.Errorf("a wrong %s: %d", field, code)
			}
		}
		if n := len(alerts()); n != 2 {
			t.Fatalf("refused forms made alerts: %d", n)
		}
		if err := s.Auth.CreateUser(t.Context(), "analyst@example.com", "a long password", "analyst"); err != nil {
			t.Fatal(err)
		}
		analyst := as(url.Values{"email": {"analyst@example.com"}, "password": {"a long password"}})
		if code, _ := post(analyst, "/alerts", url.Values{"name": {"Mine"}, "metric": {"nps"}, "case_team": {"service"}}); code != 403 {
			t.Fatalf("an analyst adds an alert: %d", code)
		}
		if code, _ := post(analyst, "/alerts/"+a.ID+"/delete", url.Values{}); code != 403 {
			t.Fatalf("an analyst removes an alert: %d", code)
		}
		if code, _ := post(admin, "/alerts/"+a.ID+"/delete", url.Values{}); code != 200 {
			t.Fatalf("remove: %d", code)
		}
		if list = alerts(); len(list) != 1 || list[0].ID == a.ID {
			t.Fatalf("after removing: %+v", list)
		}
	})
}
