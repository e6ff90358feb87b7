package audit

import (
	"bytes"
	"encoding/json"
	"net/url"
	"strings"
)

// Redacted stands where a secret was.
const Redacted = "[redacted]"

// secretKeys are the names (lower case, without '_' or '-') of members
// whose values are secrets wherever they appear; a name ending in one of
// secretSuffixes is one too.
var (
	secretKeys     = map[string]bool{"password": true, "token": true, "secret": true, "writekey": true, "apikey": true, "key": true, "authorization": true, "csrf": true, "credential": true, "hash": true}
	secretSuffixes = []string{"password", "secret", "token", "writekey", "apikey", "hash"}
)

func secretKey(k string) bool {
	k = strings.ToLower(strings.NewReplacer("_", "", "-", "").Replace(k))
	if secretKeys[k] {
		return true
	}
	for _, s := range secretSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// State is v as a trail state: its JSON with every secret redacted (nil
// for nil). v may be any value, or JSON already (json.RawMessage, []byte).
func State(v any) json.RawMessage {
	var raw []byte
	switch x := v.(type) {
	case nil:
		return nil
	case json.RawMessage:
		raw = x
	case []byte:
		raw = x
	default:
		b, err := json.Marshal(v)
		if err != nil {
			return nil
		}
		raw = b
	}
	return Redact(raw)
}

// Redact returns the JSON document with the value of every member named
// like a secret (password, token, secret, writeKey, …) replaced by
// "[redacted]", and every URL's user, password, query and fragment
// dropped (credentials hide there). Anything that is not JSON is dropped.
func Redact(raw json.RawMessage) json.RawMessage {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil
	}
	out, err := json.Marshal(redact(v, ""))
	if err != nil {
		return nil
	}
	return out
}

func redact(v any, key string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if secretKey(k) {
				x[k] = Redacted
				continue
			}
			x[k] = redact(e, k)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = redact(e, key)
		}
		return x
	case string:
		if strings.Contains(x, "://") {
			return cleanURL(x)
		}
	}
	return v
}

// cleanURL keeps a URL's scheme, host and path.
func cleanURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return s
	}
	if u.User == nil && u.RawQuery == "" && u.Fragment == "" {
		return s
	}
	u.User, u.RawQuery, u.Fragment, u.ForceQuery = nil, "", "", false
	return u.String()
}
