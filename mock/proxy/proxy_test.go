package proxy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/conform"
	"github.com/idpmock/idpmock/mock/internal/fakevendor"
	"github.com/idpmock/idpmock/mock/internal/httptestx"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/proxy"
	"github.com/idpmock/idpmock/mock/server"
)

// upstream is a stub vendor: readThing answers on-spec for "good" and
// off-spec (expiresAt not a date, an undeclared field) for "bad".
type upstream struct {
	mu  sync.Mutex
	got []*http.Request
	srv *httptest.Server
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.got = append(u.got, r.Clone(r.Context()))
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Set-Cookie", "sid=secret-cookie")
		switch r.URL.Path {
		case "/fake/things/good":
			_, _ = io.WriteString(w, `{"id":"good","name":"fine","expiresAt":"2030-01-01T00:00:00Z"}`)
		case "/fake/things/bad":
			_, _ = io.WriteString(w, `{"id":"bad","name":"broken","expiresAt":"tomorrow","extra":true}`)
		case "/fake/things":
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"id":"n1","name":"new","expiresAt":"2030-01-01T00:00:00Z"}`)
		default:
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"error":"not_found","message":"no such thing"}`)
		}
	}))
	t.Cleanup(u.srv.Close)
	return u
}

func (u *upstream) requests() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.got)
}

func startProxy(t *testing.T, up *upstream, edit func(*proxy.Config)) (*httptest.Server, *proxy.Proxy) {
	t.Helper()
	v, err := fakevendor.New(server.Deps{Clock: clock.New()})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(up.srv.URL)
	cfg := proxy.Config{Upstream: u, Vendors: []server.Vendor{v}, Journal: journal.New(50)}
	if edit != nil {
		edit(&cfg)
	}
	p, err := proxy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(p)
	t.Cleanup(srv.Close)
	return srv, p
}

// do sends through httptestx; u is the whole URL.
func do(t *testing.T, method, u, body string, header map[string]string) (httptestx.Reply, string) {
	t.Helper()
	hdr := make([]string, 0, 2*len(header))
	for k, v := range header {
		hdr = append(hdr, k, v)
	}
	r := httptestx.Send(t, http.DefaultClient, u, method, "", body, hdr...)
	return r, string(r.Raw)
}

func violations(t *testing.T, resp httptestx.Reply) []conform.Violation {
	t.Helper()
	h := resp.Header.Get(conform.HeaderViolations)
	if h == "" {
		return nil
	}
	var vs []conform.Violation
	if err := json.Unmarshal([]byte(h), &vs); err != nil {
		t.Fatalf("%s is not JSON: %v (%q)", conform.HeaderViolations, err, h)
	}
	return vs
}

func TestProxyReportsViolations(t *testing.T) {
	up := newUpstream(t)
	srv, p := startProxy(t, up, nil)
	auth := map[string]string{"Authorization": "Bearer tok"}
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		header     map[string]string
		status     int
		wantFields []string // violation fields, "" for none expected
		wantIn     string
	}{
		{"on-spec answer", "GET", "/fake/things/good", "", auth, 200, nil, ""},
		{"off-spec answer", "GET", "/fake/things/bad", "", auth, 200, []string{"expiresAt"}, "response"},
		{"invalid request is still forwarded", "POST", "/fake/things", `{"name":""}`, map[string]string{"Authorization": "Bearer tok", "Content-Type": "application/json"}, 201, []string{"name"}, "body"},
		{"missing bearer", "GET", "/fake/things/good", "", nil, 200, []string{"Authorization"}, "header"},
		{"unknown operation", "GET", "/fake/elsewhere", "", auth, 404, []string{""}, "request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := do(t, tt.method, srv.URL+tt.path, tt.body, tt.header)
			if resp.Status != tt.status {
				t.Fatalf("status %d, want the upstream's %d (%s)", resp.Status, tt.status, body)
			}
			vs := violations(t, resp)
			if len(tt.wantFields) == 0 {
				if len(vs) > 0 {
					t.Fatalf("violations on an on-spec exchange: %+v", vs)
				}
				return
			}
			if len(vs) == 0 {
				t.Fatalf("no %s header; body %s", conform.HeaderViolations, body)
			}
			for _, f := range tt.wantFields {
				found := false
				for _, v := range vs {
					found = found || (v.Field == f && v.In == tt.wantIn)
				}
				if !found {
					t.Errorf("no violation in %s for field %q: %+v", tt.wantIn, f, vs)
				}
			}
		})
	}
	// The journal has every exchange; off-spec ones carry the findings,
	// and credentials are redacted.
	es := p.Journal().All()
	if len(es) != len(tests) {
		t.Fatalf("journal has %d entries, want %d", len(es), len(tests))
	}
	bad := es[1]
	if bad.Operation != "readThing" || bad.Problem == nil || !strings.Contains(bad.Problem.Message, "expiresAt") {
		t.Errorf("journal entry of the off-spec answer: op %q problem %+v", bad.Operation, bad.Problem)
	}
	if got := es[0].Header.Get("Authorization"); got != "Bearer "+journal.Redacted {
		t.Errorf("journal Authorization = %q, want redacted", got)
	}
	if es[0].Problem != nil {
		t.Errorf("on-spec exchange journaled with a problem: %+v", es[0].Problem)
	}
	// ...and the admin API serves it.
	resp, body := do(t, "GET", srv.URL+"/__mock/journal?operation=readThing", "", nil)
	if resp.Status != 200 || !strings.Contains(body, "expiresAt") {
		t.Errorf("GET /__mock/journal: %d %s", resp.Status, body)
	}
	// ...and the spec it checks against (the dashboard's Specs view).
	resp, body = do(t, "GET", srv.URL+"/__mock/openapi/fake?format=json", "", nil)
	if resp.Status != 200 || !strings.Contains(body, `"readThing"`) {
		t.Errorf("GET /__mock/openapi/fake: %d %.200s", resp.Status, body)
	}
}

