package web

import (
	"net/http"

	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/home"
)

// homePage answers "how are we doing?": the figures of GET /api/v1/home
// for the signed-in operator, over the period in ?days= (docs/home.md).
func (c *Console) homePage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	days, err := home.Days(r)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	sum, err := c.Home.Summary(r.Context(), s.Principal, days)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r, http.StatusOK, "home", view{Title: "Home", Session: &s, Nav: "home", Data: map[string]any{"S": sum, "Periods": home.Periods}})
}
