// Package app is cxloop's composition root: it opens the store and builds
// every service, consumer and HTTP surface. It is the only package that
// knows all the others.
package app

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cxloop/cxloop/internal/analytics"
	"github.com/cxloop/cxloop/internal/api"
	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/cases"
	"github.com/cxloop/cxloop/internal/catalog"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/experience"
	"github.com/cxloop/cxloop/internal/home"
	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/ingest"
	"github.com/cxloop/cxloop/internal/jobs"
	"github.com/cxloop/cxloop/internal/loyalty"
	"github.com/cxloop/cxloop/internal/outbox"
	"github.com/cxloop/cxloop/internal/privacy"
	"github.com/cxloop/cxloop/internal/profile"
	"github.com/cxloop/cxloop/internal/store"
	"github.com/cxloop/cxloop/internal/survey"
	"github.com/cxloop/cxloop/internal/web"
)

// Config is what cxloop is started with.
type Config struct {
	DB                string // SQLite file path or postgres:// URL
	Addr              string // listen address
	BootstrapWriteKey string // the default source's write key on first start, if set
	BootstrapToken    string // the admin token on first start, if set
	// MaxUnauthenticatedPerAddress caps the requests one client address
	// may have in flight before their credential checks out (429 past
	// it): 0 is httpio.DefaultUnauthenticatedPerAddress, below 0 no cap.
	MaxUnauthenticatedPerAddress int
	PublicURL                    string  // where customers reach this cxloop (survey links); default the listen address
	Mail                         *Mailer // the SMTP server cxloop sends email through
	// AllowPrivateTargets lets webhooks call loopback, private and
	// link-local addresses (refused by default).
	AllowPrivateTargets bool
	// SurveyReplyTo is where replies to survey emails go (a plus-tag per
	// invitation is added); "" sets no Reply-To. New refuses an address
	// that is not one, or has a plus-tag of its own.
	SurveyReplyTo string
	// MaxLag is how many events the slowest consumer may be behind the log
	// before ingestion answers 429 with Retry-After: 0 is DefaultMaxLag,
	// below 0 no bound.
	MaxLag int
	// JobRescueAfter is how long a job may run before it is taken for
	// abandoned by a node that died and run again (0: ten minutes).
	JobRescueAfter time.Duration
	// RetainDays, when not 0, keeps the log to the events of the last
	// RetainDays days (at least MinRetainDays): older ones are archived
	// daily to files in ArchiveDir and dropped (docs/retention.md).
	RetainDays int
	ArchiveDir string
	Now        func() time.Time // the clock of decisions (tests move it); nil is time.Now
	Logger     *slog.Logger
}

// DefaultMaxLag is the lag bound (events) of Config.MaxLag 0: far above
// a demo or an import's burst, short of what the consumers take minutes
// to apply.
const DefaultMaxLag = 2_000_000

// Mailer sends email through an SMTP server: Config.Mail.
type Mailer = outbox.Mailer

// App is a running cxloop: its store, services and consumers.
type App struct {
	Config   Config
	DB       *store.DB
	Log      *eventlog.Log
	Runner   *eventlog.Runner
	Pressure *eventlog.Pressure // the consumers' lag, for ingestion's backpressure
	Sources  *ingest.Sources
	Auth     *auth.Service
	Profiles *profile.Service
	Surveys  *survey.Service
	Cases    *cases.Service
	Outbox   *outbox.Service
	Loyalty  *loyalty.Service
	Exp      *experience.Service
	Catalog  *catalog.Service
	An       *analytics.Service
	Audit    *audit.Service
	Privacy  *privacy.Service
	Jobs     *jobs.Service
	Logger   *slog.Logger

	idKey     string      // the secret customer ids are derived with ("" on installations older than it)
	working   atomic.Bool // the consumers and workers run in this process
	publicURL atomic.Pointer[string]
}

