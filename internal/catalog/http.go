package catalog

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/cxloop/cxloop/internal/audit"

	"github.com/cxloop/cxloop/internal/httpio"
)

// API holds the catalog's /api/v1 handlers.
type API struct {
	svc    *Service
	sync   func(r *http.Request)
	logger *slog.Logger
}

// NewAPI returns the handlers; sync, when not nil, waits briefly for the
// log's latest events to be read.
func NewAPI(svc *Service, sync func(r *http.Request), logger *slog.Logger) *API {
	return &API{svc: svc, sync: sync, logger: logger}
}

// List answers GET /api/v1/products?category=&limit=&offset=.
func (a *API) List(w http.ResponseWriter, r *http.Request) {
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
		if a.sync != nil {
			a.sync(r)
		}
		httpio.CSVPages(w, a.logger, "products", limit, offset, httpio.CSVOptions{}, func(limit, offset int) ([]Product, error) {
			return a.svc.List(r.Context(), r.URL.Query().Get("category"), limit, offset)
		})
		return
	}
	httpio.Answer(w, r, a.logger, a.sync, http.StatusOK, func() (any, error) {
		list, err := a.svc.List(r.Context(), r.URL.Query().Get("category"), limit, offset)
		return map[string]any{"products": list}, err
	})
}

// Get answers GET /api/v1/products/{id}.
func (a *API) Get(w http.ResponseWriter, r *http.Request) {
	httpio.Answer(w, r, a.logger, a.sync, http.StatusOK, func() (any, error) { return a.svc.Get(r.Context(), r.PathValue("id")) })
}

// Save answers POST /api/v1/products {id, name, …, replenishable,
// pack_size, usage_days}: 200 with the product as experiences see it; or,
// with Content-Type text/csv, imports a file of them: 200 with what was
// saved and refused.
func (a *API) Save(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		res, err := a.svc.Import(r.Context(), http.MaxBytesReader(w, r.Body, 64<<20))
		if err != nil {
			httpio.Error(w, a.logger, err)
			return
		}
		httpio.JSON(w, http.StatusOK, res)
		return
	}
	var in Input
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.Answer(w, r, a.logger, nil, http.StatusOK, func() (any, error) { return a.svc.Save(r.Context(), in) })
}

// Categories answers GET /api/v1/product-categories.
func (a *API) Categories(w http.ResponseWriter, r *http.Request) {
	httpio.Answer(w, r, a.logger, a.sync, http.StatusOK, func() (any, error) {
		list, err := a.svc.Categories(r.Context())
		return map[string]any{"categories": list}, err
	})
}

// SetCategory answers PUT /api/v1/product-categories/{category}
// {replenishable, usage_days}.
func (a *API) SetCategory(w http.ResponseWriter, r *http.Request) {
	var in Category
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	in.Category = r.PathValue("category")
	var before any
	if list, err := a.svc.Categories(r.Context()); err == nil {
		for _, c := range list {
			if c.Category == in.Category {
				before = c
			}
		}
	}
	httpio.Answer(w, r, a.logger, nil, http.StatusOK, func() (any, error) {
		out, err := a.svc.SetCategory(r.Context(), in)
		if err == nil {
			audit.Note(r.Context(), audit.Change{Before: before, After: out})
		}
		return out, err
	})
}
