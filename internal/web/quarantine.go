package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/ingest"
	"github.com/cxloop/cxloop/internal/store"
)

// quarantinePage is how many refused messages one page of the list shows.
const quarantinePage = 50

// refusedRow is a quarantined message as the list shows it.
type refusedRow struct {
	ingest.Refused
	Source, FieldName, Preview string
	At                         store.Millis
}

// choice is one option of a filter: its value, its words and its count.
type choice struct {
	Value, Label string
	N            int
}

func sourceLabel(r ingest.Refused) string {
	switch {
	case r.SourceName == "":
		return "removed source " + r.SourceID
	case r.SourceRemoved:
		return r.SourceName + " (removed)"
	}
	return r.SourceName
}

// preview is the start of a message on one line.
func preview(raw json.RawMessage) string {
	s := strings.Join(strings.Fields(string(raw)), " ")
	if r := []rune(s); len(r) > 120 {
		return string(r[:119]) + "…"
	}
	return s
}

// quarantineList lists refused messages newest first, 50 a page, filtered
// by source and field, with counts.
func (c *Console) quarantineList(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAnalyst) {
		c.fail(w, r, fault.New(fault.Forbidden, "the quarantine needs the analyst role"))
		return
	}
	q := r.URL.Query()
	page, _ := strconv.Atoi(q.Get("page"))
	page = max(page, 1)
	f := ingest.QuarantineFilter{Source: q.Get("source"), Field: q.Get("field"), Limit: quarantinePage + 1, Offset: (page - 1) * quarantinePage}
	list, err := ingest.QuarantinedBy(r.Context(), c.DB, f)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	counts, err := ingest.QuarantineCounts(r.Context(), c.DB)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	total, matching := 0, 0
	sources, fields := map[string]*choice{}, map[string]*choice{}
	for _, n := range counts {
		total += n.N
		if (f.Source == "" || f.Source == n.SourceID) && (f.Field == "" || f.Field == n.Field) {
			matching += n.N
		}
		sc := sources[n.SourceID]
		if sc == nil {
			sc = &choice{Value: n.SourceID, Label: sourceLabel(ingest.Refused{SourceID: n.SourceID, SourceName: n.SourceName})}
			sources[n.SourceID] = sc
		}
		sc.N += n.N
		if n.Field == "" {
			continue // a message refused as a whole (too large): no field to filter by
		}
		fc := fields[n.Field]
		if fc == nil {
			fc = &choice{Value: n.Field, Label: n.Field}
			fields[n.Field] = fc
		}
		fc.N += n.N
	}
	more := len(list) > quarantinePage
	if more {
		list = list[:quarantinePage]
	}
	rows := make([]refusedRow, 0, len(list))
	for _, m := range list {
		rows = append(rows, refusedRow{Refused: m, Source: sourceLabel(m), FieldName: ingest.FieldName(m.Field), Preview: preview(m.Message), At: store.Millis(m.ReceivedAt)})
	}
	link := func(p int) string {
		v := url.Values{}
		for _, k := range []string{"source", "field"} {
			if q.Get(k) != "" {
				v.Set(k, q.Get(k))
			}
		}
		if p > 1 {
			v.Set("page", strconv.Itoa(p))
		}
		if len(v) == 0 {
			return "/quarantine"
		}
		return "/quarantine?" + v.Encode()
	}
	var next, prev string
	if more {
		next = link(page + 1)
	}
	if page > 1 {
		prev = link(page - 1)
	}
	c.render(w, r, http.StatusOK, "quarantine", view{Title: "Quarantine", Session: &s, Nav: "sources", Data: map[string]any{
		"Rows": rows, "Total": total, "Matching": matching, "Source": f.Source, "Field": f.Field,
		"Sources": sorted(sources), "Fields": sorted(fields), "Next": next, "Prev": prev, "Page": page,
		"First": f.Offset + 1, "Last": f.Offset + len(rows),
		"Replayed": q.Get("replayed"), "Suppressed": q.Get("suppressed") != "", "Erased": q.Get("erased") != "", "Discarded": q.Get("discarded")}})
}

