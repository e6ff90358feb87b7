package survey

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cxloop/cxloop/internal/fault"
)

// maxText bounds one open-text answer.
const maxText = 5000

// Answers checks raw answers against the survey and returns them in their
// stored form: integers for ratings, a map of item → integer for ACSI, a
// choice id, a list of choice ids, or a string. Unknown question ids and
// out-of-range values are refused, naming the question. When complete is
// true every question not marked optional must be answered.
func (s *Survey) Answers(raw map[string]any, complete bool) (map[string]any, error) {
	out := map[string]any{}
	for id, v := range raw {
		q, ok := s.Question(id)
		if !ok {
			return nil, fault.Field("answers."+id, "the survey has no question %q", id)
		}
		if v == nil {
			continue
		}
		a, err := q.answer(v)
		if err != nil {
			return nil, fault.Field("answers."+id, "%s", err.Error())
		}
		if a != nil {
			out[id] = a
		}
	}
	if complete {
		for _, q := range s.Questions {
			if _, ok := out[q.ID]; !ok && !q.Optional && q.Type != TypeText {
				return out, fault.Field("answers."+q.ID, "question %q needs an answer", q.ID)
			}
		}
	}
	if len(out) == 0 {
		return nil, fault.Field("answers", "no question was answered")
	}
	return out, nil
}

// answer converts one raw answer (JSON value or form string) to its stored form.
func (q Question) answer(v any) (any, error) {
	switch q.Type {
	case TypeNPS, TypeCSAT, TypeCES, TypeScale:
		return q.scaleAnswer(v)
	case TypeACSI:
		return q.acsiAnswer(v)
	case TypeSingle:
		c, ok := v.(string)
		if !ok || !q.hasChoice(c) {
			return nil, fmt.Errorf("choose one of %s", choiceIDs(q.Choices))
		}
		return c, nil
	case TypeMulti:
		return q.multiAnswer(v)
	case TypeText:
		return textAnswer(v)
	}
	return nil, fmt.Errorf("unknown question type %q", q.Type)
}

// scaleAnswer is a score on the question's scale (NPS 0–10, CSAT, CES or
// a scale of its own).
func (q Question) scaleAnswer(v any) (any, error) {
	lo, hi := q.scaleOf()
	n, err := integer(v)
	if err != nil {
		return nil, err
	}
	if n < lo || n > hi {
		return nil, fmt.Errorf("%s answers are from %d to %d", q.Type, lo, hi)
	}
	return n, nil
}

// acsiAnswer is the scores 1–10 of an ACSI question's items, given by item
// id (items left blank are unanswered) or as a list in the items' order.
// It is nil when no item was answered.
func (q Question) acsiAnswer(v any) (any, error) {
	items := map[string]int{}
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if !slices.ContainsFunc(q.Items, func(it Item) bool { return it.ID == k }) {
				return nil, fmt.Errorf("acsi items are %s", itemIDs(q.Items))
			}
			if x == nil || x == "" {
				continue
			}
			n, err := integer(x)
			if err != nil || n < 1 || n > 10 {
				return nil, fmt.Errorf("acsi item %q is answered from 1 to 10", k)
			}
			items[k] = n
		}
	case []any:
		if len(v) != len(q.Items) {
			return nil, fmt.Errorf("an acsi answer lists %d values (%s)", len(q.Items), itemIDs(q.Items))
		}
		for i, x := range v {
			n, err := integer(x)
			if err != nil || n < 1 || n > 10 {
				return nil, fmt.Errorf("acsi values are from 1 to 10")
			}
			items[q.Items[i].ID] = n
		}
	default:
		return nil, fmt.Errorf("an acsi answer is {%s} each 1–10", itemIDs(q.Items))
	}
	if len(items) == 0 {
		return nil, nil
	}
	return items, nil
}

