// Package home answers "how are we doing?" on one screen: the scores and
// their change against the previous period, response volume, open and
// overdue cases, new detractors nobody has contacted, complaint recovery,
// the value at risk and the alerts that fired. It asks each owner's Go API;
// the definitions are in docs/home.md.
package home

import (
	"context"
	"sort"
	"time"

	"github.com/cxloop/cxloop/internal/analytics"
	"github.com/cxloop/cxloop/internal/cases"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/principal"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/survey"
)

// SmallSample is the number of answers under which a score is marked
// small: its interval is too wide to read it as a headline.
const SmallSample = analytics.SmallSample

// Periods a summary may cover, in days.
var Periods = []int{7, 30, 90}

// Summary is the home page.
type Summary struct {
	Days int `json:"days"`
	// The period is [From, To); the one compared with [PreviousFrom,
	// PreviousTo) (the period just before, unless asked otherwise).
	From         store.Millis `json:"from"`
	To           store.Millis `json:"to"`
	PreviousFrom store.Millis `json:"previousFrom"`
	PreviousTo   store.Millis `json:"previousTo"`
	Scores       []Score      `json:"scores"`
	Responses    Responses    `json:"responses"`
	Cases        Cases        `json:"cases"`
	Detractors   Detractors   `json:"detractors"`
	Recovery     Recovery     `json:"recovery"`
	AtRisk       AtRisk       `json:"atRisk"`
	Alerts       Alerts       `json:"alerts"`
}

// Score is one metric in the period, against the previous one (a metric
// no survey asks and nobody answered is left out). Value is
// nil without answers; Change and Significant are set when both periods
// have answers (Significant: the change is significant at the 95 % level).
type Score struct {
	Metric string `json:"metric"`
	// Survey and SurveyName are the survey the score is of: of the
	// surveys asking the metric, the one with the most answers in the
	// period (else in the previous one), so that the change compares the
	// same survey's answers, never a mix of rhythms that shifts.
	Survey      string      `json:"survey,omitempty"`
	SurveyName  string      `json:"surveyName,omitempty"`
	Value       *float64    `json:"value"`
	N           int         `json:"n"`
	CI95        *[2]float64 `json:"ci95"`
	Small       bool        `json:"small"`
	Previous    *float64    `json:"previous"`
	PreviousN   int         `json:"previousN"`
	Change      *float64    `json:"change"`
	Significant bool        `json:"significant"`
	// LastAnswered is when the metric was last answered, when not in the
	// period (nil: never).
	LastAnswered *store.Millis `json:"lastAnswered,omitempty"`
	// NPS only: the answers of 9–10, 7–8 and 0–6 in the period.
	Promoters  int `json:"promoters,omitempty"`
	Passives   int `json:"passives,omitempty"`
	Detractors int `json:"detractors,omitempty"`
}

// Responses counts survey responses in the period and the previous one.
type Responses struct {
	Count    int `json:"count"`
	Previous int `json:"previous"`
}

// Cases are the open cases (open or pending) the reader may see, and those
// past their due time, by team.
type Cases struct {
	Open    int         `json:"open"`
	Overdue int         `json:"overdue"`
	Teams   []TeamCases `json:"teams"`
}

// TeamCases is one team's open and overdue cases.
type TeamCases = cases.TeamBacklog

// Detractors are the customers who gave an NPS of 0–6 in the period, and
// those of them with no case opened since that answer that an agent has
// answered (not yet contacted), the latest first.
type Detractors struct {
	Customers   int `json:"customers"`
	Uncontacted int `json:"uncontacted"`
	// Anonymous counts those not contacted whom no one can contact: no
	// user id, email or phone (an answer through the survey's open link).
	Anonymous int         `json:"anonymous"`
	Latest    []Detractor `json:"latest"`
}

// Detractor is one customer not yet contacted: their latest detractor
// answer in the period.
type Detractor struct {
	Customer string       `json:"customer"`
	Name     string       `json:"name"`
	Score    float64      `json:"score"`
	At       store.Millis `json:"at"`
}

// Recovery is complaint handling as the Recovery page reports it: the
// share of rated handlings scored 9 or 10 (nil when none was rated).
type Recovery struct {
	Complaints       int      `json:"complaints"`
	Resolved         int      `json:"resolved"`
	Rated            int      `json:"rated"`
	HandledWell      int      `json:"handledWell"` // ratings of 9 or 10
	HandledWellShare *float64 `json:"handledWellShare"`
	Small            bool     `json:"small"`
}

