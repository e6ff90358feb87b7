package survey

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/text"
)

// NPS bands, as a verbatim's score filter names them.
const (
	BandDetractor = "detractor" // 0–6
	BandPassive   = "passive"   // 7–8
	BandPromoter  = "promoter"  // 9–10
)

// VerbatimQuery filters and pages a survey's open-text answers. Empty
// fields do not filter.
type VerbatimQuery struct {
	Survey string
	// Search is a piece of the comment, matched whatever its case; % and _
	// are themselves.
	Search string
	// Band is an NPS band (detractor, passive, promoter); MinScore and
	// MaxScore bound the score of the survey's headline metric instead.
	Band               string
	MinScore, MaxScore *float64
	Sentiment          string
	// Keyword is one of the keywords the analyser read (the topic).
	Keyword  string
	Language string
	// From and To bound when it was answered (To excluded); zero is open.
	From, To      time.Time
	Limit, Offset int
}

// VerbatimRow is an open-text answer as the verbatims list shows it: with
// who gave it and the score they gave in the same response.
type VerbatimRow struct {
	Response     string       `json:"response"`
	Customer     string       `json:"customer,omitempty"`
	CustomerName string       `json:"customerName,omitempty"`
	Score        *float64     `json:"score"`
	Question     string       `json:"question"`
	Body         string       `json:"body"`
	Language     string       `json:"language"`
	Sentiment    string       `json:"sentiment"`
	Keywords     []string     `json:"keywords"`
	RespondedAt  store.Millis `json:"respondedAt"`
}

// Band is the score's NPS band when metric is nps ("" otherwise).
func (v VerbatimRow) Band(metric string) string {
	if v.Score == nil || metric != TypeNPS {
		return ""
	}
	return NPSBand(*v.Score)
}

// NPSBand names the band of an NPS answer.
func NPSBand(score float64) string {
	switch {
	case score >= 9:
		return BandPromoter
	case score >= 7:
		return BandPassive
	}
	return BandDetractor
}

// VerbatimPage is one page of verbatims and how many match the filter.
type VerbatimPage struct {
	// Metric is the survey's headline metric, whose score each row carries.
	Metric    string        `json:"metric,omitempty"`
	Total     int           `json:"total"`
	Limit     int           `json:"limit"`
	Offset    int           `json:"offset"`
	Verbatims []VerbatimRow `json:"verbatims"`
}

// ParseVerbatimFilter reads the filter parameters shared by the API and the
// console (q, score, sentiment, keyword, language) into q; a bad one is an
// invalid error naming it. score is an NPS band, a score (9) or a range
// (0-6).
func ParseVerbatimFilter(v url.Values, q *VerbatimQuery) error {
	q.Search = strings.TrimSpace(v.Get("q"))
	q.Sentiment, q.Keyword, q.Language = strings.TrimSpace(v.Get("sentiment")), strings.TrimSpace(v.Get("keyword")), strings.TrimSpace(v.Get("language"))
	switch s := strings.TrimSpace(v.Get("score")); s {
	case "":
	case BandDetractor, BandPassive, BandPromoter:
		q.Band = s
	default:
		lo, hi, ranged := strings.Cut(s, "-")
		a, errA := strconv.ParseFloat(strings.TrimSpace(lo), 64)
		b, errB := a, error(nil)
		if ranged {
			b, errB = strconv.ParseFloat(strings.TrimSpace(hi), 64)
		}
		if errA != nil || errB != nil || b < a {
			return fault.Field("score", "score is detractor, passive, promoter, a score (9) or a range (0-6)")
		}
		q.MinScore, q.MaxScore = &a, &b
	}
	switch q.Sentiment {
	case "", text.Positive, text.Neutral, text.Negative, text.Unknown:
	default:
		return fault.Field("sentiment", "sentiment is positive, neutral, negative or unknown")
	}
	return nil
}

// fold is a comment as verbatim search compares it.
func fold(s string) string { return strings.ToLower(s) }

