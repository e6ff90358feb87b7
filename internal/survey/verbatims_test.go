package survey_test

import (
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// verbatimFixture is one answer the verbatim tests send.
type verbatimFixture struct {
	customer, lang, text string
	score                int
	daysAgo              int
}

// verbatimFixtures: English, French and Persian comments, each on its own
// day, with scores across the NPS bands.
var verbatimFixtures = []verbatimFixture{
	{"alice", "en", "The DELIVERY was late and the box was damaged. Very disappointed.", 2, 1},
	{"bruno", "fr", "Livraison très rapide, MERCI beaucoup", 10, 2},
	{"sara", "fa", "ارسال خیلی دیر بود", 3, 3},
	{"alice", "en", "Great service, really friendly staff and fast delivery!", 9, 4},
	{"bruno", "fr", "Un ÉTÉ parfait avec vous", 8, 5},
	{"sara", "fa", "کیفیت عالی بود، ممنون", 10, 6},
	{"alice", "en", "Prices went up 100% since last year", 5, 7},
	{"bruno", "en", "I earned 1000 points and spent none", 7, 8},
	{"sara", "en", "My code a_b was refused", 6, 9},
	{"alice", "en", "My code axb worked fine", 9, 10},
	{"bruno", "fr", "Le livreur était en retard", 4, 40},
	{"sara", "en", "The courier was not helpful at all.", 0, 50},
}

var verbatimNames = map[string]string{"alice": "Alice Martin", "bruno": "Bruno Dupont", "sara": "Sara Ahmadi"}

type verbatimsAnswer struct {
	Metric    string `json:"metric"`
	Total     int    `json:"total"`
	Verbatims []struct {
		Response     string   `json:"response"`
		Customer     string   `json:"customer"`
		CustomerName string   `json:"customerName"`
		Score        *float64 `json:"score"`
		Question     string   `json:"question"`
		Body         string   `json:"body"`
		Language     string   `json:"language"`
		Sentiment    string   `json:"sentiment"`
		Keywords     []string `json:"keywords"`
		RespondedAt  string   `json:"respondedAt"`
	} `json:"verbatims"`
}

func (a verbatimsAnswer) bodies() []string {
	out := []string{}
	for _, v := range a.Verbatims {
		out = append(out, v.Body)
	}
	return out
}

// sendVerbatims names the customers and records the fixtures' answers
// through the API, returning the survey's id.
func sendVerbatims(t *testing.T, s *apptest.Server) string {
	t.Helper()
	for u, name := range verbatimNames {
		s.MustSend("identify", map[string]any{"userId": u, "traits": map[string]any{"name": name, "email": u + "@example.com"}})
	}
	s.Sync()
	id := createSurvey(t, s, `{"name": "Relationship NPS", "rhythm": "pulse", "owner": "service",
		"questions": [{"id": "nps", "type": "nps", "text": {"en": "How likely?"}}, {"id": "why", "type": "text", "text": {"en": "Why?"}}]}`)
	for _, f := range verbatimFixtures {
		at := apptest.Epoch.Add(-time.Duration(f.daysAgo) * 24 * time.Hour)
		body := map[string]any{"customer": f.customer, "language": f.lang, "at": at, "answers": map[string]any{"nps": f.score, "why": f.text}}
		if code := s.API("POST", "/api/v1/surveys/"+id+"/responses", body, nil); code != http.StatusCreated {
			t.Fatalf("response %q: %d", f.text, code)
		}
	}
	s.Sync()
	return id
}

// expect lists the fixtures' texts that keep says match, newest first.
func expect(keep func(verbatimFixture) bool) []string {
	list := slices.Clone(verbatimFixtures)
	sort.SliceStable(list, func(i, j int) bool { return list[i].daysAgo < list[j].daysAgo })
	out := []string{}
	for _, f := range list {
		if keep(f) {
			out = append(out, f.text)
		}
	}
	return out
}

// The verbatims endpoint filters by search, score band or range, sentiment,
// keyword, language and period, pages, counts, and names each customer.
func TestFindVerbatims(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		id := sendVerbatims(t, s)
		get := func(query string) verbatimsAnswer {
			t.Helper()
			var out verbatimsAnswer
			if code := s.API("GET", "/api/v1/surveys/"+id+"/verbatims?"+query, nil, &out); code != http.StatusOK {
				t.Fatalf("verbatims?%s: %d", query, code)
			}
			return out
		}
		day := func(n int) string { return apptest.Epoch.AddDate(0, 0, -n).Format(time.DateOnly) }

		// What the analyser read, from the responses list (another path).
		var listed struct {
			Responses []struct {
				Texts []struct {
					Body, Sentiment string
					Keywords        []string
				}
			}
		}
		s.API("GET", "/api/v1/surveys/"+id+"/responses?limit=100", nil, &listed)
		sentimentOf, keywordsOf := map[string]string{}, map[string][]string{}
		for _, r := range listed.Responses {
			for _, tx := range r.Texts {
				sentimentOf[tx.Body], keywordsOf[tx.Body] = tx.Sentiment, tx.Keywords
			}
		}
		if len(sentimentOf) != len(verbatimFixtures) {
			t.Fatalf("responses list has %d texts, want %d", len(sentimentOf), len(verbatimFixtures))
		}
		withDelivery := expect(func(f verbatimFixture) bool { return slices.Contains(keywordsOf[f.text], "delivery") })
		if len(withDelivery) < 2 {
			t.Fatalf("the fixtures should give keyword delivery twice: %v", keywordsOf)
		}
		negative := expect(func(f verbatimFixture) bool { return sentimentOf[f.text] == "negative" })
		if len(negative) == 0 {
			t.Fatalf("no negative fixture: %v", sentimentOf)
		}

		for _, c := range []struct {
			name, query string
			want        []string
		}{
			{"all", "", expect(func(verbatimFixture) bool { return true })},
			{"search folds ASCII case", "q=delivery", []string{verbatimFixtures[0].text, verbatimFixtures[3].text}},
			{"search upper case", "q=" + url.QueryEscape("MeRcI"), []string{verbatimFixtures[1].text}},
			{"search folds accented case", "q=" + url.QueryEscape("été"), []string{verbatimFixtures[4].text}},
			{"search Persian", "q=" + url.QueryEscape("دیر"), []string{verbatimFixtures[2].text}},
			{"percent is literal", "q=" + url.QueryEscape("100%"), []string{verbatimFixtures[6].text}},
			{"underscore is literal", "q=" + url.QueryEscape("a_b"), []string{verbatimFixtures[8].text}},
			{"search nothing", "q=" + url.QueryEscape("zeppelin"), []string{}},
			{"detractors", "score=detractor", expect(func(f verbatimFixture) bool { return f.score <= 6 })},
			{"passives", "score=passive", expect(func(f verbatimFixture) bool { return f.score == 7 || f.score == 8 })},
			{"promoters", "score=promoter", expect(func(f verbatimFixture) bool { return f.score >= 9 })},
			{"score range", "score=3-5", expect(func(f verbatimFixture) bool { return f.score >= 3 && f.score <= 5 })},
			{"one score", "score=10", expect(func(f verbatimFixture) bool { return f.score == 10 })},
			{"sentiment", "sentiment=negative", negative},
			{"keyword", "keyword=delivery", withDelivery},
			{"language fr", "language=fr", expect(func(f verbatimFixture) bool { return f.lang == "fr" })},
			{"language fa", "language=fa", expect(func(f verbatimFixture) bool { return f.lang == "fa" })},
			{"period", "from=" + day(9) + "&to=" + day(2), expect(func(f verbatimFixture) bool { return f.daysAgo > 2 && f.daysAgo <= 9 })},
			{"from only", "from=" + day(30), expect(func(f verbatimFixture) bool { return f.daysAgo <= 30 })},
			{"filters combine", "language=fr&score=promoter", expect(func(f verbatimFixture) bool { return f.lang == "fr" && f.score >= 9 })},
		} {
			t.Run(c.name, func(t *testing.T) {
				got := get(c.query)
				if got.Total != len(c.want) || !slices.Equal(got.bodies(), c.want) {
					t.Fatalf("total %d %q\nwant %d %q", got.Total, got.bodies(), len(c.want), c.want)
				}
			})
		}

		t.Run("paging", func(t *testing.T) {
			all := expect(func(verbatimFixture) bool { return true })
			p2 := get("limit=4&offset=4")
			if p2.Total != len(all) || !slices.Equal(p2.bodies(), all[4:8]) {
				t.Fatalf("page 2: %d %q, want %q", p2.Total, p2.bodies(), all[4:8])
			}
			last := get("limit=5&offset=10")
			if !slices.Equal(last.bodies(), all[10:]) {
				t.Fatalf("last page: %q, want %q", last.bodies(), all[10:])
			}
			past := get("limit=5&offset=50")
			if past.Total != len(all) || len(past.Verbatims) != 0 {
				t.Fatalf("past the end: %+v", past)
			}
		})

		t.Run("customer, name and score", func(t *testing.T) {
			got := get("limit=100")
			if got.Metric != "nps" || len(got.Verbatims) != len(verbatimFixtures) {
				t.Fatalf("%+v", got)
			}
			byText := map[string]verbatimFixture{}
			for _, f := range verbatimFixtures {
				byText[f.text] = f
			}
			for _, v := range got.Verbatims {
				f := byText[v.Body]
				if v.CustomerName != verbatimNames[f.customer] || !strings.HasPrefix(v.Customer, "cus_") {
					t.Fatalf("%q: customer %q named %q, want %q", v.Body, v.Customer, v.CustomerName, verbatimNames[f.customer])
				}
				if v.Score == nil || *v.Score != float64(f.score) || v.Question != "why" || !strings.HasPrefix(v.Response, "rsp") {
					t.Fatalf("%q: %+v, want score %d", v.Body, v, f.score)
				}
				var cust struct {
					ID     string         `json:"id"`
					Traits map[string]any `json:"traits"`
				}
				if code := s.API("GET", "/api/v1/customers/"+v.Customer, nil, &cust); code != 200 || cust.Traits["name"] != verbatimNames[f.customer] {
					t.Fatalf("customer %s: %d %+v", v.Customer, code, cust)
				}
			}
		})

		t.Run("csv", func(t *testing.T) {
			code, body := s.Do("GET", "/api/v1/surveys/"+id+"/verbatims?format=csv&language=fa", nil, "Authorization: Bearer "+apptest.Token)
			lines := strings.Split(strings.TrimSpace(string(body)), "\n")
			if code != 200 || len(lines) != 3 || !strings.Contains(lines[0], "customerName") || !strings.Contains(string(body), "Sara Ahmadi") {
				t.Fatalf("csv: %d\n%s", code, body)
			}
		})

		t.Run("bad parameters", func(t *testing.T) {
			for query, field := range map[string]string{
				"score=great": "score", "score=9-3": "score", "sentiment=angry": "sentiment", "from=yesterday": "from",
				"to=2026-13-45": "to", "limit=0": "limit", "limit=x": "limit", "offset=-1": "offset", "format=xml": "format",
			} {
				var e struct {
					Error struct{ Code, Field string }
				}
				if code := s.API("GET", "/api/v1/surveys/"+id+"/verbatims?"+query, nil, &e); code != 400 || e.Error.Field != field {
					t.Errorf("%s: %d %+v, want 400 naming %s", query, code, e, field)
				}
			}
			var e struct{ Error struct{ Code string } }
			if code := s.API("GET", "/api/v1/surveys/srv_nope/verbatims", nil, &e); code != 404 {
				t.Errorf("unknown survey: %d %+v", code, e)
			}
			csat := createSurvey(t, s, `{"name": "CSAT", "rhythm": "pulse", "owner": "service",
				"questions": [{"id": "q", "type": "csat", "text": {"en": "?"}}, {"id": "t", "type": "text", "text": {"en": "?"}}]}`)
			var band struct{ Error struct{ Field string } }
			if code := s.API("GET", "/api/v1/surveys/"+csat+"/verbatims?score=promoter", nil, &band); code != 400 || band.Error.Field != "score" {
				t.Errorf("band on a CSAT survey: %d %+v", code, band)
			}
		})
	})
}
