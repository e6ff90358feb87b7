package profile

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/store"
)

// Segment is a saved filter with its live count.
type Segment struct {
	ID        string       `json:"id"`
	Name      string       `json:"name"`
	Query     Query        `json:"query"`
	Count     int          `json:"count"`
	CreatedAt store.Millis `json:"createdAt"`
}

// SaveSegment stores a named filter. A query may name a saved segment
// itself ("saved": id) to narrow it.
func (s *Service) SaveSegment(ctx context.Context, name string, q Query) (*Segment, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return nil, fault.Field("name", "a segment has a name of at most 200 characters")
	}
	if err := q.Validate(); err != nil {
		return nil, err
	}
	if q.Saved != "" {
		if _, err := s.savedQuery(ctx, q.Saved); err != nil {
			return nil, err
		}
	}
	seg := &Segment{ID: store.NewID("seg"), Name: name, Query: q, CreatedAt: store.Millis(s.now().UnixMilli())}
	b, _ := json.Marshal(q)
	err := s.db.Tx(ctx, func(tx *store.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO segments (id, name, query, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING`,
			seg.ID, name, string(b), int64(seg.CreatedAt))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fault.New(fault.Conflict, "a segment named %q exists", name)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	members, err := s.Members(ctx, q, s.now())
	seg.Count = len(members)
	return seg, err
}

// Segments lists the saved segments with their live counts.
func (s *Service) Segments(ctx context.Context) ([]Segment, error) {
	var out []Segment
	err := s.eachArgs(ctx, `SELECT id, name, query, created_at FROM segments ORDER BY name`, nil, func(r *sql.Rows) error {
		var seg Segment
		var q string
		if err := r.Scan(&seg.ID, &seg.Name, &q, &seg.CreatedAt); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(q), &seg.Query); err != nil {
			return err
		}
		out = append(out, seg)
		return nil
	})
	if err != nil {
		return nil, err
	}
	now := s.now()
	for i := range out {
		members, err := s.Members(ctx, out[i].Query, now)
		if err != nil {
			return nil, err
		}
		out[i].Count = len(members)
	}
	if out == nil {
		out = []Segment{}
	}
	return out, nil
}

// savedQuery reads a saved segment's query.
func (s *Service) savedQuery(ctx context.Context, id string) (Query, error) {
	var q Query
	var raw string
	err := s.db.QueryRowContext(ctx, `SELECT query FROM segments WHERE id = $1 OR name = $1`, id).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return q, fault.Field("segment.saved", "no saved segment %q", id)
	}
	if err != nil {
		return q, err
	}
	return q, json.Unmarshal([]byte(raw), &q)
}

// SaveSegment answers POST /api/v1/segments {name, query}: 201 with the live count.
func (a *API) SaveSegment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Name  string `json:"name"`
		Query Query  `json:"query"`
	}
	if err := httpio.Decode(r, &in); err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	seg, err := a.svc.SaveSegment(r.Context(), in.Name, in.Query)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, seg)
}

// Segments answers GET /api/v1/segments.
func (a *API) Segments(w http.ResponseWriter, r *http.Request) {
	list, err := a.svc.Segments(r.Context())
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"segments": list})
}

// SegmentMembers answers GET /api/v1/segments/{id}/members?limit=.
func (a *API) SegmentMembers(w http.ResponseWriter, r *http.Request) {
	csv, err := httpio.WantsCSV(r)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	limit, _, err := httpio.ListPage(r, 100, 10000, csv)
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	ids, err := a.svc.Members(r.Context(), Query{Saved: r.PathValue("id")}, a.svc.now())
	if csv {
		type member struct {
			Customer string `json:"customer"`
		}
		rows := make([]member, min(len(ids), limit))
		for i := range rows {
			rows[i].Customer = ids[i]
		}
		httpio.CSVList(w, a.logger, "segment-"+r.PathValue("id"), rows, err, httpio.CSVOptions{})
		return
	}
	if err != nil {
		httpio.Error(w, a.logger, err)
		return
	}
	total := len(ids)
	if len(ids) > limit {
		ids = ids[:limit]
	}
	if ids == nil {
		ids = []string{}
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"count": total, "customers": ids})
}
