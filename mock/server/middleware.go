package server

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/getkin/kin-openapi/openapi3filter"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/admin"
	"github.com/idpmock/idpmock/mock/conform"
	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/state"
)

// recoverPanics runs the inner steps and turns a panic into an internal
// problem (the vendor's 500, rendered by outerSteps), so one bad request
// never takes the server down or drops the connection.
func (s *Server) recoverPanics(c echo.Context, next echo.HandlerFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r) // deliberate connection drop
			}
			s.cfg.Log.Error("handler panic", "panic", fmt.Sprint(r), "path", c.Request().URL.Path, "stack", string(debug.Stack()))
			err = &problem.Problem{Kind: problem.Internal, Message: "internal error", Err: fmt.Errorf("panic: %v", r)}
		}
	}()
	return next(c)
}

// logRequest writes the request's log line once it is answered.
func (s *Server) logRequest(c echo.Context, start time.Time) {
	{
		status := c.Response().Status
		// One line per request at the default level: what a person
		// watching the mock wants to see. Health checks only at debug.
		lvl := slog.LevelInfo
		if c.Request().URL.Path == "/healthz" {
			lvl = slog.LevelDebug
		}
		if status >= 500 && !s.goneBeforeAnswer(c, status) {
			lvl = slog.LevelError
		}
		if s.cfg.Log.Enabled(c.Request().Context(), lvl) {
			ex := ExchangeOf(c)
			attrs := []any{"method", c.Request().Method, "path", c.Request().URL.Path, "operation", ex.Operation,
				"status", status, "duration", time.Since(start)}
			if p := ex.Problem; p != nil {
				attrs = append(attrs, "invalid", strings.Join(problemFields(p), ", "))
			}
			if id := c.Response().Header().Get("X-Idpmock-Override"); id != "" {
				attrs = append(attrs, "override", id)
			}
			s.cfg.Log.Log(c.Request().Context(), lvl, "request", attrs...)
		}
	}
}

// validateRequests checks each vendor request against the vendor's spec
// before the generated handler sees it, and in strict mode checks the
// response on its way out.
func (s *Server) validateRequest(c echo.Context, next echo.HandlerFunc) error {
	{
		req := c.Request()
		m := s.owner(req.URL.Path)
		if m == nil {
			return next(c)
		}
		route := m.validator.Route(req.Method, c.Path())
		if route == nil {
			return next(c) // unknown path or method: Echo's 404/405, in vendor format
		}
		// Echo lets a path's last parameter swallow the rest of the path,
		// slashes included ("/v2/sessions/../../x"); a spec's parameter is one
		// segment, so such a path names no operation, as at the vendor.
		for _, v := range c.ParamValues() {
			if strings.Contains(v, "/") {
				return &problem.Problem{Kind: problem.NotFound, Message: "no operation at this path"}
			}
		}
		ex := ExchangeOf(c)
		ex.Route, ex.Operation = route, route.Operation.OperationID
		if req.ContentLength > s.cfg.BodyLimit {
			p := problem.New(problem.TooLarge, "request body is larger than %d bytes", s.cfg.BodyLimit)
			ex.Problem = p
			return p
		}
		if !ex.bodyRead && req.Body != nil && req.Body != http.NoBody {
			req.Body = http.MaxBytesReader(c.Response(), req.Body, s.cfg.BodyLimit)
		}
		if n, ok := m.vendor.(RequestNormalizer); ok {
			n.NormalizeRequest(req)
		}
		names, values := c.ParamNames(), c.ParamValues()
		params := make(map[string]string, len(names))
		for i, n := range names {
			if i < len(values) {
				params[n] = values[i]
			}
		}
		var decodeProblem *problem.Problem
		if d, ok := m.vendor.(RequestDecoder); ok {
			decodeProblem = d.DecodeRequest(req, route.Operation.OperationID)
		}
		in, p := m.validator.Request(req.Context(), req, route, params)
		if decodeProblem != nil {
			p = decodeProblem // the vendor's decoder refuses before its validator runs
		}
		if p != nil {
			var mbe *http.MaxBytesError
			if errors.As(p.Err, &mbe) {
				p = problem.New(problem.TooLarge, "request body is larger than %d bytes", s.cfg.BodyLimit)
			}
			ex.Problem = p
		} else if done, err := s.control(c, m, route, params); done {
			// An override or the Prefer header answered; the vendor never
			// sees the request, and overrides were checked when created.
			return err
		}
		if !s.cfg.Strict {
			if p != nil {
				return p
			}
			return next(c)
		}

		// Strict: capture the whole answer; the render step writes an
		// error into the capture too, and checkStrict (after it) checks
		// the answer and sends it.
		ex.strict = &strictCheck{real: c.Response().Writer, rec: recorder{header: http.Header{}}, m: m, in: in}
		c.Response().Writer = &ex.strict.rec
		if p != nil {
			return p
		}
		return next(c)
	}
}

// strictCheck is the strict step's capture of one answer, checked after
// the render step has written into it.
type strictCheck struct {
	real http.ResponseWriter
	rec  recorder
	m    *mounted
	in   *openapi3filter.RequestValidationInput
}

