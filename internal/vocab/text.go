package vocab

import "sort"

// Text is one text in several languages, keyed by language tag ("en", "fa", "pt-BR").
type Text map[string]string

// In returns the text in lang, falling back to the default language and
// then to any language, in a stable order.
func (t Text) In(lang, fallback string) string {
	if v, ok := t[lang]; ok {
		return v
	}
	if v, ok := t[fallback]; ok {
		return v
	}
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if len(keys) > 0 {
		return t[keys[0]]
	}
	return ""
}
