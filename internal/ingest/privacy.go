package ingest

import "github.com/cxloop/cxloop/internal/privacy"

// PrivacyTables: refused messages that name the customer (docs/privacy.md).
var PrivacyTables = []privacy.Table{
	{Name: "quarantine", Where: "{mentions body}"},
}
