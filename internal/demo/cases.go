package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sort"
	"strings"
	"time"
)

// WorkCases is the service team's last fortnight: each case the live
// traffic opened (complaints, detractors, damaged returns) is worked from
// the time it opened, most within their SLA and about one in five late,
// each resolution recorded at its own time (as work done in another
// helpdesk is); cases whose work is not done by the demo's end, and a few
// forgotten ones, stay open. Of the customers then asked how well their
// complaint was handled, about two in three answer through the ingestion
// API as a client would — most well handled, some not. Complaint recovery
// and SLA compliance then have a picture.
func WorkCases(ctx context.Context, baseURL, writeKey, token string, opts Options) error {
	base := strings.TrimRight(baseURL, "/")
	var open struct {
		Cases []struct {
			ID          string    `json:"id"`
			Kind        string    `json:"kind"`
			UserID      string    `json:"userId"`
			AnonymousID string    `json:"anonymousId"`
			CreatedAt   time.Time `json:"createdAt"`
			DueAt       time.Time `json:"dueAt"`
		} `json:"cases"`
	}
	if err := getJSON(ctx, base+"/api/v1/cases?status=open&limit=1000", token, &open); err != nil {
		return err
	}
	sort.Slice(open.Cases, func(i, j int) bool { return open.Cases[i].ID < open.Cases[j].ID })
	end := opts.End
	if end.IsZero() {
		end = time.Now()
	}
	r := rand.New(rand.NewPCG(opts.Seed, 0xca5e5))
	notes := []string{"Called the customer, apologised and sent a replacement.", "Refund issued; the customer confirmed.",
		"Explained the delay and added a voucher.", "Replied on the thread and resolved by direct message."}
	resolved := map[string]bool{}
	for _, c := range open.Cases {
		sla := c.DueAt.Sub(c.CreatedAt)
		share := 0.1 + 0.8*r.Float64() // of the SLA: in time
		if r.Float64() < 0.22 {
			share = 1.05 + 1.5*r.Float64() // late
		}
		at := c.CreatedAt.Add(time.Duration(share * float64(sla)))
		forgotten := r.Float64() < 0.04
		note := notes[r.IntN(len(notes))]
		if forgotten || sla <= 0 || !at.Before(end) {
			continue // still being worked
		}
		body := fmt.Sprintf(`{"note": %q, "resolvedAt": %q}`, note, at.UTC().Format(time.RFC3339Nano))
		if err := postJSON(ctx, base+"/api/v1/cases/"+c.ID+"/resolve", token, body); err != nil {
			return err
		}
		if c.Kind == "complaint" || c.Kind == "detractor" {
			switch { // answered as the identity the case knows
			case c.UserID != "":
				resolved["u:"+c.UserID] = true
			case c.AnonymousID != "":
				resolved["a:"+c.AnonymousID] = true
			}
		}
	}
	// The complaint-handling survey invites each of them once resolved.
	var surveys struct {
		Surveys []struct{ ID, Name string } `json:"surveys"`
	}
	if err := getJSON(ctx, base+"/api/v1/surveys", token, &surveys); err != nil {
		return err
	}
	handling := ""
	for _, s := range surveys.Surveys {
		if s.Name == "Complaint handling" {
			handling = s.ID
		}
	}
	if handling == "" || len(resolved) == 0 {
		return nil
	}
	// Wait (up to 30 s) until the resolutions have made their invitations,
	// so the answers below answer them.
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		var sv struct {
			Funnel struct {
				Scheduled, Sent, Started, Answered, Expired int
				Skipped                                     map[string]int
			} `json:"funnel"`
		}
		if err := getJSON(ctx, base+"/api/v1/surveys/"+handling, token, &sv); err != nil {
			return err
		}
		f := sv.Funnel
		n := f.Sent + f.Started + f.Answered + f.Expired
		for _, k := range f.Skipped {
			n += k
		}
		if n >= len(resolved) {
			break
		}
	}
	users := make([]string, 0, len(resolved))
	for u := range resolved {
		users = append(users, u)
	}
	sort.Strings(users)
	var batch []Message
	for i, u := range users {
		if r.Float64() > 0.65 {
			continue
		}
		// Most complaints are handled well; a few are not.
		score := []int{10, 10, 9, 9, 9, 8, 8, 7, 5, 3}[r.IntN(10)]
		m := Message{"type": "track", "event": "Survey Responded", "messageId": fmt.Sprintf("demo-handling-%05d", i),
			"context":    map[string]any{"channel": "web"},
			"properties": map[string]any{"survey_id": handling, "answers": map[string]any{"handling": score}}}
		if id, ok := strings.CutPrefix(u, "u:"); ok {
			m["userId"] = id
		} else {
			m["anonymousId"] = strings.TrimPrefix(u, "a:")
		}
		batch = append(batch, m)
	}
	if len(batch) == 0 {
		return nil
	}
	return post(ctx, &http.Client{Timeout: 60 * time.Second}, base+"/v1/batch", writeKey, batch)
}