// FindVerbatims lists a survey's open-text answers that match q, newest
// first, with the total that match.
func (s *Service) FindVerbatims(ctx context.Context, q VerbatimQuery) (VerbatimPage, error) {
	sv, err := s.Get(ctx, q.Survey)
	if err != nil {
		return VerbatimPage{}, err
	}
	metric := sv.Metric()
	page := VerbatimPage{Metric: metric, Limit: q.Limit, Offset: q.Offset, Verbatims: []VerbatimRow{}}
	if q.Limit <= 0 {
		return page, fault.Field("limit", "limit must be at least 1")
	}
	args := []any{sv.ID, metric}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	where := `t.survey_id = $1`
	if q.Search != "" {
		where += ` AND t.folded LIKE ` + arg("%"+store.EscapeLike(fold(q.Search))+"%") + ` ESCAPE '\'`
	}
	if q.Band != "" || q.MinScore != nil || q.MaxScore != nil {
		lo, hi := q.MinScore, q.MaxScore
		if q.Band != "" {
			if metric != TypeNPS {
				return page, fault.Field("score", "promoter, passive and detractor are NPS bands; this survey's score is %s", orNone(metric))
			}
			b := map[string][2]float64{BandDetractor: {0, 6}, BandPassive: {7, 8}, BandPromoter: {9, 10}}[q.Band]
			lo, hi = &b[0], &b[1]
		}
		if metric == "" {
			return page, fault.Field("score", "this survey asks no scored question")
		}
		if lo != nil {
			where += ` AND sc.value >= ` + arg(*lo)
		}
		if hi != nil {
			where += ` AND sc.value <= ` + arg(*hi)
		}
	}
	if q.Sentiment != "" {
		where += ` AND t.sentiment = ` + arg(q.Sentiment)
	}
	if q.Keyword != "" {
		// keywords is a JSON array: match one whole element.
		kw, _ := json.Marshal(strings.ToLower(q.Keyword))
		where += ` AND t.keywords LIKE ` + arg("%"+store.EscapeLike(string(kw))+"%") + ` ESCAPE '\'`
	}
	if q.Language != "" {
		where += ` AND t.language = ` + arg(q.Language)
	}
	if !q.From.IsZero() {
		where += ` AND t.responded_at >= ` + arg(q.From.UnixMilli())
	}
	if !q.To.IsZero() {
		where += ` AND t.responded_at < ` + arg(q.To.UnixMilli())
	}
	from := ` FROM survey_texts t
		JOIN survey_responses r ON r.id = t.response_id
		LEFT JOIN survey_scores sc ON sc.response_id = t.response_id AND sc.metric = $2
		WHERE ` + where
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+from, args...).Scan(&page.Total); err != nil {
		return page, err
	}
	if page.Total <= q.Offset {
		return page, nil
	}
	type who struct{ customer, user, anon string }
	var whos []who
	err = s.db.Each(ctx, `SELECT t.response_id, t.question, t.body, t.language, t.sentiment, t.keywords, t.responded_at,
		sc.value, r.customer_id, r.user_id, r.anonymous_id`+from+`
		ORDER BY t.responded_at DESC, t.response_id, t.question LIMIT `+arg(q.Limit)+` OFFSET `+arg(q.Offset), args, func(rows *sql.Rows) error {
		var v VerbatimRow
		var kw string
		var score sql.NullFloat64
		var w who
		if err := rows.Scan(&v.Response, &v.Question, &v.Body, &v.Language, &v.Sentiment, &kw, &v.RespondedAt, &score, &w.customer, &w.user, &w.anon); err != nil {
			return err
		}
		_ = json.Unmarshal([]byte(kw), &v.Keywords)
		if v.Keywords == nil {
			v.Keywords = []string{}
		}
		if score.Valid {
			v.Score = &score.Float64
		}
		page.Verbatims = append(page.Verbatims, v)
		whos = append(whos, w)
		return nil
	})
	if err != nil {
		return page, err
	}
	return page, s.nameCustomers(ctx, page.Verbatims, func(i int) (string, string, string) { return whos[i].customer, whos[i].user, whos[i].anon })
}

// nameCustomers fills each row's customer (the profile an answer given by
// identity belongs to now) and display name.
func (s *Service) nameCustomers(ctx context.Context, rows []VerbatimRow, who func(i int) (customer, user, anon string)) error {
	if s.profiles == nil {
		return nil
	}
	var unknown []eventlog.Event
	for i := range rows {
		c, u, a := who(i)
		rows[i].Customer = c
		if c == "" {
			unknown = append(unknown, eventlog.Event{UserID: u, AnonymousID: a})
		}
	}
	if len(unknown) > 0 {
		owners, err := s.profiles.Owners(ctx, unknown)
		if err != nil {
			return err
		}
		for i := range rows {
			if rows[i].Customer == "" {
				_, u, a := who(i)
				rows[i].Customer = profile.OwnerOf(owners, eventlog.Event{UserID: u, AnonymousID: a})
			}
		}
	}
	refs := make([]string, 0, len(rows))
	for _, v := range rows {
		if v.Customer != "" {
			refs = append(refs, v.Customer)
		}
	}
	names, err := s.profiles.Names(ctx, refs)
	if err != nil {
		return err
	}
	for i := range rows {
		rows[i].CustomerName = names[rows[i].Customer]
	}
	return nil
}

func orNone(metric string) string {
	if metric == "" {
		return "none"
	}
	return metric
}

// StoredResponseOf reads one response of a survey with its analysed texts.
func (s *Service) StoredResponseOf(ctx context.Context, survey, id string) (StoredResponse, error) {
	if _, err := s.Get(ctx, survey); err != nil {
		return StoredResponse{}, err
	}
	list, _, err := s.readResponses(ctx, `SELECT id, invitation_id, customer_id, user_id, anonymous_id, channel, role, account_id, locale, answers, responded_at, seq
		FROM survey_responses WHERE survey_id = $1 AND id = $2`, []any{survey, id})
	if err != nil {
		return StoredResponse{}, err
	}
	if len(list) == 0 {
		return StoredResponse{}, fault.New(fault.NotFound, "survey %s has no response %s", survey, id)
	}
	return list[0], nil
}

// VerbatimLanguages lists the languages of a survey's open-text answers.
func (s *Service) VerbatimLanguages(ctx context.Context, survey string) ([]string, error) {
	return s.db.Strings(ctx, `SELECT DISTINCT language FROM survey_texts WHERE survey_id = $1 AND language <> '' ORDER BY language`, survey)
}
