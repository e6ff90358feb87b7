// Command cxloop runs the customer-experience platform: serve, demo,
// replay, import, migrate, eval, token, vacuum and version. It only wires
// flags to internal/app and prints what it answers; the evaluations of
// cxloop eval run in their capabilities, reached through app. Besides app
// it imports only demo (the sample retailer it sends), csvimport (an
// import's result), audit and auth (the audit entries and roles of the
// tokens and the demo source it creates) and httpio (a flag's default).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // served only on CXLOOP_DEBUG_ADDR
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cxloop/cxloop/internal/app"
	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/csvimport"
	"github.com/cxloop/cxloop/internal/demo"
	"github.com/cxloop/cxloop/internal/httpio"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `cxloop — the closed-loop customer-experience platform

Usage:
  cxloop serve   [--db PATH|URL] [--addr HOST:PORT] [--demo] [--consumers=false]
                 [--public-url URL] [--smtp-addr HOST:PORT] [--smtp-from ADDRESS]
                 [--allow-private-targets] [--job-rescue-after 10m]
                 [--survey-reply-to ADDRESS] [--max-lag 2000000]
                 [--retain-days N --archive-dir DIR]
  cxloop demo    [--url URL] --write-key KEY [--token TOKEN] [--customers N] [--seed N]
  cxloop replay  [--db PATH|URL] NAME
  cxloop archive [--db PATH|URL] --older-than-days N --dir DIR   (or --list)
  cxloop restore [--db PATH|URL]   (archived events back in the log, for a replay)
  cxloop import  responses [--db PATH|URL] --survey ID FILE.csv
  cxloop import  mentions  [--db PATH|URL] FILE.csv
  cxloop migrate [--db PATH|URL]
  cxloop eval    recommend [--data FOLDER | --db PATH|URL] [--json]
  cxloop eval    replenish [--db PATH|URL] [--json]
  cxloop eval    clv --data FOLDER [--calibration-weeks 39] [--holdout-weeks 39] [--json]
  cxloop eval    pls --data FILE.csv [--scheme centroid|factorial|path] [--scaled] [--bootstrap N] [--json]
  cxloop eval    churn [--db PATH|URL | --data CDNOW_FOLDER] [--holdout-days 90] [--json]
  cxloop token   [--db PATH|URL] [--name NAME] [--role admin|owner|agent|analyst] [--teams A,B]
  cxloop vacuum  [--db PATH|URL]   (rewrite the database: nothing deleted stays in its files)
  cxloop version

Environment: CXLOOP_DB, CXLOOP_ADDR, CXLOOP_CONSUMERS, CXLOOP_BOOTSTRAP_WRITE_KEY,
CXLOOP_BOOTSTRAP_TOKEN, CXLOOP_PUBLIC_URL, CXLOOP_SMTP_ADDR, CXLOOP_SMTP_FROM,
CXLOOP_SMTP_USERNAME, CXLOOP_SMTP_PASSWORD, CXLOOP_ALLOW_PRIVATE_TARGETS, CXLOOP_JOB_RESCUE_AFTER,
CXLOOP_RETAIN_DAYS, CXLOOP_ARCHIVE_DIR, CXLOOP_DEBUG_ADDR (Go's profiler, on a private listener).
`

// serveGCPercent is the garbage collector's target for `cxloop serve`.
const serveGCPercent = 400

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return // a command's -h: its flags are printed
		}
		fmt.Fprintln(os.Stderr, "cxloop:", err)
		os.Exit(1)
	}
}

func run(args []string, out io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(out, usage)
		return errors.New("name a command")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return serve(ctx, rest, out)
	case "demo":
		return sendDemo(ctx, rest, out)
	case "replay":
		return replay(ctx, rest, out)
	case "archive":
		return archive(ctx, rest, out)
	case "restore":
		return restore(ctx, rest, out)
	case "import":
		return importFile(ctx, rest, out)
	case "migrate":
		return migrate(ctx, rest, out)
	case "eval":
		return eval(ctx, rest, out)
	case "token":
		return token(ctx, rest, out)
	case "vacuum":
		return vacuum(ctx, rest, out)
	case "version":
		fmt.Fprintln(out, "cxloop", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(out, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", cmd, usage)
}

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// envInt is env for a whole number; a value that is not one is def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil {
		return n
	}
	return def
}

func envDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil {
		return d
	}
	return def
}

