package server_test

// What the dashboard (/__mock/ui/) relies on: the served specs, the journal
// long poll and the answers kept in the journal. The page itself is tested
// in headless Chromium (mock/dashboard_browser_test.go, make browser-test).

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/idpmock/idpmock/mock/internal/fakevendor"
	"github.com/idpmock/idpmock/mock/internal/httptestx"
	"github.com/idpmock/idpmock/mock/server"
)

func TestOpenAPIServed(t *testing.T) {
	srv := start(t)
	locked := start(t, withConfig(func(c *server.Config) { c.Admin.Token = "s3cret" }))
	asJSON := call(t, srv, "GET", "/__mock/openapi/fake", nil, "Accept", "application/json")
	var doc map[string]any
	if err := json.Unmarshal(asJSON.body, &doc); err != nil || asJSON.status != 200 {
		t.Fatalf("JSON spec: %d %v", asJSON.status, err)
	}
	tests := []struct {
		name, path, accept string
		srv                any
		status             int
		ctype              string
		has                string
	}{
		{"YAML by default", "/__mock/openapi/fake", "", nil, 200, "application/yaml", "createThing"},
		{"YAML asked", "/__mock/openapi/fake", "application/yaml", nil, 200, "application/yaml", "createThing"},
		{"JSON asked", "/__mock/openapi/fake", "application/json, */*", nil, 200, "application/json", `"createThing"`},
		{"YAML preferred first", "/__mock/openapi/fake", "application/x-yaml, application/json", nil, 200, "application/yaml", "createThing"},
		{"format beats Accept", "/__mock/openapi/fake?format=yaml", "application/json", nil, 200, "application/yaml", "createThing"},
		{"format json", "/__mock/openapi/fake?format=json", "", nil, 200, "application/json", `"createThing"`},
		{"bad format", "/__mock/openapi/fake?format=xml", "", nil, 400, "application/json", "format"},
		{"the admin API's own", "/__mock/openapi/admin", "", nil, 200, "application/yaml", "getOpenAPI"},
		{"unknown vendor", "/__mock/openapi/nope", "", nil, 404, "application/json", "not_found"},
		{"token required", "/__mock/openapi/fake", "", locked, 401, "application/json", "unauthenticated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := srv
			if tt.srv != nil {
				s = locked
			}
			var h []string
			if tt.accept != "" {
				h = []string{"Accept", tt.accept}
			}
			r := call(t, s, "GET", tt.path, nil, h...)
			if r.status != tt.status || !strings.HasPrefix(r.header.Get("Content-Type"), tt.ctype) || !strings.Contains(string(r.body), tt.has) {
				t.Fatalf("%d %s\n%.300s", r.status, r.header.Get("Content-Type"), r.body)
			}
			if tt.ctype != "application/yaml" {
				return
			}
			// The YAML is the same document as the JSON, quoted where a
			// plain scalar would change type ("200" stays a string).
			var y any
			if err := yaml.Unmarshal(r.body, &y); err != nil {
				t.Fatal(err)
			}
			if tt.path == "/__mock/openapi/fake" {
				if yj, _ := json.Marshal(y); !jsonEqual(t, yj, asJSON.body) {
					t.Errorf("YAML and JSON differ:\n%s\n%s", yj, asJSON.body)
				}
			}
		})
	}
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatal(err)
	}
	return reflect.DeepEqual(x, y)
}

type journalPage struct {
	Entries []struct {
		Seq             int                 `json:"seq"`
		Operation       string              `json:"operation"`
		Status          int                 `json:"status"`
		ResponseHeaders map[string][]string `json:"responseHeaders"`
		ResponseBody    map[string]any      `json:"responseBody"`
	} `json:"entries"`
	LastSeq int `json:"lastSeq"`
}

