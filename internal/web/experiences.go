package web

import (
	"context"
	"net/http"
	"time"

	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/experience"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/memo"
)

// customerExperiences is what the customer page shows of the connected
// experiences: buy it again, recommendations (once a model is trained),
// predicted needs and replenishments, proposals, and the journey touches.
func (c *Console) customerExperiences(r *http.Request, id string) (map[string]any, error) {
	ctx := r.Context()
	again, err := c.Exp.BuyAgain(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(again) > 5 {
		again = again[:5]
	}
	var recs []experience.Recommendation
	if c.Exp.Ready() {
		if recs, err = c.Exp.Recommendations(ctx, id, 5, ""); err != nil {
			return nil, err
		}
	}
	needs, reps, err := c.Exp.Needs(ctx, id)
	if err != nil {
		return nil, err
	}
	proposals, err := c.Exp.Proposals(ctx, id)
	if err != nil {
		return nil, err
	}
	touches, err := c.Exp.Journey(ctx, id)
	if err != nil {
		return nil, err
	}
	if len(touches) > 10 {
		touches = touches[:10]
	}
	return map[string]any{"BuyAgain": again, "Recs": recs, "Needs": needs, "Replenishments": reps, "Proposals": proposals, "Touches": touches}, nil
}

// experiencesPage is the program view: recommendation quality, nudge
// uplift, replenishment accuracy and the learning report.
func (c *Console) experiencesPage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	per := readPeriod(r.URL.Query(), c.Profiles.Now(), "90d", false)
	per = per.withoutComparison() // the uplift and the learning report compare nothing
	c.keptPage(w, r, s, "experiences", "Experiences", "experiences", func(ctx context.Context) (map[string]any, error) {
		return c.experiences(ctx, s, per)
	}, func(d map[string]any) { d["Model"] = c.Exp.ModelInfo() }) // the model in service now
}

// experiences computes the Experiences page's reports for the period (the
// recommender's model, which the data does not date, is read at render).
func (c *Console) experiences(ctx context.Context, s auth.Session, per period) (map[string]any, error) {
	ctx = memo.With(ctx) // the reports share the order histories they read
	var (
		uplift   []experience.Uplift
		learning []experience.Month
		backtest experience.BacktestResult
		tested   time.Time
		nudges   []experience.Nudge
		set      experience.ReplenishSettings
	)
	// The reports are independent reads: side by side.
	err := parallel(
		func() (err error) { uplift, err = c.Exp.UpliftsIn(ctx, per.From, per.To); return err },
		func() (err error) { learning, err = c.Exp.LearningIn(ctx, per.From, per.To); return err },
		func() (err error) { backtest, tested, err = c.Exp.BacktestKept(ctx); return err },
		func() (err error) { nudges, err = c.Exp.Nudges(ctx); return err },
		func() (err error) { set, err = c.Exp.ReplenishSettings(ctx); return err },
	)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"Uplift": uplift, "Learning": learning, "Backtest": backtest, "BacktestFitted": fittedBefore(c.Profiles.Now(), tested),
		"Nudges": nudges, "Replenish": set, "Owner": s.Principal.Can(auth.RoleOwner), "Admin": s.Principal.Can(auth.RoleAdmin),
		"Period": per, "Emails": c.Surveys.Emails(),
	}, nil
}

// experienceNames are the four connected experiences in words.
var experienceNames = map[string]string{
	"coach_behaviour": "Coach behaviour", "curated_offering": "Curated offering",
	"respond_to_desire": "Respond to desire", "automatic_execution": "Automatic execution",
}

// reorder proposes the customer's last order again (at the till, on a call).
func (c *Console) reorder(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAgent) {
		c.fail(w, r, fault.New(fault.Forbidden, "proposing orders needs the agent role"))
		return
	}
	if _, err := c.Exp.Reorder(r.Context(), r.PathValue("id"), r.PostFormValue("from")); err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/customers/"+r.PathValue("id")+"#experiences", http.StatusSeeOther)
}

// cancelReplenishment cancels a scheduled replenishment for the customer.
func (c *Console) cancelReplenishment(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAgent) {
		c.fail(w, r, fault.New(fault.Forbidden, "cancelling a replenishment needs the agent role"))
		return
	}
	rep, err := c.Exp.Cancel(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/customers/"+rep.Customer+"#experiences", http.StatusSeeOther)
}
