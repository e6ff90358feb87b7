// Package netguard keeps cxloop's outbound calls (webhooks) away from
// internal addresses: loopback, private networks, link-local addresses
// (cloud metadata services among them) and the like, whether a URL names
// them directly, in a legacy numeric form, through a name that resolves to
// them, or through a redirect. On-premises installations that mean to call
// internal systems allow them explicitly.
package netguard

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// blockedPrefixes are the ranges no outbound call may reach unless allowed.
var blockedPrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{
		"0.0.0.0/8",      // "this network"
		"10.0.0.0/8",     // private
		"100.64.0.0/10",  // carrier-grade NAT
		"127.0.0.0/8",    // loopback
		"169.254.0.0/16", // link-local, cloud metadata (169.254.169.254)
		"172.16.0.0/12",  // private
		"192.0.0.0/24",   // IETF protocol assignments
		"192.168.0.0/16", // private
		"198.18.0.0/15",  // benchmarking
		"224.0.0.0/4",    // multicast
		"240.0.0.0/4",    // reserved, broadcast
		"::/128",         // unspecified
		"::1/128",        // loopback
		"fc00::/7",       // unique local (fd00:ec2::254, a metadata address, among them)
		"fe80::/10",      // link-local
		"ff00::/8",       // multicast
		"100::/64",       // discard
		"2001:db8::/32",  // documentation
		"64:ff9b:1::/48", // local-use NAT64
	} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

// nat64 is the well-known prefix that carries an IPv4 address inside IPv6.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Blocked reports whether an address is internal: one an outbound call may
// not reach unless private targets are allowed. IPv4 inside IPv6 (mapped,
// or translated through the well-known NAT64 prefix) is judged as IPv4.
func Blocked(a netip.Addr) bool {
	a = a.Unmap()
	if a.Is6() {
		if nat64.Contains(a) {
			b := a.As16()
			a = netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})
		}
	}
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return true
	}
	for _, p := range blockedPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ParseHostIP reads a host as an IP address, in the standard forms and in
// the legacy IPv4 ones that C resolvers and browsers still accept
// (2130706433, 0x7f.1, 0177.0.0.1, 127.1).
func ParseHostIP(host string) (netip.Addr, bool) {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i] // an IPv6 zone
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return a, true
	}
	parts := strings.Split(strings.TrimSuffix(host, "."), ".")
	if len(parts) == 0 || len(parts) > 4 {
		return netip.Addr{}, false
	}
	nums := make([]uint64, len(parts))
	for i, p := range parts {
		n, err := strconv.ParseUint(p, 0, 32) // 0x.. hex, 0.. octal, else decimal
		if err != nil || p == "" {
			return netip.Addr{}, false
		}
		nums[i] = n
	}
	// The last part fills the remaining bytes: a, a.b (8+24 bits), a.b.c (8+8+16), a.b.c.d.
	var v uint64
	for i, n := range nums[:len(nums)-1] {
		if n > 255 {
			return netip.Addr{}, false
		}
		v |= n << (8 * (3 - i))
	}
	last := nums[len(nums)-1]
	if last >= 1<<(8*(5-len(nums))) {
		return netip.Addr{}, false
	}
	v |= last
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), true
}

// ErrBlocked is the error of a call refused because its target is internal.
var ErrBlocked = errors.New("the address is internal (loopback, private, link-local or reserved)")

// CheckURL refuses a URL whose host is an internal address, or a name that
// resolves to one now (a name that does not resolve yet is accepted: the
// call's own connection is checked again).
func CheckURL(ctx context.Context, raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	host := u.Hostname()
	if a, ok := ParseHostIP(host); ok {
		if Blocked(a) {
			return fmt.Errorf("%s: %w", host, ErrBlocked)
		}
		return nil
	}
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return fmt.Errorf("%s: %w", host, ErrBlocked)
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if Blocked(a) {
			return fmt.Errorf("%s resolves to %s: %w", host, a, ErrBlocked)
		}
	}
	return nil
}

// Client is an HTTP client whose every connection, redirects included, is
// refused when it would reach an internal address (unless allowPrivate):
// the check is made on the address actually dialled, after resolution, so
// a name that changes what it resolves to cannot slip past.
func Client(timeout time.Duration, allowPrivate bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if err != nil {
				return err
			}
			a, err := netip.ParseAddr(host)
			if err != nil || Blocked(a) {
				return fmt.Errorf("%s: %w", host, ErrBlocked)
			}
			return nil
		}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	if !allowPrivate {
		t.Proxy = nil // a proxy would dial for us, past the check
	}
	t.DialContext = d.DialContext
	return &http.Client{Timeout: timeout, Transport: t, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("stopped after 5 redirects")
		}
		return nil
	}}
}
