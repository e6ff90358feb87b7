package analytics_test

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/store/storetest"
)

// outcomeMonth is a month of GET /api/v1/analytics/outcomes.
type outcomeMonth struct {
	Month        string
	Partial      bool
	Buyers       int
	NewCustomers int      `json:"new_customers"`
	RepeatRate   *float64 `json:"repeat_rate"`
	Retention    *float64
	Satisfaction *float64
	NPS          *float64
	CLVNew       *float64 `json:"clv_new_customers"`
	Revenue      float64
}

// Retention is computed by cohort: of the customers who bought in the
// month before, the share who bought in the month — for the window's
// first month too, whose cohort bought before the window. Refunded
// orders do not count; a month whose month before had no buyers has no
// retention.
func TestOutcomesRetention(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := startAt(t, dsn, fixed) // 2026-03-14: the window of 3 months is January to March
		r := rand.New(rand.NewPCG(14, 3))
		type order struct {
			id       string
			at       time.Time
			refunded bool
		}
		orders := map[string][]order{}
		first := time.Date(2025, 10, 1, 0, 0, 0, 0, time.UTC)
		var batch []any
		for c := range 40 {
			user := fmt.Sprintf("rt-%02d", c)
			for k := range 1 + r.IntN(6) {
				at := first.Add(time.Duration(r.Int64N(int64(fixed.Sub(first)))))
				if c%10 == 0 { // these never bought in December: the gap month
					for at.Month() == time.December {
						at = first.Add(time.Duration(r.Int64N(int64(fixed.Sub(first)))))
					}
				}
				o := order{id: fmt.Sprintf("%s-%d", user, k), at: at, refunded: r.IntN(8) == 0}
				orders[user] = append(orders[user], o)
				batch = append(batch, track(user, "Order Completed", at, "web", map[string]any{"order_id": o.id, "total": 20}))
				if o.refunded {
					batch = append(batch, track(user, "Order Refunded", at.Add(time.Hour), "web", map[string]any{"order_id": o.id, "total": 20}))
				}
			}
		}
		s.MustSend("batch", map[string]any{"batch": batch})
		s.Sync()

		// Who bought in which month, and who had bought before it, from the orders alone.
		bought := map[string]map[string]bool{} // month → customers
		firstOrder := map[string]time.Time{}
		for user, list := range orders {
			for _, o := range list {
				if o.refunded {
					continue
				}
				m := o.at.Format("2006-01")
				if bought[m] == nil {
					bought[m] = map[string]bool{}
				}
				bought[m][user] = true
				if f, ok := firstOrder[user]; !ok || o.at.Before(f) {
					firstOrder[user] = o.at
				}
			}
		}
		var out struct{ Months []outcomeMonth }
		if code := s.API("GET", "/api/v1/analytics/outcomes?months=3", nil, &out); code != 200 || len(out.Months) != 3 {
			t.Fatalf("outcomes: %d %+v", code, out)
		}
		for i, m := range out.Months {
			month, _ := time.Parse("2006-01", m.Month)
			prev := bought[month.AddDate(0, -1, 0).Format("2006-01")]
			kept, repeat := 0, 0
			for user := range prev {
				if bought[m.Month][user] {
					kept++
				}
			}
			for user := range bought[m.Month] {
				if firstOrder[user].Before(month) {
					repeat++
				}
			}
			want := math.Round(1000*float64(kept)/float64(len(prev))) / 1000
			if len(prev) == 0 || m.Retention == nil || *m.Retention != want {
				t.Errorf("%s: retention %v, want %d of %d = %v", m.Month, m.Retention, kept, len(prev), want)
			}
			if m.Buyers != len(bought[m.Month]) || m.RepeatRate == nil || *m.RepeatRate != math.Round(1000*float64(repeat)/float64(m.Buyers))/1000 {
				t.Errorf("%s: %d buyers, repeat %v; want %d buyers, %d repeat", m.Month, m.Buyers, m.RepeatRate, len(bought[m.Month]), repeat)
			}
			if m.Partial != (i == 2) {
				t.Errorf("%s: partial %v", m.Month, m.Partial)
			}
		}
		// By period: the months it touches, the same figures, and a month
		// in the past is not under way.
		var feb struct{ Months []outcomeMonth }
		if code := s.API("GET", "/api/v1/analytics/outcomes?from=2026-02-10&to=2026-03-01", nil, &feb); code != 200 || len(feb.Months) != 1 {
			t.Fatalf("outcomes of February: %d %+v", code, feb)
		}
		if got, want := fmt.Sprintf("%+v", feb.Months[0]), fmt.Sprintf("%+v", out.Months[1]); feb.Months[0].Partial || feb.Months[0].Month != "2026-02" ||
			feb.Months[0].Buyers != out.Months[1].Buyers || *feb.Months[0].Retention != *out.Months[1].Retention || *feb.Months[0].RepeatRate != *out.Months[1].RepeatRate {
			t.Errorf("February by period %s, in the three months %s", got, want)
		}
		var span struct{ Months []outcomeMonth }
		if s.API("GET", "/api/v1/analytics/outcomes?from=2025-12-31", nil, &span); len(span.Months) != 4 || span.Months[0].Month != "2025-12" || !span.Months[3].Partial {
			t.Errorf("outcomes since 31 December: %+v", span.Months)
		}
		if code := s.API("GET", "/api/v1/analytics/outcomes?from=2026-03-01&to=2026-02-01", nil, nil); code != 400 {
			t.Errorf("a period ending before it starts: %d", code)
		}
		// No answers: no satisfaction and no NPS. No orders before the
		// window's first month: no retention then.
		var longer struct{ Months []outcomeMonth }
		if code := s.API("GET", "/api/v1/analytics/outcomes?months=8", nil, &longer); code != 200 {
			t.Fatal(code)
		}
		for _, m := range longer.Months {
			if m.Satisfaction != nil || m.NPS != nil {
				t.Errorf("%s: satisfaction %v, NPS %v without answers", m.Month, m.Satisfaction, m.NPS)
			}
			if m.Month <= "2025-10" && m.Retention != nil {
				t.Errorf("%s: retention %v without buyers the month before", m.Month, *m.Retention)
			}
			if m.Month < "2025-10" && (m.RepeatRate != nil || m.CLVNew != nil) {
				t.Errorf("%s: repeat rate %v, new customers' value %v without buyers", m.Month, m.RepeatRate, m.CLVNew)
			}
		}
	})
}