// AtRisk is the value the business can expect to lose: over the live
// customers with a risk of 0.5 or more, the sum of lifetime value × risk,
// their lifetime value and how many they are, and the five who weigh most
// in it (named).
type AtRisk struct {
	Customers int         `json:"customers"`
	Value     float64     `json:"value"`
	CLV       float64     `json:"clv"`
	Top       []RiskShare `json:"top"`
}

// RiskShare is one customer's part of the value at risk.
type RiskShare struct {
	analytics.RiskShare
	Name string `json:"name"`
}

// Alerts counts the alert firings in the period, the latest first.
type Alerts struct {
	Fired  int      `json:"fired"`
	Latest []Firing `json:"latest"`
}

// Firing is one alert firing.
type Firing struct {
	Alert string       `json:"alert"`
	Name  string       `json:"name"`
	Group string       `json:"group"`
	At    store.Millis `json:"at"`
}

// Service computes summaries.
type Service struct {
	Surveys  *survey.Service
	Cases    *cases.Service
	An       *analytics.Service
	Profiles *profile.Service
	Now      func() time.Time
}

// latest is how many detractors and firings a summary lists.
const latest = 5

// Summary is the home page for p over the last days days (7, 30 or 90),
// ending now, compared with the days before.
func (s *Service) Summary(ctx context.Context, p principal.Principal, days int) (*Summary, error) {
	if !validDays(days) {
		return nil, fault.Field("days", "days is 7, 30 or 90")
	}
	// Up to and including now: an answer given this millisecond counts.
	to := s.Now().UTC().Add(time.Millisecond)
	from := to.Add(-time.Duration(days) * 24 * time.Hour)
	return s.SummaryFor(ctx, p, from, to, from.Add(-time.Duration(days)*24*time.Hour), from)
}

// SummaryFor is the home page for p over [from, to), compared with
// [prevFrom, prevTo).
func (s *Service) SummaryFor(ctx context.Context, p principal.Principal, from, to, prevFrom, prevTo time.Time) (*Summary, error) {
	if !from.Before(to) || !prevFrom.Before(prevTo) {
		return nil, fault.Field("to", "a period ends after it starts")
	}
	prev := prevFrom
	days := int(to.Sub(from).Round(24*time.Hour) / (24 * time.Hour))
	out := &Summary{Days: days, From: store.Millis(from.UnixMilli()), To: store.Millis(to.UnixMilli()),
		PreviousFrom: store.Millis(prevFrom.UnixMilli()), PreviousTo: store.Millis(prevTo.UnixMilli())}
	var err error
	if out.Scores, err = s.scores(ctx, from, to, prev, prevTo); err != nil {
		return nil, err
	}
	if out.Responses.Count, err = s.Surveys.RespondedBetween(ctx, from, to); err != nil {
		return nil, err
	}
	if out.Responses.Previous, err = s.Surveys.RespondedBetween(ctx, prev, prevTo); err != nil {
		return nil, err
	}
	if out.Cases, err = s.cases(ctx, p); err != nil {
		return nil, err
	}
	if out.Detractors, err = s.detractors(ctx, from, to); err != nil {
		return nil, err
	}
	rec, err := s.Cases.Handling(ctx, p, from, to)
	if err != nil {
		return nil, err
	}
	out.Recovery = Recovery{Complaints: rec.Complaints, Resolved: rec.Resolved, Rated: rec.Rated, HandledWell: rec.HandledWell, Small: rec.Rated < SmallSample}
	if rec.Rated > 0 {
		v := rec.HandledWellShare
		out.Recovery.HandledWellShare = &v
	}
	if out.AtRisk, err = s.atRisk(ctx); err != nil {
		return nil, err
	}
	if out.Alerts, err = s.alerts(ctx, from, to); err != nil {
		return nil, err
	}
	return out, nil
}

func validDays(d int) bool {
	for _, p := range Periods {
		if d == p {
			return true
		}
	}
	return false
}

