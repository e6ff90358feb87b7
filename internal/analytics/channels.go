package analytics

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/cxloop/cxloop/internal/profile"
)

// ChannelGroup is how satisfaction works in one kind of channel.
type ChannelGroup struct {
	Group     string   `json:"group"` // online, in_person, or a channel
	Channels  []string `json:"channels"`
	Responses int      `json:"responses"`
	// Repurchase within 90 days of answering.
	RepurchaseRate float64 `json:"repurchase_rate"`
	// The logistic regression of repurchase on satisfaction (0–10), when
	// it could be fitted.
	Intercept *float64 `json:"intercept,omitempty"`
	Slope     *float64 `json:"slope,omitempty"`
	// Meaningful says whether the fit can be read (see meaning); Reason
	// says why not.
	Meaningful bool   `json:"meaningful"`
	Reason     string `json:"reason,omitempty"`
	// SatisfactionFor50 is the satisfaction at which half come back
	// (−intercept ÷ slope), only when the fit is meaningful; higher means
	// the channel needs more.
	SatisfactionFor50 *float64 `json:"satisfaction_for_50pct,omitempty"`
	// ValueWeight is perceived value's standardised weight in
	// satisfaction (with quality beside it when answered).
	ValueWeight *float64 `json:"value_weight,omitempty"`
}

// online and in-person channels.
var channelClass = map[string]string{"web": "online", "mobile_app": "online", "email": "online", "store": "in_person"}

// A fit needs MinFitResponses responses, with MinFitOutcome of them who
// came back and as many who did not.
const (
	MinFitResponses = 30
	MinFitOutcome   = 10
)

// Channels compares online and in-person customers (and each channel):
// how strongly satisfaction predicts repurchase within 90 days, and how
// much perceived value weighs in satisfaction. Research finds online
// customers need higher satisfaction to return and weigh value more;
// this reports it for the business's own data. Responses younger than
// 90 days are left out: whether they came back is not known yet.
//
// On large data the fits are kept between reads (see largeData).
func (s *Service) Channels(ctx context.Context) ([]ChannelGroup, error) {
	groups, _, err := s.ChannelsFitted(ctx)
	return groups, err
}

// ChannelsFitted is Channels and when its fits were made.
func (s *Service) ChannelsFitted(ctx context.Context) ([]ChannelGroup, time.Time, error) {
	return kept(ctx, s, "channels", func() ([]ChannelGroup, error) { return s.fitChannels(ctx) })
}

// fitChannels measures each group of channels (see Channels).
func (s *Service) fitChannels(ctx context.Context) ([]ChannelGroup, error) {
	byMsg, err := s.judgedResponses(ctx, s.now().Add(-90*24*time.Hour).UnixMilli())
	if err != nil {
		return nil, err
	}
	hist, err := s.histories(ctx)
	if err != nil {
		return nil, err
	}
	var list []*channelResponse
	for _, x := range byMsg {
		list = append(list, x)
	}
	owner, err := profile.OwnersBy(ctx, s.profiles, list, func(x *channelResponse) string { return x.key })
	if err != nil {
		return nil, err
	}
	groups := map[string][]*channelResponse{}
	for _, x := range list {
		for _, p := range hist[owner[x.key]] {
			at := p.day * 86400000
			if at > x.at && at <= x.at+90*86400000 {
				x.came = true
				break
			}
		}
		groups[x.channel] = append(groups[x.channel], x)
		if cl, ok := channelClass[x.channel]; ok {
			groups[cl] = append(groups[cl], x)
		}
	}
	out := []ChannelGroup{}
	for name, rs := range groups {
		out = append(out, channelGroup(name, rs))
	}
	sort.Slice(out, func(i, j int) bool {
		ci, cj := out[i].Group == "online" || out[i].Group == "in_person", out[j].Group == "online" || out[j].Group == "in_person"
		if ci != cj {
			return ci
		}
		return out[i].Group < out[j].Group
	})
	return out, nil
}

