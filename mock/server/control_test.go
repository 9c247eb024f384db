package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/internal/httptestx"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/override"
	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/server"
)

func TestOverrideAnswersNextCallsThenStops(t *testing.T) {
	srv := start(t)
	id := create(t, srv, "a", 3600)
	// Through the admin API, as a front-end developer would.
	r := call(t, srv, "POST", "/__mock/overrides", map[string]any{
		"operation": "readThing", "status": 429, "times": 2, "headers": map[string]string{"Retry-After": "2"},
	})
	if r.status != 201 {
		t.Fatalf("create override: %d %s", r.status, r.body)
	}
	ovID := r.json(t)["id"].(string)
	for i, want := range []struct {
		status     int
		retryAfter string
		errorKind  string
	}{
		{429, "2", "too_many_requests"},
		{429, "2", "too_many_requests"},
		{200, "", ""},
		{200, "", ""},
	} {
		r := call(t, srv, "GET", "/fake/things/"+id, nil)
		if r.status != want.status || r.header.Get("Retry-After") != want.retryAfter {
			t.Fatalf("call %d: got %d Retry-After %q, want %d %q (%s)", i+1, r.status, r.header.Get("Retry-After"), want.status, want.retryAfter, r.body)
		}
		if want.errorKind != "" && r.json(t)["error"] != want.errorKind {
			t.Errorf("call %d: body %s is not the vendor's error format", i+1, r.body)
		}
	}
	rule, ok := srv.Overrides().Get(ovID)
	if !ok || rule.Hits != 2 || rule.Remaining != 0 {
		t.Errorf("override after use: %+v", rule)
	}
	if n := srv.Journal().Count(journal.Query{Operation: "readThing", Status: 429}); n != 2 {
		t.Errorf("journal has %d 429s, want 2", n)
	}
	srv.Verify(t, "readThing", 4)
}

func TestOverrideMatching(t *testing.T) {
	srv := start(t)
	a, b := create(t, srv, "a", 3600), create(t, srv, "b", 3600)
	srv.Override(t, override.Spec{Operation: "readThing", Status: 404, Match: override.Match{PathParams: map[string]string{"id": b}}})
	srv.Override(t, override.Spec{Operation: "readThing", Status: 429, Match: override.Match{Headers: map[string]string{"X-Tenant": "slow"}}})
	srv.Override(t, override.Spec{Operation: "createThing", Status: 400, Match: override.Match{Body: map[string]any{"/name": "bad"}}})
	tests := []struct {
		name, method, path string
		body               any
		header             []string
		want               int
	}{
		{"other path param passes", "GET", "/fake/things/" + a, nil, nil, 200},
		{"path param matches", "GET", "/fake/things/" + b, nil, nil, 404},
		{"header matches", "GET", "/fake/things/" + a, nil, []string{"X-Tenant", "slow"}, 429},
		{"header differs", "GET", "/fake/things/" + a, nil, []string{"X-Tenant", "fast"}, 200},
		{"body field matches", "POST", "/fake/things", map[string]any{"name": "bad"}, nil, 400},
		{"body field differs", "POST", "/fake/things", map[string]any{"name": "good"}, nil, 201},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := call(t, srv, tt.method, tt.path, tt.body, tt.header...); r.status != tt.want {
				t.Errorf("got %d, want %d: %s", r.status, tt.want, r.body)
			}
		})
	}
}

func TestOverrideBodyChecks(t *testing.T) {
	tests := []struct {
		name     string
		offSpec  bool
		override map[string]any
		want     int
		wantMsg  string
	}{
		{"valid body", false, map[string]any{"operation": "readThing", "status": 200, "body": map[string]any{"id": "x", "name": "n", "expiresAt": "2030-01-01T00:00:00Z"}}, 201, ""},
		{"body breaks schema", false, map[string]any{"operation": "readThing", "status": 200, "body": map[string]any{"id": "x"}}, 400, "breaks the spec"},
		{"header breaks schema", false, map[string]any{"operation": "readThing", "status": 429, "headers": map[string]string{"Retry-After": "soon"}}, 400, "Retry-After"},
		{"undeclared success", false, map[string]any{"operation": "readThing", "status": 202}, 400, "declares no 202"},
		{"undeclared error is a gateway's", false, map[string]any{"operation": "readThing", "status": 503}, 201, ""},
		{"off spec allowed", true, map[string]any{"operation": "readThing", "status": 200, "body": map[string]any{"id": 1}}, 201, ""},
		{"unknown operation", false, map[string]any{"operation": "readThng", "status": 500}, 400, `did you mean`},
		{"unknown path param", false, map[string]any{"operation": "readThing", "status": 500, "match": map[string]any{"pathParams": map[string]string{"sessionID": "x"}}}, 400, "no path parameter"},
		{"nothing to do", false, map[string]any{"operation": "readThing"}, 400, "needs status"},
		{"unknown field", false, map[string]any{"operation": "readThing", "status": 500, "delay": 5}, 400, ""},
		{"bad pointer", false, map[string]any{"operation": "readThing", "status": 500, "match": map[string]any{"body": map[string]any{"name": "x"}}}, 400, "must start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := start(t, withConfig(func(c *server.Config) { c.AllowOffSpec = tt.offSpec }))
			r := call(t, srv, "POST", "/__mock/overrides", tt.override)
			if r.status != tt.want || !strings.Contains(string(r.body), tt.wantMsg) {
				t.Fatalf("got %d %s, want %d containing %q", r.status, r.body, tt.want, tt.wantMsg)
			}
			if r.status == 400 && r.json(t)["code"] != "invalid" {
				t.Errorf("admin error format: %s", r.body)
			}
		})
	}
}

