package conform_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/conform"
	"github.com/idpmock/idpmock/mock/internal/fakevendor"
	"github.com/idpmock/idpmock/mock/server"
)

func checker(t *testing.T, base string) *conform.Checker {
	t.Helper()
	v, err := fakevendor.New(server.Deps{Clock: clock.New()})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := v.Spec()
	if err != nil {
		t.Fatal(err)
	}
	c, err := conform.New(conform.Spec{Vendor: "fake", Doc: doc, BasePath: base})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMatch(t *testing.T) {
	c := checker(t, "/api")
	tests := []struct {
		method, path string
		op           string
		params       map[string]string
	}{
		{"GET", "/api/fake/things/abc", "readThing", map[string]string{"id": "abc"}},
		{"DELETE", "/api/fake/things/abc", "deleteThing", map[string]string{"id": "abc"}},
		{"POST", "/api/fake/things", "createThing", map[string]string{}},
		{"GET", "/fake/things/abc", "", nil},     // base path missing
		{"PUT", "/api/fake/things/abc", "", nil}, // method not in the spec
		{"GET", "/api/fake/other", "", nil},
		{"GET", "/api/fake/things/a/b", "", nil}, // a parameter is one segment
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			m, ok := c.Match(tt.method, &url.URL{Path: tt.path})
			if tt.op == "" {
				if ok {
					t.Fatalf("matched %s", m.Operation)
				}
				return
			}
			if !ok || m.Operation != tt.op || m.Vendor != "fake" {
				t.Fatalf("got %+v, %v; want %s", m, ok, tt.op)
			}
			for k, v := range tt.params {
				if m.Params[k] != v {
					t.Errorf("param %s = %q, want %q", k, m.Params[k], v)
				}
			}
		})
	}
}

func TestResponse(t *testing.T) {
	c := checker(t, "")
	m, _ := c.Match("GET", &url.URL{Path: "/fake/things/a"})
	h := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name   string
		status int
		body   string
		field  string // "" means valid
		rule   string
	}{
		{"valid", 200, `{"id":"a","name":"n","expiresAt":"2030-01-01T00:00:00Z"}`, "", ""},
		{"bad date", 200, `{"id":"a","name":"n","expiresAt":"soon"}`, "expiresAt", "format"},
		{"missing field", 200, `{"id":"a","expiresAt":"2030-01-01T00:00:00Z"}`, "name", "required"},
		{"undeclared success status", 202, `{}`, "", "status"},
		{"undeclared error status is a gateway's business", 503, `oops`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := c.Response(context.Background(), m, nil, tt.status, h, []byte(tt.body))
			if tt.field == "" && tt.rule == "" {
				if p != nil {
					t.Fatalf("violation on a valid answer: %v", p)
				}
				return
			}
			if p == nil {
				t.Fatal("no violation")
			}
			vs := conform.Violations(p, "response")
			hv := conform.HeaderValue(vs)
			var back []conform.Violation
			if err := json.Unmarshal([]byte(hv), &back); err != nil || strings.ContainsAny(hv, "\r\n") {
				t.Fatalf("header value %q: %v", hv, err)
			}
			if tt.field != "" && (back[0].Field != tt.field || back[0].Rule != tt.rule) {
				t.Errorf("violations %+v, want %s/%s", back, tt.field, tt.rule)
			}
			if tt.field == "" && !strings.Contains(p.Message, "status") {
				t.Errorf("message %q does not mention the status", p.Message)
			}
		})
	}
}

func TestHeaderValueIsBounded(t *testing.T) {
	var vs []conform.Violation
	for range 500 {
		vs = append(vs, conform.Violation{In: "response", Field: "f", Message: strings.Repeat("x", 100)})
	}
	h := conform.HeaderValue(vs)
	if len(h) > 7000 || !strings.Contains(h, "more violations not shown") {
		t.Errorf("header of %d bytes: %.200s", len(h), h)
	}
}
