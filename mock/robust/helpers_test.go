package robust_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	genpingone "github.com/idpmock/idpmock/gen/pingone"
	genzitadel "github.com/idpmock/idpmock/gen/zitadel"
	"github.com/idpmock/idpmock/mock/internal/httptestx"
	"github.com/idpmock/idpmock/mock/mocktest"
)

// Seeded PingOne data (fixtures/pingone).
const (
	pingEnv     = "abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6"
	pingUser    = "07e1ee43-9f56-4254-8cfb-1709b5ea8e24"
	pingSession = "ee14fe02-6b74-46b3-81f2-2de2a384fa1b"
	pingToken   = "1b9a3cf8-4a5c-4e1f-9a3c-4f6f3f9d2f51" // the createSession example's token
	zitadelUser = "mini@mouse.com"
)

// face is how a vendor writes errors on a path.
type face string

const (
	facePingOne face = "pingone"
	faceREST    face = "zitadel-rest"
	faceConnect face = "zitadel-connect"
)

// target is one operation of a vendor spec, with a valid request built
// from the spec's own example.
type target struct {
	face     face
	id       string // operationId
	method   string
	path     string // template, base path included
	op       *openapi3.Operation
	hasBody  bool   // the operation declares a request body
	ctype    string // its media type
	example  []byte // the spec's request example; nil: none
	idParams []string
}

func (tg target) String() string { return tg.id }

// targets lists every operation of both vendors' specs, so a new
// operation is attacked without editing these tests.
func targets(t testing.TB) []target {
	t.Helper()
	var out []target
	for _, v := range []struct {
		base string
		load func() (*openapi3.T, error)
	}{{"/v1", genpingone.GetSpec}, {"", genzitadel.GetSpec}} {
		doc, err := v.load()
		if err != nil {
			t.Fatal(err)
		}
		paths := doc.Paths.InMatchingOrder()
		sort.Strings(paths)
		for _, p := range paths {
			item := doc.Paths.Value(p)
			methods := make([]string, 0)
			for m := range item.Operations() {
				methods = append(methods, m)
			}
			sort.Strings(methods)
			for _, m := range methods {
				op := item.GetOperation(m)
				tg := target{id: op.OperationID, method: m, path: v.base + p, op: op}
				switch {
				case v.base == "/v1":
					tg.face = facePingOne
				case strings.HasPrefix(p, "/zitadel."):
					tg.face = faceConnect
				default:
					tg.face = faceREST
				}
				for _, prm := range append(item.Parameters, op.Parameters...) {
					if prm.Value != nil && prm.Value.In == "path" {
						tg.idParams = append(tg.idParams, prm.Value.Name)
					}
				}
				if rb := op.RequestBody; rb != nil && rb.Value != nil {
					tg.hasBody = true
					types := make([]string, 0, len(rb.Value.Content))
					for ct := range rb.Value.Content {
						types = append(types, ct)
					}
					sort.Strings(types)
					tg.ctype = types[0]
					tg.example = example(rb.Value.Content[tg.ctype])
				}
				out = append(out, tg)
			}
		}
	}
	if len(out) < 15 {
		t.Fatalf("only %d operations found in the specs", len(out))
	}
	return out
}

// example is a media type's example (the first named one), as JSON.
func example(mt *openapi3.MediaType) []byte {
	if mt == nil {
		return nil
	}
	var v any
	switch {
	case mt.Example != nil:
		v = mt.Example
	case len(mt.Examples) > 0:
		names := make([]string, 0, len(mt.Examples))
		for n := range mt.Examples {
			names = append(names, n)
		}
		sort.Strings(names)
		if ex := mt.Examples[names[0]]; ex != nil && ex.Value != nil {
			v = ex.Value.Value
		}
	}
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return b
}

// allExamples is every request example of a media type, for fuzz seeds.
func allExamples(mt *openapi3.MediaType) [][]byte {
	if mt == nil {
		return nil
	}
	var out [][]byte
	if mt.Example != nil {
		b, _ := json.Marshal(mt.Example)
		out = append(out, b)
	}
	for _, ex := range mt.Examples {
		if ex != nil && ex.Value != nil {
			b, _ := json.Marshal(ex.Value.Value)
			out = append(out, b)
		}
	}
	return out
}

// live are the ids of sessions the valid requests act on.
type live struct {
	pingSession  string // a PingOne session with token pingToken
	zitadelID    string
	zitadelToken string
}

// setup resets the mock and creates one session per vendor.
func setup(t testing.TB, srv *mocktest.Server) live {
	t.Helper()
	srv.Reset(t)
	var l live
	r := send(t, srv, request{method: "POST", path: "/v1/environments/" + pingEnv + "/sessions", ctype: "application/json",
		body: []byte(`{"user":{"id":"` + pingUser + `"},"token":"` + pingToken + `","activeAt":"` + nowStamp() + `","userAgent":"robust"}`)})
	if r.status != 201 {
		t.Fatalf("setup: pingone create: %d %s", r.status, r.body)
	}
	var p struct{ ID string }
	_ = json.Unmarshal(r.body, &p)
	l.pingSession = p.ID
	r = send(t, srv, request{method: "POST", path: "/v2/sessions", ctype: "application/json",
		body: []byte(`{"checks":{"user":{"loginName":"` + zitadelUser + `"}},"lifetime":"3600s"}`)})
	if r.status != 201 {
		t.Fatalf("setup: zitadel create: %d %s", r.status, r.body)
	}
	var z struct{ SessionID, SessionToken string }
	_ = json.Unmarshal(r.body, &z)
	l.zitadelID, l.zitadelToken = z.SessionID, z.SessionToken
	return l
}

