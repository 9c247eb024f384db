package server_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/idpmock/idpmock/mock/internal/fakevendor"
	"github.com/idpmock/idpmock/mock/internal/httptestx"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/server"
)

// start runs a mock with only the fake vendor.
func start(t *testing.T, opts ...mocktest.Option) *mocktest.Server {
	t.Helper()
	return mocktest.Start(t, append([]mocktest.Option{mocktest.WithVendors(fakevendor.New)}, opts...)...)
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q: %v", r.body, err)
	}
	return m
}

// call sends one request through httptestx; body, if not nil, is sent as
// JSON (a string as is, anything else marshalled). Requests carry a bearer
// token; header pairs come after it, so "Authorization", "" sends none.
func call(t *testing.T, srv *mocktest.Server, method, path string, body any, header ...string) reply {
	t.Helper()
	var text string
	switch b := body.(type) {
	case nil:
	case string:
		text = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		text = string(raw)
	}
	r := httptestx.Send(t, srv.AnonymousClient(), srv.URL, method, path, text, append([]string{"Authorization", "Bearer test-token"}, header...)...)
	return reply{status: r.Status, header: r.Header, body: r.Raw}
}

func create(t *testing.T, srv *mocktest.Server, name string, ttl int) string {
	t.Helper()
	r := call(t, srv, "POST", "/fake/things", map[string]any{"name": name, "ttlSeconds": ttl})
	if r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	return r.json(t)["id"].(string)
}

func withConfig(edit func(*server.Config)) mocktest.Option { return mocktest.WithConfig(edit) }
