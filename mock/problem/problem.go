// Package problem describes, without any vendor's vocabulary, why a request
// failed in the generic layers (routing, validation, limits). Each vendor
// package renders a Problem in its own error format.
package problem

import (
	"fmt"
	"net/http"
	"strings"
)

// Kind is the class of failure; it decides the HTTP status.
type Kind string

const (
	Invalid              Kind = "invalid"                // malformed JSON, schema or parameter violation
	Unauthenticated      Kind = "unauthenticated"        // missing or malformed bearer token
	Forbidden            Kind = "forbidden"              // authenticated but not allowed
	NotFound             Kind = "not_found"              // no route or no resource
	MethodNotAllowed     Kind = "method_not_allowed"     // known path, wrong method
	UnsupportedMediaType Kind = "unsupported_media_type" // Content-Type the operation does not declare
	TooLarge             Kind = "too_large"              // body over the configured limit
	TooManyRequests      Kind = "too_many_requests"      // a limit such as the session cap
	Unavailable          Kind = "unavailable"            // shutting down
	Internal             Kind = "internal"               // our own bug, e.g. a strict-mode response violation
)

var statuses = map[Kind]int{
	Invalid:              http.StatusBadRequest,
	Unauthenticated:      http.StatusUnauthorized,
	Forbidden:            http.StatusForbidden,
	NotFound:             http.StatusNotFound,
	MethodNotAllowed:     http.StatusMethodNotAllowed,
	UnsupportedMediaType: http.StatusUnsupportedMediaType,
	TooLarge:             http.StatusRequestEntityTooLarge,
	TooManyRequests:      http.StatusTooManyRequests,
	Unavailable:          http.StatusServiceUnavailable,
	Internal:             http.StatusInternalServerError,
}

// Issue is one field-level finding.
type Issue struct {
	// In is where the field lives: body, path, query, header or cookie.
	In string `json:"in"`
	// Field is a dotted body path ("lastSignOn.remoteIp"), or the parameter
	// name for parameters; empty when the finding is about the whole body.
	Field string `json:"field,omitempty"`
	// Rule is the schema keyword that failed: required, type, format, enum,
	// pattern, minimum, maximum, minLength, maxLength, oneOf, json, ...
	Rule string `json:"rule,omitempty"`
	// Message is English text for humans.
	Message string `json:"message"`
}

// Problem is a failure found outside a vendor's handlers.
type Problem struct {
	Kind    Kind
	Message string
	Issues  []Issue
	Err     error
}

// New makes a Problem with a formatted message.
func New(kind Kind, format string, args ...any) *Problem {
	return &Problem{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// Status is the HTTP status for the problem's kind.
func (p *Problem) Status() int {
	if s, ok := statuses[p.Kind]; ok {
		return s
	}
	return http.StatusInternalServerError
}

func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(string(p.Kind))
	if p.Message != "" {
		b.WriteString(": ")
		b.WriteString(p.Message)
	}
	for _, is := range p.Issues {
		fmt.Fprintf(&b, "; %s %s: %s", is.In, is.Field, is.Message)
	}
	return b.String()
}

func (p *Problem) Unwrap() error { return p.Err }

// FirstField returns the first issue's field, or "" if none names one.
func (p *Problem) FirstField() string {
	for _, is := range p.Issues {
		if is.Field != "" {
			return is.Field
		}
	}
	return ""
}
