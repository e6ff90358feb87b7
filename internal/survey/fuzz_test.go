package survey

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/vocab"
)

var fuzzSurvey = func() *Survey {
	lo, hi := -3, 3
	s := &Survey{Name: "Fuzz", Rhythm: Pulse, Owner: "qa", Questions: []Question{
		{ID: "n", Type: TypeNPS, Text: vocab.Text{"en": "?"}},
		{ID: "c", Type: TypeCSAT, Text: vocab.Text{"en": "?"}},
		{ID: "e", Type: TypeCES, Text: vocab.Text{"en": "?"}},
		{ID: "a", Type: TypeACSI, Text: vocab.Text{"en": "?"}},
		{ID: "s", Type: TypeScale, Text: vocab.Text{"en": "?"}, Min: &lo, Max: &hi},
		{ID: "one", Type: TypeSingle, Text: vocab.Text{"en": "?"}, Choices: []Choice{{ID: "x", Text: vocab.Text{"en": "x"}}, {ID: "y", Text: vocab.Text{"en": "y"}}}},
		{ID: "many", Type: TypeMulti, Text: vocab.Text{"en": "?"}, Choices: []Choice{{ID: "x", Text: vocab.Text{"en": "x"}}, {ID: "y", Text: vocab.Text{"en": "y"}}}},
		{ID: "t", Type: TypeText, Text: vocab.Text{"en": "?"}},
	}}
	s.Normalize()
	return s
}()

// FuzzAnswers: any JSON either is refused with a field-naming error or gives
// answers that validate again unchanged and score within each metric's range.
func FuzzAnswers(f *testing.F) {
	for _, seed := range []string{`{"n": 9}`, `{"a": {"satisfaction": 3, "expectations": 10, "ideal": 1}, "t": "ok"}`, `{"a": [1, 2, 3]}`,
		`{"many": ["x", "y", "x"], "one": "y", "s": -3}`, `{"n": 9.5}`, `{"c": "4"}`, `{"t": "\u0000"}`, `{"zz": 1}`, `{}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var in map[string]any
		if json.Unmarshal(raw, &in) != nil {
			return
		}
		out, err := fuzzSurvey.Answers(in, false)
		if err != nil {
			if !strings.HasPrefix(fault.FieldOf(err), "answers") {
				t.Fatalf("error %v names no answer field", err)
			}
			return
		}
		b, _ := json.Marshal(out)
		var again map[string]any
		_ = json.Unmarshal(b, &again)
		out2, err := fuzzSurvey.Answers(again, false)
		if err != nil {
			t.Fatalf("stored answers %s do not validate again: %v", b, err)
		}
		if b2, _ := json.Marshal(out2); string(b2) != string(b) {
			t.Fatalf("answers changed on a second reading: %s → %s", b, b2)
		}
		for m, v := range fuzzSurvey.Metrics(again) {
			lo, hi := map[string][2]float64{TypeNPS: {0, 10}, TypeCSAT: {1, 5}, TypeCES: {1, 7}, TypeACSI: {0, 100}}[m][0],
				map[string][2]float64{TypeNPS: {0, 10}, TypeCSAT: {1, 5}, TypeCES: {1, 7}, TypeACSI: {0, 100}}[m][1]
			if v < lo || v > hi {
				t.Fatalf("%s = %v outside [%v, %v]", m, v, lo, hi)
			}
		}
	})
}
