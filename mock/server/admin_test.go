package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/internal/httptestx"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/server"
)

func TestClockExpiresThings(t *testing.T) {
	srv := start(t)
	id := create(t, srv, "a", 3600) // lives one hour
	tests := []struct {
		name   string
		change any
		status int // of the clock call
		read   int // then reading the thing
	}{
		{"freeze", map[string]any{"freeze": true}, 200, 200},
		{"advance 59m", map[string]any{"advance": "59m"}, 200, 200},
		{"bad duration", map[string]any{"advance": "soon"}, 400, 200},
		{"unknown field", map[string]any{"advanc": "1h"}, 400, 200},
		{"advance 2m expires it", map[string]any{"advance": "2m"}, 200, 404},
		{"back 1d revives it", map[string]any{"advance": "-1d"}, 200, 200},
		{"3d expires it again", map[string]any{"advance": "3d"}, 200, 404},
		{"reset", map[string]any{"reset": true}, 200, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := call(t, srv, "PUT", "/__mock/clock", tt.change); r.status != tt.status {
				t.Fatalf("clock: %d %s", r.status, r.body)
			}
			if r := call(t, srv, "GET", "/fake/things/"+id, nil); r.status != tt.read {
				t.Errorf("read: %d, want %d", r.status, tt.read)
			}
		})
	}
	frozenAt := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	r := call(t, srv, "PUT", "/__mock/clock", map[string]any{"set": frozenAt, "freeze": true})
	var st struct {
		Now    time.Time
		Frozen bool
	}
	if err := json.Unmarshal(r.body, &st); err != nil || !st.Now.Equal(frozenAt) || !st.Frozen {
		t.Errorf("set+freeze answered %s", r.body)
	}
	time.Sleep(20 * time.Millisecond)
	if now := srv.Clock().Now(); !now.Equal(frozenAt) {
		t.Errorf("frozen clock moved to %v", now)
	}
}

