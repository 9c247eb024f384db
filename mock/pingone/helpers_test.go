package pingone_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/internal/httptestx"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/pingone"
	"github.com/idpmock/idpmock/mock/server"
)

// The seeds' own IDs, also in fixtures/pingone.
const (
	envID           = "abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6"
	userID          = "07e1ee43-9f56-4254-8cfb-1709b5ea8e24"
	policyID        = "874d5c7d-5e1c-4e73-b2b5-dfe1453b02f5"
	seededSessionID = "ee14fe02-6b74-46b3-81f2-2de2a384fa1b"

	firefoxMac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:103.0) Gecko/20100101 Firefox/103.0"
	otherEnvID = "0c9a1f3e-5b7d-4e2a-9c4f-6d8b1a2e3f40"
	otherUser  = "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	unknownID  = "9f8e7d6c-5b4a-4c3d-8e2f-1a0b9c8d7e6f"
)

var sessionsPath = "/v1/environments/" + envID + "/sessions"

// testServer is the mock with only the PingOne vendor, started by mocktest
// like every package's HTTP tests.
type testServer = mocktest.Server

// start runs the mock in strict mode (every response is checked against
// the spec) without CORS, its clock frozen at at and its fixtures seeded at
// that time.
func start(t *testing.T, opts pingone.Options, at time.Time) *testServer {
	t.Helper()
	if replicated {
		return startReplicas(t, opts, at)
	}
	srv := mocktest.Start(t, mocktest.WithVendors(pingone.Factory(opts)),
		mocktest.WithConfig(func(c *server.Config) { c.CORS = false }))
	srv.Clock().Freeze()
	srv.Clock().Set(at)
	reseed(t, srv)
	return srv
}

// reseed restores the PingOne fixtures at the server clock's current time.
func reseed(t *testing.T, srv *testServer) {
	t.Helper()
	if err := srv.Mock.Reset(context.Background(), "pingone"); err != nil {
		t.Fatal(err)
	}
}

type response = httptestx.Reply

// call sends one request. hdr holds name/value pairs that replace the
// defaults (a bearer token, and application/json when there is a body); an
// empty value removes the header.
func call(t *testing.T, srv *testServer, method, path, body string, hdr ...string) response {
	t.Helper()
	return httptestx.Do(t, srv.AnonymousClient(), srv.URL, method, path, body,
		append([]string{"Authorization", "Bearer test-access-token"}, hdr...)...)
}

// mustStatus fails the test unless r has the status.
func mustStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Raw)
	}
}

// get walks a decoded JSON value by keys and indexes ("lastSignOn.policy.id",
// "locations.0.at"); str is the same for a string.
var (
	get = httptestx.Get
	str = httptestx.Str
)

// fill replaces a seed's {{...}} placeholders.
func fill(s string, activeAt, token string) string {
	return strings.NewReplacer(
		"{{$isoTimestamp}}", activeAt,
		"{{passwordPolicyID}}", policyID,
		"{{userID}}", userID,
		"{{envID}}", envID,
		"{{token}}", token,
	).Replace(s)
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("got invalid JSON: %v", err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want invalid JSON: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		gi, _ := json.MarshalIndent(g, "", "  ")
		wi, _ := json.MarshalIndent(w, "", "  ")
		t.Fatalf("body differs\n--- got\n%s\n--- want\n%s", gi, wi)
	}
}

// errorBody checks PingOne's error format and returns the body.
func errorBody(t *testing.T, r response, status int, code string) map[string]any {
	t.Helper()
	mustStatus(t, r, status)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if got := str(r.Body, "code"); got != code {
		t.Errorf("code %q, want %q; body %s", got, code, r.Raw)
	}
	if id := str(r.Body, "id"); len(id) != 36 {
		t.Errorf("id %q is not a UUID", id)
	}
	if str(r.Body, "message") == "" {
		t.Errorf("no message: %s", r.Raw)
	}
	return r.Body
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

func srvDeps(srv *testServer) server.Deps {
	return server.Deps{Clock: srv.Clock()}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