func TestJournalLongPoll(t *testing.T) {
	srv := start(t)
	create(t, srv, "first", 60)
	var page journalPage
	if err := json.Unmarshal(call(t, srv, "GET", "/__mock/journal", nil).body, &page); err != nil || page.LastSeq != 1 {
		t.Fatalf("lastSeq %d: %v", page.LastSeq, err)
	}
	tests := []struct {
		name     string
		query    string
		request  bool // send a vendor request 150 ms into the poll
		entries  int
		min, max time.Duration
	}{
		{"nothing new: answers at the deadline", "?since=1&waitMs=300", false, 0, 250 * time.Millisecond, 3 * time.Second},
		{"a new request answers at once", "?since=1&waitMs=20000", true, 1, 100 * time.Millisecond, 3 * time.Second},
		{"already newer: no wait", "?since=0&waitMs=20000", false, 1, 0, time.Second},
		{"no since: no wait", "?waitMs=20000", false, 1, 0, time.Second},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			call(t, srv, "DELETE", "/__mock/journal", nil)
			create(t, srv, fmt.Sprint("base", i), 60)
			base := int(srv.Journal().Seq())
			q := strings.Replace(tt.query, "since=1", fmt.Sprintf("since=%d", base), 1)
			q = strings.Replace(q, "since=0", fmt.Sprintf("since=%d", base-1), 1)
			if tt.request {
				go func() { time.Sleep(150 * time.Millisecond); create(t, srv, "late", 60) }()
			}
			began := time.Now()
			r := call(t, srv, "GET", "/__mock/journal"+q, nil)
			took := time.Since(began)
			var page journalPage
			if err := json.Unmarshal(r.body, &page); err != nil || r.status != 200 {
				t.Fatalf("%d %s", r.status, r.body)
			}
			if len(page.Entries) != tt.entries || took < tt.min || took > tt.max {
				t.Errorf("%d entries after %v, want %d in [%v, %v]", len(page.Entries), took, tt.entries, tt.min, tt.max)
			}
			if page.LastSeq < base {
				t.Errorf("lastSeq %d < %d", page.LastSeq, base)
			}
		})
	}
	if r := call(t, srv, "GET", "/__mock/journal?since=0&waitMs=600001", nil); r.status != 400 {
		t.Errorf("waitMs over a minute: %d", r.status)
	}
}

func TestJournalKeepsAnswers(t *testing.T) {
	srv := start(t)
	create(t, srv, "kept", 60)
	call(t, srv, "GET", "/fake/things/nope", nil)
	var page journalPage
	if err := json.Unmarshal(call(t, srv, "GET", "/__mock/journal", nil).body, &page); err != nil || len(page.Entries) != 2 {
		t.Fatalf("%+v %v", page, err)
	}
	created, missing := page.Entries[0], page.Entries[1]
	if created.Status != 201 || created.ResponseBody["name"] != "kept" || !strings.HasPrefix(created.ResponseHeaders["Content-Type"][0], "application/json") {
		t.Errorf("created: %+v", created)
	}
	if missing.Status != 404 || len(missing.ResponseBody) == 0 {
		t.Errorf("the vendor's error document is not kept: %+v", missing)
	}
}

// A server shutting down answers the dashboard's long poll at once rather
// than waiting out its drain timeout. It starts the server its own way
// because what it tests is Serve's shutdown, which mocktest never calls.
func TestShutdownEndsLongPolls(t *testing.T) {
	ms, err := server.New(context.Background(), server.Config{ShutdownTimeout: 20 * time.Second}, fakevendor.New)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ms.Serve(ctx, ln, nil) }()
	polled := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/__mock/journal?since=0&waitMs=60000", nil)
		resp, err := httptestx.Exchange(http.DefaultClient, req)
		if err != nil {
			polled <- -1
			return
		}
		polled <- resp.Status
	}()
	time.Sleep(200 * time.Millisecond) // the poll is waiting
	began := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown waited for the long poll")
	}
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("shutdown took %v", took)
	}
	if st := <-polled; st != 200 {
		t.Errorf("the long poll got %d", st)
	}
}

func TestDashboardServed(t *testing.T) {
	srv := start(t)
	off := start(t, withConfig(func(c *server.Config) { c.Admin.Disabled = true }))
	noRedirect := *srv.Client()
	noRedirect.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	tests := []struct {
		name, path string
		off        bool
		status     int
		ctype, has string
	}{
		{"page", "/__mock/ui/", false, 200, "text/html", `<script type="module" src="app.js">`},
		{"script", "/__mock/ui/app.js", false, 200, "text/javascript", "/__mock"},
		{"style", "/__mock/ui/style.css", false, 200, "text/css", "prefers-color-scheme"},
		{"no slash", "/__mock/ui", false, 301, "", ""},
		{"missing file", "/__mock/ui/nope.js", false, 404, "", ""},
		{"admin off: no dashboard", "/__mock/ui/", true, 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := srv.URL
			if tt.off {
				base = off.URL
			}
			resp, err := noRedirect.Get(base + tt.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), tt.ctype) || !strings.Contains(string(body), tt.has) {
				t.Fatalf("%d %s %.200s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			if tt.status == 200 && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "connect-src 'self'") {
				t.Errorf("CSP %q", resp.Header.Get("Content-Security-Policy"))
			}
			if tt.status == 301 && resp.Header.Get("Location") != "/__mock/ui/" {
				t.Errorf("Location %q", resp.Header.Get("Location"))
			}
		})
	}
	if n := srv.Journal().Len(); n != 0 {
		t.Errorf("dashboard files journaled: %d", n)
	}
}