func TestJournalFindsAndExplains(t *testing.T) {
	srv := start(t)
	create(t, srv, "alice", 60)
	call(t, srv, "POST", "/fake/things", map[string]any{"name": "bob", "password": "hunter2"})
	call(t, srv, "GET", "/fake/thngs/t1", nil)                       // typo in the path
	call(t, srv, "PUT", "/fake/things/t1", nil)                      // wrong method
	call(t, srv, "POST", "/fake/things", map[string]any{"name": ""}) // breaks minLength
	call(t, srv, "GET", "/fake/things/t1", nil, "Authorization", "") // no token

	r := call(t, srv, "POST", "/__mock/journal/find", map[string]any{"operation": "createThing", "body": map[string]any{"/name": "bob"}})
	var found struct {
		Entries []struct {
			Body    map[string]any      `json:"body"`
			Headers map[string][]string `json:"headers"`
			Status  int                 `json:"status"`
			Valid   bool                `json:"valid"`
		} `json:"entries"`
		Total int `json:"total"`
	}
	if err := json.Unmarshal(r.body, &found); err != nil || len(found.Entries) != 1 {
		t.Fatalf("find: %d %s", r.status, r.body)
	}
	e := found.Entries[0]
	if e.Status != 201 || !e.Valid || e.Body["password"] != journal.Redacted || e.Headers["Authorization"][0] != "Bearer "+journal.Redacted {
		t.Errorf("entry not as sent or not redacted: %+v", e)
	}
	if found.Total != 6 {
		t.Errorf("total %d, want 6", found.Total)
	}
	if r := call(t, srv, "POST", "/__mock/journal/count", map[string]any{"operation": "createThing"}); !strings.Contains(string(r.body), `"count":3`) {
		t.Errorf("count: %s", r.body)
	}

	un := srv.Unmatched()
	want := []struct{ op, reason, path string }{
		{"readThing", `path segment 2 is "thngs", the operation has "things"`, "/fake/things/{id}"},
		{"deleteThing", "method is PUT, the operation takes DELETE", "/fake/things/{id}"},
		{"createThing", "body name", "/fake/things"},
		{"readThing", "Authorization", "/fake/things/{id}"}, // one path style, matched or not
	}
	if len(un) != len(want) {
		t.Fatalf("unmatched: %d entries, want %d: %+v", len(un), len(want), un)
	}
	for i, w := range want {
		n := un[i].Nearest
		if n == nil || n.Operation != w.op || n.Path != w.path || !strings.Contains(strings.Join(n.Reasons, "|"), w.reason) {
			t.Errorf("unmatched %d (%s %s): nearest %+v, want %s because %q", i, un[i].Method, un[i].Path, n, w.op, w.reason)
		}
	}
	// The same over HTTP.
	r = call(t, srv, "GET", "/__mock/journal/unmatched", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"nearest":{`) {
		t.Errorf("GET unmatched: %d %s", r.status, r.body)
	}
	if r := call(t, srv, "DELETE", "/__mock/journal", nil); r.status != 204 || srv.Journal().Len() != 0 {
		t.Errorf("clear: %d, %d left", r.status, srv.Journal().Len())
	}
}

func TestJournalKeepsSecretsWhenAsked(t *testing.T) {
	srv := start(t, withConfig(func(c *server.Config) { c.KeepSecrets = true }))
	call(t, srv, "POST", "/fake/things", map[string]any{"name": "bob", "password": "hunter2"})
	e := srv.Requests(journal.Query{Operation: "createThing"})
	if len(e) != 1 || e[0].Body.(map[string]any)["password"] != "hunter2" || e[0].Header.Get("Authorization") != "Bearer test-token" {
		t.Errorf("%+v", e)
	}
}

func TestStateDumpReloadsIntoFreshServer(t *testing.T) {
	a := start(t)
	var ids []string
	for _, n := range []string{"one", "two", "three"} {
		ids = append(ids, create(t, a, n, 3600))
	}
	call(t, a, "DELETE", "/fake/things/"+ids[1], nil)
	call(t, a, "PUT", "/__mock/clock", map[string]any{"advance": "30m", "freeze": true})
	dump := call(t, a, "GET", "/__mock/state", nil)
	if dump.status != 200 {
		t.Fatalf("dump: %d %s", dump.status, dump.body)
	}

	b := start(t)
	if r := call(t, b, "PUT", "/__mock/state", string(dump.body)); r.status != 204 {
		t.Fatalf("load: %d %s", r.status, r.body)
	}
	reqs := []struct{ method, path string }{
		{"GET", "/fake/things/" + ids[0]},
		{"GET", "/fake/things/" + ids[1]},
		{"GET", "/fake/things/" + ids[2]},
		{"GET", "/__mock/clock"},
	}
	for _, rq := range reqs {
		ra, rb := call(t, a, rq.method, rq.path, nil), call(t, b, rq.method, rq.path, nil)
		if rq.path == "/__mock/clock" { // the same instant; offsets follow each server's start
			ca, cb := ra.json(t), rb.json(t)
			ra.body, rb.body = []byte(fmt.Sprint(ca["now"], ca["frozen"])), []byte(fmt.Sprint(cb["now"], cb["frozen"]))
		}
		if ra.status != rb.status || string(ra.body) != string(rb.body) {
			t.Errorf("%s %s: original %d %s, restored %d %s", rq.method, rq.path, ra.status, ra.body, rb.status, rb.body)
		}
	}
	// Both go on identically: the next id and the expiry.
	if x, y := create(t, a, "four", 60), create(t, b, "four", 60); x != y {
		t.Errorf("next ids differ: %s vs %s", x, y)
	}
	bad := []struct {
		name, doc, want string
	}{
		{"unknown vendor", `{"vendors":{"okta":{}}}`, "okta"},
		{"vendor rejects its document", `{"vendors":{"fake":{"things":"x"}}}`, "fake state"},
		{"no vendors", `{}`, "vendors"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, b, "PUT", "/__mock/state", tt.doc)
			if r.status != 400 || !strings.Contains(string(r.body), tt.want) {
				t.Errorf("got %d %s", r.status, r.body)
			}
		})
	}
}

func TestResetAndOperations(t *testing.T) {
	srv := start(t)
	id := create(t, srv, "a", 60)
	call(t, srv, "POST", "/__mock/overrides", map[string]any{"operation": "readThing", "status": 404})
	call(t, srv, "PUT", "/__mock/clock", map[string]any{"advance": "1h"})
	tests := []struct {
		path   string
		status int
	}{
		{"/__mock/reset?vendor=okta", 404},
		{"/__mock/reset?vendor=fake", 204},
		{"/__mock/reset", 204},
	}
	for _, tt := range tests {
		if r := call(t, srv, "POST", tt.path, nil); r.status != tt.status {
			t.Errorf("%s: %d %s", tt.path, r.status, r.body)
		}
	}
	if len(srv.Overrides().List()) != 0 || srv.Journal().Len() != 0 || srv.Clock().State().Offset != 0 {
		t.Errorf("reset left overrides %v, %d journal entries, clock %+v", srv.Overrides().List(), srv.Journal().Len(), srv.Clock().State())
	}
	if r := call(t, srv, "GET", "/fake/things/"+id, nil); r.status != 404 {
		t.Errorf("created thing survived the reset: %d", r.status)
	}
	r := call(t, srv, "GET", "/__mock/operations", nil)
	if !strings.Contains(string(r.body), `{"method":"GET","operation":"readThing","path":"/fake/things/{id}","vendor":"fake"}`) {
		t.Errorf("operations: %s", r.body)
	}
}

func TestAdminSecurityAndCORS(t *testing.T) {
	open := start(t)
	locked := start(t, withConfig(func(c *server.Config) { c.Admin.Token = "s3cret" }))
	off := start(t, withConfig(func(c *server.Config) { c.Admin.Disabled = true }))
	noCORS := start(t, withConfig(func(c *server.Config) { c.CORS = false }))
	opted := start(t, withConfig(func(c *server.Config) {
		c.Admin.Token, c.Admin.CORSOrigins = "s3cret", []string{"http://app.test", "https://other.test:8443"}
	}))
	host := strings.TrimPrefix(open.URL, "http://")
	tests := []struct {
		name      string
		srv       func() string
		method    string
		path      string
		header    []string
		status    int
		allowOrig string // expected Access-Control-Allow-Origin
		allowHdrs string
	}{
		{"admin same origin", func() string { return open.URL }, "GET", "/__mock/clock", []string{"Origin", "http://" + host}, 200, "", ""},
		{"admin cross origin", func() string { return open.URL }, "GET", "/__mock/clock", []string{"Origin", "http://evil.test"}, 403, "", ""},
		{"admin cross site fetch", func() string { return open.URL }, "GET", "/__mock/clock", []string{"Sec-Fetch-Site", "cross-site"}, 403, "", ""},
		{"admin preflight gets no CORS", func() string { return open.URL }, "OPTIONS", "/__mock/reset", []string{"Origin", "http://app.test", "Access-Control-Request-Method", "POST"}, 0, "", ""},
		{"token missing", func() string { return locked.URL }, "GET", "/__mock/clock", []string{"Authorization", ""}, 401, "", ""},
		{"token wrong", func() string { return locked.URL }, "GET", "/__mock/clock", []string{"Authorization", "Bearer nope"}, 401, "", ""},
		{"token right", func() string { return locked.URL }, "GET", "/__mock/clock", []string{"Authorization", "Bearer s3cret"}, 200, "", ""},
		{"admin disabled", func() string { return off.URL }, "GET", "/__mock/clock", nil, 404, "", ""},
		{"vendor preflight", func() string { return open.URL }, "OPTIONS", "/fake/things/t1", []string{"Origin", "http://app.test", "Access-Control-Request-Method", "DELETE", "Access-Control-Request-Headers", "authorization,prefer,x-custom"}, 204, "http://app.test", "authorization,prefer,x-custom"},
		{"preflight on unknown path", func() string { return open.URL }, "OPTIONS", "/fake/nothing/here", []string{"Origin", "http://app.test", "Access-Control-Request-Method", "GET"}, 204, "http://app.test", ""},
		{"simple CORS request", func() string { return open.URL }, "GET", "/fake/things/nosuch", []string{"Origin", "http://app.test"}, 404, "http://app.test", ""},
		{"--admin-cors: listed origin's preflight", func() string { return opted.URL }, "OPTIONS", "/__mock/overrides", []string{"Origin", "http://app.test", "Access-Control-Request-Method", "POST", "Access-Control-Request-Headers", "authorization,content-type"}, 204, "http://app.test", "authorization,content-type"},
		{"--admin-cors: second listed origin", func() string { return opted.URL }, "OPTIONS", "/__mock/clock", []string{"Origin", "https://other.test:8443", "Access-Control-Request-Method", "PUT"}, 204, "https://other.test:8443", ""},
		{"--admin-cors: other origin's preflight refused", func() string { return opted.URL }, "OPTIONS", "/__mock/overrides", []string{"Origin", "http://evil.test", "Access-Control-Request-Method", "POST"}, 403, "", ""},
		{"--admin-cors: listed origin with the token", func() string { return opted.URL }, "GET", "/__mock/clock", []string{"Origin", "http://app.test", "Sec-Fetch-Site", "cross-site", "Authorization", "Bearer s3cret"}, 200, "http://app.test", ""},
		{"--admin-cors: listed origin still needs the token", func() string { return opted.URL }, "GET", "/__mock/clock", []string{"Origin", "http://app.test", "Authorization", "Bearer nope"}, 401, "http://app.test", ""},
		{"--admin-cors: other origin refused", func() string { return opted.URL }, "GET", "/__mock/clock", []string{"Origin", "http://evil.test", "Authorization", "Bearer s3cret"}, 403, "", ""},
		{"--admin-cors: origin differing by port refused", func() string { return opted.URL }, "GET", "/__mock/clock", []string{"Origin", "http://app.test:8080", "Authorization", "Bearer s3cret"}, 403, "", ""},
		{"CORS off", func() string { return noCORS.URL }, "GET", "/fake/things/nosuch", []string{"Origin", "http://app.test"}, 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := httptestx.Send(t, http.DefaultClient, tt.srv(), tt.method, tt.path, "", append([]string{"Authorization", "Bearer x"}, tt.header...)...)
			if tt.status != 0 && resp.Status != tt.status {
				t.Errorf("status %d, want %d", resp.Status, tt.status)
			}
			if got := resp.Header.Get("Access-Control-Allow-Origin"); got != tt.allowOrig {
				t.Errorf("Allow-Origin %q, want %q", got, tt.allowOrig)
			}
			if tt.allowOrig != "" && resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
				t.Error("credentials not allowed")
			}
			if got := resp.Header.Get("Access-Control-Allow-Headers"); got != tt.allowHdrs {
				t.Errorf("Allow-Headers %q, want %q", got, tt.allowHdrs)
			}
		})
	}
}
