package mocktest_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/server"
)

// recordingT captures what Verify reports instead of failing the real test.
type recordingT struct {
	testing.TB
	errors []string
}

func (r *recordingT) Helper() {}
func (r *recordingT) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func TestClientAuthenticatesAndVerifyCountsAccepted(t *testing.T) {
	srv := mocktest.Start(t)
	post := func(c *http.Client, body string) int {
		t.Helper()
		resp, err := c.Post(srv.URL+"/v2/sessions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const good = `{"checks":{"user":{"loginName":"mini@mouse.com"}}}`
	if got := post(srv.Client(), good); got != http.StatusCreated {
		t.Fatalf("Client(): create answered %d, want 201 (the default bearer)", got)
	}
	if got := post(srv.AnonymousClient(), good); got != http.StatusUnauthorized {
		t.Fatalf("AnonymousClient(): create answered %d, want 401", got)
	}
	if got := post(srv.Client(), `{"checks":{"user":{"loginName":""}}}`); got != http.StatusBadRequest {
		t.Fatalf("invalid body answered %d, want 400", got)
	}

	cases := []struct {
		name      string
		verify    func(testing.TB)
		wantFail  bool
		wantInMsg []string
	}{
		{"accepted once", func(tb testing.TB) { srv.Verify(tb, "SessionService_CreateSession", 1) }, false, nil},
		{"rejected ones are not counted", func(tb testing.TB) { srv.Verify(tb, "SessionService_CreateSession", 3) }, true,
			[]string{"want 3 accepted requests, got 1", "rejected:", "→ 401", "→ 400"}},
		{"VerifyAll counts every request", func(tb testing.TB) { srv.VerifyAll(tb, "SessionService_CreateSession", 3) }, false, nil},
		{"VerifyAll still fails on a wrong count", func(tb testing.TB) { srv.VerifyAll(tb, "SessionService_CreateSession", 2) }, true,
			[]string{"want 2 requests, got 3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rt := &recordingT{TB: t}
			c.verify(rt)
			if failed := len(rt.errors) > 0; failed != c.wantFail {
				t.Fatalf("failed = %v, want %v: %q", failed, c.wantFail, rt.errors)
			}
			for _, w := range c.wantInMsg {
				if !strings.Contains(strings.Join(rt.errors, "\n"), w) {
					t.Errorf("message lacks %q:\n%s", w, strings.Join(rt.errors, "\n"))
				}
			}
		})
	}
}

// Serve runs the server's own loop: its clients authenticate as Start's
// do, and the configured read timeout cuts off a half-sent request (an
// httptest listener would keep it open).
func TestServeAppliesTimeouts(t *testing.T) {
	srv := mocktest.Serve(t, mocktest.WithConfig(func(c *server.Config) { c.ReadTimeout, c.ShutdownTimeout = 200*time.Millisecond, time.Second }))
	for _, c := range []struct {
		name   string
		client *http.Client
		want   int
	}{{"Client", srv.Client(), http.StatusCreated}, {"AnonymousClient", srv.AnonymousClient(), http.StatusUnauthorized}} {
		resp, err := c.client.Post(srv.URL+"/v2/sessions", "application/json", strings.NewReader(`{"checks":{"user":{"loginName":"mini@mouse.com"}}}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("%s: create answered %d, want %d", c.name, resp.StatusCode, c.want)
		}
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, _ = conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: x\r\n")) // headers never end
	_ = conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	began := time.Now()
	_, err = io.Copy(io.Discard, conn)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatal("a half-sent request kept its connection for 3s")
	}
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("cut off after %v, want about 200ms", took)
	}
}