func sorted(m map[string]*choice) []choice {
	out := make([]choice, 0, len(m))
	for _, c := range m {
		out = append(out, *c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

// quarantineMessage shows one refused message, pretty-printed for an admin
// to correct and replay, or discard; other roles read it.
func (c *Console) quarantineMessage(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAnalyst) {
		c.fail(w, r, fault.New(fault.Forbidden, "the quarantine needs the analyst role"))
		return
	}
	m, err := ingest.QuarantinedMessage(r.Context(), c.DB, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.renderQuarantined(w, r, s, http.StatusOK, m, pretty(m.Message), "")
}

func pretty(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Indent(&b, raw, "", "  ") != nil {
		return string(raw)
	}
	return b.String()
}

func (c *Console) renderQuarantined(w http.ResponseWriter, r *http.Request, s auth.Session, status int, m ingest.Refused, text, msg string) {
	c.render(w, r, status, "quarantined", view{Title: "Quarantined message", Session: &s, Nav: "sources", Error: msg, Data: map[string]any{
		"M": m, "Source": sourceLabel(m), "FieldName": ingest.FieldName(m.Field), "At": store.Millis(m.ReceivedAt), "Text": text,
		"Admin": s.Principal.Can(auth.RoleAdmin)}})
}

// quarantineAction replays (the corrected text of the form) or discards a
// quarantined message. A replay refused again, or text that is not JSON,
// shows the page again with the text as sent and the reason.
func (c *Console) quarantineAction(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if !s.Principal.Can(auth.RoleAdmin) {
		c.fail(w, r, fault.New(fault.Forbidden, "replaying and discarding quarantined messages need the admin role"))
		return
	}
	id := r.PathValue("id")
	switch r.PathValue("action") {
	case "discard":
		if _, err := ingest.Discard(r.Context(), c.DB, id); err != nil {
			c.fail(w, r, err)
			return
		}
		http.Redirect(w, r, "/quarantine?discarded="+url.QueryEscape(id), http.StatusSeeOther)
	case "replay":
		m, err := ingest.QuarantinedMessage(r.Context(), c.DB, id)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		text := r.PostFormValue("message")
		var corrected json.RawMessage
		if strings.TrimSpace(text) != "" {
			var v any
			if err := json.Unmarshal([]byte(text), &v); err != nil {
				c.renderQuarantined(w, r, s, http.StatusBadRequest, m, text, "The message is not valid JSON: "+err.Error()+". Correct it and replay again.")
				return
			}
			if _, ok := v.(map[string]any); !ok {
				c.renderQuarantined(w, r, s, http.StatusBadRequest, m, text, "The message must be a JSON object ({…}).")
				return
			}
			corrected = json.RawMessage(text)
		}
		if c.Ingest == nil {
			c.fail(w, r, fault.New(fault.Internal, "replay is not available on this node"))
			return
		}
		res, refused, err := c.Ingest.Replay(r, id, corrected)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		if refused != nil {
			msg := "Refused again: " + refused.Message
			if refused.Field != "" {
				msg = "Refused again, at " + refused.Field + ": " + refused.Message
			}
			c.renderQuarantined(w, r, s, http.StatusUnprocessableEntity, m, text, msg)
			return
		}
		v := url.Values{"replayed": {res.MessageID}}
		if res.Suppressed {
			v = url.Values{"suppressed": {"1"}}
		} else if res.Erased {
			v = url.Values{"erased": {"1"}}
		}
		http.Redirect(w, r, "/quarantine?"+v.Encode(), http.StatusSeeOther)
	default:
		c.fail(w, r, fault.New(fault.NotFound, "a quarantined message is replayed or discarded here"))
	}
}
