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
	"github.com/cxloop/cxloop/internal/memo"
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
	emails   bool         // a mail server is configured: email nudges can go out
	fits     memo.Fits    // evaluations kept on large data (Backtest)
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

// SetEmails says whether cxloop has a mail server. Without one, email
// nudges send nothing and hold no one out (they wait, as if paused): a
// send recorded for a message that never left would count a customer as
// nudged, and the uplift would compare two groups neither of which heard
// from us.
func (s *Service) SetEmails(ok bool) { s.emails = ok }

// Emails reports whether email nudges can go out (see SetEmails).
func (s *Service) Emails() bool { return s.emails }

// Rounds is how many background rounds (the round job) have finished.
func (s *Service) Rounds() int64 { return s.rounds.Load() }
