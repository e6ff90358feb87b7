package survey

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/store"
)

const surveyCols = `SELECT id, name, rhythm, owner, status, definition, web_trigger, activated_at, next_run, created_at, updated_at FROM surveys`

func scanSurvey(r interface{ Scan(...any) error }) (*Survey, error) {
	var s Survey
	var def, web string
	var activated, next sql.NullInt64
	var created, updated int64
	if err := r.Scan(&s.ID, &s.Name, &s.Rhythm, &s.Owner, &s.Status, &def, &web, &activated, &next, &created, &updated); err != nil {
		return nil, err
	}
	id, name, rhythm, owner, status := s.ID, s.Name, s.Rhythm, s.Owner, s.Status
	if err := json.Unmarshal([]byte(def), &s); err != nil {
		return nil, err
	}
	s.ID, s.Name, s.Rhythm, s.Owner, s.Status = id, name, rhythm, owner, status
	s.Web = nil
	if web != "" {
		s.Web = &WebTrigger{}
		if err := json.Unmarshal([]byte(web), s.Web); err != nil {
			return nil, err
		}
	}
	s.CreatedAt, s.UpdatedAt = store.Millis(created), store.Millis(updated)
	s.ActivatedAt, s.NextRun = nil, nil
	if activated.Valid {
		m := store.Millis(activated.Int64)
		s.ActivatedAt = &m
	}
	if next.Valid {
		m := store.Millis(next.Int64)
		s.NextRun = &m
	}
	s.Normalize()
	return &s, nil
}

// getSurvey reads one survey through q (the pool or a transaction).
func getSurvey(ctx context.Context, q eventlog.Querier, id string) (*Survey, error) {
	s, err := scanSurvey(q.QueryRowContext(ctx, surveyCols+` WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fault.New(fault.NotFound, "no survey %q", id)
	}
	return s, err
}

// listSurveys reads the surveys a where clause selects, newest first.
func listSurveys(ctx context.Context, q eventlog.Querier, where string, args ...any) ([]*Survey, error) {
	rows, err := q.QueryContext(ctx, surveyCols+` `+where+` ORDER BY created_at DESC, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Survey{}
	for rows.Next() {
		s, err := scanSurvey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// definition is the stored JSON of a survey, without the columns kept beside it.
func definition(s *Survey) (string, error) {
	c := *s
	c.ID, c.CreatedAt, c.UpdatedAt, c.ActivatedAt, c.NextRun, c.Web = "", 0, 0, nil, nil, nil
	b, err := json.Marshal(c)
	return string(b), err
}

// webTrigger is the stored JSON of a survey's web trigger, empty for none.
func webTrigger(s *Survey) string {
	if s.Web == nil {
		return ""
	}
	b, _ := json.Marshal(s.Web)
	return string(b)
}

func nullMillis(m *store.Millis) any {
	if m == nil {
		return nil
	}
	return int64(*m)
}

func insertSurvey(ctx context.Context, tx *store.Tx, s *Survey) error {
	def, err := definition(s)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO surveys (id, name, rhythm, owner, status, definition, web_trigger, activated_at, next_run, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, s.ID, s.Name, s.Rhythm, s.Owner, s.Status, def, webTrigger(s),
		nullMillis(s.ActivatedAt), nullMillis(s.NextRun), int64(s.CreatedAt), int64(s.UpdatedAt))
	return err
}

func updateSurvey(ctx context.Context, tx *store.Tx, s *Survey) error {
	def, err := definition(s)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `UPDATE surveys SET name = $1, rhythm = $2, owner = $3, status = $4, definition = $5,
		activated_at = $6, next_run = $7, updated_at = $8, web_trigger = $9 WHERE id = $10`, s.Name, s.Rhythm, s.Owner, s.Status, def,
		nullMillis(s.ActivatedAt), nullMillis(s.NextRun), int64(s.UpdatedAt), webTrigger(s), s.ID)
	return err
}
