package privacy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/demo"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// On the demo, where customers have everything (surveys, cases, returns,
// loyalty, referrals, communities, nudges, replenishments), the customer
// with data in the most tables is erased: none of their identities is left
// in any table or in the database files, and their profile id only in the
// audit trail.
func TestEraseOnTheDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the demo")
	}
	now := time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC)
	dsn := storetest.DSN(t, store.SQLite)
	s, _ := apptest.StartAt(t, dsn, now)
	bg := context.Background()
	surveys, err := demo.CreateSurveys(bg, s.URL, apptest.Token)
	if err == nil {
		err = demo.CreateLoop(bg, s.URL, apptest.Token)
	}
	if err != nil {
		t.Fatal(err)
	}
	opts := demo.Options{Customers: 150, Seed: 42, End: now, Surveys: surveys}
	if _, err := demo.Send(bg, s.URL, apptest.WriteKey, opts); err != nil {
		t.Fatal(err)
	}
	s.SyncFor(3 * time.Minute)
	if err := demo.Finish(bg, s.URL, apptest.Token, opts); err != nil {
		t.Fatal(err)
	}
	if err := demo.WorkCases(bg, s.URL, apptest.WriteKey, apptest.Token, opts); err != nil {
		t.Fatal(err)
	}
	s.Sync()
	if _, err := s.Loyalty.Engage(bg, true); err != nil {
		t.Fatal(err)
	}

	// The customer whose export fills the most tables.
	var list struct{ Customers []struct{ ID string } }
	s.API("GET", "/api/v1/customers?limit=150", nil, &list)
	best, bestTables := "", 0
	var bestIDs struct{ UserIDs, AnonymousIDs, Emails, Phones []string }
	for _, c := range list.Customers {
		var doc struct {
			Identities struct{ UserIDs, AnonymousIDs, Emails, Phones []string }
			Tables     map[string][]any
		}
		s.API("GET", "/api/v1/customers/"+c.ID+"/export", nil, &doc)
		n := 0
		for _, rows := range doc.Tables {
			if len(rows) > 0 {
				n++
			}
		}
		if n > bestTables {
			best, bestTables, bestIDs = c.ID, n, doc.Identities
		}
	}
	if bestTables < 15 {
		t.Fatalf("the richest demo customer has rows in %d tables only", bestTables)
	}
	var needles []string
	for _, vs := range [][]string{bestIDs.UserIDs, bestIDs.AnonymousIDs, bestIDs.Emails, bestIDs.Phones} {
		needles = append(needles, vs...)
	}
	t.Logf("erasing %s: rows in %d tables, identities %v", best, bestTables, needles)
	if hits := tableHits(t, s.DB, needles); len(hits) < bestTables {
		t.Fatalf("before: found in %d places", len(hits))
	}
	began := time.Now() // reported, not asserted
	if code := s.API("DELETE", "/api/v1/customers/"+best, nil, nil); code != 200 {
		t.Fatalf("erase: %d", code)
	}
	var events int
	s.DB.QueryRowContext(bg, `SELECT COUNT(*) FROM events`).Scan(&events)
	t.Logf("erased in %v with %d events in the log", time.Since(began).Round(time.Millisecond), events)
	if hits := tableHits(t, s.DB, needles); len(hits) > 0 {
		t.Fatalf("after the erasure: %v", hits)
	}
	if hits := fileHits(t, dsn, needles); len(hits) > 0 {
		t.Fatalf("after the erasure, in the files: %v", hits)
	}
	for _, h := range tableHits(t, s.DB, []string{best}) {
		if !strings.HasPrefix(h, "audit_log:") {
			t.Errorf("the profile id is left in %s", h)
		}
	}
}
