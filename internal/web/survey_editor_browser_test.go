package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	qrcode "github.com/skip2/go-qrcode"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
	"github.com/cxloop/cxloop/internal/survey"
)

// rect is where an element is on the page.
type rect struct{ Left, Top, Right, Bottom float64 }

func rectOf(t *testing.T, ctx context.Context, sel string) rect {
	t.Helper()
	return run(t, ctx, chromedp.Evaluate[rect](`(() => { const r = document.querySelector(`+jsString(sel)+`).getBoundingClientRect();
		return {Left: r.left, Top: r.top, Right: r.right, Bottom: r.bottom}; })()`))
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// A person builds a survey of three question types in the editor, edits
// it — a fourth question, a new order, German beside English, a schedule
// from the picker —, previews it in German, takes its link and QR code,
// and answers it through the link; the answer shows on the results page.
func TestConsoleSurveyEditor(t *testing.T) {
	ctx := browser(t)
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]))
	login(t, ctx, s, "/surveys/new")
	waitFor(t, ctx, `#editor`)

	// New: NPS (the editor's first question), one choice, open text.
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "Relationship"),
		chromedp.SendKeys(chromedp.CSS(`input[name=owner]`), "cx"),
		chromedp.SetValue(chromedp.CSS(`select[name=rhythm]`), "pulse"),
		chromedp.SetValue(chromedp.CSS(`textarea[name=q1_text_en]`), "How likely are you to recommend us?"),
		chromedp.SetValue(chromedp.CSS(`select[name=add_type]`), "single"),
		chromedp.Click(chromedp.CSS(`#add-question`)),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name=q2_choices_en]`)),
		chromedp.SetValue(chromedp.CSS(`textarea[name=q2_text_en]`), "What matters most to you?"),
		chromedp.SetValue(chromedp.CSS(`textarea[name=q2_choices_en]`), "Price\nService\nRange"),
		chromedp.SetValue(chromedp.CSS(`select[name=add_type]`), "text"),
		chromedp.Click(chromedp.CSS(`#add-question`)),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name=q3_text_en]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	// What was typed before the round trips is still there.
	if v := run(t, ctx, chromedp.Evaluate[string](`document.querySelector("textarea[name=q2_choices_en]").value + "|" + document.querySelector("input[name=name]").value`)); v != "Price\nService\nRange|Relationship" {
		t.Fatalf("after adding questions the form holds %q", v)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`textarea[name=q3_text_en]`), "Anything else?")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `#save-survey`, "")
	waitFor(t, ctx, `#score`)
	page := run(t, ctx, chromedp.Location())
	id := page[strings.LastIndex(page, "/")+1:]
	var sv survey.Survey
	s.API("GET", "/api/v1/surveys/"+id, nil, &sv)
	if len(sv.Questions) != 3 || sv.Questions[0].Type != "nps" || sv.Questions[1].Type != "single" || sv.Questions[2].Type != "text" ||
		len(sv.Questions[1].Choices) != 3 || sv.Questions[1].Choices[1].Text["en"] != "Service" || sv.Rhythm != "pulse" {
		t.Fatalf("created %+v", sv)
	}

	// Edit: a scale question, moved up above the open text; German beside English.
	open(t, ctx, s.URL+"/surveys/"+id+"/edit", `#editor`)
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`select[name=add_type]`), "scale"),
		chromedp.Click(chromedp.CSS(`#add-question`)),
		chromedp.WaitVisible(chromedp.CSS(`input[name=q4_min]`)),
		chromedp.SetValue(chromedp.CSS(`textarea[name=q4_text_en]`), "How easy was it to find what you wanted?"),
		chromedp.SetValue(chromedp.CSS(`input[name=q4_min]`), "1"),
		chromedp.SetValue(chromedp.CSS(`input[name=q4_max]`), "5"),
		chromedp.SetValue(chromedp.CSS(`input[name=q4_min_label_en]`), "Hard"),
		chromedp.SetValue(chromedp.CSS(`input[name=q4_max_label_en]`), "Easy"),
		chromedp.Click(chromedp.CSS(`button[value="up:4"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#question-3 input[name=q3_min]`)),
		chromedp.SendKeys(chromedp.CSS(`input[name=add_lang]`), "de"),
		chromedp.Click(chromedp.CSS(`#add-lang`)),
		chromedp.WaitVisible(chromedp.CSS(`textarea[name=q1_text_de]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	// The scale question is third now, the open text fourth, each with what was typed.
	if v := run(t, ctx, chromedp.Evaluate[string](`[3, 4].map(n => document.querySelector("textarea[name=q" + n + "_text_en]").value).join("|")`)); v != "How easy was it to find what you wanted?|Anything else?" {
		t.Fatalf("after moving up, questions 3 and 4 read %q", v)
	}
	en, de := rectOf(t, ctx, `textarea[name=q1_text_en]`), rectOf(t, ctx, `textarea[name=q1_text_de]`)
	if de.Left < en.Right || de.Top != en.Top {
		t.Errorf("German text at %+v is not beside English at %+v", de, en)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`textarea[name=q1_text_de]`), "Wie wahrscheinlich ist es, dass Sie uns empfehlen?"),
		chromedp.SetValue(chromedp.CSS(`textarea[name=q2_text_de]`), "Was ist Ihnen am wichtigsten?"),
		chromedp.SetValue(chromedp.CSS(`textarea[name=q2_choices_de]`), "Preis\nService\nAuswahl"),
		chromedp.SetValue(chromedp.CSS(`textarea[name=q3_text_de]`), "Wie leicht fanden Sie, was Sie suchten?"),
		chromedp.SetValue(chromedp.CSS(`select[name=rhythm]`), "periodic"),
		chromedp.WaitVisible(chromedp.CSS(`#sched-freq`)),
		chromedp.SetValue(chromedp.CSS(`#sched-freq`), "weekly"),
		chromedp.SetValue(chromedp.CSS(`#sched-weekday`), "TH"),
		chromedp.SetValue(chromedp.CSS(`#sched-interval`), "2"),
		chromedp.SetValue(chromedp.CSS(`#sched-time`), "14:30"),
	)
	if err != nil {
		t.Fatal(err)
	}
	// SetValue fires no event: say the time changed, as typing would.
	run(t, ctx, chromedp.Evaluate[bool](`document.getElementById("sched-time").dispatchEvent(new Event("change", {bubbles: true}))`))
	const wantRule = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=14;BYMINUTE=30"
	if shown := run(t, ctx, chromedp.Text(chromedp.CSS(`#rrule`))); shown != wantRule {
		t.Errorf("the picker shows the rule %q, want %q", shown, wantRule)
	}
	if run(t, ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector("#schedule .for-weekly")).display !== "none" && getComputedStyle(document.querySelector("#trigger")).display === "none"`)) == false {
		t.Error("a weekly periodic survey shows no weekday, or still the persistent trigger")
	}

	// A refused save shows the problem beside the question and loses nothing.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`input[name=q3_min]`), "5")); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#save-survey`)), chromedp.WaitVisible(chromedp.CSS(`#editor-problem`))); err != nil {
		t.Fatal(err)
	}
	if msg := run(t, ctx, chromedp.Text(chromedp.CSS(`#question-3 .field-error`))); !strings.Contains(msg, "min < max") {
		t.Errorf("question 3's error: %q", msg)
	}
	kept := run(t, ctx, chromedp.Evaluate[string](`["textarea[name=q1_text_de]", "textarea[name=q2_choices_de]", "#sched-weekday", "#sched-time"].map(s => document.querySelector(s).value).join("|")`))
	if kept != "Wie wahrscheinlich ist es, dass Sie uns empfehlen?|Preis\nService\nAuswahl|TH|14:30" {
		t.Errorf("after the refusal the form holds %q", kept)
	}
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`input[name=q3_min]`), "1")); err != nil {
		t.Fatal(err)
	}
	submit(t, ctx, `#save-survey`, "/surveys/"+id)
	waitFor(t, ctx, `#score`)

	s.API("GET", "/api/v1/surveys/"+id, nil, &sv)
	if sv.Schedule == nil || sv.Schedule.RRule != wantRule || sv.Rhythm != "periodic" {
		t.Errorf("stored schedule %+v, rhythm %s", sv.Schedule, sv.Rhythm)
	}
	var order []string
	for _, q := range sv.Questions {
		order = append(order, q.ID+":"+q.Type)
	}
	if strings.Join(order, " ") != "q1:nps q2:single q4:scale q3:text" {
		t.Errorf("stored questions %v", order)
	}
	if q, _ := sv.Question("q2"); len(q.Choices) != 3 || q.Choices[2].ID != "c3" || q.Choices[2].Text["de"] != "Auswahl" || q.Text["de"] == "" {
		t.Errorf("choices %+v", q)
	}
	if strings.Join(sv.Languages, ",") != "en,de" || sv.DefaultLanguage != "en" {
		t.Errorf("languages %v, default %s", sv.Languages, sv.DefaultLanguage)
	}
	// The picker reads the stored rule back.
	open(t, ctx, s.URL+"/surveys/"+id+"/edit", `#editor`)
	if v := run(t, ctx, chromedp.Evaluate[string](`["#sched-freq", "#sched-interval", "#sched-weekday", "#sched-time"].map(s => document.querySelector(s).value).join(" ")`)); v != "weekly 2 TH 14:30" {
		t.Errorf("the picker reads the stored rule as %q", v)
	}

	// Preview in German, framed on the survey's page: nothing is recorded.
	open(t, ctx, s.URL+"/surveys/"+id, `#preview`)
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#preview-lang`), "de"),
		chromedp.Click(chromedp.CSS(`#show-preview`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	var framed string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		framed = run(t, ctx, chromedp.Evaluate[string](`(() => { const d = document.getElementById("survey-preview").contentDocument; return d && d.documentElement.lang === "de" ? d.body.innerText : ""; })()`))
		if framed != "" {
			break
		}
	}
	if !strings.Contains(framed, "Wie wahrscheinlich ist es") || !strings.Contains(framed, "Auswahl") || !strings.Contains(framed, "Preview") {
		t.Errorf("the German preview reads %q", framed)
	}
	// The frame is as tall as the page it shows: its button is not cut off,
	// and no blank space is left under it.
	var fits bool
	for deadline := time.Now().Add(5 * time.Second); !fits && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		fits = run(t, ctx, chromedp.Evaluate[bool](`(() => { const f = document.getElementById("survey-preview"); const b = f.contentDocument.querySelector("button[type=submit]");
			return !!b && b.getBoundingClientRect().bottom <= f.clientHeight && Math.abs(f.clientHeight - f.contentDocument.documentElement.scrollHeight) <= 8; })()`))
	}
	if !fits {
		t.Error("the preview's button is cut off by its frame")
	}
	open(t, ctx, s.URL+"/surveys/"+id+"/preview?lang=de", `#preview-notice`)
	if !run(t, ctx, chromedp.Evaluate[bool](`document.querySelector("button[type=submit]").disabled && !document.querySelector("form[method=post]").hasAttribute("action")`)) {
		t.Error("the preview's form can be sent")
	}

	// The link, its copy button and its QR code.
	open(t, ctx, s.URL+"/surveys/"+id, `#share`)
	link := run(t, ctx, chromedp.Evaluate[string](`document.getElementById("survey-link").value`))
	if !strings.HasPrefix(link, s.URL+"/s/"+id+".") {
		t.Fatalf("survey link %q", link)
	}
	if !run(t, ctx, chromedp.Evaluate[bool](`!document.getElementById("copy-link").hidden && document.getElementById("survey-qr").naturalWidth > 0`)) {
		t.Error("no copy button or no QR code image on the survey's page")
	}
	if note := run(t, ctx, chromedp.Text(chromedp.CSS(`#no-email`))); !strings.Contains(note, "Email is not configured") {
		t.Errorf("without SMTP the page says %q", note)
	}
	b64 := run(t, ctx, chromedp.Evaluate[string](`fetch("/surveys/`+id+`/qr.png").then(r => r.headers.get("Content-Type") === "image/png" ? r.arrayBuffer() : new ArrayBuffer(0)).then(b => btoa(String.fromCharCode(...new Uint8Array(b))))`,
		chromedp.EvalAwaitPromise))
	qr, _ := base64.StdEncoding.DecodeString(b64)
	img, err := png.Decode(bytes.NewReader(qr))
	if err != nil {
		t.Fatalf("the QR code is not a PNG (%d bytes): %v", len(qr), err)
	}
	want, _ := qrcode.Encode(link, qrcode.Medium, 320)
	if img.Bounds().Dx() < 100 || !bytes.Equal(qr, want) {
		t.Errorf("the QR code (%v) is not the link's", img.Bounds())
	}
	if n := responses(t, s, id); n != 0 {
		t.Fatalf("before anyone answered the survey has %d responses", n)
	}

	// A customer answers through the link.
	err = chromedp.Do(ctx,
		chromedp.Navigate(link),
		chromedp.WaitVisible(chromedp.CSS(`form[method=post]`)),
		chromedp.Click(chromedp.CSS(`input[name=q1][value="10"] + span`)),
		chromedp.Click(chromedp.CSS(`input[name=q2][value=c2]`)),
		chromedp.Click(chromedp.CSS(`input[name=q4][value="4"] + span`)),
		chromedp.SendKeys(chromedp.CSS(`textarea[name=q3]`), "Lovely shop"),
		chromedp.Click(chromedp.CSS(`button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`[role=status]`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	if thanks := run(t, ctx, chromedp.Text(chromedp.CSS(`[role=status]`))); !strings.Contains(thanks, "Thank you") {
		t.Fatalf("after answering: %q", thanks)
	}
	open(t, ctx, s.URL+"/surveys/"+id, `#score`)
	value, n := run(t, ctx, chromedp.Text(chromedp.CSS(`#score-value`))), run(t, ctx, chromedp.Text(chromedp.CSS(`#score-n`)))
	dists := run(t, ctx, chromedp.Text(chromedp.CSS(`main`)))
	if dir := os.Getenv("CXLOOP_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "survey-share.png"), run(t, ctx, chromedp.FullScreenshot(100)), 0o644)
	}
	if strings.TrimSpace(value) != "100" || strings.TrimSpace(n) != "1" {
		t.Errorf("results show NPS %q with n %q, want 100 and 1", value, n)
	}
	if !strings.Contains(dists, "Service") || !strings.Contains(dists, "Lovely shop") {
		t.Errorf("the results page lacks the answer's choice or text: %.600q", dists)
	}

	// Answered, the survey's questions keep their ids and types.
	open(t, ctx, s.URL+"/surveys/"+id+"/edit", `#answered-note`)
	if run(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll("select.qtype, button[value^=remove]").length`)) != 0 {
		t.Error("an answered survey's editor offers to change a type or remove a question")
	}
	if dir := os.Getenv("CXLOOP_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "survey-editor.png"), run(t, ctx, chromedp.FullScreenshot(100)), 0o644)
	}
}

// responses counts a survey's responses through the API.
func responses(t *testing.T, s *apptest.Server, id string) int {
	t.Helper()
	var out struct{ Responses []any }
	s.API("GET", "/api/v1/surveys/"+id+"/responses", nil, &out)
	return len(out.Responses)
}

// The editor, with three languages side by side and every kind of
// question, fits a phone: nothing is wider than the screen.
func TestConsoleSurveyEditorFits(t *testing.T) {
	ctx := browser(t)
	s := apptest.Start(t, storetest.DSN(t, storetest.Engines()[len(storetest.Engines())-1]))
	three := func(en string) map[string]string {
		return map[string]string{"en": en, "de": en + " (de)", "fa": en + " (fa)"}
	}
	var sv struct{ ID string }
	s.API("POST", "/api/v1/surveys", map[string]any{"name": "A survey with a rather long name for a small screen", "rhythm": "periodic", "owner": "cx",
		"languages": []string{"en", "de", "fa"}, "schedule": map[string]any{"rrule": "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9"},
		"questions": []map[string]any{
			{"id": "q1", "type": "nps", "text": three("How likely are you to recommend us to a friend or colleague?")},
			{"id": "q2", "type": "multi", "text": three("Which of these did you use?"), "choices": []map[string]any{{"id": "a", "text": three("Delivery")}, {"id": "b", "text": three("Click and collect")}}},
			{"id": "q3", "type": "scale", "min": 1, "max": 5, "minLabel": three("Not at all"), "maxLabel": three("Completely"), "text": three("Did we solve it?")},
			{"id": "q4", "type": "acsi", "text": three("Overall")},
			{"id": "q5", "type": "text", "text": three("Anything else?")},
		}}, &sv)
	if sv.ID == "" {
		t.Fatal("the survey was not created")
	}
	login(t, ctx, s, "/surveys/"+sv.ID+"/edit")
	// An RRULE the picker cannot show stays as written.
	if v := run(t, ctx, chromedp.Evaluate[string](`document.getElementById("sched-freq").value + " " + document.getElementById("sched-custom").value`)); v != "custom FREQ=MONTHLY;BYDAY=1MO;BYHOUR=9" {
		t.Errorf("the picker shows the first-Monday rule as %q", v)
	}
	checkFits(t, ctx, s.URL+"/surveys/"+sv.ID+"/edit", `#editor`)
	checkFits(t, ctx, s.URL+"/surveys/new", `#editor`)
	checkFits(t, ctx, s.URL+"/surveys/"+sv.ID, `#share`)
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 900)); err != nil {
		t.Fatal(err)
	}
	open(t, ctx, s.URL+"/surveys/"+sv.ID+"/edit", `#editor`)
	if wide := run(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("main *")].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map(e => e.tagName + "." + e.className)`)); len(wide) > 0 {
		t.Errorf("at 390 px these reach past the screen: %v", wide)
	}
	// As the customer sees it on a phone, and in the preview framed on the
	// survey's page there, the 0–10 scale lies in two even rows (0–5,
	// 6–10), not three with a lone 10.
	const scaleRows = `(d => { const tops = {}; for (const l of d.querySelector(".scale[data-n='11']").querySelectorAll("label")) { const y = Math.round(l.getBoundingClientRect().top); tops[y] = (tops[y] || 0) + 1; } return Object.keys(tops).sort((a, b) => a - b).map(k => tops[k]); })`
	open(t, ctx, s.URL+"/surveys/"+sv.ID+"/preview", `.scale`)
	if rows := run(t, ctx, chromedp.Evaluate[[]int](scaleRows+`(document)`)); fmt.Sprint(rows) != "[6 5]" {
		t.Errorf("at 390 px the 0–10 scale's rows hold %v buttons", rows)
	}
	open(t, ctx, s.URL+"/surveys/"+sv.ID, `#preview`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#show-preview`))); err != nil {
		t.Fatal(err)
	}
	var framed []int
	for deadline := time.Now().Add(10 * time.Second); len(framed) == 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		framed = run(t, ctx, chromedp.Evaluate[[]int](`(() => { const d = document.getElementById("survey-preview").contentDocument; return d && d.querySelector(".scale[data-n='11'] label") ? `+scaleRows+`(d) : []; })()`))
	}
	if fmt.Sprint(framed) != "[6 5]" {
		t.Errorf("at 390 px the framed preview's 0–10 scale rows hold %v buttons", framed)
	}
	if dir := os.Getenv("CXLOOP_SCREENSHOTS"); dir != "" {
		_ = os.WriteFile(filepath.Join(dir, "survey-editor-phone.png"), run(t, ctx, chromedp.FullScreenshot(100)), 0o644)
	}
}
