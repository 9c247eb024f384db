// Package server assembles the mock: one Echo instance that serves every
// vendor at its real paths, validates each request against the vendor's
// spec before the handler runs, renders every failure in the owning
// vendor's error format, and shuts down gracefully.
package server

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/idpmock/idpmock/fixtures"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/validate"
)

// Config is the server's configuration; the zero value plus Defaults works.
type Config struct {
	Addr     string       // listen address, e.g. 127.0.0.1:4010
	Fixtures fs.FS        // seed data; nil means the embedded fixtures
	Log      *slog.Logger // nil means discard
	// Strict validates every response against the spec; a violation becomes
	// a 500 that names the broken field. Tests always run strict.
	Strict bool
	// CORS answers browsers' preflights and echoes the Origin.
	CORS bool
	// BodyLimit caps request bodies in bytes (413 past it).
	BodyLimit int64
	// ShutdownTimeout bounds how long in-flight requests may drain.
	ShutdownTimeout time.Duration
	// ReadTimeout, WriteTimeout and IdleTimeout guard the listener against slow clients.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
}

// Defaults fills unset fields.
func (c *Config) Defaults() {
	if c.Addr == "" {
		c.Addr = "127.0.0.1:4010"
	}
	if c.Fixtures == nil {
		c.Fixtures = fixtures.Data
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	if c.BodyLimit == 0 {
		c.BodyLimit = 1 << 20
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 10 * time.Second
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 30 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 60 * time.Second
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 120 * time.Second
	}
}

type mounted struct {
	vendor    Vendor
	validator *validate.Validator
}

// Server is a running (or ready to run) mock.
type Server struct {
	cfg    Config
	echo   *echo.Echo
	clock  *clock.Controlled
	owners []ownerPrefix // longest prefix first
	vendor map[string]*mounted
	ready  atomic.Bool
}

type ownerPrefix struct {
	prefix string
	m      *mounted
}

// VendorFactory builds a vendor from the server's shared dependencies.
type VendorFactory func(Deps) (Vendor, error)

// New builds a server for the given vendors and seeds their state.
func New(ctx context.Context, cfg Config, factories ...VendorFactory) (*Server, error) {
	cfg.Defaults()
	s := &Server{cfg: cfg, clock: clock.New(), vendor: map[string]*mounted{}}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	s.echo = e

	deps := Deps{Clock: s.clock, Log: cfg.Log}
	for _, f := range factories {
		v, err := f(deps)
		if err != nil {
			return nil, err
		}
		doc, err := v.Spec()
		if err != nil {
			return nil, fmt.Errorf("%s spec: %w", v.Name(), err)
		}
		val, err := validate.New(doc, v.BasePath())
		if err != nil {
			return nil, fmt.Errorf("%s: %w", v.Name(), err)
		}
		m := &mounted{vendor: v, validator: val}
		s.vendor[v.Name()] = m
		for _, p := range v.Prefixes() {
			s.owners = append(s.owners, ownerPrefix{prefix: p, m: m})
		}
		if err := v.Reset(ctx, cfg.Fixtures); err != nil {
			return nil, fmt.Errorf("%s fixtures: %w", v.Name(), err)
		}
	}
	sort.Slice(s.owners, func(i, j int) bool { return len(s.owners[i].prefix) > len(s.owners[j].prefix) })

	e.Use(s.recoverPanics)
	e.Use(s.logRequests)
	if cfg.CORS {
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOriginFunc:  func(string) (bool, error) { return true, nil },
			AllowCredentials: true,
			AllowHeaders:     []string{"*", "Authorization", "Content-Type", "Cookie", "Connect-Protocol-Version", "Connect-Timeout-Ms", "Prefer", "X-Ping-External-Transaction-ID", "X-Ping-External-Session-ID"},
			AllowMethods:     []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodPost, http.MethodDelete},
			ExposeHeaders:    []string{"Correlation-Id", "Retry-After", "Location", "X-Idpmock-Operation"},
			MaxAge:           600,
		}))
	}
	e.Use(s.validateRequests)

	e.GET("/healthz", func(c echo.Context) error {
		if !s.ready.Load() {
			return c.JSON(http.StatusServiceUnavailable, map[string]string{"status": "starting"})
		}
		return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
	})
	e.POST("/__mock/reset", s.handleReset)
	for _, m := range s.vendor {
		m.vendor.Register(e)
	}
	return s, nil
}

// Handler is the server's HTTP handler, ready to serve.
func (s *Server) Handler() http.Handler {
	s.ready.Store(true)
	return s.echo
}

// Echo exposes the Echo instance so other generic parts (admin API) can mount routes.
func (s *Server) Echo() *echo.Echo { return s.echo }

// Clock is the server's clock, shared by every vendor.
func (s *Server) Clock() *clock.Controlled { return s.clock }

// Reset reseeds one vendor (by name) or all (name "").
func (s *Server) Reset(ctx context.Context, name string) error {
	if name != "" {
		m, ok := s.vendor[name]
		if !ok {
			return fmt.Errorf("no vendor %q", name)
		}
		return m.vendor.Reset(ctx, s.cfg.Fixtures)
	}
	for _, m := range s.vendor {
		if err := m.vendor.Reset(ctx, s.cfg.Fixtures); err != nil {
			return fmt.Errorf("%s: %w", m.vendor.Name(), err)
		}
	}
	return nil
}

func (s *Server) handleReset(c echo.Context) error {
	name := c.QueryParam("vendor")
	if err := s.Reset(c.Request().Context(), name); err != nil {
		return c.JSON(http.StatusBadRequest, map[string]string{"message": err.Error()})
	}
	return c.NoContent(http.StatusNoContent)
}

// Run listens on cfg.Addr and serves until ctx ends, then drains in-flight
// requests for up to cfg.ShutdownTimeout. ready, if not nil, receives the
// bound address once the listener is open.
func (s *Server) Run(ctx context.Context, ready func(addr net.Addr)) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln, ready)
}

// Serve is Run on an existing listener.
func (s *Server) Serve(ctx context.Context, ln net.Listener, ready func(addr net.Addr)) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadTimeout:       s.cfg.ReadTimeout,
		ReadHeaderTimeout: s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.WriteTimeout,
		IdleTimeout:       s.cfg.IdleTimeout,
		MaxHeaderBytes:    1 << 20,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
		ErrorLog:          slog.NewLogLogger(s.cfg.Log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.cfg.Log.Info("idpmock listening", "addr", ln.Addr().String())
	if ready != nil {
		ready(ln.Addr())
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.ready.Store(false)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	s.cfg.Log.Info("shutting down", "drain_timeout", s.cfg.ShutdownTimeout.String())
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// owner finds the vendor that owns a URL path.
func (s *Server) owner(path string) *mounted {
	for _, o := range s.owners {
		if strings.HasPrefix(path, o.prefix) {
			return o.m
		}
	}
	return nil
}