// New checks the configuration, opens and migrates the database and
// builds every service.
func New(ctx context.Context, cfg Config) (*App, error) {
	if cfg.SurveyReplyTo != "" {
		if err := survey.ValidReplyTo(cfg.SurveyReplyTo); err != nil {
			return nil, err
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	db, err := store.Open(ctx, cfg.DB)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	a := &App{Config: cfg, DB: db, Logger: cfg.Logger}
	a.Jobs = jobs.New(db, cfg.Now, cfg.Logger)
	if err := a.Jobs.Migrate(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("job system tables: %w", err)
	}
	if a.idKey, err = a.customerIDKey(ctx); err != nil {
		db.Close()
		return nil, err
	}
	suppressionKey, err := a.secret(ctx, "suppression_key")
	if err != nil {
		db.Close()
		return nil, err
	}
	a.Log = eventlog.New(db, cfg.Logger)
	a.Sources = ingest.NewSources(db, cfg.Now)
	a.Auth = auth.NewService(db)
	a.Audit = audit.NewService(db, cfg.Now, cfg.Logger)
	a.Profiles = profile.NewService(db, cfg.Now)
	a.Surveys = survey.NewService(db, a.Log, a.Profiles, survey.Config{
		PublicURL: cfg.PublicURL, Mail: cfg.Mail, ReplyTo: cfg.SurveyReplyTo, Now: cfg.Now,
		ProfileSeq: func(ctx context.Context) (int64, error) { return a.Runner.Checkpoint(ctx, "profile") },
		Sync: func(ctx context.Context) error {
			head, err := eventlog.Head(ctx, a.DB)
			if err != nil {
				return err
			}
			return a.Runner.WaitFor(ctx, head, "profile", "survey")
		},
		Fired: func(ctx context.Context, ids []string) (int, bool, error) { return a.Cases.Fired(ctx, ids) },
	}, cfg.Logger)
	a.Cases = cases.NewService(db, a.Log, a.Profiles, a.Surveys, cfg.Now, cfg.Logger)
	a.Outbox = outbox.NewService(db, cfg.Mail, cfg.Now, cfg.Logger)
	a.Outbox.AllowPrivateTargets(cfg.AllowPrivateTargets)
	a.Loyalty = loyalty.NewService(db, a.Log, a.Profiles, cfg.Now, cfg.Logger)
	a.Cases.SetPriorityService(a.Loyalty.PriorityService)
	a.Cases.SetRulesRead(a.rulesRead)
	a.Cases.SetAssignable(a.Auth.Assignable)
	a.Cases.SetAlertsRead(a.alertsRead)
	a.Catalog = catalog.NewService(db, cfg.Now)
	a.Exp = experience.NewService(db, a.Log, a.Profiles, a.Catalog, cfg.Now, cfg.Logger)
	a.Exp.SetEmails(cfg.Mail != nil)
	a.An = analytics.NewService(db, a.Profiles, cfg.Now, cfg.Logger)
	a.An.SetReferralRevenue(a.Loyalty.ReferralRevenueByMonth)
	a.An.SetSurveyInfo(analytics.SurveyInfo{Names: a.Surveys.Names, Labels: a.Surveys.QuestionLabels})
	a.Loyalty.SetSurveyAnswers(loyalty.SurveyAnswers{RecordedSince: a.Surveys.RecordedSince, Surveys: a.Surveys.Names})
	a.Profiles.SetSegmentSources(profile.SegmentSources{Engagement: a.Loyalty.EngagedBetween, Tiers: a.Loyalty.InTiers,
		CLV: a.An.ValuedBetween, Risk: a.An.AtRiskBetween})
	a.Runner = eventlog.NewRunner(db, a.Log, cfg.Logger, a.consumers()...)
	bound := int64(cfg.MaxLag)
	switch {
	case bound == 0:
		bound = DefaultMaxLag
	case bound < 0:
		bound = 0 // no bound
	}
	a.Pressure = eventlog.NewPressure(db, bound, cfg.Now, a.Runner.Names()...)
	a.Privacy = privacy.New(privacy.Config{DB: db, Tables: privacyTables(), Subject: a.Profiles.Subject,
		Profile:   func(ctx context.Context, ref string) (any, error) { return a.Profiles.Get(ctx, ref) },
		CaughtUp:  a.consumersRead,
		Normalize: profile.NormalizeIdentity, Key: []byte(suppressionKey), Now: cfg.Now, Logger: cfg.Logger})
	// The recommender's model holds every customer's interactions: an
	// erased customer's leave it with the next training, started now.
	a.Privacy.OnErase(func(context.Context, privacy.Subject) {
		if a.working.Load() {
			go func() {
				if err := a.Exp.Train(context.Background()); err != nil {
					a.Logger.Warn("training after an erasure", "err", err)
				}
			}()
		}
	})
	if err := a.Privacy.Load(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// Background work runs as jobs: every capability registers its
	// workers and periodic jobs, then the job system is built.
	a.Outbox.Register(a.Jobs)
	a.Surveys.Register(a.Jobs)
	a.Cases.Register(a.Jobs)
	a.Loyalty.Register(a.Jobs)
	a.Exp.Register(a.Jobs)
	a.An.Register(a.Jobs)
	if err := a.registerRetention(); err != nil {
		db.Close()
		return nil, err
	}
	a.Jobs.SetRescueAfter(cfg.JobRescueAfter)
	if err := a.Jobs.Build(); err != nil {
		db.Close()
		return nil, err
	}
	return a, nil
}

// consumers lists every projection of the log, in the order they were added.
func (a *App) consumers() []eventlog.Consumer {
	return []eventlog.Consumer{profile.NewConsumer(a.DB, a.idKey), survey.NewConsumer(a.Surveys), cases.NewConsumer(a.Cases), outbox.Consumer{Now: a.Config.Now}, loyalty.Consumer{Log: a.Log}, experience.Consumer{}, analytics.Consumer{}, catalog.Consumer{},
		loyalty.EngagementConsumer{DB: a.DB}}
}

// secret returns the installation's secret of that name, made at random
// the first time.
func (a *App) secret(ctx context.Context, name string) (string, error) {
	if v, ok, err := a.Setting(ctx, name); err != nil || ok {
		return v, err
	}
	return a.settleSetting(ctx, name, randomHex())
}

func randomHex() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand never fails on supported systems
	return hex.EncodeToString(b)
}

// settleSetting stores value unless the setting is already there, and
// returns what is stored: when several nodes start together, the first
// one's value wins.
func (a *App) settleSetting(ctx context.Context, name, value string) (string, error) {
	err := a.DB.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, name, value)
		return err
	})
	if err != nil {
		return "", err
	}
	v, _, err := a.Setting(ctx, name)
	return v, err
}

