package httpio

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/cxloop/cxloop/internal/fault"
)

// DefaultUnauthenticatedPerAddress is how many requests one client address
// may have in flight before they have shown a credential that checks out.
const DefaultUnauthenticatedPerAddress = 64

// PeerLimit caps, per client address, the requests in flight that are not
// yet authenticated: from the moment the handler starts until the handler
// calls Authenticated (its credential checked out) or returns. A request
// over the cap is answered at once with 429, Retry-After and a JSON body —
// unless it carries a credential (an Authorization header or a cookie),
// which is let through to be checked but may not read its body until it is
// authenticated, so a made-up credential cannot hold a connection open
// on a slow body. Health checks are not counted.
type PeerLimit struct {
	max     int
	mu      sync.Mutex
	n       map[string]int
	refused atomic.Uint64
	around  map[string]func(http.Handler) http.Handler
}

// RefuseWith wraps the refusal of requests under prefix ("/v1/") with wrap
// (the CORS headers browsers need to read it). Call it before Wrap.
func (l *PeerLimit) RefuseWith(prefix string, wrap func(http.Handler) http.Handler) {
	if l.around == nil {
		l.around = map[string]func(http.Handler) http.Handler{}
	}
	l.around[prefix] = wrap
}

// refuse answers a request over the cap.
func (l *PeerLimit) refuse(w http.ResponseWriter, r *http.Request) {
	l.refused.Add(1)
	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "1")
		Error(w, nil, fault.New(fault.TooMany, "too many unauthenticated requests from this address at once (at most %d); retry in a second", l.max))
	})
	for prefix, wrap := range l.around {
		if strings.HasPrefix(r.URL.Path, prefix) {
			h = wrap(h)
		}
	}
	h.ServeHTTP(w, r)
}

// NewPeerLimit returns a limit of max requests per address; max < 0 turns
// it off, 0 is DefaultUnauthenticatedPerAddress.
func NewPeerLimit(max int) *PeerLimit {
	if max == 0 {
		max = DefaultUnauthenticatedPerAddress
	}
	return &PeerLimit{max: max, n: map[string]int{}}
}

// Refused counts the requests refused for being over the cap.
func (l *PeerLimit) Refused() uint64 { return l.refused.Load() }

type peerKey struct{}

// peerSlot is one request's standing: its slot (released once) and whether
// it is authenticated.
type peerSlot struct {
	release func()
	authed  atomic.Bool
}

// Authenticated tells the limit that the request's credential checked out:
// it no longer counts against its address.
func Authenticated(ctx context.Context) {
	if s, ok := ctx.Value(peerKey{}).(*peerSlot); ok {
		s.authed.Store(true)
		s.release()
	}
}

// Wrap applies the limit to h.
func (l *PeerLimit) Wrap(h http.Handler) http.Handler {
	if l.max < 0 {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			h.ServeHTTP(w, r)
			return
		}
		addr, _, err := net.SplitHostPort(r.RemoteAddr)
		if err != nil {
			addr = r.RemoteAddr
		}
		slot := &peerSlot{}
		l.mu.Lock()
		over := l.n[addr] >= l.max
		if !over {
			l.n[addr]++
		}
		l.mu.Unlock()
		if over {
			if r.Header.Get("Authorization") == "" && r.Header.Get("Cookie") == "" {
				l.refuse(w, r)
				return
			}
			// Let the credential be checked, but not wait on the body first.
			slot.release = func() {}
			r.Body = &guardedBody{ReadCloser: r.Body, slot: slot, w: w}
		} else {
			var once sync.Once
			slot.release = func() {
				once.Do(func() {
					l.mu.Lock()
					if l.n[addr]--; l.n[addr] <= 0 {
						delete(l.n, addr)
					}
					l.mu.Unlock()
				})
			}
			defer slot.release()
		}
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), peerKey{}, slot)))
	})
}

// errNotAuthenticated is what a body read fails with when its request is
// over its address's cap and not authenticated.
var errNotAuthenticated = errors.New("too many unauthenticated requests from this address: authenticate before sending a body")

// guardedBody is the body of a request let through over the cap: it reads
// only once the request is authenticated.
type guardedBody struct {
	io.ReadCloser
	slot *peerSlot
	w    http.ResponseWriter
}

func (b *guardedBody) Read(p []byte) (int, error) {
	if !b.slot.authed.Load() {
		// Close rather than read the rest of it before answering.
		b.w.Header().Set("Connection", "close")
		return 0, errNotAuthenticated
	}
	return b.ReadCloser.Read(p)
}
