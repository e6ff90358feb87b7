package web_test

import (
	"html"
	"io"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A "Download CSV" link carries the page's filter as a query, not as one
// encoded word the export cannot read.
func TestExportLinksKeepTheFilter(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[0]))
	c, _, _ := signIn(t, s.URL, url.Values{"token": {apptest.Token}})
	resp, err := c.Get(s.URL + "/cases?status=open&team=service")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`id="download-cases" href="([^"]*)"`).FindStringSubmatch(string(b))
	if m == nil {
		t.Fatal("no download link on the queue")
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil || u.Path != "/export/cases" || u.Query().Get("status") != "open" || u.Query().Get("team") != "service" {
		t.Fatalf("the queue's download link %q reads as %v", m[1], u)
	}
	resp, err = c.Get(s.URL + u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("the export: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// A page whose reports compare nothing with another period offers no
// comparison in its picker and names none, whatever the URL asks.
func TestPagesThatCompareNothingSayNoComparison(t *testing.T) {
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[0]))
	c, _, _ := signIn(t, s.URL, url.Values{"token": {apptest.Token}})
	for path, compares := range map[string]bool{"/insights": false, "/experiences": false, "/loyalty": true, "/recovery": true} {
		resp, err := c.Get(s.URL + path + "?period=30d&compare=year")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(b)
		if offered := strings.Contains(page, `name="compare"`); offered != compares || strings.Contains(page, "compared with") != compares {
			t.Errorf("%s offers a comparison: %v, names one: %v; want %v", path, offered, strings.Contains(page, "compared with"), compares)
		}
	}
}