// multiAnswer is the choices picked in a multiple-choice question, each
// once, in the order given. It is nil when none was picked.
func (q Question) multiAnswer(v any) (any, error) {
	var list []string
	switch v := v.(type) {
	case string:
		list = []string{v}
	case []string:
		list = v
	case []any:
		for _, x := range v {
			c, ok := x.(string)
			if !ok {
				return nil, fmt.Errorf("a multi answer is a list of choice ids")
			}
			list = append(list, c)
		}
	default:
		return nil, fmt.Errorf("a multi answer is a list of choice ids")
	}
	seen := map[string]bool{}
	out := []string{}
	for _, c := range list {
		if !q.hasChoice(c) {
			return nil, fmt.Errorf("%q is not one of %s", c, choiceIDs(q.Choices))
		}
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// textAnswer is an open-text answer, trimmed, at most maxText characters.
// It is nil when blank.
func textAnswer(v any) (any, error) {
	t, ok := v.(string)
	if !ok {
		return nil, fmt.Errorf("a text answer is a string")
	}
	t = strings.TrimSpace(t)
	if !utf8.ValidString(t) || strings.ContainsRune(t, 0) {
		return nil, fmt.Errorf("the text is not valid UTF-8")
	}
	if utf8.RuneCountInString(t) > maxText {
		return nil, fmt.Errorf("a text answer has at most %d characters", maxText)
	}
	if t == "" {
		return nil, nil
	}
	return t, nil
}

func (q Question) hasChoice(id string) bool {
	return slices.ContainsFunc(q.Choices, func(c Choice) bool { return c.ID == id })
}

func choiceIDs(cs []Choice) string {
	ids := make([]string, len(cs))
	for i, c := range cs {
		ids[i] = c.ID
	}
	return strings.Join(ids, ", ")
}

func itemIDs(items []Item) string {
	ids := make([]string, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	return strings.Join(ids, ", ")
}

// integer reads a whole number from JSON (float64), a form value or an int.
func integer(v any) (int, error) {
	switch v := v.(type) {
	case float64:
		if v != math.Trunc(v) || math.IsInf(v, 0) {
			return 0, fmt.Errorf("the answer is a whole number")
		}
		return int(v), nil
	case int:
		return v, nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("the answer is a whole number")
		}
		return n, nil
	}
	return 0, fmt.Errorf("the answer is a whole number")
}

// Metrics are the scores one response contributes: the first answered
// nps, csat and ces questions, and the ACSI index (0–100) when all three
// ACSI items are answered.
func (s *Survey) Metrics(answers map[string]any) map[string]float64 {
	out := map[string]float64{}
	for _, q := range s.Questions {
		a, ok := answers[q.ID]
		if !ok {
			continue
		}
		switch q.Type {
		case TypeNPS, TypeCSAT, TypeCES:
			if _, done := out[q.Type]; !done {
				if n, err := integer(number(a)); err == nil {
					out[q.Type] = float64(n)
				}
			}
		case TypeACSI:
			if _, done := out[TypeACSI]; done {
				continue
			}
			if idx, ok := acsiIndex(q, a); ok {
				out[TypeACSI] = idx
			}
		}
	}
	return out
}

// number turns a JSON-decoded number back into the form integer reads.
func number(a any) any {
	if n, ok := a.(int64); ok {
		return int(n)
	}
	return a
}

// acsiIndex rescales the three 1–10 items to 0–100 and takes their mean
// with equal weights (the ACSI model's estimated weights replace these
// once the analytics capability supplies them).
func acsiIndex(q Question, a any) (float64, bool) {
	var sum float64
	for _, it := range q.Items {
		var v any
		switch m := a.(type) {
		case map[string]int:
			x, ok := m[it.ID]
			if !ok {
				return 0, false
			}
			v = x
		case map[string]any:
			x, ok := m[it.ID]
			if !ok {
				return 0, false
			}
			v = x
		default:
			return 0, false
		}
		n, err := integer(v)
		if err != nil || n < 1 || n > 10 {
			return 0, false
		}
		sum += float64(n-1) / 9 * 100
	}
	return sum / float64(len(q.Items)), true
}
