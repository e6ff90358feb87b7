package analytics

import "github.com/cxloop/cxloop/internal/privacy"

// PrivacyTables are the analytics tables holding a customer's data, for
// erasure and export (docs/privacy.md). Model parameters fitted on every
// customer keep no row of theirs.
var PrivacyTables = []privacy.Table{
	{Name: "an_orders", Where: "identity IN ({keys})"},
	{Name: "an_signals", Where: "identity IN ({keys})"},
	{Name: "an_answers", Where: "identity IN ({keys})"},
	{Name: "an_stages", Where: "identity IN ({keys})"},
	{Name: "customer_values", Where: "customer_id IN ({customers})"},
}
