package audit

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// Buffer holds a handler's response until the trail has its entry, so that
// no client learns of a change before the change is recorded.
type Buffer struct {
	w      http.ResponseWriter
	status int
	body   bytes.Buffer
}

// NewBuffer returns a response writer that holds what is written to it
// until Send.
func NewBuffer(w http.ResponseWriter) *Buffer { return &Buffer{w: w} }

// Header is the response's header, sent with Send.
func (b *Buffer) Header() http.Header { return b.w.Header() }

// WriteHeader keeps the first status.
func (b *Buffer) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// Status is the status the handler answered (200 when it wrote nothing).
func (b *Buffer) Status() int {
	if b.status == 0 {
		return http.StatusOK
	}
	return b.status
}

// Body is what the handler wrote.
func (b *Buffer) Body() []byte { return b.body.Bytes() }

// Send writes the held response.
func (b *Buffer) Send() {
	b.w.WriteHeader(b.Status())
	_, _ = b.body.WriteTo(b.w)
}

// Succeeded reports whether a status says the request did what it asked
// (2xx, or a 3xx redirect after a form).
func Succeeded(status int) bool { return status >= 200 && status < 400 }

// ResponseID is the top-level "id" of a JSON response ("" when none).
func ResponseID(body []byte) string {
	var v struct {
		ID json.RawMessage `json:"id"`
	}
	if json.Unmarshal(body, &v) != nil || len(v.ID) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(v.ID, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(v.ID, &n) == nil {
		if _, err := strconv.ParseFloat(string(n), 64); err == nil {
			return string(n)
		}
	}
	return ""
}
