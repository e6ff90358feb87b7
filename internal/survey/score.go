package survey

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
)

// Metrics cxloop scores.
var metricNames = []string{TypeNPS, TypeCSAT, TypeCES, TypeACSI}

// ScoreQuery selects answers to score and how to group them.
type ScoreQuery struct {
	Metric  string
	Survey  string
	Account string // a business account: its stakeholders' answers only
	By      string // channel, store, week, month, segment, team, role, account, survey, or "" for one group
	Trait   string // with By segment: the customer trait that names the segment (default "segment")
	From    time.Time
	To      time.Time
	// CompareFrom and CompareTo, when set, give the period each group is
	// compared with.
	CompareFrom, CompareTo time.Time
}

// ScoreGroup is one group's score.
type ScoreGroup struct {
	Key   string      `json:"key"`
	Value float64     `json:"value"`
	N     int         `json:"n"`
	CI95  *[2]float64 `json:"ci95"`
	// Distribution counts answers by value (NPS also by promoter, passive, detractor).
	Distribution map[string]int `json:"distribution"`
	Comparison   *Comparison    `json:"comparison,omitempty"`

	est estimate
}

// Comparison is a group's score in the comparison period and whether the
// change is significant at the 95% level.
type Comparison struct {
	Value       float64     `json:"value"`
	N           int         `json:"n"`
	CI95        *[2]float64 `json:"ci95"`
	Change      float64     `json:"change"`
	PValue      float64     `json:"pValue"`
	Significant bool        `json:"significant"`
}

// Scores is the answer to a score query.
type Scores struct {
	Metric  string       `json:"metric"`
	Survey  string       `json:"survey,omitempty"`
	By      string       `json:"by,omitempty"`
	Groups  []ScoreGroup `json:"groups"`
	Overall *ScoreGroup  `json:"overall,omitempty"`
}

// Validate checks the query's names.
func (q *ScoreQuery) Validate() error {
	switch q.Metric {
	case TypeNPS, TypeCSAT, TypeCES, TypeACSI:
	case "":
		return fault.Field("metric", "metric is required: nps, csat, ces or acsi")
	default:
		return fault.Field("metric", "metric must be nps, csat, ces or acsi")
	}
	switch q.By {
	case "", "channel", "store", "week", "month", "segment", "team", "role", "account", "survey":
	default:
		return fault.Field("by", "by must be channel, store, week, month, segment, team, role, account or survey")
	}
	if q.Trait != "" && q.By != "segment" {
		return fault.Field("trait", "trait names the segment trait of by=segment")
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		return fault.Field("to", "to must be after from")
	}
	if q.CompareFrom.IsZero() != q.CompareTo.IsZero() {
		return fault.Field("compare_to", "comparing needs both compare_from and compare_to")
	}
	return nil
}

type scoreRow struct {
	value                                        float64
	channel, store, owner, role, account, survey string
	customer, user, anon, segment                string
	at                                           int64
}

// Scores computes a metric with its 95% confidence interval per group.
func (s *Service) Scores(ctx context.Context, q ScoreQuery) (*Scores, error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if q.Survey != "" {
		if _, err := s.Get(ctx, q.Survey); err != nil {
			return nil, err
		}
	}
	rows, err := s.scoreRows(ctx, q, q.From, q.To)
	if err != nil {
		return nil, err
	}
	out := &Scores{Metric: q.Metric, Survey: q.Survey, By: q.By, Groups: group(q, rows)}
	if q.By != "" {
		all := group(ScoreQuery{Metric: q.Metric}, rows)
		if len(all) > 0 {
			out.Overall = &all[0]
		}
	}
	if !q.CompareFrom.IsZero() {
		prev, err := s.scoreRows(ctx, q, q.CompareFrom, q.CompareTo)
		if err != nil {
			return nil, err
		}
		before := map[string]ScoreGroup{}
		for _, g := range group(q, prev) {
			before[g.Key] = g
		}
		compare := func(g *ScoreGroup, b ScoreGroup, ok bool) {
			if !ok {
				return
			}
			c := &Comparison{Value: b.Value, N: b.N, CI95: b.CI95, Change: round1(g.Value - b.Value)}
			if p, ok := difference(g.est, b.est); ok {
				c.PValue = math.Round(p*10000) / 10000
				c.Significant = p < 0.05
			}
			g.Comparison = c
		}
		for i := range out.Groups {
			b, ok := before[out.Groups[i].Key]
			compare(&out.Groups[i], b, ok)
		}
		if out.Overall != nil {
			all := group(ScoreQuery{Metric: q.Metric}, prev)
			if len(all) > 0 {
				compare(out.Overall, all[0], true)
			}
		}
	}
	return out, nil
}

// Breakdowns scores a survey's metric once for each grouping (by "" is the
// single group "all"), reading its answers once.
func (s *Service) Breakdowns(ctx context.Context, metric, survey string, from, to time.Time, bys ...string) (map[string][]ScoreGroup, error) {
	q := ScoreQuery{Metric: metric, Survey: survey}
	for _, by := range bys {
		if by == "segment" {
			q.By = by // the rows then carry their segment
		}
		if err := (&ScoreQuery{Metric: metric, By: by}).Validate(); err != nil {
			return nil, err
		}
	}
	rows, err := s.scoreRows(ctx, q, from, to)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]ScoreGroup, len(bys))
	for _, by := range bys {
		out[by] = group(ScoreQuery{Metric: metric, By: by}, rows)
	}
	return out, nil
}