// The satisfaction and NPS of a month are of one survey — by default the
// one with the most responses, or the one asked for — with their number
// of answers and a small-sample mark below 30; complaints count once each,
// in the month the customer complained, although the complaint case cxloop
// opens for a past complaint is opened today.
func TestOutcomesSurveysAndComplaints(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := startAt(t, dsn, fixed) // 2026-03-14: the window of 3 months is January to March
		r := rand.New(rand.NewPCG(7, 11))
		type answer struct {
			survey string
			nps    float64
			at     time.Time
		}
		var answers []answer
		var batch []any
		jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		// After-order answers all along; the relationship survey asks
		// in February only, and its answers run lower.
		for k := range 160 {
			a := answer{survey: "after-order", nps: float64(5 + r.IntN(6)), at: jan.Add(time.Duration(r.Int64N(int64(fixed.Sub(jan)))))}
			if k%4 == 0 {
				a = answer{survey: "relationship", nps: float64(r.IntN(11)), at: time.Date(2026, 2, 1+r.IntN(5), 10, 0, 0, 0, time.UTC)}
			}
			answers = append(answers, a)
			batch = append(batch, track(fmt.Sprintf("sv-%03d", k), "Survey Responded", a.at, "email",
				map[string]any{"survey_id": a.survey, "answers": map[string]any{"nps": a.nps}}))
		}
		// Complaints from January on, sent today: cxloop opens a case for each now.
		complaints := map[string]int{}
		for k := range 25 {
			at := jan.Add(time.Duration(r.Int64N(int64(fixed.Sub(jan)))))
			complaints[at.Format("2006-01")]++
			batch = append(batch, track(fmt.Sprintf("cp-%02d", k), "Complaint Submitted", at, "web", map[string]any{"text": "The stove arrived broken."}))
		}
		// A rule escalates negative posts as complaints: each is a
		// complaint at the post's time, its case opened today.
		s.API("POST", "/api/v1/teams", map[string]any{"name": "social care"}, nil)
		if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "Negative posts", "when": {"event": "Social Mention", "sentiment": "negative"},
			"then": {"open_case": {"team": "social care", "kind": "complaint"}}}`), nil); code != 201 {
			t.Fatalf("rule: %d", code)
		}
		for k := range 6 {
			at := jan.Add(time.Duration(r.Int64N(int64(fixed.Sub(jan)))))
			complaints[at.Format("2006-01")]++
			batch = append(batch, track(fmt.Sprintf("sm-%d", k), "Social Mention", at, "social", map[string]any{"sentiment": "negative", "text": "Never again."}))
		}
		s.MustSend("batch", map[string]any{"batch": batch})
		s.Sync()
		var cases struct{ Cases []struct{ Kind string } }
		if code := s.API("GET", "/api/v1/cases?limit=100", nil, &cases); code != 200 || len(cases.Cases) != 31 {
			t.Fatalf("complaint cases: %d, %d of 31", code, len(cases.Cases))
		}

		type month struct {
			Month             string
			Satisfaction      *float64
			Responses         int
			SatisfactionSmall bool `json:"satisfaction_small_sample"`
			NPS               *float64
			NPSAnswers        int  `json:"nps_answers"`
			NPSSmall          bool `json:"nps_small_sample"`
			Complaints        int
		}
		type outcomes struct {
			Survey  string
			Surveys []struct {
				ID        string
				Responses int
			}
			Months []month
		}
		check := func(query, survey string) {
			t.Helper()
			var out outcomes
			if code := s.API("GET", "/api/v1/analytics/outcomes?months=3"+query, nil, &out); code != 200 || len(out.Months) != 3 {
				t.Fatalf("outcomes%s: %d %+v", query, code, out)
			}
			if out.Survey != survey || len(out.Surveys) != 2 || out.Surveys[0].ID != "after-order" || out.Surveys[0].Responses != 120 {
				t.Errorf("outcomes%s: survey %q of %+v, want %q", query, out.Survey, out.Surveys, survey)
			}
			for _, m := range out.Months {
				n, promoters, detractors, sum := 0, 0, 0, 0.0
				for _, a := range answers {
					if a.survey != survey || a.at.Format("2006-01") != m.Month {
						continue
					}
					n++
					sum += a.nps / 10
					if a.nps >= 9 {
						promoters++
					} else if a.nps <= 6 {
						detractors++
					}
				}
				if n == 0 {
					if m.NPS != nil || m.Satisfaction != nil || m.Responses != 0 || m.NPSAnswers != 0 {
						t.Errorf("%s %s: figures without answers: %+v", survey, m.Month, m)
					}
				} else {
					// Unrounded: the figures are rounded to a tenth.
					nps := 100 * float64(promoters-detractors) / float64(n)
					sat := 100 * sum / float64(n)
					near := func(v *float64, want float64) bool { return v != nil && math.Abs(*v-want) <= 0.05+1e-9 }
					if !near(m.NPS, nps) || m.NPSAnswers != n || m.NPSSmall != (n < 30) {
						t.Errorf("%s %s: NPS %v on %d (small %v), want %v on %d", survey, m.Month, show(m.NPS), m.NPSAnswers, m.NPSSmall, nps, n)
					}
					if !near(m.Satisfaction, sat) || m.Responses != n || m.SatisfactionSmall != (n < 30) {
						t.Errorf("%s %s: satisfaction %v on %d, want %v on %d", survey, m.Month, show(m.Satisfaction), m.Responses, sat, n)
					}
				}
				if m.Complaints != complaints[m.Month] {
					t.Errorf("%s: %d complaints, want %d", m.Month, m.Complaints, complaints[m.Month])
				}
			}
		}
		check("", "after-order")
		check("&survey=relationship", "relationship")
		check("&survey=", "") // responses that name no survey: none here
		if code := s.API("GET", "/api/v1/analytics/outcomes?survey=nosuch", nil, nil); code != 400 {
			t.Errorf("an unknown survey: %d, want 400", code)
		}
	})
}

// A response sent twice under one response_id (a client's retry with a
// new messageId) counts once, the first, in the outcomes as in the survey's
// own scores.
func TestOutcomesCountAResponseOnce(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := startAt(t, dsn, fixed)
		var sv struct{ ID string }
		if code := s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "After order", "rhythm": "pulse", "owner": "service",
			"questions": [{"id": "nps", "type": "nps", "text": {"en": "?"}}]}`), &sv); code != 201 {
			t.Fatalf("survey: %d", code)
		}
		at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
		answer := func(user, response string, v int, at time.Time) map[string]any {
			m := track(user, "Survey Responded", at, "web", map[string]any{"survey_id": sv.ID, "response_id": response, "answers": map[string]any{"nps": v}})
			return m
		}
		s.MustSend("batch", map[string]any{"batch": []any{
			answer("once-1", "r-1", 10, at), answer("once-1", "r-1", 0, at.Add(time.Hour)), answer("once-2", "r-2", 9, at),
		}})
		s.Sync()
		var out struct {
			Months []struct {
				Month      string
				NPS        *float64
				NPSAnswers int `json:"nps_answers"`
			}
		}
		s.API("GET", "/api/v1/analytics/outcomes?months=3&survey="+sv.ID, nil, &out)
		var scores struct {
			Groups []struct {
				Key   string
				Value float64
				N     int
			}
		}
		s.API("GET", "/api/v1/scores?metric=nps&by=month&survey="+sv.ID, nil, &scores)
		for _, m := range out.Months {
			if m.Month != "2026-03" {
				continue
			}
			if m.NPSAnswers != 2 || m.NPS == nil || *m.NPS != 100 {
				t.Errorf("outcomes, March: %d answers, NPS %v; want 2 and 100 (the first of r-1, and r-2)", m.NPSAnswers, m.NPS)
			}
			if len(scores.Groups) != 1 || scores.Groups[0].N != m.NPSAnswers || scores.Groups[0].Value != *m.NPS {
				t.Errorf("the survey's scores %+v and the outcomes %+v differ", scores.Groups, m)
			}
		}
	})
}