// scores are NPS, CSAT and CES of each metric's main survey in the
// period, compared with the same survey in the previous one: each metric
// a survey asks (one not archived), or that was answered in either period.
func (s *Service) scores(ctx context.Context, from, to, prev, prevTo time.Time) ([]Score, error) {
	surveys, err := s.Surveys.List(ctx)
	if err != nil {
		return nil, err
	}
	asked := map[string]bool{}
	for _, sv := range surveys {
		for _, q := range sv.Questions {
			asked[q.Type] = true
		}
	}
	names := map[string]string{}
	for _, sv := range surveys {
		names[sv.ID] = sv.Name
	}
	out := []Score{}
	for _, m := range []string{survey.TypeNPS, survey.TypeCSAT, survey.TypeCES} {
		main, err := s.mainSurvey(ctx, m, from, to, prev, prevTo)
		if err != nil {
			return nil, err
		}
		res, err := s.Surveys.Scores(ctx, survey.ScoreQuery{Metric: m, Survey: main, From: from, To: to, CompareFrom: prev, CompareTo: prevTo})
		if err != nil {
			return nil, err
		}
		sc := Score{Metric: m, Survey: main, SurveyName: names[main]}
		if len(res.Groups) > 0 {
			g := res.Groups[0]
			v := g.Value
			sc.Value, sc.N, sc.CI95, sc.Small = &v, g.N, g.CI95, g.N < SmallSample
			if m == survey.TypeNPS {
				sc.Promoters, sc.Passives, sc.Detractors = g.Distribution["promoters"], g.Distribution["passives"], g.Distribution["detractors"]
			}
			if c := g.Comparison; c != nil {
				pv, ch := c.Value, c.Change
				sc.Previous, sc.PreviousN, sc.Change, sc.Significant = &pv, c.N, &ch, c.Significant
			}
		}
		if sc.Previous == nil {
			// No answers now, or none before: the previous period alone.
			before, err := s.Surveys.Scores(ctx, survey.ScoreQuery{Metric: m, Survey: main, From: prev, To: prevTo})
			if err != nil {
				return nil, err
			}
			if len(before.Groups) > 0 {
				pv := before.Groups[0].Value
				sc.Previous, sc.PreviousN = &pv, before.Groups[0].N
			}
		}
		if sc.Value == nil && sc.Previous == nil && !asked[m] {
			continue // nobody asks it
		}
		if sc.Value == nil {
			at, err := s.Surveys.LastAnswered(ctx, m)
			if err != nil {
				return nil, err
			}
			if at > 0 {
				sc.LastAnswered = (*store.Millis)(&at)
			}
		}
		out = append(out, sc)
	}
	return out, nil
}

// mainSurvey is the survey with the most answers of the metric in the
// period, else in the previous one ("" when none has any).
func (s *Service) mainSurvey(ctx context.Context, metric string, from, to, prev, prevTo time.Time) (string, error) {
	for _, span := range [][2]time.Time{{from, to}, {prev, prevTo}} {
		res, err := s.Surveys.Scores(ctx, survey.ScoreQuery{Metric: metric, By: "survey", From: span[0], To: span[1]})
		if err != nil {
			return "", err
		}
		best, most := "", 0
		for _, g := range res.Groups {
			if g.N > most || g.N == most && g.Key < best {
				best, most = g.Key, g.N
			}
		}
		if best != "" {
			return best, nil
		}
	}
	return "", nil
}

// cases counts the open and overdue cases p may see, by team, the most
// overdue first.
func (s *Service) cases(ctx context.Context, p principal.Principal) (Cases, error) {
	out := Cases{Teams: []TeamCases{}}
	teams, err := s.Cases.Backlog(ctx, cases.Scope(cases.Filter{}, p))
	if err != nil {
		return out, err
	}
	for _, t := range teams {
		if t.Name == "" {
			t.Name = "No team"
		}
		out.Teams = append(out.Teams, t)
		out.Open += t.Open
		out.Overdue += t.Overdue
	}
	sort.Slice(out.Teams, func(i, j int) bool {
		a, b := out.Teams[i], out.Teams[j]
		if a.Overdue != b.Overdue {
			return a.Overdue > b.Overdue
		}
		if a.Open != b.Open {
			return a.Open > b.Open
		}
		return a.Name < b.Name
	})
	return out, nil
}

