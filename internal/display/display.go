// Package display holds how the console and exports present figures: the
// installation's reporting currency, the one every amount cxloop shows
// is in (order totals are summed as sent; cxloop converts nothing).
package display

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"strings"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/store"
)

var currencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// Settings are the presentation settings.
type Settings struct {
	// Currency is the ISO 4217 code amounts are shown with ("" for none).
	Currency string `json:"currency"`
}

// Get reads the settings.
func Get(ctx context.Context, db *store.DB) (Settings, error) {
	var v string
	err := db.QueryRowContext(ctx, `SELECT currency FROM display_state`).Scan(&v)
	return Settings{Currency: v}, err
}

// Set validates and stores the settings.
func Set(ctx context.Context, db *store.DB, s Settings) (Settings, error) {
	s.Currency = strings.ToUpper(strings.TrimSpace(s.Currency))
	if s.Currency != "" && !currencyCode.MatchString(s.Currency) {
		return s, fault.Field("currency", "the currency is a three-letter ISO 4217 code such as EUR or USD (or empty for none)")
	}
	err := db.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE display_state SET currency = $1`, s.Currency)
		return err
	})
	return s, err
}

// API serves GET and PATCH /api/v1/display-settings.
type API struct {
	DB     *store.DB
	Logger *slog.Logger
}

// Get answers GET /api/v1/display-settings.
func (a *API) Get(w http.ResponseWriter, r *http.Request) {
	s, err := Get(r.Context(), a.DB)
	if err != nil {
		httpio.Error(w, a.Logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, s)
}

// Patch answers PATCH /api/v1/display-settings {currency}.
func (a *API) Patch(w http.ResponseWriter, r *http.Request) {
	before, err := Get(r.Context(), a.DB)
	if err != nil {
		httpio.Error(w, a.Logger, err)
		return
	}
	in := before
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.Logger, err)
		return
	}
	after, err := Set(r.Context(), a.DB, in)
	if err != nil {
		httpio.Error(w, a.Logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Before: before, After: after})
	httpio.JSON(w, http.StatusOK, after)
}
