// Package mocktest starts idpmock inside a Go test: an in-process server on
// a loopback port, in strict mode, closed by t.Cleanup, with typed helpers
// for overrides, the clock, the journal and state.
//
//	srv := mocktest.Start(t)
//	srv.Override(t, override.Spec{Operation: "readSession", Status: 429, Times: 2,
//		Headers: map[string]string{"Retry-After": "2"}})
//	resp, err := srv.Client().Get(srv.URL + "/v1/environments/.../sessions/...")
//	srv.Advance(72 * time.Hour)               // move the mock's clock
//	srv.Verify(t, "readSession", 1)           // the mock accepted one such call
//
// Client sends "Authorization: Bearer mocktest" unless the request carries
// its own Authorization header; AnonymousClient sends requests as they are.
//
// Serve is Start on the server's own serve loop and a real listener, for
// tests of its read, write and idle timeouts and its shutdown.
//
// Verify counts accepted requests: those that named the operation and
// passed the spec's checks (authentication, parameters, body). A vendor
// answer such as 404 for an unknown session still counts, because the mock
// accepted the request and answered it as the vendor would; a 401 for a
// missing bearer or a 400 for an invalid body does not, and the failure
// message names every rejected request and why. VerifyAll counts every
// request that named the operation, accepted or not.
package mocktest

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock"
	"github.com/idpmock/idpmock/mock/admin"
	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/override"
	"github.com/idpmock/idpmock/mock/server"
)

// Server is a running mock for one test.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:34567; vendor paths follow
	// it unchanged (/v1/..., /v2/..., /zitadel.session.v2.SessionService/...).
	URL    string
	Mock   *server.Server
	client *http.Client // AnonymousClient: one per server, so tests may tune its transport
	config server.Config
}

// Option changes how Start builds the server.
type Option func(*settings)

type settings struct {
	cfg       server.Config
	factories []server.VendorFactory
}

// WithVendors serves only these vendors (default: every vendor).
func WithVendors(f ...server.VendorFactory) Option {
	return func(s *settings) { s.factories = f }
}

// WithFixtures seeds from fsys (one folder per vendor) instead of the
// embedded fixtures.
func WithFixtures(fsys fs.FS) Option {
	return func(s *settings) { s.cfg.Fixtures = fsys }
}

// WithConfig edits the server configuration before start.
func WithConfig(edit func(*server.Config)) Option {
	return func(s *settings) { edit(&s.cfg) }
}

func build(t testing.TB, opts []Option) (*server.Server, settings) {
	t.Helper()
	st := settings{cfg: server.Config{Strict: true, CORS: true}, factories: mock.Vendors(mock.Config{})}
	for _, o := range opts {
		o(&st)
	}
	ms, err := server.New(context.Background(), st.cfg, st.factories...)
	if err != nil {
		t.Fatalf("mocktest: %v", err)
	}
	return ms, st
}

// Start runs a strict-mode mock until the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	if os.Getenv(EnvReplicas) != "" && os.Getenv(EnvRedis) != "" {
		if s := replicated(t, opts); s != nil {
			return s
		}
	}
	return startOne(t, opts)
}

func startOne(t testing.TB, opts []Option) *Server {
	t.Helper()
	ms, st := build(t, opts)
	// The listener speaks HTTP/1.1 and cleartext HTTP/2 as the real one does,
	// so gRPC clients can reach it.
	hs := httptest.NewUnstartedServer(ms.Handler())
	hs.Config.Protocols = server.Protocols()
	hs.Start()
	t.Cleanup(hs.Close)
	return &Server{URL: hs.URL, Mock: ms, client: hs.Client(), config: st.cfg}
}

// Serve is Start on the server's own Serve loop and a real loopback
// listener, as the binary runs: the configured read, write and idle
// timeouts and the graceful shutdown apply (Start's httptest listener
// ignores them). The test fails if Serve ends with an error at cleanup.
func Serve(t testing.TB, opts ...Option) *Server {
	t.Helper()
	ms, st := build(t, opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mocktest: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ms.Serve(ctx, ln, nil) }()
	c := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(func() {
		c.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("mocktest: serve: %v", err)
		}
	})
	return &Server{URL: "http://" + ln.Addr().String(), Mock: ms, client: c, config: st.cfg}
}

// DefaultToken is the bearer token Client adds: the mock accepts any
// non-empty one.
const DefaultToken = "mocktest"

// Client is an HTTP client for the server that authenticates every request
// with "Bearer mocktest" unless the request sets Authorization itself.
func (s *Server) Client() *http.Client {
	c := *s.client
	c.Transport = bearer{next: c.Transport}
	return &c
}

// AnonymousClient is an HTTP client that sends requests unchanged (no
// bearer token unless the request has one): for testing the 401 path.
func (s *Server) AnonymousClient() *http.Client { return s.client }

type bearer struct{ next http.RoundTripper }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if _, ok := r.Header["Authorization"]; !ok {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+DefaultToken)
	}
	next := b.next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(r)
}

// Clock is the server's clock: advance it to expire sessions.
func (s *Server) Clock() *clock.Controlled { return s.Mock.Clock() }

