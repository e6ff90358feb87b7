// Package httpio holds what every JSON handler shares: writing values and
// errors, decoding bodies, reading paging parameters, streaming a list as
// CSV (csv.go) and capping each address's unauthenticated requests
// (peers.go).
//
// It imports only fault and store.
package httpio

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cxloop/cxloop/internal/fault"
)

// Error sends err as {"error": {...}} with its status. Only internal
// failures are logged, and their details never reach the client.
func Error(w http.ResponseWriter, log *slog.Logger, err error) {
	var e *fault.Error
	if !errors.As(err, &e) {
		if log != nil {
			log.Error("internal error", "err", err)
		}
		e = &fault.Error{Code: fault.Internal, Message: "internal error"}
	}
	switch e.Code {
	case fault.Unauthorized, fault.TooMany, fault.TooLarge:
		// Refused before (or instead of) reading the body: close the
		// connection rather than read what is left of it first, so that
		// a slow or endless body cannot hold the answer back.
		w.Header().Set("Connection", "close")
	}
	JSON(w, fault.Status(e.Code), map[string]any{"error": e})
}

// JSON writes v as a JSON response with the status.
func JSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// Decode reads a JSON request body of at most 1 MB into v, strictly (see
// DecodeJSON): an unknown key or a wrong value is an error naming its field.
func Decode(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return fault.Field("body", "the body could not be read: %v", err)
	}
	return DecodeJSON(b, v)
}

// Int reads an optional non-negative integer query parameter.
func Int(r *http.Request, name string, def int64) (int64, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fault.Field(name, "%s must be a non-negative integer", name)
	}
	return n, nil
}

// Bool reads an optional boolean query parameter (false when absent).
func Bool(r *http.Request, name string) (bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, fault.Field(name, "%s must be true or false", name)
	}
	return b, nil
}

// ParseTime reads a time as the API and imports take it: RFC 3339, a
// date and time without a zone (UTC, as an HTML datetime-local field sends
// it) or a date (midnight UTC).
func ParseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time: %q", s)
}

// Time reads an optional time query parameter (the zero time when absent).
func Time(r *http.Request, name string) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := ParseTime(v)
	if err != nil {
		return time.Time{}, fault.Field(name, "%s is a date (2026-01-31) or an RFC 3339 time", name)
	}
	return t, nil
}

// Span reads a report's ?from= and ?to= (dates or RFC 3339 times, to
// excluded; either may be absent).
func Span(r *http.Request) (from, to time.Time, err error) {
	if from, err = Time(r, "from"); err != nil {
		return
	}
	if to, err = Time(r, "to"); err != nil {
		return
	}
	if !from.IsZero() && !to.IsZero() && !from.Before(to) {
		err = fault.Field("to", "to must be after from")
	}
	return
}

// Page reads limit (default def, at most max) and offset.
func Page(r *http.Request, def, max int) (limit, offset int, err error) {
	l, err := Int(r, "limit", int64(def))
	if err != nil {
		return 0, 0, err
	}
	if l == 0 || l > int64(max) {
		return 0, 0, fault.Field("limit", "limit must be between 1 and %d", max)
	}
	o, err := Int(r, "offset", 0)
	if err != nil {
		return 0, 0, err
	}
	return int(l), int(o), nil
}

// kind names a Go kind the way JSON writers think of it.
func kind(k string) string {
	switch k {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "slice", "array":
		return "array"
	case "map", "struct":
		return "object"
	}
	return "number"
}

// Answer writes what fn returns as JSON with status, or its error; sync,
// when not nil, first waits briefly for the log's latest events to be read.
func Answer(w http.ResponseWriter, r *http.Request, log *slog.Logger, sync func(*http.Request), status int, fn func() (any, error)) {
	if sync != nil {
		sync(r)
	}
	out, err := fn()
	if err != nil {
		Error(w, log, err)
		return
	}
	JSON(w, status, out)
}
