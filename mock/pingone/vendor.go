// Package pingone is the PingOne face of idpmock: the Sessions service and
// the User Sessions endpoints of the PingOne Platform API, stateful, with
// PingOne's derived fields and error bodies. It implements the strict server
// generated in gen/pingone and plugs into mock/server as a server.Vendor.
package pingone

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	gen "github.com/idpmock/idpmock/gen/pingone"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/server"
	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/state/stores"
)

const (
	basePath          = "/v1"
	correlationHeader = "Correlation-Id"
	// maxSessionsPerUser is how many sessions PingOne keeps per user,
	// expired ones included; the oldest goes first.
	maxSessionsPerUser = 10
	// maxLocations is how many locations a session keeps.
	maxLocations = 5

	indexToken = "token" // environment + session token
	indexUser  = "user"  // environment + user
	indexEnv   = "env"   // environment, to count its sessions
)

// Options tune the PingOne vendor where PingOne's behaviour is a choice.
type Options struct {
	// BaseURL is the absolute API base used in _links, /v1 included (for
	// example "https://api.pingone.com/v1"). Empty: the request's own scheme
	// and host plus /v1, so links work against the mock.
	BaseURL string
	// KnownEnvironmentsOnly answers 403 ACCESS_FAILED for environments that
	// are not in the fixtures, as PingOne does for an environment that does
	// not exist. By default any environment ID is accepted.
	KnownEnvironmentsOnly bool
}

// Vendor serves PingOne. Create it with New or Factory.
type Vendor struct {
	opts  Options
	max   int // sessions per environment; 0: no cap
	clock clock.Clock
	log   *slog.Logger
	spec  *openapi3.T

	// mu serialises this process's writes that touch more than one session
	// (token claims, the per-user cap), which spares them needless
	// conflicts; correctness does not depend on it, as other replicas
	// sharing the store do not take it.
	mu       sync.Mutex
	sessions state.Store[*session]
	seed     atomic.Pointer[seed]
}

var (
	_ server.Vendor             = (*Vendor)(nil)
	_ server.Stateful           = (*Vendor)(nil)
	_ server.Reloader           = (*Vendor)(nil)
	_ gen.StrictServerInterface = (*Vendor)(nil)
)

// Every answer carries a fresh Correlation-Id and every error a fresh id;
// drawing their randomness from a pool keeps crypto/rand off the hot path.
func init() { uuid.EnableRandPool() }

// Factory returns a server.VendorFactory for PingOne with opts.
func Factory(opts Options) server.VendorFactory {
	return func(d server.Deps) (server.Vendor, error) { return New(d, opts) }
}

