package store_test

import (
	"context"
	"testing"

	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/store/storetest"
)

// Migration 0038 moves each capability's keys out of settings into its own
// table, values as they were; the application's own keys stay.
func TestStateMovesOutOfSettings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		old := map[string]string{
			"device_cookie_key": "dck", "survey_link_key": "slk", "complaint_handling_survey": "srv_h",
			"survey_contact_policy": `{"rhythms":{}}`, "replenishment": `{"lead_days":5.5,"cancel_hours":12,"paused":true}`,
			"journey_stages": `{"recognize":["Seen"]}`, "clv_model": `{"fitted":true}`, "id_key": "app's own",
		}
		err := db.Tx(ctx, func(tx *store.Tx) error {
			for _, q := range []string{`DROP TABLE auth_state`, `DROP TABLE survey_state`, `DROP TABLE experience_state`, `DROP TABLE analytics_state`,
				`DELETE FROM schema_migrations WHERE name = '0038_capability_state'`, `DELETE FROM settings`} {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return err
				}
			}
			for k, v := range old {
				if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2)`, k, v); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if applied, err := db.Migrate(ctx); err != nil || len(applied) != 1 || applied[0] != "0038_capability_state" {
			t.Fatalf("applied %v, %v", applied, err)
		}
		var dck, slk, handling, policy, stages, model string
		var lead, cancel float64
		var paused bool
		err = db.QueryRowContext(ctx, `SELECT a.device_cookie_key, s.link_key, s.handling_survey, s.contact_policy, e.replenish_lead_days,
			e.replenish_cancel_hours, e.replenish_paused, n.journey_stages, n.value_model FROM auth_state a, survey_state s, experience_state e, analytics_state n`).
			Scan(&dck, &slk, &handling, &policy, &lead, &cancel, &paused, &stages, &model)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{"device_cookie_key": dck, "survey_link_key": slk, "complaint_handling_survey": handling,
			"survey_contact_policy": policy, "journey_stages": stages, "clv_model": model}
		for k, v := range got {
			if v != old[k] {
				t.Errorf("%s: %q, want %q", k, v, old[k])
			}
		}
		if lead != 5.5 || cancel != 12 || !paused {
			t.Errorf("replenishment: %v %v %v, want 5.5 12 true", lead, cancel, paused)
		}
		left, err := db.Strings(ctx, `SELECT key FROM settings`)
		if err != nil || len(left) != 1 || left[0] != "id_key" {
			t.Errorf("settings left: %v, %v; want the application's id_key only", left, err)
		}
	})
}

// Migration 0040 marks the journey stages that were cxloop's own actions,
// as the log says.
func TestStagesLearnWhichWereActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		err := db.Tx(ctx, func(tx *store.Tx) error {
			for i, src := range []string{"cxloop-actions", "src_web"} {
				id := []string{"m-action", "m-touch"}[i]
				if _, err := tx.ExecContext(ctx, `INSERT INTO events (seq, message_id, type, event, user_id, anonymous_id, channel, contact, source_id, ts, received_at, body)
					VALUES ($1, $2, 'track', 'Nudge Sent', 'u1', NULL, 'email', 'direct', $3, 1, 1, '{}')`, i+1, id, src); err != nil {
					return err
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO an_stages (message_id, identity, stage, channel, experience, at) VALUES ($1, 'u:u1', 'request', 'email', '', 1)`, id); err != nil {
					return err
				}
			}
			// (the stages' time index holds the column since 0048)
			for _, q := range []string{`DROP INDEX an_stages_at`, `ALTER TABLE an_stages DROP COLUMN action`, `DELETE FROM schema_migrations WHERE name = '0040_stage_actions'`} {
				if _, err := tx.ExecContext(ctx, q); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if applied, err := db.Migrate(ctx); err != nil || len(applied) != 1 || applied[0] != "0040_stage_actions" {
			t.Fatalf("applied %v, %v", applied, err)
		}
		got, err := db.Strings(ctx, `SELECT message_id FROM an_stages WHERE action ORDER BY message_id`)
		if err != nil || len(got) != 1 || got[0] != "m-action" {
			t.Fatalf("actions: %v, %v; want [m-action]", got, err)
		}
	})
}
