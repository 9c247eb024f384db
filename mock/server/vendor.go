package server

import (
	"context"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/problem"
)

// Vendor is one identity provider's face of the mock: its spec, its
// handlers, its error format and its state. The server knows vendors only
// through this interface.
type Vendor interface {
	// Name is the vendor's short name, also its fixtures folder ("pingone").
	Name() string
	// Spec is the OpenAPI document the vendor's code was generated from.
	Spec() (*openapi3.T, error)
	// BasePath is where the spec's paths are mounted ("/v1", or "").
	BasePath() string
	// Prefixes are the URL path prefixes the vendor owns, so unknown paths
	// and methods under them get the vendor's error format.
	Prefixes() []string
	// Register mounts the generated handlers on e under BasePath.
	Register(e *echo.Echo)
	// WriteError answers the request with p in the vendor's error format.
	WriteError(c echo.Context, p *problem.Problem) error
	// Reset drops all state and seeds it again from fixtures, whose root
	// holds one folder per vendor.
	Reset(ctx context.Context, fixtures fs.FS) error
}

// RequestNormalizer is implemented by vendors whose real server is lenient
// about a request in a way the spec cannot say (for example a gateway that
// reads JSON whatever the Content-Type). It runs before validation.
type RequestNormalizer interface {
	NormalizeRequest(r *http.Request)
}

// Deps are what the server hands every vendor.
type Deps struct {
	Clock clock.Clock
	Log   *slog.Logger
}
