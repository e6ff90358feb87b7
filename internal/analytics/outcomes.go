package analytics

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
)

// OutcomeMonth is one month of the outcomes dashboard. A rate or mean is
// absent when it has no base (no responses, no buyers, no customers
// acquired, no buyers the month before).
type OutcomeMonth struct {
	Month string `json:"month"`
	// Partial marks the month under way: its figures run to now.
	Partial bool `json:"partial,omitempty"`
	// Satisfaction is the mean score of the month's responses to the
	// outcomes' survey as a share of their scale, 0–100, on Responses
	// responses; SatisfactionSmall marks fewer than SmallSample.
	Satisfaction      *float64 `json:"satisfaction,omitempty"`
	Responses         int      `json:"responses"`
	SatisfactionSmall bool     `json:"satisfaction_small_sample,omitempty"`
	// NPS is % promoters − % detractors of the month's NPS answers to the
	// outcomes' survey, on NPSAnswers answers; NPSSmall marks fewer than
	// SmallSample.
	NPS          *float64 `json:"nps,omitempty"`
	NPSAnswers   int      `json:"nps_answers"`
	NPSSmall     bool     `json:"nps_small_sample,omitempty"`
	NewCustomers int      `json:"new_customers"`         // first order in the month
	Buyers       int      `json:"buyers"`                // customers who ordered in the month
	RepeatRate   *float64 `json:"repeat_rate,omitempty"` // buyers who had ordered before the month
	// Retention is, of the customers who bought in the month before (the
	// cohort, taken from the whole history), the share who bought in this month.
	Retention  *float64 `json:"retention,omitempty"`
	Revenue    float64  `json:"revenue"` // orders, refunds taken out
	Complaints int      `json:"complaints"`
	Returns    int      `json:"returns"`
	// CLVNew is the mean lifetime value of the customers acquired in the month.
	CLVNew *float64 `json:"clv_new_customers,omitempty"`
	// ReferralRevenue is what referred customers spent in the month (from
	// the loyalty program, when present).
	ReferralRevenue float64 `json:"referral_revenue"`
}

// SurveyInfo is what the reports ask the survey capability: each survey's
// name by id, and each question's text by question id ("question.item"
// for an item), in its survey's default language.
type SurveyInfo struct {
	Names  func(ctx context.Context) (map[string]string, error)
	Labels func(ctx context.Context) (map[string]string, error)
}

// SetSurveyInfo gives the reports the survey capability's answers.
func (s *Service) SetSurveyInfo(info SurveyInfo) { s.surveyInfo = info }

func (s *Service) surveyNames(ctx context.Context) (map[string]string, error) {
	if s.surveyInfo.Names == nil {
		return map[string]string{}, nil
	}
	return s.surveyInfo.Names(ctx)
}

// SetReferralRevenue lets the outcomes include referral revenue by month
// (the loyalty program provides it).
func (s *Service) SetReferralRevenue(fn func(ctx context.Context, since time.Time) (map[string]float64, error)) {
	s.referrals = fn
}

// SmallSample is the number of answers below which a month's
// satisfaction or NPS is marked a small sample.
const SmallSample = 30

// OutcomeSurvey is a survey whose answers the outcomes can report, with
// its scored responses in the window.
type OutcomeSurvey struct {
	ID        string `json:"id"` // "" for responses that name no survey
	Name      string `json:"name"`
	Responses int    `json:"responses"`
}

// Outcomes is the outcomes table: the months and the survey whose
// satisfaction and NPS they show.
type Outcomes struct {
	// Survey is the survey the satisfaction and NPS come from: the one
	// asked for, else the one with the most scored responses in the window.
	Survey  string          `json:"survey"`
	Surveys []OutcomeSurvey `json:"surveys"`
	Months  []OutcomeMonth  `json:"months"`
	// Earlier is true when the period began before the first month shown:
	// a report spans at most MaxOutcomeMonths, the latest.
	Earlier bool `json:"earlier,omitempty"`
}

// Outcomes is the bottom line month by month: satisfaction and NPS (of one
// survey: surveys differ in scale, audience and rhythm, and a mix of them
// moves with their timing, not with the customers), acquisition and the new
// customers' lifetime value, repeat buying and retention, revenue and
// referral revenue, complaints and returns.
//
// survey names the survey of the satisfaction and NPS ("" for responses
// that name none); nil is the default, the survey with the most responses.
func (s *Service) Outcomes(ctx context.Context, months int, survey *string) (*Outcomes, error) {
	now := s.now().UTC()
	return s.outcomes(ctx, time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -(months-1), 0), months, survey)
}

