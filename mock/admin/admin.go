package admin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	gen "github.com/idpmock/idpmock/gen/admin"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/dashboard"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/validate"
)

// Prefix is where the admin API lives.
const Prefix = "/__mock/"

// MaxBody caps admin request bodies (a state document of a busy mock).
const MaxBody = 64 << 20

// Options configure Register.
type Options struct {
	// Token, if set, must be sent as "Authorization: Bearer <Token>".
	Token string
	// AllowOrigins are browser origins allowed to call the API; the server
	// answers their preflights. Every other origin is refused.
	AllowOrigins []string
}

// Register mounts the admin API on e. Each route checks origin and token,
// then validates the request against the admin spec before the handler runs.
func Register(e *echo.Echo, b Backend, opts Options) error {
	r := router{e: e, mw: []echo.MiddlewareFunc{guard(opts.Token, opts.AllowOrigins), validating(adminValidator)}}
	gen.RegisterHandlers(r, gen.NewStrictHandler(&handler{b: b}, []gen.StrictMiddlewareFunc{withAccept}))
	dashboard.Register(e)
	return nil
}

// WriteError renders p in the admin API's Error format; the server also
// uses it for paths no vendor owns.
func WriteError(c echo.Context, p *problem.Problem) error {
	doc := gen.Error{Code: gen.ErrorCode(p.Kind), Message: p.Message}
	if len(p.Issues) > 0 {
		is := issues(p.Issues)
		doc.Issues = &is
	}
	return c.JSON(p.Status(), doc)
}

// guard refuses other origins than the allowed ones (a page under test
// must not drive the mock unless asked to) and, with a token,
// unauthenticated calls.
func guard(token string, allowed []string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			o := req.Header.Get("Origin")
			listed := o != "" && slices.Contains(allowed, o)
			if o != "" && !listed && !sameOrigin(o, req) {
				return problem.New(problem.Forbidden, "the admin API refuses cross-origin requests (Origin %s; allow it with --admin-cors)", o)
			}
			if site := req.Header.Get("Sec-Fetch-Site"); !listed && (site == "cross-site" || site == "same-site") {
				return problem.New(problem.Forbidden, "the admin API refuses cross-origin requests (Sec-Fetch-Site %s)", site)
			}
			if req.Body != nil && req.Body != http.NoBody {
				// State documents can be large, but not unbounded.
				req.Body = http.MaxBytesReader(c.Response(), req.Body, MaxBody)
			}
			if token != "" {
				scheme, got, ok := strings.Cut(req.Header.Get("Authorization"), " ")
				if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
					c.Response().Header().Set("WWW-Authenticate", `Bearer realm="idpmock-admin"`)
					return problem.New(problem.Unauthenticated, "the admin API needs \"Authorization: Bearer <admin token>\"")
				}
			}
			return next(c)
		}
	}
}

func sameOrigin(origin string, req *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // includes "null"
	}
	return strings.EqualFold(u.Host, req.Host)
}

// adminValidator parses the admin spec on the first admin request: most
// runs never call the admin API, and parsing it would lengthen start-up.
// The embedded spec is checked by the tests, so the error is theoretical.
var adminValidator = sync.OnceValues(func() (*validate.Validator, error) {
	doc, err := gen.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("admin spec: %w", err)
	}
	return validate.New(doc, "")
})

func validating(validator func() (*validate.Validator, error)) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			v, err := validator()
			if err != nil {
				return &problem.Problem{Kind: problem.Internal, Message: err.Error(), Err: err}
			}
			route := v.Route(c.Request().Method, c.Path())
			if route == nil {
				return next(c)
			}
			params := map[string]string{}
			values := c.ParamValues()
			for i, n := range c.ParamNames() {
				if i < len(values) {
					params[n] = values[i]
				}
			}
			if _, p := v.Request(c.Request().Context(), c.Request(), route, params); p != nil {
				return p
			}
			return next(c)
		}
	}
}

// router adds the admin middleware to every generated route, without an
// Echo group (whose catch-all would steal vendors' 404s).
type router struct {
	e  *echo.Echo
	mw []echo.MiddlewareFunc
}

func (r router) add(method, path string, h echo.HandlerFunc, m []echo.MiddlewareFunc) *echo.Route {
	return r.e.Add(method, path, h, append(append([]echo.MiddlewareFunc{}, r.mw...), m...)...)
}
func (r router) CONNECT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodConnect, p, h, m)
}
func (r router) DELETE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodDelete, p, h, m)
}
func (r router) GET(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodGet, p, h, m)
}
func (r router) HEAD(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodHead, p, h, m)
}
func (r router) OPTIONS(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodOptions, p, h, m)
}
func (r router) PATCH(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPatch, p, h, m)
}
func (r router) POST(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPost, p, h, m)
}
func (r router) PUT(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodPut, p, h, m)
}
func (r router) TRACE(p string, h echo.HandlerFunc, m ...echo.MiddlewareFunc) *echo.Route {
	return r.add(http.MethodTrace, p, h, m)
}

// handler implements the generated strict server.
type handler struct{ b Backend }