// idKeySetting names the installation's secret for customer ids.
const idKeySetting = "customer_id_key"

// customerIDKey returns the secret customer ids are derived with, made at
// random on a new installation. One that already has profiles keeps
// deriving ids as before (the key is recorded as empty), so that a replay
// rebuilds the same ids. The decision is kept: a replay emptying the
// profiles does not change it.
func (a *App) customerIDKey(ctx context.Context) (string, error) {
	if v, ok, err := a.Setting(ctx, idKeySetting); err != nil || ok {
		return v, err
	}
	has, err := profile.HasProfiles(ctx, a.DB)
	if err != nil {
		return "", err
	}
	key := ""
	if !has {
		key = randomHex()
	}
	return a.settleSetting(ctx, idKeySetting, key)
}

// privacyTables lists every owner's tables that hold customer data, in
// the order an erasure empties them (docs/privacy.md).
func privacyTables() []privacy.Table {
	var out []privacy.Table
	for _, ts := range [][]privacy.Table{ingest.PrivacyTables, survey.PrivacyTables, cases.PrivacyTables, outbox.PrivacyTables,
		loyalty.PrivacyTables, experience.PrivacyTables, analytics.PrivacyTables, profile.PrivacyTables} {
		out = append(out, ts...)
	}
	return out
}

// consumersRead waits until every consumer has read what the log holds
// now; at once where no consumers run in this process.
func (a *App) consumersRead(ctx context.Context) error {
	if !a.working.Load() {
		return nil
	}
	return a.WaitConsumers(ctx)
}

// WaitConsumers waits until every consumer has read what the log holds
// now, wherever the consumers run (in this process or on another node),
// or until ctx ends.
func (a *App) WaitConsumers(ctx context.Context) error {
	head, err := eventlog.Head(ctx, a.DB)
	if err != nil {
		return err
	}
	return a.Runner.Wait(ctx, head)
}

// Start runs the log writer and the workers until ctx ends.
func (a *App) Start(ctx context.Context) {
	a.StartServing(ctx)
	a.RunWorkers(ctx)
}

// StartServing runs what every node needs to take requests until ctx
// ends: the log writer, the erasure queue and the watch on the consumers'
// lag (ingestion's backpressure). A node that also applies events adds
// RunWorkers.
func (a *App) StartServing(ctx context.Context) {
	a.Log.Start(ctx)
	a.Pressure.Run(ctx)
	a.Privacy.Run(ctx)
}

// RunWorkers runs the consumers and works jobs until ctx ends or
// StopWorkers. An ingestion-only node does neither.
func (a *App) RunWorkers(ctx context.Context) {
	a.working.Store(true)
	a.Runner.Run(ctx)
	if err := a.Jobs.Start(ctx); err != nil {
		a.Logger.Error("job system", "err", err)
	}
}

// StopWorkers lets running jobs finish (up to ten seconds, then cancels
// them: they run again on the next node) and stops working jobs.
func (a *App) StopWorkers(ctx context.Context) error { return a.Jobs.Stop(ctx) }

