// Command surveys measures the survey capability on a fresh database:
//
//   - fan-out: a periodic survey's run to every customer of a segment — the
//     segment query, the invitations scheduled, and each one decided against
//     the contact policy and recorded as an event — from the run's start until
//     no invitation is left undecided. Reference: bulk inserts of the same
//     number of invitation rows into the same engine in the same run.
//
//   - survey page: GET /s/{token} over up to 10,000 distinct invitations from
//     many concurrent clients over loopback, with latency percentiles.
//     Reference: GET /healthz under the same load. The clients are minimal
//     HTTP/1.1 keep-alive loops (benchkit.Conn, as wrk's are) running beside
//     the server in this process; -client nethttp uses Go's client instead,
//     -separate runs them in a process of their own.
//
//     go run ./bench/surveys [-customers 100000] [-concurrency 200] [-duration 10s] [-engines sqlite,postgres] [-pg URL] [-client lean|nethttp] [-separate]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cxloop/cxloop/bench/benchkit"
	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/survey"
	"github.com/cxloop/cxloop/internal/vocab"
)

func main() {
	customers := flag.Int("customers", 100_000, "customers in the periodic survey's segment")
	concurrency := flag.Int("concurrency", 200, "concurrent clients loading the survey page")
	duration := flag.Duration("duration", 10*time.Second, "how long to load the survey page")
	engines := flag.String("engines", "sqlite,postgres", "engines to measure")
	pg := flag.String("pg", os.Getenv("CXLOOP_BENCH_POSTGRES"), "admin URL of a PostgreSQL server (default: start a throwaway one)")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the fan-out to this file")
	flag.StringVar(&pageProfile, "pageprofile", "", "write a CPU profile of the survey page at saturation to this file")
	flag.StringVar(&clientKind, "client", "lean", "page clients: lean (a minimal HTTP/1.1 keep-alive loop, as wrk does) or nethttp (Go's net/http client)")
	loadgen := flag.String("loadgen", "", "(internal) run only the page clients, over the URLs in this file, and print the result")
	rate := flag.Int("rate", 0, "(internal, with -loadgen) requests a second offered; 0 for back to back")
	flag.BoolVar(&separate, "separate", false, "run the page clients in a process of their own instead of beside the server in this one")
	flag.Parse()
	cpuProfile = *profile
	if *loadgen != "" {
		b, err := os.ReadFile(*loadgen)
		benchkit.Check(err)
		fmt.Println(load(strings.Fields(string(b)), *concurrency, *duration, *rate))
		return
	}
	fmt.Printf("cxloop survey benchmark — %s\n\n", benchkit.Machine())
	root, err := os.MkdirTemp("", "cxloop-bench-surveys")
	benchkit.Check(err)
	defer os.RemoveAll(root)
	for _, engine := range strings.Split(*engines, ",") {
		var dsn string
		switch engine {
		case "sqlite":
			dsn = filepath.Join(root, "surveys.db")
		case "postgres":
			admin, stop := benchkit.Postgres(*pg, "55434")
			defer stop()
			dsn = benchkit.FreshDatabase(admin)
		default:
			benchkit.Fail("unknown engine %q", engine)
		}
		run(engine, dsn, *customers, *concurrency, *duration)
	}
}

var (
	cpuProfile, pageProfile, clientKind string
	separate                            bool
)