var _ gen.StrictServerInterface = (*handler)(nil)

func asProblem(err error) error {
	var p *problem.Problem
	if errors.As(err, &p) {
		return p
	}
	if errors.Is(err, state.ErrUnavailable) {
		// The shared store (--store redis://) did not answer: 503, and why.
		return &problem.Problem{Kind: problem.Unavailable, Message: err.Error(), Err: err}
	}
	return &problem.Problem{Kind: problem.Internal, Message: err.Error(), Err: err}
}

func (h *handler) ResetMock(ctx context.Context, r gen.ResetMockRequestObject) (gen.ResetMockResponseObject, error) {
	var err error
	if r.Params.Vendor != nil {
		err = h.b.Reset(ctx, *r.Params.Vendor)
	} else {
		err = h.b.ResetAll(ctx)
	}
	if err != nil {
		return nil, asProblem(err)
	}
	return gen.ResetMock204Response{}, nil
}

func (h *handler) GetState(ctx context.Context, _ gen.GetStateRequestObject) (gen.GetStateResponseObject, error) {
	st, err := h.b.DumpState(ctx)
	if err != nil {
		return nil, asProblem(err)
	}
	return stateResponse{st}, nil
}

// stateResponse writes the vendors' raw snapshots untouched (the generated
// type would round-trip them through interface{}).
type stateResponse struct{ st State }

func (s stateResponse) VisitGetStateResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	return json.NewEncoder(w).Encode(s.st)
}

func (h *handler) PutState(ctx context.Context, r gen.PutStateRequestObject) (gen.PutStateResponseObject, error) {
	raw, err := json.Marshal(r.Body)
	if err != nil {
		return nil, asProblem(err)
	}
	var st State
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, problem.New(problem.Invalid, "state document: %v", err)
	}
	if err := h.b.LoadState(ctx, st); err != nil {
		return nil, asProblem(err)
	}
	return gen.PutState204Response{}, nil
}

func (h *handler) ListOverrides(ctx context.Context, _ gen.ListOverridesRequestObject) (gen.ListOverridesResponseObject, error) {
	out := gen.ListOverrides200JSONResponse{Overrides: []gen.Override{}}
	rules, err := h.b.Overrides().ListContext(ctx)
	if err != nil {
		return nil, asProblem(err)
	}
	for _, r := range rules {
		out.Overrides = append(out.Overrides, overrideDoc(r))
	}
	return out, nil
}

func (h *handler) CreateOverride(ctx context.Context, r gen.CreateOverrideRequestObject) (gen.CreateOverrideResponseObject, error) {
	spec, err := specOf(r.Body)
	if err != nil {
		return nil, asProblem(err)
	}
	rule, err := h.b.AddOverride(ctx, spec)
	if err != nil {
		return nil, asProblem(err)
	}
	return gen.CreateOverride201JSONResponse(overrideDoc(rule)), nil
}

func (h *handler) ClearOverrides(ctx context.Context, _ gen.ClearOverridesRequestObject) (gen.ClearOverridesResponseObject, error) {
	if err := h.b.Overrides().ClearContext(ctx); err != nil {
		return nil, asProblem(err)
	}
	return gen.ClearOverrides204Response{}, nil
}

func (h *handler) GetOverride(ctx context.Context, r gen.GetOverrideRequestObject) (gen.GetOverrideResponseObject, error) {
	rule, ok, err := h.b.Overrides().GetContext(ctx, r.Id)
	if err != nil {
		return nil, asProblem(err)
	}
	if !ok {
		return nil, problem.New(problem.NotFound, "no override %q", r.Id)
	}
	return gen.GetOverride200JSONResponse(overrideDoc(rule)), nil
}

func (h *handler) DeleteOverride(ctx context.Context, r gen.DeleteOverrideRequestObject) (gen.DeleteOverrideResponseObject, error) {
	ok, err := h.b.Overrides().DeleteContext(ctx, r.Id)
	if err != nil {
		return nil, asProblem(err)
	}
	if !ok {
		return nil, problem.New(problem.NotFound, "no override %q", r.Id)
	}
	return gen.DeleteOverride204Response{}, nil
}

func (h *handler) GetClock(ctx context.Context, _ gen.GetClockRequestObject) (gen.GetClockResponseObject, error) {
	doc, err := clockDoc(ctx, h.b)
	if err != nil {
		return nil, err
	}
	return gen.GetClock200JSONResponse(doc), nil
}

func (h *handler) ChangeClock(ctx context.Context, r gen.ChangeClockRequestObject) (gen.ChangeClockResponseObject, error) {
	c, ch := h.b.Clock(), r.Body
	var adv time.Duration
	if ch.Advance != nil {
		d, err := ParseDuration(*ch.Advance)
		if err != nil {
			return nil, &problem.Problem{Kind: problem.Invalid, Message: err.Error(),
				Issues: []problem.Issue{{In: "body", Field: "advance", Rule: "format", Message: err.Error()}}}
		}
		adv = d
	}
	change := clock.Change{Reset: ch.Reset != nil && *ch.Reset, Freeze: ch.Freeze, Set: ch.Set}
	if ch.Advance != nil {
		change.Advance = &adv
	}
	if err := c.ChangeContext(ctx, change); err != nil {
		field := "set"
		var re *clock.RangeError
		if !errors.As(err, &re) {
			return nil, asProblem(err)
		}
		if re.Op == "advance" {
			field = "advance"
		}
		return nil, &problem.Problem{Kind: problem.Invalid, Message: err.Error(),
			Issues: []problem.Issue{{In: "body", Field: field, Rule: "range", Message: err.Error()}}}
	}
	doc, err := clockDoc(ctx, h.b)
	if err != nil {
		return nil, err
	}
	return gen.ChangeClock200JSONResponse(doc), nil
}

