package ingest

import (
	"strings"

	"github.com/cxloop/cxloop/internal/eventlog"
)

// Channels cxloop knows by name. Any other lower-case slug is kept as given.
var channelAliases = map[string]string{
	"web": "web", "browser": "web", "website": "web", "online": "web",
	"mobile_app": "mobile_app", "mobile": "mobile_app", "app": "mobile_app", "ios": "mobile_app", "android": "mobile_app",
	"server": "server", "backend": "server",
	"store": "store", "pos": "store", "in_store": "store", "retail": "store", "shop": "store",
	"call_centre": "call_centre", "call_center": "call_centre", "callcentre": "call_centre", "callcenter": "call_centre", "phone": "call_centre", "contact_centre": "call_centre", "contact_center": "call_centre",
	"social": "social", "social_media": "social",
	"email":       "email",
	"sms":         "sms",
	"chat":        "chat",
	"review_site": "review_site", "review": "review_site", "reviews": "review_site",
	"partner": "partner", "reseller": "partner",
	"press": "press", "media": "press",
	"field_sales": "field_sales",
	"other":       "other",
}

// separators become underscores in channel names.
var separators = strings.NewReplacer("-", "_", " ", "_")

// NormalizeChannel maps a channel name to cxloop's form, or "" when s is not
// a usable name.
func NormalizeChannel(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	s = separators.Replace(s)
	if c, ok := channelAliases[s]; ok {
		return c
	}
	if s == "" || len(s) > 40 {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return ""
		}
	}
	return s
}

// libraryChannel infers the channel from the sending library's name.
func libraryChannel(lib string) string {
	l := strings.ToLower(lib)
	switch {
	case l == "":
		return ""
	case strings.Contains(l, "analytics.js") || strings.Contains(l, "analytics-next") || strings.Contains(l, "browser") || strings.Contains(l, "web") ||
		strings.Contains(l, "javascript") && !strings.Contains(l, "node"): // RudderStack's browser SDK is "RudderLabs JavaScript SDK"
		return "web"
	case strings.Contains(l, "ios") || strings.Contains(l, "android") || strings.Contains(l, "kotlin") || strings.Contains(l, "swift") ||
		strings.Contains(l, "react-native") || strings.Contains(l, "flutter") || strings.Contains(l, "xamarin"):
		return "mobile_app"
	}
	return "server"
}

// DefaultContact says whether a channel's touchpoints are direct (the
// business and the customer meet) or indirect (said elsewhere).
func DefaultContact(channel string) string { return eventlog.DefaultContact(channel) }
