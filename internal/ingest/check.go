package ingest

import (
	"context"
	"encoding/json"
	"sync"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
)

// A Check looks at the properties of one track message of the event it was
// registered for before the message is accepted. An invalid-input error
// (a *fault.Error naming the field, e.g. "properties.answers.nps") refuses
// the message: a single message answers 400 and is quarantined, a batch
// item is quarantined and reported by its index as any other refusal. Any
// other error fails the request.
type Check func(ctx context.Context, props map[string]any) error

// checks are the Checks registered on a Handler, by event name.
type checks struct {
	mu sync.RWMutex
	by map[string][]Check
}

// Check registers fn for track messages named event (another package's
// rule, such as a survey answer fitting its survey).
func (h *Handler) Check(event string, fn Check) {
	h.checks.mu.Lock()
	defer h.checks.mu.Unlock()
	if h.checks.by == nil {
		h.checks.by = map[string][]Check{}
	}
	h.checks.by[event] = append(h.checks.by[event], fn)
}

// check runs the Checks registered for a normalised track message.
func (rq *request) check(e *eventlog.Event, m map[string]json.RawMessage) error {
	if rq.checks == nil || e.Type != eventlog.Track {
		return nil
	}
	rq.checks.mu.RLock()
	list := rq.checks.by[e.Event]
	rq.checks.mu.RUnlock()
	if len(list) == 0 {
		return nil
	}
	props := map[string]any{}
	if raw, ok := m["properties"]; ok && !isNull(raw) {
		if err := json.Unmarshal(raw, &props); err != nil {
			return fault.Field("properties", "properties must be an object")
		}
	}
	ctx := rq.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	for _, fn := range list {
		if err := fn(ctx, props); err != nil {
			return err
		}
	}
	return nil
}
