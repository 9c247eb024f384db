// Package zitadel is the ZITADEL face of the mock: the Session Service v2
// over REST (grpc-gateway) and, transcoded into it (rpc.go), gRPC, gRPC-Web
// and Connect (binary and JSON), served from one stateful core with
// ZITADEL's error bodies, ids and messages.
package zitadel

import (
	"context"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	gen "github.com/idpmock/idpmock/gen/zitadel"
	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/server"
	"github.com/idpmock/idpmock/mock/validate"
)

// connectPrefix starts every Connect procedure path of ZITADEL's services.
const connectPrefix = "/zitadel."

// Vendor serves ZITADEL's Session Service v2.
type Vendor struct {
	svc  *service
	spec *openapi3.T
	log  *slog.Logger
	// bodyLimit caps RPC messages as the server caps REST bodies.
	bodyLimit int64
}

var (
	_ server.Vendor             = (*Vendor)(nil)
	_ server.RequestNormalizer  = (*Vendor)(nil)
	_ server.Stateful           = (*Vendor)(nil)
	_ server.Reloader           = (*Vendor)(nil)
	_ gen.StrictServerInterface = (*Vendor)(nil)
)

// New builds the vendor; state is seeded by Reset.
func New(d server.Deps) (server.Vendor, error) {
	spec, err := gen.GetSpec()
	if err != nil {
		return nil, fmt.Errorf("zitadel spec: %w", err)
	}
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	svc, err := newService(d.Clock, log, d.MaxSessions, d.Stores, d.Sessions)
	if err != nil {
		return nil, err
	}
	v := &Vendor{svc: svc, spec: spec, log: log, bodyLimit: d.BodyLimit}
	v.observeChanges(d.Changes)
	return v, nil
}

func (v *Vendor) Name() string { return "zitadel" }

// Spec is the spec parsed once in New (parsing it is most of the start-up
// time); the server's validator registers formats on it, which the
// fixture checks that share it do not depend on.
func (v *Vendor) Spec() (*openapi3.T, error) { return v.spec, nil }

// BasePath is empty: the spec's paths carry /v2 and the Connect service name.
func (v *Vendor) BasePath() string { return "" }

// Prefixes are ZITADEL's API paths: REST v2 (and v2beta, not mocked, so it
// gets ZITADEL's 404) and every Connect/gRPC service.
func (v *Vendor) Prefixes() []string { return []string{"/v2/", "/v2beta/", connectPrefix} }

// Register mounts the generated handlers.
func (v *Vendor) Register(e *echo.Echo) {
	gen.RegisterHandlersWithBaseURL(e, gen.NewStrictHandler(v, []gen.StrictMiddlewareFunc{v.withBearer}), v.BasePath())
}

// withBearer hands the caller's token to the core (for creator queries),
// after refusing a body with a repeated member as protojson does (Go's
// decoder, which the generated code uses, keeps the last one).
func (v *Vendor) withBearer(f gen.StrictHandlerFunc, op string) gen.StrictHandlerFunc {
	return func(c echo.Context, req any) (any, error) {
		if name, line, col, dup := duplicateKey(validate.Body(c.Request())); dup {
			return nil, duplicateErr(connect(c), requestMessage(server.ExchangeOf(c).Operation), name, line, col)
		}
		scheme, tok, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		if strings.EqualFold(scheme, "bearer") {
			r := c.Request()
			c.SetRequest(r.WithContext(context.WithValue(r.Context(), bearerKey{}, strings.TrimSpace(tok))))
		}
		return f(c, req)
	}
}

// NormalizeRequest mirrors grpc-gateway, which decodes any REST body as JSON
// whatever its Content-Type. Connect requests are left alone: their
// Content-Type selects the codec.
func (v *Vendor) NormalizeRequest(r *http.Request) {
	if isConnect(r.URL.Path) || r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json")) {
		return
	}
	r.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
}

func isConnect(path string) bool { return strings.HasPrefix(path, connectPrefix) }

// WriteError renders p as the face of the request expects: a grpc-gateway
// status on REST paths, a Connect error on Connect paths.
func (v *Vendor) WriteError(c echo.Context, p *problem.Problem) error {
	if refusedAnswer(c) {
		return nil // an RPC call the transcoder refused, here for the journal
	}
	return v.writeErr(c, v.fromProblem(c, p))
}

func (v *Vendor) writeErr(c echo.Context, e *zerr) error { return e.WriteAnswer(c) }

var _ server.VendorError = (*zerr)(nil)

// HTTPStatus is the REST status of e (Connect's differs only in form).
func (e *zerr) HTTPStatus() int {
	if e.status != 0 {
		return e.status
	}
	return httpStatus(e.code)
}

// WriteAnswer answers as the request's face expects: a grpc-gateway status
// on REST paths, a Connect error on Connect paths. *zerr is ZITADEL's
// server.VendorError.
func (e *zerr) WriteAnswer(c echo.Context) error {
	if isConnect(c.Request().URL.Path) {
		st, body := e.connectBody()
		if e.status == http.StatusUnsupportedMediaType {
			c.Response().Header().Set("Accept-Post", acceptPost)
		}
		return c.JSON(st, body)
	}
	st, body := e.restBody()
	return c.JSON(st, body)
}
