package survey_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/cxloop/cxloop/internal/app/apptest"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// A survey's responses, as a list and as CSV, can be limited to a period
// (the console's download follows the page's period): only those answered
// in [from, to), counted here from the times they were given.
func TestResponsesOfAPeriod(t *testing.T) {
	storetest.EachDSN(t, func(t *testing.T, dsn string) {
		s, _ := apptest.StartAt(t, dsn, apptest.Epoch)
		id := createSurvey(t, s, postOrder)
		in := 0
		from, to := apptest.Epoch.AddDate(0, 0, -7), apptest.Epoch.AddDate(0, 0, -2)
		for d := range 12 {
			at := apptest.Epoch.AddDate(0, 0, -d).Add(-time.Hour)
			if !at.Before(from) && at.Before(to) {
				in++
			}
			if code := s.API("POST", "/api/v1/surveys/"+id+"/responses", map[string]any{"customer": fmt.Sprintf("p-%d", d), "answers": map[string]any{"q1": d % 11},
				"at": at.Format(time.RFC3339)}, nil); code != 201 {
				t.Fatalf("response %d: %d", d, code)
			}
		}
		q := url.Values{"from": {from.Format(time.RFC3339)}, "to": {to.Format(time.RFC3339)}}.Encode()
		var list struct {
			Responses []struct{ RespondedAt time.Time }
		}
		if code := s.API("GET", "/api/v1/surveys/"+id+"/responses?"+q, nil, &list); code != 200 || len(list.Responses) != in || in == 0 {
			t.Fatalf("responses of the period: %d, %d listed, want %d", code, len(list.Responses), in)
		}
		for _, r := range list.Responses {
			if r.RespondedAt.Before(from) || !r.RespondedAt.Before(to) {
				t.Errorf("a response of %s listed", r.RespondedAt)
			}
		}
		if csv := s.Page("/export/surveys/" + id + "/responses?" + q); strings.Count(strings.TrimSpace(csv), "\n") != in {
			t.Errorf("the period's CSV holds %d rows, want %d", strings.Count(strings.TrimSpace(csv), "\n"), in)
		}
		if code := s.API("GET", "/api/v1/surveys/"+id+"/responses?from=soon", nil, nil); code != 400 {
			t.Errorf("from=soon: %d", code)
		}
	})
}
