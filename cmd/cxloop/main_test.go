package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/shareddata"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "cxloop-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "cxloop")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type proc struct {
	*apptest.Process
	out *syncBuffer
}

// syncBuffer collects a process's log while the test may read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs `cxloop serve` on dsn and waits until it listens.
func start(t *testing.T, dsn string, args ...string) *proc {
	t.Helper()
	out := &syncBuffer{}
	p, err := apptest.Serve(binary, dsn, out, args...)
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Cleanup(p.Stop)
	return &proc{Process: p, out: out}
}

func batch(ids []string) []byte {
	var items []string
	for i, id := range ids {
		items = append(items, fmt.Sprintf(`{"type":"track","messageId":%q,"userId":"user-%d","event":"Order Completed","properties":{"order_id":%q,"total":%d.5,"currency":"EUR"},"context":{"channel":"web"}}`, id, i%50, id, i))
	}
	return []byte(`{"batch":[` + strings.Join(items, ",") + `]}`)
}

func post(client *http.Client, url string, body []byte) (int, error) {
	req, err := http.NewRequest(http.MethodPost, url+"/v1/batch", bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.SetBasicAuth(apptest.WriteKey, "")
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// An event acknowledged with 200 survives SIGKILL, is stored exactly once,
// and a client's retry after the crash does not store it twice.
func TestAcknowledgedEventsSurviveKill(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		p := start(t, dsn)
		var (
			mu    sync.Mutex
			acked = map[string]bool{}
			sent  [][]string
			stop  = make(chan struct{})
			wg    sync.WaitGroup
		)
		client := &http.Client{Timeout: 10 * time.Second}
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					ids := make([]string, 50)
					for i := range ids {
						ids[i] = fmt.Sprintf("kill-%d-%d-%d", w, n, i)
					}
					mu.Lock()
					sent = append(sent, ids)
					mu.Unlock()
					code, err := post(client, p.URL, batch(ids))
					if err != nil {
						return // the server is gone
					}
					if code == http.StatusOK {
						mu.Lock()
						for _, id := range ids {
							acked[id] = true
						}
						mu.Unlock()
					}
				}
			}(w)
		}
		// Kill once enough is acknowledged to prove something (however busy
		// the machine), and at least 1.5 s in, while writes are in flight.
		begun := time.Now()
		for deadline := begun.Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			mu.Lock()
			enough := len(acked) >= 1000
			mu.Unlock()
			if enough && time.Since(begun) >= 1500*time.Millisecond {
				break
			}
		}
		if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		_ = p.Cmd.Wait()
		close(stop)
		wg.Wait()
		if len(acked) < 1000 {
			t.Fatalf("only %d events acknowledged before the kill; the test proves nothing", len(acked))
		}

		counts := storedCounts(t, dsn)
		for id := range acked {
			if counts[id] != 1 {
				t.Fatalf("acknowledged %s stored %d times", id, counts[id])
			}
		}
		t.Logf("%d acknowledged, %d stored before the kill", len(acked), len(counts))

		// Restart, and let the clients retry everything they sent.
		p2 := start(t, dsn)
		for _, ids := range sent {
			if code, err := post(client, p2.URL, batch(ids)); err != nil || code != 200 {
				t.Fatalf("retry: %d %v", code, err)
			}
		}
		counts = storedCounts(t, dsn)
		for _, ids := range sent {
			for _, id := range ids {
				if counts[id] != 1 {
					t.Fatalf("%s stored %d times after retry", id, counts[id])
				}
			}
		}

		// The profile consumer catches up after the restart and sees every event.
		deadline := time.Now().Add(60 * time.Second)
		for {
			total := 0
			for u := 0; u < 50; u++ {
				var c struct{ EventCount int }
				if getJSON(t, p2.URL+fmt.Sprintf("/api/v1/customers/user-%d", u), &c) {
					total += c.EventCount
				}
			}
			if total == len(counts) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("profiles count %d events, the log holds %d", total, len(counts))
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

func storedCounts(t *testing.T, dsn string) map[string]int {
	t.Helper()
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT message_id, COUNT(*) FROM events GROUP BY message_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	return out
}

// getJSON reads url into v; it reports false for 404.
func getJSON(t *testing.T, url string, v any) bool {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+apptest.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return false
	}
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
	return true
}