func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", env("CXLOOP_DB", "cxloop.db"), "SQLite file path or postgres:// URL")
}

func logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// serve runs the server until ctx ends: the console, the APIs and, unless
// turned off, the log's consumers and background jobs.
func serve(ctx context.Context, args []string, out io.Writer) error {
	o, err := parseServe(args)
	if err != nil {
		return err
	}
	if os.Getenv("GOGC") == "" {
		// A server's live heap is small and its garbage comes from
		// requests: collecting when the heap has grown by 4x its live size
		// instead of Go's default 2x takes a large share of the CPU back
		// under load (docs/performance.md) for some tens of megabytes. GOGC
		// in the environment decides instead.
		debug.SetGCPercent(serveGCPercent)
	}
	log := logger()
	a, err := app.New(ctx, o.config(log))
	if err != nil {
		return err
	}
	defer a.Close()
	boot, err := a.Bootstrap(ctx)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		return err
	}
	base := "http://" + displayAddr(ln.Addr().String())
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRun()
	a.SetPublicURL(base)
	a.StartServing(runCtx)
	if o.consumers {
		a.RunWorkers(runCtx)
	}
	srv := newServer(a.Handler(), serverTimeouts)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	printRunning(out, base, o.db, boot)
	if dbg := os.Getenv("CXLOOP_DEBUG_ADDR"); dbg != "" {
		// Go's profiler on a separate, private listener, for diagnosing load.
		go func() { log.Error("debug listener", "err", http.ListenAndServe(dbg, http.DefaultServeMux)) }()
	}
	if o.demo {
		go loadDemo(runCtx, a, base, o.customers, out, log)
	}

	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(out, "shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err = srv.Shutdown(shutCtx)
	if err := a.StopWorkers(shutCtx); err != nil {
		log.Warn("stopping jobs", "err", err)
	}
	stopRun()
	return err
}

// serveOptions are how `cxloop serve` runs, from its flags and the
// environment.
type serveOptions struct {
	db, addr, publicURL           string
	demo, consumers, allowPrivate bool
	customers                     int
	smtpAddr, smtpFrom, replyTo   string
	unauthPerAddr                 int
	rescueAfter                   time.Duration
	maxLag                        int
	retainDays                    int
	archiveDir                    string
}

// parseServe reads the flags of `cxloop serve`, each defaulting to its
// environment variable, and checks them.
func parseServe(args []string) (serveOptions, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	db := dbFlag(fs)
	addr := fs.String("addr", env("CXLOOP_ADDR", "localhost:8080"), "listen address")
	withDemo := fs.Bool("demo", false, "load the sample retailer on first start")
	consumers := fs.Bool("consumers", env("CXLOOP_CONSUMERS", "true") != "false", "run the log's consumers on this node (false: an ingestion-only node, with consumers on another)")
	customers := fs.Int("demo-customers", 2000, "customers in the sample retailer")
	publicURL := fs.String("public-url", env("CXLOOP_PUBLIC_URL", ""), "where customers reach cxloop, for survey links (default: the listen address)")
	smtpAddr := fs.String("smtp-addr", env("CXLOOP_SMTP_ADDR", ""), "SMTP server (host:port) for survey emails; none: invitations are links only")
	smtpFrom := fs.String("smtp-from", env("CXLOOP_SMTP_FROM", "cxloop <surveys@localhost>"), "sender of survey emails")
	allowPrivate := fs.Bool("allow-private-targets", env("CXLOOP_ALLOW_PRIVATE_TARGETS", "false") == "true",
		"let webhooks call loopback, private and link-local addresses (on-premises receivers); refused by default")
	replyTo := fs.String("survey-reply-to", env("CXLOOP_SURVEY_REPLY_TO", ""), "address replies to survey emails go to (each gets a +token tag; your mail system posts them to /api/v1/surveys/replies); none: no Reply-To")
	unauthPerAddr := fs.Int("max-unauthenticated-per-address", envInt("CXLOOP_MAX_UNAUTHENTICATED_PER_ADDRESS", httpio.DefaultUnauthenticatedPerAddress),
		"requests one client address may have in flight before their credential checks out (429 past it); -1: no cap. Behind a proxy every client shares its address")
	rescueAfter := fs.Duration("job-rescue-after", envDuration("CXLOOP_JOB_RESCUE_AFTER", 10*time.Minute),
		"how long a background job may run before it is taken for abandoned by a node that died and run again; no attempt may run longer")
	maxLag := fs.Int("max-lag", envInt("CXLOOP_MAX_LAG", app.DefaultMaxLag),
		"events the slowest consumer may be behind the log before ingestion answers 429 with Retry-After (the Segment libraries send again later); -1: no bound")
	retainDays := fs.Int("retain-days", envInt("CXLOOP_RETAIN_DAYS", 0),
		fmt.Sprintf("keep the log to the events of the last N days (at least %d): older ones are archived daily to --archive-dir and dropped; 0: keep every event", app.MinRetainDays))
	archiveDir := fs.String("archive-dir", env("CXLOOP_ARCHIVE_DIR", ""), "where --retain-days writes the log's archives")
	if err := fs.Parse(args); err != nil {
		return serveOptions{}, err
	}
	if *retainDays != 0 && (*retainDays < app.MinRetainDays || *archiveDir == "") {
		return serveOptions{}, fmt.Errorf("--retain-days must be 0 or at least %d, with --archive-dir", app.MinRetainDays)
	}
	if *maxLag == 0 {
		return serveOptions{}, fmt.Errorf("--max-lag must be at least 1, or -1 for no bound")
	}
	if *rescueAfter < time.Second {
		return serveOptions{}, fmt.Errorf("--job-rescue-after must be at least 1s")
	}
	if *unauthPerAddr == 0 {
		return serveOptions{}, fmt.Errorf("--max-unauthenticated-per-address must be at least 1, or -1 for no cap")
	}
	return serveOptions{db: *db, addr: *addr, publicURL: *publicURL, demo: *withDemo, consumers: *consumers, allowPrivate: *allowPrivate,
		customers: *customers, smtpAddr: *smtpAddr, smtpFrom: *smtpFrom, replyTo: *replyTo, unauthPerAddr: *unauthPerAddr, rescueAfter: *rescueAfter, maxLag: *maxLag,
		retainDays: *retainDays, archiveDir: *archiveDir}, nil
}

