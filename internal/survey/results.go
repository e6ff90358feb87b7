package survey

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"strconv"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// Verbatim is an open-text answer with what the analyser read in it.
type Verbatim struct {
	Response    string       `json:"response"`
	Question    string       `json:"question"`
	Body        string       `json:"body"`
	Language    string       `json:"language"`
	Sentiment   string       `json:"sentiment"`
	Keywords    []string     `json:"keywords"`
	RespondedAt store.Millis `json:"respondedAt"`
}

// StoredResponse is a response as listed.
type StoredResponse struct {
	ID          string         `json:"id"`
	Invitation  string         `json:"invitation,omitempty"`
	Customer    string         `json:"customer,omitempty"`
	UserID      string         `json:"userId,omitempty"`
	AnonymousID string         `json:"anonymousId,omitempty"`
	Channel     string         `json:"channel"`
	Role        string         `json:"role,omitempty"`
	AccountID   string         `json:"accountId,omitempty"`
	Language    string         `json:"language"`
	Answers     map[string]any `json:"answers"`
	Texts       []Verbatim     `json:"texts"`
	RespondedAt store.Millis   `json:"respondedAt"`
}

// Responses lists a survey's responses, newest first, with their analysed texts.
func (s *Service) Responses(ctx context.Context, survey string, from, to time.Time, limit, offset int) ([]StoredResponse, error) {
	out := []StoredResponse{}
	err := s.EachResponse(ctx, survey, from, to, limit, offset, func(r StoredResponse) error {
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// responseChunk is how many responses EachResponse reads at a time.
const responseChunk = 200

// EachResponse calls fn with a survey's responses, newest first, with their
// analysed texts, as they are read (a few hundred at a time): the list and
// the CSV export are one definition.
// Only those answered in [from, to) count (a zero bound is open).
func (s *Service) EachResponse(ctx context.Context, survey string, from, to time.Time, limit, offset int, fn func(StoredResponse) error) error {
	if _, err := s.Get(ctx, survey); err != nil {
		return err
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !from.IsZero() {
		lo = from.UnixMilli()
	}
	if !to.IsZero() {
		hi = to.UnixMilli()
	}
	const cols = `SELECT id, invitation_id, customer_id, user_id, anonymous_id, channel, role, account_id, locale, answers, responded_at, seq
		FROM survey_responses WHERE survey_id = $1 AND responded_at >= $2 AND responded_at < $3`
	var last struct {
		at  store.Millis
		seq int64
		id  string
	}
	left := limit
	for first := true; left > 0; first = false {
		n := min(left, responseChunk)
		var q string
		var args []any
		if first {
			q, args = cols+` ORDER BY responded_at DESC, seq DESC, id LIMIT $4 OFFSET $5`, []any{survey, lo, hi, n, offset}
		} else {
			// After the last response read, in the list's order.
			q = cols + ` AND (responded_at < $4 OR (responded_at = $4 AND (seq < $5 OR (seq = $5 AND id > $6))))
				ORDER BY responded_at DESC, seq DESC, id LIMIT $7`
			args = []any{survey, lo, hi, last.at, last.seq, last.id, n}
		}
		chunk, seq, err := s.readResponses(ctx, q, args)
		if err != nil {
			return err
		}
		for _, r := range chunk {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(chunk) < n {
			return nil
		}
		left -= n
		l := chunk[len(chunk)-1]
		last.at, last.seq, last.id = l.RespondedAt, seq, l.ID
	}
	return nil
}

// readResponses reads responses with their texts; seq is the last one's.
func (s *Service) readResponses(ctx context.Context, q string, args []any) ([]StoredResponse, int64, error) {
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, 0, err
	}
	out := []StoredResponse{}
	index := map[string]int{}
	var seq int64
	for rows.Next() {
		var r StoredResponse
		var answers string
		if err := rows.Scan(&r.ID, &r.Invitation, &r.Customer, &r.UserID, &r.AnonymousID, &r.Channel, &r.Role, &r.AccountID, &r.Language, &answers, &r.RespondedAt, &seq); err != nil {
			rows.Close()
			return nil, 0, err
		}
		r.Answers = decodeAnswers(answers)
		r.Texts = []Verbatim{}
		index[r.ID] = len(out)
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	// An answer given through the API, an import or a client names its
	// customer by identity; the list names the profile it belongs to now.
	var unknown []eventlog.Event
	for _, r := range out {
		if r.Customer == "" {
			unknown = append(unknown, eventlog.Event{UserID: r.UserID, AnonymousID: r.AnonymousID})
		}
	}
	if len(unknown) > 0 && s.profiles != nil {
		owners, err := s.profiles.Owners(ctx, unknown)
		if err != nil {
			return nil, 0, err
		}
		for i := range out {
			if out[i].Customer == "" {
				out[i].Customer = profile.OwnerOf(owners, eventlog.Event{UserID: out[i].UserID, AnonymousID: out[i].AnonymousID})
			}
		}
	}
	ids := make([]string, 0, len(out))
	for _, r := range out {
		ids = append(ids, r.ID)
	}
	err = inChunks(ids, func(args []any, ph string) error {
		list, err := s.verbatims(ctx, `WHERE response_id IN (`+ph+`) ORDER BY question`, args...)
		for _, v := range list {
			out[index[v.Response]].Texts = append(out[index[v.Response]].Texts, v)
		}
		return err
	})
	return out, seq, err
}

func (s *Service) verbatims(ctx context.Context, where string, args ...any) ([]Verbatim, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT response_id, question, body, language, sentiment, keywords, responded_at FROM survey_texts `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Verbatim{}
	for rows.Next() {
		var v Verbatim
		var kw string
		if err := rows.Scan(&v.Response, &v.Question, &v.Body, &v.Language, &v.Sentiment, &kw, &v.RespondedAt); err != nil {
			return nil, err
		}
		_ = json.Unmarshal([]byte(kw), &v.Keywords)
		out = append(out, v)
	}
	return out, rows.Err()
}

// Sentiments counts a survey's open-text answers by sentiment.
func (s *Service) Sentiments(ctx context.Context, survey string) (map[string]int, error) {
	return s.SentimentsIn(ctx, survey, time.Time{}, time.Time{})
}

// SentimentsIn counts the open-text answers given in [from, to) (a zero
// bound is open) by sentiment.
func (s *Service) SentimentsIn(ctx context.Context, survey string, from, to time.Time) (map[string]int, error) {
	out := map[string]int{}
	lo, hi := store.Span(from, to)
	rows, err := s.db.QueryContext(ctx, `SELECT sentiment, COUNT(*) FROM survey_texts WHERE survey_id = $1 AND responded_at >= $2 AND responded_at < $3
		GROUP BY sentiment`, survey, lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// Metric is the survey's headline metric: its first nps, csat, ces or acsi
// question's type ("" when it has none).
func (s *Survey) Metric() string {
	for _, q := range s.Questions {
		switch q.Type {
		case TypeNPS, TypeCSAT, TypeCES, TypeACSI:
			return q.Type
		}
	}
	return ""
}

// Counts tallies the answers of each choice and rating question given in
// [from, to) (a zero bound is open): question id → answer → count.
func (s *Service) Counts(ctx context.Context, survey string, from, to time.Time) (map[string]map[string]int, error) {
	where, args := `survey_id = $1`, []any{survey}
	if !from.IsZero() {
		args = append(args, from.UnixMilli())
		where += ` AND responded_at >= $` + strconv.Itoa(len(args))
	}
	if !to.IsZero() {
		args = append(args, to.UnixMilli())
		where += ` AND responded_at < $` + strconv.Itoa(len(args))
	}
	rows, err := s.db.QueryContext(ctx, `SELECT answers FROM survey_responses WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]int{}
	for rows.Next() {
		var raw string
		if err := rows.Scan(&raw); err != nil {
			return nil, err
		}
		for q, a := range decodeAnswers(raw) {
			if out[q] == nil {
				out[q] = map[string]int{}
			}
			switch a := a.(type) {
			case float64:
				out[q][strconv.FormatFloat(a, 'f', -1, 64)]++
			case string:
				out[q][a]++
			case []any:
				for _, x := range a {
					if c, ok := x.(string); ok {
						out[q][c]++
					}
				}
			}
		}
	}
	return out, rows.Err()
}

// AnswersByTrigger maps the trigger messageId of each answered invitation
// of a survey to its numeric answer to question: what a resolved case, an
// order or a visit was rated.
func (s *Service) AnswersByTrigger(ctx context.Context, survey, question string) (map[string]float64, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT i.trigger_message, r.answers FROM survey_responses r JOIN survey_invitations i ON i.id = r.invitation_id
		WHERE r.survey_id = $1 AND i.trigger_message <> ''`, survey)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var trigger, raw string
		if err := rows.Scan(&trigger, &raw); err != nil {
			return nil, err
		}
		if v, ok := decodeAnswers(raw)[question].(float64); ok {
			out[trigger] = v
		}
	}
	return out, rows.Err()
}

// Answered counts a survey's responses, on every path.
func (s *Service) Answered(ctx context.Context, survey string) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM survey_responses WHERE survey_id = $1`, survey).Scan(&n)
	return n, err
}

// LastScore is a customer's latest answer to a metric (nps, csat, ces,
// acsi) before the time given, under any of their identities.
func (s *Service) LastScore(ctx context.Context, metric string, userIDs, anonymousIDs []string, before int64) (float64, bool, error) {
	return s.scoreNear(ctx, metric, userIDs, anonymousIDs, before, true)
}

// NextScore is a customer's first answer to a metric after the time given.
func (s *Service) NextScore(ctx context.Context, metric string, userIDs, anonymousIDs []string, after int64) (float64, bool, error) {
	return s.scoreNear(ctx, metric, userIDs, anonymousIDs, after, false)
}

func (s *Service) scoreNear(ctx context.Context, metric string, userIDs, anonymousIDs []string, at int64, before bool) (float64, bool, error) {
	cmp := ">"
	if before {
		cmp = "<"
	}
	var best float64
	var bestAt int64
	found := false
	for _, list := range []struct {
		col string
		ids []string
	}{{"user_id", userIDs}, {"anonymous_id", anonymousIDs}} {
		err := inChunks(list.ids, func(args []any, ph string) error {
			args = append(args, metric, at)
			// Every answer of the customer's on that side of at (a few), the
			// nearest chosen below: with ORDER BY … LIMIT 1 the planner may
			// walk the metric's whole index in time order instead of the
			// customer's identities.
			rows, err := s.db.QueryContext(ctx, `SELECT value, responded_at FROM survey_scores WHERE `+list.col+` IN (`+ph+`)
				AND metric = $`+strconv.Itoa(len(args)-1)+` AND responded_at `+cmp+` $`+strconv.Itoa(len(args)), args...)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var v float64
				var t int64
				if err := rows.Scan(&v, &t); err != nil {
					return err
				}
				if !found || (before && t > bestAt) || (!before && t < bestAt) {
					best, bestAt, found = v, t, true
				}
			}
			return rows.Err()
		})
		if err != nil {
			return 0, false, err
		}
	}
	return best, found, nil
}

// RespondedBetween counts the responses recorded from from up to (not
// including) to.
func (s *Service) RespondedBetween(ctx context.Context, from, to time.Time) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM survey_responses WHERE responded_at >= $1 AND responded_at < $2`,
		from.UnixMilli(), to.UnixMilli()).Scan(&n)
	return n, err
}

// ScoredAnswer is one answer to a metric: whose (user and anonymous id as
// sent) and when (Unix ms).
type ScoredAnswer struct {
	UserID, AnonymousID string
	Value               float64
	At                  int64
}

// AnswersBetween returns the metric's answers from from up to (not
// including) to with a value between lo and hi, oldest first.
func (s *Service) AnswersBetween(ctx context.Context, metric string, from, to time.Time, lo, hi float64) ([]ScoredAnswer, error) {
	var out []ScoredAnswer
	err := s.db.Each(ctx, `SELECT user_id, anonymous_id, value, responded_at FROM survey_scores
		WHERE metric = $1 AND responded_at >= $2 AND responded_at < $3 AND value >= $4 AND value <= $5 ORDER BY responded_at, response_id`,
		[]any{metric, from.UnixMilli(), to.UnixMilli(), lo, hi}, func(r *sql.Rows) error {
			var a ScoredAnswer
			err := r.Scan(&a.UserID, &a.AnonymousID, &a.Value, &a.At)
			out = append(out, a)
			return err
		})
	return out, err
}

// LastAnswered is when the metric was last answered (Unix ms; 0: never).
func (s *Service) LastAnswered(ctx context.Context, metric string) (int64, error) {
	var at int64
	err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(responded_at), 0) FROM survey_scores WHERE metric = $1`, metric).Scan(&at)
	return at, err
}
