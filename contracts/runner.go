package contracts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/idpmock/idpmock/mock/conform"
	"github.com/idpmock/idpmock/mock/jsonptr"
)

// Target is where scenarios run: the in-process mock, a running idpmock
// (container), or a real vendor.
type Target struct {
	Name   string
	Client *http.Client
	// Vars are the target variables per vendor (see targetVarNames).
	Vars map[string]map[string]string
	// Real marks a real vendor: mock-only scenarios are skipped, and
	// differences are drift rather than failures (see DriftMode).
	Real bool
	// Checker validates every request and response against the specs.
	Checker *conform.Checker
}

// StepResult is what one step did.
type StepResult struct {
	Step      string
	Method    string
	URL       string
	Operation string
	Status    int
	Header    http.Header
	Body      any // decoded JSON; nil when empty or not JSON
	RawBody   []byte
	// Failures are unmet expectations; Violations are spec violations of
	// the response (and of the request, for steps expecting success).
	Failures   []string
	Violations []string
	Err        error
}

// OK reports whether the step met every expectation and the spec.
func (s StepResult) OK() bool { return s.Err == nil && len(s.Failures) == 0 && len(s.Violations) == 0 }

// Result is one scenario run.
type Result struct {
	Scenario *Scenario
	Target   string
	Steps    []StepResult
	Skipped  string
	Duration time.Duration
}

// Failed reports whether any step failed.
func (r Result) Failed() bool {
	for _, s := range r.Steps {
		if !s.OK() {
			return true
		}
	}
	return false
}

// Report is a readable account of the failures, one line per finding,
// with the response body of each failed step.
func (r Result) Report() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s) against %s:\n", r.Scenario.Name, r.Scenario.File, r.Target)
	for i, s := range r.Steps {
		if s.OK() {
			fmt.Fprintf(&b, "  ok   step %d %q: %s %s → %d\n", i+1, s.Step, s.Method, s.URL, s.Status)
			continue
		}
		fmt.Fprintf(&b, "  FAIL step %d %q: %s %s → %d", i+1, s.Step, s.Method, s.URL, s.Status)
		if s.Operation != "" {
			fmt.Fprintf(&b, " (%s)", s.Operation)
		}
		b.WriteString("\n")
		if s.Err != nil {
			fmt.Fprintf(&b, "       error: %v\n", s.Err)
		}
		for _, f := range s.Failures {
			fmt.Fprintf(&b, "       expectation: %s\n", f)
		}
		for _, v := range s.Violations {
			fmt.Fprintf(&b, "       spec: %s\n", v)
		}
		if h := s.Header.Get(conform.HeaderViolations); h != "" {
			fmt.Fprintf(&b, "       %s: %s\n", conform.HeaderViolations, h)
		}
		if len(s.RawBody) > 0 {
			body := s.RawBody
			if len(body) > 2000 {
				body = append(body[:2000:2000], "..."...)
			}
			fmt.Fprintf(&b, "       body: %s\n", body)
		}
	}
	return b.String()
}

// Run executes sc against t. It stops early only when a step cannot be
// sent or a capture fails, since later steps would then be meaningless.
func Run(ctx context.Context, t Target, sc *Scenario) Result {
	start := time.Now()
	res := Result{Scenario: sc, Target: t.Name}
	defer func() { res.Duration = time.Since(start) }()
	if t.Real && sc.MockOnly != "" {
		res.Skipped = "mock only: " + sc.MockOnly
		return res
	}
	v := vars{}
	for k, val := range t.Vars[sc.Vendor] {
		v[k] = val
	}
	for _, k := range sortedKeys(sc.Vars) {
		val, err := v.expand(sc.Vars[k], nil)
		if err != nil {
			res.Steps = append(res.Steps, StepResult{Step: "vars", Err: fmt.Errorf("/vars/%s: %w", k, err)})
			return res
		}
		v[k] = val
	}
	client := t.Client
	if client == nil {
		client = http.DefaultClient
	}
	for _, st := range sc.Steps {
		sr, ok := runStep(ctx, client, t.Checker, v, st)
		res.Steps = append(res.Steps, sr)
		if !ok {
			break
		}
	}
	res.Duration = time.Since(start)
	return res
}

