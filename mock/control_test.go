package mock_test

// The control machinery (overrides, clock, journal) against the real
// vendors. It lives in the composition root because generic packages may
// not import vendor packages, not even in tests.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/idpmock/idpmock/mock/internal/httptestx"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/pingone"
	"github.com/idpmock/idpmock/mock/zitadel"
)

const (
	pingEnv     = "abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6"
	pingSession = "ee14fe02-6b74-46b3-81f2-2de2a384fa1b" // seeded, idle timeout 72000 minutes
)

func startBoth(t *testing.T) *mocktest.Server {
	t.Helper()
	return mocktest.Start(t, mocktest.WithVendors(pingone.Factory(pingone.Options{}), zitadel.New))
}

type reply struct {
	status int
	header http.Header
	body   string
}

func do(t *testing.T, srv *mocktest.Server, method, path, body string) reply {
	t.Helper()
	return doWith(t, srv, method, path, body)
}

// doWith is do with extra headers, name and value pairs.
func doWith(t *testing.T, srv *mocktest.Server, method, path, body string, header ...string) reply {
	t.Helper()
	r := httptestx.Send(t, srv.Client(), srv.URL, method, path, body, append([]string{"Authorization", "Bearer test-token"}, header...)...)
	return reply{r.Status, r.Header, string(r.Raw)}
}

func TestPingOne429ForTwoCallsThenNormal(t *testing.T) {
	srv := startBoth(t)
	path := "/v1/environments/" + pingEnv + "/sessions/" + pingSession
	op := operationID(t, srv, "pingone", "GET", "/v1/environments/{envID}/sessions/{sessionID}")
	r := do(t, srv, "POST", "/__mock/overrides", `{"operation":"`+op+`","status":429,"times":2,"headers":{"Retry-After":"2"}}`)
	if r.status != 201 {
		t.Fatalf("override refused: %d %s", r.status, r.body)
	}
	for i, want := range []struct {
		status     int
		retryAfter string
	}{{429, "2"}, {429, "2"}, {200, ""}} {
		r := do(t, srv, "GET", path, "")
		if r.status != want.status || r.header.Get("Retry-After") != want.retryAfter {
			t.Fatalf("call %d: %d Retry-After %q, want %d %q: %s", i+1, r.status, r.header.Get("Retry-After"), want.status, want.retryAfter, r.body)
		}
		if want.status == 429 {
			var e struct{ ID, Code, Message string }
			if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Code == "" || e.Message == "" {
				t.Errorf("call %d: not PingOne's error body: %s", i+1, r.body)
			}
		}
	}
	srv.Verify(t, op, 3)
}

// operationID looks an operation up by method and path, so the test does
// not depend on how the spec spells its operationIds.
func operationID(t *testing.T, srv *mocktest.Server, vendor, method, path string) string {
	t.Helper()
	var ops struct {
		Operations []struct{ Vendor, Operation, Method, Path string }
	}
	if err := json.Unmarshal([]byte(do(t, srv, "GET", "/__mock/operations", "").body), &ops); err != nil {
		t.Fatal(err)
	}
	for _, o := range ops.Operations {
		if o.Vendor == vendor && o.Method == method && o.Path == path {
			return o.Operation
		}
	}
	t.Fatalf("no %s operation %s %s in %+v", vendor, method, path, ops)
	return ""
}

func TestClockExpiresPingOneAndZitadelSessions(t *testing.T) {
	srv := startBoth(t)
	r := do(t, srv, "POST", "/v2/sessions", `{"checks":{"user":{"loginName":"mini@mouse.com"}},"lifetime":"3600s"}`)
	if r.status != 201 {
		t.Fatalf("zitadel create: %d %s", r.status, r.body)
	}
	var created struct{ SessionID string }
	_ = json.Unmarshal([]byte(r.body), &created)
	pingPath := "/v1/environments/" + pingEnv + "/sessions/" + pingSession
	zitadelSet := func() reply {
		return do(t, srv, "PATCH", "/v2/sessions/"+created.SessionID, `{"metadata":{"k":"dg=="}}`)
	}

	if r := do(t, srv, "GET", pingPath, ""); r.status != 200 {
		t.Fatalf("pingone seeded session: %d %s", r.status, r.body)
	}
	if r := zitadelSet(); r.status != 200 {
		t.Fatalf("zitadel set before expiry: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "PUT", "/__mock/clock", `{"advance":"51d"}`); r.status != 200 {
		t.Fatalf("advance: %d %s", r.status, r.body)
	}
	if r := do(t, srv, "GET", pingPath, ""); r.status != 404 {
		t.Errorf("pingone session after 51 days: %d %s", r.status, r.body)
	}
	if r := zitadelSet(); r.status != 400 || !strings.Contains(r.body, "expired") {
		t.Errorf("zitadel session after 51 days: %d %s", r.status, r.body)
	}
}

func TestJournalExplainsAVendorMiss(t *testing.T) {
	srv := startBoth(t)
	do(t, srv, "GET", "/v1/environments/"+pingEnv+"/sesions/"+pingSession, "")
	do(t, srv, "POST", "/v2/sessions", `{"checks":{"user":{"loginName":"mini@mouse.com"}},"lifetime":"soon"}`)
	un := srv.Unmatched()
	if len(un) != 2 {
		t.Fatalf("unmatched: %+v", un)
	}
	if n := un[0].Nearest; n == nil || n.Vendor != "pingone" || !strings.Contains(strings.Join(n.Reasons, ";"), `"sesions"`) {
		t.Errorf("pingone miss: %+v", un[0].Nearest)
	}
	if n := un[1].Nearest; n == nil || n.Vendor != "zitadel" || len(n.Reasons) == 0 {
		t.Errorf("zitadel miss: %+v", un[1].Nearest)
	}
	found := srv.Requests(journal.Query{Vendor: "zitadel", Body: map[string]any{"/checks/user/loginName": "mini@mouse.com"}})
	if len(found) != 1 {
		t.Errorf("journal find by body field: %+v", found)
	}
}
