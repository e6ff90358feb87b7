package survey_test

import (
	"context"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/demo"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The demo's answers depend on each customer's experience: orders that
// were returned score lower than those that were not, in several languages.
func TestDemoSurveys(t *testing.T) {
	s, _ := apptest.StartAt(t, storetest.DSN(t, "sqlite"), apptest.Epoch)
	ctx := context.Background()
	surveys, err := demo.CreateSurveys(ctx, s.URL, apptest.Token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := demo.Send(ctx, s.URL, apptest.WriteKey, demo.Options{Customers: 400, Seed: 3, End: apptest.Epoch, Surveys: surveys}); err != nil {
		t.Fatal(err)
	}
	s.Sync()
	// Every demo answer fits its survey: nothing was refused at ingestion.
	var q struct{ Messages []struct{ Field, Reason string } }
	if code := s.API("GET", "/api/v1/quarantine?limit=5", nil, &q); code != 200 || len(q.Messages) != 0 {
		t.Fatalf("quarantined demo messages: %d %+v", code, q.Messages)
	}
	refunded := map[string]bool{}
	read := func(event string, fn func(map[string]any)) {
		var after int64
		for {
			list, err := eventlog.Read(ctx, s.DB, eventlog.Query{Event: event, After: after, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range list {
				m, _ := e.Message()
				fn(m.Props())
				after = e.Seq
			}
			if len(list) < 1000 {
				return
			}
		}
	}
	read("Order Refunded", func(p map[string]any) { refunded[p["order_id"].(string)] = true })
	var sum, n [2]float64
	languages := map[string]int{}
	read("Survey Responded", func(p map[string]any) {
		languages[p["language"].(string)]++
		if p["survey_id"] != surveys.PostOrder {
			return
		}
		i := 0
		if refunded[p["order_id"].(string)] {
			i = 1
		}
		sum[i] += p["answers"].(map[string]any)["nps"].(float64)
		n[i]++
	})
	if n[0] < 50 || n[1] < 5 {
		t.Fatalf("too few answers: %v", n)
	}
	kept, returned := sum[0]/n[0], sum[1]/n[1]
	if returned > kept-2 {
		t.Fatalf("returned orders score %.1f, kept ones %.1f: answers do not reflect the experience", returned, kept)
	}
	if len(languages) < 4 || languages["fa"] == 0 {
		t.Fatalf("languages = %v", languages)
	}
	var got scores
	for _, id := range []string{surveys.PostOrder, surveys.Relationship, surveys.Pulse} {
		metric := map[string]string{surveys.PostOrder: "nps", surveys.Relationship: "acsi", surveys.Pulse: "ces"}[id]
		s.API("GET", "/api/v1/scores?metric="+metric+"&survey="+id, nil, &got)
		if len(got.Groups) != 1 || got.Groups[0].N < 20 {
			t.Fatalf("%s scores: %+v", metric, got)
		}
	}
}
