package eventlog

import (
	"context"
	"slices"
)

// Known are the event names of the cxloop event spec (docs/events.md): the
// customer events the loop reads and the events cxloop writes. A test keeps
// the two lists the same.
var Known = []string{
	"Product Viewed", "Order Completed", "Order Refunded", "Product Reviewed", "Signed Up", "Call Completed", "Social Mention",
	"Survey Invited", "Survey Invitation Skipped", "Survey Reminder Sent", "Survey Responded", "Survey Opted Out", "Survey Dismissed",
	"Complaint Submitted", "Case Opened", "Case Note Added", "Case Assigned", "Case Resolved", "Case Status Changed", "Case SLA Breached", "Alert Fired",
	"Points Redeemed", "Community Joined", "Community Left", "Community Post Created", "Community Answer Posted", "Community Event Attended",
	"Referral Signed Up", "Referral Converted", "Guide Viewed", "Introduction Made", "Introduction Converted",
	"Order Proposed", "Order Proposal Accepted", "Order Proposal Declined", "Replenishment Consented", "Replenishment Revoked",
	"Replenishment Scheduled", "Order Auto-Placed", "Replenishment Cancelled", "Nudges Consented", "Nudges Revoked",
	"Nudge Sent", "Nudge Held Out", "Recommendation Shown", "Recommendation Clicked", "Tier Changed",
}

// lately is how far back (in events) Unheard looks for a name.
const lately = 100_000

// Unheard returns the names among names that are neither in the event spec
// (Known), nor "*" or a message type, nor the name of any of the last
// 100,000 events: probably misspelt. A name a source has not sent yet is
// among them too; it works once sent.
func Unheard(ctx context.Context, db Querier, names []string) ([]string, error) {
	var out []string
	var head int64
	for _, n := range names {
		if n == "*" || IsType(n) || slices.Contains(Known, n) {
			continue
		}
		if head == 0 {
			h, err := Head(ctx, db)
			if err != nil {
				return nil, err
			}
			head = max(h, 1)
		}
		var seen int
		err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM events WHERE seq > $1 AND event = $2 LIMIT 1) e`, head-lately, n).Scan(&seen)
		if err != nil {
			return nil, err
		}
		if seen == 0 {
			out = append(out, n)
		}
	}
	return out, nil
}
