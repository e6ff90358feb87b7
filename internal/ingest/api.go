package ingest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/fault"

	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/store"
)

// API serves sources and the quarantine over the management API.
type API struct {
	db      *store.DB
	sources *Sources
	logger  *slog.Logger
	replay  *Handler // the /v1 acceptance quarantined messages are replayed through
}

// Replaying makes the API replay quarantined messages through h, the /v1
// handler, and returns the API.
func (a *API) Replaying(h *Handler) *API {
	a.replay = h
	return a
}

// NewAPI returns the ingestion management handlers.
func NewAPI(db *store.DB, sources *Sources, logger *slog.Logger) *API {
	return &API{db: db, sources: sources, logger: logger}
}

// CreateSource answers POST /api/v1/sources {name, channel} with the new
// source and its write key.
func (a *API) CreateSource(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name    string `json:"name"`
		Channel string `json:"channel"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	src, key, err := a.sources.Create(r.Context(), in.Name, in.Channel, "")
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, struct {
		Source
		WriteKey string `json:"writeKey"`
	}{src, key})
}

// ListSources answers GET /api/v1/sources.
func (a *API) ListSources(w http.ResponseWriter, r *http.Request) {
	list, err := a.sources.List(r.Context())
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"sources": list})
}

// ListQuarantine answers GET /api/v1/quarantine?limit=&offset=.
func (a *API) ListQuarantine(w http.ResponseWriter, r *http.Request) {
	csv, err := httpio.WantsCSV(r)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	limit, offset, err := httpio.ListPage(r, 100, 1000, csv)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if csv {
		httpio.CSVPages(w, a.logger, "quarantine", limit, offset, httpio.CSVOptions{}, func(limit, offset int) ([]Refused, error) {
			return Quarantined(r.Context(), a.db, limit, offset)
		})
		return
	}
	list, err := Quarantined(r.Context(), a.db, limit, offset)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"messages": list})
}

// QuarantinedMessage answers GET /api/v1/quarantine/{id}.
func (a *API) QuarantinedMessage(w http.ResponseWriter, r *http.Request) {
	m, err := QuarantinedMessage(r.Context(), a.db, r.PathValue("id"))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, m)
}

// ReplayQuarantined answers POST /api/v1/quarantine/{id}/replay
// {message?}: the message, or its correction, runs through /v1's
// acceptance for its source. Accepted → 200 {id, messageId}, the event is
// in the log and the message leaves the quarantine; refused again → 422
// naming the field, and the message stays.
func (a *API) ReplayQuarantined(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Message json.RawMessage `json:"message"`
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, MaxMessageBytes+1<<10))
	if err == nil && len(bytes.TrimSpace(b)) > 0 {
		err = httpio.DecodeJSON(b, &in)
	}
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	if isNull(in.Message) {
		in.Message = nil
	}
	if a.replay == nil {
		httpio.Error(w, a.logger, errors.New("quarantine replay is not wired"))
		return
	}
	id := r.PathValue("id")
	res, refused, err := a.replay.Replay(r, id, in.Message)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "replay", Resource: "quarantine", ResourceID: id})
	if refused != nil {
		httpio.JSON(w, http.StatusUnprocessableEntity, map[string]any{"error": refused})
		return
	}
	httpio.JSON(w, http.StatusOK, res)
}

// DiscardQuarantined answers POST /api/v1/quarantine/{id}/discard: the
// message leaves the quarantine without being accepted (204).
func (a *API) DiscardQuarantined(w http.ResponseWriter, r *http.Request) {
	m, err := Discard(r.Context(), a.db, r.PathValue("id"))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "discard", Resource: "quarantine", ResourceID: m.ID})
	w.WriteHeader(http.StatusNoContent)
}

// UpdateSource answers PATCH /api/v1/sources/{id} {name, paused}: a paused
// source's write key is refused (403) until it is resumed.
func (a *API) UpdateSource(w http.ResponseWriter, r *http.Request) {
	var in SourceChange
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	before, after, err := a.sources.Update(r.Context(), r.PathValue("id"), in)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	action := "update"
	if in.Name == nil && before.Paused != after.Paused {
		action = map[bool]string{true: "pause", false: "resume"}[after.Paused]
	}
	audit.Note(r.Context(), audit.Change{Action: action, Resource: "source", ResourceID: after.ID, Before: before, After: after})
	httpio.JSON(w, http.StatusOK, after)
}

// DeleteSource answers DELETE /api/v1/sources/{id}: its write keys are
// refused from now on; the events it sent stay.
func (a *API) DeleteSource(w http.ResponseWriter, r *http.Request) {
	before, err := a.sources.Delete(r.Context(), r.PathValue("id"))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "delete", Resource: "source", ResourceID: before.ID, Before: before})
	w.WriteHeader(http.StatusNoContent)
}

// EndOverlap answers POST /api/v1/sources/{id}/rotate/end with the source:
// the write key it had before its last rotation is refused from now on
// (409 when none is still taken); its current key keeps working.
func (a *API) EndOverlap(w http.ResponseWriter, r *http.Request) {
	before, after, err := a.sources.EndOverlap(r.Context(), r.PathValue("id"))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "end_overlap", Resource: "source", ResourceID: after.ID, Before: before, After: after})
	httpio.JSON(w, http.StatusOK, after)
}

// RotateSource answers POST /api/v1/sources/{id}/rotate {overlap} with the
// source and its new write key; the old key stays valid for overlap (a
// duration such as "24h", the default; "0s" refuses it at once).
func (a *API) RotateSource(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Overlap *string `json:"overlap"`
	}
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err == nil && len(bytes.TrimSpace(b)) > 0 {
		err = httpio.DecodeJSON(b, &in)
	}
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	overlap := DefaultOverlap
	if in.Overlap != nil {
		if overlap, err = time.ParseDuration(*in.Overlap); err != nil {
			httpio.Error(w, a.logger, fault.Field("overlap", "overlap is a duration such as \"24h\" or \"0s\""))
			return
		}
	}
	before, after, key, err := a.sources.Rotate(r.Context(), r.PathValue("id"), overlap)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "rotate", Resource: "source", ResourceID: after.ID, Before: before, After: after})
	httpio.JSON(w, http.StatusOK, struct {
		Source
		WriteKey string `json:"writeKey"`
	}{after, key})
}
