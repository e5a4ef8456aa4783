// Package mend holds what every other package shares: the caller's Scope,
// roles, and the typed errors that the web layer maps to HTTP statuses in one
// place. It imports nothing from Mend and nothing from HTTP.
package mend

import (
	"errors"
	"fmt"
)

// Error codes. A store returns ENOTFOUND for anything outside the caller's
// scope, so that a URL with someone else's id cannot confirm that it exists.
const (
	ECONFLICT     = "conflict"     // the action clashes with the current state
	EFORBIDDEN    = "forbidden"    // the caller may see the object but not do this
	EINTERNAL     = "internal"     // a bug or an unavailable dependency
	EINVALID      = "invalid"      // bad input; Fields says where
	ENOTFOUND     = "not_found"    // missing or outside the caller's scope
	EUNAUTHORIZED = "unauthorized" // not logged in, or the login failed
	ETHROTTLED    = "throttled"    // too many attempts; try again later
)

// Error is a domain error: a code for the program, a message for the person,
// and for EINVALID the message that belongs next to each form field.
type Error struct {
	Code    string
	Message string
	Fields  map[string]string
}

func (e *Error) Error() string {
	if len(e.Fields) > 0 {
		return fmt.Sprintf("mend error: code=%s message=%s fields=%v", e.Code, e.Message, e.Fields)
	}
	return fmt.Sprintf("mend error: code=%s message=%s", e.Code, e.Message)
}

// Errorf returns a domain error with the given code and message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound is the error for a missing or out-of-scope object.
func NotFound(what string) *Error {
	return &Error{Code: ENOTFOUND, Message: what + " not found."}
}

// ErrorCode returns the code of a domain error, or EINTERNAL for any other
// error (and "" for nil).
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the person-facing message of a domain error; other
// errors never leak their text.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Something went wrong on our side. Please try again."
}

// FieldErrors collects per-field validation messages in the order checks run.
// The zero value is ready to use.
type FieldErrors map[string]string

// Add records msg for field unless the field already has a message: the first
// problem found is the one the person sees.
func (f *FieldErrors) Add(field, msg string) {
	if *f == nil {
		*f = FieldErrors{}
	}
	if _, ok := (*f)[field]; !ok {
		(*f)[field] = msg
	}
}

// Err returns an EINVALID error carrying the fields, or nil if there are none.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "Please correct the highlighted fields.", Fields: f}
}

// Fields returns the per-field messages of an EINVALID error, if any.
func Fields(err error) map[string]string {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
