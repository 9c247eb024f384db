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
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/idpmock/idpmock/fixtures"
	"github.com/idpmock/idpmock/mock/admin"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/override"
	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/state/stores"
	"github.com/idpmock/idpmock/mock/validate"
)

// Config is the server's configuration; the zero value plus Defaults works,
// and DefaultConfig is what the command line starts from.
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

	// Admin configures the control API under /__mock/ (on by default).
	Admin AdminConfig
	// AllowOffSpec lets overrides answer statuses and bodies the vendor's
	// spec does not declare for the operation.
	AllowOffSpec bool
	// JournalSize bounds the request journal: 0 means journal.DefaultSize,
	// a negative value turns the journal off (as --journal-size does).
	JournalSize int
	// KeepSecrets stores credentials (Authorization, cookies, passwords,
	// OTP codes, tokens) in the journal as sent instead of redacted.
	KeepSecrets bool
	// FixturesDir is the directory behind Fixtures, if any (--fixtures);
	// Fixtures defaults to os.DirFS(FixturesDir) when nil.
	FixturesDir string
	// Watch reloads fixtures and the overrides file when FixturesDir changes.
	Watch bool
	// OverridesFile holds overrides loaded at start and on reload; empty
	// means FixturesDir/overrides.json (if FixturesDir is set). A missing
	// file means no file overrides.
	OverridesFile string
	// StateFile is a state document (GET /__mock/state) loaded at start
	// and never written (--state): a seed.
	StateFile string
	// PersistFile keeps the state across restarts (--state-file): loaded at
	// start when it exists (StateFile seeds it otherwise), saved atomically
	// shortly after every change and at shutdown.
	PersistFile string
	// PersistLogMax is the size in bytes past which the change log is
	// compacted onto the snapshot; 0 means the snapshot's size (at least
	// DefaultPersistLogMax).
	PersistLogMax int64
	// PersistDelay is how long after a change the state is saved; changes
	// in between are saved together.
	PersistDelay time.Duration
	// MaxSessions caps the sessions stored per tenant (PingOne environment,
	// ZITADEL instance): 0 means DefaultMaxSessions, negative means no cap.
	MaxSessions int
	// MaxTotalSessions caps the sessions stored by all vendors in all
	// tenants together, a bound on memory: 0 means DefaultMaxTotalSessions,
	// negative means no cap.
	MaxTotalSessions int
	// Store is where the state lives (--store): "" or "memory" for this
	// process's memory, a redis:// or rediss:// URL to share it with other
	// replicas. StorePrefix starts every Redis key (--store-prefix).
	Store       string
	StorePrefix string
	// Stores, when set, is an already open backend (tests share one between
	// two servers); it wins over Store, and the caller closes it.
	Stores *stores.Backend
}

// DefaultMaxTotalSessions is the default process-wide session cap (about
// 0.5 GB of memory at ~2 KB a session).
const DefaultMaxTotalSessions = 250_000

// DefaultMaxSessions is the default per-tenant session cap: far above what a
// test suite stores, low enough that a runaway client cannot exhaust memory.
const DefaultMaxSessions = 100_000

// DefaultPersistDelay is the default Config.PersistDelay.
const DefaultPersistDelay = 100 * time.Millisecond

// AdminConfig configures the /__mock/ control API.
type AdminConfig struct {
	// Disabled leaves /__mock/ unmounted (--admin=false).
	Disabled bool
	// Token, if set, is required as "Authorization: Bearer <Token>".
	Token string
	// CORSOrigins are browser origins (scheme://host[:port]) allowed to
	// call the control API (--admin-cors); others stay refused.
	CORSOrigins []string
}

// Defaults fills unset fields, numeric ones from DefaultConfig. A zero
// numeric field means "the default" and a negative cap or journal size
// means "none", on the command line as here.
func (c *Config) Defaults() {
	d := DefaultConfig()
	if c.Addr == "" {
		c.Addr = d.Addr
	}
	if c.Fixtures == nil && c.FixturesDir != "" {
		c.Fixtures = os.DirFS(c.FixturesDir)
	}
	if c.Fixtures == nil {
		c.Fixtures = fixtures.Data
	}
	if c.OverridesFile == "" && c.FixturesDir != "" {
		// May not exist yet: --watch picks it up once created.
		c.OverridesFile = filepath.Join(c.FixturesDir, OverridesFileName)
	}
	if c.Log == nil {
		c.Log = slog.New(slog.DiscardHandler)
	}
	for _, f := range []struct{ v, d *time.Duration }{
		{&c.ShutdownTimeout, &d.ShutdownTimeout}, {&c.ReadTimeout, &d.ReadTimeout},
		{&c.WriteTimeout, &d.WriteTimeout}, {&c.IdleTimeout, &d.IdleTimeout},
	} {
		if *f.v == 0 {
			*f.v = *f.d
		}
	}
	if c.BodyLimit == 0 {
		c.BodyLimit = d.BodyLimit
	}
	if c.JournalSize == 0 {
		c.JournalSize = d.JournalSize
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = d.MaxSessions
	}
	if c.MaxTotalSessions == 0 {
		c.MaxTotalSessions = d.MaxTotalSessions
	}
	if c.PersistDelay <= 0 {
		c.PersistDelay = d.PersistDelay
	}
}

