package ingest

import (
	"context"
	"encoding/json"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/privacy"
)

// SetPrivacy makes the handler refuse suppressed identities and carry out
// Segment's delete messages (docs/privacy.md).
func (h *Handler) SetPrivacy(p *privacy.Service) { h.privacy = p }

// ServerChannel is the channel of a source that runs on the business's own
// servers; only such a source may ask for an erasure.
const ServerChannel = "server"

// deleteOf reads a Segment delete message (a user deletion a warehouse or
// Segment itself forwards): it returns the userId to erase, or a refusal
// naming the field. A browser's or an app's write key is public, so only a
// server source may erase.
func (rq *request) deleteOf(m map[string]json.RawMessage) (string, error) {
	if rq.source.Channel != ServerChannel {
		return "", fault.Field("type", "delete is accepted only from a source whose channel is %q (this one's is %q)", ServerChannel, rq.source.Channel)
	}
	user, err := id(m, "userId")
	if err != nil {
		return "", err
	}
	if user == "" {
		return "", fault.Field("userId", "delete needs the userId of the customer to erase")
	}
	return user, nil
}

// isDelete reports whether a message is a Segment delete.
func isDelete(m map[string]json.RawMessage) bool {
	t, ok := plainString(m["type"])
	return ok && t == "delete"
}

// erase carries out the delete messages of a request, after its other
// messages are in the log. A customer nobody knows is already erased.
func (h *Handler) erase(ctx context.Context, source string, users []string) error {
	for _, u := range users {
		if _, err := h.privacy.Erase(ctx, u, false, "source:"+source); err != nil && fault.Code(err) != fault.NotFound {
			return err
		}
		h.messages.WithLabelValues("erased").Inc()
	}
	return nil
}

// suppressed reports whether an accepted message names a suppressed
// identity; it reads the body only while the suppression list has entries.
func (h *Handler) suppressed(e *eventlog.Event) bool {
	if h.privacy == nil || !h.privacy.Active() {
		return false
	}
	var b struct {
		Traits  map[string]any `json:"traits"`
		Context struct {
			Traits map[string]any `json:"traits"`
		} `json:"context"`
	}
	_ = json.Unmarshal(e.Body, &b)
	ids := map[string]string{"user_id": e.UserID, "anonymous_id": e.AnonymousID}
	for _, t := range []map[string]any{b.Traits, b.Context.Traits} {
		for _, k := range []string{"email", "phone"} {
			if v, ok := t[k].(string); ok && ids[k] == "" {
				ids[k] = v
			}
		}
	}
	return h.privacy.Suppressed(ids)
}
