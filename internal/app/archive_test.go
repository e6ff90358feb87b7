package app_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// retained sends a year of a shop's life in two parts, 250 days apart, as
// the Segment libraries send it: each customer identifies, views, orders,
// answers NPS and posts; part one is what the log archives.
func retained(s *apptest.Server, part int, at time.Time) {
	var batch []any
	for c := range 24 {
		user := fmt.Sprintf("ret-%02d", c)
		ts := func(h int) string { return at.Add(time.Duration(c*5+h) * time.Hour).UTC().Format(time.RFC3339) }
		tr := func(h int, event string, props map[string]any) map[string]any {
			return map[string]any{"type": "track", "userId": user, "event": event, "timestamp": ts(h), "properties": props,
				"context": map[string]any{"channel": []string{"web", "mobile_app", "store"}[c%3]}}
		}
		if part == 1 {
			batch = append(batch, map[string]any{"type": "identify", "userId": user, "anonymousId": "anon-" + user, "timestamp": ts(0),
				"traits": map[string]any{"email": user + "@example.com", "name": fmt.Sprintf("Ret %02d", c)}})
		}
		batch = append(batch,
			tr(1, "Product Viewed", map[string]any{"product_id": fmt.Sprintf("p%d", c%4)}),
			tr(2, "Order Completed", map[string]any{"order_id": fmt.Sprintf("%s-%d", user, part), "total": 20 + c, "products": []any{map[string]any{"product_id": fmt.Sprintf("p%d", c%4), "quantity": 1, "price": 20 + c}}}),
			tr(3, "Survey Responded", map[string]any{"nps": (c + part) % 11}),
		)
		if c%5 == 0 {
			batch = append(batch, tr(4, "Mention Posted", map[string]any{"text": fmt.Sprintf("Ret %02d says the tent leaked", c)}))
		}
	}
	s.MustSend("batch", map[string]any{"batch": batch})
	s.Sync()
}

// snapshot is what the consumers made of the log, as the API gives it.
func snapshot(t *testing.T, s *apptest.Server) string {
	t.Helper()
	var b strings.Builder
	for _, path := range []string{"/api/v1/customers?limit=500", "/api/v1/analytics/outcomes?all=true", "/api/v1/journeys/funnel?by=channel",
		"/api/v1/analytics/at-risk?limit=1000", "/api/v1/customers/ret-03/loyalty", "/api/v1/customers/ret-07/value", "/api/v1/scores?metric=nps&by=channel"} {
		var v any
		if code := s.API("GET", path, nil, &v); code != 200 {
			t.Fatalf("GET %s: %d", path, code)
		}
		out, _ := json.Marshal(v)
		fmt.Fprintf(&b, "%s %s\n", path, out)
	}
	return b.String()
}