func runStep(ctx context.Context, client *http.Client, checker *conform.Checker, v vars, st Step) (StepResult, bool) {
	sr := StepResult{Step: st.Name, Method: st.Request.Method}
	u, err := v.expand(st.Request.URL, nil)
	sr.URL = u
	if err != nil {
		sr.Err = fmt.Errorf("url: %w", err)
		return sr, false
	}
	var body []byte
	switch {
	case st.Request.RawBody != nil:
		if body, err = func() ([]byte, error) { s, err := v.expand(*st.Request.RawBody, nil); return []byte(s), err }(); err != nil {
			sr.Err = fmt.Errorf("rawBody: %w", err)
			return sr, false
		}
	case len(st.Request.Body) > 0:
		if body, err = v.expandJSON(st.Request.Body); err != nil {
			sr.Err = fmt.Errorf("body: %w", err)
			return sr, false
		}
	}
	req, err := http.NewRequestWithContext(ctx, st.Request.Method, u, bytes.NewReader(body))
	if err != nil {
		sr.Err = err
		return sr, false
	}
	if body == nil {
		req.Body, req.ContentLength = http.NoBody, 0
	}
	for k, hv := range st.Request.Headers {
		val, err := v.expand(hv, nil)
		if err != nil {
			sr.Err = fmt.Errorf("header %s: %w", k, err)
			return sr, false
		}
		req.Header.Set(k, val)
	}

	var match *conform.Match
	if checker != nil {
		if m, ok := checker.Match(req.Method, req.URL); ok {
			match = m
			sr.Operation = m.Operation
		}
	}
	in := validationInput(ctx, checker, match, req, body, st.Expect.Status < 400, &sr)

	resp, err := client.Do(req)
	if err != nil {
		sr.Err = err
		return sr, false
	}
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	resp.Body.Close()
	if err != nil {
		sr.Err = err
		return sr, false
	}
	sr.Status, sr.Header, sr.RawBody = resp.StatusCode, resp.Header, raw
	if len(bytes.TrimSpace(raw)) > 0 {
		if doc, err := decodeJSON(raw); err == nil {
			sr.Body = doc
		}
	}
	if match != nil {
		if p := checker.Response(ctx, match, in, resp.StatusCode, resp.Header, raw); p != nil {
			for _, vi := range conform.Violations(p, "response") {
				sr.Violations = append(sr.Violations, violationText(vi))
			}
		}
	} else if vs, ok := rpcViolations(req.URL.Path, resp.StatusCode, resp.Header, raw); ok && checker != nil {
		sr.Violations = append(sr.Violations, vs...)
	} else if checker != nil {
		sr.Violations = append(sr.Violations, fmt.Sprintf("no operation of the specs matches %s %s", req.Method, req.URL.Path))
	}
	sr.Failures = check(v, st.Expect, sr)

	// A wrong status means a different answer: captures and later steps
	// would only pile up consequences of this failure.
	ok := sr.Status == st.Expect.Status
	if !ok {
		return sr, false
	}
	for name, from := range st.Capture {
		val, err := capture(sr, resp, from)
		if err != nil {
			sr.Failures = append(sr.Failures, fmt.Sprintf("capture %s from %s: %v", name, from, err))
			ok = false
			continue
		}
		v[name] = val
	}
	return sr, ok
}

// validationInput checks the step's own request against the spec when it
// is meant to succeed (a scenario's documented request must be on-spec),
// and returns the input for the response check.
func validationInput(ctx context.Context, checker *conform.Checker, m *conform.Match, req *http.Request, body []byte, wantSuccess bool, sr *StepResult) *openapi3filter.RequestValidationInput {
	if checker == nil || m == nil {
		return nil
	}
	cp := req.Clone(ctx)
	cp.Body = io.NopCloser(bytes.NewReader(body))
	cp.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	in, p := checker.Request(ctx, m, cp)
	if p != nil && wantSuccess {
		for _, vi := range conform.Violations(p, "request") {
			sr.Violations = append(sr.Violations, violationText(vi))
		}
	}
	return in
}

func violationText(v conform.Violation) string {
	s := v.In
	if v.Field != "" {
		s += " " + v.Field
	}
	s += ": " + v.Message
	if v.Rule != "" {
		s += " (rule " + v.Rule + ")"
	}
	return s
}

func capture(sr StepResult, resp *http.Response, from string) (string, error) {
	switch {
	case strings.HasPrefix(from, "header:"):
		if h := resp.Header.Get(strings.TrimPrefix(from, "header:")); h != "" {
			return h, nil
		}
		return "", fmt.Errorf("no such header")
	case strings.HasPrefix(from, "cookie:"):
		name := strings.TrimPrefix(from, "cookie:")
		for _, c := range resp.Cookies() {
			if c.Name == name {
				return c.Value, nil
			}
		}
		return "", fmt.Errorf("no Set-Cookie %s", name)
	}
	got, ok := jsonptr.Get(sr.Body, from)
	if !ok {
		return "", fmt.Errorf("nothing at %s", from)
	}
	switch g := got.(type) {
	case string:
		return g, nil
	case json.Number:
		return g.String(), nil
	case bool:
		return fmt.Sprint(g), nil
	}
	return "", fmt.Errorf("%s is %s, not a string or number", from, jsonType(got))
}

