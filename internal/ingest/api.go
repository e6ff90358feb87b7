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
		// Page by page, each read as the one before is written.
		out := httpio.NewCSV(w, a.logger, "quarantine", Refused{}, httpio.CSVOptions{})
		for left := limit; left > 0; {
			page, err := Quarantined(r.Context(), a.db, min(left, 500), offset)
			for i := 0; err == nil && i < len(page); i++ {
				err = out.Write(page[i])
			}
			if err != nil || len(page) < min(left, 500) {
				out.Finish(err)
				return
			}
			left, offset = left-len(page), offset+len(page)
		}
		out.Finish(nil)
		return
	}
	list, err := Quarantined(r.Context(), a.db, limit, offset)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"messages": list})
}