// The CLI's other commands work on a real database.
func TestCommands(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "cli.db")
	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(binary, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("cxloop %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := run("version"); !strings.HasPrefix(out, "cxloop ") {
		t.Fatalf("version: %q", out)
	}
	if out := run("migrate", "--db", db); !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: %q", out)
	}
	tok := strings.TrimSpace(run("token", "--db", db, "--role", "viewer"))
	if !strings.HasPrefix(tok, "cxt_") {
		t.Fatalf("token: %q", tok)
	}
	// The token made on the command line is in the audit trail, its secret not.
	func() {
		sdb, err := store.Open(context.Background(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer sdb.Close()
		list, _, err := audit.NewService(sdb, nil, nil).List(context.Background(), audit.Query{Actor: "cli"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].Action != "create" || list[0].Resource != "token" || !strings.HasPrefix(list[0].ResourceID, "tok_") ||
			list[0].Address != "local" || !strings.Contains(string(list[0].After), `"role":"analyst"`) || strings.Contains(string(list[0].After), tok) {
			t.Errorf("the trail of cxloop token: %+v", list)
		}
	}()
	p := start(t, db)
	ids := make([]string, 20)
	for i := range ids {
		ids[i] = fmt.Sprintf("cli-%d", i)
	}
	if code, err := post(http.DefaultClient, p.URL, batch(ids)); err != nil || code != 200 {
		t.Fatalf("post: %d %v", code, err)
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	if err := p.Cmd.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly on SIGTERM: %v\n%s", err, p.out)
	}
	if out := run("replay", "--db", db, "profile"); !strings.Contains(out, "replayed profile: 20 events") {
		t.Fatalf("replay: %q", out)
	}
	out, err := exec.Command(binary, "replay", "--db", db, "nothing").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "no consumer") {
		t.Fatalf("replay of an unknown consumer: %v %s", err, out)
	}
	// The events were received now: none is old enough to archive; the
	// archive's floor and a retention without a directory are refused.
	if out := run("archive", "--db", db, "--older-than-days", "180", "--dir", filepath.Join(dir, "archive")); !strings.Contains(out, "nothing to archive") {
		t.Fatalf("archive: %q", out)
	}
	if out, err := exec.Command(binary, "archive", "--db", db, "--older-than-days", "30", "--dir", dir).CombinedOutput(); err == nil || !strings.Contains(string(out), "at least 180 days") {
		t.Fatalf("archive of 30 days: %v %s", err, out)
	}
	if out, err := exec.Command(binary, "serve", "--db", db, "--addr", "127.0.0.1:0", "--retain-days", "365").CombinedOutput(); err == nil || !strings.Contains(string(out), "--archive-dir") {
		t.Fatalf("--retain-days without --archive-dir: %v %s", err, out)
	}
	if out := run("archive", "--db", db, "--list"); !strings.Contains(out, "no archives") {
		t.Fatalf("archive --list: %q", out)
	}
	if out := run("restore", "--db", db); !strings.Contains(out, "restored 0 archived events") {
		t.Fatalf("restore: %q", out)
	}
	// A reply address is checked before the server starts.
	for _, bad := range []string{"not an address", "surveys+x@example.com"} {
		out, err = exec.Command(binary, "serve", "--db", db, "--addr", "127.0.0.1:0", "--survey-reply-to", bad).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "reply address") {
			t.Fatalf("--survey-reply-to %q: %v %s", bad, err, out)
		}
	}
}

