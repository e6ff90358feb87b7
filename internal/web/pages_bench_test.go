package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
)

// pageBudget is the most a console page may take to render on the demo.
const pageBudget = 100 * time.Millisecond

// BenchmarkConsolePages renders every console page on the demo (2,000
// customers, as `serve --demo` loads it) over HTTP, signed in, with
// GET /healthz as the reference measured in the same run; a page whose
// mean exceeds pageBudget fails the benchmark.
//
//	go test -run '^$' -bench ConsolePages -benchtime 20x ./internal/web/
func BenchmarkConsolePages(b *testing.B) {
	s, opts := loadDemo(b)
	pages := append([]string{"/healthz"}, demoPages(b, s, opts)...)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	resp, err := c.PostForm(s.URL+"/login", url.Values{"token": {apptest.Token}})
	if err != nil || resp.StatusCode != 200 {
		b.Fatalf("sign-in: %v %v", resp, err)
	}
	resp.Body.Close()
	for _, p := range pages {
		name := strings.ReplaceAll(strings.TrimPrefix(p, "/"), "/", "_")
		if name == "" {
			name = "home"
		}
		b.Run(name, func(b *testing.B) {
			start := time.Now()
			n := 0
			for b.Loop() {
				resp, err := c.Get(s.URL + p)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					b.Fatalf("%s: %d", p, resp.StatusCode)
				}
				n++
			}
			if mean := time.Since(start) / time.Duration(n); mean > pageBudget {
				b.Errorf("%s takes %v a render, over the %v budget", p, mean.Round(time.Millisecond), pageBudget)
			}
		})
	}
	// The report pages keep their views while nothing they read has
	// changed (views.go); here each render follows a new answer, read by
	// every consumer, so every render computes the reports afresh. They
	// are held to the budget too, and so is a customer's page after the
	// customer's own new answer.
	after := []string{"/", "/recovery", "/loyalty", "/experiences", "/insights"}
	for _, p := range pages {
		if strings.HasPrefix(p, "/customers/") { // the customer's page, after their own new answer
			after = append(after, p)
		}
	}
	for _, p := range after {
		name := strings.ReplaceAll(strings.Trim(p, "/"), "/", "_")
		if name == "" {
			name = "home"
		}
		user, own := strings.CutPrefix(p, "/customers/")
		b.Run(name+"_after_new_data", func(b *testing.B) {
			var spent time.Duration
			n := 0
			for b.Loop() {
				b.StopTimer()
				if !own {
					user = "bench-" + time.Now().Format("150405.000000")
				}
				s.MustSend("track", map[string]any{"userId": user, "event": "Survey Responded",
					"properties": map[string]any{"nps": n % 11}})
				s.Sync()
				b.StartTimer()
				t := time.Now()
				resp, err := c.Get(s.URL + p)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				spent += time.Since(t)
				n++
			}
			mean := spent / time.Duration(n)
			b.ReportMetric(float64(mean.Microseconds())/1000, "ms/render")
			if mean > pageBudget {
				b.Errorf("%s after new data takes %v a render, over the %v budget", p, mean.Round(time.Millisecond), pageBudget)
			}
		})
	}
}
