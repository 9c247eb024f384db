package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
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
