package web

import (
	"net/http"

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
	if !s.Principal.Can(auth.RoleAnalyst) {
		c.fail(w, r, fault.New(fault.Forbidden, "alerts need the analyst role"))
		return
	}
	ctx := r.Context()
	per, err := parsePeriod(r.URL.Query(), c.Profiles.Now(), "90d")
	if err != nil {
		c.fail(w, r, err)
		return
	}
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
	c.render(w, r, http.StatusOK, "alerts", view{Title: "Alerts", Session: &s, Nav: "alerts", Data: map[string]any{"Alerts": views, "Admin": s.Principal.Can(auth.RoleAdmin), "Period": per}})
}
