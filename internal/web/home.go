package web

import (
	"context"
	"net/http"

	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/home"
)

// homePage answers "how are we doing?": the figures of GET /api/v1/home
// for the signed-in operator, over the period in the URL (?period= as on
// every report; ?days=7|30|90 as before) and compared as it says
// (docs/home.md).
func (c *Console) homePage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	q := r.URL.Query()
	if d := q.Get("days"); d != "" && !q.Has("period") {
		if _, err := home.Days(r); err != nil {
			c.fail(w, r, err)
			return
		}
		q.Set("period", d+"d")
		q.Del("days")
	}
	per := readPeriod(q, c.Profiles.Now(), "30d", true)
	c.keptPage(w, r, s, "home", "Home", "home", func(ctx context.Context) (map[string]any, error) {
		sum, err := c.Home.SummaryFor(ctx, s.Principal, per.From, per.To, per.CFrom, per.CTo)
		return map[string]any{"S": sum, "Period": per}, err
	})
}