func (s *Service) scoreRows(ctx context.Context, q ScoreQuery, from, to time.Time) ([]scoreRow, error) {
	where, args := `metric = $1`, []any{q.Metric}
	add := func(cond string, v any) {
		args = append(args, v)
		where += " AND " + strings.ReplaceAll(cond, "?", "$"+strconv.Itoa(len(args)))
	}
	if q.Survey != "" {
		add("survey_id = ?", q.Survey)
	}
	if q.Account != "" {
		add("account_id = ?", q.Account)
	}
	if !from.IsZero() {
		add("responded_at >= ?", from.UnixMilli())
	}
	if !to.IsZero() {
		add("responded_at < ?", to.UnixMilli())
	}
	rows, err := s.db.QueryContext(ctx, `SELECT value, channel, store, owner, role, account_id, survey_id, customer_id, user_id, anonymous_id, responded_at
		FROM survey_scores WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []scoreRow
	for rows.Next() {
		var r scoreRow
		if err := rows.Scan(&r.value, &r.channel, &r.store, &r.owner, &r.role, &r.account, &r.survey, &r.customer, &r.user, &r.anon, &r.at); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if q.By == "segment" {
		err = s.segments(ctx, out, q.Trait)
	}
	return out, err
}

// segments labels each row with the segment trait of its customer as the
// profile has it now.
func (s *Service) segments(ctx context.Context, rows []scoreRow, trait string) error {
	if trait == "" {
		trait = "segment"
	}
	var unknown []eventlog.Event
	for _, r := range rows {
		if r.customer == "" {
			unknown = append(unknown, eventlog.Event{UserID: r.user, AnonymousID: r.anon})
		}
	}
	owners, err := s.profiles.Owners(ctx, unknown)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	var ids []string
	for i := range rows {
		if rows[i].customer == "" {
			rows[i].customer = profile.OwnerOf(owners, eventlog.Event{UserID: rows[i].user, AnonymousID: rows[i].anon})
		}
		if c := rows[i].customer; c != "" && !seen[c] {
			seen[c] = true
			ids = append(ids, c)
		}
	}
	contacts, err := s.profiles.Contacts(ctx, ids)
	if err != nil {
		return err
	}
	for i := range rows {
		if v, ok := contacts[rows[i].customer].Traits[trait]; ok && v != nil {
			rows[i].segment = fmt.Sprint(v)
		}
	}
	return nil
}

// group splits rows by the query's grouping and scores each group.
func group(q ScoreQuery, rows []scoreRow) []ScoreGroup {
	values := map[string][]float64{}
	for _, r := range rows {
		k := "all"
		switch q.By {
		case "channel":
			k = r.channel
		case "store":
			k = r.store
		case "team":
			k = r.owner
		case "role":
			k = r.role
		case "account":
			k = r.account
		case "segment":
			k = r.segment
		case "survey":
			k = r.survey
		case "week":
			y, w := time.UnixMilli(r.at).UTC().ISOWeek()
			k = fmt.Sprintf("%04d-W%02d", y, w)
		case "month":
			k = time.UnixMilli(r.at).UTC().Format("2006-01")
		}
		if k == "" {
			k = "unknown"
		}
		values[k] = append(values[k], r.value)
	}
	out := make([]ScoreGroup, 0, len(values))
	for k, vs := range values {
		out = append(out, score(q.Metric, k, vs))
	}
	sort.Slice(out, func(i, j int) bool {
		if q.By == "week" || q.By == "month" {
			return out[i].Key < out[j].Key
		}
		if out[i].N != out[j].N {
			return out[i].N > out[j].N
		}
		return out[i].Key < out[j].Key
	})
	return out
}

// score is one group's estimate in the metric's own terms.
func score(metric, key string, vs []float64) ScoreGroup {
	var e estimate
	switch metric {
	case TypeNPS:
		e = npsEstimate(vs)
	case TypeCSAT:
		e = proportionEstimate(vs, func(v float64) bool { return v >= 4 })
	case TypeCES:
		e = meanEstimate(vs, 1, 7)
	case TypeACSI:
		e = meanEstimate(vs, 0, 100)
	}
	g := ScoreGroup{Key: key, Value: round1(e.value), N: e.n, Distribution: map[string]int{}, est: e}
	if e.ok {
		g.CI95 = &[2]float64{round1(e.lo), round1(e.hi)}
	}
	for _, v := range vs {
		if metric == TypeACSI {
			g.Distribution[strconv.Itoa(int(math.Min(9, v/10))*10)+"s"]++
			continue
		}
		g.Distribution[strconv.FormatFloat(v, 'f', -1, 64)]++
	}
	if metric == TypeNPS {
		for _, v := range vs {
			switch {
			case v >= 9:
				g.Distribution["promoters"]++
			case v >= 7:
				g.Distribution["passives"]++
			default:
				g.Distribution["detractors"]++
			}
		}
	}
	return g
}
