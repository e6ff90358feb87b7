package analytics

import (
	"context"
	"sync"
	"time"
)

// largeData is how many answers, orders and signals together make data
// large: from there the models fitted on all of it at a read (the ACSI
// model, the online against in-person fits) are kept between reads and
// refit on the value model's rule (refitDue): when the data moved by 1 %
// of what they were fitted on, when they are refitAfter old and it moved
// at all, or at once when it shrank (an erasure). Below it every read
// fits afresh. One answer more among tens of thousands does not move a
// path coefficient in its third decimal; reading every answer again for
// it cost each view of the Insights page about 50 ms.
const largeData = 20_000

// fits are the models kept on large data, by what they fit.
type fits struct {
	mu sync.Mutex
	m  map[string]*fit
}

// fit is one kept model: on how much data and when it was fitted.
type fit struct {
	mu   sync.Mutex // one fit of a model at a time
	size int
	at   time.Time
	v    any
}

// dataSize is the answers, orders and signals there are.
func (s *Service) dataSize(ctx context.Context) (int, error) {
	n, err := s.sizes(ctx)
	return n[0] + n[1] + n[2], err
}

// kept returns the model key names, fitted by fitFn now or kept from an
// earlier fit as largeData says, and when it was fitted.
func kept[T any](ctx context.Context, s *Service, key string, fitFn func() (T, error)) (T, time.Time, error) {
	var zero T
	size, err := s.dataSize(ctx)
	if err != nil {
		return zero, time.Time{}, err
	}
	s.fits.mu.Lock()
	if s.fits.m == nil {
		s.fits.m = map[string]*fit{}
	}
	f := s.fits.m[key]
	if f == nil {
		f = &fit{}
		s.fits.m[key] = f
	}
	s.fits.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	now := s.now()
	if v, ok := f.v.(T); ok && keepFit(f.size, f.at, size, now) {
		return v, f.at, nil
	}
	v, err := fitFn()
	if err != nil {
		return zero, time.Time{}, err
	}
	f.v, f.size, f.at = v, size, now
	return v, now, nil
}

// keepFit says whether a model fitted at on size answers, orders and
// signals still stands now that there are that many (see largeData).
func keepFit(fitted int, at time.Time, size int, now time.Time) bool {
	return fitted >= largeData && size >= fitted && !now.Before(at) &&
		!refitDue(&Model{Orders: fitted, FittedAt: at}, size, 0, now)
}
