package survey

import "github.com/cxloop/cxloop/internal/privacy"

const whoAnswered = "customer_id IN ({customers}) OR user_id IN ({users}) OR anonymous_id IN ({anons})"

// PrivacyTables are the survey tables holding a customer's data, for
// erasure and export (docs/privacy.md). Texts go before the responses they
// are found by.
var PrivacyTables = []privacy.Table{
	{Name: "survey_texts", Where: "response_id IN (SELECT id FROM survey_responses WHERE " + whoAnswered + ")"},
	{Name: "survey_scores", Where: whoAnswered},
	{Name: "survey_responses", Where: whoAnswered},
	{Name: "survey_invitations", Where: whoAnswered + " OR email IN ({emails})"},
	{Name: "survey_optouts", Where: "customer_id IN ({customers})"},
}
