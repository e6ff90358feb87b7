package loyalty

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/match"
	"github.com/cxloop/cxloop/internal/store"
)

// Consumer earns points by the rules and reverses them on refunds; it also
// keeps community membership and converts introductions. Log, when set,
// receives the Introduction Converted events it makes.
type Consumer struct{ Log *eventlog.Log }

// Name is the consumer's checkpoint key.
func (Consumer) Name() string { return "loyalty" }

// Reset removes what the log earned and reversed; redemptions and
// adjustments are commands and stay. A replay earns the same entries again,
// under the same ids.
func (Consumer) Reset(ctx context.Context, tx *store.Tx) error {
	for _, q := range []string{`DELETE FROM loyalty_entries WHERE kind IN ('earn', 'reverse')`, `DELETE FROM loyalty_orders`, `DELETE FROM loyalty_refunds`, `DELETE FROM loyalty_referrals`,
		`DELETE FROM loyalty_balances`, `DELETE FROM loyalty_earned`, `DELETE FROM community_members`, `UPDATE introductions SET converted_at = NULL`,
		`DELETE FROM guide_views`, `DELETE FROM community_activity`} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	// The commands' entries stay; their running sums are added up again.
	rows, err := tx.QueryContext(ctx, `SELECT user_id, anonymous_id, kind, points, at FROM loyalty_entries`)
	if err != nil {
		return err
	}
	type kept struct {
		key, kind  string
		points, at int64
	}
	var list []kept
	for rows.Next() {
		var user, anon string
		var k kept
		if err := rows.Scan(&user, &anon, &k.kind, &k.points, &k.at); err != nil {
			rows.Close()
			return err
		}
		k.key = identity(user, anon)
		list = append(list, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, k := range list {
		if err := sums(ctx, tx, k.key, k.kind, k.points, k.at); err != nil {
			return err
		}
	}
	return nil
}

// Events names what the consumer reads: the rules' events and refunds.
func (Consumer) Events(ctx context.Context, tx *store.Tx) ([]string, bool, error) {
	list, err := liveRules(ctx, tx)
	if err != nil {
		return nil, false, err
	}
	names := []string{"Order Completed", "Order Refunded", "Referral Signed Up", "Signed Up", "Community Joined", "Community Left", "Guide Viewed"}
	for name := range CommunityActivity {
		names = append(names, name)
	}
	for _, r := range list {
		names = append(names, r.On)
	}
	return names, false, nil
}

// Apply earns and reverses points for a batch of events.
func (c Consumer) Apply(ctx context.Context, tx *store.Tx, events []eventlog.Event) error {
	list, err := liveRules(ctx, tx)
	if err != nil {
		return err
	}
	var own []eventlog.Event // what the batch makes happen
	// Orders convert introductions only while some are open.
	var intros bool
	if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM introductions WHERE converted_at IS NULL)`).Scan(&intros); err != nil {
		return err
	}
	for i := range events {
		e := &events[i]
		props, ok := e.TrackProps()
		if !ok {
			continue
		}
		order, _ := props["order_id"].(string)
		switch {
		case e.Event == "Order Refunded" && order != "":
			if err := reverse(ctx, tx, e, order); err != nil {
				return err
			}
		case e.Event == "Community Joined" || e.Event == "Community Left" || CommunityActivity[e.Event] != "":
			if err := community(ctx, tx, e, props); err != nil {
				return err
			}
		case e.Event == "Guide Viewed":
			if err := guideViewed(ctx, tx, e, props); err != nil {
				return err
			}
		case e.Event == "Order Completed":
			var evs []eventlog.Event
			if intros {
				if evs, err = convert(ctx, tx, e); err != nil {
					return err
				}
			}
			refs, err := convertReferrals(ctx, tx, e, props)
			if err != nil {
				return err
			}
			own = append(append(own, evs...), refs...)
			if order != "" {
				total, _ := match.Number(props["total"])
				if _, err := tx.ExecContext(ctx, `INSERT INTO loyalty_orders (order_id, user_id, anonymous_id, total, at) VALUES ($1, $2, $3, $4, $5)
					ON CONFLICT (order_id) DO NOTHING`, order, e.UserID, e.AnonymousID, total, e.Timestamp); err != nil {
					return err
				}
			}
		case e.Event == "Signed Up" || (e.Event == "Referral Signed Up" && e.SourceID != eventlog.SourceCxloop):
			if code := referralCode(props); code != "" {
				evs, err := signUp(ctx, tx, e, code)
				if err != nil {
					return err
				}
				own = append(own, evs...)
			}
		}
		for _, r := range list {
			if r.On != e.Event || e.ReceivedAt < int64(r.CreatedAt) {
				continue
			}
			pts := r.earned(props)
			user, anon := e.UserID, e.AnonymousID
			if r.Beneficiary == Sender {
				user, _ = props["sender_user_id"].(string)
				anon, _ = props["sender_anonymous_id"].(string)
			}
			if pts <= 0 || (user == "" && anon == "") {
				continue
			}
			// An order earns once, however often it is sent (a confirmation
			// page reloaded sends it again under a new messageId).
			once := e.MessageID
			if order != "" && e.Event == "Order Completed" {
				once = "order:" + order
			}
			if _, err := add(ctx, tx, entryID("earn", r.ID, once), user, anon, Earn, pts, e.Event, e.MessageID, order, r.ID,
				"earn:"+r.ID+":"+once, "", e.Timestamp); err != nil {
				return err
			}
		}
		// An order whose refund was read before it earns and is reversed
		// at once, as if the refund had come after.
		if e.Event == "Order Completed" && order != "" {
			if err := refundedBefore(ctx, tx, order); err != nil {
				return err
			}
		}
	}
	if len(own) > 0 && c.Log != nil {
		return c.Log.AppendTx(ctx, tx, own)
	}
	return nil
}

// refundedBefore applies to an order just read the refund read before it
// (loyalty_refunds), if any.
func refundedBefore(ctx context.Context, tx *store.Tx, order string) error {
	var e eventlog.Event
	err := tx.QueryRowContext(ctx, `SELECT message_id, event, at FROM loyalty_refunds WHERE order_id = $1`, order).Scan(&e.MessageID, &e.Event, &e.Timestamp)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return reverse(ctx, tx, &e, order)
}

// reverse adds, once, a reversal of everything an order earned, and takes
// the order out of the customer's spend. The refund is kept for an order
// not read yet (refundedBefore).
func reverse(ctx context.Context, tx *store.Tx, e *eventlog.Event, order string) error {
	if _, err := tx.ExecContext(ctx, `UPDATE loyalty_orders SET refunded_at = $1 WHERE order_id = $2 AND refunded_at IS NULL`, e.Timestamp, order); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO loyalty_refunds (order_id, message_id, event, at) VALUES ($1, $2, $3, $4) ON CONFLICT (order_id) DO NOTHING`,
		order, e.MessageID, e.Event, e.Timestamp); err != nil {
		return err
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, user_id, anonymous_id, points FROM loyalty_entries WHERE order_id = $1 AND kind = 'earn'`, order)
	if err != nil {
		return err
	}
	type earned struct {
		id, user, anon string
		points         int64
	}
	var list []earned
	for rows.Next() {
		var x earned
		if err := rows.Scan(&x.id, &x.user, &x.anon, &x.points); err != nil {
			rows.Close()
			return err
		}
		list = append(list, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, x := range list {
		if _, err := add(ctx, tx, entryID("reverse", x.id), x.user, x.anon, Reverse, -x.points, e.Event, e.MessageID, order, "",
			"reverse:"+x.id, fmt.Sprintf("refund of order %s", order), e.Timestamp); err != nil {
			return err
		}
	}
	return nil
}

func entryID(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "lent_" + hex.EncodeToString(h[:10])
}
