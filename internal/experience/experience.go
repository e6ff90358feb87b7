// Package experience runs the connected experiences that act on a
// customer's journey: respond to desire (buy it again, reorder), curated
// offering (recommendations), and, in later parts, coaching nudges and
// automatic replenishment. Its consumer keeps what customers showed
// interest in and ordered; a background job trains the recommender from it
// and serving reads the trained model in memory. EvaluateRecommend checks
// the recommender's models offline on MovieLens (cxloop eval recommend).
//
// It reads profiles through the profile package, products through catalog and models through
// experience/recommend; it must never import the api, web or app packages.
package experience

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cxloop/cxloop/internal/catalog"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/experience/recommend"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
)

// Service is the connected experiences.
type Service struct {
	db       *store.DB
	log      *eventlog.Log
	profiles *profile.Service
	catalog  *catalog.Service
	now      func() time.Time
	logger   *slog.Logger
	model    atomic.Pointer[trained]
	rounds   atomic.Int64 // background rounds done (the round job)
	rounding trainClock
	training sync.Mutex
	trainedN atomic.Int64 // interactions the model in use was trained on
}

// trained is a recommender ready to serve.
type trained struct {
	data    *recommend.Data
	pop     *recommend.Popularity
	knn     *recommend.ItemKNN
	als     *recommend.ALS
	version string
	at      time.Time
	popular []recommend.Scored
}

// NewService returns the service; the catalog says what may be done with
// each product; now is the clock (nil: time.Now).
func NewService(db *store.DB, log *eventlog.Log, profiles *profile.Service, products *catalog.Service, now func() time.Time, logger *slog.Logger) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, log: log, profiles: profiles, catalog: products, now: now, logger: logger}
}

// Rounds is how many background rounds (the round job) have finished.
func (s *Service) Rounds() int64 { return s.rounds.Load() }
