package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/override"
	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/validate"
)

// control applies, to a valid request, the newest matching override and
// the Prefer header. It reports whether it answered the request itself.
func (s *Server) control(c echo.Context, m *mounted, route *routers.Route, params map[string]string) (bool, error) {
	req := c.Request()
	ex := ExchangeOf(c)
	pref, err := override.ParsePrefer(req.Header, req.URL.Query())
	if err != nil {
		return true, &problem.Problem{Kind: problem.Invalid, Message: err.Error(),
			Issues: []problem.Issue{{In: "header", Field: "Prefer", Rule: "format", Message: err.Error()}}}
	}
	if !pref.Empty() {
		ex.Prefer = pref.Raw
	}
	var version int64
	if s.overrides.Shared() {
		// The overrides' version travels with the clock's settings: the
		// request's one read of the control data.
		st, err := s.clock.SettingsContext(req.Context())
		if err != nil {
			return true, err
		}
		version = st.Overrides
		s.catchUpFixtures(req.Context(), st.Fixtures)
	}
	rule, hit, err := s.overrides.TakeContext(req.Context(), version, override.Request{
		Operation:  route.Operation.OperationID,
		PathParams: params,
		Header:     req.Header,
		Body: func() any {
			var v any
			_ = json.Unmarshal(validate.Body(req), &v)
			return v
		},
	})
	if err != nil {
		return true, err
	}
	delay := pref.Delay()
	if err := s.checkDelay(delay, "header", "Prefer delay"); err != nil {
		return true, err
	}
	if hit {
		ex.Override = rule.ID
		if rule.DelayMs > 0 {
			delay = rule.Delay()
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-req.Context().Done():
			t.Stop()
			ex.Fault = faultClientGone
			return true, nil // the client left
		}
	}
	switch {
	case hit && rule.Fault == override.FaultDrop:
		return true, drop(c)
	case hit && rule.Status != 0:
		c.Response().Header().Set("X-Idpmock-Override", rule.ID)
		return true, s.writeCanned(c, m, route, canned{status: rule.Status, header: rule.Headers, body: rule.Body,
			reason: fmt.Sprintf("answer forced by idpmock override %s", rule.ID)})
	case pref.Canned():
		c.Response().Header().Set("Preference-Applied", pref.Applied())
		return true, s.writeCanned(c, m, route, canned{status: pref.Code, example: pref.Example, prefer: true,
			reason: "answer chosen by the Prefer header"})
	}
	return false, nil
}

// drop closes the connection without answering.
func drop(c echo.Context) error {
	ex := ExchangeOf(c)
	ex.Fault = override.FaultDrop
	// Journal first: a client that sees the drop may read the journal next.
	if ex.journal != nil {
		ex.journal.record(http.ErrAbortHandler)
	}
	if hj, ok := c.Response().Writer.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			return conn.Close()
		}
	}
	panic(http.ErrAbortHandler) // HTTP/2: net/http resets the stream
}

// canned is an answer the server writes without the vendor.
type canned struct {
	status  int // 0: the lowest declared success
	example string
	header  map[string]string
	body    json.RawMessage // nil: example, vendor error or schema sample
	reason  string          // message for vendor error documents
	prefer  bool
}

