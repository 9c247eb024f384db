package zitadel_test

import (
	"github.com/idpmock/idpmock/mock/internal/redistest"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/internal/httptestx"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/server"
	"github.com/idpmock/idpmock/mock/zitadel"
)

const (
	bearer    = "Bearer test-token"
	miniID    = "280310260781907970"
	mickeyID  = "280310260781907971"
	instance  = "69629023906488334"
	connectSv = "/zitadel.session.v2.SessionService/"
)

// start runs a ZITADEL mock; with IDPMOCK_TEST_ZITADEL_STORE=redis (and
// IDPMOCK_TEST_REDIS) on a Redis store of its own, so the whole suite can
// be run against the shared store.
func start(t *testing.T) *mocktest.Server {
	t.Helper()
	opts := []mocktest.Option{mocktest.WithVendors(zitadel.New)}
	if os.Getenv("IDPMOCK_TEST_ZITADEL_STORE") == "redis" {
		b := openBackend(t, redistest.Addr(t), redistest.Prefix())
		opts = append(opts, mocktest.WithConfig(func(c *server.Config) { c.Stores = b }))
	}
	return mocktest.Start(t, opts...)
}

// reply is one HTTP answer, decoded.
type reply struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// call sends body (JSON text, "" for none) with the test bearer token.
func call(t *testing.T, srv *mocktest.Server, method, path, body string) reply {
	t.Helper()
	return callWith(t, srv, method, path, body, map[string]string{"Authorization": bearer})
}

func callWith(t *testing.T, srv *mocktest.Server, method, path, body string, headers map[string]string) reply {
	t.Helper()
	hdr := make([]string, 0, 2*len(headers))
	for k, v := range headers {
		hdr = append(hdr, k, v)
	}
	r := httptestx.Do(t, srv.AnonymousClient(), srv.URL, method, path, body, hdr...)
	return reply{status: r.Status, header: r.Header, raw: string(r.Raw), body: r.Body}
}

// get walks a decoded body by dotted path ("session.factors.user.id");
// numeric segments index arrays. str is the same for a string.
var (
	get = httptestx.Get
	str = httptestx.Str
)

func has(v any, path string) bool {
	parts := strings.Split(path, ".")
	parent := v
	if len(parts) > 1 {
		parent = get(v, strings.Join(parts[:len(parts)-1], "."))
	}
	m, ok := parent.(map[string]any)
	if !ok {
		return false
	}
	_, ok = m[parts[len(parts)-1]]
	return ok
}

func wantStatus(t *testing.T, r reply, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d\n%s", r.status, status, r.raw)
	}
}

// wantError checks a gateway error: status, numeric code, and that the
// message contains each of parts.
func wantError(t *testing.T, r reply, status int, code float64, parts ...string) {
	t.Helper()
	wantStatus(t, r, status)
	if c, _ := r.body["code"].(float64); c != code {
		t.Fatalf("code %v, want %v\n%s", r.body["code"], code, r.raw)
	}
	msg, _ := r.body["message"].(string)
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Fatalf("message %q does not contain %q", msg, p)
		}
	}
}

// wantConnectError checks a Connect error: status, string code, message parts.
func wantConnectError(t *testing.T, r reply, status int, code string, parts ...string) {
	t.Helper()
	wantStatus(t, r, status)
	if c, _ := r.body["code"].(string); c != code {
		t.Fatalf("code %v, want %q\n%s", r.body["code"], code, r.raw)
	}
	msg, _ := r.body["message"].(string)
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Fatalf("message %q does not contain %q", msg, p)
		}
	}
}

// createMini opens a REST session for mini@mouse.com and returns its id and token.
func createMini(t *testing.T, srv *mocktest.Server, extra string) (string, string) {
	t.Helper()
	body := `{"checks":{"user":{"loginName":"mini@mouse.com"}}` + extra + `}`
	r := call(t, srv, http.MethodPost, "/v2/sessions", body)
	wantStatus(t, r, http.StatusCreated)
	return str(r.body, "sessionId"), str(r.body, "sessionToken")
}

// usec is t as the mock stores event times: UTC, whole microseconds.
func usec(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
