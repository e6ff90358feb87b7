package eventlog

import "encoding/json"

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
	} `json:"context"`
}

// Props decodes the message's properties (nil when there are none).
func (m *Message) Props() map[string]any {
	var p map[string]any
	_ = json.Unmarshal(m.Properties, &p)
	return p
}

// Message decodes the stored body.
func (e *Event) Message() (Message, error) {
	var m Message
	err := json.Unmarshal(e.Body, &m)
	return m, err
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