func run(engine, dsn string, customers, concurrency int, duration time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	// The clients stand for many customers but all come from loopback: no
	// cap on one address's unauthenticated requests (survey pages are).
	a, err := app.New(ctx, app.Config{DB: dsn, Logger: logger, MaxUnauthenticatedPerAddress: -1})
	benchkit.Check(err)
	defer a.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	benchkit.Check(err)
	base := "http://" + ln.Addr().String()
	a.SetPublicURL(base)
	a.Log.Start(ctx)
	a.Runner.Run(ctx) // the consumers; the dispatcher is driven by hand below
	srv := &http.Server{Handler: a.Handler()}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	// Customers, as identify calls through the log and the profile consumer.
	start := time.Now()
	for i := 0; i < customers; i += 5000 {
		var events []eventlog.Event
		for j := i; j < min(i+5000, customers); j++ {
			e, err := eventlog.Own("Customer Loaded", fmt.Sprintf("bench-%07d", j), fmt.Sprintf("cust-%07d", j), "", "web", time.Now(), nil)
			benchkit.Check(err)
			e.Type = eventlog.Identify
			e.Body = []byte(fmt.Sprintf(`{"type":"identify","userId":"cust-%07d","messageId":"bench-%07d","traits":{"email":"c%d@example.com","locale":"%s","plan":"gold"}}`,
				j, j, j, []string{"en", "de", "fa"}[j%3]))
			events = append(events, e)
		}
		benchkit.Check(a.Log.Append(ctx, events))
	}
	head, err := eventlog.Head(ctx, a.DB)
	benchkit.Check(err)
	benchkit.Check(a.Runner.Wait(ctx, head))
	fmt.Printf("%s: %d customers loaded through the log and profiled in %s\n", engine, customers, time.Since(start).Round(time.Millisecond))

	// A live database has planner statistics of its customers; one loaded
	// this second has not yet (autovacuum analyzes within a minute or so).
	benchkit.Check(a.DB.Analyze(ctx, "customers", "identities", "account_members", "customer_channels"))
	// Reference: raw bulk inserts of as many invitation-shaped rows.
	ref := reference(ctx, a.DB, customers)

	// A periodic survey whose first run is due a second from now.
	first := time.Now().Add(time.Second).Truncate(time.Second).Add(time.Second)
	sv, err := a.Surveys.Create(ctx, &survey.Survey{Name: "Quarterly relationship", Rhythm: survey.Periodic, Owner: "marketing",
		Schedule:  &survey.Schedule{RRule: "FREQ=MONTHLY;INTERVAL=3", Start: first},
		Questions: []survey.Question{{ID: "q", Type: survey.TypeNPS, Text: vocab.Text{"en": "How likely are you to recommend us?", "de": "Wie wahrscheinlich …?", "fa": "چقدر احتمال دارد …؟"}}}})
	benchkit.Check(err)
	time.Sleep(time.Until(first))
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		benchkit.Check(err)
		benchkit.Check(pprof.StartCPUProfile(f))
	}
	start = time.Now()
	n, err := a.Surveys.Dispatch(ctx)
	benchkit.Check(err)
	fanout := time.Since(start)
	pprof.StopCPUProfile()
	f, err := a.Surveys.Funnel(ctx, sv.ID)
	benchkit.Check(err)
	if f.Scheduled != 0 || f.Sent != customers {
		benchkit.Fail("fan-out left %d scheduled and sent %d of %d", f.Scheduled, f.Sent, customers)
	}
	head, err = eventlog.Head(ctx, a.DB)
	benchkit.Check(err)
	start = time.Now()
	benchkit.Check(a.Runner.Wait(ctx, head))
	catchUp := time.Since(start)
	fmt.Printf("%s: periodic fan-out to %d customers: %s (%.0f invitations/s, each decided and recorded as an event); consumers caught up %s later\n",
		engine, n, fanout.Round(time.Millisecond), float64(n)/fanout.Seconds(), catchUp.Round(time.Millisecond))
	fmt.Printf("%s: reference — bulk insert of %d invitation rows: %s (%.0f rows/s)\n", engine, customers, ref.Round(time.Millisecond), float64(customers)/ref.Seconds())

	// The survey page under load: distinct invitations, as real traffic has.
	list, err := a.Surveys.SurveyInvitations(ctx, sv.ID, survey.Sent, 10000, 0)
	benchkit.Check(err)
	var urls []string
	for _, i := range list {
		urls = append(urls, i.URL)
	}
	for _, rate := range []int{0, 2000, 4000} {
		what := "as fast as they can"
		if rate > 0 {
			what = fmt.Sprintf("%d req/s offered", rate)
		}
		if rate == 0 && pageProfile != "" {
			f, err := os.Create(pageProfile)
			benchkit.Check(err)
			benchkit.Check(pprof.StartCPUProfile(f))
		}
		page := clients(urls, concurrency, duration, rate)
		pprof.StopCPUProfile()
		health := clients([]string{base + "/healthz"}, concurrency, duration, rate)
		fmt.Printf("%s: survey page GET /s/{token}, %d concurrent clients %s, %s: %s\n", engine, concurrency, what, duration, page)
		fmt.Printf("%s: reference — GET /healthz, same load: %s\n", engine, health)
	}
	fmt.Println()
}