// channelResponse is one scored response old enough to judge: its
// satisfaction (0–10), perceived value and quality (0–1, when asked) and
// whether the customer bought again within 90 days.
type channelResponse struct {
	key, channel    string
	at              int64
	sat             float64
	value, quality  float64
	hasVal, hasQual bool
	came            bool
}

// judgedResponses returns the scored responses given before judged (unix
// ms) by message id, with their perceived value and quality items.
func (s *Service) judgedResponses(ctx context.Context, judged int64) (map[string]*channelResponse, error) {
	// One pass over the answers: each response's channel, and its
	// perceived value and quality items (on 0–1 of a 10-point scale).
	type acc struct {
		channel      string
		v, q, nv, nq float64
	}
	all, err := s.answers(ctx)
	if err != nil {
		return nil, err
	}
	answers := map[string]*acc{}
	for _, x := range all {
		a := answers[x.msg]
		if a == nil {
			a = &acc{channel: x.channel}
			answers[x.msg] = a
		}
		switch constructOf(x.question) {
		case "perceived_value":
			a.v, a.nv = a.v+x.value, a.nv+1
		case "perceived_quality":
			a.q, a.nq = a.q+x.value, a.nq+1
		}
	}
	byMsg := map[string]*channelResponse{}
	err = s.db.Each(ctx, `SELECT message_id, identity, value, at FROM an_signals WHERE kind = 'score' AND at <= $1`, []any{judged}, func(r *sql.Rows) error {
		x := &channelResponse{}
		var id string
		if err := r.Scan(&id, &x.key, &x.sat, &x.at); err != nil {
			return err
		}
		a := answers[id]
		if a == nil || x.sat < 0 || x.sat > 1 {
			return nil // not an answer to a survey, or outside its scale
		}
		x.sat *= 10
		x.channel = a.channel
		if a.nv > 0 {
			x.value, x.hasVal = a.v/a.nv, true
		}
		if a.nq > 0 {
			x.quality, x.hasQual = a.q/a.nq, true
		}
		byMsg[id] = x
		return nil
	})
	if err != nil {
		return nil, err
	}
	return byMsg, nil
}

// channelGroup measures one group's responses: repurchase rate, the fit
// of repurchase on satisfaction, and the weight of value in satisfaction.
func channelGroup(name string, rs []*channelResponse) ChannelGroup {
	g := ChannelGroup{Group: name, Responses: len(rs), Channels: []string{}}
	seen := map[string]bool{}
	var sat, y []float64
	var vv, qq, ss []float64
	for _, x := range rs {
		if !seen[x.channel] {
			seen[x.channel] = true
			g.Channels = append(g.Channels, x.channel)
		}
		sat = append(sat, x.sat)
		if x.came {
			y = append(y, 1)
			g.RepurchaseRate++
		} else {
			y = append(y, 0)
		}
		if x.hasVal {
			vv, ss = append(vv, x.value), append(ss, x.sat)
			if x.hasQual {
				qq = append(qq, x.quality)
			}
		}
	}
	sort.Strings(g.Channels)
	came := int(g.RepurchaseRate)
	g.RepurchaseRate = round(g.RepurchaseRate/float64(len(rs)), 3)
	g.fit(sat, y, came)
	if len(vv) >= 10 {
		w := valueWeight(ss, vv, qq)
		g.ValueWeight = &w
	}
	return g
}

