package web

import (
	"bytes"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cxloop/cxloop/internal/analytics"
	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/auth"
	"github.com/cxloop/cxloop/internal/cases"
	"github.com/cxloop/cxloop/internal/catalog"
	"github.com/cxloop/cxloop/internal/display"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/experience"
	"github.com/cxloop/cxloop/internal/fault"
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
)

//go:embed templates static
var files embed.FS

const sessionCookie = "cxloop_session"

// Deps are what the console needs.
type Deps struct {
	DB       *store.DB
	Auth     *auth.Service
	Profiles *profile.Service
	Surveys  *survey.Service
	Cases    *cases.Service
	Outbox   *outbox.Service
	Loyalty  *loyalty.Service
	Exp      *experience.Service
	Catalog  *catalog.Service
	An       *analytics.Service
	Sources  *ingest.Sources
	Ingest   *ingest.Handler // replays quarantined messages through /v1's acceptance
	Audit    *audit.Service  // the trail of sign-ins and of changes made from the console
	Privacy  *privacy.Service
	Jobs     *jobs.Service
	Pressure *eventlog.Pressure // the consumers' lag (the Jobs page)
	Home     *home.Service
	// PublicURL is where shoppers' browsers reach cxloop (the Sources
	// page's snippet); nil or "" means the host a page is asked from.
	PublicURL func() string
	// Exports serves /export/…: the CSV form of the /api/v1 lists and
	// reports, for the principal in the request's context.
	Exports http.Handler
	Logger  *slog.Logger
}

// Console serves the console pages.
type Console struct {
	Deps
	pages  map[string]*template.Template
	limits *signInLimiter
	// currency is the reporting currency amounts are shown with, read
	// afresh for each page (another node may have changed it).
	currency atomic.Pointer[string]
	// views keeps report views while they are exact (views.go).
	views viewCache
}

// money is an amount as the console shows it: whole units, grouped, with
// the reporting currency when one is set.
func (c *Console) money(v float64) string {
	n := count(int64(math.Round(v)))
	if cur := c.currency.Load(); cur != nil && *cur != "" {
		return n + " " + *cur
	}
	return n
}

// New parses every template once.
func New(d Deps) *Console {
	now := time.Now
	if d.Profiles != nil {
		now = d.Profiles.Now // the app's clock
	}
	c := &Console{Deps: d, pages: map[string]*template.Template{}, limits: newSignInLimiter(now)}
	views, err := fs.Glob(files, "templates/views/*.html")
	if err != nil {
		panic(err)
	}
	fm := maps.Clone(funcs)
	fm["money"] = c.money                     // reads the console's reporting currency
	fm["moneyOr"] = func(v *float64) string { // an amount that may not be known
		if v == nil {
			return "—"
		}
		return c.money(*v)
	}
	for _, v := range views {
		t := template.Must(template.New("").Funcs(fm).ParseFS(files, "templates/common/*.html", v))
		name := strings.TrimSuffix(v[strings.LastIndexByte(v, '/')+1:], ".html")
		c.pages[name] = t
	}
	return c
}

// export answers a "Download CSV" link: the API's export of the same name,
// run as the signed-in operator (their role and team scope).
func (c *Console) export(w http.ResponseWriter, r *http.Request, s auth.Session) {
	if c.Exports == nil {
		http.NotFound(w, r)
		return
	}
	c.Exports.ServeHTTP(w, r.WithContext(auth.WithPrincipal(r.Context(), s.Principal)))
}

