package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/survey"
)

// verbatimPage is how many verbatims the console shows a page.
const verbatimPage = 50

// verbatimParams are the query parameters of the verbatims page that a
// link keeps: the filter and the period.
var verbatimParams = []string{"q", "score", "sentiment", "keyword", "language", "period", "from", "to"}

// verbatimLinks builds links to a survey's verbatims page that keep the
// current filter, changing only what they name.
type verbatimLinks struct {
	survey string
	base   url.Values
}

func newVerbatimLinks(survey string, q url.Values) verbatimLinks {
	l := verbatimLinks{survey: survey, base: url.Values{}}
	for _, k := range verbatimParams {
		if v := q.Get(k); v != "" {
			l.base.Set(k, v)
		}
	}
	return l
}

// with is the page's address with the pairs key, value set (an empty
// value removes the key); any change of filter goes back to page 1.
func (l verbatimLinks) with(kv ...string) string {
	v := url.Values{}
	for k, vs := range l.base {
		v[k] = vs
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" {
			v.Del(kv[i])
		} else {
			v.Set(kv[i], kv[i+1])
		}
	}
	out := "/surveys/" + url.PathEscape(l.survey) + "/verbatims"
	if len(v) > 0 {
		out += "?" + v.Encode()
	}
	return out
}

type chip struct{ Word, URL string }

// verbatimItem is a verbatim as the console shows it.
type verbatimItem struct {
	survey.VerbatimRow
	Survey    string
	ScoreText string
	Band      string // promoter, passive or detractor for an NPS score
	Who       string // the customer's name, else their id
	Chips     []chip
}

func verbatimItems(id, metric string, rows []survey.VerbatimRow, links verbatimLinks) []verbatimItem {
	out := make([]verbatimItem, len(rows))
	for i, v := range rows {
		it := verbatimItem{VerbatimRow: v, Survey: id, Band: v.Band(metric), Who: v.CustomerName}
		if v.Score != nil {
			it.ScoreText = strconv.FormatFloat(*v.Score, 'f', -1, 64)
		}
		if it.Who == "" {
			it.Who = v.Customer
		}
		for _, k := range v.Keywords {
			it.Chips = append(it.Chips, chip{Word: k, URL: links.with("keyword", k)})
		}
		out[i] = it
	}
	return out
}

// verbatims is a survey's verbatims page: its open-text answers filtered
// by search, score, sentiment, keyword, language and period, 50 a page.
func (c *Console) verbatims(w http.ResponseWriter, r *http.Request, s auth.Session) {
	ctx := r.Context()
	sv, err := c.Surveys.Get(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	v := r.URL.Query()
	per := readPeriod(v, c.Profiles.Now(), "all", false)
	// Verbatims are read, not compared: the picker offers no comparison.
	per = per.withoutComparison()
	q := survey.VerbatimQuery{Survey: sv.ID, From: per.From, To: per.To, Limit: verbatimPage}
	if err := survey.ParseVerbatimFilter(v, &q); err != nil {
		c.failField(w, r, err)
		return
	}
	page := 1
	if p := v.Get("page"); p != "" {
		if page, err = strconv.Atoi(p); err != nil || page < 1 {
			c.failField(w, r, fault.Field("page", "page is a whole number from 1"))
			return
		}
	}
	q.Offset = (page - 1) * verbatimPage
	found, err := c.Surveys.FindVerbatims(ctx, q)
	if err != nil {
		c.failField(w, r, err)
		return
	}
	languages, err := c.Surveys.VerbatimLanguages(ctx, sv.ID)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	links := newVerbatimLinks(sv.ID, v)
	data := map[string]any{
		"Survey": sv, "Metric": found.Metric, "Period": per, "Query": q, "Score": v.Get("score"), "Languages": languages,
		"Items": verbatimItems(sv.ID, found.Metric, found.Verbatims, links), "Total": found.Total,
		"First": q.Offset + 1, "Last": q.Offset + len(found.Verbatims), "Clear": links.with("q", "", "score", "", "sentiment", "", "keyword", "", "language", ""),
		"Filtered": q.Search != "" || v.Get("score") != "" || q.Sentiment != "" || q.Keyword != "" || q.Language != "",
		"Export":   "/export/surveys/" + url.PathEscape(sv.ID) + "/verbatims?" + exportQuery(q),
	}
	if page > 1 {
		data["Prev"] = links.with("page", pageParam(page-1))
	}
	if q.Offset+len(found.Verbatims) < found.Total {
		data["Next"] = links.with("page", strconv.Itoa(page+1))
	}
	c.render(w, r, http.StatusOK, "verbatims", view{Title: "Verbatims · " + sv.Name, Session: &s, Nav: "surveys", Data: data})
}

// pageParam is the page parameter of page n: none for the first.
func pageParam(n int) string {
	if n <= 1 {
		return ""
	}
	return strconv.Itoa(n)
}

// exportQuery is the API's form of the filter, for the CSV download.
func exportQuery(q survey.VerbatimQuery) string {
	v := url.Values{}
	for k, s := range map[string]string{"q": q.Search, "sentiment": q.Sentiment, "keyword": q.Keyword, "language": q.Language, "score": q.Band} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.MinScore != nil {
		v.Set("score", strconv.FormatFloat(*q.MinScore, 'f', -1, 64)+"-"+strconv.FormatFloat(*q.MaxScore, 'f', -1, 64))
	}
	if !q.From.IsZero() {
		v.Set("from", q.From.Format("2006-01-02T15:04:05.000Z07:00"))
		v.Set("to", q.To.Format("2006-01-02T15:04:05.000Z07:00"))
	}
	return v.Encode()
}

type answerRow struct {
	Question, Type, Answer, Band string
	Text                         bool
}

// surveyResponse is one response's page: every answer it gave, with who
// gave it, what the analyser read in its comments.
func (c *Console) surveyResponse(w http.ResponseWriter, r *http.Request, s auth.Session) {
	ctx := r.Context()
	sv, err := c.Surveys.Get(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	resp, err := c.Surveys.StoredResponseOf(ctx, sv.ID, r.PathValue("response"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	name := resp.Customer
	if resp.Customer != "" {
		names, err := c.Profiles.Names(ctx, []string{resp.Customer})
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if n := names[resp.Customer]; n != "" {
			name = n
		}
	}
	lang := sv.DefaultLanguage
	var rows []answerRow
	for _, q := range sv.Questions {
		a, ok := resp.Answers[q.ID]
		if !ok {
			continue
		}
		row := answerRow{Question: q.Text.In(lang, lang), Type: q.Type, Text: q.Type == survey.TypeText}
		label := func(id string) string {
			for _, ch := range q.Choices {
				if ch.ID == id {
					return ch.Text.In(lang, lang)
				}
			}
			return id
		}
		switch a := a.(type) {
		case float64:
			row.Answer = strconv.FormatFloat(a, 'f', -1, 64)
			if q.Type == survey.TypeNPS {
				row.Band = survey.NPSBand(a)
			}
		case string:
			row.Answer = label(a)
		case []any:
			var parts []string
			for _, x := range a {
				if id, ok := x.(string); ok {
					parts = append(parts, label(id))
				}
			}
			row.Answer = strings.Join(parts, ", ")
		default:
			continue
		}
		rows = append(rows, row)
	}
	c.render(w, r, http.StatusOK, "response", view{Title: "Response · " + sv.Name, Session: &s, Nav: "surveys", Data: map[string]any{
		"Survey": sv, "Response": resp, "Name": name, "Answers": rows,
	}})
}
