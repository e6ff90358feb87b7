package analytics

import (
	"context"
	"strings"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/match"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/text"
)

// Consumer keeps orders and the signals of dissatisfaction: survey scores,
// negative mentions, returns, complaints and cases.
type Consumer struct{}

// Name is the consumer's checkpoint key.
func (Consumer) Name() string { return "analytics" }

// Reset removes what the log built.
func (Consumer) Reset(ctx context.Context, tx *store.Tx) error {
	for _, q := range []string{`DELETE FROM an_orders`, `DELETE FROM an_refunds`, `DELETE FROM an_signals`, `DELETE FROM an_answers`, `DELETE FROM an_stages`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// Events names what the consumer reads: the signals and the events the
// journey stages are made of.
func (Consumer) Events(ctx context.Context, tx *store.Tx) ([]string, bool, error) {
	stages, err := Stages(ctx, tx)
	if err != nil {
		return nil, false, err
	}
	names := []string{"Order Completed", "Order Refunded", "Product Returned", "Survey Responded", "Social Mention", "Complaint Submitted",
		"Case Opened", "Case Resolved"}
	for _, list := range stages {
		names = append(names, list...)
	}
	return names, false, nil
}

// Apply projects a batch of events.
func (Consumer) Apply(ctx context.Context, tx *store.Tx, events []eventlog.Event) error {
	stageOf, err := stagesByEvent(ctx, tx)
	if err != nil {
		return err
	}
	for i := range events {
		e := &events[i]
		p, ok := e.TrackProps()
		if !ok {
			continue
		}
		key := profile.Key(e.UserID, e.AnonymousID)
		if st, ok := stageOf[e.Event]; ok {
			if err := recordStage(ctx, tx, e, key, st, p); err != nil {
				return err
			}
		}
		msgID := e.MessageID
		if e.Event == "Survey Responded" {
			if msgID, err = responseID(ctx, tx, e, p); err != nil {
				return err
			}
		}
		if err := recordSignals(ctx, tx, e, msgID, key, p); err != nil {
			return err
		}
	}
	return nil
}

// stagesByEvent is the journey stage each event name stands for.
func stagesByEvent(ctx context.Context, tx *store.Tx) (map[string]string, error) {
	stages, err := Stages(ctx, tx)
	if err != nil {
		return nil, err
	}
	stageOf := map[string]string{}
	for st, list := range stages {
		for _, n := range list {
			stageOf[n] = st
		}
	}
	return stageOf, nil
}

// recordStage records the customer's step into a journey stage.
func recordStage(ctx context.Context, tx *store.Tx, e *eventlog.Event, key, stage string, p map[string]any) error {
	exp, _ := p["experience"].(string)
	// cxloop's actions (a nudge sent, an order proposed) are not the
	// customer's touches; Funnel tells them apart.
	action := e.SourceID == eventlog.SourceActions
	_, err := tx.ExecContext(ctx, `INSERT INTO an_stages (message_id, identity, stage, channel, experience, at, action) VALUES ($1, $2, $3, $4, $5, $6, $7)
				ON CONFLICT (message_id) DO NOTHING`, e.MessageID, key, stage, e.Channel, exp, e.Timestamp, action)
	return err
}

// responseID is the id a survey response's signals and answers are kept
// under. A response is counted once, as the survey capability counts it:
// by its response_id (the first to arrive), else by its message. An
// answer revised from a survey email replaces what the first answer (and
// any revision before) left.
func responseID(ctx context.Context, tx *store.Tx, e *eventlog.Event, p map[string]any) (string, error) {
	msgID := e.MessageID
	rid, _ := p["response_id"].(string)
	if rid != "" {
		msgID = "response:" + rid
	}
	if r, ok := p["revises"].(string); ok && r != "" && e.SourceID == eventlog.SourceCxloop {
		if rid == "" {
			msgID = r
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM an_signals WHERE message_id = $1`, msgID); err != nil {
			return "", err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM an_answers WHERE message_id = $1`, msgID); err != nil {
			return "", err
		}
	}
	return msgID, nil
}

// recordSignals records what an event says of the customer: an order, a
// return or refund, a survey answer's signals, a negative mention, a
// complaint, a case opened or resolved. Its signals are kept under msgID.
func recordSignals(ctx context.Context, tx *store.Tx, e *eventlog.Event, msgID, key string, p map[string]any) error {
	signal := func(kind string, value float64, ref string) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO an_signals (message_id, identity, kind, value, ref, at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (message_id, kind) DO NOTHING`, msgID, key, kind, value, ref, e.Timestamp)
		return err
	}
	order, _ := p["order_id"].(string)
	switch e.Event {
	case "Order Completed":
		total, ok := match.Number(p["total"])
		if !ok {
			total, _ = match.Number(p["revenue"])
		}
		if order == "" {
			order = "msg:" + e.MessageID
		}
		// A refund read before its order (an_refunds) marks it at once.
		_, err := tx.ExecContext(ctx, `INSERT INTO an_orders (order_id, identity, total, at, refunded_at)
			VALUES ($1, $2, $3, $4, (SELECT at FROM an_refunds WHERE order_id = $1)) ON CONFLICT (order_id) DO NOTHING`,
			order, key, total, e.Timestamp)
		return err
	case "Order Refunded", "Product Returned":
		if e.Event == "Order Refunded" && order != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE an_orders SET refunded_at = $1 WHERE order_id = $2 AND refunded_at IS NULL`, e.Timestamp, order); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO an_refunds (order_id, at) VALUES ($1, $2) ON CONFLICT (order_id) DO NOTHING`, order, e.Timestamp); err != nil {
				return err
			}
		}
		return signal("return", 1, order)
	case "Survey Responded":
		return answerSignals(ctx, tx, e, msgID, key, p, signal)
	case "Social Mention":
		if s, _ := p["sentiment"].(string); s == "negative" {
			return signal("negative", 1, "")
		}
	case "Complaint Submitted":
		return signal("complaint", 1, "")
	case "Case Opened", "Case Resolved":
		id, _ := p["case_id"].(string)
		kind := "case_open"
		if e.Event == "Case Resolved" {
			kind = "case_resolved"
		}
		if k, _ := p["kind"].(string); e.Event == "Case Opened" && strings.EqualFold(k, "complaint") {
			if err := caseComplaint(ctx, tx, e, key, id, p); err != nil {
				return err
			}
		}
		return signal(kind, 1, id)
	}
	return nil
}

// answerSignals records a survey answer's signals: its lowest score as a
// share of its scale, its NPS, its answers, and whether an open answer is
// negative.
func answerSignals(ctx context.Context, tx *store.Tx, e *eventlog.Event, msgID, key string, p map[string]any, signal func(kind string, value float64, ref string) error) error {
	var err error
	// The lowest of the scores, as a share of its scale: NPS 0–10, CSAT 1–5, CES 1–7 (high is easy), ACSI 0–100.
	scores := scoresOf(p)
	share, ok := -1.0, false
	for _, s := range []struct {
		name   string
		lo, hi float64
	}{{"nps", 0, 10}, {"csat", 1, 5}, {"ces", 1, 7}, {"acsi", 0, 100}} {
		if v, has := scores[s.name]; has {
			x := (v - s.lo) / (s.hi - s.lo)
			if !ok || x < share {
				share, ok = x, true
			}
		}
	}
	// The survey rides along (as the signal's ref): the outcomes
	// report each survey's scores apart.
	surveyID, _ := p["survey_id"].(string)
	if ok {
		err = signal("score", share, surveyID)
	}
	if v, has := scores["nps"]; has && err == nil {
		err = signal("nps", v, surveyID)
	}
	if err == nil {
		err = answers(ctx, tx, e, msgID, key, p)
	}
	// A negative open answer is a sign of dissatisfaction too.
	lang, _ := p["language"].(string)
	if lang == "" {
		lang = "en"
	}
	if list, _ := p["answers"].(map[string]any); err == nil {
		for _, a := range list {
			if body, ok := a.(string); ok && len(body) > 3 && text.Analyze(body, lang).Sentiment == text.Negative {
				err = signal("negative", 1, "")
				break
			}
		}
	}
	return err
}

// caseComplaint records the complaint a complaint case stands for, once
// and at the complaint's own time: a case opened for an event (a Complaint
// Submitted, a mention a rule escalates) is that event's complaint, keyed
// by its message id and dated by its timestamp, so the Complaint Submitted
// and its case count once, in the month the customer complained — not in
// the month the case was opened. A case without a source event is itself
// the complaint.
func caseComplaint(ctx context.Context, tx *store.Tx, e *eventlog.Event, key, caseID string, p map[string]any) error {
	msg, at := e.MessageID, e.Timestamp
	if src, _ := p["source_message_id"].(string); src != "" {
		msg = src
		_, ts, found, err := eventlog.Locate(ctx, tx, src)
		if err != nil {
			return err
		}
		if found {
			at = ts
		}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO an_signals (message_id, identity, kind, value, ref, at) VALUES ($1, $2, 'complaint', 1, $3, $4)
		ON CONFLICT (message_id, kind) DO NOTHING`, msg, key, caseID, at)
	return err
}

// answers keeps a response's numeric answers, item by item: a rating as
// its question id, an ACSI answer as question.item.
func answers(ctx context.Context, tx *store.Tx, e *eventlog.Event, msgID, key string, p map[string]any) error {
	list, _ := p["answers"].(map[string]any)
	survey, _ := p["survey_id"].(string)
	channel, _ := p["touchpoint_channel"].(string)
	if channel == "" {
		channel = e.Channel
	}
	put := func(q string, v float64) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO an_answers (message_id, identity, survey_id, question, value, channel, at) VALUES ($1, $2, $3, $4, $5, $6, $7)
			ON CONFLICT (message_id, question) DO NOTHING`, msgID, key, survey, q, v, channel, e.Timestamp)
		return err
	}
	for q, a := range list {
		if v, ok := match.Number(a); ok {
			if err := put(q, v); err != nil {
				return err
			}
			continue
		}
		if items, ok := a.(map[string]any); ok {
			for item, x := range items {
				if v, ok := match.Number(x); ok {
					if err := put(q+"."+item, v); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// scoresOf reads a response's scores: the nps, csat, ces and acsi
// properties cxloop writes, or else the answers to questions of those ids
// (an acsi answer's items, 1–10, make the index 0–100 with equal weights).
func scoresOf(p map[string]any) map[string]float64 {
	out := map[string]float64{}
	answers, _ := p["answers"].(map[string]any)
	for _, name := range []string{"nps", "csat", "ces", "acsi"} {
		if v, ok := match.Number(p[name]); ok {
			out[name] = v
			continue
		}
		if v, ok := match.Number(answers[name]); ok {
			out[name] = v
			continue
		}
		if items, ok := answers[name].(map[string]any); ok && name == "acsi" && len(items) > 0 {
			sum, n := 0.0, 0.0
			for _, x := range items {
				if v, ok := match.Number(x); ok {
					sum, n = sum+(v-1)/9*100, n+1
				}
			}
			if n > 0 {
				out[name] = sum / n
			}
		}
	}
	return out
}