type mounted struct {
	vendor    Vendor
	validator *validate.Validator
}

// OverridesFileName is the overrides file looked for in --fixtures DIR.
const OverridesFileName = "overrides.json"

// Server is a running (or ready to run) mock.
type Server struct {
	cfg       Config
	echo      *echo.Echo
	clock     *clock.Controlled
	owners    []ownerPrefix // longest prefix first
	vendor    map[string]*mounted
	names     []string // vendor names, sorted
	ops       map[string]opRef
	ready     atomic.Bool
	journal   *journal.Journal // nil when off
	redact    *journal.Redactor
	overrides *override.Set
	reloadMu  sync.Mutex
	// fixturesSeen is the shared fixtures version this replica's fixtures
	// are at (clock.Settings.Fixtures).
	fixturesSeen atomic.Int64
	persist      *persister // nil without PersistFile
	stores       *stores.Backend
	bus          state.Bus // nil on memory
	stopBus      func()
	ownStores    bool       // opened by New, closed by Close
	changes      changeFeed // record changes, to persist when persisting
}

// opRef locates an operation by its operationId.
type opRef struct {
	m     *mounted
	route *routers.Route
}

type ownerPrefix struct {
	prefix string
	m      *mounted
}

// VendorFactory builds a vendor from the server's shared dependencies.
type VendorFactory func(Deps) (Vendor, error)