func count(t *testing.T, s *apptest.Server, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.DB.QueryRowContext(t.Context(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The log kept in bounds: events older than the retention go to a
// compressed archive and leave the events table while what the consumers
// made of them stays; an erasure reaches into the archive; restored and
// replayed, the archive and the live log rebuild the same state; the log
// goes on after its archived part.
func TestArchiveRestoreReplay(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		start := apptest.Epoch.AddDate(0, 0, -250)
		s, clock := apptest.StartAt(t, dsn, start)
		ctx := context.Background()
		retained(s, 1, start.Add(-24*time.Hour))
		old := count(t, s, `SELECT COUNT(*) FROM events`) // part one, with what cxloop recorded of its own work then
		clock.Add(250 * 24 * time.Hour)
		retained(s, 2, apptest.Epoch.Add(-48*time.Hour))
		all := count(t, s, `SELECT COUNT(*) FROM events`)
		before := snapshot(t, s)

		if _, err := s.ArchiveLog(ctx, t.TempDir(), 90); err == nil {
			t.Error("a retention of 90 days was taken")
		}
		dir := t.TempDir()
		ar, err := s.ArchiveLog(ctx, dir, 200)
		if err != nil || ar == nil {
			t.Fatalf("archive: %+v %v", ar, err)
		}
		if ar.Events != old || ar.First != 1 || ar.Last != old {
			t.Fatalf("archived %+v, want the %d events of part one", ar, old)
		}
		if left := count(t, s, `SELECT COUNT(*) FROM events`); left != all-old || count(t, s, `SELECT COUNT(*) FROM events WHERE seq <= $1`, ar.Last) != 0 {
			t.Fatalf("%d events left of %d, want %d", left, all, all-old)
		}
		lines := archiveLines(t, ar.File)
		if int64(len(lines)) != old || !strings.Contains(lines[0], `"seq":1,`) || !strings.Contains(strings.Join(lines, "\n"), "ret-05@example.com") {
			t.Fatalf("the archive file holds %d lines, want %d; first %s", len(lines), old, lines[0])
		}
		if st, err := os.Stat(ar.File); err != nil || st.Size() != ar.Bytes || st.Mode().Perm() != 0o600 {
			t.Fatalf("the archive file: %v %v, recorded %d bytes", st, err, ar.Bytes)
		}
		if after := snapshot(t, s); after != before {
			t.Fatalf("the archive changed what the consumers made:\n%s\nwas\n%s", after, before)
		}
		if again, err := s.ArchiveLog(ctx, dir, 200); err != nil || again != nil {
			t.Fatalf("a second archive of the same age: %+v %v", again, err)
		}

		// An erasure reaches into the archive: Ret 05's events there are
		// tombstones, and the mention naming her email is scrubbed.
		var erasure struct{ EventsTombstoned int64 }
		if code := s.API("DELETE", "/api/v1/customers/ret-05", nil, &erasure); code != 200 {
			t.Fatalf("erase: %d", code)
		}
		lines = archiveLines(t, ar.File)
		if text := strings.Join(lines, "\n"); strings.Contains(text, "ret-05") || !strings.Contains(text, `"type":"erased"`) {
			t.Fatalf("Ret 05 is still in the archive, or has no tombstone there")
		}
		s.Sync()
		erased := snapshot(t, s)

		// Restored and replayed by every consumer: the same state.
		n, err := s.RestoreLog(ctx)
		if err != nil || n != old || count(t, s, `SELECT COUNT(*) FROM events`) != all {
			t.Fatalf("restored %d (%v), want %d; %d events in the log, want %d", n, err, old, count(t, s, `SELECT COUNT(*) FROM events`), all)
		}
		if list, _ := s.Archives(ctx); len(list) != 0 {
			t.Fatalf("archives after the restore: %+v", list)
		}
		for _, c := range s.Runner.Consumers() {
			if _, err := s.Runner.Replay(ctx, c); err != nil {
				t.Fatal(err)
			}
		}
		s.Sync()
		if replayed := snapshot(t, s); replayed != erased {
			t.Fatalf("replayed from the archive and the live log:\n%s\nbefore:\n%s", replayed, erased)
		}

		// Archived again, the log goes on after its head: a new event
		// takes the next seq, never an archived one.
		if ar, err = s.ArchiveLog(ctx, dir, 200); err != nil || ar == nil {
			t.Fatalf("archive again: %v", err)
		}
		head := count(t, s, `SELECT MAX(seq) FROM events`)
		s.MustSend("track", map[string]any{"userId": "ret-01", "event": "Product Viewed", "properties": map[string]any{"product_id": "p1"}})
		s.Sync()
		if next := count(t, s, `SELECT MAX(seq) FROM events`); next != head+1 || next <= ar.Last {
			t.Fatalf("the next event's seq %d after head %d and archive %d–%d", next, head, ar.First, ar.Last)
		}
	})
}

// archiveLines reads an archive file's JSON lines.
func archiveLines(t *testing.T, file string) []string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		out = append(out, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