// All time starts at the month of the first order, answer or signal and
// runs to now, and says when a history longer than a report's 60 months
// left its earliest months out.
func TestOutcomesAllTime(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := startAt(t, dsn, fixed) // 2026-03-14
		var none struct{ Months []outcomeMonth }
		if code := s.API("GET", "/api/v1/analytics/outcomes?all=true", nil, &none); code != 200 || len(none.Months) != 1 || none.Months[0].Month != "2026-03" {
			t.Errorf("all time without data: %d %+v", code, none.Months)
		}
		at := time.Date(2024, 7, 5, 10, 0, 0, 0, time.UTC)
		s.MustSend("batch", map[string]any{"batch": []any{
			track("at-1", "Order Completed", at, "web", map[string]any{"order_id": "at-1-1", "total": 30}),
			track("at-2", "Order Completed", fixed.AddDate(0, 0, -3), "web", map[string]any{"order_id": "at-2-1", "total": 40}),
		}})
		s.Sync()
		var out struct {
			Months  []outcomeMonth
			Earlier bool
		}
		// July 2024 to March 2026: 21 months, the first with its buyer.
		if code := s.API("GET", "/api/v1/analytics/outcomes?all=true", nil, &out); code != 200 || len(out.Months) != 21 || out.Earlier {
			t.Fatalf("all time: %d, %d months, earlier %v", code, len(out.Months), out.Earlier)
		}
		if f, l := out.Months[0], out.Months[20]; f.Month != "2024-07" || f.Buyers != 1 || f.Revenue != 30 || l.Month != "2026-03" || !l.Partial || l.Buyers != 1 {
			t.Errorf("all time's first %+v and last %+v month", f, l)
		}
		// A complaint older still moves the start; past 60 months, the latest 60.
		s.MustSend("batch", map[string]any{"batch": []any{
			track("at-3", "Complaint Submitted", time.Date(2023, 2, 1, 9, 0, 0, 0, time.UTC), "call_center", map[string]any{"text": "late again"}),
		}})
		s.Sync()
		if s.API("GET", "/api/v1/analytics/outcomes?all=true", nil, &out); len(out.Months) != 38 || out.Months[0].Month != "2023-02" || out.Earlier {
			t.Errorf("all time from a complaint of February 2023: %d months from %s, earlier %v", len(out.Months), out.Months[0].Month, out.Earlier)
		}
		s.MustSend("batch", map[string]any{"batch": []any{
			track("at-4", "Order Completed", time.Date(2019, 1, 10, 9, 0, 0, 0, time.UTC), "store", map[string]any{"order_id": "at-4-1", "total": 10}),
		}})
		s.Sync()
		if s.API("GET", "/api/v1/analytics/outcomes?all=true", nil, &out); len(out.Months) != 60 || out.Months[0].Month != "2021-04" || !out.Earlier {
			t.Errorf("all time from 2019: %d months from %s, earlier %v", len(out.Months), out.Months[0].Month, out.Earlier)
		}
		// A period that has not begun has no month.
		var future struct{ Months []outcomeMonth }
		if code := s.API("GET", "/api/v1/analytics/outcomes?from=2026-04-01&to=2026-05-01", nil, &future); code != 200 || len(future.Months) != 0 {
			t.Errorf("outcomes of April 2026 on 14 March: %d %+v", code, future.Months)
		}
		if code := s.API("GET", "/api/v1/analytics/outcomes?all=maybe", nil, nil); code != 400 {
			t.Errorf("all=maybe: %d", code)
		}
	})
}
