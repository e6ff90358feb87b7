package web

import (
	"math"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cxloop/cxloop/internal/audit"
)

// The sign-in limits: an address may fail addrFailures times in window
// before it waits for the oldest failure to leave the window; an account
// that failed accountFree times waits between attempts, twice as long
// after each further failure, never more than accountMaxWait — long enough
// to make guessing slow, short enough that nobody can lock a real user out
// for long. A browser with a device cookie for the account it names, and a
// correct token, do not wait for the address (device.go, Console.login).
const (
	limitWindow    = 5 * time.Minute
	addrFailures   = 10
	accountFree    = 5
	accountMaxWait = time.Minute
)

// signInLimiter counts failed sign-ins by address and by account, on this
// node.
type signInLimiter struct {
	mu      sync.Mutex
	now     func() time.Time
	addr    map[string][]time.Time
	account map[string][]time.Time
}

func newSignInLimiter(now func() time.Time) *signInLimiter {
	return &signInLimiter{now: now, addr: map[string][]time.Time{}, account: map[string][]time.Time{}}
}

// recent drops the failures older than the window.
func recent(list []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(list) && now.Sub(list[i]) >= limitWindow {
		i++
	}
	return list[i:]
}

// keep stores a key's recent failures, forgetting the key when none are
// left, so that addresses which failed once long ago take no memory.
func keep(m map[string][]time.Time, key string, list []time.Time) {
	if len(list) == 0 {
		delete(m, key)
		return
	}
	m[key] = list
}

// wait is how long the address or account must wait before trying again
// (0: it may try now). A browser with a device cookie for the account does
// not wait for its address (byAddr false), only for the account.
func (l *signInLimiter) wait(addr, account string, byAddr bool) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	a := recent(l.addr[addr], now)
	keep(l.addr, addr, a)
	if byAddr && len(a) >= addrFailures {
		wait = limitWindow - now.Sub(a[len(a)-addrFailures])
	}
	if account != "" {
		f := recent(l.account[account], now)
		keep(l.account, account, f)
		if n := len(f); n >= accountFree {
			pause := time.Duration(math.Min(float64(accountMaxWait), float64(time.Second)*math.Pow(2, float64(n-accountFree))))
			if left := pause - now.Sub(f[n-1]); left > wait {
				wait = left
			}
		}
	}
	return wait
}

// failed records a failed sign-in.
func (l *signInLimiter) failed(addr, account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.addr)+len(l.account) > 10_000 {
		// Many addresses failed once and never came back: forget the stale.
		for _, m := range []map[string][]time.Time{l.addr, l.account} {
			for k, v := range m {
				keep(m, k, recent(v, now))
			}
		}
	}
	l.addr[addr] = append(recent(l.addr[addr], now), now)
	if account != "" {
		l.account[account] = append(recent(l.account[account], now), now)
	}
}

// succeeded forgets an account's failures.
func (l *signInLimiter) succeeded(account string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.account, account)
}

// clientAddr is the address a request came from (the connection's peer:
// a proxy in front of cxloop is one address for all its clients), the one
// the audit trail records.
func clientAddr(r *http.Request) string { return audit.ClientAddr(r) }

// accountOf is the account a sign-in form names ("" for a token).
func accountOf(r *http.Request) string {
	if strings.TrimSpace(r.PostFormValue("token")) != "" {
		return ""
	}
	return "email:" + strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
}