// config is the server's configuration: the options, the first source's
// write key and admin token when the environment gives them, and the mail
// server's login.
func (o serveOptions) config(log *slog.Logger) app.Config {
	cfg := app.Config{DB: o.db, Addr: o.addr, Logger: log, PublicURL: o.publicURL, AllowPrivateTargets: o.allowPrivate, SurveyReplyTo: o.replyTo,
		MaxUnauthenticatedPerAddress: o.unauthPerAddr, JobRescueAfter: o.rescueAfter, MaxLag: o.maxLag,
		RetainDays: o.retainDays, ArchiveDir: o.archiveDir,
		BootstrapWriteKey: os.Getenv("CXLOOP_BOOTSTRAP_WRITE_KEY"), BootstrapToken: os.Getenv("CXLOOP_BOOTSTRAP_TOKEN")}
	if o.smtpAddr != "" {
		cfg.Mail = &app.Mailer{Addr: o.smtpAddr, From: o.smtpFrom, Username: os.Getenv("CXLOOP_SMTP_USERNAME"), Password: os.Getenv("CXLOOP_SMTP_PASSWORD")}
	}
	return cfg
}

// printRunning says where the running server is: its console, ingestion
// and database, and the write key and admin token made at first start
// (shown this once).
func printRunning(out io.Writer, base, db string, boot app.Bootstrap) {
	fmt.Fprintf(out, "cxloop %s is running\n  console:   %s/\n  ingestion: %s/v1 (Segment-compatible)\n  database:  %s\n", version, base, base, redact(db))
	if boot.WriteKey != "" {
		fmt.Fprintf(out, "  write key: %s   (default source; shown once, stored hashed)\n", boot.WriteKey)
	} else {
		fmt.Fprintln(out, "  write key: created at first start; add sources with POST /api/v1/sources")
	}
	if boot.Token != "" {
		fmt.Fprintf(out, "  admin token: %s   (shown once, stored hashed)\n", boot.Token)
	} else {
		fmt.Fprintln(out, "  admin token: created at first start; make another with `cxloop token`")
	}
}

