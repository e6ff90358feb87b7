// Package fault is cxloop's one error type: a code, a message and the field
// at fault. Every package returns these for failures a caller can act on;
// httpio.Error turns any error into the JSON error body and HTTP status.
//
// It imports nothing from cxloop.
package fault

import (
	"errors"
	"fmt"
	"net/http"
)

// Codes a caller can act on.
const (
	Invalid      = "invalid"
	NotFound     = "not_found"
	Conflict     = "conflict"
	Forbidden    = "forbidden"
	Unauthorized = "unauthorized"
	TooLarge     = "too_large"
	TooMany      = "too_many_requests"
	Internal     = "internal"
)

// Error is a failure with a code, a human message and, for bad input, the field.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return e.Code + ": " + e.Message
}

// New returns an error with the code and a formatted message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Field returns an invalid-input error naming the field.
func Field(field, format string, args ...any) *Error {
	return &Error{Code: Invalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Code returns the code of err, or Internal when err is not a *Error.
func Code(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Status maps a code to its HTTP status.
func Status(code string) int {
	switch code {
	case Invalid:
		return http.StatusBadRequest
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case Forbidden:
		return http.StatusForbidden
	case Unauthorized:
		return http.StatusUnauthorized
	case TooLarge:
		return http.StatusRequestEntityTooLarge
	case TooMany:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// FieldOf returns the field err names ("" when none).
func FieldOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

// MessageOf returns err's message without its code.
func MessageOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return err.Error()
}
