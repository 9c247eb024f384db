// Package override holds the rules that make the mock misbehave on purpose:
// "the next N calls to operation X (matching these conditions) answer
// status S with body B, after delay D, or drop the connection". It also
// parses the Prism-compatible Prefer header. Rendering an answer is the
// server's job; this package only stores, matches and counts.
package override

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/idpmock/idpmock/mock/jsonptr"
	"github.com/idpmock/idpmock/mock/problem"
)

// FaultDrop closes the connection without an answer.
const FaultDrop = "drop"

// Sources of a rule.
const (
	SourceAPI  = "api"  // created through the admin API or mocktest
	SourceFile = "file" // loaded from the overrides file
)

// Spec is what a user asks for; it has the JSON shape of the admin API's
// OverrideSpec.
type Spec struct {
	Operation string            `json:"operation"`
	Match     Match             `json:"match,omitzero"`
	Times     int               `json:"times,omitempty"` // 0: every call
	Status    int               `json:"status,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	Body      json.RawMessage   `json:"body,omitempty"` // nil: the spec's example or the vendor's error
	DelayMs   int               `json:"delayMs,omitempty"`
	Fault     string            `json:"fault,omitempty"`
}

// Match narrows a rule to some requests; all conditions must hold.
type Match struct {
	PathParams map[string]string `json:"pathParams,omitempty"`
	Headers    map[string]string `json:"headers,omitempty"`
	// Body maps a JSON pointer into the request body to the expected value.
	Body map[string]any `json:"body,omitempty"`
}

// Delay is the rule's delay as a duration.
func (s Spec) Delay() time.Duration { return time.Duration(s.DelayMs) * time.Millisecond }

// Check reports what is structurally wrong with s (the server checks the
// parts that need the vendor's spec).
func (s Spec) Check() []problem.Issue {
	var out []problem.Issue
	add := func(field, rule, format string, args ...any) {
		out = append(out, problem.Issue{In: "body", Field: field, Rule: rule, Message: fmt.Sprintf(format, args...)})
	}
	if s.Operation == "" {
		add("operation", "required", "operation is required")
	}
	if s.Status == 0 && s.DelayMs == 0 && s.Fault == "" {
		add("", "anyOf", "an override needs status, delayMs or fault")
	}
	if s.Status != 0 && (s.Status < 100 || s.Status > 599) {
		add("status", "maximum", "status %d is not an HTTP status", s.Status)
	}
	if s.Status != 0 && s.Status < 200 {
		add("status", "minimum", "status %d is informational (1xx): an override answers with a final status, 200 to 599", s.Status)
	}
	for name := range s.Headers {
		if framing[http.CanonicalHeaderKey(name)] {
			add("headers", "not", "header %s is set by the server from the answer itself: overriding it would break the HTTP framing", name)
		}
	}
	if s.Times < 0 {
		add("times", "minimum", "times must be at least 1 (leave it out for every call)")
	}
	if s.DelayMs < 0 || s.DelayMs > 600000 {
		add("delayMs", "maximum", "delayMs must be between 0 and 600000")
	}
	if s.Fault != "" && s.Fault != FaultDrop {
		add("fault", "enum", "fault %q is unknown (want %q)", s.Fault, FaultDrop)
	}
	if s.Fault != "" && (s.Status != 0 || len(s.Body) > 0) {
		add("fault", "not", "a dropped connection has no status or body")
	}
	if len(s.Body) > 0 && !json.Valid(s.Body) {
		add("body", "json", "body is not valid JSON")
	}
	for p := range s.Match.Body {
		if err := jsonptr.Check(p); err != nil {
			add("match.body", "format", "%v", err)
		}
	}
	return out
}

// framing are the headers that delimit an HTTP message or the connection:
// a value other than the server's own would corrupt the answer or the
// ones after it on the same connection.
var framing = map[string]bool{
	"Content-Length": true, "Transfer-Encoding": true, "Connection": true, "Keep-Alive": true,
	"Upgrade": true, "Trailer": true, "Te": true, "Proxy-Connection": true, "Host": true,
}

// Rule is a stored Spec with its bookkeeping.
type Rule struct {
	Spec
	ID        string    `json:"id"`
	Source    string    `json:"source"`
	Hits      int       `json:"hits"`
	Remaining int       `json:"-"` // -1: unlimited
	CreatedAt time.Time `json:"createdAt"`
}

// Request is what a rule is matched against.
type Request struct {
	Operation  string
	PathParams map[string]string // unescaped
	Header     http.Header
	Body       func() any // decoded JSON body, called at most once
}

// Set is the live set of rules, safe for concurrent use.
type Set struct {
	mu    sync.Mutex
	rules []*Rule // oldest first; the newest match wins
	seq   int

	shared *shared // nil: the rules above (this process's own)
}

// NewSet returns an empty set.
func NewSet() *Set { return &Set{} }

// Add stores spec and returns the rule; spec must have been checked.
func (s *Set) Add(spec Spec, source string, now time.Time) Rule {
	if s.shared != nil {
		r, _ := s.AddContext(context.Background(), spec, source, now)
		return r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.add(spec, source, now)
}

func (s *Set) add(spec Spec, source string, now time.Time) *Rule {
	s.seq++
	r := &Rule{Spec: spec, ID: fmt.Sprintf("ov%d", s.seq), Source: source, Remaining: -1, CreatedAt: now.UTC()}
	if spec.Times > 0 {
		r.Remaining = spec.Times
	}
	s.rules = append(s.rules, r)
	return r
}

// ReplaceSource swaps every rule of one source for specs, e.g. when the
// overrides file changes; counters of the old rules are lost.
func (s *Set) ReplaceSource(source string, specs []Spec, now time.Time) {
	if s.shared != nil {
		_ = s.ReplaceSourceContext(context.Background(), source, specs, now)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = slices.DeleteFunc(s.rules, func(r *Rule) bool { return r.Source == source })
	for _, sp := range specs {
		s.add(sp, source, now)
	}
}

// List returns every rule, newest first.
func (s *Set) List() []Rule {
	if s.shared != nil {
		rs, _ := s.ListContext(context.Background())
		return rs
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Rule, 0, len(s.rules))
	for i := len(s.rules) - 1; i >= 0; i-- {
		out = append(out, *s.rules[i])
	}
	return out
}

// Get returns the rule with that id.
func (s *Set) Get(id string) (Rule, bool) {
	if s.shared != nil {
		r, ok, _ := s.GetContext(context.Background(), id)
		return r, ok
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rules {
		if r.ID == id {
			return *r, true
		}
	}
	return Rule{}, false
}

// Delete removes the rule with that id.
func (s *Set) Delete(id string) bool {
	if s.shared != nil {
		ok, _ := s.DeleteContext(context.Background(), id)
		return ok
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := len(s.rules)
	s.rules = slices.DeleteFunc(s.rules, func(r *Rule) bool { return r.ID == id })
	return len(s.rules) < n
}

// Clear removes every rule.
func (s *Set) Clear() {
	if s.shared != nil {
		_ = s.ClearContext(context.Background())
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
}

// Take finds the newest live rule matching req, counts the hit and returns
// the rule as it was before the hit. A shared set reads its rules afresh:
// the server calls TakeContext with the version it read.
func (s *Set) Take(req Request) (Rule, bool) {
	if sh := s.shared; sh != nil {
		r, ok, _ := s.TakeContext(context.Background(), -1, req)
		return r, ok
	}
	bodyOnce := req.lazyBody()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := len(s.rules) - 1; i >= 0; i-- {
		r := s.rules[i]
		if r.Operation != req.Operation || r.Remaining == 0 || !r.matches(req, bodyOnce) {
			continue
		}
		taken := *r
		r.Hits++
		if r.Remaining > 0 {
			r.Remaining--
		}
		return taken, true
	}
	return Rule{}, false
}

func (r *Rule) matches(req Request, body func() any) bool {
	for k, v := range r.Match.PathParams {
		if req.PathParams[k] != v {
			return false
		}
	}
	for k, v := range r.Match.Headers {
		if req.Header.Get(k) != v {
			return false
		}
	}
	if len(r.Match.Body) > 0 {
		doc := body()
		for p, want := range r.Match.Body {
			got, ok := jsonptr.Get(doc, p)
			if !ok || !jsonptr.Equal(got, want) {
				return false
			}
		}
	}
	return true
}

// lazyBody decodes the request body at most once, and only if a rule
// matching on it is reached.
func (req Request) lazyBody() func() any {
	var body any
	decoded := false
	return func() any {
		if !decoded && req.Body != nil {
			body, decoded = req.Body(), true
		}
		return body
	}
}