// loadDemo sends the sample retailer through the ingestion API once per database.
func loadDemo(ctx context.Context, a *app.App, base string, customers int, out io.Writer, log *slog.Logger) {
	if _, done, err := a.Setting(ctx, "demo_loaded"); err != nil || done {
		if err != nil {
			log.Error("demo", "err", err)
		}
		return
	}
	src, key, err := a.Sources.Create(ctx, "Demo retailer", "", "")
	if err != nil {
		log.Error("demo source", "err", err)
		return
	}
	a.RecordLocal(ctx, "demo", "cxloop serve --demo", audit.Entry{Action: "create", Resource: "source", ResourceID: src.ID,
		After: audit.State(map[string]any{"name": "Demo retailer"})})
	// Teams and rules need an admin; the secret is never shown.
	tokenID, token, err := a.Auth.CreateScopedToken(ctx, "demo loader", auth.RoleAdmin, nil, "")
	if err != nil {
		log.Error("demo token", "err", err)
		return
	}
	a.RecordLocal(ctx, "demo", "cxloop serve --demo", audit.Entry{Action: "create", Resource: "token", ResourceID: tokenID,
		After: audit.State(map[string]any{"name": "demo loader", "role": auth.RoleAdmin})})
	// The loader's token ends with the loading: no admin credential stays
	// behind that nobody holds.
	defer func() {
		ctx := context.WithoutCancel(ctx)
		if err := a.Auth.RevokeToken(ctx, tokenID); err != nil {
			log.Error("demo token", "err", err)
			return
		}
		a.RecordLocal(ctx, "demo", "cxloop serve --demo", audit.Entry{Action: "revoke", Resource: "token", ResourceID: tokenID,
			Before: audit.State(map[string]any{"name": "demo loader", "role": auth.RoleAdmin})})
	}()
	surveys, err := demo.CreateSurveys(ctx, base, token)
	if err == nil {
		err = demo.CreateLoop(ctx, base, token)
	}
	if err != nil {
		log.Error("demo surveys", "err", err)
		return
	}
	fmt.Fprintf(out, "loading the demo retailer (%d customers, three surveys and cxloop's complaint-handling survey) through %s/v1/batch …\n", customers, base)
	start := time.Now()
	opts := demo.Options{Customers: customers, Seed: 42, End: start} // one End: Finish draws the same customers again
	n, err := demo.Send(ctx, base, key, demo.Options{Customers: customers, Seed: 42, End: start, Surveys: surveys})
	if err != nil {
		log.Error("demo", "err", err)
		return
	}
	err = a.WaitConsumers(ctx)
	if err == nil {
		err = demo.Finish(ctx, base, token, opts)
	}
	if err == nil {
		err = demo.WorkCases(ctx, base, key, token, opts)
	}
	if err == nil { // the burst has settled: the recommender learns from it now
		_, err = a.Exp.TrainIfNew(ctx)
	}
	if err != nil {
		log.Error("demo", "err", err)
		return
	}
	if err := a.SetSetting(ctx, "demo_loaded", time.Now().UTC().Format(time.RFC3339)); err != nil {
		log.Error("demo", "err", err)
		return
	}
	fmt.Fprintf(out, "demo loaded: %d events in %s; try %s/\n", n, time.Since(start).Round(time.Millisecond), base)
}

// timeouts bound how long a connection may hold the server: its headers,
// its whole request (body included), writing the answer, and idling
// between requests.
type timeouts struct{ header, read, write, idle time.Duration }

// serverTimeouts leave room for a large import over a slow link (a
// request's body within 2 minutes, its answer within 5) while a client
// that trickles bytes is cut off.
var serverTimeouts = timeouts{header: 10 * time.Second, read: 2 * time.Minute, write: 5 * time.Minute, idle: 2 * time.Minute}

func newServer(h http.Handler, t timeouts) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: t.header, ReadTimeout: t.read, WriteTimeout: t.write, IdleTimeout: t.idle,
		MaxHeaderBytes: 64 << 10}
}

func displayAddr(a string) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return a
	}
	if host == "" || host == "::" || host == "0.0.0.0" || host == "127.0.0.1" || host == "::1" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// redact hides a password in a database URL.
func redact(dsn string) string {
	if i := strings.Index(dsn, "://"); i >= 0 {
		if at := strings.Index(dsn[i+3:], "@"); at >= 0 {
			cred := dsn[i+3 : i+3+at]
			if u, _, ok := strings.Cut(cred, ":"); ok {
				return dsn[:i+3] + u + ":***" + dsn[i+3+at:]
			}
		}
	}
	return dsn
}

