package ingest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cxloop/cxloop/internal/audit"
	"github.com/cxloop/cxloop/internal/eventlog"
	"github.com/cxloop/cxloop/internal/fault"
	"github.com/cxloop/cxloop/internal/httpio"
	"github.com/cxloop/cxloop/internal/privacy"
	"github.com/cxloop/cxloop/internal/store"
)

// Handler serves the Segment-compatible /v1 API.
type Handler struct {
	db       *store.DB
	log      *eventlog.Log
	sources  *Sources
	logger   *slog.Logger
	now      func() time.Time
	messages *prometheus.CounterVec
	refused  *prometheus.CounterVec
	metrics  prometheus.Counter
	lastLog  sync.Map // reason → the unix second a refusal was last logged
	web      *Web
	checks   checks
	privacy  *privacy.Service
	trail    *audit.Service
	pressure *eventlog.Pressure
}

// SetPressure makes ingestion wait while the consumers are further behind
// than the pressure's bound: 429 with Retry-After, which the Segment
// libraries honour by sending again later.
func (h *Handler) SetPressure(p *eventlog.Pressure) { h.pressure = p }

// RetryAfterBusy is the Retry-After (seconds) of a message refused while
// the consumers catch up.
const RetryAfterBusy = 5

// busy refuses the request while the consumers are past the lag bound.
func (h *Handler) busy(w http.ResponseWriter, r *http.Request) bool {
	if h.pressure == nil {
		return false
	}
	worst, over := h.pressure.Over()
	if !over {
		return false
	}
	w.Header().Set("Retry-After", strconv.Itoa(RetryAfterBusy))
	h.reject(w, r, fault.New(fault.TooMany, "cxloop is catching up: the %s consumer is %d events behind (the bound is %d); send again in %d s",
		worst.Consumer, worst.Events, h.pressure.Bound(), RetryAfterBusy))
	return true
}

// NewHandler returns the /v1 handler. now is the clock that stamps an
// event's arrival (receivedAt); nil is time.Now.
func NewHandler(db *store.DB, l *eventlog.Log, sources *Sources, now func() time.Time, logger *slog.Logger) *Handler {
	if now == nil {
		now = time.Now
	}
	return &Handler{db: db, log: l, sources: sources, logger: logger, now: now,
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cxloop_ingest_messages_total",
			Help: "Messages received on /v1 by result: accepted, quarantined, suppressed (an erased customer's, dropped), erased (a delete message carried out), or refused (the whole request)."}, []string{"result"}),
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "cxloop_ingest_requests_refused_total",
			Help: "Requests on /v1 refused as a whole, by reason: unauthorized (401), forbidden (403: a paused source), invalid (400), too_large (413)."}, []string{"reason"}),
		metrics: prometheus.NewCounter(prometheus.CounterOpts{Name: "cxloop_ingest_library_metrics_total",
			Help: "Reports of browser libraries' own metrics received on /v1/m (counted, not stored)."})}
}

// Collectors are the ingestion surface's metrics.
func (h *Handler) Collectors() []prometheus.Collector {
	return []prometheus.Collector{h.messages, h.refused, h.metrics}
}

// reject answers a request refused as a whole (a bad key, a body that is
// not JSON, one too large): it is counted by reason, and logged at most
// once a second per reason, so that a flood of them leaves a trace without
// flooding the log.
func (h *Handler) reject(w http.ResponseWriter, r *http.Request, err error) {
	reason := fault.Code(err)
	h.refused.WithLabelValues(reason).Inc()
	h.messages.WithLabelValues("refused").Inc()
	now := time.Now().Unix()
	if last, ok := h.lastLog.Load(reason); !ok || last.(int64) < now {
		h.lastLog.Store(reason, now)
		h.logger.Info("ingest refused a request", "reason", reason, "path", r.URL.Path, "remote", r.RemoteAddr, "err", err.Error())
	}
	httpio.Error(w, h.logger, err)
}

func (h *Handler) single(typ string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		src, body, m, err := h.open(r)
		if err != nil {
			h.reject(w, r, err)
			return
		}
		if h.busy(w, r) {
			return
		}
		if len(body) > MaxMessageBytes {
			h.reject(w, r, fault.New(fault.TooLarge, "a message may be at most 32 KB; this one is %d bytes", len(body)))
			return
		}
		rq := h.request(r, src)
		rq.typ = typ
		e, err := rq.normalize(typ, m)
		if err != nil {
			h.refuse(w, r, rq, body, err)
			return
		}
		if h.suppressed(&e) {
			h.messages.WithLabelValues("suppressed").Inc()
			httpio.JSON(w, http.StatusOK, map[string]any{"success": true})
			return
		}
		if err := h.log.Append(r.Context(), []eventlog.Event{e}); err != nil {
			httpio.Error(w, h.logger, err)
			return
		}
		h.messages.WithLabelValues("accepted").Inc()
		httpio.JSON(w, http.StatusOK, map[string]any{"success": true})
	})
}