// Reset is a fresh start: every vendor's fixture state, the wall clock,
// no overrides, an empty journal (what POST /__mock/reset does).
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	if err := s.Mock.ResetAll(context.Background()); err != nil {
		t.Fatalf("mocktest: reset: %v", err)
	}
}

// Advance moves the server clock forward by d (backward if negative). A
// move past what the clock can represent (years 1677..2262, ±292 years
// from now) panics: it is a bug in the test.
func (s *Server) Advance(d time.Duration) {
	if err := s.Mock.Clock().Advance(d); err != nil {
		panic("mocktest: " + err.Error())
	}
}

// Override makes the mock answer as spec says; the test fails if the mock
// refuses it (unknown operation, an answer the spec does not allow).
func (s *Server) Override(t testing.TB, spec override.Spec) override.Rule {
	t.Helper()
	r, err := s.Mock.AddOverride(context.Background(), spec)
	if err != nil {
		t.Fatalf("mocktest: override %s: %v", spec.Operation, err)
	}
	return r
}

// Overrides gives access to the live overrides (list, delete, clear).
func (s *Server) Overrides() *override.Set { return s.Mock.Overrides() }

// Journal is the request journal.
func (s *Server) Journal() *journal.Journal { return s.Mock.Journal() }

// Requests returns the journaled requests matching q, oldest first.
func (s *Server) Requests(q journal.Query) []journal.Entry {
	if s.Mock.Journal() == nil {
		return nil
	}
	return s.Mock.Journal().Find(q)
}

// Unmatched returns the requests that hit no operation or failed
// validation; each has Nearest saying what it missed.
func (s *Server) Unmatched() []journal.Entry { return s.Requests(journal.Query{Unmatched: true}) }

// Verify fails the test unless the mock accepted exactly n requests for
// operationID (see the package comment for "accepted"), naming the
// rejected ones and everything else the mock received.
func (s *Server) Verify(t testing.TB, operationID string, n int) {
	t.Helper()
	valid := true
	s.VerifyQuery(t, journal.Query{Operation: operationID, Valid: &valid}, n)
}

// VerifyAll fails the test unless operationID was called exactly n times,
// accepted or rejected.
func (s *Server) VerifyAll(t testing.TB, operationID string, n int) {
	t.Helper()
	s.VerifyQuery(t, journal.Query{Operation: operationID}, n)
}

// VerifyQuery fails the test unless exactly n requests match q.
func (s *Server) VerifyQuery(t testing.TB, q journal.Query, n int) {
	t.Helper()
	if s.Mock.Journal() == nil {
		t.Fatal("mocktest: Verify needs the journal (JournalSize >= 0)")
	}
	got := s.Mock.Journal().Count(q)
	if got == n {
		return
	}
	var b, rejected strings.Builder
	for _, e := range s.Mock.Journal().All() {
		if !e.Valid() && (q.Operation == "" || e.Operation == q.Operation || e.Operation == "") {
			fmt.Fprintf(&rejected, "\n  #%d %s %s → %d: %s", e.Seq, e.Method, e.Path, e.Status, rejection(e))
		}
		fmt.Fprintf(&b, "\n  #%d %s %s", e.Seq, e.Method, e.Path)
		if e.Operation != "" {
			fmt.Fprintf(&b, " (%s)", e.Operation)
		}
		fmt.Fprintf(&b, " → %d", e.Status)
		if e.Problem != nil {
			fmt.Fprintf(&b, " invalid: %s", e.Problem.Message)
		}
		if e.Nearest != nil && e.Operation == "" {
			fmt.Fprintf(&b, " nearest %s: %s", e.Nearest.Operation, strings.Join(e.Nearest.Reasons, "; "))
		}
	}
	what := q.Operation
	if what == "" {
		what = fmt.Sprintf("%+v", q)
	}
	kind := "requests"
	if q.Valid != nil && *q.Valid {
		kind = "accepted requests"
	}
	msg := fmt.Sprintf("mocktest: %s: want %d %s, got %d", what, n, kind, got)
	if rejected.Len() > 0 {
		msg += "; rejected:" + rejected.String()
	}
	t.Errorf("%s\nthe mock received:%s", msg, b.String())
}

// rejection says why the mock refused e.
func rejection(e journal.Entry) string {
	switch {
	case e.Problem != nil:
		var fields []string
		for _, is := range e.Problem.Issues {
			if is.Field != "" {
				fields = append(fields, is.Field)
			}
		}
		if len(fields) > 0 {
			return e.Problem.Message + " (" + strings.Join(fields, ", ") + ")"
		}
		return e.Problem.Message
	case e.Nearest != nil:
		return "no operation; nearest " + e.Nearest.Operation + ": " + strings.Join(e.Nearest.Reasons, "; ")
	}
	return "no operation at this path"
}

// State dumps every vendor's state and the clock.
func (s *Server) State(t testing.TB) admin.State {
	t.Helper()
	st, err := s.Mock.DumpState(context.Background())
	if err != nil {
		t.Fatalf("mocktest: dump state: %v", err)
	}
	return st
}

// LoadState replaces the state with st (for example from another server's State).
func (s *Server) LoadState(t testing.TB, st admin.State) {
	t.Helper()
	if err := s.Mock.LoadState(context.Background(), st); err != nil {
		t.Fatalf("mocktest: load state: %v", err)
	}
}
