package eventlog

import (
	"encoding/json"
	"time"
)

// Event is one entry of the log: a Segment-spec message, normalised at ingestion.
type Event struct {
	Seq         int64           `json:"seq"`
	MessageID   string          `json:"messageId"`
	Type        string          `json:"type"`
	Event       string          `json:"event,omitempty"`
	UserID      string          `json:"userId,omitempty"`
	AnonymousID string          `json:"anonymousId,omitempty"`
	Channel     string          `json:"channel"`
	Contact     string          `json:"contact"`
	SourceID    string          `json:"sourceId"`
	Timestamp   int64           `json:"-"`
	ReceivedAt  int64           `json:"-"`
	Body        json.RawMessage `json:"message"`

	// dec holds the body decoded once for every consumer of a step (see
	// Prepare); copies of the event share it.
	dec *decoded
}

type decoded struct {
	msg Message
	err error
}

// Message is the part of a stored message body that consumers read.
type Message struct {
	Type        string         `json:"type"`
	Event       string         `json:"event"`
	Name        string         `json:"name"`
	UserID      string         `json:"userId"`
	AnonymousID string         `json:"anonymousId"`
	PreviousID  string         `json:"previousId"`
	GroupID     string         `json:"groupId"`
	Traits      map[string]any `json:"traits"`
	// Properties stay raw until asked for (Props): most consumers of most
	// events never read them, and decoding them is the larger part of a message.
	Properties json.RawMessage `json:"properties"`
	Context    struct {
		Traits map[string]any `json:"traits"`
		// Backfill marks history being loaded (context.backfill: true, or an
		// import flagged as a backfill): reports read it, rules and surveys
		// do not act on it. Kept as sent; Backfill() reads it.
		Backfill any `json:"backfill"`
	} `json:"context"`

	props    map[string]any // decoded properties, when prepared
	hasProps bool
}

// Backfill reports whether the message is history being loaded rather
// than something that just happened (context.backfill true).
func (m *Message) Backfill() bool {
	b, ok := m.Context.Backfill.(bool)
	return ok && b
}

// Props decodes the message's properties (nil when there are none). The
// map of a prepared event is shared by its readers, which must not change it.
func (m *Message) Props() map[string]any {
	if m.hasProps {
		return m.props
	}
	var p map[string]any
	_ = json.Unmarshal(m.Properties, &p)
	return p
}

// TrackProps returns the properties of a track event that names a
// customer (a userId or an anonymousId); ok is false for other messages
// and for bodies that do not decode.
func (e *Event) TrackProps() (map[string]any, bool) {
	if e.Type != Track || (e.UserID == "" && e.AnonymousID == "") {
		return nil, false
	}
	m, err := e.Message()
	if err != nil {
		return nil, false
	}
	return m.Props(), true
}

// Message decodes the stored body (once, for a prepared event: its maps
// are then shared by its readers, which must not change them).
func (e *Event) Message() (Message, error) {
	if e.dec != nil {
		return e.dec.msg, e.dec.err
	}
	var m Message
	err := json.Unmarshal(e.Body, &m)
	return m, err
}

// Arrival is when the event reached cxloop and whether it is history being
// loaded: what an event cxloop derives from it carries, so that rules treat
// the consequence as they treat its cause.
func (e *Event) Arrival() Arrival {
	at := e.ReceivedAt
	if at == 0 {
		at = e.Timestamp
	}
	m, _ := e.Message()
	return Arrival{At: time.UnixMilli(at).UTC(), Backfill: m.Backfill()}
}

// Prepare decodes each event's body, and a track event's properties, once
// for every later Message and Props call, so that consumers sharing a batch
// do not each decode it again.
func Prepare(events []Event) {
	for i := range events {
		e := &events[i]
		if e.dec != nil {
			continue
		}
		d := &decoded{}
		d.err = json.Unmarshal(e.Body, &d.msg)
		if d.err == nil && e.Type == Track {
			d.msg.props = d.msg.Props()
			d.msg.hasProps = true
		}
		e.dec = d
	}
}