// rulesRead waits, up to two minutes, until the cases consumer (the rules)
// has read what the log holds now. It fails at once where no consumers run
// in this process (an ingestion-only node, a command-line import).
func (a *App) rulesRead(ctx context.Context) error {
	if !a.working.Load() {
		return errors.New("no consumers run in this process")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	head, err := eventlog.Head(ctx, a.DB)
	if err != nil {
		return err
	}
	return a.Runner.WaitFor(ctx, head, "cases")
}

// alertsRead waits, up to 30 s, until the projections alerts read (survey
// scores, the cases consumer's orders and signals, profiles for segments)
// hold what the log holds now.
func (a *App) alertsRead(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	head, err := eventlog.Head(ctx, a.DB)
	if err != nil {
		return err
	}
	return a.Runner.WaitFor(ctx, head, "survey", "cases", "profile")
}

// caughtUp waits up to 3 s for the consumers to read what the log holds
// now, so that a read right after a write sees its effect.
func (a *App) caughtUp(r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	head, err := eventlog.Head(ctx, a.DB)
	if err == nil {
		_ = a.Runner.WaitFor(ctx, head, "profile", "cases", "loyalty", "engagement", "experience", "analytics", "catalog")
	}
}

// SetPublicURL sets where customers reach this cxloop, when it was not
// configured and is known only once the server listens.
func (a *App) SetPublicURL(url string) {
	a.Surveys.SetPublicURL(url)
	if a.Config.PublicURL == "" {
		u := strings.TrimRight(url, "/")
		a.publicURL.Store(&u)
	}
}

// PublicURL is where customers' browsers reach this cxloop: the configured
// public URL, else the one set once the server listens ("" before).
func (a *App) PublicURL() string {
	if a.Config.PublicURL != "" {
		return strings.TrimRight(a.Config.PublicURL, "/")
	}
	if u := a.publicURL.Load(); u != nil {
		return *u
	}
	return ""
}

// Close stops working jobs and closes the database.
func (a *App) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	return errors.Join(a.Jobs.Close(ctx), a.DB.Close())
}

// Handler is every HTTP surface on one mux.
func (a *App) Handler() http.Handler {
	mux := http.NewServeMux()
	in := ingest.NewHandler(a.DB, a.Log, a.Sources, a.Config.Now, a.Logger)
	in.SetWeb(ingest.NewWeb(a.Sources, a.PublicURL, a.Logger))
	in.Check("Survey Responded", a.Surveys.CheckResponded)
	in.SetPrivacy(a.Privacy)
	in.SetTrail(a.Audit)
	in.SetPressure(a.Pressure)
	in.Register(mux)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(a.Log.Collectors()...)
	reg.MustRegister(a.Runner.Collectors()...)
	reg.MustRegister(in.Collectors()...)
	peers := httpio.NewPeerLimit(a.Config.MaxUnauthenticatedPerAddress)
	peers.RefuseWith("/v1/", ingest.CORS)
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "cxloop_http_requests_refused_total",
		Help:        "Requests refused before their handler, by reason: unauthenticated_per_address (429, too many unauthenticated requests in flight from one address).",
		ConstLabels: prometheus.Labels{"reason": "unauthenticated_per_address"}}, func() float64 { return float64(peers.Refused()) }))
	reg.MustRegister(a.Audit.Collectors()...)
	reg.MustRegister(a.Jobs.Collectors()...)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	la := loyalty.NewAPI(a.Loyalty, a.caughtUp, a.Logger)
	hs := &home.Service{Surveys: a.Surveys, Cases: a.Cases, An: a.An, Profiles: a.Profiles, Now: a.Profiles.Now}
	deps := api.Deps{DB: a.DB, Auth: a.Auth, Ingest: ingest.NewAPI(a.DB, a.Sources, a.Logger).Replaying(in), Profiles: a.Profiles, Surveys: a.Surveys,
		Cases: cases.NewAPI(a.Cases, a.caughtUp, a.Auth.Members, a.Logger), Outbox: outbox.NewAPI(a.Outbox, a.Logger), Jobs: jobs.NewAPI(a.Jobs, a.Logger), Loyalty: la, Exp: experience.NewAPI(a.Exp, a.caughtUp, a.Logger),
		Catalog: catalog.NewAPI(a.Catalog, a.caughtUp, a.Logger),
		An:      analytics.NewAPI(a.An, a.caughtUp, a.Logger), Home: home.NewAPI(hs, a.caughtUp, a.Logger), Privacy: privacy.NewAPI(a.Privacy, a.Logger), Audit: a.Audit, Logger: a.Logger}
	api.Register(mux, deps)
	mux.HandleFunc("GET /g/{id}", la.OpenGuide) // a guide's tracked link: public, like survey pages
	web.New(web.Deps{DB: a.DB, Auth: a.Auth, Profiles: a.Profiles, Surveys: a.Surveys, Cases: a.Cases, Outbox: a.Outbox, Loyalty: a.Loyalty, Exp: a.Exp, Catalog: a.Catalog, An: a.An, Sources: a.Sources, Ingest: in, Privacy: a.Privacy, Audit: a.Audit, Jobs: a.Jobs, Pressure: a.Pressure, Home: hs, PublicURL: a.PublicURL,
		Exports: api.Exports(deps), Logger: a.Logger}).Register(mux)
	survey.NewPages(a.Surveys).Register(mux)
	survey.NewWidget(a.Surveys, func(ctx context.Context, key string) error {
		_, err := a.Sources.ByKey(ctx, key)
		if err == nil {
			httpio.Authenticated(ctx)
		}
		return err
	}, ingest.CORS, a.Logger).Register(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.DB.PingContext(ctx); err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		// Ready, with each consumer's lag; past the bound ingestion waits
		// (429), which the answer says: every node shares the lag.
		lags, err := a.Pressure.Lags(ctx)
		if err != nil {
			http.Error(w, "database unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
		if worst, over := a.Pressure.Over(); over {
			fmt.Fprintf(w, "ingestion waits: the %s consumer is %d events behind, over the bound of %d\n", worst.Consumer, worst.Events, a.Pressure.Bound())
		}
		for _, l := range lags {
			fmt.Fprintf(w, "lag %s %d events %.1f s\n", l.Consumer, l.Events, l.Seconds)
		}
	})
	return peers.Wrap(mux)
}