// reference times multi-row inserts of n rows shaped like invitations.
func reference(ctx context.Context, db *store.DB, n int) time.Duration {
	err := db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE bench_invitations (id TEXT PRIMARY KEY, survey_id TEXT NOT NULL, customer_id TEXT NOT NULL,
			status TEXT NOT NULL, due_at BIGINT NOT NULL, created_at BIGINT NOT NULL)`)
		return err
	})
	benchkit.Check(err)
	start := time.Now()
	for i := 0; i < n; i += 5000 {
		var rows [][]any
		for j := i; j < min(i+5000, n); j++ {
			rows = append(rows, []any{fmt.Sprintf("inv_%020d", j), "srv_bench", fmt.Sprintf("cus_%d", j), "sent", store.Now(), store.Now()})
		}
		benchkit.Check(db.Tx(ctx, func(tx *store.Tx) error {
			return db.BulkInsert(ctx, tx, `INSERT INTO bench_invitations (id, survey_id, customer_id, status, due_at, created_at) VALUES`, ``, 6, rows)
		}))
	}
	return time.Since(start)
}

// clients runs load beside the server, or with -separate in a process of
// its own (then two Go runtimes, each scheduling for both cores, preempt
// each other).
func clients(urls []string, concurrency int, d time.Duration, rate int) string {
	if !separate {
		return load(urls, concurrency, d, rate)
	}
	f, err := os.CreateTemp("", "cxloop-bench-urls")
	benchkit.Check(err)
	defer os.Remove(f.Name())
	_, err = f.WriteString(strings.Join(urls, "\n"))
	benchkit.Check(err)
	benchkit.Check(f.Close())
	self, err := os.Executable()
	benchkit.Check(err)
	cmd := exec.Command(self, "-loadgen", f.Name(), "-concurrency", fmt.Sprint(concurrency), "-duration", d.String(),
		"-rate", fmt.Sprint(rate), "-client", clientKind)
	out, err := cmd.Output()
	benchkit.Check(err)
	return strings.TrimSpace(string(out))
}

// load sends GETs round-robin over urls from concurrency clients for d and
// reports throughput and latency percentiles. With rate > 0 the clients
// together offer that many requests a second (each waits its turn);
// otherwise each sends its next request as soon as the last is answered.
func load(urls []string, concurrency int, d time.Duration, rate int) string {
	base, err := url.Parse(urls[0])
	benchkit.Check(err)
	paths := make([]string, len(urls))
	for i, u := range urls {
		x, err := url.Parse(u)
		benchkit.Check(err)
		paths[i] = x.RequestURI()
	}
	var (
		mu     sync.Mutex
		lat    []time.Duration
		errs   atomic.Int64
		next   atomic.Int64
		wg     sync.WaitGroup
		stopAt = time.Now().Add(d)
	)
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := benchkit.NewClient(clientKind, base.Scheme+"://"+base.Host)
			benchkit.Check(err)
			defer conn.Close()
			get := func(i int) int {
				status, err := conn.Do("GET", paths[i], nil, nil)
				if err != nil {
					return 0
				}
				return status
			}
			var mine []time.Duration
			var every time.Duration
			if rate > 0 {
				every = time.Duration(float64(concurrency) / float64(rate) * float64(time.Second))
			}
			due := time.Now().Add(time.Duration(rand.Int64N(int64(every) + 1)))
			for time.Now().Before(stopAt) {
				if every > 0 {
					time.Sleep(time.Until(due))
					due = due.Add(every)
				}
				i := int(next.Add(1)) % len(urls)
				t := time.Now()
				if get(i) != http.StatusOK {
					errs.Add(1)
					continue
				}
				mine = append(mine, time.Since(t))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return fmt.Sprintf("%.0f req/s, p50 %s, p99 %s, max %s, %d errors",
		float64(len(lat))/d.Seconds(), benchkit.Pct(lat, 50), benchkit.Pct(lat, 99), benchkit.Pct(lat, 100), errs.Load())
}
