package server

import (
	"context"
	"encoding/json"
	"io/fs"
	"log/slog"
	"net/http"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/state/stores"
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

// VendorError is the one error type a vendor's handler returns for a
// failure it decided itself: already in the vendor's terms (status and
// body). The render step lets it answer as it is; it never travels inside
// a problem.Problem. Generic failures (validation, limits, panics) are
// problems, which the vendor's WriteError words with the exchange in hand.
type VendorError interface {
	error
	// HTTPStatus is the status of the answer (for the log and for telling
	// a client that left from a server error).
	HTTPStatus() int
	// WriteAnswer answers the request with the error.
	WriteAnswer(c echo.Context) error
}

// RequestNormalizer is implemented by vendors whose real server is lenient
// about a request in a way the spec cannot say (for example a gateway that
// reads JSON whatever the Content-Type). It runs before validation.
type RequestNormalizer interface {
	NormalizeRequest(r *http.Request)
}

// RequestDecoder is implemented by vendors whose real server decodes the
// body with a library whose leniency and errors the spec cannot express
// (ZITADEL: protojson, dropping unknown members and enum names, taking
// enum numbers). DecodeRequest runs after NormalizeRequest and before
// validation; it may replace r.Body with its normalized form, and a
// problem it returns (Kind Invalid) is the request's validation failure.
type RequestDecoder interface {
	DecodeRequest(r *http.Request, operationID string) *problem.Problem
}

// Deps are what the server hands every vendor.
type Deps struct {
	Clock clock.Clock
	Log   *slog.Logger
	// MaxSessions caps the sessions a vendor stores per tenant (PingOne
	// environment, ZITADEL instance); 0 means no cap. Past it, creating a
	// session fails with the vendor's resource-exhausted error.
	MaxSessions int
	// Sessions bounds the sessions of every vendor and tenant together
	// (--max-total-sessions); a vendor counts its session store in it
	// (Memory.SetBudget). Past it, a create fails with state.ErrFull (a
	// *state.BudgetError), to answer with the vendor's resource-exhausted
	// error; nil means no bound.
	Sessions *state.Budget
	// Changes hears each change to a vendor's stored records, so that a
	// persisted state (--state-file) is saved as a change log instead of
	// rewritten whole; see Incremental. Never nil.
	Changes Changes
	// BodyLimit is the largest request body the server takes, in bytes.
	BodyLimit int64
	// Stores opens the vendor's stores (stores.OpenStore): in memory or in
	// Redis, shared with other replicas; nil means memory.
	Stores *stores.Backend
}

// Fronter is implemented by vendors that speak protocols beside their
// OpenAPI routes (ZITADEL's gRPC, gRPC-Web and Connect). Front wraps the
// server's handler; it may translate requests into the vendor's routes so
// they pass the same validation, overrides and journal as REST calls.
type Fronter interface {
	Front(next http.Handler) http.Handler
}

// Stateful is implemented by vendors whose state can be saved and loaded
// (GET/PUT /__mock/state). SnapshotState returns the vendor's whole state
// in a JSON format of its choice; RestoreState replaces the state with
// such a document, or fails without changing anything. Times in the
// snapshot are absolute, so the server restores its clock alongside.
type Stateful interface {
	SnapshotState(ctx context.Context) (json.RawMessage, error)
	RestoreState(ctx context.Context, doc json.RawMessage) error
}

// Reloader is implemented by vendors that can take edited fixtures while
// running (--watch, POST /__mock/reload) without dropping live state such
// as sessions. Reload must validate everything first and change nothing
// when it fails, so a bad edit keeps the previous version.
type Reloader interface {
	Reload(ctx context.Context, fixtures fs.FS) error
}