// checkStrict checks a captured answer against the spec and sends it. An
// answer that breaks the spec is not sent: the error it returns is, by
// the render step, in the vendor's format.
func (s *Server) checkStrict(c echo.Context, sc *strictCheck) error {
	c.Response().Writer = sc.real
	if s.goneBeforeAnswer(c, sc.rec.status) {
		return nil // nobody to answer, nothing to check
	}
	status := sc.rec.status
	if status == 0 {
		status = http.StatusOK
	}
	route := sc.in.Route
	if declared(route.Operation, status) {
		if vp := sc.m.validator.Response(c.Request().Context(), sc.in, status, sc.rec.header, sc.rec.body.Bytes()); vp != nil {
			// Names and rules only: kin-openapi's messages quote the
			// offending values, which may be tokens or codes.
			s.cfg.Log.Error("strict mode: response breaks the spec", "operation", route.Operation.OperationID, "status", status, "fields", issueFields(vp))
			// The captured answer was never sent: the response is still
			// unwritten, so the render step may write the refusal.
			c.Response().Committed = false
			c.Response().Header().Del("Content-Type")
			c.Response().Header().Del("Content-Length")
			// The vendor's error body may not name the field; this header always does.
			c.Response().Header().Set(conform.HeaderViolations, conform.HeaderValue(conform.Violations(vp, "response")))
			return vp
		}
	}
	for k, vs := range sc.rec.header {
		sc.real.Header()[k] = vs
	}
	sc.real.WriteHeader(status)
	_, _ = sc.real.Write(sc.rec.body.Bytes())
	return nil
}

// problemFields names what made a request invalid: its issues' fields,
// else the problem's message (a missing bearer has no field).
func problemFields(p *problem.Problem) []string {
	if f := issueFields(p); len(f) > 0 {
		return f
	}
	return []string{p.Message}
}

// issueFields lists where a problem's issues are, without their messages:
// "body sessionToken (pattern)".
func issueFields(p *problem.Problem) []string {
	out := make([]string, 0, len(p.Issues))
	for _, is := range p.Issues {
		f := is.In
		if is.Field != "" {
			f += " " + is.Field
		}
		if is.Rule != "" {
			f += " (" + is.Rule + ")"
		}
		out = append(out, f)
	}
	return out
}

// declared reports whether strict mode should check a response: success
// statuses always (an undeclared one is a violation), error statuses only
// when the operation documents them, since generic layers (413, 405) may
// answer with statuses a spec need not list.
func declared(op *openapi3.Operation, status int) bool {
	if status < 400 || op.Responses == nil {
		return true
	}
	return op.Responses.Status(status) != nil || op.Responses.Default() != nil
}

type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// secondWriter is logged when an error comes after its request's answer.
const secondWriter = "error after the answer was written"

// handleError renders any error in the owning vendor's format.
func (s *Server) handleError(err error, c echo.Context) {
	if s.clientGone(err, c) {
		return
	}
	if c.Response().Committed {
		// Defensive: the pipeline renders once, after the steps below have
		// returned without writing (TestOneWriter), so this only fires for
		// an error returned after its answer went out, which no one reads.
		s.cfg.Log.Error(secondWriter, "path", c.Request().URL.Path, "err", err)
		return
	}
	var ve VendorError
	if errors.As(err, &ve) {
		if ve.HTTPStatus() >= 500 {
			s.cfg.Log.Error("internal error", "path", c.Request().URL.Path, "err", err)
		}
		if werr := ve.WriteAnswer(c); werr != nil {
			s.cfg.Log.Error("writing vendor error", "err", werr)
		}
		return
	}
	p := toProblem(err)
	if p.Kind == problem.Internal {
		s.cfg.Log.Error("internal error", "path", c.Request().URL.Path, "err", err)
	}
	if m := s.owner(c.Request().URL.Path); m != nil {
		if werr := m.vendor.WriteError(c, p); werr != nil {
			s.cfg.Log.Error("writing vendor error", "err", werr)
		}
		return
	}
	_ = admin.WriteError(c, p)
}

func toProblem(err error) *problem.Problem {
	var p *problem.Problem
	if errors.As(err, &p) {
		return p
	}
	if errors.Is(err, state.ErrUnavailable) {
		// The shared store is down: the vendor's own "unavailable".
		return &problem.Problem{Kind: problem.Unavailable, Message: "the mock's state store is unavailable", Err: err}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		msg := fmt.Sprint(he.Message)
		switch he.Code {
		case http.StatusNotFound:
			return &problem.Problem{Kind: problem.NotFound, Message: "no operation at this path", Err: err}
		case http.StatusMethodNotAllowed:
			return &problem.Problem{Kind: problem.MethodNotAllowed, Message: "method not allowed", Err: err}
		case http.StatusRequestEntityTooLarge:
			return &problem.Problem{Kind: problem.TooLarge, Message: msg, Err: err}
		case http.StatusUnsupportedMediaType:
			return &problem.Problem{Kind: problem.UnsupportedMediaType, Message: msg, Err: err}
		case http.StatusUnauthorized:
			return &problem.Problem{Kind: problem.Unauthenticated, Message: msg, Err: err}
		case http.StatusBadRequest:
			return &problem.Problem{Kind: problem.Invalid, Message: msg, Issues: []problem.Issue{{In: "request", Message: msg}}, Err: err}
		}
		if he.Code >= 400 && he.Code < 500 {
			return &problem.Problem{Kind: problem.Invalid, Message: msg, Err: err}
		}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return problem.New(problem.TooLarge, "request body is larger than %d bytes", mbe.Limit)
	}
	return &problem.Problem{Kind: problem.Internal, Message: "internal error", Err: err}
}
