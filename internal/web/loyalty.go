package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// loyaltyPage is the program dashboard: members by tier, points liability,
// redemption rate, referral revenue and senders against spenders.
func (c *Console) loyaltyPage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	d, err := c.Loyalty.Dashboard(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	program, err := c.Loyalty.Program(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rules, err := c.Loyalty.Rules(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "loyalty", view{Title: "Loyalty", Session: &s, Nav: "loyalty", Data: map[string]any{
		"D": d, "Program": program, "Rules": rules, "Rate": int(d.RedemptionRate*100 + 0.5),
	}})
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
	http.Redirect(w, r, "/customers/"+r.PathValue("id"), http.StatusSeeOther)
}

// formKey is a fresh idempotency key for a form: a double submit counts once.
func formKey() string { return "console-" + store.Secret(12) }