// writeCanned renders a canned answer: the given body, else a fixture or
// spec example, else (error statuses) the vendor's own error document,
// else a minimal document sampled from the response schema.
func (s *Server) writeCanned(c echo.Context, m *mounted, route *routers.Route, cn canned) error {
	op := route.Operation
	status := cn.status
	if status == 0 {
		status = lowestSuccess(op)
	}
	var resp *openapi3.Response
	if ref := responseFor(op, status); ref != nil {
		resp = ref.Value
	}
	if cn.prefer && resp == nil && status < 400 {
		return preferProblem("Prefer code=%d: operation %s declares no %d response (declared: %s)", status, op.OperationID, status, declaredList(op))
	}
	h := c.Response().Header()
	body, ctype := []byte(cn.body), ""
	if len(body) > 0 {
		_, ctype = media(resp)
	} else {
		b, ct, ok, err := s.example(c.Request().Context(), m, op, status, resp, cn.example)
		if err != nil {
			return err
		}
		if ok {
			body, ctype = b, ct
			if fe, isFE := m.vendor.(ForcedErrors); isFE && status >= 400 {
				body = fe.FreshenError(status, body)
			}
		}
	}
	if resp != nil {
		for name, hr := range resp.Headers {
			if h.Get(name) == "" && hr.Value != nil && hr.Value.Schema != nil {
				h.Set(name, headerSample(hr.Value))
			}
		}
	}
	for k, v := range cn.header {
		h.Set(k, v)
	}
	if len(body) == 0 {
		if fe, ok := m.vendor.(ForcedErrors); ok && status >= 400 {
			return fe.WriteForcedError(c, status)
		}
		if kind, ok := kindFor(status); ok && status >= 400 {
			return m.vendor.WriteError(c, &problem.Problem{Kind: kind, Message: cn.reason})
		}
		if mt, ct := media(resp); mt != nil && mt.Schema != nil {
			if b, err := json.Marshal(sample(mt.Schema, clock.Now(c.Request().Context(), s.clock), 0)); err == nil {
				body, ctype = b, ct
			}
		}
	}
	if len(body) == 0 {
		return c.NoContent(status)
	}
	if h.Get("Content-Type") == "" {
		if ctype == "" {
			ctype = "application/json"
		}
		h.Set("Content-Type", ctype)
	}
	return c.Blob(status, h.Get("Content-Type"), body)
}

func preferProblem(format string, args ...any) *problem.Problem {
	msg := fmt.Sprintf(format, args...)
	return &problem.Problem{Kind: problem.Invalid, Message: msg, Issues: []problem.Issue{{In: "header", Field: "Prefer", Rule: "enum", Message: msg}}}
}

