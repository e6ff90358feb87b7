package web

import (
	"context"
	"html/template"
	"net/http"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/loyalty"
	"github.com/cxloop/cxloop/internal/store"
)

// loyaltyPage is the program dashboard: members by tier, points liability,
// redemption rate, referral revenue and senders against spenders.
func (c *Console) loyaltyPage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	per := readPeriod(r.URL.Query(), c.Profiles.Now(), "90d", false)
	c.keptPage(w, r, s, "loyalty", "Loyalty", "loyalty", func(ctx context.Context) (map[string]any, error) {
		return c.loyalty(ctx, s, per)
	})
}

// loyalty computes the Loyalty page's reports for the period.
func (c *Console) loyalty(ctx context.Context, s auth.Session, per period) (map[string]any, error) {
	var (
		d           *loyalty.Dashboard
		act, before *loyalty.Activity
		program     loyalty.Program
		rules       []loyalty.Rule
		communities []loyalty.Community
		guides      []loyalty.Guide
	)
	fns := []func() error{
		func() (err error) { d, err = c.Loyalty.Dashboard(ctx); return err },
		func() (err error) { act, err = c.Loyalty.Activity(ctx, per.From, per.To); return err },
		func() (err error) { program, err = c.Loyalty.Program(ctx); return err },
		func() (err error) { rules, err = c.Loyalty.Rules(ctx); return err },
		func() (err error) { communities, err = c.Loyalty.Communities(ctx); return err },
		func() (err error) { guides, err = c.Loyalty.Guides(ctx); return err },
	}
	if per.Compared() {
		fns = append(fns, func() (err error) { before, err = c.Loyalty.Activity(ctx, per.CFrom, per.CTo); return err })
	}
	if err := parallel(fns...); err != nil {
		return nil, err
	}
	refs := make([]string, 0, len(d.Advocacy.TopSendersLowSpend))
	for _, a := range d.Advocacy.TopSendersLowSpend {
		refs = append(refs, a.Customer)
	}
	names, err := c.Profiles.Names(ctx, refs)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"D": d, "Program": program, "Rules": rules, "Rate": int(d.RedemptionRate*100 + 0.5), "Communities": communities, "Guides": guides, "Names": names,
		"Chart": matrixChart(d.Advocacy.Matrix), "Period": per, "Activity": act, "Before": before,
		"Admin": s.Principal.Can(auth.RoleAdmin),
	}, nil
}

// addRule makes an earning rule from the console's rules editor.
func (c *Console) addRule(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "earning rules need the admin role"))
		return
	}
	rule := loyalty.Rule{On: r.PostFormValue("on"), Property: r.PostFormValue("property"), Beneficiary: r.PostFormValue("beneficiary")}
	var err error
	if v := strings.TrimSpace(r.PostFormValue("points_per_unit")); v != "" {
		if rule.PointsPerUnit, err = strconv.ParseFloat(v, 64); err != nil {
			c.fail(w, r, fault.Field("points_per_unit", "points per unit is a number"))
			return
		}
	}
	if v := strings.TrimSpace(r.PostFormValue("points")); v != "" {
		if rule.Points, err = strconv.ParseInt(v, 10, 64); err != nil {
			c.fail(w, r, fault.Field("points", "points is a whole number"))
			return
		}
	}
	made, err := c.Loyalty.CreateRule(r.Context(), &rule)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	audit.Note(r.Context(), audit.Change{ResourceID: made.ID})
	http.Redirect(w, r, "/loyalty#earning", http.StatusSeeOther)
}

// loyaltyRuleAction pauses, resumes or removes an earning rule.
func (c *Console) loyaltyRuleAction(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "earning rules need the admin role"))
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	var err error
	switch action := r.PathValue("action"); action {
	case "pause", "resume":
		var before, after *loyalty.Rule
		patch := `{"paused": ` + strconv.FormatBool(action == "pause") + `}`
		if before, after, err = c.Loyalty.UpdateRule(ctx, id, []byte(patch)); err == nil {
			audit.Note(ctx, audit.Change{Action: action, Resource: "loyalty_rule", ResourceID: id, Before: before, After: after})
		}
	case "delete":
		if err = c.Loyalty.DeleteRule(ctx, id); err == nil {
			audit.Note(ctx, audit.Change{Action: "delete", Resource: "loyalty_rule", ResourceID: id})
		}
	default:
		err = fault.New(fault.NotFound, "an earning rule is paused, resumed or deleted")
	}
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/loyalty#earning", http.StatusSeeOther)
}

// redeem takes points from a member on their behalf (at a till, on a call).
func (c *Console) redeem(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAgent) {
		c.fail(w, r, fault.New(fault.Forbidden, "redeeming points needs the agent role"))
		return
	}
	points, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("points")), 10, 64)
	if err != nil {
		c.fail(w, r, fault.Field("points", "points is a whole number"))
		return
	}
	if _, _, err := c.Loyalty.Redeem(r.Context(), r.PathValue("id"), points, r.PostFormValue("key"), strings.TrimSpace(r.PostFormValue("note"))); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/customers/"+r.PathValue("id")+"#loyalty", http.StatusSeeOther)
}

// formKey is a fresh idempotency key for a form: a double submit counts once.
func formKey() string { return "console-" + store.Secret(12) }

// matrixChart draws senders against spenders: own spend (low, high)
// across, referred revenue (low, high) up, a bubble per quarter whose area
// is its number of customers.
func matrixChart(cells []loyalty.Cell) template.HTML {
	ch := chart{
		ID:    "matrix-chart",
		Label: "Customers by own spend and referred revenue",
		Spec:  chartSpec{Kind: "scatter", XName: "own spend", YName: "referred revenue", XCats: []string{"low", "high"}, YCats: []string{"low", "high"}},
		Table: chartTable{Head: []string{"Own spend · referred revenue", "Customers"}},
	}
	for _, c := range cells {
		name := c.Spend + " spend · " + c.Referral + " referrals"
		ch.Spec.Points = append(ch.Spec.Points, chartPoint{Name: name, XCat: c.Spend, YCat: c.Referral, N: c.Customers, Size: float64(c.Customers)})
		ch.Table.Rows = append(ch.Table.Rows, chartRow{Key: c.Spend + "-" + c.Referral, Cells: []string{name, count(int64(c.Customers))}})
	}
	return ch.HTML()
}
