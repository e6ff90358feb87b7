package survey_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A response sent through /v1 names its customer by identity; the
// list and its CSV name the profile, as the customer page does.
func TestResponsesNameTheirCustomer(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s := apptest.Start(t, dsn)
		s.MustSend("identify", map[string]any{"userId": "u-r", "traits": map[string]any{"email": "r@example.org"}})
		s.Sync()
		var sv struct{ ID string }
		s.API("POST", "/api/v1/surveys", json.RawMessage(`{"name": "NPS", "rhythm": "pulse", "owner": "service",
			"questions": [{"id": "q1", "type": "nps", "text": {"en": "?"}}]}`), &sv)
		// Through /v1, as a shop or another survey tool sends answers.
		s.MustSend("track", map[string]any{"userId": "u-r", "event": "Survey Responded", "properties": map[string]any{"survey_id": sv.ID, "answers": map[string]any{"q1": 9}}})
		s.Sync()
		var cus struct{ ID string }
		s.API("GET", "/api/v1/customers/u-r", nil, &cus)
		var list struct{ Responses []struct{ Customer string } }
		s.API("GET", "/api/v1/surveys/"+sv.ID+"/responses", nil, &list)
		if len(list.Responses) != 1 || list.Responses[0].Customer != cus.ID || cus.ID == "" {
			t.Fatalf("responses %+v, customer %s", list.Responses, cus.ID)
		}
		_, csv := s.Do("GET", "/api/v1/surveys/"+sv.ID+"/responses?format=csv", nil, "Authorization: Bearer "+apptest.Token)
		if !strings.Contains(string(csv), cus.ID) {
			t.Fatalf("csv: %s", csv)
		}
	})
}
