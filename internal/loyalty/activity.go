package loyalty

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/store"
)

// EngagementConsumer keeps what the engagement score is made of, by
// identity key: interactions and community activity by UTC day, survey
// answers, and which identities to rescore (engagement_due), which Engage
// reads and clears. It reads every event, so it has a consumer and a
// checkpoint of its own (loyalty's reads only the events its rules name).
type EngagementConsumer struct{ DB *store.DB }

// Name is the consumer's checkpoint key.
func (EngagementConsumer) Name() string { return "engagement" }

// Reset empties what the consumer keeps; a replay rebuilds it and marks
// every identity in the log for rescoring.
func (EngagementConsumer) Reset(ctx context.Context, tx *store.Tx) error {
	for _, q := range []string{`DELETE FROM engagement_activity`, `DELETE FROM engagement_answers`, `DELETE FROM engagement_due`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

const dayMs = int64(24 * time.Hour / time.Millisecond)

// dayOf is the start of the UTC day of a time in Unix ms.
func dayOf(ms int64) int64 { return ms - ((ms%dayMs)+dayMs)%dayMs }

// interaction reports whether an event is the customer's touchpoint that
// engagement counts: a track, page or screen event other than what the
// business did to the customer (invitations, reminders).
func interaction(e *eventlog.Event) bool {
	return e.SourceID != eventlog.SourceActions && (e.Type == eventlog.Track || e.Type == "page" || e.Type == "screen")
}

// Apply adds a batch's interactions and answers, and marks the identities
// of its events for rescoring.
func (c EngagementConsumer) Apply(ctx context.Context, tx *store.Tx, events []eventlog.Event) error {
	type dayKey struct {
		identity string
		day      int64
	}
	counts := map[dayKey]*[2]int64{} // interactions, community activity
	due := map[string]bool{}
	var answers [][]any
	for i := range events {
		e := &events[i]
		if e.UserID == "" && e.AnonymousID == "" {
			continue
		}
		key := identity(e.UserID, e.AnonymousID)
		due[key] = true
		if !interaction(e) {
			continue
		}
		k := dayKey{key, dayOf(e.Timestamp)}
		n := counts[k]
		if n == nil {
			n = &[2]int64{}
			counts[k] = n
		}
		n[0]++
		if strings.HasPrefix(e.Event, "Community ") && e.Event != "Community Left" {
			n[1]++
		}
		if e.Event == "Survey Responded" {
			answers = append(answers, []any{e.Seq, key, e.Timestamp, surveyNamed(e)})
		}
	}
	// In a fixed order, so that concurrent writers lock rows alike.
	keys := make([]dayKey, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		return keys[i].identity < keys[j].identity || keys[i].identity == keys[j].identity && keys[i].day < keys[j].day
	})
	rows := make([][]any, len(keys))
	for i, k := range keys {
		rows[i] = []any{k.identity, k.day, counts[k][0], counts[k][1]}
	}
	err := c.DB.BulkInsert(ctx, tx, `INSERT INTO engagement_activity (identity, day, interactions, community) VALUES`,
		`ON CONFLICT (identity, day) DO UPDATE SET interactions = engagement_activity.interactions + excluded.interactions,
		community = engagement_activity.community + excluded.community`, 4, rows)
	if err != nil {
		return err
	}
	if err := c.DB.BulkInsert(ctx, tx, `INSERT INTO engagement_answers (seq, identity, at, survey_id) VALUES`, `ON CONFLICT (seq) DO NOTHING`, 4, answers); err != nil {
		return err
	}
	refs := make([]string, 0, len(due))
	for k := range due {
		refs = append(refs, k)
	}
	sort.Strings(refs)
	marks := make([][]any, len(refs))
	for i, r := range refs {
		marks[i] = []any{r}
	}
	return c.DB.BulkInsert(ctx, tx, `INSERT INTO engagement_due (ref) VALUES`, `ON CONFLICT (ref) DO UPDATE SET claimed = 0`, 1, marks)
}

// surveyNamed is the survey_id property of an answer as JSON ("null" when
// it names none); properties that are no object give "[]", which names no
// survey and never counts.
func surveyNamed(e *eventlog.Event) string {
	m, err := e.Message()
	if err != nil {
		return "[]"
	}
	if raw := bytes.TrimSpace(m.Properties); len(raw) == 0 || string(raw) == "null" {
		return "null"
	}
	props := m.Props()
	if props == nil {
		return "[]"
	}
	b, err := json.Marshal(props["survey_id"])
	if err != nil {
		return "[]"
	}
	return string(b)
}

// markDue marks a customer (a referral's sender) for rescoring.
func markDue(ctx context.Context, tx *store.Tx, customer string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO engagement_due (ref) VALUES ($1) ON CONFLICT (ref) DO UPDATE SET claimed = 0`, customer)
	return err
}
