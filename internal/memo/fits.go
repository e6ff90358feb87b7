package memo

import (
	"sync"
	"time"
)

// LargeData is the size of data (rows read, as the model's owner counts
// them) from which a model fitted or evaluated at a read is kept between
// reads and fitted again on Refit's rule; below it every read fits
// afresh. One row more among tens of thousands does not move a fitted
// figure in its shown decimals, and reading them all again for it cost
// each view of a report page tens of milliseconds.
const LargeData = 20_000

// RefitAfter is how old a kept fit may get while data trickles in (less
// than 1 % more than it was fitted on).
const RefitAfter = 10 * time.Minute

// Refit says whether a fit made at on fitted rows is due again now that
// there are size rows: they differ by 1 % of what it was fitted on, or it
// is RefitAfter old and they differ at all.
func Refit(fitted int, at time.Time, size int, now time.Time) bool {
	moved := size - fitted
	if moved < 0 {
		moved = -moved
	}
	return moved > 0 && (moved*100 >= fitted || now.Sub(at) >= RefitAfter)
}

// keep says whether a fit made at on fitted rows still stands now that
// there are size rows: large data that did not shrink (an erasure) and
// that Refit does not call due, on a clock that did not go back.
func keep(fitted int, at time.Time, size int, now time.Time) bool {
	return fitted >= LargeData && size >= fitted && !now.Before(at) && !Refit(fitted, at, size, now)
}

// Fits keeps models fitted at a read, by what they fit (see LargeData).
// The zero value is ready; it is shared by every read of a service.
type Fits struct {
	mu sync.Mutex
	m  map[string]*fit
}

// fit is one kept model: on how many rows and when it was fitted.
type fit struct {
	mu   sync.Mutex // one fit of a model at a time
	size int
	at   time.Time
	v    any
}

// Keep returns the model key names, fitted by fitFn now (on size rows) or
// kept from an earlier fit as LargeData says, and when it was fitted.
// The value is shared: the caller must not change it.
func Keep[T any](f *Fits, key string, size int, now time.Time, fitFn func() (T, error)) (T, time.Time, error) {
	f.mu.Lock()
	if f.m == nil {
		f.m = map[string]*fit{}
	}
	e := f.m[key]
	if e == nil {
		e = &fit{}
		f.m[key] = e
	}
	f.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if v, ok := e.v.(T); ok && keep(e.size, e.at, size, now) {
		return v, e.at, nil
	}
	v, err := fitFn()
	if err != nil {
		var zero T
		return zero, time.Time{}, err
	}
	e.v, e.size, e.at = v, size, now
	return v, now, nil
}