// Register declares every console route.
func (c *Console) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(files, "static")
	mux.Handle("GET /static/", newStaticFiles(static))
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		http.ServeFileFS(w, r, static, "favicon.svg")
	})
	cop := http.NewCrossOriginProtection()
	page := func(h func(http.ResponseWriter, *http.Request, auth.Session)) http.Handler {
		return cop.Handler(c.signedIn(c.recorded(h)))
	}
	mux.Handle("GET /{$}", page(c.homePage))
	// Any other path is a page that does not exist: said in a page, with
	// the way back (the routes of the API, ingestion and survey pages are
	// more specific and answer for themselves).
	mux.HandleFunc("/", c.notFound)
	mux.Handle("GET /login", cop.Handler(http.HandlerFunc(c.loginPage)))
	mux.Handle("POST /login", cop.Handler(http.HandlerFunc(c.login)))
	mux.Handle("POST /logout", page(c.logout))
	mux.Handle("GET /export/", page(c.export))
	mux.Handle("GET /customers", page(c.customers))
	mux.Handle("GET /customers/{id}", page(c.customer))
	mux.Handle("GET /customers/{id}/export", page(c.customerExport))
	mux.Handle("POST /customers/{id}/erase", page(c.customerErase))
	mux.Handle("GET /privacy", page(c.privacyPage))
	mux.Handle("POST /privacy/suppressions/{id}/lift", page(c.liftSuppression))
	mux.Handle("POST /privacy/suppressions", page(c.suppress))
	mux.Handle("GET /surveys", page(c.surveys))
	mux.Handle("GET /surveys/new", page(c.newSurvey))
	mux.Handle("POST /surveys", page(c.saveSurvey))
	mux.Handle("GET /surveys/{id}", page(c.results))
	mux.Handle("GET /surveys/{id}/edit", page(c.editSurvey))
	mux.Handle("GET /surveys/{id}/verbatims", page(c.verbatims))
	mux.Handle("GET /surveys/{id}/responses/{response}", page(c.surveyResponse))
	mux.Handle("POST /surveys/{id}/edit", page(c.saveSurvey))
	mux.Handle("GET /surveys/{id}/preview", page(c.previewSurvey))
	mux.Handle("GET /surveys/{id}/qr.png", page(c.surveyQR))
	mux.Handle("POST /surveys/{id}/status", page(c.setSurveyStatus))
	mux.Handle("POST /surveys/{id}/send", page(c.sendSurvey))
	mux.Handle("POST /surveys/{id}/web", page(c.setWebTrigger))
	mux.Handle("GET /cases", page(c.caseQueue))
	mux.Handle("GET /cases/{id}", page(c.casePage))
	mux.Handle("POST /cases/assign", page(c.assignCases))
	mux.Handle("POST /cases/{id}/{action}", page(c.caseAction))
	mux.Handle("GET /recovery", page(c.recoveryPage))
	mux.Handle("GET /alerts", page(c.alertsPage))
	mux.Handle("GET /loyalty", page(c.loyaltyPage))
	mux.Handle("POST /customers/{id}/redeem", page(c.redeem))
	mux.Handle("POST /loyalty/rules", page(c.addRule))
	mux.Handle("GET /experiences", page(c.experiencesPage))
	mux.Handle("GET /insights", page(c.insightsPage))
	mux.Handle("POST /customers/{id}/reorder", page(c.reorder))
	mux.Handle("GET /products", page(c.productsPage))
	mux.Handle("POST /product-categories/{category}", page(c.setCategory))
	mux.Handle("POST /replenishments/{id}/cancel", page(c.cancelReplenishment))
	mux.Handle("GET /sources", page(c.sourcesPage))
	mux.Handle("GET /quarantine", page(c.quarantineList))
	mux.Handle("GET /quarantine/{id}", page(c.quarantineMessage))
	mux.Handle("POST /quarantine/{id}/{action}", page(c.quarantineAction))
	mux.Handle("POST /sources", page(c.sourcesAction))
	mux.Handle("POST /sources/{what}", page(c.sourcesAction))
	mux.Handle("GET /settings", page(c.settings))
	// A settings form answers at its own address (a secret shown once, a
	// refusal with what was typed); read again, that address is the section.
	mux.HandleFunc("GET /settings/{what}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/settings#"+url.PathEscape(r.PathValue("what")), http.StatusSeeOther)
	})
	mux.Handle("POST /settings/{what}", page(c.settingsAction))
	mux.Handle("POST /settings/rules/{id}/{action}", page(c.ruleAction))
	mux.Handle("GET /audit", page(c.auditPage))
	mux.Handle("GET /jobs", page(c.jobsPage))
	mux.Handle("POST /jobs/{id}/{action}", page(c.jobAction))
	mux.Handle("POST /settings/webhooks/{id}/{action}", page(c.webhookAction))
	mux.Handle("POST /settings/teams/{id}/{action}", page(c.teamAction))
	mux.Handle("POST /sources/{id}/{action}", page(c.sourceAction))
	mux.Handle("POST /settings/users/{id}/{action}", page(c.userAction))
	mux.Handle("POST /settings/tokens/{id}/{action}", page(c.tokenAction))
	mux.Handle("POST /alerts", page(c.addAlert))
	mux.Handle("POST /alerts/{id}/{action}", page(c.alertAction))
	mux.Handle("GET /nudges/new", page(c.newNudge))
	mux.Handle("POST /nudges", page(c.saveNudge))
	mux.Handle("GET /nudges/{id}/edit", page(c.editNudge))
	mux.Handle("POST /nudges/{id}/edit", page(c.saveNudge))
	mux.Handle("POST /nudges/{id}/{action}", page(c.nudgeAction))
	mux.Handle("POST /replenishment/{action}", page(c.replenishAction))
	mux.Handle("POST /loyalty/rules/{id}/{action}", page(c.loyaltyRuleAction))
}