// MaxOutcomeMonths is the most months one outcomes report spans.
const MaxOutcomeMonths = 60

// FirstActivity is when the first order, survey answer or signal the
// reports read happened (zero when there is none).
func (s *Service) FirstActivity(ctx context.Context) (time.Time, error) {
	var at sql.NullInt64
	err := s.db.QueryRowContext(ctx, `SELECT MIN(at) FROM (SELECT MIN(at) AS at FROM an_orders
		UNION ALL SELECT MIN(at) FROM an_answers UNION ALL SELECT MIN(at) FROM an_signals) AS firsts`).Scan(&at)
	if err != nil || !at.Valid {
		return time.Time{}, err
	}
	return time.UnixMilli(at.Int64).UTC(), nil
}

// OutcomesSince is the outcomes of every calendar month from the first
// activity (FirstActivity) to now, at most MaxOutcomeMonths (the latest):
// "all time".
func (s *Service) OutcomesSince(ctx context.Context, survey *string) (*Outcomes, error) {
	first, err := s.FirstActivity(ctx)
	if err != nil {
		return nil, err
	}
	if first.IsZero() {
		first = s.now()
	}
	return s.OutcomesIn(ctx, first, time.Time{}, survey)
}

// OutcomesIn is the outcomes of the calendar months (UTC) [from, to)
// touches, at most MaxOutcomeMonths (the latest); a zero from is 12
// months back, a zero to is now. Outcomes.Earlier says when months before
// the first one shown were left out for the limit.
func (s *Service) OutcomesIn(ctx context.Context, from, to time.Time, survey *string) (*Outcomes, error) {
	now := s.now().UTC()
	if from.After(now) { // a period that has not begun: no month of it
		return &Outcomes{Surveys: []OutcomeSurvey{}, Months: []OutcomeMonth{}}, nil
	}
	end := now
	if !to.IsZero() && to.Before(now) {
		end = to.Add(-time.Millisecond).UTC()
	}
	last := time.Date(end.Year(), end.Month(), 1, 0, 0, 0, 0, time.UTC)
	first := last.AddDate(0, -11, 0)
	if !from.IsZero() {
		f := from.UTC()
		first = time.Date(f.Year(), f.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	months := (last.Year()-first.Year())*12 + int(last.Month()-first.Month()) + 1
	earlier := months > MaxOutcomeMonths
	if earlier {
		months, first = MaxOutcomeMonths, last.AddDate(0, -(MaxOutcomeMonths-1), 0)
	}
	if months < 1 {
		months, first = 1, last
	}
	out, err := s.outcomes(ctx, first, months, survey)
	if out != nil {
		out.Earlier = earlier
	}
	return out, err
}

// outcomes is the report of months calendar months from start (the
// first of one).
func (s *Service) outcomes(ctx context.Context, start time.Time, months int, survey *string) (*Outcomes, error) {
	if err := s.fresh(ctx); err != nil { // the new customers' lifetime values
		return nil, err
	}
	now := s.now().UTC()
	w := outcomeWindow{start: start, index: map[string]int{}}
	out := make([]OutcomeMonth, months)
	for i := range out {
		m := w.start.AddDate(0, i, 0).Format("2006-01")
		out[i].Month, w.index[m] = m, i
	}
	out[months-1].Partial = out[months-1].Month == now.Format("2006-01")
	// Side by side: each sets fields of the months the other does not.
	var bySurvey map[string][]outcomeScores
	var commerce, signals error
	var wg sync.WaitGroup
	wg.Go(func() { commerce = s.commerceByMonth(ctx, w, out) })
	wg.Go(func() { bySurvey, signals = s.signalsByMonth(ctx, w, out) })
	wg.Wait()
	if err := cmp.Or(commerce, signals); err != nil {
		return nil, err
	}
	res := &Outcomes{Months: out, Surveys: []OutcomeSurvey{}}
	if err := s.chooseSurvey(ctx, res, bySurvey, survey); err != nil {
		return nil, err
	}
	scoresByMonth(out, bySurvey[res.Survey])
	if s.referrals != nil {
		byMonth, err := s.referrals(ctx, w.start)
		if err != nil {
			return nil, err
		}
		for m, v := range byMonth {
			if i, ok := w.index[m]; ok {
				out[i].ReferralRevenue = round(v, 2)
			}
		}
	}
	return res, nil
}

// outcomeWindow is the months a report covers: the first one's start and
// each month's place ("2006-01" → index).
type outcomeWindow struct {
	start time.Time
	index map[string]int
}

// month returns the place of the month at (unix ms) falls in.
func (w outcomeWindow) month(at int64) (int, bool) {
	i, ok := w.index[time.UnixMilli(at).UTC().Format("2006-01")]
	return i, ok
}

// commerceByMonth adds each month's revenue, new customers and their mean
// lifetime value, buyers, repeat rate and retention of the month before's
// buyers.
func (s *Service) commerceByMonth(ctx context.Context, w outcomeWindow, out []OutcomeMonth) error {
	months := len(out)
	hist, err := s.histories(ctx)
	if err != nil {
		return err
	}
	// buyers[0] is the month before the window: the first month's cohort.
	buyers := make([]map[string]bool, months+1)
	for i := range buyers {
		buyers[i] = map[string]bool{}
	}
	before := w.start.AddDate(0, -1, 0).Format("2006-01")
	clv := map[string]float64{}
	err = s.db.Each(ctx, `SELECT customer_id, clv FROM customer_values`, nil, func(r *sql.Rows) error {
		var c string
		var v float64
		err := r.Scan(&c, &v)
		clv[c] = v
		return err
	})
	if err != nil {
		return err
	}
	clvNew, valued := make([]float64, months), make([]int, months)
	repeat := make([]int, months)
	for c, ps := range hist {
		for k, p := range ps {
			at := p.day * 86400000
			i, ok := w.month(at)
			if !ok {
				if time.UnixMilli(at).UTC().Format("2006-01") == before {
					buyers[0][c] = true
				}
				continue
			}
			out[i].Revenue += p.value
			if k == 0 {
				out[i].NewCustomers++
				if v, ok := clv[c]; ok {
					clvNew[i] += v
					valued[i]++
				}
			}
			if !buyers[i+1][c] {
				buyers[i+1][c] = true
				out[i].Buyers++
				if k > 0 {
					repeat[i]++
				}
			}
		}
	}
	for i := range out {
		if n := valued[i]; n > 0 {
			v := round(clvNew[i]/float64(n), 2)
			out[i].CLVNew = &v
		}
		out[i].RepeatRate = share(repeat[i], out[i].Buyers)
		out[i].Revenue = round(out[i].Revenue, 2)
		kept := 0
		for c := range buyers[i] {
			if buyers[i+1][c] {
				kept++
			}
		}
		out[i].Retention = share(kept, len(buyers[i]))
	}
	return nil
}

// outcomeScores are the scores of one kind (score 0–1 or nps 0–10) given
// in one month of the window, summed up: how many, their sum, and (nps)
// how many promoters and detractors.
type outcomeScores struct {
	kind                  string
	month                 int
	n                     int
	sum                   float64
	promoters, detractors int
}

// signalsByMonth counts each month's complaints and returns and sums up the
// window's scores by survey, month by month in the database.
func (s *Service) signalsByMonth(ctx context.Context, w outcomeWindow, out []OutcomeMonth) (map[string][]outcomeScores, error) {
	bySurvey := map[string][]outcomeScores{}
	// Each signal's month in the window (its place; len(out): after it),
	// from the months' bounds in UTC.
	args := []any{w.start.UnixMilli()}
	var month strings.Builder
	month.WriteString("CASE")
	for i := range out {
		args = append(args, w.start.AddDate(0, i+1, 0).UnixMilli())
		fmt.Fprintf(&month, " WHEN s.at < $%d THEN %d", len(args), i)
	}
	fmt.Fprintf(&month, " ELSE %d END", len(out))
	// A score's survey is its ref (as the consumer now writes it), else
	// that of the response's recorded answers (a complaint's or a return's
	// ref is its case or order: none). A score outside its scale is not a
	// score.
	err := s.db.Each(ctx, `SELECT s.kind, `+month.String()+` AS month,
			CASE WHEN s.kind NOT IN ('score', 'nps') THEN '' WHEN s.ref <> '' THEN s.ref ELSE COALESCE((SELECT MIN(a.survey_id) FROM an_answers a WHERE a.message_id = s.message_id), '') END AS survey,
			COUNT(*), SUM(s.value), SUM(CASE WHEN s.value >= 9 THEN 1 ELSE 0 END), SUM(CASE WHEN s.value <= 6 THEN 1 ELSE 0 END)
		FROM an_signals s WHERE s.at >= $1 AND (s.kind IN ('complaint', 'return') OR s.kind = 'score' AND s.value >= 0 AND s.value <= 1
			OR s.kind = 'nps' AND s.value >= 0 AND s.value <= 10)
		GROUP BY s.kind, month, survey`, args, func(r *sql.Rows) error {
		var g outcomeScores
		var id string
		if err := r.Scan(&g.kind, &g.month, &id, &g.n, &g.sum, &g.promoters, &g.detractors); err != nil {
			return err
		}
		if g.month < 0 || g.month >= len(out) {
			return nil
		}
		switch g.kind {
		case "score", "nps":
			bySurvey[id] = append(bySurvey[id], g)
		case "complaint":
			out[g.month].Complaints += g.n
		case "return":
			out[g.month].Returns += g.n
		}
		return nil
	})
	return bySurvey, err
}

// chooseSurvey lists the surveys answered in the window, most responses
// first, and picks the one whose scores the report shows: the one asked
// for, else the first.
func (s *Service) chooseSurvey(ctx context.Context, res *Outcomes, bySurvey map[string][]outcomeScores, survey *string) error {
	for id, list := range bySurvey {
		n := 0
		for _, g := range list {
			if g.kind == "score" {
				n += g.n
			}
		}
		res.Surveys = append(res.Surveys, OutcomeSurvey{ID: id, Responses: n})
	}
	if err := s.nameSurveys(ctx, res.Surveys); err != nil {
		return err
	}
	sort.Slice(res.Surveys, func(i, j int) bool {
		a, b := res.Surveys[i], res.Surveys[j]
		if a.Responses != b.Responses {
			return a.Responses > b.Responses
		}
		return a.ID < b.ID
	})
	switch _, answered := bySurvey[*orDefault(survey)]; {
	case survey == nil:
		if len(res.Surveys) > 0 {
			res.Survey = res.Surveys[0].ID
		}
	case answered || *survey == "":
		res.Survey = *survey
	default:
		names, err := s.surveyNames(ctx)
		if err != nil {
			return err
		}
		if _, known := names[*survey]; !known {
			return fault.Field("survey", "no survey %q", *survey)
		}
		res.Survey = *survey
	}
	return nil
}

// scoresByMonth sets each month's satisfaction (mean score, 0–100) and NPS
// from one survey's scores.
func scoresByMonth(out []OutcomeMonth, scores []outcomeScores) {
	nps := make([][3]int, len(out)) // answers, promoters, detractors
	sat := make([]float64, len(out))
	for _, g := range scores {
		if g.kind == "score" {
			sat[g.month] += g.sum
			out[g.month].Responses += g.n
			continue
		}
		nps[g.month][0] += g.n
		nps[g.month][1] += g.promoters
		nps[g.month][2] += g.detractors
	}
	for i := range out {
		if n := out[i].Responses; n > 0 {
			v := round(sat[i]/float64(n)*100, 1)
			out[i].Satisfaction, out[i].SatisfactionSmall = &v, n < SmallSample
		}
		if n := nps[i][0]; n > 0 {
			v := round(100*float64(nps[i][1]-nps[i][2])/float64(n), 1)
			out[i].NPS, out[i].NPSAnswers, out[i].NPSSmall = &v, n, n < SmallSample
		}
	}
}

// orDefault is the survey asked for, "" for none.
func orDefault(survey *string) *string {
	if survey == nil {
		return new(string)
	}
	return survey
}

// nameSurveys gives the surveys their names.
func (s *Service) nameSurveys(ctx context.Context, list []OutcomeSurvey) error {
	names, err := s.surveyNames(ctx)
	if err != nil {
		return err
	}
	for i := range list {
		switch name, ok := names[list[i].ID]; {
		case ok:
			list[i].Name = name
		case list[i].ID == "":
			list[i].Name = "responses naming no survey"
		default:
			list[i].Name = list[i].ID
		}
	}
	return nil
}