// Bootstrap is what a first start created: the default source's write key
// and the admin token, shown once (cxloop stores only their hashes).
type Bootstrap struct {
	WriteKey string
	Token    string
}

// Bootstrap creates the default source and the admin token when the
// database has none, using the configured values when given.
func (a *App) Bootstrap(ctx context.Context) (Bootstrap, error) {
	var b Bootstrap
	n, err := a.Sources.Count(ctx)
	if err != nil {
		return b, err
	}
	if n == 0 {
		var src ingest.Source
		if src, b.WriteKey, err = a.Sources.Create(ctx, "Default", "", a.Config.BootstrapWriteKey); err != nil {
			return b, fmt.Errorf("default source: %w", err)
		}
		a.RecordLocal(ctx, "bootstrap", "first start", audit.Entry{Action: "create", Resource: "source", ResourceID: src.ID,
			After: audit.State(map[string]any{"name": "Default"})})
	}
	if n, err = a.Auth.CountTokens(ctx); err != nil {
		return b, err
	}
	if n == 0 {
		var id string
		if id, b.Token, err = a.Auth.CreateScopedToken(ctx, "admin", auth.RoleAdmin, nil, a.Config.BootstrapToken); err != nil {
			return b, fmt.Errorf("admin token: %w", err)
		}
		a.RecordLocal(ctx, "bootstrap", "first start", audit.Entry{Action: "create", Resource: "token", ResourceID: id,
			After: audit.State(map[string]any{"name": "admin", "role": auth.RoleAdmin})})
	}
	if err := a.Surveys.EnsureHandlingSurvey(ctx); err != nil {
		return b, fmt.Errorf("complaint handling survey: %w", err)
	}
	return b, nil
}

// RecordLocal writes the audit entry of a change cxloop made on its own
// machine, not over HTTP (the first start's source and token, a token made
// with the cxloop token command): actorID names how (bootstrap, cli), route
// what ran, the address is "local". A failure is logged and counted
// (audit.Service.Record).
func (a *App) RecordLocal(ctx context.Context, actorID, route string, e audit.Entry) {
	e.Actor, e.ActorID, e.Address, e.Method, e.Route = "cxloop", actorID, "local", "local", route
	_ = a.Audit.Record(ctx, e)
}

// Setting reads an installation setting; ok is false when it is unset.
func (a *App) Setting(ctx context.Context, key string) (value string, ok bool, err error) {
	err = a.DB.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = $1`, key).Scan(&value)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	return value, err == nil, err
}

// SetSetting writes an installation setting.
func (a *App) SetSetting(ctx context.Context, key, value string) error {
	return a.DB.Tx(ctx, func(tx *store.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = $2`, key, value)
		return err
	})
}
