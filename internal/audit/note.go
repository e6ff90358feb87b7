// Package audit keeps the append-only trail of changes to configuration and
// access, of exports and erasures, and of sign-ins.
//
// A handler that changes something says what it changed with Note; the
// surface that serves the request (the /api/v1 router, the console) holds a
// Change in the request's context and records it once the change succeeded.
package audit

import "context"

// Change is what one request changed: the resource and its state before and
// after. States hold configuration only, never customer data beyond ids.
type Change struct {
	Action     string // create, update, pause, resume, delete, rotate, export, erase …; empty: derived from the method
	Resource   string // webhook, rule, user, token, source, customer …; empty: derived from the route
	ResourceID string
	Before     any
	After      any
	noted      bool
}

// Noted reports whether a handler described the change.
func (c *Change) Noted() bool { return c != nil && c.noted }

type changeKey struct{}

// WithChange returns a context that collects what the request's handler
// notes, and the Change it fills.
func WithChange(ctx context.Context) (context.Context, *Change) {
	c := &Change{}
	return context.WithValue(ctx, changeKey{}, c), c
}

// Note describes the change a handler made. Fields left empty keep what an
// earlier Note set. Without a collecting context it does nothing.
func Note(ctx context.Context, c Change) {
	held, _ := ctx.Value(changeKey{}).(*Change)
	if held == nil {
		return
	}
	if c.Action != "" {
		held.Action = c.Action
	}
	if c.Resource != "" {
		held.Resource = c.Resource
	}
	if c.ResourceID != "" {
		held.ResourceID = c.ResourceID
	}
	if c.Before != nil {
		held.Before = c.Before
	}
	if c.After != nil {
		held.After = c.After
	}
	held.noted = true
}