func sendDemo(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	url := fs.String("url", "http://"+env("CXLOOP_ADDR", "localhost:8080"), "cxloop's base URL")
	key := fs.String("write-key", env("CXLOOP_WRITE_KEY", ""), "a source's write key")
	customers := fs.Int("customers", 2000, "how many customers")
	seed := fs.Uint64("seed", 42, "random seed; the same seed sends the same data")
	token := fs.String("token", env("CXLOOP_TOKEN", ""), "an admin API token: adds the demo surveys with their answers, teams and rules")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *key == "" {
		return errors.New("demo needs --write-key (printed by `cxloop serve` at first start)")
	}
	opts := demo.Options{Customers: *customers, Seed: *seed, End: time.Now()}
	if *token != "" {
		var err error
		if opts.Surveys, err = demo.CreateSurveys(ctx, *url, *token); err != nil {
			return err
		}
		if err := demo.CreateLoop(ctx, *url, *token); err != nil {
			return err
		}
		fmt.Fprintf(out, "created the demo surveys: post-order %s, quarterly %s, pulse %s\n", opts.Surveys.PostOrder, opts.Surveys.Relationship, opts.Surveys.Pulse)
	}
	start := time.Now()
	n, err := demo.Send(ctx, *url, *key, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "sent %d events for %d customers in %s\n", n, *customers, time.Since(start).Round(time.Millisecond))
	if *token != "" {
		// Redemptions and introductions read what the events earned: give
		// cxloop a moment to read them.
		time.Sleep(5 * time.Second)
		if err := demo.Finish(ctx, *url, *token, opts); err != nil {
			return err
		}
		return demo.WorkCases(ctx, *url, *key, *token, opts)
	}
	return nil
}

