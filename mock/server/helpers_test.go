package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/idpmock/idpmock/mock/internal/fakevendor"
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

// call sends one request; body, if not nil, is sent as JSON. Vendor calls
// carry a bearer token unless header sets Authorization.
func call(t *testing.T, srv *mocktest.Server, method, path string, body any, header ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = bytes.NewBufferString(b)
		default:
			raw, err := json.Marshal(b)
			if err != nil {
				t.Fatal(err)
			}
			rd = bytes.NewReader(raw)
		}
	}
	req, err := http.NewRequest(method, srv.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer test-token")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: raw}
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