// New builds a server for the given vendors and seeds their state.
func New(ctx context.Context, cfg Config, factories ...VendorFactory) (*Server, error) {
	if err := checkOverridesFlag(cfg.OverridesFile); err != nil {
		return nil, err // only the default <fixtures>/overrides.json may be absent
	}
	cfg.Defaults()
	backend, ownBackend := cfg.Stores, false
	if backend == nil {
		b, err := stores.Open(ctx, cfg.Store, stores.Options{Prefix: cfg.StorePrefix})
		if err != nil {
			return nil, fmt.Errorf("--store %s: %w", stores.Redact(cfg.Store), err)
		}
		backend, ownBackend = b, true
	}
	if backend.Shared() && cfg.PersistFile != "" {
		if ownBackend {
			backend.Close()
		}
		return nil, errors.New("--state-file keeps the memory store across restarts; with --store redis:// Redis keeps the state")
	}
	s := &Server{cfg: cfg, clock: clock.New(), vendor: map[string]*mounted{}, ops: map[string]opRef{}, overrides: override.NewSet(),
		stores: backend, ownStores: ownBackend}
	if backend.Shared() {
		s.shareControl(cfg.JournalSize)
	} else if cfg.JournalSize >= 0 {
		s.journal = journal.New(cfg.JournalSize)
	}
	if !cfg.KeepSecrets {
		s.redact = journal.DefaultRedactor
		// Every log line, the vendors' included, goes through the redactor.
		cfg.Log = slog.New(redactHandler{inner: cfg.Log.Handler(), r: s.redact})
		s.cfg.Log = cfg.Log
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	s.echo = e

	deps := Deps{Clock: s.clock, Log: cfg.Log, MaxSessions: max(cfg.MaxSessions, 0), Changes: &s.changes,
		Sessions: state.NewBudget(cfg.MaxTotalSessions, "sessions"), BodyLimit: cfg.BodyLimit, Stores: backend}
	// Building a vendor (parsing its spec, preparing its validator, loading
	// its fixtures) is most of start-up and independent per vendor, so the
	// vendors are built side by side while the admin API is mounted.
	built := make([]*mounted, len(factories))
	errs := make([]error, len(factories))
	var wg sync.WaitGroup
	for i, f := range factories {
		wg.Add(1)
		go func() {
			defer wg.Done()
			built[i], errs[i] = buildVendor(ctx, f, deps, cfg.Fixtures)
		}()
	}
	var adminErr error
	if !cfg.Admin.Disabled {
		adminErr = admin.Register(e, s, admin.Options{Token: cfg.Admin.Token, AllowOrigins: cfg.Admin.CORSOrigins})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		s.closeStores()
		return nil, err
	}
	if s.clock.Shared() {
		// The fixtures just loaded are at least as new as any reload so far.
		st, err := s.clock.SettingsContext(ctx)
		if err == nil {
			err = s.startBus()
		}
		if err != nil {
			s.closeStores()
			return nil, err
		}
		s.fixturesSeen.Store(st.Fixtures)
	}
	if adminErr != nil {
		return nil, adminErr
	}
	for _, m := range built {
		v, val := m.vendor, m.validator
		if _, dup := s.vendor[v.Name()]; dup {
			return nil, fmt.Errorf("vendor %q registered twice", v.Name())
		}
		s.vendor[v.Name()] = m
		s.names = append(s.names, v.Name())
		for _, r := range val.Operations() {
			id := r.Operation.OperationID
			if prev, dup := s.ops[id]; dup && id != "" {
				return nil, fmt.Errorf("operationId %q is served by both %s and %s", id, prev.m.vendor.Name(), v.Name())
			}
			s.ops[id] = opRef{m: m, route: r}
		}
		for _, p := range v.Prefixes() {
			s.owners = append(s.owners, ownerPrefix{prefix: p, m: m})
		}
	}
	sort.Slice(s.owners, func(i, j int) bool { return len(s.owners[i].prefix) > len(s.owners[j].prefix) })
	sort.Strings(s.names)

	// The pipeline (pipeline.go): its outer steps, the CORS layers, its inner steps.
	e.Use(s.outerSteps)
	if cfg.CORS {
		e.Use(middleware.CORSWithConfig(middleware.CORSConfig{
			// The admin API gets no CORS headers: browsers then refuse
			// cross-origin calls, and the admin guard refuses the rest.
			Skipper:          func(c echo.Context) bool { return isAdminPath(c.Request().URL.Path) },
			AllowOriginFunc:  func(string) (bool, error) { return true, nil },
			AllowCredentials: true,
			// No AllowHeaders: the preflight echoes whatever headers the page
			// asks for, so any client header passes (a literal "*" does not
			// count as a wildcard when credentials are allowed).
			AllowMethods:  []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodPost, http.MethodDelete},
			ExposeHeaders: []string{"Correlation-Id", "Retry-After", "Location", "X-Idpmock-Override", "X-Idpmock-Violations", "Preference-Applied", "Content-Length", "Date"},
			MaxAge:        600,
		}))
	}
	if len(cfg.Admin.CORSOrigins) > 0 && !cfg.Admin.Disabled {
		e.Use(adminCORS(cfg.Admin.CORSOrigins))
	}
	e.Use(s.innerSteps)

	e.GET("/healthz", s.healthz)
	e.GET("/", s.home)
	for _, name := range s.names {
		s.vendor[name].vendor.Register(e)
	}
	if cfg.OverridesFile != "" {
		if err := s.loadOverridesFile(ctx); err != nil {
			return nil, err
		}
	}
	if cfg.PersistFile != "" {
		if err := s.startPersisting(ctx); err != nil {
			return nil, err
		}
	} else if cfg.StateFile != "" {
		if err := s.loadStateFile(ctx, cfg.StateFile); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func isAdminPath(p string) bool {
	return strings.HasPrefix(p, admin.Prefix) || p == strings.TrimSuffix(admin.Prefix, "/")
}

// settle hands the heap that start-up used and dropped (the scaffolding of
// parsed specs, schema compilers) back to the OS, so an idle mock stays
// small. It runs after the listener is up, off the start-up path.
func (s *Server) settle() {
	debug.FreeOSMemory()
}

// buildVendor makes a vendor, its validator and its seeded state. On a
// shared store only the first replica ever started seeds it; the others
// (and a restarted one) keep the shared state and load the fixtures' local
// parts (Reloader), so a restart loses no session.
func buildVendor(ctx context.Context, f VendorFactory, deps Deps, fixtures fs.FS) (*mounted, error) {
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
	if err := seed(ctx, v, deps.Stores, fixtures); err != nil {
		return nil, fmt.Errorf("%s fixtures: %w", v.Name(), err)
	}
	return &mounted{vendor: v, validator: val}, nil
}

// Handler is the server's HTTP handler, ready to serve.
func (s *Server) Handler() http.Handler {
	s.ready.Store(true)
	var h http.Handler = s.echo
	for _, n := range s.names {
		if f, ok := s.vendor[n].vendor.(Fronter); ok {
			h = f.Front(h)
		}
	}
	return h
}

// Echo exposes the Echo instance so other generic parts (admin API) can mount routes.
func (s *Server) Echo() *echo.Echo { return s.echo }

// Clock is the server's clock, shared by every vendor.
func (s *Server) Clock() *clock.Controlled { return s.clock }

// Reset reseeds one vendor (by name) or all (name "") from the fixtures.
func (s *Server) Reset(ctx context.Context, name string) error {
	if name != "" {
		m, ok := s.vendor[name]
		if !ok {
			return problem.New(problem.NotFound, "no vendor %q (have %s)", name, strings.Join(s.names, ", "))
		}
		return m.vendor.Reset(ctx, s.cfg.Fixtures)
	}
	for _, n := range s.names {
		if err := s.vendor[n].vendor.Reset(ctx, s.cfg.Fixtures); err != nil {
			return fmt.Errorf("%s: %w", n, err)
		}
	}
	return nil
}

// ResetAll is a fresh start: fixtures for every vendor, the wall clock, no
// overrides but the overrides file's (re-armed), an empty journal.
func (s *Server) ResetAll(ctx context.Context) error {
	if err := s.clock.ResetContext(ctx); err != nil {
		return fmt.Errorf("clock: %w", err)
	}
	if err := s.overrides.ClearContext(ctx); err != nil {
		return fmt.Errorf("overrides: %w", err)
	}
	if s.journal != nil {
		if err := s.journal.ClearContext(ctx); err != nil {
			return fmt.Errorf("journal: %w", err)
		}
	}
	if s.cfg.OverridesFile != "" {
		if err := s.loadOverridesFile(ctx); err != nil {
			s.cfg.Log.Warn("overrides file not re-armed", "err", err)
		}
	}
	return s.Reset(ctx, "")
}

// Journal is the request journal, nil when it is off.
func (s *Server) Journal() *journal.Journal { return s.journal }

// Overrides are the live overrides.
func (s *Server) Overrides() *override.Set { return s.overrides }

// Operations lists every vendor operation.
func (s *Server) Operations() []admin.Operation {
	var out []admin.Operation
	for _, n := range s.names {
		m := s.vendor[n]
		for _, r := range m.validator.Operations() {
			out = append(out, admin.Operation{Vendor: n, ID: r.Operation.OperationID, Method: r.Method, Path: m.vendor.BasePath() + r.Path})
		}
	}
	return out
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
		Protocols:         Protocols(),
	}
	if s.journal != nil {
		// Long polls of the journal (the dashboard) answer at once.
		hs.RegisterOnShutdown(s.journal.Wake)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	if s.cfg.Watch {
		if err := s.Watch(ctx); err != nil {
			_ = hs.Close()
			return err
		}
	}
	s.cfg.Log.Debug("idpmock listening", "addr", ln.Addr().String()) // the command logs a banner
	if ready != nil {
		ready(ln.Addr())
	}
	go s.settle()
	select {
	case err := <-errc:
		return errors.Join(err, s.Close(context.Background()))
	case <-ctx.Done():
	}
	s.ready.Store(false)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	s.cfg.Log.Info("shutting down", "drain_timeout", s.cfg.ShutdownTimeout.String())
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
		return errors.Join(fmt.Errorf("shutdown: %w", err), s.Close(context.Background()))
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return errors.Join(err, s.Close(context.Background()))
	}
	return s.Close(context.Background())
}

// Close saves the state to PersistFile (if any) one last time and stops
// saving, and closes the store it opened; call it when the handler no
// longer serves. Serve calls it.
func (s *Server) Close(ctx context.Context) error {
	defer s.closeStores()
	if s.persist == nil {
		return nil
	}
	return s.persist.close(ctx)
}

func (s *Server) closeStores() {
	if s.journal != nil {
		s.journal.Drain() // entries still being added
	}
	if s.stopBus != nil {
		s.stopBus()
	}
	if s.ownStores {
		s.stores.Close()
	}
}

// Stores is the state backend (memory or Redis).
func (s *Server) Stores() *stores.Backend { return s.stores }

// owner finds the vendor that owns a URL path.
func (s *Server) owner(path string) *mounted {
	for _, o := range s.owners {
		if strings.HasPrefix(path, o.prefix) {
			return o.m
		}
	}
	return nil
}

// Protocols are what the listener speaks: HTTP/1.1 and cleartext HTTP/2
// (h2c with prior knowledge, as gRPC clients connect) on the same port.
func Protocols() *http.Protocols {
	p := new(http.Protocols)
	p.SetHTTP1(true)
	p.SetUnencryptedHTTP2(true)
	return p
}