// detractors finds the period's detractors and those no answered case
// reached since their answer.
func (s *Service) detractors(ctx context.Context, from, to time.Time) (Detractors, error) {
	out := Detractors{Latest: []Detractor{}}
	answers, err := s.Surveys.AnswersBetween(ctx, survey.TypeNPS, from, to, 0, 6)
	if err != nil {
		return out, err
	}
	contacts, err := s.Cases.ContactsSince(ctx, from)
	if err != nil {
		return out, err
	}
	keys := make([]string, 0, len(answers)+len(contacts))
	for _, a := range answers {
		keys = append(keys, profile.Key(a.UserID, a.AnonymousID))
	}
	for _, c := range contacts {
		keys = append(keys, profile.Key(c.UserID, c.AnonymousID))
	}
	owner, err := profile.OwnersBy(ctx, s.Profiles, keys, func(k string) string { return k })
	if err != nil {
		return out, err
	}
	lastContact := map[string]int64{} // customer → latest answered case opened
	for _, c := range contacts {
		id := owner[profile.Key(c.UserID, c.AnonymousID)]
		lastContact[id] = max(lastContact[id], c.OpenedAt)
	}
	lastAnswer := map[string]survey.ScoredAnswer{} // customer → latest detractor answer
	for _, a := range answers {
		id := owner[profile.Key(a.UserID, a.AnonymousID)]
		if id == "" {
			continue
		}
		if b, ok := lastAnswer[id]; !ok || a.At >= b.At {
			lastAnswer[id] = a
		}
	}
	out.Customers = len(lastAnswer)
	var open []Detractor
	for id, a := range lastAnswer {
		if lastContact[id] >= a.At {
			continue // a case opened since the answer was answered
		}
		open = append(open, Detractor{Customer: id, Score: a.Value, At: store.Millis(a.At)})
	}
	// Those no one can reach are counted apart, not listed to be called.
	all := make([]string, len(open))
	for i, d := range open {
		all[i] = d.Customer
	}
	reach, err := s.Profiles.Contacts(ctx, all)
	if err != nil {
		return out, err
	}
	reachable := open[:0]
	for _, d := range open {
		c := reach[d.Customer]
		if phone, _ := c.Traits["phone"].(string); c.UserID == "" && c.Email == "" && phone == "" {
			out.Anonymous++
			continue
		}
		reachable = append(reachable, d)
	}
	open = reachable
	out.Uncontacted = len(open)
	sort.Slice(open, func(i, j int) bool {
		if open[i].At != open[j].At {
			return open[i].At > open[j].At
		}
		return open[i].Customer < open[j].Customer
	})
	open = open[:min(latest, len(open))]
	ids := make([]string, len(open))
	for i, d := range open {
		ids[i] = d.Customer
	}
	names, err := s.Profiles.Names(ctx, ids)
	if err != nil {
		return out, err
	}
	for i := range open {
		open[i].Name = names[open[i].Customer]
	}
	out.Latest = append(out.Latest, open...)
	return out, nil
}

// atRisk is the value at risk with its heaviest customers named.
func (s *Service) atRisk(ctx context.Context) (AtRisk, error) {
	v, err := s.An.AtRiskValue(ctx, latest)
	if err != nil {
		return AtRisk{}, err
	}
	out := AtRisk{Customers: v.Customers, Value: v.Value, CLV: v.CLV, Top: []RiskShare{}}
	ids := make([]string, len(v.Top))
	for i, x := range v.Top {
		ids[i] = x.Customer
	}
	names, err := s.Profiles.Names(ctx, ids)
	if err != nil {
		return out, err
	}
	for _, x := range v.Top {
		out.Top = append(out.Top, RiskShare{RiskShare: x, Name: names[x.Customer]})
	}
	return out, nil
}

// alerts counts the firings of every alert in the period.
func (s *Service) alerts(ctx context.Context, from, to time.Time) (Alerts, error) {
	out := Alerts{Latest: []Firing{}}
	list, err := s.Cases.Alerts(ctx)
	if err != nil {
		return out, err
	}
	var all []Firing
	for _, a := range list {
		firings, err := s.Cases.AlertFirings(ctx, a.ID, 1000)
		if err != nil {
			return out, err
		}
		for _, f := range firings {
			at := time.UnixMilli(int64(f.FiredAt))
			if at.Before(from) || !at.Before(to) {
				continue
			}
			all = append(all, Firing{Alert: a.ID, Name: a.Name, Group: f.Group, At: f.FiredAt})
		}
	}
	out.Fired = len(all)
	sort.Slice(all, func(i, j int) bool {
		if all[i].At != all[j].At {
			return all[i].At > all[j].At
		}
		return all[i].Alert < all[j].Alert
	})
	out.Latest = append(out.Latest, all[:min(latest, len(all))]...)
	return out, nil
}
