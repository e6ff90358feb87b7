// Command ingest measures cxloop's ingestion: it starts cxloop on a fresh
// database, drives /v1/batch (100 realistic events a request) from
// concurrent clients over loopback for a fixed time, and prints accepted
// events/s, p50/p99 acknowledgement latency and the server's peak RSS. It
// then fills the log to a million events, waits for every consumer to read
// it and measures customer-profile lookups. As a reference it measures raw
// multi-row inserts of the same rows into the same engine in the same run.
// The clients are minimal HTTP/1.1 keep-alive loops (benchkit.Conn), so that
// they take little of the cores the server shares with them; -client nethttp
// uses Go's HTTP client instead.
//
//	go run ./bench/ingest [-duration 20s] [-clients 8] [-engines sqlite,postgres] [-pg URL] [-consumers=false] [-client lean|nethttp]
package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cxloop/cxloop/bench/benchkit"
	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/demo"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/store"
)

// perBatch is how many events one request carries.
const perBatch = 100

var clientKind string

func main() {
	duration := flag.Duration("duration", 20*time.Second, "how long to drive ingestion")
	clients := flag.Int("clients", 8, "concurrent HTTP clients")
	engines := flag.String("engines", "sqlite,postgres", "engines to measure")
	pg := flag.String("pg", os.Getenv("CXLOOP_BENCH_POSTGRES"), "admin URL of a PostgreSQL server (default: start a throwaway one)")
	fill := flag.Int("fill", 1_000_000, "events in the log before measuring lookups (0 to skip)")
	lookups := flag.Int("lookups", 3000, "profile lookups to time")
	customers := flag.Int("customers", 5000, "distinct demo customers in the traffic")
	consumers := flag.Bool("consumers", true, "run the consumers in the measured server (false: an ingestion-only node)")
	flag.StringVar(&clientKind, "client", "lean", "clients: lean (a minimal HTTP/1.1 keep-alive loop, as wrk's) or nethttp (Go's net/http client)")
	flag.Parse()

	root, err := os.MkdirTemp("", "cxloop-bench")
	benchkit.Check(err)
	defer os.RemoveAll(root)
	bin := filepath.Join(root, "cxloop")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/cxloop").CombinedOutput()
	if err != nil {
		benchkit.Fail("build cxloop (run from the repository root): %v\n%s", err, out)
	}
	fmt.Printf("cxloop ingestion benchmark — %s\n", benchkit.Machine())
	fmt.Printf("traffic: the demo retailer's events (%d customers), %d events a request, %d clients, %s\n\n", *customers, perBatch, *clients, *duration)
	bodies := templates(*customers)

	for _, engine := range strings.Split(*engines, ",") {
		var dsn string
		switch engine {
		case "sqlite":
			dsn = filepath.Join(root, "bench.db")
		case "postgres":
			admin, stop := benchkit.Postgres(*pg, "55433")
			defer stop()
			dsn = benchkit.FreshDatabase(admin)
		default:
			benchkit.Fail("unknown engine %q", engine)
		}
		run(engine, bin, dsn, bodies, *duration, *clients, *fill, *lookups, *customers, *consumers)
	}
}

