package ingest

import (
	"log/slog"
	"net/http"

	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/store"
)

// API serves sources and the quarantine over the management API.
type API struct {
	db      *store.DB
	sources *Sources
	logger  *slog.Logger
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
