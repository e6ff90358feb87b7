package survey

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
)

// WidgetJS is the cxloop widget: hand-written JavaScript, no framework.
//
//go:embed widget/cxloop.js
var WidgetJS []byte

// widgetGz is the widget compressed once, for browsers that accept gzip.
var widgetGz = func() []byte {
	var b bytes.Buffer
	z, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	_, _ = z.Write(WidgetJS)
	_ = z.Close()
	return b.Bytes()
}()

// WidgetGzipSize is the widget's size as browsers download it (gzip).
func WidgetGzipSize() int { return len(widgetGz) }

// Widget serves the /v1/web paths: the widget script and the calls it makes,
// authenticated by the site's write key like every /v1 path.
type Widget struct {
	svc    *Service
	auth   func(ctx context.Context, writeKey string) error
	cors   func(http.Handler) http.Handler
	logger *slog.Logger
}

// NewWidget returns the /v1/web handlers; auth checks a write key and cors
// wraps every route (the /v1 CORS policy: headers on every answer, errors
// included; the /v1 preflight and unknown paths are answered there too).
func NewWidget(svc *Service, auth func(ctx context.Context, writeKey string) error, cors func(http.Handler) http.Handler, logger *slog.Logger) *Widget {
	return &Widget{svc: svc, auth: auth, cors: cors, logger: logger}
}

// Register declares the /v1/web routes on mux.
func (wg *Widget) Register(mux *http.ServeMux) {
	mux.Handle("GET /v1/web/cxloop.js", wg.cors(http.HandlerFunc(wg.script)))
	mux.Handle("POST /v1/web/surveys", wg.cors(http.HandlerFunc(wg.surveys)))
	mux.Handle("POST /v1/web/show", wg.cors(http.HandlerFunc(wg.show)))
	mux.Handle("POST /v1/web/answer", wg.cors(http.HandlerFunc(wg.answer)))
	mux.Handle("POST /v1/web/dismiss", wg.cors(http.HandlerFunc(wg.dismiss)))
}

func (wg *Widget) script(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Add("Vary", "Accept-Encoding")
	body := WidgetJS
	if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		h.Set("Content-Encoding", "gzip")
		body = widgetGz
	}
	_, _ = w.Write(body)
}

// webRequest is the body of every widget call. The write key is in the
// body (sent as text/plain, a request browsers make without a preflight)
// or the basic-auth user name.
type webRequest struct {
	WriteKey  string         `json:"writeKey"`
	Visitor                  // userId, anonymousId
	Languages []string       `json:"languages"`
	URL       string         `json:"url"`
	SurveyID  string         `json:"surveyId"`
	Token     string         `json:"token"`
	Answers   map[string]any `json:"answers"`
	Language  string         `json:"language"`
}

// open reads and authenticates a widget call.
func (wg *Widget) open(r *http.Request) (webRequest, error) {
	var in webRequest
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
	if err != nil {
		return in, fault.Field("body", "body could not be read")
	}
	if len(body) > 64<<10 {
		return in, fault.New(fault.TooLarge, "a widget call is at most 64 KB")
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return in, fault.Field("body", "body is not a valid JSON object: %v", err)
	}
	key := in.WriteKey
	if u, _, ok := r.BasicAuth(); ok && u != "" {
		key = u
	}
	if key == "" {
		return in, &fault.Error{Code: fault.Unauthorized, Field: "writeKey", Message: "a write key is required: writeKey in the body or the basic-auth user name"}
	}
	if len(in.Languages) > 20 {
		in.Languages = in.Languages[:20]
	}
	return in, wg.auth(r.Context(), key)
}

func (wg *Widget) fail(w http.ResponseWriter, err error) { httpio.Error(w, wg.logger, err) }

// surveys answers POST /v1/web/surveys: the web surveys the visitor may see now.
func (wg *Widget) surveys(w http.ResponseWriter, r *http.Request) {
	in, err := wg.open(r)
	if err != nil {
		wg.fail(w, err)
		return
	}
	list, err := wg.svc.WebSurveys(r.Context(), in.Visitor, in.Languages)
	if err != nil {
		wg.fail(w, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpio.JSON(w, http.StatusOK, map[string]any{"surveys": list})
}

// show answers POST /v1/web/show: a trigger fired; may the survey show?
func (wg *Widget) show(w http.ResponseWriter, r *http.Request) {
	in, err := wg.open(r)
	if err != nil {
		wg.fail(w, err)
		return
	}
	if strings.TrimSpace(in.SurveyID) == "" {
		wg.fail(w, fault.Field("surveyId", "surveyId is required"))
		return
	}
	res, err := wg.svc.ShowWeb(r.Context(), in.SurveyID, in.Visitor, in.URL)
	if err != nil {
		wg.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, res)
}

// answer answers POST /v1/web/answer: the visitor's answers.
func (wg *Widget) answer(w http.ResponseWriter, r *http.Request) {
	in, err := wg.open(r)
	if err != nil {
		wg.fail(w, err)
		return
	}
	if in.Token == "" {
		wg.fail(w, fault.Field("token", "token is required: the one /v1/web/show returned"))
		return
	}
	thanks, err := wg.svc.AnswerWeb(r.Context(), in.Token, in.Answers, in.Language)
	if err != nil {
		wg.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusCreated, map[string]any{"answered": true, "thanks": thanks})
}

// dismiss answers POST /v1/web/dismiss: the visitor closed the survey.
func (wg *Widget) dismiss(w http.ResponseWriter, r *http.Request) {
	in, err := wg.open(r)
	if err != nil {
		wg.fail(w, err)
		return
	}
	if in.Token == "" {
		wg.fail(w, fault.Field("token", "token is required: the one /v1/web/show returned"))
		return
	}
	if err := wg.svc.DismissWeb(r.Context(), in.Token); err != nil {
		wg.fail(w, err)
		return
	}
	httpio.JSON(w, http.StatusOK, map[string]any{"dismissed": true})
}