func TestDelayMeasuredOnClient(t *testing.T) {
	srv := start(t)
	id := create(t, srv, "a", 3600)
	const d = 300 * time.Millisecond
	tests := []struct {
		name   string
		setup  func()
		header []string
		status int
	}{
		{"override delay, vendor answers", func() {
			srv.Override(t, override.Spec{Operation: "readThing", DelayMs: int(d / time.Millisecond), Times: 1})
		}, nil, 200},
		{"override delay and status", func() {
			srv.Override(t, override.Spec{Operation: "readThing", DelayMs: int(d / time.Millisecond), Status: 404, Times: 1})
		}, nil, 404},
		{"Prefer delay", func() {}, []string{"Prefer", "delay=300"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.setup()
			began := time.Now()
			r := call(t, srv, "GET", "/fake/things/"+id, nil, tt.header...)
			took := time.Since(began)
			if r.status != tt.status || took < d {
				t.Errorf("got %d after %v, want %d after at least %v", r.status, took, tt.status, d)
			}
		})
	}
	began := time.Now()
	if r := call(t, srv, "GET", "/fake/things/"+id, nil); r.status != 200 || time.Since(began) > d {
		t.Errorf("used-up delays still apply: %d after %v", r.status, time.Since(began))
	}
}

func TestDroppedConnection(t *testing.T) {
	srv := start(t)
	id := create(t, srv, "a", 3600)
	srv.Override(t, override.Spec{Operation: "readThing", Fault: override.FaultDrop, Times: 1})
	req, _ := http.NewRequestWithContext(context.Background(), "GET", srv.URL+"/fake/things/"+id, nil)
	req.Header.Set("Authorization", "Bearer x")
	// A fresh connection: Go's transport silently retries an idempotent
	// request once when a reused connection closes without answering.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := httptestx.Exchange(fresh, req); err == nil {
		t.Fatalf("got an answer (%d), want a dropped connection", resp.Status)
	}
	if r := call(t, srv, "GET", "/fake/things/"+id, nil); r.status != 200 {
		t.Errorf("after the drop: %d", r.status)
	}
	es := srv.Requests(journal.Query{Operation: "readThing"})
	if len(es) != 2 || es[0].Fault != "drop" || es[0].Status != 0 {
		t.Errorf("journal: %+v", es)
	}
}

func TestPreferHeader(t *testing.T) {
	srv := start(t)
	id := create(t, srv, "a", 3600)
	tests := []struct {
		name     string
		path     string
		header   []string
		status   int
		bodyHas  string
		unstated bool // state must not be touched
	}{
		{"code picks the spec's 404 example", "/fake/things/" + id, []string{"Prefer", "code=404"}, 404, "from the spec example", false},
		{"example picks a named example", "/fake/things/" + id, []string{"Prefer", "example=other"}, 200, "other example", false},
		{"code and example combine", "/fake/things/" + id, []string{"Prefer", "code=200, example=basic"}, 200, `"ex1"`, false},
		{"no example: vendor's error document", "/fake/things/" + id, []string{"Prefer", "code=429"}, 429, "too_many_requests", false},
		{"state=ignore answers the example for an unknown thing", "/fake/things/nosuch", []string{"Prefer", "state=ignore"}, 200, `"ex1"`, false},
		{"query form", "/fake/things/" + id + "?__code=404", nil, 404, "from the spec example", false},
		{"undeclared success code", "/fake/things/" + id, []string{"Prefer", "code=202"}, 400, "declares no 202", false},
		{"unknown example", "/fake/things/" + id, []string{"Prefer", "example=nope"}, 400, "basic, other", false},
		{"malformed code", "/fake/things/" + id, []string{"Prefer", "code=4O4"}, 400, "three-digit", false},
		{"unknown preferences are ignored", "/fake/things/" + id, []string{"Prefer", "return=minimal"}, 200, `"a"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, srv, "GET", tt.path, nil, tt.header...)
			if r.status != tt.status || !strings.Contains(string(r.body), tt.bodyHas) {
				t.Errorf("got %d %s, want %d containing %s", r.status, r.body, tt.status, tt.bodyHas)
			}
		})
	}
	// Prefer on a write with state=ignore creates nothing.
	before := srv.State(t)
	if r := call(t, srv, "POST", "/fake/things", map[string]any{"name": "ghost"}, "Prefer", "state=ignore"); r.status != 201 {
		t.Fatalf("state=ignore create: %d %s", r.status, r.body)
	}
	if after := srv.State(t); string(after.Vendors["fake"]) != string(before.Vendors["fake"]) {
		t.Errorf("state=ignore changed state:\n%s\n%s", before.Vendors["fake"], after.Vendors["fake"])
	}
}

func TestAddOverrideErrorsAreProblems(t *testing.T) {
	srv := start(t)
	_, err := srv.Mock.AddOverride(context.Background(), override.Spec{Operation: "nope", Status: 500})
	var p *problem.Problem
	if !errors.As(err, &p) || p.Kind != problem.Invalid {
		t.Fatalf("got %v", err)
	}
	raw, _ := json.Marshal(p.Issues)
	if !strings.Contains(string(raw), `"field":"operation"`) {
		t.Errorf("issues %s", raw)
	}
}