// signedIn admits requests with a live session and checks the CSRF token
// of every form that changes something.
func (c *Console) signedIn(h func(http.ResponseWriter, *http.Request, auth.Session)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var err error = fault.New(fault.Unauthorized, "not signed in")
		var s auth.Session
		if ck, cerr := r.Cookie(sessionCookie); cerr == nil {
			s, err = c.Auth.Session(r.Context(), ck.Value)
		}
		if err != nil {
			if fault.Code(err) != fault.Unauthorized {
				c.fail(w, r, err)
				return
			}
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				w.Header().Set("Connection", "close") // rather than read the form first
			}
			http.Redirect(w, r, "/login?next="+template.URLQueryEscaper(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		httpio.Authenticated(r.Context())
		if r.Method == http.MethodPost && subtle.ConstantTimeCompare([]byte(r.PostFormValue("csrf")), []byte(s.CSRF)) != 1 {
			http.Error(w, "the form's CSRF token is missing or stale; reload the page", http.StatusForbidden)
			return
		}
		h(w, r.WithContext(auth.WithPrincipal(r.Context(), s.Principal)), s)
	})
}

type view struct {
	Title   string
	Session *auth.Session
	Nav     string
	Data    any
	Error   string
}

func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	if c.DB != nil {
		if ds, err := display.Get(r.Context(), c.DB); err == nil {
			c.currency.Store(&ds.Currency)
		}
	}
	var buf bytes.Buffer
	if err := c.pages[name].ExecuteTemplate(&buf, "layout", v); err != nil {
		c.Logger.Error("render", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self'; img-src 'self' data:")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

func (c *Console) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := fault.Status(fault.Code(err))
	msg := "Something went wrong."
	var fe *fault.Error
	if errors.As(err, &fe) {
		msg = fe.Message
	} else {
		c.Logger.Error("console", "path", r.URL.Path, "err", err)
	}
	c.render(w, r, status, "error", view{Title: "Error", Error: msg})
}

// notFound is the console's page for a path that does not exist.
func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	v := view{Title: "Not found", Error: "There is no page at " + r.URL.Path + "."}
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if s, err := c.Auth.Session(r.Context(), ck.Value); err == nil {
			v.Session = &s
		}
	}
	c.render(w, r, http.StatusNotFound, "error", v)
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "login", view{Title: "Sign in", Data: map[string]string{"Next": safeNext(r.URL.Query().Get("next"))}})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	addr, account := clientAddr(r), accountOf(r)
	tok := strings.TrimSpace(r.PostFormValue("token"))
	// A password attempt from a browser that signed in to the account
	// before waits only for the account: the address is shared by every
	// browser behind a proxy, and an attacker's guesses would lock them all
	// out. A token is checked even while the address waits: it is a long
	// random secret looked up by a fast hash (as /api/v1 does on every
	// request), so the limit protects no password there, and a wrong one
	// is refused as before (neither counted nor recorded).
	wait := c.limits.wait(addr, account, !c.knownDevice(r, account))
	next := safeNext(r.PostFormValue("next"))
	if wait > 0 && tok == "" {
		c.refuse(w, r, addr, wait, next)
		return
	}
	var p auth.Principal
	var err error
	if tok != "" {
		p, err = c.Auth.Token(ctx, tok)
	} else {
		p, err = c.Auth.Login(ctx, r.PostFormValue("email"), r.PostFormValue("password"))
	}
	if err != nil {
		if fault.Code(err) != fault.Unauthorized {
			c.fail(w, r, err)
			return
		}
		if wait > 0 {
			c.refuse(w, r, addr, wait, next)
			return
		}
		c.limits.failed(addr, account)
		_ = c.Audit.Record(ctx, signInEntry(r, audit.SignInFailed, http.StatusUnauthorized))
		c.render(w, r, http.StatusUnauthorized, "login", view{Title: "Sign in", Error: "That token, or that email and password, did not match.", Data: map[string]string{"Next": next}})
		return
	}
	c.limits.succeeded(account)
	id, err := c.Auth.StartSession(ctx, p)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	e := signInEntry(r, audit.SignIn, http.StatusSeeOther)
	e.Actor, e.ActorID, e.Role = p.Name, p.Credential, p.Role
	_ = c.Audit.Record(ctx, e)
	if tok == "" {
		c.rememberDevice(w, r, account)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteLaxMode, Expires: time.Now().Add(auth.SessionTTL)})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// refuse answers a sign-in the limit refuses: 429 with Retry-After,