func TestProxyBlockingMode(t *testing.T) {
	up := newUpstream(t)
	srv, _ := startProxy(t, up, func(c *proxy.Config) { c.Errors = true })
	resp, body := do(t, "POST", srv.URL+"/fake/things", `{"name":""}`, map[string]string{"Authorization": "Bearer tok", "Content-Type": "application/json"})
	if resp.Status != 400 || up.requests() != 0 {
		t.Fatalf("invalid request: %d %s, upstream saw %d requests; want 400 and none forwarded", resp.Status, body, up.requests())
	}
	resp, body = do(t, "GET", srv.URL+"/fake/things/bad", "", map[string]string{"Authorization": "Bearer tok"})
	if resp.Status != 500 || len(violations(t, resp)) == 0 {
		t.Fatalf("off-spec answer in blocking mode: %d %s, want the vendor's 500 with violations", resp.Status, body)
	}
	resp, _ = do(t, "GET", srv.URL+"/fake/things/good", "", map[string]string{"Authorization": "Bearer tok"})
	if resp.Status != 200 {
		t.Fatalf("on-spec answer in blocking mode: %d", resp.Status)
	}
}

func TestProxyForwardsFaithfully(t *testing.T) {
	up := newUpstream(t)
	srv, _ := startProxy(t, up, nil)
	resp, body := do(t, "GET", srv.URL+"/fake/things/good?x=1", "", map[string]string{"Authorization": "Bearer tok", "Connection": "close"})
	if resp.Status != 200 || !strings.Contains(body, `"fine"`) {
		t.Fatalf("%d %s", resp.Status, body)
	}
	if resp.Header.Get(proxy.HeaderOperation) != "readThing" {
		t.Errorf("%s = %q", proxy.HeaderOperation, resp.Header.Get(proxy.HeaderOperation))
	}
	up.mu.Lock()
	got := up.got[0]
	up.mu.Unlock()
	if got.URL.RawQuery != "x=1" || got.Header.Get("Authorization") != "Bearer tok" {
		t.Errorf("upstream got query %q auth %q", got.URL.RawQuery, got.Header.Get("Authorization"))
	}
}

func TestRecorder(t *testing.T) {
	up := newUpstream(t)
	dir := t.TempDir()
	rec, err := proxy.NewRecorder(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := startProxy(t, up, func(c *proxy.Config) { c.Recorder = rec })
	auth := map[string]string{"Authorization": "Bearer tok"}
	do(t, "GET", srv.URL+"/fake/things/good", "", auth)
	do(t, "GET", srv.URL+"/fake/things/good", "", auth) // same rule, not twice
	do(t, "GET", srv.URL+"/fake/things/bad", "", auth)
	do(t, "GET", srv.URL+"/fake/things/missing1", "", auth)

	var onSpec struct {
		Overrides []struct {
			Operation string            `json:"operation"`
			Match     map[string]any    `json:"match"`
			Status    int               `json:"status"`
			Headers   map[string]string `json:"headers"`
			Body      json.RawMessage   `json:"body"`
		} `json:"overrides"`
	}
	raw, err := os.ReadFile(filepath.Join(dir, proxy.RecordedFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &onSpec); err != nil {
		t.Fatal(err)
	}
	if len(onSpec.Overrides) != 2 {
		t.Fatalf("recorded %d on-spec rules, want 2 (good, missing1):\n%s", len(onSpec.Overrides), raw)
	}
	if r := onSpec.Overrides[0]; r.Operation != "readThing" || r.Status != 200 || !strings.Contains(string(r.Body), `"fine"`) {
		t.Errorf("first rule: %+v", r)
	}
	if strings.Contains(string(raw), "secret-cookie") || strings.Contains(string(raw), "Set-Cookie") {
		t.Errorf("cookies recorded:\n%s", raw)
	}
	off, err := os.ReadFile(filepath.Join(dir, proxy.OffSpecFile))
	if err != nil || !strings.Contains(string(off), `"tomorrow"`) {
		t.Errorf("off-spec file: %v\n%s", err, off)
	}
	vio, err := os.ReadFile(filepath.Join(dir, proxy.ViolationsFile))
	if err != nil || !strings.Contains(string(vio), "expiresAt") {
		t.Errorf("violations file: %v\n%s", err, vio)
	}
	// A new recorder continues the files.
	rec2, err := proxy.NewRecorder(dir)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	_ = rec2
}

func TestRedactBody(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"zitadel session token", `{"sessionId":"1","sessionToken":"abc"}`, `{"sessionId":"1","sessionToken":"[REDACTED]"}`},
		{"otp codes", `{"challenges":{"otpSms":"123456","otpEmail":"654321"}}`, `{"challenges":{"otpEmail":"[REDACTED]","otpSms":"[REDACTED]"}}`},
		{"error code keeps its type", `{"code":3,"message":"Password is invalid"}`, `{"code":3,"message":"Password is invalid"}`},
		{"nested password", `{"checks":{"password":{"password":"p"}}}`, `{"checks":{"password":{"password":"[REDACTED]"}}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := proxy.RedactBody("application/json", []byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}
