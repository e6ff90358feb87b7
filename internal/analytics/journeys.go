package analytics

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"sort"
	"strings"
	"time"

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

// Stages returns the event-to-stage mapping in force.
func Stages(ctx context.Context, q eventlog.Querier) (map[string][]string, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT journey_stages FROM analytics_state`).Scan(&v)
	if err != nil {
		return nil, err
	}
	if v == "" {
		return DefaultStages(), nil
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
		_, err := tx.ExecContext(ctx, `UPDATE analytics_state SET journey_stages = $1`, string(b))
		return err
	})
}

// Journey windows: a journey left without a response for AbandonDays is
// over; a response followed by another within RepeatDays is repeated.
const (
	AbandonDays = 30
	RepeatDays  = 90
)

// FunnelGroup is the journeys of one group (a channel, an experience).
// A rate or a time is absent when it has no base: no journey reached the
// stage it starts from.
type FunnelGroup struct {
	Key       string `json:"key"`
	Journeys  int    `json:"journeys"`
	Recognize int    `json:"recognize"`
	Request   int    `json:"request"`
	Respond   int    `json:"respond"`
	// RequestResponded is the journeys reaching request that went on to
	// respond; Respond less it, those that responded without a request.
	RequestResponded int `json:"request_responded"`
	// RepeatBase is the responded journeys whose response is at least
	// RepeatDays old (younger ones cannot be judged yet); Repeat, those of
	// them after which the customer responded again within RepeatDays.
	RepeatBase int `json:"repeat_base"`
	Repeat     int `json:"repeat"`
	// RequestToRespond is the share of the journeys reaching request that
	// went on to respond; RepeatRate is Repeat ÷ RepeatBase.
	RequestToRespond *float64 `json:"request_to_respond,omitempty"`
	RepeatRate       *float64 `json:"repeat_rate,omitempty"`
	// Time between stages, in seconds.
	MedianRecognizeToRequest *float64 `json:"median_recognize_to_request_s,omitempty"`
	P90RecognizeToRequest    *float64 `json:"p90_recognize_to_request_s,omitempty"`
	MedianRequestToRespond   *float64 `json:"median_request_to_respond_s,omitempty"`
	P90RequestToRespond      *float64 `json:"p90_request_to_respond_s,omitempty"`
	toRequest, toRespond     []float64
}

type journey struct {
	start      int64    // its first touch
	first      [3]int64 // first touch of each stage (0: none)
	last       int64    // the latest touch
	channel    string
	experience string
	// judged: responded at least RepeatDays ago; repeated: and the
	// customer responded again within RepeatDays.
	judged, repeated bool
}

// Funnel cuts every customer's touches into journeys and measures each
// stage by group: by "channel" (of the journey's first touch),
// "experience" (the connected experience that touched it, or none), or
// "" for all; only the customers of a segment when one is given; only the
// journeys that start in [from, to) when a bound is given (zero: open).
// With a start bound, touches are read from AbandonDays before it, so a
// journey under way then is cut where it was, not where the period starts.
func (s *Service) Funnel(ctx context.Context, by string, segment *profile.Query, from, to time.Time) ([]FunnelGroup, error) {
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
	var list []stageTouch
	since := int64(0)
	if !from.IsZero() {
		since = from.UnixMilli() - AbandonDays*dayMillis
	}
	err := s.db.Each(ctx, `SELECT identity, stage, channel, experience, at, action FROM an_stages WHERE at >= $1 ORDER BY at`, []any{since}, func(r *sql.Rows) error {
		var t stageTouch
		err := r.Scan(&t.key, &t.stage, &t.channel, &t.exp, &t.at, &t.action)
		list = append(list, t)
		return err
	})
	if err != nil {
		return nil, err
	}
	owner, err := profile.OwnersBy(ctx, s.profiles, list, func(t stageTouch) string { return t.key })
	if err != nil {
		return nil, err
	}
	byCustomer := cutJourneys(list, func(t stageTouch) string {
		if c := owner[t.key]; c != "" && (only == nil || only[c]) {
			return c
		}
		return ""
	})
	if !from.IsZero() || !to.IsZero() {
		lo, hi := from.UnixMilli(), int64(math.MaxInt64)
		if !to.IsZero() {
			hi = to.UnixMilli()
		}
		for c, js := range byCustomer {
			kept := js[:0]
			for _, j := range js {
				if (from.IsZero() || j.start >= lo) && j.start < hi {
					kept = append(kept, j)
				}
			}
			byCustomer[c] = kept
		}
	}
	return funnelGroups(judgeRepeats(byCustomer, s.now().UnixMilli()), by), nil
}

// stageTouch is one row of an_stages: a touch of a journey stage, or
// cxloop's own action (source cxloop-actions: a nudge sent, an order
// proposed), which is not the customer's touch.
type stageTouch struct {
	key, stage, channel, exp string
	at                       int64
	action                   bool
}

const dayMillis = 86400000

// cutJourneys cuts each customer's touches (in time order) into journeys,
// each customer's in time order; customer names a touch's customer ("":
// left out).
func cutJourneys(list []stageTouch, customer func(stageTouch) string) map[string][]*journey {
	open := map[string]*journey{}
	byCustomer := map[string][]*journey{}
	// An action of a connected experience touches the customer's open
	// journey, or the one they start within AbandonDays of it.
	type nudge struct {
		exp string
		at  int64
	}
	touched := map[string]nudge{}
	for _, t := range list {
		c := customer(t)
		if c == "" {
			continue
		}
		r := stageRank[t.stage]
		j := open[c]
		if j != nil && (j.first[2] != 0 || t.at-j.last > AbandonDays*dayMillis) {
			j = nil // responded, or left too long: the next touch starts anew
		}
		if t.action {
			switch {
			case t.exp == "":
			case j != nil && j.experience == "none":
				j.experience = t.exp
			case j == nil:
				touched[c] = nudge{t.exp, t.at}
			}
			continue
		}
		if j == nil {
			j = &journey{channel: t.channel, experience: "none", start: t.at}
			if n, ok := touched[c]; ok && t.at-n.at <= AbandonDays*dayMillis {
				j.experience = n.exp
			}
			delete(touched, c)
			open[c] = j
			byCustomer[c] = append(byCustomer[c], j)
		}
		if j.first[r] == 0 {
			j.first[r] = t.at
		}
		j.last = t.at
		if t.exp != "" && j.experience == "none" {
			j.experience = t.exp
		}
	}
	return byCustomer
}

// judgeRepeats marks the responses judged and repeated, and returns every
// journey. A response is judged once RepeatDays have passed since it (now,
// unix ms); it is repeated when the customer's next response came within
// them.
func judgeRepeats(byCustomer map[string][]*journey, now int64) []*journey {
	var done []*journey
	for _, js := range byCustomer {
		var prev *journey
		for _, j := range js {
			done = append(done, j)
			if j.first[2] == 0 {
				continue
			}
			if prev != nil && j.first[2]-prev.first[2] <= RepeatDays*dayMillis {
				prev.repeated = prev.judged
			}
			j.judged = now-j.first[2] >= RepeatDays*dayMillis
			prev = j
		}
	}
	return done
}

// funnelGroups measures each stage of the journeys by group (see Funnel),
// the most journeys first.
func funnelGroups(done []*journey, by string) []FunnelGroup {
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
		if j.judged {
			g.RepeatBase++
			if j.repeated {
				g.Repeat++
			}
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
		g.RequestResponded = len(g.toRespond)
		g.RequestToRespond = share(g.RequestResponded, g.Request)
		g.RepeatRate = share(g.Repeat, g.RepeatBase)
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
	return out
}

// share is n ÷ of rounded to 3 decimals, absent when of is 0.
func share(n, of int) *float64 {
	if of <= 0 {
		return nil
	}
	v := round(float64(n)/float64(of), 3)
	return &v
}

// quantile is the q-quantile (linear between order statistics) of v in
// whole seconds, absent when v is empty.
func quantile(v []float64, q float64) *float64 {
	if len(v) == 0 {
		return nil
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(s)-1)
	x := math.Round(s[lo] + (pos-float64(lo))*(s[hi]-s[lo]))
	return &x
}
