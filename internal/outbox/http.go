package outbox

import (
	"log/slog"
	"net/http"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/httpio"
)

// API holds the /api/v1 webhook handlers.
type API struct {
	svc    *Service
	logger *slog.Logger
}

// NewAPI returns the webhook handlers.
func NewAPI(svc *Service, logger *slog.Logger) *API { return &API{svc: svc, logger: logger} }

// Create answers POST /api/v1/webhooks {url, events}: the answer holds the signing secret.
func (a *API) Create(w http.ResponseWriter, r *http.Request) {
	var in Webhook
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	out, err := a.svc.CreateWebhook(r.Context(), &in)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, out)
}

// List answers GET /api/v1/webhooks.
func (a *API) List(w http.ResponseWriter, r *http.Request) {
	list, err := a.svc.Webhooks(r.Context())
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"webhooks": list})
}

// Deliveries answers GET /api/v1/webhooks/{id}/deliveries?limit=.
func (a *API) Deliveries(w http.ResponseWriter, r *http.Request) {
	limit, _, err := httpio.Page(r, 100, 1000)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	list, err := a.svc.Deliveries(r.Context(), r.PathValue("id"), limit)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"deliveries": list})
}

// Redeliver answers POST /api/v1/webhooks/{id}/deliveries/{delivery}/redeliver.
func (a *API) Redeliver(w http.ResponseWriter, r *http.Request) {
	if err := a.svc.Redeliver(r.Context(), r.PathValue("id"), r.PathValue("delivery")); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusAccepted, map[string]any{"queued": true})
}

// Update answers PATCH /api/v1/webhooks/{id} {url, events, active}: active
// false pauses the webhook and cancels its pending deliveries.
func (a *API) Update(w http.ResponseWriter, r *http.Request) {
	var in WebhookChange
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	before, after, err := a.svc.UpdateWebhook(r.Context(), r.PathValue("id"), in)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	action := "update"
	if in.Active != nil && in.URL == nil && in.Events == nil && before.Active != after.Active {
		action = map[bool]string{true: "resume", false: "pause"}[after.Active]
	}
	audit.Note(r.Context(), audit.Change{Action: action, Resource: "webhook", ResourceID: after.ID, Before: before, After: after})
	httpio.JSON(w, http.StatusOK, after)
}

// Delete answers DELETE /api/v1/webhooks/{id}: the webhook receives nothing
// more; its deliveries stay readable.
func (a *API) Delete(w http.ResponseWriter, r *http.Request) {
	before, err := a.svc.DeleteWebhook(r.Context(), r.PathValue("id"))
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	audit.Note(r.Context(), audit.Change{Action: "delete", Resource: "webhook", ResourceID: before.ID, Before: before})
	w.WriteHeader(http.StatusNoContent)
}