// refuse keeps a refused single message in the quarantine and answers 4xx.
func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, rq *request, body []byte, cause error) {
	var fe *fault.Error
	if !errors.As(cause, &fe) {
		httpio.Error(w, h.logger, cause)
		return
	}
	err := quarantine(r.Context(), h.db, []Refused{{SourceID: rq.source.ID, ReceivedAt: rq.received.UnixMilli(), Field: fe.Field, Reason: fe.Message, Message: typed(body, rq.typ)}})
	if err != nil {
		httpio.Error(w, h.logger, err)
		return
	}
	h.messages.WithLabelValues("quarantined").Inc()
	httpio.Error(w, h.logger, cause)
}

// BatchItemError says why one message of a batch was quarantined.
type BatchItemError struct {
	Index   int    `json:"index"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

func (h *Handler) batch(w http.ResponseWriter, r *http.Request) {
	src, _, top, err := h.open(r)
	if err != nil {
		h.reject(w, r, err)
		return
	}
	if h.busy(w, r) {
		return
	}
	raw, ok := top["batch"]
	// Decode the items in one pass; only a batch holding something other
	// than objects needs the slower item-by-item pass.
	var objects []map[string]json.RawMessage
	var items []json.RawMessage
	if ok {
		objects, _ = splitObjects(raw)
	}
	if objects != nil {
		items = make([]json.RawMessage, len(objects))
	} else if !ok || json.Unmarshal(raw, &items) != nil || items == nil {
		h.reject(w, r, fault.Field("batch", "batch is required: an array of messages"))
		return
	}
	var shared map[string]json.RawMessage
	if raw, ok := top["context"]; ok && !isNull(raw) {
		if shared, ok = splitObject(raw); !ok || shared == nil {
			h.reject(w, r, fault.Field("context", "context must be an object"))
			return
		}
	}
	rq := h.request(r, src)
	rq.sentAt, rq.context = top["sentAt"], shared
	events := make([]eventlog.Event, 0, len(items))
	var refused []Refused
	var itemErrs []BatchItemError
	var erase []string // userIds of delete messages
	suppressed := 0
	for i, raw := range items {
		var e eventlog.Event
		var err error
		if objects != nil {
			var user string
			if e, user, err = h.accept(rq, objects[i]); err != nil {
				raw, _ = json.Marshal(objects[i])
			} else if user != "" {
				erase = append(erase, user)
				continue
			}
		} else {
			e, err = rq.item(raw)
		}
		if err != nil {
			var fe *fault.Error
			if !errors.As(err, &fe) {
				httpio.Error(w, h.logger, err)
				return
			}
			refused = append(refused, Refused{SourceID: src.ID, ReceivedAt: rq.received.UnixMilli(), Field: itemField(i, fe.Field), Reason: fe.Message, Message: raw})
			itemErrs = append(itemErrs, BatchItemError{Index: i, Field: fe.Field, Message: fe.Message})
			continue
		}
		if h.suppressed(&e) {
			suppressed++
			continue
		}
		events = append(events, e)
	}
	if err := quarantine(r.Context(), h.db, refused); err != nil {
		httpio.Error(w, h.logger, err)
		return
	}
	if err := h.log.Append(r.Context(), events); err != nil {
		httpio.Error(w, h.logger, err)
		return
	}
	h.messages.WithLabelValues("accepted").Add(float64(len(events)))
	h.messages.WithLabelValues("quarantined").Add(float64(len(refused)))
	h.messages.WithLabelValues("suppressed").Add(float64(suppressed))
	if len(erase) > 0 {
		if err := h.erase(r.Context(), r, src.ID, erase); err != nil {
			httpio.Error(w, h.logger, err)
			return
		}
	}
	resp := map[string]any{"success": true}
	if len(refused) > 0 {
		resp["accepted"] = len(events)
		resp["quarantined"] = len(refused)
		resp["errors"] = itemErrs
	}
	httpio.JSON(w, http.StatusOK, resp)
}

// accept validates one message decoded as an object, as a batch item: a
// Segment delete gives the userId to erase (when the handler carries out
// erasures), any other message its event. The quarantine's replay takes the
// same path.
func (h *Handler) accept(rq *request, m map[string]json.RawMessage) (e eventlog.Event, erase string, err error) {
	if isDelete(m) && h.privacy != nil {
		erase, err = rq.deleteOf(m)
		return e, erase, err
	}
	e, err = rq.object(m)
	return e, "", err
}

// object normalises a batch item decoded as an object.
func (rq *request) object(m map[string]json.RawMessage) (eventlog.Event, error) {
	if m == nil {
		return eventlog.Event{}, fault.Field("type", "each batch item must be a message object")
	}
	size := 2
	for k, v := range m {
		size += len(k) + len(v) + 4
	}
	if size > MaxMessageBytes {
		return eventlog.Event{}, &fault.Error{Code: fault.TooLarge, Message: fmt.Sprintf("a message may be at most 32 KB; this one is about %d bytes", size)}
	}
	return rq.normalize("", m)
}

func (rq *request) item(raw json.RawMessage) (eventlog.Event, error) {
	if len(raw) > MaxMessageBytes {
		return eventlog.Event{}, &fault.Error{Code: fault.TooLarge, Message: fmt.Sprintf("a message may be at most 32 KB; this one is %d bytes", len(raw))}
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return eventlog.Event{}, fault.Field("type", "each batch item must be a message object")
	}
	return rq.normalize("", m)
}

func (h *Handler) request(r *http.Request, src Source) *request {
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	return &request{source: src, received: h.now(), ip: ip, ctx: r.Context(), checks: &h.checks}
}

// open authenticates a request and decodes its body as a JSON object. A
// write key in the Authorization header is checked before the body is read.
func (h *Handler) open(r *http.Request) (Source, []byte, map[string]json.RawMessage, error) {
	src, keyed, err := h.headerKey(r)
	if err != nil {
		return src, nil, nil, err
	}
	if keyed {
		httpio.Authenticated(r.Context())
	}
	body, err := readBody(r)
	if err != nil {
		return src, nil, nil, err
	}
	var m map[string]json.RawMessage
	if err := decodeObject(body, &m); err != nil {
		return src, nil, nil, err
	}
	if !keyed {
		if src, err = h.bodyKey(r, m["writeKey"]); err == nil {
			httpio.Authenticated(r.Context())
		}
	}
	return src, body, m, err
}

// headerKey authenticates by basic auth (write key as user name). keyed is
// false when the request carries no such header and the key must be in the body.
func (h *Handler) headerKey(r *http.Request) (Source, bool, error) {
	key, _, ok := r.BasicAuth()
	if !ok || key == "" {
		if r.Header.Get("Authorization") != "" {
			// A credential is checked before the body is read, so one
			// that is not a write key is refused without reading it.
			return Source{}, false, fault.New(fault.Unauthorized, "send the write key as the basic-auth user name with an empty password, or only as writeKey in the body")
		}
		return Source{}, false, nil
	}
	src, err := h.sources.ByKey(r.Context(), key)
	return src, true, err
}

func (h *Handler) bodyKey(r *http.Request, raw json.RawMessage) (Source, error) {
	var key string
	if raw != nil {
		_ = json.Unmarshal(raw, &key)
	}
	if key == "" {
		return Source{}, fault.New(fault.Unauthorized, "a write key is required: send it as the basic-auth user name or as writeKey in the body")
	}
	return h.sources.ByKey(r.Context(), key)
}

// readBody reads at most MaxRequestBytes, decompressing gzip on the way, so
// that a compressed bomb is refused after 500 KB instead of expanded.
func readBody(r *http.Request) ([]byte, error) {
	var rd io.Reader = http.MaxBytesReader(nil, r.Body, MaxRequestBytes+1)
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(rd)
		if err != nil {
			return nil, tooLargeOr(err, fault.Field("Content-Encoding", "body is not valid gzip"))
		}
		defer zr.Close()
		rd = zr
	default:
		return nil, fault.Field("Content-Encoding", "content encoding %q is not supported; send gzip or none", enc)
	}
	b, err := readAll(io.LimitReader(rd, MaxRequestBytes+1), r.ContentLength)
	if err != nil {
		return nil, tooLargeOr(err, fault.Field("body", "body could not be read: %v", err))
	}
	if len(b) > MaxRequestBytes {
		return nil, fault.New(fault.TooLarge, "a request may be at most 500 KB")
	}
	if !utf8.Valid(b) {
		return nil, fault.Field("body", "body is not valid UTF-8")
	}
	return b, nil
}

// readAll reads r to its end into a buffer sized from the request's
// Content-Length (io.ReadAll would grow its buffer in steps, copying a 40 KB
// batch several times over); a compressed body's length is only a start.
func readAll(r io.Reader, length int64) ([]byte, error) {
	var buf bytes.Buffer
	if length > 0 && length <= MaxRequestBytes {
		buf.Grow(int(length) + bytes.MinRead) // ReadFrom keeps MinRead free
	}
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

func tooLargeOr(err error, other error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fault.New(fault.TooLarge, "a request may be at most 500 KB")
	}
	return other
}

func decodeObject(body []byte, v *map[string]json.RawMessage) error {
	if m, ok := splitObject(body); ok && m != nil {
		*v = m
		return nil
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fault.Field("body", "body is not valid JSON: %v", err)
	}
	if *v == nil || bytes.TrimSpace(body)[0] != '{' {
		return fault.Field("body", "body must be a JSON object")
	}
	return nil
}

func itemField(i int, field string) string {
	if field == "" {
		return fmt.Sprintf("batch[%d]", i)
	}
	return fmt.Sprintf("batch[%d].%s", i, field)
}
