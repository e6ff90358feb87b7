// Package memo lets the reports of one request share what they read.
package memo

import (
	"context"
	"sync"
)

// A page that shows several reports at once reads the same inputs for
// each (every customer's purchase history, say). With gives a request
// a memo in which such an input is read once and shared by the reports
// computed under that context, also side by side; without it every call
// reads afresh. The memo lives as long as the request: nothing is kept
// between two pages.
func With(ctx context.Context) context.Context {
	return context.WithValue(ctx, memoKey{}, &memo{m: map[string]*memoEntry{}})
}

type memoKey struct{}

type memo struct {
	mu sync.Mutex
	m  map[string]*memoEntry
}

type memoEntry struct {
	once sync.Once
	v    any
	err  error
}

// Get is fn's answer, read once per memo under key (name keys by their
// package: "experience.histories").
func Get[T any](ctx context.Context, key string, fn func() (T, error)) (T, error) {
	mm, ok := ctx.Value(memoKey{}).(*memo)
	if !ok {
		return fn()
	}
	mm.mu.Lock()
	e := mm.m[key]
	if e == nil {
		e = &memoEntry{}
		mm.m[key] = e
	}
	mm.mu.Unlock()
	e.once.Do(func() { e.v, e.err = fn() })
	if e.err != nil {
		var zero T
		return zero, e.err
	}
	return e.v.(T), nil
}

// Ensure is With unless ctx has a memo already: a report that reads an
// input many times gives itself a memo, and shares the request's when the
// request has one.
func Ensure(ctx context.Context) context.Context {
	if _, ok := ctx.Value(memoKey{}).(*memo); ok {
		return ctx
	}
	return With(ctx)
}
