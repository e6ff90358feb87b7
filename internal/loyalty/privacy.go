package loyalty

import "github.com/cxloop/cxloop/internal/privacy"

const whoEarned = "user_id IN ({users}) OR anonymous_id IN ({anons})"

// PrivacyTables are the loyalty tables holding a customer's data, for
// erasure and export (docs/privacy.md). Other members' balances stay: a
// referrer keeps what a friend's order earned them, without the friend.
var PrivacyTables = []privacy.Table{
	{Name: "loyalty_entries", Where: whoEarned},
	{Name: "loyalty_orders", Where: whoEarned},
	{Name: "loyalty_referrals", Where: whoEarned},
	{Name: "loyalty_referrals", Where: "sender_id IN ({customers})", Scrub: "sender_id = ''"},
	{Name: "loyalty_balances", Where: "identity IN ({keys})"},
	{Name: "loyalty_earned", Where: "identity IN ({keys})"},
	{Name: "loyalty_tiers", Where: "customer_id IN ({customers})"},
	{Name: "loyalty_codes", Where: "customer_id IN ({customers})"},
	{Name: "community_members", Where: "identity IN ({keys})"},
	{Name: "community_activity", Where: "identity IN ({keys})"},
	{Name: "guide_views", Where: "identity IN ({keys})"},
	{Name: "engagement_scores", Where: "customer_id IN ({customers})"},
	{Name: "engagement_activity", Where: "identity IN ({keys})"},
	{Name: "engagement_answers", Where: "identity IN ({keys})"},
	{Name: "engagement_due", Where: "ref IN ({keys}) OR ref IN ({customers})"},
	{Name: "introductions", Where: "from_ref IN ({values}) OR to_ref IN ({values}) OR from_ref IN ({customers}) OR to_ref IN ({customers})"},
}
