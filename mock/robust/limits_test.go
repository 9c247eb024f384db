package robust_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/server"
)

// TestSessionCapPerTenant: past --max-sessions a create fails in the
// vendor's words for an exhausted quota; other tenants are not affected
// and deleting makes room again.
func TestSessionCapPerTenant(t *testing.T) {
	const limit = 3
	srv := mocktest.Start(t, mocktest.WithConfig(func(c *server.Config) { c.MaxSessions = limit }))
	pingCreate := func(env string) answer {
		return send(t, srv, request{method: "POST", path: "/v1/environments/" + env + "/sessions", ctype: "application/json",
			body: []byte(`{"activeAt":"` + nowStamp() + `","userAgent":"cap","user":{"id":"` + uuid.NewString() + `"}}`)})
	}
	env := uuid.NewString()
	var ids []string
	for range limit {
		a := pingCreate(env)
		if a.status != 201 {
			t.Fatalf("pingone create under the cap: %d %s", a.status, a.body)
		}
		var s struct {
			ID   string
			User struct{ ID string }
		}
		_ = json.Unmarshal(a.body, &s)
		ids = append(ids, "/users/"+s.User.ID+"/sessions/"+s.ID)
	}
	a := pingCreate(env)
	var perr struct {
		Code    string
		Details []struct {
			Code       string
			Message    string
			InnerError struct{ QuotaLimit int }
		}
	}
	_ = json.Unmarshal(a.body, &perr)
	if a.status != 429 || perr.Code != "REQUEST_LIMITED" || len(perr.Details) != 1 || perr.Details[0].Code != "QUOTA_EXCEEDED" ||
		perr.Details[0].InnerError.QuotaLimit != limit || !strings.Contains(perr.Details[0].Message, "--max-sessions") {
		t.Fatalf("pingone create over the cap: %d %s", a.status, a.body)
	}
	if err := vendorFormat(facePingOne, a); err != nil {
		t.Fatal(err)
	}
	if a := pingCreate(uuid.NewString()); a.status != 201 {
		t.Fatalf("another environment is capped too: %d %s", a.status, a.body)
	}
	if a := send(t, srv, request{method: "DELETE", path: "/v1/environments/" + env + ids[0]}); a.status != 204 {
		t.Fatalf("delete: %d %s", a.status, a.body)
	}
	if a := pingCreate(env); a.status != 201 {
		t.Fatalf("create after a delete: %d %s", a.status, a.body)
	}

	zCreate := func(path string) answer {
		return send(t, srv, request{method: "POST", path: path, ctype: "application/json", header: http.Header{"Connect-Protocol-Version": {"1"}},
			body: []byte(`{"checks":{"user":{"loginName":"` + zitadelUser + `"}}}`)})
	}
	var first struct{ SessionID, SessionToken string }
	for i := range limit {
		a := zCreate("/v2/sessions")
		if a.status != 201 {
			t.Fatalf("zitadel create under the cap: %d %s", a.status, a.body)
		}
		if i == 0 {
			_ = json.Unmarshal(a.body, &first)
		}
	}
	for path, want := range map[string]string{"/v2/sessions": `"code":8`, "/zitadel.session.v2.SessionService/CreateSession": `"code":"resource_exhausted"`} {
		a := zCreate(path)
		if a.status != 429 || !strings.Contains(string(a.body), want) || !strings.Contains(string(a.body), "--max-sessions") {
			t.Fatalf("zitadel %s over the cap: %d %s", path, a.status, a.body)
		}
	}
	if a := send(t, srv, request{method: "DELETE", path: "/v2/sessions/" + first.SessionID, ctype: "application/json",
		body: []byte(`{"sessionToken":"` + first.SessionToken + `"}`)}); a.status != 200 {
		t.Fatalf("zitadel delete: %d %s", a.status, a.body)
	}
	if a := zCreate("/v2/sessions"); a.status != 201 {
		t.Fatalf("zitadel create after a delete: %d %s", a.status, a.body)
	}
}

// closedWithin reports whether the server closes conn within d (reading
// whatever it sends first, such as a 408).
func closedWithin(conn net.Conn, d time.Duration) bool {
	_ = conn.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, conn)
	var ne net.Error
	return err == nil || !(errors.As(err, &ne) && ne.Timeout())
}

// TestServerTimeouts: a client that sends half a request, or idles on a
// keep-alive connection, or waits for an answer slower than the write
// timeout, is cut off on time.
func TestServerTimeouts(t *testing.T) {
	const timeout = 300 * time.Millisecond
	cfg := server.Config{ReadTimeout: timeout, IdleTimeout: timeout, WriteTimeout: 2 * timeout, ShutdownTimeout: time.Second}
	base := mocktest.Serve(t, mocktest.WithConfig(func(c *server.Config) { *c = cfg })).URL
	addr := strings.TrimPrefix(base, "http://")

	t.Run("read", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, _ = conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n")) // headers never end
		start := time.Now()
		if !closedWithin(conn, 3*time.Second) {
			t.Fatal("a half-sent request kept its connection for 3s")
		}
		if d := time.Since(start); d < timeout/2 {
			t.Fatalf("closed after %v, before the read timeout", d)
		}
	})
	t.Run("idle", func(t *testing.T) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_, _ = conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"))
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("healthz: %v %v", resp, err)
		}
		resp.Body.Close()
		if !closedWithin(conn, 3*time.Second) {
			t.Fatal("an idle keep-alive connection stayed open for 3s")
		}
	})
	t.Run("write", func(t *testing.T) {
		// A delay the write timeout would cut short (the client would get
		// no answer at all) is refused when asked, naming the limit.
		c := &http.Client{Timeout: 5 * time.Second}
		a, err := trySend(c, base, request{method: "POST", path: "/__mock/overrides", ctype: "application/json", noAuth: true,
			body: []byte(`{"operation":"readSession","delayMs":900}`)})
		if err != nil {
			t.Fatal(err)
		}
		if a.status != 400 || !strings.Contains(string(a.body), "--write-timeout") {
			t.Fatalf("override slower than the write timeout: %d %s", a.status, a.body)
		}
		start := time.Now()
		a, err = trySend(c, base, request{method: "GET", path: "/v1/environments/" + pingEnv + "/sessions/" + pingSession + "?__delay=900"})
		if err != nil {
			t.Fatalf("no answer to a too-long __delay: %v after %v", err, time.Since(start))
		}
		if a.status != 400 || !strings.Contains(string(a.body), "--write-timeout") || time.Since(start) > timeout {
			t.Fatalf("__delay slower than the write timeout: %d after %v %s", a.status, time.Since(start), a.body)
		}
	})
}
