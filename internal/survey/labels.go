package survey

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/cxloop/cxloop/internal/vocab"
)

// Names gives each survey's name by id.
func (s *Service) Names(ctx context.Context) (map[string]string, error) {
	names := map[string]string{}
	err := s.db.Each(ctx, `SELECT id, name FROM surveys`, nil, func(r *sql.Rows) error {
		var id, name string
		err := r.Scan(&id, &name)
		names[id] = name
		return err
	})
	return names, err
}

// QuestionLabels gives the questions' texts by question id (and
// "question.item" for an item of a matrix), in each survey's default
// language (English when it names none); the first survey to ask a
// question names it.
func (s *Service) QuestionLabels(ctx context.Context) (map[string]string, error) {
	out := map[string]string{}
	err := s.db.Each(ctx, `SELECT definition FROM surveys ORDER BY created_at, id`, nil, func(r *sql.Rows) error {
		var raw string
		if err := r.Scan(&raw); err != nil {
			return err
		}
		var def struct {
			DefaultLanguage string     `json:"defaultLanguage"`
			Questions       []Question `json:"questions"`
		}
		if json.Unmarshal([]byte(raw), &def) != nil {
			return nil // not readable: its questions go by their ids
		}
		lang := def.DefaultLanguage
		if lang == "" {
			lang = "en"
		}
		put := func(id string, t vocab.Text) {
			if v := strings.TrimSpace(t.In(lang, "en")); v != "" && out[id] == "" {
				out[id] = v
			}
		}
		for _, q := range def.Questions {
			put(q.ID, q.Text)
			for _, it := range q.Items {
				put(q.ID+"."+it.ID, it.Text)
			}
		}
		return nil
	})
	return out, err
}

// RecordedSince gives the log positions of the responses recorded at or
// after since (Unix ms).
func (s *Service) RecordedSince(ctx context.Context, since int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	err := s.db.Each(ctx, `SELECT seq FROM survey_responses WHERE responded_at >= $1`, []any{since}, func(r *sql.Rows) error {
		var seq int64
		err := r.Scan(&seq)
		out[seq] = true
		return err
	})
	return out, err
}
