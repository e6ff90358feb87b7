package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

// Limits of the Segment HTTP Tracking API.
const (
	MaxMessageBytes = 32 << 10
	MaxRequestBytes = 500 << 10
	maxIDLength     = 512
)

// knownFields are the top-level fields of the Segment spec; any other
// top-level field a client sends is kept and also copied into properties.
var knownFields = map[string]bool{
	"type": true, "messageId": true, "userId": true, "anonymousId": true, "previousId": true, "groupId": true,
	"event": true, "name": true, "category": true, "properties": true, "traits": true, "context": true,
	"integrations": true, "timestamp": true, "originalTimestamp": true, "sentAt": true, "receivedAt": true,
	"channel": true, "version": true, "writeKey": true, "_metadata": true, "options": true, "timestampCorrected": true,
}

// request carries what every message of one HTTP request shares.
type request struct {
	source   Source
	received time.Time
	sentAt   json.RawMessage // batch-level sentAt
	context  map[string]json.RawMessage
	ip       string
	ctx      context.Context
	checks   *checks // what other packages check of their events (check.go)
	typ      string  // the type a single message's path names ("" for a batch)
}

// normalize validates one message of type typ and returns it as a log event.
// typ is empty for batch items, which name their own type.
func (rq *request) normalize(typ string, m map[string]json.RawMessage) (eventlog.Event, error) {
	var e eventlog.Event
	if t, _, err := str(m, "type"); err != nil {
		return e, err
	} else if typ == "" {
		typ = t
		if typ == "" {
			return e, fault.Field("type", "type is required (track, identify, page, screen, group or alias)")
		}
	}
	if !eventlog.IsType(typ) {
		return e, fault.Field("type", "type %q is not one of track, identify, page, screen, group, alias", typ)
	}
	m["type"] = quote(typ)
	e.Type = typ
	// A browser sends its write key in the body; it authorised the request
	// and is never stored.
	delete(m, "writeKey")

	var err error
	if e.UserID, err = id(m, "userId"); err != nil {
		return e, err
	}
	if e.AnonymousID, err = id(m, "anonymousId"); err != nil {
		return e, err
	}
	if e.UserID == "" && e.AnonymousID == "" {
		return e, fault.Field("userId", "userId or anonymousId is required")
	}
	switch typ {
	case eventlog.Track:
		if e.Event, _, err = str(m, "event"); err != nil {
			return e, err
		}
		if strings.TrimSpace(e.Event) == "" {
			return e, fault.Field("event", "track needs an event name")
		}
		if len(e.Event) > 400 {
			return e, fault.Field("event", "event name is longer than 400 characters")
		}
	case eventlog.Group:
		g, err := id(m, "groupId")
		if err != nil {
			return e, err
		}
		if g == "" {
			return e, fault.Field("groupId", "group needs a groupId")
		}
	case eventlog.Alias:
		p, err := id(m, "previousId")
		if err != nil {
			return e, err
		}
		if p == "" {
			return e, fault.Field("previousId", "alias needs a previousId")
		}
		if e.UserID == "" {
			return e, fault.Field("userId", "alias needs a userId")
		}
	case eventlog.Page, eventlog.Screen:
		if _, _, err := str(m, "name"); err != nil {
			return e, err
		}
	}
	if typ == eventlog.Identify {
		contextTraits(m)
	}
	for _, f := range []string{"properties", "traits", "integrations"} {
		if err := object(m, f); err != nil {
			return e, err
		}
	}

	if e.MessageID, err = id(m, "messageId"); err != nil {
		return e, err
	}
	if e.MessageID == "" {
		e.MessageID = store.NewID("msg")
	}
	m["messageId"] = quote(e.MessageID)

	if err := rq.times(m, &e); err != nil {
		return e, err
	}
	if err := rq.channel(m, &e); err != nil {
		return e, err
	}
	if err := keepUnknown(m); err != nil {
		return e, err
	}
	if err := rq.check(&e, m); err != nil {
		return e, err
	}
	e.Body = encodeObject(m)
	e.SourceID = rq.source.ID
	return e, nil
}

// maxAhead is how far ahead of its arrival an event's time may be.
const maxAhead = 24 * time.Hour

