package httpio_test

import (
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/httpio"
)

// An export outlives the server's answer deadline while its client reads:
// each flush moves the write deadline on.
func TestCSVExportOutlivesWriteTimeout(t *testing.T) {
	type row struct {
		N    int    `json:"n"`
		Text string `json:"text"`
	}
	const rows = 64 * 8
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := httpio.NewCSV(w, nil, "slow", row{}, httpio.CSVOptions{})
		var err error
		for i := 0; i < rows && err == nil; i++ {
			if i%64 == 0 {
				time.Sleep(150 * time.Millisecond) // 1.2 s in all, the deadline is 0.4 s
			}
			err = out.Write(row{N: i, Text: "-1"})
		}
		out.Finish(err)
	}))
	srv.Config.WriteTimeout = 400 * time.Millisecond
	srv.Start()
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	recs, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil && err != io.ErrUnexpectedEOF {
		t.Fatalf("reading: %v", err)
	}
	if len(recs) != rows+1 || recs[0][0] != "n" || recs[0][1] != "text" || recs[rows][0] != "511" || recs[rows][1] != "'-1" {
		t.Fatalf("got %d records (%v), want a header and %d rows", len(recs), err, rows)
	}
}

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		`=HYPERLINK("x")`: `'=HYPERLINK("x")`, "+1": "'+1", "-2": "'-2", "@SUM(A1)": "'@SUM(A1)",
		"\tx": "'\tx", "\rx": "'\rx", "plain": "plain", "": "", "a=b": "a=b",
	} {
		if got := httpio.SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}