// nowStamp is an activeAt that keeps a new session alive for the test.
func nowStamp() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

// request is one HTTP request, as raw as the tests need.
type request struct {
	method  string
	path    string // escaped path, query included
	ctype   string // "" sends none
	header  http.Header
	cookie  string
	body    []byte
	chunked bool // hide the length (Transfer-Encoding: chunked)
	noAuth  bool
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// valid builds the valid request of tg against l: path ids filled, the
// spec example as body with live ids and tokens.
func valid(tg target, l live) request {
	path := tg.path
	for _, name := range tg.idParams {
		path = strings.ReplaceAll(path, "{"+name+"}", url.PathEscape(idFor(tg, name, l)))
	}
	r := request{method: tg.method, path: path, header: http.Header{}}
	if tg.face == facePingOne {
		r.cookie = "ST=" + pingToken
	}
	if tg.hasBody {
		r.ctype = tg.ctype
		r.body = fillBody(tg, l)
	}
	return r
}

func idFor(tg target, name string, l live) string {
	switch name {
	case "envID":
		return pingEnv
	case "userID":
		return pingUser
	case "sessionID":
		return l.pingSession
	case "sessionId":
		return l.zitadelID
	}
	return "x"
}

// fillBody is the example with the live session's id and token; bodies
// the spec gives no example for are "{}" (logout bodies stay empty).
func fillBody(tg target, l live) []byte {
	if !strings.Contains(tg.ctype, "json") {
		return nil
	}
	if tg.example == nil {
		return []byte("{}")
	}
	var v any
	if err := json.Unmarshal(tg.example, &v); err != nil {
		return tg.example
	}
	if m, ok := v.(map[string]any); ok && tg.face != facePingOne {
		if _, ok := m["sessionId"]; ok {
			m["sessionId"] = l.zitadelID
		}
		if _, ok := m["sessionToken"]; ok {
			m["sessionToken"] = l.zitadelToken
		}
		if tg.id == "Connect_SetSession" || tg.id == "SessionService_SetSession" {
			delete(m, "checks") // the live session's user is checked already
		}
	}
	b, _ := json.Marshal(v)
	return b
}

func send(t testing.TB, srv *mocktest.Server, r request) answer {
	t.Helper()
	a, err := trySend(srv.AnonymousClient(), srv.URL, r)
	if err != nil {
		t.Fatalf("%s %.120s: %v", r.method, r.path, err)
	}
	return a
}

// trySend builds what httptestx.Send cannot (raw bytes, a chunked body,
// repeated headers, no bearer) and returns errors instead of failing, for
// goroutines and tests that expect the transport to fail.
func trySend(c *http.Client, base string, r request) (answer, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
		if r.chunked {
			body = io.MultiReader(bytes.NewReader(r.body)) // unknown length
		}
	}
	req, err := http.NewRequestWithContext(context.Background(), r.method, base+r.path, body)
	if err != nil {
		return answer{}, err
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	if !r.noAuth && req.Header.Get("Authorization") == "" {
		req.Header.Set("Authorization", "Bearer robust-test")
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	if r.cookie != "" {
		req.Header.Set("Cookie", r.cookie)
	}
	a, err := httptestx.Exchange(c, req)
	return answer{status: a.Status, header: a.Header, body: a.Raw}, err
}

// vendorFormat checks that a is an error document in f's format.
func vendorFormat(f face, a answer) error {
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Errorf("Content-Type %q, want application/json", ct)
	}
	var doc map[string]any
	if err := json.Unmarshal(a.body, &doc); err != nil {
		return fmt.Errorf("error body is not JSON: %v", err)
	}
	msg, _ := doc["message"].(string)
	switch f {
	case facePingOne:
		id, _ := doc["id"].(string)
		code, _ := doc["code"].(string)
		if id == "" || code == "" || msg == "" {
			return fmt.Errorf("not PingOne's {id, code, message}: %s", a.body)
		}
	case faceREST:
		if _, ok := doc["code"].(float64); !ok || msg == "" {
			return fmt.Errorf("not a google.rpc.Status {code:int, message}: %s", a.body)
		}
	case faceConnect:
		if c, _ := doc["code"].(string); c == "" || msg == "" {
			return fmt.Errorf("not a Connect error {code:string, message}: %s", a.body)
		}
	}
	return nil
}

// stateOf is every vendor's state, without the clock.
func stateOf(t testing.TB, srv *mocktest.Server) string {
	t.Helper()
	st := srv.State(t)
	b, err := json.Marshal(st.Vendors)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
