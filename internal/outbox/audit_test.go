package outbox_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/outbox"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// The webhook handlers describe their change to the audit trail: the
// action, the webhook before and after, and never its signing secret.
func TestWebhookChangesAreNoted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		svc := outbox.NewService(db, nil, nil, nil)
		svc.AllowPrivateTargets(true)
		hook, err := svc.CreateWebhook(t.Context(), &outbox.Webhook{URL: "http://example.com/h", Events: []string{"Case Opened"}})
		if err != nil {
			t.Fatal(err)
		}
		secret := hook.Secret
		api := outbox.NewAPI(svc, nil)
		do := func(method, body string, h http.HandlerFunc) (*audit.Change, int) {
			ctx, change := audit.WithChange(t.Context())
			r := httptest.NewRequestWithContext(ctx, method, "/api/v1/webhooks/"+hook.ID, strings.NewReader(body))
			r.SetPathValue("id", hook.ID)
			w := httptest.NewRecorder()
			h(w, r)
			return change, w.Code
		}
		change, code := do("PATCH", `{"active": false}`, api.Update)
		if code != 200 || !change.Noted() || change.Action != "pause" || change.Resource != "webhook" || change.ResourceID != hook.ID {
			t.Fatalf("pause: %d %+v", code, change)
		}
		before, after := change.Before.(*outbox.Webhook), change.After.(*outbox.Webhook)
		if !before.Active || after.Active {
			t.Fatalf("before %+v, after %+v", before, after)
		}
		change, code = do("DELETE", ``, api.Delete)
		if code != 204 || change.Action != "delete" || change.Before == nil {
			t.Fatalf("delete: %d %+v", code, change)
		}
		for _, v := range []any{before, after, change.Before} {
			b, _ := json.Marshal(v)
			if strings.Contains(string(b), secret) {
				t.Fatalf("the audit note holds the secret: %s", b)
			}
		}
		if change, code = do("PATCH", `{"active": true}`, api.Update); code != 404 || change.Noted() {
			t.Fatalf("a refused change was noted: %d %+v", code, change)
		}
	})
}
