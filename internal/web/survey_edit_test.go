package web

import (
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/survey"
	"github.com/cxloop/cxloop/internal/vocab"
)

// A choice keeps its id whatever is done to the lines around it, so that
// past answers keep meaning what they chose.
func TestEditorChoiceIDs(t *testing.T) {
	stored := []survey.Choice{{ID: "c1", Text: vocab.Text{"en": "Price"}}, {ID: "c2", Text: vocab.Text{"en": "Service"}}, {ID: "c3", Text: vocab.Text{"en": "Range"}}}
	f := &editorForm{Langs: []string{"en", "de"}}
	for _, tc := range []struct {
		name, en, de, ids string
		was               []survey.Choice
		want              string // id=en text, …
	}{
		{"new survey", "Price\nService", "", "", nil, "c1=Price c2=Service"},
		{"moved lines keep their ids", "Range\nPrice\nService", "", "c1,c2,c3", stored, "c3=Range c1=Price c2=Service"},
		{"a corrected text keeps its line's id", "Price\nFriendly service\nRange", "", "c1,c2,c3", stored, "c1=Price c2=Friendly service c3=Range"},
		{"a dropped choice's id is not reused", "Price\nRange\nDelivery", "", "c1,c3", stored, "c1=Price c3=Range c4=Delivery"},
		{"an emptied line drops its choice", "Price\n\nRange", "Preis\n\nAuswahl", "c1,c2,c3", stored, "c1=Price c3=Range"},
		{"translations line up", "Price\nService", "Preis\nService", "c1,c2", stored, "c1=Price c2=Service"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := editorQuestion{Choices: map[string]string{"en": tc.en, "de": tc.de}, ChoiceIDs: tc.ids}
			got, ids, err := f.choices(q, tc.was, "questions[0]")
			if err != nil {
				t.Fatal(err)
			}
			var parts []string
			for _, c := range got {
				parts = append(parts, c.ID+"="+c.Text["en"])
			}
			if strings.Join(parts, " ") != tc.want {
				t.Errorf("choices %q, want %q", strings.Join(parts, " "), tc.want)
			}
			if n := len(strings.Split(ids, ",")); n != len(got) {
				t.Errorf("ids %q for %d choices", ids, len(got))
			}
		})
	}
	if _, _, err := f.choices(editorQuestion{Choices: map[string]string{"en": "Price", "de": "Preis\nService"}}, nil, "questions[0]"); err == nil || !strings.Contains(err.Error(), "default language") {
		t.Errorf("a translation without its default text: %v", err)
	}
}

// The op buttons change the form and nothing else.
func TestEditorOps(t *testing.T) {
	form := func() *editorForm {
		return &editorForm{Langs: []string{"en"}, Errors: map[string]string{}, Values: map[string]string{},
			Questions: []editorQuestion{{N: 1, ID: "q1", Type: "nps"}, {N: 2, ID: "q2", Type: "text", Fixed: true}, {N: 3, ID: "q3", Type: "csat"}}}
	}
	ids := func(f *editorForm) string {
		var out []string
		for i, q := range f.Questions {
			if q.N != i+1 {
				t.Errorf("question %s at %d numbered %d", q.ID, i+1, q.N)
			}
			out = append(out, q.ID+":"+q.Type)
		}
		return strings.Join(out, " ")
	}
	values := map[string]string{"add_type": "single", "add_lang": "fa"}
	get := func(k string) string { return values[k] }
	for _, tc := range []struct {
		op, want string
		ok       bool
	}{
		{"up:3", "q1:nps q3:csat q2:text", true},
		{"down:1", "q2:text q1:nps q3:csat", true},
		{"up:1", "q1:nps q2:text q3:csat", false},
		{"down:3", "q1:nps q2:text q3:csat", false},
		{"remove:1", "q2:text q3:csat", true},
		{"remove:2", "q1:nps q2:text q3:csat", false}, // answered: stays
		{"add", "q1:nps q2:text q3:csat :single", true},
		{"nonsense", "q1:nps q2:text q3:csat", false},
	} {
		f := form()
		if ok := f.apply(tc.op, get); ok != tc.ok || ids(f) != tc.want {
			t.Errorf("%s: %v %q, want %v %q", tc.op, ok, ids(f), tc.ok, tc.want)
		}
	}
	f := form()
	f.apply("add-lang", get)
	f.apply("add-lang", func(string) string { return "Deutsch" })
	if strings.Join(f.Langs, ",") != "en,fa" || f.Errors["add_lang"] == "" {
		t.Errorf("languages %v, error %q", f.Langs, f.Errors["add_lang"])
	}
	f.apply("drop-lang:en", get) // the default stays
	f.apply("drop-lang:fa", get)
	if strings.Join(f.Langs, ",") != "en" {
		t.Errorf("after dropping, languages %v", f.Langs)
	}
}