// An ingestion-only node accepts events and leaves the projections to a
// node that runs the consumers.
func TestIngestionOnlyNode(t *testing.T) {
	db := filepath.Join(t.TempDir(), "split.db")
	ingestOnly := start(t, db, "--consumers=false")
	ids := []string{"split-1", "split-2", "split-3"}
	if code, err := post(http.DefaultClient, ingestOnly.URL, batch(ids)); err != nil || code != 200 {
		t.Fatalf("post: %d %v", code, err)
	}
	var page struct{ Events []struct{ MessageID string } }
	getJSON(t, ingestOnly.URL+"/api/v1/events", &page)
	if len(page.Events) != 3 {
		t.Fatalf("the ingestion-only node stored %d events", len(page.Events))
	}
	time.Sleep(300 * time.Millisecond)
	var c struct{ EventCount int }
	if getJSON(t, ingestOnly.URL+"/api/v1/customers/user-0", &c) {
		t.Fatal("an ingestion-only node built a profile")
	}
	consumer := start(t, db)
	deadline := time.Now().Add(20 * time.Second)
	for !getJSON(t, consumer.URL+"/api/v1/customers/user-0", &c) {
		if time.Now().After(deadline) {
			t.Fatal("the consuming node did not build the profile")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if c.EventCount != 1 {
		t.Fatalf("user-0 has %d events", c.EventCount)
	}
}

// cxloop import responses loads a CSV file: valid rows are stored, a bad
// row is refused by line and field, and importing again counts nothing twice.
func TestImportResponses(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "import.db")
	p := start(t, db)
	req, _ := http.NewRequest("POST", p.URL+"/api/v1/surveys", strings.NewReader(`{"name": "Imported", "rhythm": "pulse", "owner": "research",
		"questions": [{"id": "q1", "type": "nps", "text": {"en": "?"}}, {"id": "sat", "type": "acsi", "text": {"en": "?"}}, {"id": "why", "type": "text", "text": {"en": "?"}}]}`))
	req.Header.Set("Authorization", "Bearer "+apptest.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var sv struct{ ID string }
	_ = json.NewDecoder(resp.Body).Decode(&sv)
	resp.Body.Close()
	p.Stop()

	file := filepath.Join(dir, "answers.csv")
	csv := "customer,at,channel,q1,sat.satisfaction,sat.expectations,sat.ideal,why\n" +
		"ana@example.com,2026-03-01,store,10,9,8,9,Great advice\n" +
		"u-2,2026-03-02,web,6,5,5,4,\"Slow, and the box was damaged\"\n" +
		"u-3,2026-03-03,web,12,5,5,5,\n" +
		"u-4,2026-03-04,call_centre,8,,,,\n"
	if err := os.WriteFile(file, []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"imported 3 of 4 responses", "imported 0 of 4 responses"} {
		out, err := exec.Command(binary, "import", "responses", "--db", db, "--survey", sv.ID, file).CombinedOutput()
		if err == nil || !strings.Contains(string(out), want) || !strings.Contains(string(out), "line 4 (answers.q1)") ||
			strings.Contains(string(out), "3 rows were recorded before") != (i == 1) {
			t.Fatalf("import %d: %v\n%s", i+1, err, out)
		}
	}
	p = start(t, db)
	req, _ = http.NewRequest("GET", p.URL+"/api/v1/scores?metric=nps&survey="+sv.ID, nil)
	req.Header.Set("Authorization", "Bearer "+apptest.Token)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got struct {
		Groups []struct {
			Value float64
			N     int
		}
	}
	_ = json.NewDecoder(resp.Body).Decode(&got)
	// 10 (promoter), 6 (detractor), 8 (passive): NPS 0 over three answers.
	if len(got.Groups) != 1 || got.Groups[0].N != 3 || got.Groups[0].Value != 0 {
		t.Fatalf("scores after importing twice: %+v", got)
	}
}

// eval recommend reads a MovieLens folder and prints a table, or JSON.
func TestEvalRecommend(t *testing.T) {
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("userId,movieId,rating,timestamp\n")
	for u := 1; u <= 30; u++ {
		for m := 1; m <= 8; m++ {
			if (u+m)%3 != 0 {
				fmt.Fprintf(&b, "%d,%d,4.0,%d\n", u, m+(u%2)*10, 1000+m)
			}
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "ratings.csv"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary, "eval", "recommend", "--data", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "HR@10") || !strings.Contains(string(out), "item-knn") || !strings.Contains(string(out), "validation") {
		t.Fatalf("table: %v\n%s", err, out)
	}
	out, err = exec.Command(binary, "eval", "recommend", "--data", dir, "--json").Output()
	var res struct {
		Models []struct {
			Name         string
			HR10, NDCG10 float64
			Users        int
		}
	}
	if err != nil || json.Unmarshal(out, &res) != nil || len(res.Models) != 5 || res.Models[0].Name != "popularity" || res.Models[3].Name != "sequence" || !strings.HasPrefix(res.Models[4].Name, "ease-") || res.Models[2].Users != 30 {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if out, err := exec.Command(binary, "eval", "recommend", "--data", t.TempDir()).CombinedOutput(); err == nil {
		t.Fatalf("a folder without ratings.csv: %s", out)
	}
}

// eval churn holds out the last 90 days of the CDNOW sample and prints the
// model's ranking beside recency's, its verdict and calibration, or JSON.
func TestEvalChurn(t *testing.T) {
	dir := shareddata.Dir(t, "cdnow")
	out, err := exec.Command(binary, "eval", "churn", "--data", dir).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "2357 customers") || !strings.Contains(string(out), "recency") ||
		!strings.Contains(string(out), "calibration") {
		t.Fatalf("table: %v\n%s", err, out)
	}
	out, err = exec.Command(binary, "eval", "churn", "--data", dir, "--holdout-days", "60", "--json").Output()
	var res struct {
		HoldoutDays int `json:"holdout_days"`
		Check       struct {
			Customers int
			Model     struct{ AUC float64 }
			Verdict   string
		}
	}
	if err != nil || json.Unmarshal(out, &res) != nil || res.HoldoutDays != 60 || res.Check.Customers != 2357 || res.Check.Model.AUC <= 0.5 || res.Check.Verdict == "" {
		t.Fatalf("json: %v\n%s", err, out)
	}
}

// A client that sends its body a byte at a time, or sends nothing after
// its headers, is cut off when its time is up instead of holding the
// connection for ever.
func TestSlowClientsAreCutOff(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.Copy(io.Discard, r.Body)
		if err != nil {
			return
		}
		w.WriteHeader(204)
	})
	srv := newServer(h, timeouts{header: 300 * time.Millisecond, read: 600 * time.Millisecond, write: time.Second, idle: time.Second})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	for name, send := range map[string]func(c net.Conn){
		"a trickling body": func(c net.Conn) {
			fmt.Fprintf(c, "POST /v1/track HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
			for range 40 {
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		},
		"headers never finished": func(c net.Conn) {
			fmt.Fprintf(c, "POST /v1/track HTTP/1.1\r\nHost: x\r\n")
		},
	} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		go send(c)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		_, _ = io.Copy(io.Discard, c) // until the server closes the connection
		if held := time.Since(start); held > 3*time.Second {
			t.Errorf("%s held the connection %s", name, held)
		}
		c.Close()
	}
	if serverTimeouts.read == 0 || serverTimeouts.write == 0 || serverTimeouts.idle == 0 || serverTimeouts.header == 0 {
		t.Fatalf("the server runs without a timeout: %+v", serverTimeouts)
	}
}

// Backpressure: with no node applying events, ingestion accepts up to the
// lag bound and then answers 429 with Retry-After and a JSON body naming
// the consumer behind; /readyz and /metrics give every consumer's lag. A
// node that runs the consumers catches up and ingestion accepts again.
func TestIngestionWaitsPastTheLagBound(t *testing.T) {
	db := filepath.Join(t.TempDir(), "lag.db")
	ingestOnly := start(t, db, "--consumers=false", "--max-lag", "10") // no node has applied anything yet
	var ids []string
	for i := range 20 {
		ids = append(ids, fmt.Sprintf("lag-%d", i))
	}
	if code, err := post(http.DefaultClient, ingestOnly.URL, batch(ids)); err != nil || code != 200 {
		t.Fatalf("post: %d %v", code, err)
	}
	var refused *http.Response
	var body []byte
	for deadline := time.Now().Add(10 * time.Second); refused == nil; time.Sleep(200 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodPost, ingestOnly.URL+"/v1/track", strings.NewReader(`{"userId": "late", "event": "Order Completed"}`))
		req.SetBasicAuth(apptest.WriteKey, "")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 429 {
			refused, body = resp, b
		} else if time.Now().After(deadline) {
			t.Fatalf("20 events behind a bound of 10, still accepted: %d %s", resp.StatusCode, b)
		}
	}
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil || refused.Header.Get("Retry-After") == "" || e.Error.Code != "too_many_requests" ||
		!strings.Contains(e.Error.Message, "events behind") {
		t.Fatalf("refusal: Retry-After %q, %s", refused.Header.Get("Retry-After"), body)
	}
	resp, err := http.Get(ingestOnly.URL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	ready, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(ready), "ingestion waits") || !regexp.MustCompile(`(?m)^lag profile 2\d events \d+\.\d s$`).Match(ready) {
		t.Fatalf("/readyz: %d %s", resp.StatusCode, ready)
	}
	resp, err = http.Get(ingestOnly.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`(?m)^cxloop_consumer_lag_seconds\{consumer="profile"\} `).Match(metrics) {
		t.Fatalf("no lag in seconds in /metrics")
	}
	// A node with the consumers catches up; ingestion accepts again.
	start(t, db)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		code, err := post(http.DefaultClient, ingestOnly.URL, batch([]string{fmt.Sprintf("after-%d", time.Now().UnixNano())}))
		if err == nil && code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("ingestion still refused once the consumers caught up: %d %v", code, err)
		}
	}
}
