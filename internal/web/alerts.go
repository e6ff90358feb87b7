package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/cases"
	"github.com/cxloop/cxloop/internal/fault"
)

// alertView is one alert on the console's Alerts page: its definition,
// each group's test as it stands now, and its latest firings.
type alertView struct {
	*cases.Alert
	Unit    string
	Survey  string // the watched survey's name
	Now     []cases.Evidence
	Firings []cases.AlertFiring // the latest in the period
	// Fired and FiredBefore count the firings in the period and in the
	// period compared.
	Fired, FiredBefore int
}

// alertUnits name each metric's figure as the page prints it.
var alertUnits = map[string]string{
	cases.MetricNPS:              "NPS",
	cases.MetricCSAT:             "CSAT (top two boxes, %)",
	cases.MetricComplaints:       "complaints",
	cases.MetricNegativeMentions: "negative mentions (%)",
	cases.MetricReturnRate:       "return rate (%)",
}

// alertsPage lists the alerts on aggregates: what each watches, how each
// group tests now, and when it fired, with the evidence.
func (c *Console) alertsPage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	c.renderAlerts(w, r, s, http.StatusOK, "")
}

// renderAlerts shows the alerts page, with msg naming what a form got
// wrong.
func (c *Console) renderAlerts(w http.ResponseWriter, r *http.Request, s auth.Session, status int, msg string) {
	if !s.Principal.Can(auth.RoleAnalyst) {
		c.fail(w, r, fault.New(fault.Forbidden, "alerts need the analyst role"))
		return
	}
	ctx := r.Context()
	per := readPeriod(r.URL.Query(), c.Profiles.Now(), "90d", false)
	list, err := c.Cases.Alerts(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	views := make([]alertView, 0, len(list))
	for _, a := range list {
		v := alertView{Alert: a, Unit: alertUnits[a.Metric]}
		if a.Survey != "" {
			v.Survey = a.Survey
			if sv, err := c.Surveys.Get(ctx, a.Survey); err == nil {
				v.Survey = sv.Name
			}
		}
		if v.Now, err = c.Cases.Check(ctx, a.ID); err != nil {
			c.fail(w, r, err)
			return
		}
		if v.Firings, v.Fired, err = c.Cases.AlertFiringsIn(ctx, a.ID, per.From, per.To, 10); err != nil {
			c.fail(w, r, err)
			return
		}
		if per.Compared() {
			if _, v.FiredBefore, err = c.Cases.AlertFiringsIn(ctx, a.ID, per.CFrom, per.CTo, 0); err != nil {
				c.fail(w, r, err)
				return
			}
		}
		views = append(views, v)
	}
	data := map[string]any{"Alerts": views, "Admin": s.Principal.Can(auth.RoleAdmin), "Period": per, "Metrics": alertMetrics}
	if s.Principal.Can(auth.RoleAdmin) {
		if data["Teams"], err = c.Cases.Teams(ctx); err != nil {
			c.fail(w, r, err)
			return
		}
		if data["Surveys"], err = c.Surveys.List(ctx); err != nil {
			c.fail(w, r, err)
			return
		}
		if status != http.StatusOK {
			_ = r.ParseForm()
			data["Form"] = r.PostForm
		}
	}
	c.render(w, r, status, "alerts", view{Title: "Alerts", Session: &s, Nav: "alerts", Error: msg, Data: data})
}

// alertMetrics are the metrics an alert may watch, in words.
var alertMetrics = []struct{ Key, Label string }{
	{cases.MetricNPS, "NPS"}, {cases.MetricCSAT, "CSAT (top two boxes)"}, {cases.MetricComplaints, "Complaints"},
	{cases.MetricNegativeMentions, "Negative mentions (share of mentions)"}, {cases.MetricReturnRate, "Return rate"},
}

// alertForm reads the new-alert form into an alert; blank fields take
// the API's defaults.
func alertForm(f func(string) string) (*cases.Alert, error) {
	a := &cases.Alert{Name: f("name"), Metric: f("metric"), Survey: f("survey"), By: f("by"), Trait: f("trait"), Window: f("window"), Direction: f("direction")}
	if a.By == "overall" {
		a.By = ""
	}
	if v := f("alpha"); v != "" {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return nil, fault.Field("alpha", "the significance level is a number such as 0.01")
		}
		a.Alpha = x
	}
	if v := f("min_n"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, fault.Field("min_n", "the least number in each window is a whole number")
		}
		a.MinN = n
	}
	if t := f("case_team"); t != "" {
		a.Then.OpenCase = &cases.OpenCase{Team: t, Kind: "alert", Priority: f("priority")}
	}
	if t := f("notify_team"); t != "" {
		a.Then.Notify = &cases.Notify{Team: t}
	}
	return a, nil
}

// addAlert makes an alert from the alerts page's form (admin role).
func (c *Console) addAlert(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "alerts need the admin role"))
		return
	}
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	a, err := alertForm(f)
	if err == nil {
		a, err = c.Cases.CreateAlert(r.Context(), a)
	}
	if err != nil {
		c.formError(w, r, err, func(msg string) { c.renderAlerts(w, r, s, http.StatusBadRequest, msg) })
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "create", Resource: "alert", ResourceID: a.ID, After: a})
	http.Redirect(w, r, "/alerts#alert-"+a.ID, http.StatusSeeOther)
}
