package web_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A case from the queue to a reopen: the queue names customers, counts by
// status, says how late each case is on the app's clock, filters and
// assigns in bulk; the case page shows the answer that opened it, who has
// it and the customer's value; a resolved case reopens.
func TestConsoleCaseWork(t *testing.T) {
	ctx := browser(t)
	s, clock := apptest.StartAt(t, storetest.DSN(t, storetest.Engines()[0]), apptest.Epoch)
	s.API("POST", "/api/v1/teams", map[string]any{"name": "service"}, nil)
	s.API("POST", "/api/v1/teams", map[string]any{"name": "returns"}, nil)
	// Sam works the service team's cases, Lee the returns team's.
	for name, team := range map[string]string{"sam": "service", "lee": "returns"} {
		if code := s.API("POST", "/api/v1/tokens", map[string]any{"name": name, "role": "agent", "teams": []string{team}}, nil); code != 201 {
			t.Fatalf("token %s: %d", name, code)
		}
	}
	if code := s.API("POST", "/api/v1/rules", json.RawMessage(`{"name": "detractors", "when": {"event": "Survey Responded", "nps_max": 6},
		"then": {"open_case": {"team": "service", "kind": "detractor", "sla": "24h"}}}`), nil); code != 201 {
		t.Fatalf("rule: %d", code)
	}
	var sv struct{ ID string }
	s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "After order", "rhythm": "pulse", "owner": "service",
		"questions": [{"id": "q", "type": "nps", "text": {"en": "?"}}, {"id": "why", "type": "text", "optional": true, "text": {"en": "Why?"}}]}`), &sv)
	answer := func(user, name string, score int, why string) {
		t.Helper()
		s.MustSend("identify", map[string]any{"userId": user, "traits": map[string]any{"name": name}})
		s.Sync()
		answers := map[string]any{"q": score}
		if why != "" {
			answers["why"] = why
		}
		if code := s.API("POST", "/api/v1/surveys/"+sv.ID+"/responses", map[string]any{"customer": user, "answers": answers}, nil); code != 201 {
			t.Fatalf("answer: %d", code)
		}
	}
	answer("w-ada", "Ada Lovelace", 2, "The parcel came a week late")
	answer("w-bo", "Bo Diddley", 4, "")
	clock.Add(30 * time.Hour) // both past their 24 h
	answer("w-cy", "Cy Twombly", 3, "")
	s.Sync()

	login(t, ctx, s, "/cases")
	rows := run(t, ctx, chromedp.Text(chromedp.CSS(`#cases tbody`)))
	for _, want := range []string{"Ada Lovelace", "Bo Diddley", "Cy Twombly", "After order: NPS 2 — The parcel came a week late", "overdue by 6 h", "due in 1 d"} {
		if !strings.Contains(rows, want) {
			t.Errorf("the queue lacks %q: %q", want, rows)
		}
	}
	if strings.Contains(rows, "Survey Responded") {
		t.Errorf("a case is titled by its event: %q", rows)
	}
	if got := run(t, ctx, chromedp.Text(chromedp.CSS(`#case-tabs a[data-status=open] .n`))); got != "3" {
		t.Errorf("open tab: %q", got)
	}
	// Tick Ada's and Bo's, assign them to Sam.
	ids := map[string]string{}
	for _, who := range []string{"Ada Lovelace", "Bo Diddley", "Cy Twombly"} {
		id := run(t, ctx, chromedp.Evaluate[string](fmt.Sprintf(`[...document.querySelectorAll("#cases tbody tr")].find(r => r.innerText.includes(%q)).dataset.case`, who)))
		ids[who] = id
	}
	for _, who := range []string{"Ada Lovelace", "Bo Diddley"} {
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#cases tr[data-case=%q] input[type=checkbox]`, ids[who])))); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`#bulk-assign select[name=assignee]`), "sam")); err != nil {
		t.Fatal(err)
	}
	// The queue it lands on is the one it left: wait for Sam's name in it.
	if err := chromedp.Do(ctx, chromedp.Submit(chromedp.CSS(`#bulk-assign select[name=assignee]`))); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.readyState === "complete" ? [...document.querySelectorAll("#cases td.assignee")].filter(td => td.innerText.trim() === "sam").length : 0`))
		if err == nil && n == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the ticked cases were not assigned to sam: %d (%v)", n, err)
		}
	}
	// The trail says what the bulk assignment did: to whom, which cases.
	var trail struct {
		Entries []struct {
			Action, Resource, ResourceID, Route string
			After                               struct {
				Assignee string
				Cases    []string
			}
		}
	}
	s.API("GET", "/api/v1/audit?action=assign", nil, &trail)
	if len(trail.Entries) != 1 || trail.Entries[0].Route != "/cases/assign" || trail.Entries[0].After.Assignee != "sam" || len(trail.Entries[0].After.Cases) != 2 ||
		!strings.Contains(trail.Entries[0].ResourceID, trail.Entries[0].After.Cases[1]) {
		t.Errorf("the bulk assignment in the trail: %+v", trail.Entries)
	}
	open(t, ctx, s.URL+"/cases?assignee=sam", `#cases`)
	rows = run(t, ctx, chromedp.Text(chromedp.CSS(`#cases tbody`)))
	if !strings.Contains(rows, "Ada Lovelace") || !strings.Contains(rows, "Bo Diddley") || strings.Contains(rows, "Cy Twombly") {
		t.Errorf("Sam's cases: %q", rows)
	}
	open(t, ctx, s.URL+"/cases?assignee=(nobody)", `#cases`)
	if rows = run(t, ctx, chromedp.Text(chromedp.CSS(`#cases tbody`))); !strings.Contains(rows, "Cy Twombly") || strings.Contains(rows, "Ada") {
		t.Errorf("unassigned cases: %q", rows)
	}

	// Ada's case: what opened it, who has it, resolve, reopen.
	open(t, ctx, s.URL+"/cases/"+ids["Ada Lovelace"], `#case-origin`)
	origin := run(t, ctx, chromedp.Text(chromedp.CSS(`#case-origin`)))
	if !strings.Contains(origin, "The parcel came a week late") || !strings.Contains(origin, "2") {
		t.Errorf("what opened it: %q", origin)
	}
	if got := run(t, ctx, chromedp.Text(chromedp.CSS(`#case-assignee`))); got != "assigned to sam" {
		t.Errorf("assignee: %q", got)
	}
	// The case offers only those who work its team's cases; the API
	// refuses anyone else, naming the field, and leaves the case as it was.
	offered := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#assignee option")].map(o => o.value)`))
	if !slices.Contains(offered, "sam") || slices.Contains(offered, "lee") || !slices.Contains(offered, "") {
		t.Errorf("the case offers %q", offered)
	}
	if sel := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("#assignee").value`)); sel != "sam" {
		t.Errorf("the assignee chosen: %q", sel)
	}
	for _, who := range []string{"lee", "samm"} {
		var e struct {
			Error struct{ Field, Message string }
		}
		if code := s.API("POST", "/api/v1/cases/"+ids["Ada Lovelace"]+"/assign", map[string]any{"assignee": who}, &e); code != 400 || e.Error.Field != "assignee" || !strings.Contains(e.Error.Message, "sam") {
			t.Errorf("assigning to %s: %d %+v", who, code, e)
		}
	}
	if got := run(t, ctx, chromedp.Text(chromedp.CSS(`.sub .sla`))); !strings.HasPrefix(got, "overdue by") {
		t.Errorf("the case's SLA: %q", got)
	}
	checkFits(t, ctx, s.URL+"/cases/"+ids["Ada Lovelace"], `#case-origin`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#resolve textarea`), "Refunded the shipping.")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `#resolve textarea`, "/cases/"+ids["Ada Lovelace"])
	waitFor(t, ctx, `#reopen`)
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(`#reopen textarea`), "She wrote again: still no refund.")); err != nil {
		t.Fatal(err)
	}
	// The page it lands on is the one it left: wait for the form to go.
	if err := chromedp.Do(ctx, chromedp.Submit(chromedp.CSS(`#reopen textarea`))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, ctx, `#resolve`)
	if got := run(t, ctx, chromedp.Text(chromedp.CSS(`#case-status`))); got != "open" {
		t.Errorf("after reopening: %q", got)
	}
	if notes := run(t, ctx, chromedp.Text(chromedp.CSS(`#notes`))); !strings.Contains(notes, "still no refund") {
		t.Errorf("the reopening's note: %q", notes)
	}
	var c struct {
		Status     string
		ResolvedAt *string
	}
	s.API("GET", "/api/v1/cases/"+ids["Ada Lovelace"], nil, &c)
	if c.Status != "open" || c.ResolvedAt != nil {
		t.Errorf("the reopened case in the API: %+v", c)
	}
	checkFits(t, ctx, s.URL+"/cases?status=all", `#cases`)
}