// check evaluates the expectations, one message per unmet one.
func check(v vars, e Expect, sr StepResult) []string {
	var out []string
	fail := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if sr.Status != e.Status {
		fail("status %d, want %d", sr.Status, e.Status)
	}
	for _, name := range sortedKeys(e.Headers) {
		pat, err := v.expand(e.Headers[name], regexp.QuoteMeta)
		if err != nil {
			fail("header %s: %v", name, err)
			continue
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			fail("header %s: bad pattern: %v", name, err)
			continue
		}
		if got := sr.Header.Get(name); !re.MatchString(got) {
			fail("header %s = %q, want match for %q", name, got, pat)
		}
	}
	if e.EmptyBody && len(bytes.TrimSpace(sr.RawBody)) > 0 {
		fail("body should be empty, got %d bytes", len(sr.RawBody))
	}
	needJSON := len(e.JSON)+len(e.Match)+len(e.Types)+len(e.Present)+len(e.Absent)+len(e.Contains)+len(e.Length) > 0
	if needJSON && sr.Body == nil {
		fail("body is not JSON (Content-Type %q)", sr.Header.Get("Content-Type"))
		return out
	}
	for _, p := range sortedKeys(e.JSON) {
		want, err := v.expandValue(e.JSON[p])
		if err != nil {
			fail("%s: %v", p, err)
			continue
		}
		got, ok := jsonptr.Get(sr.Body, p)
		if !ok {
			fail("%s: missing, want %s", p, show(want))
			continue
		}
		if !jsonEqual(got, want) {
			fail("%s = %s, want %s", p, show(got), show(want))
		}
	}
	for _, p := range sortedKeys(e.Match) {
		pat, err := v.expand(e.Match[p], regexp.QuoteMeta)
		if err != nil {
			fail("%s: %v", p, err)
			continue
		}
		re, err := regexp.Compile(pat)
		if err != nil {
			fail("%s: bad pattern %q: %v", p, pat, err)
			continue
		}
		got, ok := jsonptr.Get(sr.Body, p)
		if !ok {
			fail("%s: missing, want match for %q", p, pat)
			continue
		}
		s, isStr := got.(string)
		if !isStr {
			s = show(got)
		}
		if !re.MatchString(s) {
			fail("%s = %s, want match for %q", p, show(got), pat)
		}
	}
	for _, p := range sortedKeys(e.Types) {
		got, ok := jsonptr.Get(sr.Body, p)
		switch {
		case !ok:
			fail("%s: missing, want a %s", p, e.Types[p])
		case !isType(got, e.Types[p]):
			fail("%s is %s (%s), want %s", p, jsonType(got), show(got), e.Types[p])
		}
	}
	for _, p := range e.Present {
		if _, ok := jsonptr.Get(sr.Body, p); !ok {
			fail("%s: missing", p)
		}
	}
	for _, p := range e.Absent {
		if got, ok := jsonptr.Get(sr.Body, p); ok {
			fail("%s should be absent, is %s", p, show(got))
		}
	}
	for _, p := range sortedKeys(e.Length) {
		got, ok := jsonptr.Get(sr.Body, p)
		arr, isArr := got.([]any)
		switch {
		case !ok:
			fail("%s: missing, want an array of %d", p, e.Length[p])
		case !isArr:
			fail("%s is %s, want an array of %d", p, jsonType(got), e.Length[p])
		case len(arr) != e.Length[p]:
			fail("%s has %d items, want %d", p, len(arr), e.Length[p])
		}
	}
	for _, p := range sortedKeys(e.Contains) {
		want, err := v.expandValue(map[string]any(e.Contains[p]))
		if err != nil {
			fail("%s: %v", p, err)
			continue
		}
		got, _ := jsonptr.Get(sr.Body, p)
		if !someElement(got, want.(map[string]any)) {
			fail("%s has no element with %s (got %s)", p, show(want), show(got))
		}
	}
	for _, p := range sortedKeys(e.NotContains) {
		want, err := v.expandValue(map[string]any(e.NotContains[p]))
		if err != nil {
			fail("%s: %v", p, err)
			continue
		}
		got, _ := jsonptr.Get(sr.Body, p)
		if someElement(got, want.(map[string]any)) {
			fail("%s should have no element with %s", p, show(want))
		}
	}
	return out
}

func someElement(arr any, want map[string]any) bool {
	list, _ := arr.([]any)
	for _, el := range list {
		obj, ok := el.(map[string]any)
		if !ok {
			continue
		}
		all := true
		for k, w := range want {
			if g, ok := obj[k]; !ok || !jsonEqual(g, w) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// jsonEqual compares decoded JSON values by canonical encoding (json.Number
// 72000 equals YAML's 72000).
func jsonEqual(a, b any) bool {
	x, err1 := normalize(a)
	y, err2 := normalize(b)
	if err1 != nil || err2 != nil {
		return false
	}
	return jsonptr.Equal(x, y)
}

func show(v any) string {
	b, err := marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

func jsonType(v any) string {
	switch n := v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number:
		if _, err := n.Int64(); err == nil {
			return "integer"
		}
		return "number"
	case float64, int:
		return "number"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	}
	return fmt.Sprintf("%T", v)
}

func isType(v any, want string) bool {
	got := jsonType(v)
	return got == want || (want == "number" && got == "integer")
}
