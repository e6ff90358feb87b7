package experience

import "github.com/cxloop/cxloop/internal/privacy"

// PrivacyTables are the experience tables holding a customer's data, for
// erasure and export (docs/privacy.md).
var PrivacyTables = []privacy.Table{
	{Name: "interactions", Where: "identity IN ({keys})"},
	{Name: "order_lines", Where: "identity IN ({keys})"},
	{Name: "order_refs", Where: "identity IN ({keys})"},
	{Name: "rec_outcomes", Where: "identity IN ({keys})"},
	{Name: "replenish_consents", Where: "identity IN ({keys})"},
	{Name: "nudge_consents", Where: "identity IN ({keys})"},
	{Name: "nudge_sends", Where: "customer_id IN ({customers})"},
	{Name: "replenishments", Where: "customer_id IN ({customers})"},
	{Name: "proposals", Where: "customer_id IN ({customers})"},
	{Name: "customer_lists", Where: "customer_id IN ({customers})"},
}
