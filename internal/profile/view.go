package profile

import (
	"encoding/json"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/store"
)

// EventView is an event as the API shows it, with its resolved customer.
type EventView struct {
	Seq         int64           `json:"seq"`
	MessageID   string          `json:"messageId"`
	Type        string          `json:"type"`
	Event       string          `json:"event,omitempty"`
	UserID      string          `json:"userId,omitempty"`
	AnonymousID string          `json:"anonymousId,omitempty"`
	CustomerID  string          `json:"customerId,omitempty"`
	Channel     string          `json:"channel"`
	Contact     string          `json:"contact"`
	SourceID    string          `json:"sourceId"`
	Timestamp   store.Millis    `json:"timestamp"`
	ReceivedAt  store.Millis    `json:"receivedAt"`
	Message     json.RawMessage `json:"message"`
}

// View shows e as owned by customer.
func View(e eventlog.Event, customer string) EventView {
	return EventView{Seq: e.Seq, MessageID: e.MessageID, Type: e.Type, Event: e.Event, UserID: e.UserID, AnonymousID: e.AnonymousID,
		CustomerID: customer, Channel: e.Channel, Contact: e.Contact, SourceID: e.SourceID,
		Timestamp: store.Millis(e.Timestamp), ReceivedAt: store.Millis(e.ReceivedAt), Message: e.Body}
}