// times applies Segment's clock-skew correction:
// timestamp = receivedAt − (sentAt − originalTimestamp).
func (rq *request) times(m map[string]json.RawMessage, e *eventlog.Event) error {
	client, hasClient, err := when(m, "originalTimestamp")
	if err != nil {
		return err
	}
	if !hasClient {
		if client, hasClient, err = when(m, "timestamp"); err != nil {
			return err
		}
	}
	sent, hasSent, err := when(m, "sentAt")
	if err != nil {
		return err
	}
	if !hasSent && rq.sentAt != nil {
		if sent, hasSent, err = when(map[string]json.RawMessage{"sentAt": rq.sentAt}, "sentAt"); err != nil {
			return err
		}
		if hasSent {
			m["sentAt"] = rq.sentAt
		}
	}
	ts := rq.received
	switch {
	case hasClient && hasSent:
		ts = rq.received.Add(-sent.Sub(client))
	case hasClient:
		ts = client
	}
	if hasClient {
		m["originalTimestamp"] = quote(client.UTC().Format(msLayout))
	}
	if ts.Sub(rq.received) > maxAhead {
		// A time more than a day ahead of its arrival is a wrong clock,
		// not a future event: it happened when it arrived. The time sent
		// stays in originalTimestamp.
		ts = rq.received
		m["timestampCorrected"] = json.RawMessage(`true`)
	}
	m["timestamp"] = quote(ts.UTC().Format(msLayout))
	m["receivedAt"] = quote(rq.received.UTC().Format(msLayout))
	e.Timestamp = ts.UnixMilli()
	e.ReceivedAt = rq.received.UnixMilli()
	return nil
}

// channel decides the touchpoint's channel: context.channel, else the
// source's configured channel, else the top-level channel, else the library.
func (rq *request) channel(m map[string]json.RawMessage, e *eventlog.Event) error {
	var ctx map[string]json.RawMessage
	if raw, ok := m["context"]; ok && !isNull(raw) {
		if ctx, ok = splitObject(raw); !ok || ctx == nil {
			return fault.Field("context", "context must be an object")
		}
	} else {
		ctx = map[string]json.RawMessage{}
	}
	for k, v := range rq.context {
		if _, ok := ctx[k]; !ok {
			ctx[k] = v
		}
	}
	given, _, err := str(ctx, "channel")
	if err != nil {
		return fault.Field("context.channel", "context.channel must be a string")
	}
	ch := NormalizeChannel(given)
	if given != "" && ch == "" {
		return fault.Field("context.channel", "channel %q is not a lower-case name such as web, store or call_centre", given)
	}
	if ch == "" {
		ch = rq.source.Channel
	}
	if ch == "" {
		top, _, _ := str(m, "channel")
		ch = NormalizeChannel(top)
	}
	if ch == "" {
		var lib struct {
			Name string `json:"name"`
		}
		if raw, ok := ctx["library"]; ok {
			_ = json.Unmarshal(raw, &lib)
		}
		ch = libraryChannel(lib.Name)
	}
	if ch == "" {
		ch = "server"
	}
	contact, _, err := str(ctx, "contact")
	if err != nil || (contact != "" && contact != "direct" && contact != "indirect") {
		return fault.Field("context.contact", "context.contact must be direct or indirect")
	}
	if contact == "" {
		contact = DefaultContact(ch)
	}
	if raw, ok := ctx["backfill"]; ok && !isNull(raw) {
		if s := string(raw); s != "true" && s != "false" {
			return fault.Field("context.backfill", "context.backfill must be true (history being loaded: reports read it, rules and surveys do not act on it) or false")
		}
	}
	ctx["channel"] = quote(ch)
	ctx["contact"] = quote(contact)
	if _, ok := ctx["ip"]; !ok && rq.ip != "" {
		ctx["ip"] = quote(rq.ip)
	}
	m["context"] = encodeObject(ctx)
	e.Channel, e.Contact = ch, contact
	return nil
}