// recorded once per address in five minutes, counted always.
func (c *Console) refuse(w http.ResponseWriter, r *http.Request, addr string, wait time.Duration, next string) {
	if c.Audit.Refused(addr) {
		_ = c.Audit.Record(r.Context(), signInEntry(r, audit.SignInRefused, http.StatusTooManyRequests))
	}
	secs := int(math.Ceil(wait.Seconds()))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	c.render(w, r, http.StatusTooManyRequests, "login", view{Title: "Sign in",
		Error: fmt.Sprintf("Too many failed sign-ins. Try again in %d seconds.", secs), Data: map[string]string{"Next": next}})
}

// safeNext keeps a post-login redirect on this site: a path of its own,
// never a scheme or a host, and no character a browser drops or reads as
// a slash (tab, newline, backslash), which would turn "/\t/evil.example"
// into another site.
func safeNext(next string) string {
	const home = "/"
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
		return home
	}
	for _, r := range next {
		if r < 0x20 || r == 0x7f || r == '\\' || r == ' ' {
			return home
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return home
	}
	return next
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request, _ auth.Session) {
	if ck, err := r.Cookie(sessionCookie); err == nil {
		if err := c.Auth.EndSession(r.Context(), ck.Value); err != nil {
			c.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

var funcs = template.FuncMap{
	"when": func(v any) string {
		var ms int64
		switch t := v.(type) {
		case store.Millis:
			ms = int64(t)
		case *store.Millis:
			if t != nil {
				ms = int64(*t)
			}
		case int64:
			ms = t
		case time.Time:
			if !t.IsZero() {
				ms = t.UnixMilli()
			}
		case *time.Time:
			if t != nil && !t.IsZero() {
				ms = t.UnixMilli()
			}
		}
		if ms == 0 {
			return "—"
		}
		return time.UnixMilli(ms).UTC().Format("2006-01-02 15:04")
	},
	// stamp is a stored time to the second, in UTC (the audit trail).
	"stamp": func(m store.Millis) string { return time.UnixMilli(int64(m)).UTC().Format("2006-01-02 15:04:05") },
	"icon":  channelIcon,
	"count": count,
	// counted is a count with its noun, singular for one:
	// counted 1 "answer" is "1 answer", counted 1204 "answer" "1,204 answers".
	"counted": counted,
	"changes": auditChanges,
	// share is part ÷ whole as a whole percentage from the counts, as
	// every page writes a share of counts ("—" when whole is 0).
	"share":     shareOf,
	"say":       say,
	"nudgeKind": func(k string) string { return nudgeKindNames[k] },
	"experienceName": func(k string) string {
		if n, ok := experienceNames[k]; ok {
			return n
		}
		return k
	},
	"add": func(a, b int) int { return a + b },
	// split lays promoters, passives and detractors side by side on 0–100:
	// the promoters' width, the passives' width, where the detractors
	// start and their width.
	"split": func(p, pa, d int) [4]float64 {
		n := float64(p + pa + d)
		if n == 0 {
			return [4]float64{}
		}
		w := func(k int) float64 { return math.Round(float64(k)/n*10000) / 100 }
		return [4]float64{w(p), w(pa), w(p) + w(pa), w(d)}
	},
	"echarts": func() string { return echartsPath },
	"list":    func(v ...string) []string { return v },
	// args passes several values to a template: {{template "x" (args a b)}}.
	"args":  func(v ...any) []any { return v },
	"join":  strings.Join,
	"upper": strings.ToUpper,
	"pct":   func(f float64) int { return int(f*100 + 0.5) },
	// pct1 prints a rate (a fraction 0–1, or a pointer to one) as a
	// percentage with one decimal.
	"pct1": func(v any) string {
		switch f := v.(type) {
		case float64:
			return fmt.Sprintf("%.1f", f*100)
		case *float64:
			if f != nil {
				return fmt.Sprintf("%.1f", *f*100)
			}
		}
		return "—"
	},
	// num, rate and duration print a figure that may be absent (no base
	// to compute it on) as "—": a number, a share as a percentage, seconds
	// as hours.
	"num": func(format string, v *float64) string {
		if v == nil {
			return "—"
		}
		return fmt.Sprintf(format, *v)
	},
	"word": func(w *analytics.Word) string {
		if w == nil {
			return "—"
		}
		var what string
		switch {
		case w.Kind == "nps" && w.Value != nil:
			what = fmt.Sprintf("NPS %.0f", *w.Value)
		case w.Kind == "score" && w.Value != nil:
			what = fmt.Sprintf("a score at %.0f%% of its scale", *w.Value*100)
		default:
			what = "a negative answer or mention"
		}
		return what + " · " + w.At.Format("2006-01-02")
	},
	"rate": func(v *float64) string {
		if v == nil {
			return "—"
		}
		return fmt.Sprintf("%d%%", int(*v*100+0.5))
	},
	"duration": duration,
	// nameOr is a customer's name from a Names map, else the id itself.
	// breakable is text that may wrap where an address breaks well: after
	// an @ or a slash (an email in a narrow column wraps as "ana.lima@ /
	// example.com", not in the middle of a word).
	"breakable":  breakable,
	"mergeWords": mergeWords,
	"nameOr": func(names map[string]string, id string) string {
		if n := names[id]; n != "" {
			return n
		}
		return id
	},
	"pvalue": func(p *float64) string {
		switch {
		case p == nil:
			return "—"
		case *p < 0.0001:
			return "< 0.0001"
		}
		return fmt.Sprintf("%.4f", *p)
	},
	"verdict": func(status string) string {
		return map[string]string{"too_few": "too few to test", "not_significant": "no significant change",
			"other_direction": "changed the other way", "significant": "significant"}[status]
	},
	"points": func(f float64) float64 { return f * 100 }, // a difference of shares, in percentage points
	"key":    formKey,
	"total": func(m map[string]int) int {
		n := 0
		for _, v := range m {
			n += v
		}
		return n
	},
	"sub": func(a, b int) int { return a - b },
}

// channelIcon is the short badge shown beside a touchpoint of the channel;
// the stylesheet colours it by channel.
func channelIcon(channel string) string {
	switch channel {
	case "web":
		return "W"
	case "mobile_app":
		return "A"
	case "store":
		return "S"
	case "call_centre":
		return "C"
	case "social":
		return "So"
	case "email":
		return "E"
	case "review_site":
		return "R"
	case "server":
		return "Sv"
	case "partner":
		return "P"
	case "press":
		return "Pr"
	}
	if channel == "" {
		return "?"
	}
	return strings.ToUpper(channel[:1])
}

// duration is a time span in the unit it reads best in: minutes under an
// hour, hours under two days, days beyond.
func duration(seconds *float64) string {
	switch {
	case seconds == nil:
		return "—"
	case *seconds < 3600:
		return fmt.Sprintf("%.0f min", math.Max(1, math.Round(*seconds/60)))
	case *seconds < 48*3600:
		return fmt.Sprintf("%.1f h", *seconds/3600)
	}
	return fmt.Sprintf("%.1f days", *seconds/86400)
}

// counted is a count with its noun, the noun singular for one.
func counted(v any, noun string) string {
	c := count(v)
	if c != "1" {
		noun = plural(noun)
	}
	return c + " " + noun
}

// plural is an English noun's plural, for the nouns the console counts.
func plural(noun string) string {
	switch {
	case strings.HasSuffix(noun, "y") && !strings.HasSuffix(noun, "ay") && !strings.HasSuffix(noun, "ey"):
		return noun[:len(noun)-1] + "ies"
	case strings.HasSuffix(noun, "s"), strings.HasSuffix(noun, "sh"), strings.HasSuffix(noun, "ch"):
		return noun + "es"
	}
	return noun + "s"
}

// count writes a count with thousands separators: 2,025 responses, not a
// year.
func count(v any) string {
	var n int64
	switch x := v.(type) {
	case int:
		n = int64(x)
	case int64:
		n = x
	case int32:
		n = int64(x)
	case float64:
		n = int64(math.Round(x))
	default:
		return fmt.Sprint(v)
	}
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// words are the codes the API returns, as the console says them.
var words = map[string]string{
	// identities
	"user_id": "user id", "anonymous_id": "anonymous id", "email": "email", "phone": "phone",
	// survey rhythms and invitations
	"persistent": "after each touchpoint", "periodic": "relationship",
	"recontact_wait": "contacted too recently (contact policy)", "opted_out": "opted out of surveys",
	"sampled_out": "not drawn in the sample", "quota_full": "the survey had all the answers it wanted",
	"survey_inactive": "the survey was not running", "no_email": "no email address for an email survey",
	"unknown_customer": "no customer matches the identity", "case_reopened": "the case was reopened",
}

// say is a code in words: its own when it has some, else the code with
// spaces for underscores.
func say(code string) string {
	if w, ok := words[code]; ok {
		return w
	}
	return strings.ReplaceAll(code, "_", " ")
}

// breakable escapes s and marks where it may wrap: after each @ and /.
func breakable(s string) template.HTML {
	var b strings.Builder
	for _, r := range s {
		b.WriteString(template.HTMLEscapeString(string(r)))
		if r == '@' || r == '/' {
			b.WriteString("<wbr>")
		}
	}
	return template.HTML(b.String())
}

// mergeReason is how profile records why two profiles became one:
// "<type> <messageId> links <kind> <value> (<id>) with <kind> <value> (<id>)".
var mergeReason = regexp.MustCompile(`^(\w+) \S+ links (\w+) (.+) \(cus_\w+\) with (\w+) (.+) \(cus_\w+\)$`)

// mergeWords says a merge's reason in words ("an identify call named both
// user id u-1 and anonymous id a-9"), or gives the reason as recorded.
func mergeWords(reason string) string {
	m := mergeReason.FindStringSubmatch(reason)
	if m == nil {
		return reason
	}
	return fmt.Sprintf("%s %s call named both %s %s and %s %s", article(m[1]), m[1], say(m[2]), m[3], say(m[4]), m[5])
}

// article is "a" or "an" before a word.
func article(w string) string {
	if w != "" && strings.ContainsRune("aeiouAEIOU", rune(w[0])) {
		return "an"
	}
	return "a"
}