// fit fits repurchase on satisfaction and says whether the fit can be
// read: enough cases of both outcomes, a slope that is positive and
// clear of zero (z ≥ 1.96), and a 50 % point on the 0–10 scale.
func (g *ChannelGroup) fit(sat, y []float64, came int) {
	if n := len(sat); n < MinFitResponses || came < MinFitOutcome || n-came < MinFitOutcome {
		g.Reason = fmt.Sprintf("too few cases: %d responses, %d came back and %d did not (a fit needs %d, with %d of each)",
			n, came, n-came, MinFitResponses, MinFitOutcome)
		return
	}
	b0, b1, se, ok := logistic(sat, y)
	if !ok {
		g.Reason = "the fit did not converge"
		return
	}
	i, sl := round(b0, 4), round(b1, 4)
	g.Intercept, g.Slope = &i, &sl
	p := func(x float64) int { return int(math.Round(100 / (1 + math.Exp(-(b0 + b1*x))))) }
	switch at50 := -b0 / b1; {
	case b1 <= 0:
		g.Reason = fmt.Sprintf("repurchase does not rise with satisfaction (slope %.3f): the fit is not meaningful", b1)
	case b1 < 1.96*se:
		g.Reason = fmt.Sprintf("satisfaction does not clearly predict repurchase (slope %.3f ± %.3f)", b1, 1.96*se)
	case at50 < 0:
		g.Reason = fmt.Sprintf("more than half come back at any satisfaction (%d %% predicted at 0)", p(0))
	case at50 > 10:
		g.Reason = fmt.Sprintf("fewer than half come back even at 10 (%d %% predicted)", p(10))
	default:
		v := round(at50, 2)
		g.SatisfactionFor50, g.Meaningful = &v, true
	}
}

// logistic fits P(y=1) = 1/(1+exp(−(b0 + b1·x))) by Newton–Raphson, with
// the standard error of b1; ok is false when it cannot (one outcome only,
// no spread in x, or no convergence).
func logistic(x, y []float64) (b0, b1, se float64, ok bool) {
	if len(x) < 5 {
		return 0, 0, 0, false
	}
	ones := 0.0
	for _, v := range y {
		ones += v
	}
	if ones == 0 || ones == float64(len(y)) {
		return 0, 0, 0, false
	}
	for range 50 {
		var g0, g1, h00, h01, h11 float64
		for i := range x {
			p := 1 / (1 + math.Exp(-(b0 + b1*x[i])))
			d := y[i] - p
			w := p * (1 - p)
			g0 += d
			g1 += d * x[i]
			h00 += w
			h01 += w * x[i]
			h11 += w * x[i] * x[i]
		}
		det := h00*h11 - h01*h01
		if det <= 1e-12 {
			return 0, 0, 0, false
		}
		d0 := (h11*g0 - h01*g1) / det
		d1 := (-h01*g0 + h00*g1) / det
		b0, b1, se = b0+d0, b1+d1, math.Sqrt(h00/det)
		if math.Abs(d0)+math.Abs(d1) < 1e-10 {
			ok := !math.IsNaN(b0+b1+se) && !math.IsInf(b0+b1, 0) && math.Abs(b1) < 1e6
			return b0, b1, se, ok
		}
	}
	return 0, 0, 0, false // no convergence in 50 steps (separated data)
}

// valueWeight is value's standardised coefficient for satisfaction, with
// quality beside it when every response answered quality too.
func valueWeight(sat, value, quality []float64) float64 {
	z := func(v []float64) []float64 {
		m, sd := mean(v), math.Sqrt(variance(v))
		out := make([]float64, len(v))
		for i, x := range v {
			if sd > 0 {
				out[i] = (x - m) / sd
			}
		}
		return out
	}
	zs, zv := z(sat), z(value)
	r := func(a, b []float64) float64 {
		s := 0.0
		for i := range a {
			s += a[i] * b[i]
		}
		return s / float64(len(a)-1)
	}
	if len(quality) != len(value) {
		return round(r(zs, zv), 3)
	}
	zq := z(quality)
	rsv, rsq, rvq := r(zs, zv), r(zs, zq), r(zv, zq)
	if math.Abs(1-rvq*rvq) < 1e-9 {
		return round(rsv, 3)
	}
	return round((rsv-rsq*rvq)/(1-rvq*rvq), 3)
}