// keepUnknown copies top-level fields outside the spec into properties, so
// that what a client sent stays queryable where consumers look.
func keepUnknown(m map[string]json.RawMessage) error {
	var extra []string
	for k := range m {
		if !knownFields[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	var props map[string]json.RawMessage
	if raw, ok := m["properties"]; ok && !isNull(raw) {
		if props, ok = splitObject(raw); !ok || props == nil {
			return fault.Field("properties", "properties must be an object")
		}
	} else {
		props = map[string]json.RawMessage{}
	}
	for _, k := range extra {
		if _, ok := props[k]; !ok {
			props[k] = m[k]
		}
	}
	m["properties"] = encodeObject(props)
	return nil
}

// contextTraits moves an identify's context.traits up to traits when it has
// no traits of its own (missing, null or {}), as RudderStack's SDKs send them.
func contextTraits(m map[string]json.RawMessage) {
	if raw, ok := m["traits"]; ok && !isNull(raw) {
		if t, ok := splitObject(raw); !ok || len(t) > 0 {
			return
		}
	}
	raw, ok := m["context"]
	if !ok || isNull(raw) {
		return
	}
	ctx, ok := splitObject(raw)
	if !ok || ctx == nil {
		return
	}
	if t, ok := ctx["traits"]; ok && !isNull(t) {
		if b := bytes.TrimSpace(t); len(b) > 0 && b[0] == '{' {
			m["traits"] = t
		}
	}
}

// encodeObject writes m as a JSON object with sorted keys. Its values are
// raw JSON that json.Unmarshal has already checked (or that quote made), so
// unlike json.Marshal it does not scan them again.
func encodeObject(m map[string]json.RawMessage) json.RawMessage {
	keys := make([]string, 0, len(m))
	n := 2
	for k, v := range m {
		keys = append(keys, k)
		n += len(k) + len(v) + 4
	}
	sort.Strings(keys)
	b := make([]byte, 0, n)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, quote(k)...)
		b = append(b, ':')
		if v := m[k]; len(v) == 0 {
			b = append(b, "null"...)
		} else {
			b = append(b, v...)
		}
	}
	return append(b, '}')
}

// quote writes s as a JSON string.
func quote(s string) json.RawMessage {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return b
		}
	}
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// plainString returns the text of a raw JSON string without escapes, which
// is most of them, without running the decoder.
func plainString(raw json.RawMessage) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' || bytes.IndexByte(raw[1:len(raw)-1], '\\') >= 0 {
		return "", false
	}
	return string(raw[1 : len(raw)-1]), true
}

func isNull(raw json.RawMessage) bool {
	return len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null"
}

// str reads an optional string field.
func str(m map[string]json.RawMessage, key string) (string, bool, error) {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return "", false, nil
	}
	s, ok := plainString(raw)
	if !ok && json.Unmarshal(raw, &s) != nil {
		return "", false, fault.Field(key, "%s must be a string", key)
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", false, fault.Field(key, "%s must not contain NUL characters", key)
	}
	return s, true, nil
}

// id reads an identifier: a string, or a number kept as its literal.
func id(m map[string]json.RawMessage, key string) (string, error) {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return "", nil
	}
	s, ok := plainString(raw)
	if !ok && json.Unmarshal(raw, &s) != nil {
		var n json.Number
		if err := json.Unmarshal(raw, &n); err != nil {
			return "", fault.Field(key, "%s must be a string or a number", key)
		}
		s = n.String()
		m[key] = quote(s)
	}
	s = strings.TrimSpace(s)
	if strings.IndexByte(s, 0) >= 0 {
		return "", fault.Field(key, "%s must not contain NUL characters", key)
	}
	if len(s) > maxIDLength {
		return "", fault.Field(key, "%s is longer than %d characters", key, maxIDLength)
	}
	return s, nil
}

func object(m map[string]json.RawMessage, key string) error {
	raw, ok := m[key]
	if !ok || isNull(raw) {
		return nil
	}
	if b := bytes.TrimSpace(raw); len(b) == 0 || b[0] != '{' {
		return fault.Field(key, "%s must be an object", key)
	}
	return nil
}

// msLayout is how cxloop writes times: ISO-8601 in UTC to the millisecond.
const msLayout = "2006-01-02T15:04:05.000Z07:00"

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00", "2006-01-02"}

// when reads an optional ISO-8601 time field.
func when(m map[string]json.RawMessage, key string) (time.Time, bool, error) {
	s, ok, err := str(m, key)
	if err != nil || !ok || s == "" {
		if err != nil {
			return time.Time{}, false, fault.Field(key, "%s must be an ISO-8601 time", key)
		}
		return time.Time{}, false, nil
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			if t.Year() < 1970 || t.Year() > 9999 {
				break
			}
			return t, true, nil
		}
	}
	return time.Time{}, false, fault.Field(key, "%s %q is not an ISO-8601 time", key, s)
}