func open(ctx context.Context, fs *flag.FlagSet, args []string) (*app.App, error) {
	db := dbFlag(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	return app.New(ctx, app.Config{DB: *db, Logger: logger()})
}

func replay(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("replay", flag.ContinueOnError)
	a, err := open(ctx, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	if fs.NArg() != 1 {
		var names []string
		for _, c := range a.Runner.Consumers() {
			names = append(names, c.Name())
		}
		return fmt.Errorf("replay needs one consumer name: %s", strings.Join(names, ", "))
	}
	c, err := a.Runner.Lookup(fs.Arg(0))
	if err != nil {
		return err
	}
	start := time.Now()
	n, err := a.Runner.Replay(ctx, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "replayed %s: %d events in %s\n", c.Name(), n, time.Since(start).Round(time.Millisecond))
	return nil
}

// archive moves the log's oldest events to a compressed file and drops
// them from the database (docs/retention.md); --list lists the archives.
func archive(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("archive", flag.ContinueOnError)
	days := fs.Int("older-than-days", 0, fmt.Sprintf("archive the events received more than N days ago (at least %d)", app.MinRetainDays))
	dir := fs.String("dir", "", "the directory the archive file is written to")
	list := fs.Bool("list", false, "list the archives instead")
	a, err := open(ctx, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	if *list {
		all, err := a.Archives(ctx)
		for _, x := range all {
			fmt.Fprintf(out, "%s\tseq %d–%d\t%d events\t%d bytes\t%s\n", x.File, x.First, x.Last, x.Events, x.Bytes, x.CreatedAt.Format(time.RFC3339))
		}
		if err == nil && len(all) == 0 {
			fmt.Fprintln(out, "no archives: every event is in the log")
		}
		return err
	}
	start := time.Now()
	ar, err := a.ArchiveLog(ctx, *dir, *days)
	if err != nil {
		return err
	}
	if ar == nil {
		fmt.Fprintf(out, "nothing to archive: no event received more than %d days ago that every consumer has applied\n", *days)
		return nil
	}
	fmt.Fprintf(out, "archived %d events (seq %d–%d) to %s: %d bytes, %.1f per event, in %s\n", ar.Events, ar.First, ar.Last, ar.File,
		ar.Bytes, float64(ar.Bytes)/float64(max(ar.Events, 1)), time.Since(start).Round(time.Millisecond))
	return nil
}

// restore puts the archived events back in the log, for a replay.
func restore(ctx context.Context, args []string, out io.Writer) error {
	a, err := open(ctx, flag.NewFlagSet("restore", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	defer a.Close()
	n, err := a.RestoreLog(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "restored %d archived events to the log; `cxloop replay NAME` rebuilds a consumer from them\n", n)
	return nil
}

// importFile loads a file into the database: survey responses from CSV.
func importFile(ctx context.Context, args []string, out io.Writer) error {
	if len(args) > 0 && args[0] == "mentions" {
		return importMentions(ctx, args[1:], out)
	}
	if len(args) == 0 || args[0] != "responses" {
		return errors.New("import what? cxloop import responses --survey ID FILE.csv | cxloop import mentions FILE.csv")
	}
	fs := flag.NewFlagSet("import responses", flag.ContinueOnError)
	surveyID := fs.String("survey", "", "the survey the answers belong to")
	backfill := fs.Bool("backfill", false, "history being loaded: counted in reports, no rule fires")
	a, err := open(ctx, fs, args[1:])
	if err != nil {
		return err
	}
	defer a.Close()
	if *surveyID == "" || fs.NArg() != 1 {
		return errors.New("cxloop import responses --survey ID [--backfill] FILE.csv")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	res, err := a.Surveys.ImportCSV(ctx, *surveyID, f, *backfill)
	if err != nil {
		return err
	}
	return report(out, "responses", res, start)
}

// importMentions loads social-media and review-site posts from CSV.
func importMentions(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("import mentions", flag.ContinueOnError)
	backfill := fs.Bool("backfill", false, "history being loaded: counted in reports, no rule fires")
	a, err := open(ctx, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	if fs.NArg() != 1 {
		return errors.New("cxloop import mentions [--backfill] FILE.csv")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	res, err := a.Cases.ImportMentions(ctx, f, *backfill)
	if err != nil {
		return err
	}
	return report(out, "mentions", res, start)
}

// report prints what an import stored and refused; refusals fail the command.
func report(out io.Writer, what string, res csvimport.Result, start time.Time) error {
	fmt.Fprintf(out, "imported %d of %d %s in %s\n", res.Imported, res.Rows, what, time.Since(start).Round(time.Millisecond))
	if res.Duplicates > 0 {
		fmt.Fprintf(out, "  %d rows were recorded before (duplicates): not stored again\n", res.Duplicates)
	}
	switch {
	case res.Backfill:
		fmt.Fprintln(out, "  as history (backfill): counted in reports, no rule fires")
	case res.FiredRules != nil:
		fmt.Fprintf(out, "  rules fired on %d rows\n", *res.FiredRules)
	default:
		fmt.Fprintln(out, "  rules read these rows when cxloop serve runs on this database")
	}
	for _, e := range res.Errors {
		field := ""
		if e.Field != "" {
			field = " (" + e.Field + ")"
		}
		fmt.Fprintf(out, "  line %d%s: %s\n", e.Line, field, e.Message)
	}
	if res.Refused > 0 {
		return fmt.Errorf("%d rows refused; the others were imported", res.Refused)
	}
	return nil
}

func migrate(ctx context.Context, args []string, out io.Writer) error {
	a, err := open(ctx, flag.NewFlagSet("migrate", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintln(out, "database is up to date")
	return nil
}

// vacuum rewrites the database so that nothing deleted stays readable in
// its files (docs/privacy.md); run it once on a database an earlier version
// created, with cxloop stopped.
func vacuum(ctx context.Context, args []string, out io.Writer) error {
	a, err := open(ctx, flag.NewFlagSet("vacuum", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.DB.Vacuum(ctx); err != nil {
		return err
	}
	fmt.Fprintln(out, "database rewritten")
	return nil
}

func token(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	name := fs.String("name", "cli", "a name for the token")
	role := fs.String("role", auth.RoleAdmin, "admin, owner, agent or analyst")
	teams := fs.String("teams", "", "comma-separated teams whose cases an owner or agent works (default: all)")
	a, err := open(ctx, fs, args)
	if err != nil {
		return err
	}
	defer a.Close()
	var scope []string
	if *teams != "" {
		scope = strings.Split(*teams, ",")
	}
	id, secret, err := a.Auth.CreateScopedToken(ctx, *name, *role, scope, "")
	if err != nil {
		return err
	}
	a.RecordLocal(ctx, "cli", "cxloop token", audit.Entry{Action: "create", Resource: "token", ResourceID: id,
		After: audit.State(map[string]any{"name": *name, "role": auth.NormalizeRole(*role), "teams": scope})})
	fmt.Fprintln(out, secret)
	return nil
}
