package analytics

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strings"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// The journey stages.
const (
	Recognize = "recognize"
	Request   = "request"
	Respond   = "respond"
)

var stageRank = map[string]int{Recognize: 0, Request: 1, Respond: 2}

// DefaultStages maps the Segment e-commerce events (and cxloop's own) to
// the stages: content and nudges make a need known, searching and
// choosing request a solution, ordering and receiving respond to it.
func DefaultStages() map[string][]string {
	return map[string][]string{
		Recognize: {"Promotion Viewed", "Promotion Clicked", "Product List Viewed", "Guide Viewed", "Nudge Sent", "Recommendation Shown", "Email Opened"},
		Request: {"Products Searched", "Product Viewed", "Product Clicked", "Product Added", "Cart Viewed", "Checkout Started", "Recommendation Clicked",
			"Order Proposed", "Replenishment Scheduled"},
		Respond: {"Order Completed", "Order Auto-Placed", "Order Shipped", "Order Delivered", "Product Used"},
	}
}

const stagesKey = "journey_stages"

// Stages returns the event-to-stage mapping in force.
func Stages(ctx context.Context, q eventlog.Querier) (map[string][]string, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, stagesKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return DefaultStages(), nil
	}
	if err != nil {
		return nil, err
	}
	var m map[string][]string
	return m, json.Unmarshal([]byte(v), &m)
}

// SetStages replaces the mapping; it applies to events read from then on
// (`cxloop replay analytics` applies it to the whole log).
func (s *Service) SetStages(ctx context.Context, m map[string][]string) error {
	seen := map[string]string{}
	for st, list := range m {
		if _, ok := stageRank[st]; !ok {
			return fault.Field(st, "the stages are recognize, request and respond")
		}
		for _, n := range list {
			if n = strings.TrimSpace(n); n == "" {
				return fault.Field(st, "an event name is not empty")
			}
			if other, dup := seen[n]; dup {
				return fault.Field(st, "%q is already in %s", n, other)
			}
			seen[n] = st
		}
	}
	b, _ := json.Marshal(m)
	return s.db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2`, stagesKey, string(b))
		return err
	})
}

// Journey windows: a journey left without a response for AbandonDays is
// over; a new journey within RepeatDays of a response is a repeat.
const (
	AbandonDays = 30
	RepeatDays  = 90
)

// FunnelGroup is the journeys of one group (a channel, an experience).
type FunnelGroup struct {
	Key       string `json:"key"`
	Journeys  int    `json:"journeys"`
	Recognize int    `json:"recognize"`
	Request   int    `json:"request"`
	Respond   int    `json:"respond"`
	Repeat    int    `json:"repeat"`
	// Conversion between stages, and the repeat rate of the responded.
	RequestToRespond float64 `json:"request_to_respond"`
	RepeatRate       float64 `json:"repeat_rate"`
	// Time between stages, in seconds.
	MedianRecognizeToRequest float64 `json:"median_recognize_to_request_s"`
	P90RecognizeToRequest    float64 `json:"p90_recognize_to_request_s"`
	MedianRequestToRespond   float64 `json:"median_request_to_respond_s"`
	P90RequestToRespond      float64 `json:"p90_request_to_respond_s"`
	toRequest, toRespond     []float64
}

type journey struct {
	first      [3]int64 // first touch of each stage (0: none)
	last       int64    // the latest touch
	channel    string
	experience string
	repeat     bool
}

// Funnel cuts every customer's touches into journeys and measures each
// stage by group: by "channel" (of the journey's first touch),
// "experience" (the connected experience that touched it, or none), or
// "" for all; only the customers of a segment when one is given.
func (s *Service) Funnel(ctx context.Context, by string, segment *profile.Query) ([]FunnelGroup, error) {
	if by != "" && by != "channel" && by != "experience" {
		return nil, fault.Field("by", "group by channel or experience")
	}
	var only map[string]bool
	if segment != nil {
		ids, err := s.profiles.Members(ctx, *segment, s.now())
		if err != nil {
			return nil, err
		}
		only = map[string]bool{}
		for _, id := range ids {
			only[id] = true
		}
	}
	type touch struct {
		key, stage, channel, exp string
		at                       int64
	}
	var list []touch
	rows, err := s.db.QueryContext(ctx, `SELECT identity, stage, channel, experience, at FROM an_stages ORDER BY at`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var t touch
		if err := rows.Scan(&t.key, &t.stage, &t.channel, &t.exp, &t.at); err != nil {
			rows.Close()
			return nil, err
		}
		list = append(list, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	owner, err := profile.OwnersBy(ctx, s.profiles, list, func(t touch) string { return t.key })
	if err != nil {
		return nil, err
	}
	open := map[string]*journey{}
	lastRespond := map[string]int64{}
	var done []*journey
	const day = 86400000
	for _, t := range list {
		c := owner[t.key]
		if c == "" || (only != nil && !only[c]) {
			continue
		}
		r := stageRank[t.stage]
		j := open[c]
		if j != nil && (j.first[2] != 0 || t.at-j.last > AbandonDays*day) {
			done = append(done, j) // responded, or left too long: the next touch starts anew
			j = nil
		}
		if j == nil {
			j = &journey{channel: t.channel, experience: "none"}
			if prev, ok := lastRespond[c]; ok && t.at-prev <= RepeatDays*day {
				j.repeat = true
			}
			open[c] = j
		}
		if j.first[r] == 0 {
			j.first[r] = t.at
		}
		j.last = t.at
		if t.exp != "" && j.experience == "none" {
			j.experience = t.exp
		}
		if r == 2 {
			lastRespond[c] = t.at
		}
	}
	for _, j := range open {
		done = append(done, j)
	}
	groups := map[string]*FunnelGroup{}
	for _, j := range done {
		key := "all"
		switch by {
		case "channel":
			key = j.channel
		case "experience":
			key = j.experience
		}
		g := groups[key]
		if g == nil {
			g = &FunnelGroup{Key: key}
			groups[key] = g
		}
		g.Journeys++
		if j.first[0] != 0 {
			g.Recognize++
		}
		if j.first[1] != 0 {
			g.Request++
		}
		if j.first[2] != 0 {
			g.Respond++
		}
		if j.repeat {
			g.Repeat++
		}
		if j.first[0] != 0 && j.first[1] >= j.first[0] {
			g.toRequest = append(g.toRequest, float64(j.first[1]-j.first[0])/1000)
		}
		if j.first[1] != 0 && j.first[2] >= j.first[1] {
			g.toRespond = append(g.toRespond, float64(j.first[2]-j.first[1])/1000)
		}
	}
	out := []FunnelGroup{}
	for _, g := range groups {
		if g.Request > 0 {
			g.RequestToRespond = round(float64(len(g.toRespond))/float64(g.Request), 3)
		}
		if g.Respond > 0 {
			g.RepeatRate = round(float64(g.Repeat)/float64(g.Respond), 3)
		}
		g.MedianRecognizeToRequest, g.P90RecognizeToRequest = quantile(g.toRequest, 0.5), quantile(g.toRequest, 0.9)
		g.MedianRequestToRespond, g.P90RequestToRespond = quantile(g.toRespond, 0.5), quantile(g.toRespond, 0.9)
		out = append(out, *g)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Journeys != out[j].Journeys {
			return out[i].Journeys > out[j].Journeys
		}
		return out[i].Key < out[j].Key
	})
	return out, nil
}

// quantile is the q-quantile (linear between order statistics) of v, 0 when empty.
func quantile(v []float64, q float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	return math.Round(s[lo] + (pos-float64(lo))*(s[hi]-s[lo]))
}