func clockDoc(ctx context.Context, b Backend) (gen.ClockState, error) {
	st, err := b.Clock().StateContext(ctx)
	if err != nil {
		return gen.ClockState{}, asProblem(err)
	}
	s := ClockStateOf(st)
	return gen.ClockState{Now: s.Now, Frozen: s.Frozen, Offset: s.Offset}, nil
}

func (h *handler) journal() (*journal.Journal, error) {
	j := h.b.Journal()
	if j == nil {
		return nil, problem.New(problem.NotFound, "the journal is disabled (--journal-size=-1)")
	}
	return j, nil
}

func (h *handler) ListJournal(ctx context.Context, r gen.ListJournalRequestObject) (gen.ListJournalResponseObject, error) {
	j, err := h.journal()
	if err != nil {
		return nil, err
	}
	q := journal.Query{}
	p := r.Params
	q.Operation, q.Vendor = deref(p.Operation), deref(p.Vendor)
	if p.Status != nil {
		q.Status = *p.Status
	}
	if p.Unmatched != nil {
		q.Unmatched = *p.Unmatched
	}
	if p.Limit != nil {
		q.Limit = *p.Limit
	}
	if p.Since != nil {
		q.Since = int64(*p.Since)
		if p.WaitMs != nil && *p.WaitMs > 0 {
			// A long poll: until a newer request, the wait or the client ends.
			wctx, cancel := context.WithTimeout(ctx, time.Duration(*p.WaitMs)*time.Millisecond)
			_, err := j.WaitContext(wctx, q.Since)
			cancel()
			if err != nil {
				return nil, asProblem(err)
			}
		}
	}
	doc, err := listDoc(ctx, j, q)
	if err != nil {
		return nil, err
	}
	return gen.ListJournal200JSONResponse(doc), nil
}

func (h *handler) ClearJournal(ctx context.Context, _ gen.ClearJournalRequestObject) (gen.ClearJournalResponseObject, error) {
	j, err := h.journal()
	if err != nil {
		return nil, err
	}
	if err := j.ClearContext(ctx); err != nil {
		return nil, asProblem(err)
	}
	return gen.ClearJournal204Response{}, nil
}

func (h *handler) FindJournal(ctx context.Context, r gen.FindJournalRequestObject) (gen.FindJournalResponseObject, error) {
	j, err := h.journal()
	if err != nil {
		return nil, err
	}
	q, err := queryOf(r.Body)
	if err != nil {
		return nil, err
	}
	doc, err := listDoc(ctx, j, q)
	if err != nil {
		return nil, err
	}
	return gen.FindJournal200JSONResponse(doc), nil
}

func (h *handler) CountJournal(ctx context.Context, r gen.CountJournalRequestObject) (gen.CountJournalResponseObject, error) {
	j, err := h.journal()
	if err != nil {
		return nil, err
	}
	q, err := queryOf(r.Body)
	if err != nil {
		return nil, err
	}
	n, err := j.CountContext(ctx, q)
	if err != nil {
		return nil, asProblem(err)
	}
	return gen.CountJournal200JSONResponse{Count: n}, nil
}

func (h *handler) ListUnmatched(ctx context.Context, _ gen.ListUnmatchedRequestObject) (gen.ListUnmatchedResponseObject, error) {
	j, err := h.journal()
	if err != nil {
		return nil, err
	}
	doc, err := listDoc(ctx, j, journal.Query{Unmatched: true})
	if err != nil {
		return nil, err
	}
	return gen.ListUnmatched200JSONResponse(doc), nil
}

func (h *handler) ReloadFixtures(ctx context.Context, _ gen.ReloadFixturesRequestObject) (gen.ReloadFixturesResponseObject, error) {
	rep := h.b.Reload(ctx)
	out := gen.ReloadFixtures200JSONResponse{Reloaded: nonNil(rep.Reloaded), Errors: nonNil(rep.Errors)}
	if len(rep.Skipped) > 0 {
		out.Skipped = &rep.Skipped
	}
	return out, nil
}

func (h *handler) ListOperations(context.Context, gen.ListOperationsRequestObject) (gen.ListOperationsResponseObject, error) {
	out := gen.ListOperations200JSONResponse{Operations: []gen.Operation{}}
	for _, op := range h.b.Operations() {
		out.Operations = append(out.Operations, gen.Operation{Vendor: op.Vendor, Operation: op.ID, Method: op.Method, Path: op.Path})
	}
	return out, nil
}