// Message types of the Segment spec.
const (
	Track    = "track"
	Identify = "identify"
	Page     = "page"
	Screen   = "screen"
	Group    = "group"
	Alias    = "alias"
)

// IsType reports whether s is one of the Segment message types.
func IsType(s string) bool {
	switch s {
	case Track, Identify, Page, Screen, Group, Alias:
		return true
	}
	return false
}

// Sources of the events cxloop itself writes.
const (
	// SourceCxloop: what a customer did through cxloop (answered a survey, opted out).
	SourceCxloop = "cxloop"
	// SourceActions: what the business did to a customer (invited, reminded,
	// skipped). These stay on the customer's timeline but are not touchpoints:
	// they do not move a profile's last-seen time, event count or channels.
	SourceActions = "cxloop-actions"
)

// Action builds an event of something cxloop did to a customer, in the
// shape Own gives, from the source SourceActions.
func Action(name, messageID, userID, anonymousID, channel string, at time.Time, props map[string]any) (Event, error) {
	return ActionArrived(name, messageID, userID, anonymousID, channel, at, Arrival{At: at}, props)
}

// ActionArrived is Action for an action that follows from an event: it
// happened at at (the cause's time) and arrived with the cause.
func ActionArrived(name, messageID, userID, anonymousID, channel string, at time.Time, arr Arrival, props map[string]any) (Event, error) {
	e, err := OwnArrived(name, messageID, userID, anonymousID, channel, at, arr, props)
	e.SourceID = SourceActions
	return e, err
}

// indirectChannels are touchpoints the business does not run itself: what
// customers say about it elsewhere.
var indirectChannels = map[string]bool{"social": true, "review_site": true, "press": true, "partner": true}

// DefaultContact says whether a channel's touchpoints are direct (the
// business and the customer meet) or indirect (said elsewhere).
func DefaultContact(channel string) string {
	if indirectChannels[channel] {
		return "indirect"
	}
	return "direct"
}

// Own builds a track event that cxloop itself writes (the cxloop event spec
// in docs/events.md), in the same body shape as an ingested message. It
// happened and arrived at at; OwnArrived sets the two apart.
func Own(name, messageID, userID, anonymousID, channel string, at time.Time, props map[string]any) (Event, error) {
	return OwnArrived(name, messageID, userID, anonymousID, channel, at, Arrival{At: at}, props)
}

// Arrival is when an event cxloop writes reached it, and whether it is
// history being loaded (an import flagged as a backfill). Rules and
// surveys act on what arrives after them, unless it is a backfill; reports
// read the event's own time.
type Arrival struct {
	At       time.Time
	Backfill bool
}

// OwnArrived is Own for an event that happened at at and arrived as arr
// says (an imported answer from yesterday arrives now).
func OwnArrived(name, messageID, userID, anonymousID, channel string, at time.Time, arr Arrival, props map[string]any) (Event, error) {
	if arr.At.IsZero() {
		arr.At = at
	}
	if props == nil {
		props = map[string]any{}
	}
	body := map[string]any{
		"type": Track, "event": name, "messageId": messageID, "properties": props,
		"timestamp": at.UTC().Format(time.RFC3339Nano), "receivedAt": arr.At.UTC().Format(time.RFC3339Nano),
		"context": map[string]any{"channel": channel, "contact": DefaultContact(channel), "library": map[string]any{"name": "cxloop"}},
	}
	if arr.Backfill {
		body["context"].(map[string]any)["backfill"] = true
	}
	if userID != "" {
		body["userId"] = userID
	}
	if anonymousID != "" {
		body["anonymousId"] = anonymousID
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return Event{}, err
	}
	return Event{MessageID: messageID, Type: Track, Event: name, UserID: userID, AnonymousID: anonymousID,
		Channel: channel, Contact: DefaultContact(channel), SourceID: SourceCxloop, Timestamp: at.UnixMilli(), ReceivedAt: arr.At.UnixMilli(), Body: raw}, nil
}
