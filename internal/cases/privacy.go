package cases

import "github.com/cxloop/cxloop/internal/privacy"

const whoseCase = "customer_id IN ({customers}) OR user_id IN ({users}) OR anonymous_id IN ({anons})"

// PrivacyTables are the cases tables holding a customer's data, for
// erasure and export (docs/privacy.md). Notes go before the cases they are
// found by.
var PrivacyTables = []privacy.Table{
	{Name: "case_notes", Where: "case_id IN (SELECT id FROM cases WHERE " + whoseCase + ")"},
	{Name: "cases", Where: whoseCase},
	{Name: "orders", Where: "customer_ref IN ({values})"},
	{Name: "signals", Where: "user_id IN ({users}) OR anonymous_id IN ({anons})"},
}
