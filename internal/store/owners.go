package store

import "strings"

// TableOwners names the one package that owns each table: it writes the
// table and answers questions about it; other packages ask its Go API or
// react to its events (docs/architecture.md, Tables have owners).
// TestTablesHaveOwners keeps this map, the migrations and the SQL in the
// code in step.
var TableOwners = map[string]string{
	"events": "eventlog", "consumer_checkpoints": "eventlog", "event_archives": "eventlog",
	"sources": "ingest", "quarantine": "ingest",
	"customers": "profile", "identities": "profile", "customer_channels": "profile", "customer_merges": "profile",
	"accounts": "profile", "account_members": "profile", "segments": "profile",
	"surveys": "survey", "survey_invitations": "survey", "survey_responses": "survey", "survey_scores": "survey",
	"survey_texts": "survey", "survey_optouts": "survey",
	"cases": "cases", "case_notes": "cases", "rules": "cases", "rule_firings": "cases", "teams": "cases",
	"orders": "cases", "order_returns": "cases", "signals": "cases", "alerts": "cases", "alert_firings": "cases",
	"webhooks": "outbox", "webhook_deliveries": "outbox", "mail_outbox": "outbox",
	"loyalty_rules": "loyalty", "loyalty_entries": "loyalty", "loyalty_balances": "loyalty", "loyalty_earned": "loyalty",
	"loyalty_orders": "loyalty", "loyalty_refunds": "loyalty", "loyalty_referrals": "loyalty", "loyalty_tiers": "loyalty", "loyalty_codes": "loyalty",
	"community_members": "loyalty", "community_activity": "loyalty", "introductions": "loyalty", "guides": "loyalty",
	"guide_views": "loyalty", "engagement_scores": "loyalty", "loyalty_config": "loyalty", "engagement_activity": "loyalty",
	"engagement_answers": "loyalty", "engagement_due": "loyalty",
	"products": "catalog", "product_settings": "catalog", "product_categories": "catalog",
	"interactions": "experience", "order_lines": "experience", "order_refs": "experience", "rec_outcomes": "experience",
	"proposals": "experience", "customer_lists": "experience", "nudges": "experience", "nudge_sends": "experience",
	"nudge_consents": "experience", "replenishments": "experience", "replenish_consents": "experience",
	"customer_values": "analytics", "an_answers": "analytics", "an_orders": "analytics", "an_refunds": "analytics", "an_signals": "analytics",
	"an_stages": "analytics", "alignment_predictions": "analytics",
	"users": "auth", "sessions": "auth", "api_tokens": "auth",
	"audit_log":    "audit",
	"suppressions": "privacy", "suppressed_identities": "privacy",
	"settings": "app", "display_state": "display", "auth_state": "auth", "survey_state": "survey", "experience_state": "experience", "analytics_state": "analytics",
}

// OwnerOf is the package that owns table ("" for none): River's tables
// (river_…) belong to the job system.
func OwnerOf(table string) string {
	if strings.HasPrefix(table, "river_") {
		return "jobs"
	}
	return TableOwners[table]
}
