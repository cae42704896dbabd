package fielderr

import (
	"fmt"
	"strings"
)

// Error is one problem of one field. Reason may name other fields of the
// same Config (as whole words, e.g. "set AllowInsecureHTTP=true"): a
// rename replaces those too, and leaves Value and Err as they are.
type Error struct {
	// Field is the Go name of the field, e.g. "Prefetch".
	Field string
	// Value is the value as shown ("" shows none): quoted for strings,
	// never a secret.
	Value string
	// Reason says what is wrong and the fix.
	Reason string
	// Err is the cause, if any, printed after Reason.
	Err error
}

// New reports field without its value: "Field reason", e.g.
// New("Token", "is empty: set the token given by Energisme").
func New(field, reason string, args ...any) *Error {
	return &Error{Field: field, Reason: sprintf(reason, args)}
}

// Bad reports field with its value: "Field=value: reason". A string value
// is quoted, anything else printed with %v.
func Bad(field string, value any, reason string, args ...any) *Error {
	return &Error{Field: field, Value: show(value), Reason: sprintf(reason, args)}
}

// Wrap reports field with its value and the error it caused:
// "Field=value: err".
func Wrap(field string, value any, err error) *Error {
	return &Error{Field: field, Value: show(value), Err: err}
}

func show(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

func sprintf(format string, args []any) string {
	if len(args) == 0 {
		return format
	}
	return fmt.Sprintf(format, args...)
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Field)
	sep := " "
	if e.Value != "" {
		b.WriteString("=")
		b.WriteString(e.Value)
		sep = ": "
	}
	if e.Reason != "" {
		b.WriteString(sep)
		b.WriteString(e.Reason)
		sep = ": "
	}
	if e.Err != nil {
		if sep == " " {
			sep = ": "
		}
		b.WriteString(sep)
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }
