package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// A device cookie remembers that this browser signed in to an account with
// its password: an attempt that carries a valid one for the account it
// names is not refused by the per-address limit (the limit every browser
// behind one proxy shares), only by the account's own.
const (
	deviceCookie = "cxloop_device"
	deviceTTL    = 90 * 24 * time.Hour
)

// deviceMAC signs a device cookie's account and issue time.
func deviceMAC(key []byte, payload string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("cxloop device cookie v1\n" + payload))
	return m.Sum(nil)
}

// deviceValue is the cookie that binds this browser to the account (the
// limiter's account key), issued at the time.
func deviceValue(key []byte, account string, issued time.Time) string {
	payload := base64.RawURLEncoding.EncodeToString([]byte(account)) + "." + strconv.FormatInt(issued.Unix(), 10)
	return payload + "." + base64.RawURLEncoding.EncodeToString(deviceMAC(key, payload))
}

// deviceAccount is the account a device cookie was issued for; ok is false
// for a cookie not signed with the key, or issued deviceTTL or more ago.
func deviceAccount(key []byte, value string, now time.Time) (string, bool) {
	i := strings.LastIndexByte(value, '.')
	if i < 0 {
		return "", false
	}
	payload := value[:i]
	mac, err := base64.RawURLEncoding.DecodeString(value[i+1:])
	if err != nil || !hmac.Equal(mac, deviceMAC(key, payload)) {
		return "", false
	}
	acct, at, ok := strings.Cut(payload, ".")
	if !ok {
		return "", false
	}
	secs, err := strconv.ParseInt(at, 10, 64)
	if err != nil {
		return "", false
	}
	if age := now.Sub(time.Unix(secs, 0)); age >= deviceTTL || age < -time.Hour {
		return "", false
	}
	a, err := base64.RawURLEncoding.DecodeString(acct)
	if err != nil {
		return "", false
	}
	return string(a), true
}

// knownDevice reports whether the request carries a valid device cookie
// for the account.
func (c *Console) knownDevice(r *http.Request, account string) bool {
	ck, err := r.Cookie(deviceCookie)
	if err != nil || account == "" {
		return false
	}
	key, err := c.Auth.DeviceKey(r.Context())
	if err != nil {
		c.Logger.Error("device cookie key", "err", err)
		return false
	}
	a, ok := deviceAccount(key, ck.Value, c.limits.now())
	return ok && a == account
}

// rememberDevice gives the browser a device cookie for the account it just
// signed in to (replacing one for another account).
func (c *Console) rememberDevice(w http.ResponseWriter, r *http.Request, account string) {
	key, err := c.Auth.DeviceKey(r.Context())
	if err != nil {
		c.Logger.Error("device cookie key", "err", err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: deviceCookie, Value: deviceValue(key, account, c.limits.now()), Path: "/login",
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: int(deviceTTL / time.Second)})
}
