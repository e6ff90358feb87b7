package experience_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/experience"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The Repeat loop: a recommendation's outcomes come back as events, a
// click feeds the next training, a purchase is attributed to it, and the
// learning report and the customer's journey show each experience.
func TestRepeatLoop(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		// A fixed clock in the middle of a month: the campers' first orders
		// three days earlier fall in the same month, whatever today is.
		now := time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC)
		s, clock := apptest.StartAt(t, dsn, now)
		for i := range 5 {
			c := fmt.Sprintf("camper-%d", i)
			s.MustSend("track", order(c, c+"-1", now.Add(-72*time.Hour), "tent", 1, "stove", 1, "mat", 1))
		}
		s.MustSend("track", map[string]any{"userId": "newbie", "event": "Product Viewed", "properties": map[string]any{"product_id": "tent"}})
		s.Sync()
		if err := s.Exp.Train(t.Context()); err != nil {
			t.Fatal(err)
		}
		var recs struct {
			Items []struct {
				Item  string
				RecID string `json:"rec_id"`
			}
		}
		s.API("GET", "/api/v1/customers/newbie/recommendations?n=2", nil, &recs)
		if len(recs.Items) != 2 {
			t.Fatalf("recommendations: %+v", recs)
		}
		first, second := recs.Items[0], recs.Items[1]
		for _, r := range recs.Items {
			s.MustSend("track", map[string]any{"userId": "newbie", "event": "Recommendation Shown", "properties": map[string]any{"rec_id": r.RecID, "product_id": r.Item}})
		}
		clock.Add(time.Minute)
		s.MustSend("track", map[string]any{"userId": "newbie", "event": "Recommendation Clicked", "properties": map[string]any{"rec_id": first.RecID, "product_id": first.Item}})
		clock.Add(time.Minute)
		now = clock.Now()
		bought := order("newbie", "nb-1", now, first.Item, 1)
		delete(bought, "timestamp") // after the click
		s.MustSend("track", bought)
		s.Sync()
		// The click and the order are interests now: the next model does not offer the item again.
		if err := s.Exp.Train(t.Context()); err != nil {
			t.Fatal(err)
		}
		s.API("GET", "/api/v1/customers/newbie/recommendations?n=5", nil, &recs)
		for _, r := range recs.Items {
			if r.Item == first.Item {
				t.Fatalf("bought %s is offered again: %+v", first.Item, recs.Items)
			}
		}
		var prop struct{ Proposal string }
		if code := s.API("POST", "/api/v1/customers/camper-0/reorder", map[string]any{}, &prop); code != 201 {
			t.Fatalf("reorder: %d", code)
		}
		s.MustSend("track", map[string]any{"userId": "camper-0", "event": "Order Proposal Accepted", "properties": map[string]any{"proposal_id": prop.Proposal}})
		s.Sync()
		var rep struct {
			Months []struct {
				Month       string
				Experiences []struct {
					Experience, Stage, Segment string
					Offered, Accepted          int
					Purchased, Pending         int
					Rate                       *float64
				}
			}
		}
		if code := s.API("GET", "/api/v1/experiences/learning?months=2", nil, &rep); code != 200 || len(rep.Months) != 2 || rep.Months[1].Month != now.UTC().Format("2006-01") {
			t.Fatalf("learning: %d %+v", code, rep)
		}
		got := map[string]string{}
		for _, x := range rep.Months[1].Experiences {
			got[x.Experience+"/"+x.Segment] = fmt.Sprintf("%d/%d/%d +%d %s", x.Offered, x.Accepted, x.Purchased, x.Pending, x.Stage)
		}
		// The second recommendation, shown a minute ago and not bought, is
		// still in its week: open, not a miss.
		if got["curated_offering/new"] != "1/1/1 +1 Request" || got["respond_to_desire/new"] != "1/1/1 +0 Respond" {
			t.Fatalf("learning this month: %v", got)
		}
		var j struct {
			Touches []struct{ Experience, Stage, Event, Ref string }
		}
		s.API("GET", "/api/v1/customers/newbie/experiences", nil, &j)
		if len(j.Touches) != 3 || j.Touches[0].Event != "Recommendation Clicked" || j.Touches[0].Ref != first.RecID || j.Touches[2].Stage != "Request" {
			t.Fatalf("journey: %+v (second rec %s)", j.Touches, second.RecID)
		}
		// By period: the months it touches, the same figures.
		thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
		q := "from=" + thisMonth.AddDate(0, -2, 3).Format(time.RFC3339) + "&to=" + now.Add(time.Second).Format(time.RFC3339)
		if code := s.API("GET", "/api/v1/experiences/learning?"+q, nil, &rep); code != 200 || len(rep.Months) != 3 ||
			rep.Months[0].Month != thisMonth.AddDate(0, -2, 0).Format("2006-01") || rep.Months[2].Month != now.UTC().Format("2006-01") {
			t.Fatalf("learning by period: %d %+v", code, rep)
		}
		got2 := map[string]string{}
		for _, x := range rep.Months[2].Experiences {
			got2[x.Experience+"/"+x.Segment] = fmt.Sprintf("%d/%d/%d +%d %s", x.Offered, x.Accepted, x.Purchased, x.Pending, x.Stage)
		}
		if fmt.Sprint(got2) != fmt.Sprint(got) {
			t.Fatalf("learning by period this month %v, by months %v", got2, got)
		}
		q = "from=" + thisMonth.AddDate(0, -2, 0).Format(time.RFC3339) + "&to=" + thisMonth.AddDate(0, -1, 0).Format(time.RFC3339)
		if s.API("GET", "/api/v1/experiences/learning?"+q, nil, &rep); len(rep.Months) != 1 || len(rep.Months[0].Experiences) != 0 {
			t.Fatalf("learning of a past month: %+v", rep)
		}
		if code := s.API("GET", "/api/v1/experiences/learning?from=2001-01-01", nil, nil); code != 400 {
			t.Fatalf("a span over 60 months: %d", code)
		}
		if code := s.API("GET", "/api/v1/experiences/learning?months=0", nil, nil); code != 400 {
			t.Fatalf("months=0: %d", code)
		}

		// A week on, the second recommendation is judged (not bought); a
		// proposal not answered yet is open.
		clock.Add(experience.AttributionDays*24*time.Hour + time.Hour)
		if code := s.API("POST", "/api/v1/customers/camper-1/reorder", map[string]any{}, &prop); code != 201 {
			t.Fatalf("reorder: %d", code)
		}
		s.API("GET", "/api/v1/experiences/learning?months=1", nil, &rep)
		rates := map[string]string{}
		for _, x := range rep.Months[0].Experiences {
			rate := "none"
			if x.Rate != nil {
				rate = fmt.Sprint(*x.Rate)
			}
			rates[x.Experience+"/"+x.Segment] = fmt.Sprintf("%d/%d +%d %s", x.Offered, x.Accepted, x.Pending, rate)
		}
		if rates["curated_offering/new"] != "2/1 +0 0.5" || rates["respond_to_desire/new"] != "1/1 +1 1" {
			t.Fatalf("a week on: %v", rates)
		}
	})
}
