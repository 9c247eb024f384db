package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/mocktest"
)

// The embedded fixtures' PingOne environment and user (contracts.MockVars).
const (
	envID  = "abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6"
	userID = "07e1ee43-9f56-4254-8cfb-1709b5ea8e24"
)

// reply is one HTTP answer.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any // nil unless a JSON object
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, r.raw) }

// call sends a JSON request (body nil: none) with a bearer token.
func call(c *http.Client, method, url string, body any) (reply, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return reply{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer "+mocktest.DefaultToken)
	}
	resp, err := c.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r, nil
}

// must is call that fails the test unless the status is want.
func must(t testing.TB, c *http.Client, method, url string, body any, want int) reply {
	t.Helper()
	r, err := call(c, method, url, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if r.status != want {
		t.Fatalf("%s %s: %s, want %d", method, url, r, want)
	}
	return r
}

// str is the string at a path of nested objects ("" when absent).
func str(m map[string]any, path ...string) string {
	var v any = m
	for _, p := range path {
		o, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = o[p]
	}
	s, _ := v.(string)
	return s
}

// pingOneSession is a create (or update) body: user, sign-on from remoteIP.
func pingOneSession(remoteIP string) map[string]any {
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	return map[string]any{
		"activeAt":             now,
		"idleTimeoutInMinutes": 60,
		"user":                 map[string]any{"id": userID},
		"lastSignOn": map[string]any{
			"authenticators": []string{"pwd"},
			"remoteIp":       remoteIP,
			"withAuthenticator": map[string]any{"pwd": map[string]any{
				"at": now, "policy": map[string]any{"id": "874d5c7d-5e1c-4e73-b2b5-dfe1453b02f5", "type": "PINGONE"},
			}},
		},
		"userAgent": "e2e/1.0",
	}
}

func pingOneSessions(base string) string { return base + "/v1/environments/" + envID + "/sessions" }

// privateRedis is a redis-server of the test's own, which it may stop.
type privateRedis struct {
	t    *testing.T
	addr string
	dir  string
	cmd  *exec.Cmd
}

func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &privateRedis{t: t, addr: l.Addr().String(), dir: t.TempDir()}
	l.Close()
	r.start()
	t.Cleanup(func() {
		if r.cmd != nil && r.cmd.Process != nil {
			_ = r.cmd.Process.Kill()
			_ = r.cmd.Wait()
		}
	})
	return r
}

// start runs redis-server and returns once it accepts connections.
func (r *privateRedis) start() time.Time {
	r.t.Helper()
	_, port, _ := net.SplitHostPort(r.addr)
	r.cmd = exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", r.dir, "--logfile", "redis.log")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", r.addr); err == nil {
			c.Close()
			return time.Now()
		}
		time.Sleep(2 * time.Millisecond)
	}
	r.t.Fatal("redis-server did not start")
	return time.Time{}
}

// stop is `redis-cli shutdown nosave`: the data is gone, as after a crash
// of a Redis without persistence.
func (r *privateRedis) stop() {
	r.t.Helper()
	c, err := net.Dial("tcp", r.addr)
	if err != nil {
		r.t.Fatal(err)
	}
	_, _ = c.Write([]byte("SHUTDOWN NOSAVE\r\n"))
	_, _ = io.Copy(io.Discard, c) // the server closes it
	c.Close()
	_ = r.cmd.Wait()
	r.cmd = nil
}
