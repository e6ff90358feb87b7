package analytics

import (
	"context"
	"database/sql"
	"math"
	"sort"
	"strings"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// Predict records a manager's answers to the customer questions as they
// believe customers answer them (question id → value; an ACSI item as
// question.item), for their team.
func (s *Service) Predict(ctx context.Context, team string, answers map[string]float64) (string, error) {
	team = strings.TrimSpace(team)
	if team == "" {
		return "", fault.Field("team", "a prediction names the team whose manager made it")
	}
	if len(answers) == 0 {
		return "", fault.Field("answers", "answers maps question ids to the values managers expect")
	}
	for q, v := range answers {
		if strings.TrimSpace(q) == "" || math.IsNaN(v) || math.IsInf(v, 0) {
			return "", fault.Field("answers", "each answer is a question id and a number")
		}
	}
	id := store.NewID("pred")
	now := s.now().UnixMilli()
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		for q, v := range answers {
			if _, err := tx.ExecContext(ctx, `INSERT INTO alignment_predictions (id, team, question, value, at) VALUES ($1, $2, $3, $4, $5)`,
				id, team, strings.TrimSpace(q), v, now); err != nil {
				return err
			}
		}
		return nil
	})
	return id, err
}

// Gap compares, per question (and per team when by team), what managers
// predicted with what customers answered.
type Gap struct {
	Question string `json:"question"`
	// Label is the question's text in the survey that asks it (an ACSI
	// item's own text), else its id in words.
	Label       string  `json:"label"`
	Team        string  `json:"team,omitempty"`
	Managers    float64 `json:"managers"`
	Customers   float64 `json:"customers"`
	Gap         float64 `json:"gap"` // managers − customers
	NManagers   int     `json:"n_managers"`
	NCustomers  int     `json:"n_customers"`
	P           float64 `json:"p"` // two-sided, customers' answers against the managers' belief
	Significant bool    `json:"significant"`
	// Reading: managers overestimate (think customers answer higher than
	// they do) or underestimate.
	Reading string `json:"reading"`
}

// Gaps computes the alignment gap for every predicted question, overall
// or by team.
func (s *Service) Gaps(ctx context.Context, byTeam bool) ([]Gap, error) {
	mgr := map[[2]string][]float64{}
	err := s.db.Each(ctx, `SELECT team, question, value FROM alignment_predictions`, nil, func(r *sql.Rows) error {
		var team, q string
		var v float64
		if err := r.Scan(&team, &q, &v); err != nil {
			return err
		}
		if !byTeam {
			team = ""
		}
		mgr[[2]string{q, team}] = append(mgr[[2]string{q, team}], v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The customers' side is summed in the database: each question's
	// answers, their sum and their sum of squares.
	cust := map[string]sample{}
	err = s.db.Each(ctx, `SELECT question, COUNT(*), SUM(value), SUM(value * value) FROM an_answers
		WHERE question IN (SELECT DISTINCT question FROM alignment_predictions) GROUP BY question`, nil, func(r *sql.Rows) error {
		var q string
		var sum, squares float64
		var c sample
		if err := r.Scan(&q, &c.n, &sum, &squares); err != nil {
			return err
		}
		c.mean = sum / float64(c.n)
		// Answers lie on scales of ten or a hundred points: the sum of
		// squares loses nothing that a second pass would keep.
		c.squares = math.Max(0, squares-sum*c.mean)
		cust[q] = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := []Gap{}
	for k, m := range mgr {
		c := cust[k[0]]
		g := Gap{Question: k[0], Team: k[1], NManagers: len(m), NCustomers: c.n, P: 1}
		g.Managers, g.Customers = round(mean(m), 2), round(c.mean, 2)
		if c.n > 0 {
			g.Gap = round(mean(m)-c.mean, 2)
			g.P = pValue(mean(m), c)
			g.Significant = g.P < 0.05
			switch {
			case !g.Significant:
				g.Reading = "aligned"
			case g.Gap > 0:
				g.Reading = "managers overestimate"
			default:
				g.Reading = "managers underestimate"
			}
		} else {
			g.Reading = "no customer answers yet"
		}
		g.P = round(g.P, 4)
		out = append(out, g)
	}
	labels, err := s.questionLabels(ctx)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Label = labels.of(out[i].Question)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Question != out[j].Question {
			return out[i].Question < out[j].Question
		}
		return out[i].Team < out[j].Team
	})
	return out, nil
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func variance(v []float64) float64 {
	if len(v) < 2 {
		return 0
	}
	m, s := mean(v), 0.0
	for _, x := range v {
		s += (x - m) * (x - m)
	}
	return s / float64(len(v)-1)
}

// sample is a set of answers summed up: how many, their mean and the sum
// of their squared deviations from it.
type sample struct {
	n       int
	mean    float64
	squares float64
}

// pValue is the two-sided p-value of a one-sample t-test of the
// customers' answers against what managers believe (their mean): the
// managers' belief is the hypothesis to test, not a sample.
func pValue(managers float64, customers sample) float64 {
	if customers.n < 2 {
		return 1
	}
	se := math.Sqrt(customers.squares / float64(customers.n-1) / float64(customers.n))
	d := customers.mean - managers
	if se < 1e-9*math.Max(1, math.Abs(customers.mean)) { // every answer the same (up to rounding)
		if math.Abs(d) < 1e-9 {
			return 1
		}
		return 0
	}
	return 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(customers.n - 1)}.CDF(-math.Abs(d/se))
}

// labels are the questions' texts by id ("acsi.overall" for an ACSI item).
type labels map[string]string

// of is the question's text, else its id in words.
func (l labels) of(id string) string {
	if t := l[id]; t != "" {
		return t
	}
	if q, item, ok := strings.Cut(id, "."); ok && l[q] != "" {
		return l[q] + " (" + strings.ReplaceAll(item, "_", " ") + ")"
	}
	return strings.ReplaceAll(id, "_", " ")
}

// questionLabels are the questions' texts by question id (and
// "question.item"), as the survey capability gives them.
func (s *Service) questionLabels(ctx context.Context) (labels, error) {
	if s.surveyInfo.Labels == nil {
		return labels{}, nil
	}
	l, err := s.surveyInfo.Labels(ctx)
	return labels(l), err
}