// templates are request bodies of demo traffic whose messageIds start with
// "demo-"; each send swaps that prefix for a unique one.
func templates(customers int) [][]byte {
	var out [][]byte
	var cur []demo.Message
	flush := func() {
		b, err := json.Marshal(map[string]any{"batch": cur})
		benchkit.Check(err)
		out = append(out, b)
		cur = nil
	}
	err := demo.Generate(demo.Options{Customers: customers, Seed: 1, End: time.Now()}, func(m demo.Message) error {
		cur = append(cur, m)
		if len(cur) == perBatch {
			flush()
		}
		return nil
	})
	benchkit.Check(err)
	if len(cur) > 0 {
		flush()
	}
	// Interleave customers, as live traffic does.
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func run(engine, bin, dsn string, bodies [][]byte, duration time.Duration, clients, fill, lookups, customers int, consumers bool) {
	fmt.Printf("== %s (consumers: %t)\n", engine, consumers)
	if fill > 0 && !consumers {
		benchkit.Fail("-fill needs the consumers; use -fill 0 with -consumers=false")
	}
	ref := reference(engine, dsn, bodies)
	srv, err := apptest.Serve(bin, dsn, os.Stderr, fmt.Sprintf("--consumers=%t", consumers))
	benchkit.Check(err)
	defer srv.Stop()

	var next atomic.Int64
	body := func() []byte {
		n := next.Add(1)
		tpl := bodies[int(n)%len(bodies)]
		return bytes.ReplaceAll(tpl, []byte(`"demo-`), []byte(`"b`+strconv.FormatInt(n, 36)+`-`))
	}
	accepted, lat := drive(srv.URL, clients, duration, body)
	rate := float64(accepted) / duration.Seconds()
	rss := peakRSS(srv.Cmd.Process.Pid)
	fmt.Printf("ingest:      %9.0f events/s accepted (%d in %s), ack latency p50 %s p99 %s, server peak RSS %s\n",
		rate, accepted, duration, benchkit.Pct(lat, 50), benchkit.Pct(lat, 99), rss)
	fmt.Printf("reference:   %9.0f rows/s raw INSERT of the same rows into %s (same indexes, store.BulkInsert, 2,000 rows a transaction, no HTTP, validation or consumer)\n", ref, engine)
	fmt.Printf("ratio:       cxloop ingestion is %.0f%% of the raw insert rate\n", 100*rate/ref)
	if consumers {
		catchUp(dsn, accepted, duration)
	}

	if fill > 0 {
		start := time.Now()
		total := accepted
		for total < int64(fill) {
			n, _ := drive(srv.URL, clients, 5*time.Second, body)
			total += n
		}
		db, err := store.Open(context.Background(), dsn)
		benchkit.Check(err)
		head, err := eventlog.Head(context.Background(), db)
		benchkit.Check(err)
		// Lookups are timed on a node at rest: every consumer has read the
		// whole log (on PostgreSQL the consumers step apart, and the ones
		// still catching up would otherwise share the cores with the lookups).
		var profileAt time.Duration
		for {
			var profile, all int64
			benchkit.Check(db.QueryRow(`SELECT COALESCE(MAX(CASE WHEN name = 'profile' THEN seq END), 0), COALESCE(MIN(seq), 0) FROM consumer_checkpoints`).Scan(&profile, &all))
			if profile >= head && profileAt == 0 {
				profileAt = time.Since(start)
			}
			if all >= head {
				break
			}
			time.Sleep(500 * time.Millisecond)
		}
		var stored, profiles int64
		benchkit.Check(db.QueryRow(`SELECT COUNT(*) FROM events`).Scan(&stored))
		benchkit.Check(db.QueryRow(`SELECT COUNT(*) FROM customers WHERE merged_into IS NULL`).Scan(&profiles))
		db.Close()
		fmt.Printf("fill:        %d events stored, profile consumer caught up %s after the fill started, every consumer %s (%d profiles)\n",
			stored, profileAt.Round(time.Second), time.Since(start).Round(time.Second), profiles)
		lookup(srv.URL, lookups, customers, stored)
	}
	fmt.Println()
}

// catchUp reports how far the slowest consumer was behind the log when
// the clients stopped and how long it took to read the rest: the rate at
// which the whole node, consumers included, can keep up.
func catchUp(dsn string, accepted int64, duration time.Duration) {
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	benchkit.Check(err)
	defer db.Close()
	head, err := eventlog.Head(ctx, db)
	benchkit.Check(err)
	behind := func() int64 {
		var at int64
		benchkit.Check(db.QueryRow(`SELECT COALESCE(MIN(seq), 0) FROM consumer_checkpoints`).Scan(&at))
		return head - at
	}
	start := time.Now()
	lag := behind()
	rows, err := db.Query(`SELECT name, seq FROM consumer_checkpoints ORDER BY seq, name`)
	benchkit.Check(err)
	var each []string
	for rows.Next() {
		var name string
		var seq int64
		benchkit.Check(rows.Scan(&name, &seq))
		each = append(each, fmt.Sprintf("%s %d", name, head-seq))
	}
	benchkit.Check(rows.Err())
	rows.Close()
	for behind() > 0 {
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(start)
	fmt.Printf("consumers:   %d events behind the log when the clients stopped, all read %s later: %.0f events/s through ingestion and every consumer\n",
		lag, took.Round(100*time.Millisecond), float64(accepted)/(duration+took).Seconds())
	fmt.Printf("             behind, by consumer: %s\n", strings.Join(each, ", "))
}

// drive posts bodies from clients for d and returns accepted events and
// per-request latencies.
func drive(base string, clients int, d time.Duration, body func() []byte) (int64, []time.Duration) {
	var accepted atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	header := []byte("Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(apptest.WriteKey+":")) + "\r\nContent-Type: application/json\r\n")
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := benchkit.NewClient(clientKind, base)
			benchkit.Check(err)
			defer conn.Close()
			post := func(b []byte) int {
				status, err := conn.Do("POST", "/v1/batch", header, b)
				if err != nil {
					benchkit.Fail("post: %v", err)
				}
				return status
			}
			var mine []time.Duration
			for time.Now().Before(deadline) {
				b := body()
				t0 := time.Now()
				status := post(b)
				mine = append(mine, time.Since(t0))
				if status != 200 {
					benchkit.Fail("post: status %d", status)
				}
				accepted.Add(int64(bytes.Count(b, []byte(`"messageId"`))))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return accepted.Load(), lat
}

// lookup times GET /api/v1/customers/{userId} for random demo customers.
func lookup(base string, n, customers int, stored int64) {
	client := &http.Client{}
	r := rand.New(rand.NewPCG(3, 4))
	lat := make([]time.Duration, 0, n)
	found := 0
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("user-%05d", 1+r.IntN(customers))
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/customers/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+apptest.Token)
		t0 := time.Now()
		resp, err := client.Do(req)
		benchkit.Check(err)
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		lat = append(lat, time.Since(t0))
		if resp.StatusCode == 200 {
			found++
		}
	}
	fmt.Printf("lookup:      GET /api/v1/customers/{userId} with %d events stored: p50 %s p99 %s (%d lookups, %d found)\n",
		stored, benchkit.Pct(lat, 50), benchkit.Pct(lat, 99), n, found)
}

// reference measures raw multi-row inserts of the same rows into a scratch
// table of the same engine, without HTTP, validation or group commit.
func reference(engine, dsn string, bodies [][]byte) float64 {
	ctx := context.Background()
	refDSN := dsn
	if engine == "sqlite" {
		refDSN = dsn + ".reference"
		defer os.Remove(refDSN)
		defer os.Remove(refDSN + "-wal")
		defer os.Remove(refDSN + "-shm")
	}
	db, err := store.Open(ctx, refDSN)
	benchkit.Check(err)
	defer db.Close()
	benchkit.Check(db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`CREATE TABLE reference_events (seq BIGINT PRIMARY KEY, message_id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, event TEXT NOT NULL,
			user_id TEXT, anonymous_id TEXT, channel TEXT NOT NULL, contact TEXT NOT NULL, source_id TEXT NOT NULL, ts BIGINT NOT NULL, received_at BIGINT NOT NULL, body TEXT NOT NULL)`)
		if err != nil {
			return err
		}
		// The same indexes as the event log.
		if _, err := tx.Exec(`CREATE INDEX reference_user ON reference_events (user_id) WHERE user_id IS NOT NULL`); err != nil {
			return err
		}
		_, err = tx.Exec(`CREATE INDEX reference_anonymous ON reference_events (anonymous_id) WHERE anonymous_id IS NOT NULL`)
		return err
	}))
	defer db.Tx(ctx, func(tx *store.Tx) error { _, err := tx.Exec(`DROP TABLE reference_events`); return err })
	type row struct {
		typ, event, user, anon, body string
	}
	var rows []row
	for _, b := range bodies[:min(len(bodies), 1000)] {
		var batch struct{ Batch []map[string]any }
		benchkit.Check(json.Unmarshal(b, &batch))
		for _, m := range batch.Batch {
			raw, _ := json.Marshal(m)
			s := func(k string) string { v, _ := m[k].(string); return v }
			rows = append(rows, row{s("type"), s("event"), s("userId"), s("anonymousId"), string(raw)})
		}
	}
	start := time.Now()
	seq := 0
	for len(rows)-seq >= 2000 {
		batch := make([][]any, 0, 2000)
		for r := 0; r < 2000; r++ {
			x := rows[seq]
			seq++
			batch = append(batch, []any{seq, fmt.Sprintf("ref-%d", seq), x.typ, x.event, nullable(x.user), nullable(x.anon), "web", "direct", "src", int64(seq), int64(seq), x.body})
		}
		benchkit.Check(db.Tx(ctx, func(tx *store.Tx) error {
			return db.BulkInsert(ctx, tx, `INSERT INTO reference_events (seq, message_id, type, event, user_id, anonymous_id, channel, contact, source_id, ts, received_at, body) VALUES`, "", 12, batch)
		}))
	}
	return float64(seq) / time.Since(start).Seconds()
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func peakRSS(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "n/a"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.Atoi(strings.Fields(line)[1])
			return fmt.Sprintf("%d MiB", kb/1024)
		}
	}
	return "n/a"
}