// example finds a named (or any) example: the spec's media type examples,
// then the schema's example.
func (s *Server) example(ctx context.Context, m *mounted, op *openapi3.Operation, status int, resp *openapi3.Response, name string) ([]byte, string, bool, error) {
	mt, ct := media(resp)
	var v any
	switch {
	case name != "":
		var names []string
		if mt != nil {
			if ex := mt.Examples[name]; ex != nil && ex.Value != nil {
				return encode(ex.Value.Value, ct)
			}
			for n := range mt.Examples {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		return nil, "", false, preferProblem("Prefer example=%s: operation %s has no such example for status %d (examples: %s)",
			name, op.OperationID, status, orNone(names))
	case mt == nil:
		return nil, "", false, nil
	case mt.Example != nil:
		v = mt.Example
	case len(mt.Examples) > 0:
		keys := make([]string, 0, len(mt.Examples))
		for k := range mt.Examples {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		if ex := mt.Examples[keys[0]]; ex != nil && ex.Value != nil {
			v = ex.Value.Value
		}
	case mt.Schema != nil && mt.Schema.Value != nil && mt.Schema.Value.Example != nil:
		v = mt.Schema.Value.Example
	}
	if v == nil {
		return nil, "", false, nil
	}
	return encode(v, ct)
}

func encode(v any, ct string) ([]byte, string, bool, error) {
	if str, ok := v.(string); ok && !strings.Contains(ct, "json") {
		return []byte(str), ct, true, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, "", false, err
	}
	return b, ct, true, nil
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// media picks the response's JSON media type, else its first one.
func media(resp *openapi3.Response) (*openapi3.MediaType, string) {
	if resp == nil || len(resp.Content) == 0 {
		return nil, ""
	}
	keys := make([]string, 0, len(resp.Content))
	for k := range resp.Content {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if k == "application/json" {
			return resp.Content[k], k
		}
	}
	for _, k := range keys {
		if strings.HasSuffix(k, "+json") {
			return resp.Content[k], k
		}
	}
	return resp.Content[keys[0]], keys[0]
}

func responseFor(op *openapi3.Operation, status int) *openapi3.ResponseRef {
	if op.Responses == nil {
		return nil
	}
	if r := op.Responses.Status(status); r != nil {
		return r
	}
	return op.Responses.Default()
}

func lowestSuccess(op *openapi3.Operation) int {
	best := 0
	for k := range op.Responses.Map() {
		if n, err := strconv.Atoi(k); err == nil && n >= 200 && n < 300 && (best == 0 || n < best) {
			best = n
		}
	}
	if best == 0 {
		best = http.StatusOK
	}
	return best
}

func declaredList(op *openapi3.Operation) string {
	var ks []string
	for k := range op.Responses.Map() {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return orNone(ks)
}

var kinds = []problem.Kind{problem.Invalid, problem.Unauthenticated, problem.Forbidden, problem.NotFound,
	problem.MethodNotAllowed, problem.UnsupportedMediaType, problem.TooLarge, problem.TooManyRequests,
	problem.Unavailable, problem.Internal}

// kindFor is the problem kind whose status is status, if any.
func kindFor(status int) (problem.Kind, bool) {
	for _, k := range kinds {
		if (&problem.Problem{Kind: k}).Status() == status {
			return k, true
		}
	}
	return "", false
}

// sample builds a small document that satisfies schema: examples,
// defaults and enums first, required properties only.
func sample(ref *openapi3.SchemaRef, now time.Time, depth int) any {
	if ref == nil || ref.Value == nil || depth > 8 {
		return nil
	}
	sc := ref.Value
	switch {
	case sc.Example != nil:
		return sc.Example
	case sc.Default != nil:
		return sc.Default
	case len(sc.Enum) > 0:
		return sc.Enum[0]
	case len(sc.AllOf) > 0:
		out := map[string]any{}
		for _, a := range sc.AllOf {
			if m, ok := sample(a, now, depth+1).(map[string]any); ok {
				for k, v := range m {
					out[k] = v
				}
			}
		}
		return out
	case len(sc.OneOf) > 0:
		return sample(sc.OneOf[0], now, depth+1)
	case len(sc.AnyOf) > 0:
		return sample(sc.AnyOf[0], now, depth+1)
	}
	switch {
	case sc.Type.Is("object") || len(sc.Properties) > 0:
		out := map[string]any{}
		names := sc.Required
		if len(names) == 0 {
			for n := range sc.Properties {
				names = append(names, n)
			}
		}
		for _, n := range names {
			if p, ok := sc.Properties[n]; ok {
				out[n] = sample(p, now, depth+1)
			}
		}
		return out
	case sc.Type.Is("array"):
		return []any{sample(sc.Items, now, depth+1)}
	case sc.Type.Is("integer"), sc.Type.Is("number"):
		if sc.Min != nil {
			return *sc.Min
		}
		return 0
	case sc.Type.Is("boolean"):
		return false
	case sc.Type.Is("string"):
		switch sc.Format {
		case "date-time":
			return now.UTC().Format(time.RFC3339)
		case "date":
			return now.UTC().Format(time.DateOnly)
		case "uuid":
			return "00000000-0000-4000-8000-000000000000"
		case "email":
			return "user@example.com"
		case "uri", "url":
			return "https://example.com/"
		}
		return "string"
	}
	return nil
}

func headerSample(h *openapi3.Header) string {
	if h.Example != nil {
		return fmt.Sprint(h.Example)
	}
	sc := h.Schema.Value
	if sc != nil && (sc.Type.Is("integer") || sc.Type.Is("number")) {
		// Retry-After and friends: one, unless the schema forbids it.
		if sc.Min != nil && *sc.Min > 1 {
			return strconv.FormatFloat(*sc.Min, 'f', -1, 64)
		}
		return "1"
	}
	return fmt.Sprint(sample(h.Schema, time.Now(), 0))
}

// AddOverride checks spec against the vendor's contract and stores it.
func (s *Server) AddOverride(ctx context.Context, spec override.Spec) (override.Rule, error) {
	if err := s.checkOverride(ctx, spec); err != nil {
		return override.Rule{}, err
	}
	return s.overrides.AddContext(ctx, spec, override.SourceAPI, s.clock.Now())
}

// checkOverride refuses overrides that name no operation or would make
// the mock break the operation's contract (unless AllowOffSpec).
func (s *Server) checkOverride(ctx context.Context, spec override.Spec) error {
	invalid := func(msg string, is []problem.Issue) error {
		return &problem.Problem{Kind: problem.Invalid, Message: msg, Issues: is}
	}
	if is := spec.Check(); len(is) > 0 {
		return invalid(is[0].Message, is)
	}
	if err := s.checkDelay(spec.Delay(), "body", "delayMs"); err != nil {
		return err
	}
	ref, ok := s.ops[spec.Operation]
	if !ok {
		msg := fmt.Sprintf("no operation %q (GET /__mock/operations lists them)", spec.Operation)
		if near := nearestName(spec.Operation, s.ops); near != "" {
			msg += fmt.Sprintf("; did you mean %q?", near)
		}
		return invalid(msg, []problem.Issue{{In: "body", Field: "operation", Rule: "enum", Message: msg}})
	}
	route := ref.route
	for k := range spec.Match.PathParams {
		if !strings.Contains(route.Path, "{"+k+"}") {
			msg := fmt.Sprintf("operation %s has no path parameter %q (path %s)", spec.Operation, k, route.Path)
			return invalid(msg, []problem.Issue{{In: "body", Field: "match.pathParams", Rule: "enum", Message: msg}})
		}
	}
	if spec.Status == 0 || s.cfg.AllowOffSpec {
		return nil
	}
	op := route.Operation
	if responseFor(op, spec.Status) == nil {
		if spec.Status < 400 {
			msg := fmt.Sprintf("operation %s declares no %d response (declared: %s); start the mock with --allow-off-spec to force it anyway", spec.Operation, spec.Status, declaredList(op))
			return invalid(msg, []problem.Issue{{In: "body", Field: "status", Rule: "enum", Message: msg}})
		}
		return nil // gateways answer undeclared errors (429, 503...) too
	}
	// Render the answer as it would be sent, and check it.
	path := ref.m.vendor.BasePath() + route.Path
	req := httptest.NewRequestWithContext(ctx, route.Method, "http://idpmock"+strings.NewReplacer("{", "", "}", "").Replace(path), nil)
	rec := httptest.NewRecorder()
	xc := &exchangeContext{Context: s.echo.NewContext(req, rec)}
	xc.ex.Route, xc.ex.Operation = route, op.OperationID
	var c echo.Context = xc
	if err := s.writeCanned(c, ref.m, route, canned{status: spec.Status, header: spec.Headers, body: spec.Body, reason: "answer forced by an idpmock override"}); err != nil {
		return err
	}
	in := &openapi3filter.RequestValidationInput{Request: req, Route: route}
	if vp := ref.m.validator.Response(ctx, in, rec.Code, rec.Header(), rec.Body.Bytes()); vp != nil {
		msg := fmt.Sprintf("the override's %d answer breaks the spec of %s: %s (start the mock with --allow-off-spec to force it anyway)", rec.Code, op.OperationID, issuesText(vp))
		return invalid(msg, vp.Issues)
	}
	return nil
}

func issuesText(p *problem.Problem) string {
	if len(p.Issues) == 0 {
		return p.Message
	}
	msgs := make([]string, 0, len(p.Issues))
	for _, is := range p.Issues {
		msgs = append(msgs, is.Message)
	}
	return strings.Join(msgs, "; ")
}
