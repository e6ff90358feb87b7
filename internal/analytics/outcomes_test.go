package analytics_test

import (
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
