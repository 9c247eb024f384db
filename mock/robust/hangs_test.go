package robust_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/server"
)

// TestNoHangsNoOddAnswers: every request of the issue-14 list gets a clear
// answer in the vendor's format, or a clear refusal, in time.
func TestNoHangsNoOddAnswers(t *testing.T) {
	srv := mocktest.Start(t)
	c := &http.Client{Timeout: 3 * time.Second}
	read := "/v1/environments/" + pingEnv + "/sessions/" + pingSession
	for _, tt := range []struct {
		name, method, path, prefer, body string
		status                           int
		face                             face
		says                             string
	}{
		{"Prefer code=101", "GET", read, "code=101", "", 400, facePingOne, "informational"},
		{"Prefer code=100", "GET", read, "code=100", "", 400, facePingOne, "informational"},
		{"__code=101", "GET", read + "?__code=101", "", "", 400, facePingOne, "informational"},
		{"zitadel Prefer code=101", "GET", "/v2/sessions/1", "code=101", "", 400, faceREST, "informational"},
		{"override with Content-Length", "POST", "/__mock/overrides", "", `{"operation":"readSession","status":200,"headers":{"content-length":"99999"}}`, 400, "", "framing"},
		{"override with Transfer-Encoding", "POST", "/__mock/overrides", "", `{"operation":"readSession","status":200,"headers":{"Transfer-Encoding":"chunked"}}`, 400, "", "framing"},
		{"override with Connection", "POST", "/__mock/overrides", "", `{"operation":"readSession","status":200,"headers":{"Connection":"close"}}`, 400, "", "framing"},
		{"override with status 101", "POST", "/__mock/overrides", "", `{"operation":"readSession","status":101}`, 400, "", "informational"},
	} {
		r := request{method: tt.method, path: tt.path, header: http.Header{}}
		if tt.body != "" {
			r.body, r.ctype = []byte(tt.body), "application/json"
		}
		if tt.prefer != "" {
			r.header.Set("Prefer", tt.prefer)
		}
		a, err := trySend(c, srv.URL, r)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if a.status != tt.status || !strings.Contains(string(a.body), tt.says) {
			t.Errorf("%s: %d %s, want %d saying %q", tt.name, a.status, a.body, tt.status, tt.says)
		}
		if tt.face != "" {
			if err := vendorFormat(tt.face, a); err != nil {
				t.Errorf("%s: %v", tt.name, err)
			}
		}
	}

	// --overrides naming a file that does not exist refuses to start.
	_, err := server.New(context.Background(), server.Config{OverridesFile: filepath.Join(t.TempDir(), "missing.json")}, mock.Vendors(mock.Config{})...)
	if err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("--overrides /missing.json: %v", err)
	}
}

// errorLog records log lines at ERROR.
type errorLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *errorLog) Enabled(_ context.Context, lv slog.Level) bool { return lv >= slog.LevelError }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	line := r.Message
	r.Attrs(func(a slog.Attr) bool { line += " " + a.String(); return true })
	l.lines = append(l.lines, line)
	return nil
}
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLog) WithGroup(string) slog.Handler      { return l }

// TestClientHalfClose: a client that pipelines requests and half-closes
// (or closes) its connection is not an error: nothing is logged at ERROR,
// no 500 is journaled, and a request it left during a delay is journaled
// as client-gone.
func TestClientHalfClose(t *testing.T) {
	logs := &errorLog{}
	served := mocktest.Serve(t, mocktest.WithConfig(func(c *server.Config) { *c = server.Config{Log: slog.New(logs)} }))
	addr := strings.TrimPrefix(served.URL, "http://")
	create := "POST /v1/environments/" + pingEnv + "/sessions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
	for i := range 40 {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		reqs := strings.Repeat(create, 5)
		if i%2 == 0 {
			reqs = "GET /v1/environments/" + pingEnv + "/sessions/" + pingSession + "?__delay=200 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer x\r\n\r\n" + reqs
		}
		_, _ = conn.Write([]byte(reqs))
		_ = conn.(*net.TCPConn).CloseWrite()
		if i%4 == 0 {
			_ = conn.Close() // gone entirely
		} else {
			_, _ = io.Copy(io.Discard, bufio.NewReader(conn))
			_ = conn.Close()
		}
	}
	time.Sleep(400 * time.Millisecond) // the delayed requests end
	res := send(t, served, request{method: "GET", path: "/__mock/journal", noAuth: true})
	var j struct {
		Entries []struct {
			Status int
			Fault  string
		}
	}
	if err := json.Unmarshal(res.body, &j); err != nil {
		t.Fatal(err)
	}
	gone := 0
	for _, e := range j.Entries {
		if e.Status >= 500 {
			t.Errorf("journaled a %d (fault %q)", e.Status, e.Fault)
		}
		if e.Fault == "client-gone" {
			gone++
		}
	}
	if gone == 0 {
		t.Errorf("no request journaled as client-gone among %d", len(j.Entries))
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	for _, l := range logs.lines {
		t.Errorf("logged at ERROR: %s", l)
	}
}

// TestCanceledRequest: a vendor call whose client is gone (its context
// canceled: what net/http does on a half-close after pipelined requests)
// writes no 500, logs no ERROR and is journaled as client-gone.
func TestCanceledRequest(t *testing.T) {
	logs := &errorLog{}
	srv := mocktest.Start(t, mocktest.WithConfig(func(c *server.Config) { c.Log = slog.New(logs) }))
	for _, path := range []string{"/v1/environments/" + pingEnv + "/sessions/" + pingSession, "/v2/sessions/1"} {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req := httptest.NewRequestWithContext(ctx, "GET", path, nil)
		req.Header.Set("Authorization", "Bearer x")
		rec := httptest.NewRecorder()
		srv.Mock.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
	for _, e := range srv.Journal().All() {
		if e.Fault != "client-gone" || e.Status != 0 {
			t.Errorf("%s journaled with status %d fault %q, want client-gone", e.Path, e.Status, e.Fault)
		}
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	for _, l := range logs.lines {
		t.Errorf("logged at ERROR: %s", l)
	}
}
