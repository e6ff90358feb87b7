package web_test

import (
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// consoleVerbatim is one answer the console test sends.
type consoleVerbatim struct {
	customer, lang, text string
	score                int
	at                   time.Time
}

var (
	itemRe     = regexp.MustCompile(`(?s)<li class="verbatim [^"]*" data-response="([^"]+)">(.*?)</li>`)
	customerRe = regexp.MustCompile(`<a class="customer" href="(/customers/[^"]+)">([^<]*)</a>`)
	scoreRe    = regexp.MustCompile(`<span class="score ([a-z]+)"[^>]*>(\d+)</span>`)
	quoteRe    = regexp.MustCompile(`(?s)<q dir="auto"[^>]*>(.*?)</q>`)
	chipRe     = regexp.MustCompile(`<span class="keywords">.*?<a href="([^"]+)">([^<]+)</a>`)
	countRe    = regexp.MustCompile(`<span id="verbatim-count">([^<]*)</span>`)
	hrefRe     = func(id string) *regexp.Regexp { return regexp.MustCompile(`href="([^"]+)" id="` + id + `"`) }
)

// The verbatims page filters, pages 50 at a time, colours scores by NPS
// band, keeps the date out of the comment, and links each verbatim to its
// customer, its response and its keywords.
func TestVerbatimsPage(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		names := map[string]string{"ana": "Ana Lima", "omid": "Omid Karimi", "luc": "Luc Bernard"}
		for u, n := range names {
			s.MustSend("identify", map[string]any{"userId": u, "traits": map[string]any{"name": n}})
		}
		s.Sync()
		var sv struct{ ID string }
		if code := s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "Store NPS", "rhythm": "pulse", "owner": "retail",
			"questions": [{"id": "nps", "type": "nps", "text": {"en": "Recommend us?"}}, {"id": "why", "type": "text", "text": {"en": "Why?"}}]}`), &sv); code != 201 {
			t.Fatalf("survey: %d", code)
		}
		var sent []consoleVerbatim
		for i := range 55 {
			v := consoleVerbatim{customer: "ana", lang: "en", text: fmt.Sprintf("Parcel %d was late and the delivery was slow", i), score: i % 11,
				at: apptest.Epoch.Add(-time.Duration(i) * time.Hour)}
			switch i % 5 {
			case 1:
				v.customer, v.lang, v.text = "omid", "fa", fmt.Sprintf("سفارش %d خیلی دیر رسید", i)
			case 2:
				v.customer, v.lang, v.text = "luc", "fr", fmt.Sprintf("Colis %d arrivé à l'heure, MERCI", i)
			}
			sent = append(sent, v)
			body := map[string]any{"customer": v.customer, "language": v.lang, "at": v.at, "answers": map[string]any{"nps": v.score, "why": v.text}}
			if code := s.API("POST", "/api/v1/surveys/"+sv.ID+"/responses", body, nil); code != 201 {
				t.Fatalf("response %d: %d", i, code)
			}
		}
		s.Sync()
		c, code, _ := signIn(t, s.URL, url.Values{"token": {apptest.Token}})
		if code != 200 {
			t.Fatalf("sign-in: %d", code)
		}
		open := func(path string, want int) string {
			t.Helper()
			resp, err := c.Get(s.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != want {
				t.Fatalf("GET %s: %d, want %d\n%s", path, resp.StatusCode, want, b)
			}
			return string(b)
		}
		quotes := func(page string) []string {
			var out []string
			for _, m := range itemRe.FindAllStringSubmatch(page, -1) {
				q := quoteRe.FindStringSubmatch(m[2])
				if q == nil {
					t.Fatalf("verbatim without a quote: %s", m[2])
				}
				out = append(out, html.UnescapeString(q[1]))
			}
			return out
		}
		count := func(page string) string {
			m := countRe.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("no count:\n%s", page)
			}
			return html.UnescapeString(m[1])
		}
		base := "/surveys/" + sv.ID + "/verbatims"

		// Page 1: the newest 50, a next link and no previous one.
		first := open(base, 200)
		if got := quotes(first); len(got) != 50 || got[0] != sent[0].text || got[49] != sent[49].text {
			t.Fatalf("page 1: %d verbatims, first %q", len(got), got)
		}
		if n := count(first); n != "1–50 of 55" {
			t.Fatalf("page 1 count %q", n)
		}
		if strings.Contains(first, `id="prev-page"`) {
			t.Fatal("page 1 has a previous link")
		}
		next := hrefRe("next-page").FindStringSubmatch(first)
		if next == nil {
			t.Fatal("page 1 has no next link")
		}
		second := open(html.UnescapeString(next[1]), 200)
		if got := quotes(second); len(got) != 5 || got[0] != sent[50].text || got[4] != sent[54].text {
			t.Fatalf("page 2: %q", got)
		}
		if n := count(second); n != "51–55 of 55" || strings.Contains(second, `id="next-page"`) || !strings.Contains(second, `id="prev-page"`) {
			t.Fatalf("page 2: count %q, links wrong", n)
		}

		// Each verbatim: the score coloured by band, the customer by name,
		// the comment isolated (dir=auto) with the date after it.
		for _, m := range itemRe.FindAllStringSubmatch(first, -1) {
			var v consoleVerbatim
			q := html.UnescapeString(quoteRe.FindStringSubmatch(m[2])[1])
			for _, x := range sent {
				if x.text == q {
					v = x
				}
			}
			band := map[bool]string{true: "detractor", false: "passive"}[v.score <= 6]
			if v.score >= 9 {
				band = "promoter"
			}
			sc := scoreRe.FindStringSubmatch(m[2])
			if sc == nil || sc[1] != band || sc[2] != fmt.Sprint(v.score) {
				t.Fatalf("%q: score %v, want %d %s", q, sc, v.score, band)
			}
			cm := customerRe.FindStringSubmatch(m[2])
			if cm == nil || cm[2] != names[v.customer] {
				t.Fatalf("%q: customer %v, want %s", q, cm, names[v.customer])
			}
			date := v.at.UTC().Format("2006-01-02 15:04")
			if strings.Contains(q, date) || strings.Index(m[2], "<time") < strings.Index(m[2], "</q>") || !strings.Contains(m[2], ">"+date+"</time>") {
				t.Fatalf("%q: the date %s belongs after the comment:\n%s", q, date, m[2])
			}
		}
		if !strings.Contains(first, `<q dir="auto" lang="fa">`+sent[1].text+`</q>`) {
			t.Fatalf("Persian comment not isolated:\n%s", first)
		}

		// Following the customer link opens that customer.
		cm := customerRe.FindStringSubmatch(first)
		if page := open(cm[1], 200); !strings.Contains(page, cm[2]) {
			t.Fatalf("customer page lacks %s", cm[2])
		}
		// Following the response link shows every answer of it.
		resp := regexp.MustCompile(`<a class="answer" href="([^"]+)">`).FindStringSubmatch(first)
		if page := open(resp[1], 200); !strings.Contains(page, html.EscapeString(sent[0].text)) || !strings.Contains(page, "Recommend us?") ||
			!strings.Contains(page, `<span class="score detractor">0</span>`) {
			t.Fatalf("response page:\n%s", page)
		}

		// Filters, each against what was sent.
		want := func(keep func(consoleVerbatim) bool) int {
			n := 0
			for _, v := range sent {
				if keep(v) {
					n++
				}
			}
			return n
		}
		for _, f := range []struct {
			query string
			n     int
		}{
			{"score=promoter", want(func(v consoleVerbatim) bool { return v.score >= 9 })},
			{"score=passive&language=fr", want(func(v consoleVerbatim) bool { return v.score >= 7 && v.score <= 8 && v.lang == "fr" })},
			{"q=merci", want(func(v consoleVerbatim) bool { return v.lang == "fr" })},
			{"q=PARCEL+1", want(func(v consoleVerbatim) bool { return strings.HasPrefix(v.text, "Parcel 1") })},
			{"language=fa", want(func(v consoleVerbatim) bool { return v.lang == "fa" })},
			{"period=custom&from=" + apptest.Epoch.Format(time.DateOnly) + "&to=" + apptest.Epoch.Format(time.DateOnly), want(func(v consoleVerbatim) bool {
				return v.at.Format(time.DateOnly) == apptest.Epoch.Format(time.DateOnly)
			})},
		} {
			page := open(base+"?"+f.query, 200)
			got := len(quotes(page))
			if got != min(f.n, 50) || (f.n > 0 && count(page) != fmt.Sprintf("1–%d of %d", min(f.n, 50), f.n)) {
				t.Errorf("%s: %d shown, count %q; want %d", f.query, got, count(page), f.n)
			}
		}

		// Download CSV exports what the filter selects.
		faPage := open(base+"?language=fa", 200)
		dl := regexp.MustCompile(`id="download-verbatims" href="([^"]+)"`).FindStringSubmatch(faPage)
		if dl == nil {
			t.Fatalf("no download link:\n%s", faPage)
		}
		csv := strings.Split(strings.TrimSpace(open(html.UnescapeString(dl[1]), 200)), "\n")
		if nfa := want(func(v consoleVerbatim) bool { return v.lang == "fa" }); len(csv) != nfa+1 || !strings.Contains(csv[1], names["omid"]) {
			t.Fatalf("csv: %d lines, want %d:\n%s", len(csv), nfa+1, strings.Join(csv, "\n"))
		}

		// A keyword chip filters by its keyword, keeping the other filters.
		frPage := open(base+"?language=en", 200)
		chip := chipRe.FindStringSubmatch(frPage)
		if chip == nil {
			t.Fatalf("no keyword chip:\n%s", frPage)
		}
		link := html.UnescapeString(chip[1])
		if u, _ := url.Parse(link); u.Query().Get("keyword") != chip[2] || u.Query().Get("language") != "en" {
			t.Fatalf("chip link %s", link)
		}
		byKeyword := open(link, 200)
		for _, q := range quotes(byKeyword) {
			if !strings.Contains(strings.ToLower(q), chip[2]) {
				t.Fatalf("keyword %s: %q", chip[2], q)
			}
		}
		if len(quotes(byKeyword)) == 0 {
			t.Fatalf("keyword %s matches nothing", chip[2])
		}

		// Nothing matches: a sentence says so.
		if page := open(base+"?q=zeppelin", 200); !strings.Contains(page, "No verbatim matches these filters") || len(quotes(page)) != 0 {
			t.Fatalf("empty state:\n%s", page)
		}
		// A bad filter is refused; an unknown survey or response is the styled 404.
		if page := open(base+"?score=lots", 400); !strings.Contains(page, "score") {
			t.Fatalf("bad score:\n%s", page)
		}
		open(base+"?page=0", 400)
		if page := open(base+"?page=9", 200); count(page) != "0 of 55" || len(quotes(page)) != 0 {
			t.Fatalf("past the last page: %q", count(page))
		}
		if page := open("/surveys/srv_nope/verbatims", 404); !strings.Contains(page, `href="/static/app.css"`) {
			t.Fatalf("unknown survey:\n%s", page)
		}
		open("/surveys/"+sv.ID+"/responses/rsp_nope", 404)

		// The survey's page shows the latest few and links to them all.
		results := open("/surveys/"+sv.ID, 200)
		all := hrefRe("all-verbatims").FindStringSubmatch(results)
		if all == nil || !strings.Contains(results, "All 55 verbatims of the period →") || len(quotes(results)) != 5 {
			t.Fatalf("survey page: %v %d\n%s", all, len(quotes(results)), results)
		}
		if n := count(open(html.UnescapeString(all[1]), 200)); n != "1–50 of 55" {
			t.Fatalf("all verbatims: %q", n)
		}
		// A period without answers: no verbatims, no sentiment counts, no invitations.
		empty := open("/surveys/"+sv.ID+"?period=custom&from=2000-01-01&to=2000-01-31", 200)
		if len(quotes(empty)) != 0 || !strings.Contains(empty, "No open-text answers in this period.") || strings.Contains(empty, "sentiment=") ||
			!strings.Contains(empty, `<dt>Answered</dt><dd>0</dd>`) {
			t.Fatalf("the survey page of January 2000:\n%s", empty)
		}
		// Each sentiment's count on the survey's page links to as many verbatims.
		links := regexp.MustCompile(`<a href="([^"]+sentiment=([a-z]+)[^"]*)">[a-z]+ \((\d+)\)</a>`).FindAllStringSubmatch(results, -1)
		if len(links) == 0 {
			t.Fatalf("no sentiment links:\n%s", results)
		}
		total := 0
		for _, l := range links {
			page := open(html.UnescapeString(l[1]), 200)
			if n := count(page); !strings.HasSuffix(n, " of "+l[3]) {
				t.Errorf("sentiment %s: %q, the survey page says %s", l[2], n, l[3])
			}
			var n int
			fmt.Sscan(l[3], &n)
			total += n
		}
		if total != len(sent) {
			t.Errorf("sentiments count %d verbatims, want %d", total, len(sent))
		}
	})
}
