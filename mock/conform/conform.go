// Package conform checks HTTP exchanges that the mock did not produce
// itself (a real vendor's answers seen by the proxy or the contract
// runner) against the vendors' OpenAPI documents: it finds the operation a
// concrete request hits, validates the request and the response with the
// same kin-openapi validator the server uses, and reports violations as
// problem issues. It knows vendors only by their specs.
package conform

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/validate"
)

// Spec is one vendor's contract as the mock mounts it.
type Spec struct {
	Vendor   string
	Doc      *openapi3.T
	BasePath string // "/v1" or ""
}

// Checker matches and validates exchanges against a set of specs. It is
// safe for concurrent use once built.
type Checker struct {
	specs  []*mounted
	router *echo.Echo
}

type mounted struct {
	Spec
	v *validate.Validator
}

// New prepares a checker; every document must be valid.
func New(specs ...Spec) (*Checker, error) {
	c := &Checker{router: echo.New()}
	noop := func(echo.Context) error { return nil }
	for _, s := range specs {
		v, err := validate.New(s.Doc, s.BasePath)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", s.Vendor, err)
		}
		c.specs = append(c.specs, &mounted{Spec: s, v: v})
		for _, r := range v.Operations() {
			c.router.Add(r.Method, s.BasePath+validate.EchoPath(r.Path), noop)
		}
	}
	return c, nil
}

// Match is the operation a request hits.
type Match struct {
	Vendor    string
	Operation string
	Route     *routers.Route
	Params    map[string]string // raw (still escaped) path values
	spec      *mounted
}

// Match finds the operation for method and the URL's path, as the mock's
// router would (static segments before parameters).
func (c *Checker) Match(method string, u *url.URL) (*Match, bool) {
	path := u.RawPath
	if path == "" {
		path = u.Path
	}
	ctx := c.router.NewContext(nil, nil)
	c.router.Router().Find(method, path, ctx)
	pattern := ctx.Path()
	for _, m := range c.specs {
		r := m.v.Route(method, pattern)
		if r == nil {
			continue
		}
		params := map[string]string{}
		names, values := ctx.ParamNames(), ctx.ParamValues()
		for i, n := range names {
			if i < len(values) {
				if strings.Contains(values[i], "/") {
					// Echo's last parameter swallows the rest of the path;
					// a spec parameter is one segment (as the server rules).
					return nil, false
				}
				params[n] = values[i]
			}
		}
		return &Match{Vendor: m.Vendor, Operation: r.Operation.OperationID, Route: r, Params: params, spec: m}, true
	}
	return nil, false
}

// Request validates req (whose body must be re-readable: the caller keeps
// its own copy) and returns the input Response needs.
func (c *Checker) Request(ctx context.Context, m *Match, req *http.Request) (*openapi3filter.RequestValidationInput, *problem.Problem) {
	params := make(map[string]string, len(m.Params))
	for k, v := range m.Params {
		params[k] = v
	}
	return m.spec.v.Request(ctx, req, m.Route, params)
}

// Response validates a response to the request behind in. Error statuses
// the operation does not declare (and no default covers) are not checked:
// gateways answer them for any operation.
func (c *Checker) Response(ctx context.Context, m *Match, in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte) *problem.Problem {
	if in == nil {
		in = &openapi3filter.RequestValidationInput{Request: &http.Request{Method: m.Route.Method, URL: &url.URL{}, Header: http.Header{}}, Route: m.Route}
	}
	if status >= 400 && !declares(m.Route.Operation, status) {
		return nil
	}
	p := m.spec.v.Response(ctx, in, status, header, body)
	if p == nil {
		return nil
	}
	p.Message = fmt.Sprintf("%d response to %s breaks the spec: %s", status, m.Operation, Summary(p.Issues))
	return p
}

func declares(op *openapi3.Operation, status int) bool {
	if op.Responses == nil {
		return false
	}
	return op.Responses.Status(status) != nil || op.Responses.Default() != nil
}

// Violation is one finding in the X-Idpmock-Violations header and reports.
type Violation struct {
	In      string `json:"in"`              // request part or "response"
	Field   string `json:"field,omitempty"` // dotted field or parameter name
	Rule    string `json:"rule,omitempty"`  // the failing keyword
	Message string `json:"message"`
}

// Violations converts a problem's issues; side says which direction
// ("request" or "response") when the issue does not.
func Violations(p *problem.Problem, side string) []Violation {
	if p == nil {
		return nil
	}
	if len(p.Issues) == 0 {
		return []Violation{{In: side, Message: p.Message}}
	}
	out := make([]Violation, 0, len(p.Issues))
	for _, is := range p.Issues {
		in := is.In
		if side == "response" && in != "response" {
			in = "response." + in
		}
		msg := is.Message
		if msg == "" {
			msg = p.Message
		}
		out = append(out, Violation{In: in, Field: is.Field, Rule: is.Rule, Message: msg})
	}
	return out
}

// HeaderViolations is the response header that lists spec violations.
const HeaderViolations = "X-Idpmock-Violations"

// maxHeader keeps the header well under common proxies' limits.
const maxHeader = 6 << 10

// HeaderValue renders violations as one-line JSON for HeaderViolations,
// dropping trailing entries (and saying so) past a size limit.
func HeaderValue(vs []Violation) string {
	for n := len(vs); n > 0; n-- {
		list := vs[:n]
		if n < len(vs) {
			list = append(append([]Violation{}, list...), Violation{In: "report", Message: fmt.Sprintf("%d more violations not shown", len(vs)-n)})
		}
		b, err := json.Marshal(list)
		if err == nil && len(b) <= maxHeader {
			return string(b)
		}
	}
	return `[{"in":"report","message":"violations too large for a header"}]`
}

// Summary is a one-line text of issues: "field: message (rule); ...".
func Summary(issues []problem.Issue) string {
	parts := make([]string, 0, len(issues))
	for _, is := range issues {
		s := is.Message
		if is.Rule != "" {
			s += " (rule " + is.Rule + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}
