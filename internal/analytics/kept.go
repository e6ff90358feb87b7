package analytics

import (
	"context"
	"time"

	"github.com/cxloop/cxloop/internal/memo"
)

// The models fitted at a read on all the data (the ACSI model, the online
// against in-person fits) are kept between reads on large data, counted
// as the answers, orders and signals together (memo.LargeData): one
// answer more among tens of thousands does not move a path coefficient
// in its third decimal, and reading every answer again for it cost each
// view of the Insights page about 50 ms.

// dataSize is the answers, orders and signals there are.
func (s *Service) dataSize(ctx context.Context) (int, error) {
	n, err := s.sizes(ctx)
	return n[0] + n[1] + n[2], err
}

// kept returns the model key names, fitted by fitFn now or kept from an
// earlier fit (memo.Keep), and when it was fitted.
func kept[T any](ctx context.Context, s *Service, key string, fitFn func() (T, error)) (T, time.Time, error) {
	size, err := s.dataSize(ctx)
	if err != nil {
		var zero T
		return zero, time.Time{}, err
	}
	return memo.Keep(&s.fits, key, size, s.now(), fitFn)
}
