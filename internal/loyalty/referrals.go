package loyalty

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/match"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// referralCode reads the sender a sign-up names: a member's referral code,
// or "by:" and any identity of the sender (referred_by).
func referralCode(props map[string]any) string {
	code, _ := props["referral_code"].(string)
	code = strings.ToUpper(strings.TrimSpace(code))
	if by, _ := props["referred_by"].(string); code == "" && strings.TrimSpace(by) != "" {
		code = "by:" + strings.TrimSpace(by)
	}
	return code
}

// signUp records a referral sign-up with its sender and, for a plain
// Signed Up, returns the Referral Signed Up event that rules can reward.
func signUp(ctx context.Context, tx *store.Tx, e *eventlog.Event, code string) ([]eventlog.Event, error) {
	sender, err := senderOf(ctx, tx, code)
	if err != nil {
		return nil, err
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO loyalty_referrals (message_id, code, user_id, anonymous_id, at, sender_id) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (message_id) DO NOTHING`, e.MessageID, code, e.UserID, e.AnonymousID, e.Timestamp, sender)
	if err != nil {
		return nil, err
	}
	n, _ := res.RowsAffected()
	if n > 0 && sender != "" { // the sender referred one more: rescore them
		if err := markDue(ctx, tx, sender); err != nil {
			return nil, err
		}
	}
	if n == 0 || e.Event != "Signed Up" {
		return nil, nil
	}
	props, err := senderProps(ctx, tx, sender, code)
	if err != nil {
		return nil, err
	}
	ev, err := eventlog.OwnArrived("Referral Signed Up", "referral-signup-"+e.MessageID, e.UserID, e.AnonymousID, e.Channel, time.UnixMilli(e.Timestamp), e.Arrival(), props)
	return []eventlog.Event{ev}, err
}

// senderProps names a referral's sender in an event's properties: the
// sender's customer id and an identity to credit.
func senderProps(ctx context.Context, tx *store.Tx, sender, code string) (map[string]any, error) {
	props := map[string]any{"referral_code": strings.TrimPrefix(code, "by:")}
	if sender == "" {
		return props, nil
	}
	props["sender"] = sender
	who, err := someIdentity(ctx, tx, sender)
	if who.UserID != "" {
		props["sender_user_id"] = who.UserID
	} else if who.AnonymousID != "" {
		props["sender_anonymous_id"] = who.AnonymousID
	}
	return props, err
}

// convertReferrals marks the open referrals of an ordering customer as
// converted by this first order and returns their Referral Converted
// events: the friend's first order, attributed to the sender.
func convertReferrals(ctx context.Context, tx *store.Tx, e *eventlog.Event, props map[string]any) ([]eventlog.Event, error) {
	type open struct{ id, code, sender string }
	var list []open
	// One statement per identity column, so each uses its index.
	for _, q := range []struct{ col, v string }{{"user_id", e.UserID}, {"anonymous_id", e.AnonymousID}} {
		if q.v == "" {
			continue
		}
		rows, err := tx.QueryContext(ctx, `UPDATE loyalty_referrals SET converted_at = $1 WHERE `+q.col+` = $2 AND converted_at IS NULL AND at <= $1
			RETURNING message_id, code, sender_id`, e.Timestamp, q.v)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var o open
			if err := rows.Scan(&o.id, &o.code, &o.sender); err != nil {
				rows.Close()
				return nil, err
			}
			list = append(list, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	var out []eventlog.Event
	for _, o := range list {
		if o.sender == "" { // the sender's profile may have come later
			sender, err := senderOf(ctx, tx, o.code)
			if err != nil {
				return nil, err
			}
			o.sender = sender
		}
		p, err := senderProps(ctx, tx, o.sender, o.code)
		if err != nil {
			return nil, err
		}
		order, _ := props["order_id"].(string)
		revenue, _ := match.Number(props["total"])
		if revenue == 0 {
			revenue, _ = match.Number(props["revenue"])
		}
		p["order_id"], p["revenue"], p["order_message_id"] = order, revenue, e.MessageID
		ev, err := eventlog.OwnArrived("Referral Converted", "referral-converted-"+o.id, e.UserID, e.AnonymousID, e.Channel, time.UnixMilli(e.Timestamp), e.Arrival(), p)
		if err != nil {
			return nil, err
		}
		out = append(out, ev)
	}
	return out, nil
}

// senderOf finds the customer a referral code belongs to ("" when none).
// Codes looked up once are remembered; an unknown one hashes the ids of
// the customers not yet remembered. Profiles are read through tx: in a
// step of the log on SQLite it holds what the profile consumer wrote.
func senderOf(ctx context.Context, tx *store.Tx, code string) (string, error) {
	if by, ok := strings.CutPrefix(code, "by:"); ok {
		id, err := profile.ByIdentityIn(ctx, tx, by)
		if err != nil || id == "" {
			return "", err
		}
		return profile.SurvivorIn(ctx, tx, id)
	}
	var id string
	err := tx.QueryRowContext(ctx, `SELECT customer_id FROM loyalty_codes WHERE code = $1`, code).Scan(&id)
	if err == nil {
		return profile.SurvivorIn(ctx, tx, id)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	remembered := map[string]bool{}
	rows, err := tx.QueryContext(ctx, `SELECT customer_id FROM loyalty_codes`)
	if err != nil {
		return "", err
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return "", err
		}
		remembered[c] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return "", err
	}
	ids, err := profile.IDsIn(ctx, tx, remembered)
	if err != nil {
		return "", err
	}
	for _, c := range ids {
		if ReferralCode(c) == code {
			id = c
			break
		}
	}
	if id == "" {
		return "", nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO loyalty_codes (code, customer_id) VALUES ($1, $2) ON CONFLICT (code) DO NOTHING`, code, id); err != nil {
		return "", err
	}
	return profile.SurvivorIn(ctx, tx, id)
}