// New builds the vendor with empty state; the server seeds it through Reset.
func New(d server.Deps, opts Options) (*Vendor, error) {
	spec, err := gen.GetSpec()
	if err != nil {
		return nil, err
	}
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	clk := d.Clock
	if clk == nil {
		clk = clock.New()
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	v := &Vendor{opts: opts, max: d.MaxSessions, clock: clk, log: log.With("vendor", "pingone"), spec: spec}
	sessions, err := stores.OpenStore(d.Stores, stores.Spec[*session]{
		Name: "pingone:sessions",
		Key:  func(s *session) string { return s.ID.String() },
		Indexes: []state.Index[*session]{
			{Name: indexToken, Keys: func(s *session) []string {
				if s.Token == "" {
					return nil
				}
				return []string{tokenKey(s.EnvID, s.Token)}
			}},
			{Name: indexEnv, Keys: func(s *session) []string { return []string{s.EnvID.String()} }},
			{Name: indexUser, Keys: func(s *session) []string {
				if s.UserID == uuid.Nil {
					return nil
				}
				return []string{userKey(s.EnvID, s.UserID)}
			}},
		},
		// The caps are the store's, checked as it creates (across replicas
		// on a shared store): an environment's sessions (the mock's
		// --max-sessions) and a user's (PingOne's 10, see createSession for
		// how a full user makes room).
		IndexLimits: map[string]int{indexEnv: d.MaxSessions, indexUser: maxSessionsPerUser},
		Budget:      d.Sessions,
		TTL:         safetyTTL,
	})
	if err != nil {
		return nil, err
	}
	v.sessions = sessions
	v.observeChanges(d.Changes)
	v.seed.Store(&seed{})
	return v, nil
}

// Redis keeps a session for its remaining mock lifetime when written plus
// a margin, never less than an hour: a safety net against a full Redis
// (expiry itself follows the mock clock, which can be moved); sessions that
// outlive maxSafetyTTL are kept that long.
const (
	ttlMargin    = 24 * time.Hour
	minSafetyTTL = time.Hour
	maxSafetyTTL = 100 * 365 * 24 * time.Hour
)

func safetyTTL(s *session) time.Duration {
	// In seconds: ExpiresAt may be in year 9999, past time.Duration.
	left := s.ExpiresAt().Unix() - s.WrittenAt.Unix()
	if left > int64((maxSafetyTTL-ttlMargin)/time.Second) {
		return maxSafetyTTL
	}
	return max(time.Duration(left)*time.Second+ttlMargin, minSafetyTTL)
}

// lastSeq is the last Seq handed out in this process.
var lastSeq atomic.Int64

// nextSeq orders sessions created at the same mock instant: the wall
// clock in nanoseconds, made strictly increasing in this process. Replicas
// need no shared counter (no Redis round trip): their wall clocks order
// their creates as well as PingOne's own servers would.
func nextSeq() uint64 {
	for {
		last, now := lastSeq.Load(), time.Now().UnixNano()
		if now <= last {
			now = last + 1
		}
		if lastSeq.CompareAndSwap(last, now) {
			return uint64(now)
		}
	}
}

func tokenKey(env uuid.UUID, token string) string { return env.String() + "/" + token }
func userKey(env, user uuid.UUID) string          { return env.String() + "/" + user.String() }

// Name is the vendor's name and fixtures folder.
func (v *Vendor) Name() string { return "pingone" }

// Spec is the embedded, generated-from spec, parsed once in New: parsing
// it is most of the mock's start-up time.
func (v *Vendor) Spec() (*openapi3.T, error) { return v.spec, nil }

// BasePath is /v1: the spec's paths carry no version prefix.
func (v *Vendor) BasePath() string { return basePath }

// Prefixes: everything under /v1 answers in PingOne's format.
func (v *Vendor) Prefixes() []string { return []string{basePath + "/"} }

// Register mounts the generated handlers under /v1.
func (v *Vendor) Register(e *echo.Echo) {
	h := gen.NewStrictHandler(v, []gen.StrictMiddlewareFunc{v.withRequestInfo})
	gen.RegisterHandlersWithBaseURL(e, h, basePath)
}

// Reset drops every session and seeds again from fixtures.
func (v *Vendor) Reset(ctx context.Context, fixtures fs.FS) error {
	sd, sessions, err := v.loadSeed(ctx, fixtures)
	if err != nil {
		return err
	}
	if err := v.overCaps(sessions); err != nil {
		return fmt.Errorf("pingone fixtures: sessions: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	// One Load: all or nothing, and other replicas see before or after.
	if err := v.sessions.Load(ctx, sessions); err != nil {
		return err
	}
	v.seed.Store(sd)
	v.log.DebugContext(ctx, "seeded", "environments", len(sd.envs), "users", len(sd.users), "sessions", len(sessions))
	return nil
}

// requestInfo is what handlers need from the HTTP request beyond the
// generated request object.
type requestInfo struct {
	base        string // API base for _links, /v1 included
	clientIP    string
	contentType string
}

type infoKey struct{}

// withRequestInfo hands the request's base URL, client IP and Content-Type
// to the strict handlers (which only get a context.Context), and stamps the
// Correlation-Id header PingOne sends on every response.
func (v *Vendor) withRequestInfo(f gen.StrictHandlerFunc, _ string) gen.StrictHandlerFunc {
	return func(c echo.Context, req any) (any, error) {
		r := c.Request()
		info := requestInfo{
			base:        v.opts.BaseURL,
			clientIP:    c.RealIP(),
			contentType: r.Header.Get(echo.HeaderContentType),
		}
		if info.base == "" {
			info.base = c.Scheme() + "://" + r.Host + basePath
		}
		c.Response().Header().Set(correlationHeader, uuid.NewString())
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), infoKey{}, info)))
		return f(c, req)
	}
}

func infoFrom(ctx context.Context) requestInfo {
	info, _ := ctx.Value(infoKey{}).(requestInfo)
	return info
}
