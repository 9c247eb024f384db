// Package mocktest starts idpmock inside a Go test: an in-process server on
// a loopback port, in strict mode, closed by t.Cleanup.
//
//	srv := mocktest.Start(t)
//	resp, err := srv.Client().Get(srv.URL + "/v1/environments/.../sessions/...")
package mocktest

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/server"
)

// Server is a running mock for one test.
type Server struct {
	// URL is the base URL, e.g. http://127.0.0.1:34567; vendor paths follow
	// it unchanged (/v1/..., /v2/..., /zitadel.session.v2.SessionService/...).
	URL    string
	Mock   *server.Server
	http   *httptest.Server
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

// DefaultVendors is what Start serves without WithVendors; the composition
// root (package mock) sets it, so this package stays vendor-agnostic.
var DefaultVendors []server.VendorFactory

// Start runs a strict-mode mock until the test ends.
func Start(t testing.TB, opts ...Option) *Server {
	t.Helper()
	st := settings{cfg: server.Config{Strict: true, CORS: true}, factories: DefaultVendors}
	for _, o := range opts {
		o(&st)
	}
	if len(st.factories) == 0 {
		t.Fatal("mocktest: no vendors; import github.com/idpmock/idpmock/mock or use WithVendors")
	}
	ms, err := server.New(context.Background(), st.cfg, st.factories...)
	if err != nil {
		t.Fatalf("mocktest: %v", err)
	}
	hs := httptest.NewServer(ms.Handler())
	t.Cleanup(hs.Close)
	return &Server{URL: hs.URL, Mock: ms, http: hs, config: st.cfg}
}

// Client is an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.http.Client() }

// Clock is the server's clock: advance it to expire sessions.
func (s *Server) Clock() *clock.Controlled { return s.Mock.Clock() }

// Reset restores every vendor's fixture state.
func (s *Server) Reset(t testing.TB) {
	t.Helper()
	if err := s.Mock.Reset(context.Background(), ""); err != nil {
		t.Fatalf("mocktest: reset: %v", err)
	}
}
