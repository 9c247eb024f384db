package server_test

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/internal/fakevendor"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/override"
	"github.com/idpmock/idpmock/mock/server"
)

// The render step is the one writer of error answers: on every path a
// request can take (strict mode and the journal on, as mocktest sets them)
// no error reaches it after the answer went out, and the journal records
// the answer the client got.
func TestOneWriter(t *testing.T) {
	var buf syncBuffer
	srv := start(t, withConfig(func(c *server.Config) {
		c.Log = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		c.BodyLimit = 256
	}))
	id := create(t, srv, "a", 3600)
	srv.Override(t, override.Spec{Operation: "deleteThing", Status: 429, Headers: map[string]string{"Retry-After": "1"}})
	for _, tc := range []struct {
		name, method, path string
		body               any
		header             []string
		status             int
		op                 string
	}{
		{"success", "GET", "/fake/things/" + id, nil, nil, 200, "readThing"},
		{"vendor's own error", "GET", "/fake/things/nope", nil, nil, 404, "readThing"},
		{"invalid body", "POST", "/fake/things", map[string]any{"name": ""}, nil, 400, "createThing"},
		{"no token", "GET", "/fake/things/" + id, nil, []string{"Authorization", ""}, 401, "readThing"},
		{"body over the limit", "POST", "/fake/things", map[string]any{"name": strings.Repeat("x", 300)}, nil, 413, "createThing"},
		{"unknown path", "GET", "/fake/nothing/here", nil, nil, 404, ""},
		{"unknown method", "PUT", "/fake/things", map[string]any{"name": "a"}, nil, 405, ""},
		{"override", "DELETE", "/fake/things/" + id, nil, nil, 429, "deleteThing"},
		{"Prefer", "GET", "/fake/things/" + id, nil, []string{"Prefer", "code=404"}, 404, "readThing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := srv.Journal().Count(journal.Query{Path: tc.path, Status: tc.status})
			r := call(t, srv, tc.method, tc.path, tc.body, tc.header...)
			if r.status != tc.status || len(r.body) == 0 {
				t.Fatalf("got %d %q, want %d with a body", r.status, r.body, tc.status)
			}
			if got := srv.Journal().Count(journal.Query{Path: tc.path, Status: tc.status}); got != before+1 {
				t.Errorf("journal has %d entries for %s %d, want %d", got, tc.path, tc.status, before+1)
			}
		})
	}
	for _, l := range buf.lines(t) {
		if l["msg"] == "error after the answer was written" {
			t.Errorf("a second writer: %v", l)
		}
	}
}

// panicky is the fake vendor with a readThing that panics.
type panicky struct{ server.Vendor }

func (p panicky) Register(e *echo.Echo) {
	p.Vendor.Register(e)
	e.GET("/fake/things/:id", func(echo.Context) error { panic("boom") })
}

// A panic in strict mode is answered (the vendor's 500, checked and sent
// by the strict step after the render step wrote it) and journaled once.
func TestPanicAnsweredInStrictMode(t *testing.T) {
	var buf syncBuffer
	srv := mocktest.Start(t, mocktest.WithVendors(func(d server.Deps) (server.Vendor, error) {
		v, err := fakevendor.New(d)
		return panicky{v}, err
	}), withConfig(func(c *server.Config) {
		c.Log = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}))
	r := call(t, srv, "GET", "/fake/things/t1", nil)
	if r.status != 500 || r.json(t)["error"] != "internal" {
		t.Fatalf("got %d %s, want the vendor's 500", r.status, r.body)
	}
	if n := srv.Journal().Count(journal.Query{Operation: "readThing", Status: 500}); n != 1 {
		t.Errorf("journal has %d 500s, want 1", n)
	}
	for _, l := range buf.lines(t) {
		if l["msg"] == "error after the answer was written" {
			t.Errorf("a second writer: %v", l)
		}
	}
}
