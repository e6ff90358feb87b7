package eventlog

import (
	"encoding/json"
	"strings"
)

// caseText are the properties of a case event that carry what people
// wrote about the case (notes, subjects), not facts about it.
var caseText = []string{"note", "subject", "body", "text"}

// ScopeCases hides, in the events a reader may see, what was written on
// cases of teams the reader does not work (inTeam false): a case event's
// note, subject and body are removed and "redacted" says why. The events
// themselves (a case was opened, resolved) stay, as the customer's history.
// Events are copied; the given slice is not changed.
func ScopeCases(events []Event, inTeam func(team string) bool) []Event {
	out := make([]Event, len(events))
	for i, e := range events {
		out[i] = e
		if e.SourceID != SourceActions || !strings.HasPrefix(e.Event, "Case ") {
			continue
		}
		var body map[string]json.RawMessage
		if json.Unmarshal(e.Body, &body) != nil {
			continue
		}
		var props map[string]any
		if json.Unmarshal(body["properties"], &props) != nil {
			continue
		}
		team, _ := props["team"].(string)
		if inTeam(team) {
			continue
		}
		for _, k := range caseText {
			delete(props, k)
		}
		props["redacted"] = "a case of another team"
		body["properties"], _ = json.Marshal(props)
		b, err := json.Marshal(body)
		if err != nil {
			continue
		}
		out[i].Body, out[i].dec = b, nil
	}
	return out
}
