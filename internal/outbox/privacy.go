package outbox

import "github.com/cxloop/cxloop/internal/privacy"

// PrivacyTables are the outbox tables that may hold a customer's data:
// webhook payloads and mails about them, queued or sent (docs/privacy.md).
var PrivacyTables = []privacy.Table{
	{Name: "webhook_deliveries", Where: "{mentions payload}"},
	{Name: "mail_outbox", Where: "recipient IN ({emails}) OR {text subject} OR {text body}"},
}
