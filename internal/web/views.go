package web

import (
	"context"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/eventlog"
)

// The report pages (Home, Recovery, Loyalty, Experiences, Insights) read
// whole projections. A page's view, once computed, is kept and shown again,
// unchanged, while nothing it could read has changed: no consumer has
// applied an event since (their positions in the log are the same), no
// change was made through the API or the console (the audit trail has no
// newer entry) and the value model was not refitted (a job does that, not
// an event). The reports also read the clock (the last 90 days, who is
// silent now), so a view is kept a minute at most. What is shown is
// therefore what a computation would give on the data as it stands, as of
// the time the page states.
const viewMaxAge = time.Minute

// viewsKept bounds how many views are kept (custom periods are many).
const viewsKept = 64

type viewCache struct {
	mu sync.Mutex
	m  map[string]*viewEntry
}

type viewEntry struct {
	mu      sync.Mutex // one computation of a view at a time
	at      time.Time  // when it was computed
	version string
	data    map[string]any
}

// dataVersion names the state of everything a view may read.
func (c *Console) dataVersion(ctx context.Context) (string, error) {
	pos, err := eventlog.Positions(ctx, c.DB)
	if err != nil {
		return "", err
	}
	last, err := audit.Latest(ctx, c.DB)
	if err != nil {
		return "", err
	}
	model, err := c.An.ModelVersion(ctx) // refitted by a job, not by an event
	return pos + "audit:" + strconv.FormatInt(last, 10) + ",model:" + model, err
}

// keptView returns the view key names, computed by build unless one kept is
// still exact (see viewMaxAge), and the time it was computed.
func (c *Console) keptView(ctx context.Context, key string, build func(ctx context.Context) (map[string]any, error)) (map[string]any, time.Time, error) {
	version, err := c.dataVersion(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	c.views.mu.Lock()
	if c.views.m == nil {
		c.views.m = map[string]*viewEntry{}
	}
	e := c.views.m[key]
	if e == nil {
		if len(c.views.m) >= viewsKept {
			c.dropOldestView()
		}
		e = &viewEntry{}
		c.views.m[key] = e
	}
	c.views.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	now := c.Profiles.Now()
	if e.data != nil && e.version == version && now.Sub(e.at) < viewMaxAge && !now.Before(e.at) {
		return e.data, e.at, nil
	}
	data, err := build(ctx)
	if err != nil {
		return nil, time.Time{}, err
	}
	e.data, e.at, e.version = data, now, version
	return data, now, nil
}

// dropOldestView forgets the view computed longest ago (views.mu held).
func (c *Console) dropOldestView() {
	var oldest string
	var at time.Time
	for k, e := range c.views.m {
		if e.mu.TryLock() {
			t := e.at
			e.mu.Unlock()
			if oldest == "" || t.Before(at) {
				oldest, at = k, t
			}
		}
	}
	delete(c.views.m, oldest)
}

// keptPage renders a report page whose data build computes, kept as
// keptView says for the same page, query and reader's scope (role and
// teams); the page's data gets AsOf, when it was computed, and what each
// fresh adds at every render (what the data does not date).
func (c *Console) keptPage(w http.ResponseWriter, r *http.Request, s auth.Session, page, title, nav string, build func(ctx context.Context) (map[string]any, error), fresh ...func(map[string]any)) {
	key := page + "|" + s.Principal.Role + "|" + strings.Join(s.Principal.Teams, ",") + "|" + r.URL.RawQuery
	data, asOf, err := c.keptView(r.Context(), key, build)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	shown := maps.Clone(data) // the kept map is shared: add to a copy
	shown["AsOf"] = asOf
	for _, f := range fresh {
		f(shown)
	}
	c.render(w, r, http.StatusOK, page, view{Title: title, Session: &s, Nav: nav, Data: shown})
}
