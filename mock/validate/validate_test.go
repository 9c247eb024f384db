package validate_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/validate"
)

const okID = "3fa85f64-5717-4562-b3fc-2c963f66afa6"

func TestRequestProblems(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("testdata/petstore.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(doc, "/api")
	if err != nil {
		t.Fatal(err)
	}
	if got := validate.EchoPath("/a/{b}/c/{d}"); got != "/a/:b/c/:d" {
		t.Fatalf("EchoPath = %q", got)
	}
	route := v.Route(http.MethodPut, "/api/things/:id")
	if route == nil || route.Operation.OperationID != "putThing" {
		t.Fatalf("route not found by echo path: %+v", route)
	}
	tests := []struct {
		name      string
		id        string
		query     string
		auth      string
		ctype     string
		body      string
		wantKind  problem.Kind // "" = valid
		wantField string
		wantRule  string
	}{
		{name: "valid", body: `{"name":"a","owner":{"id":"o"}}`},
		{name: "no bearer", auth: "-", body: `{"name":"a","owner":{"id":"o"}}`, wantKind: problem.Unauthenticated, wantField: "Authorization"},
		{name: "basic auth", auth: "Basic eDp5", body: `{"name":"a","owner":{"id":"o"}}`, wantKind: problem.Unauthenticated},
		{name: "empty bearer", auth: "Bearer ", body: `{"name":"a","owner":{"id":"o"}}`, wantKind: problem.Unauthenticated},
		{name: "malformed json", body: `{"name":`, wantKind: problem.Invalid, wantRule: "json"},
		{name: "missing body", body: ``, wantKind: problem.Invalid, wantRule: "required"},
		{name: "missing field", body: `{"owner":{"id":"o"}}`, wantKind: problem.Invalid, wantField: "name", wantRule: "required"},
		{name: "nested missing", body: `{"name":"a","owner":{}}`, wantKind: problem.Invalid, wantField: "owner.id", wantRule: "required"},
		{name: "nested type", body: `{"name":"a","owner":{"id":"o","age":"x"}}`, wantKind: problem.Invalid, wantField: "owner.age", wantRule: "type"},
		{name: "min length", body: `{"name":"","owner":{"id":"o"}}`, wantKind: problem.Invalid, wantField: "name", wantRule: "minLength"},
		{name: "bad uuid", id: "nope", body: `{"name":"a","owner":{"id":"o"}}`, wantKind: problem.Invalid, wantField: "id"},
		{name: "query over max", query: "?limit=11", body: `{"name":"a","owner":{"id":"o"}}`, wantKind: problem.Invalid, wantField: "limit", wantRule: "maximum"},
		{name: "wrong content type", ctype: "text/plain", body: `hello`, wantKind: problem.UnsupportedMediaType, wantField: "Content-Type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id := okID
			if tt.id != "" {
				id = tt.id
			}
			req := httptest.NewRequest(http.MethodPut, "/api/things/"+id+tt.query, strings.NewReader(tt.body))
			switch tt.auth {
			case "":
				req.Header.Set("Authorization", "Bearer tok")
			case "-":
			default:
				req.Header.Set("Authorization", tt.auth)
			}
			ct := "application/json"
			if tt.ctype != "" {
				ct = tt.ctype
			}
			req.Header.Set("Content-Type", ct)
			_, p := v.Request(context.Background(), req, route, map[string]string{"id": id})
			if tt.wantKind == "" {
				if p != nil {
					t.Fatalf("unexpected problem: %v", p)
				}
				return
			}
			if p == nil {
				t.Fatal("no problem reported")
			}
			if p.Kind != tt.wantKind {
				t.Fatalf("kind = %s, want %s (%v)", p.Kind, tt.wantKind, p)
			}
			if tt.wantField != "" && !hasIssue(p, tt.wantField, tt.wantRule) {
				t.Fatalf("no issue for field %q rule %q in %+v", tt.wantField, tt.wantRule, p.Issues)
			}
			if tt.wantField == "" && tt.wantRule != "" && !hasIssue(p, "", tt.wantRule) {
				t.Fatalf("no issue with rule %q in %+v", tt.wantRule, p.Issues)
			}
		})
	}
}

func hasIssue(p *problem.Problem, field, rule string) bool {
	for _, is := range p.Issues {
		if is.Field == field && (rule == "" || is.Rule == rule) {
			return true
		}
	}
	return false
}

func TestResponse(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromFile("testdata/petstore.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(doc, "")
	if err != nil {
		t.Fatal(err)
	}
	route := v.Route(http.MethodPut, "/things/:id")
	req := httptest.NewRequest(http.MethodPut, "/things/"+okID, strings.NewReader(`{"name":"a","owner":{"id":"o"}}`))
	req.Header.Set("Authorization", "Bearer tok")
	req.Header.Set("Content-Type", "application/json")
	in, p := v.Request(context.Background(), req, route, map[string]string{"id": okID})
	if p != nil {
		t.Fatal(p)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	if p := v.Response(context.Background(), in, 200, h, []byte(`{"name":"a"}`)); p != nil {
		t.Fatalf("valid response rejected: %v", p)
	}
	p = v.Response(context.Background(), in, 200, h, []byte(`{"name":1}`))
	if p == nil || p.Kind != problem.Internal || !hasIssue(p, "name", "type") {
		t.Fatalf("bad response not reported with field: %+v", p)
	}
	if p := v.Response(context.Background(), in, 201, h, []byte(`{}`)); p == nil {
		t.Fatal("undeclared status accepted")
	}
}

// checkUUID must accept exactly what kin-openapi's RFC 4122 pattern does.
func TestUUIDFormatMatchesPattern(t *testing.T) {
	re := regexp.MustCompile(openapi3.FormatOfStringForUUIDOfRFC4122)
	doc, err := openapi3.NewLoader().LoadFromFile("testdata/petstore.yaml")
	if err != nil {
		t.Fatal(err)
	}
	v, err := validate.New(doc, "")
	if err != nil {
		t.Fatal(err)
	}
	route := v.Route(http.MethodPut, "/things/:id")
	for _, id := range []string{
		okID, strings.ToUpper(okID), "00000000-0000-0000-0000-000000000000",
		"3fa85f64-5717-6562-b3fc-2c963f66afa6", // version 6
		"3fa85f64-5717-4562-c3fc-2c963f66afa6", // variant c
		"3fa85f64-5717-4562-b3fc-2c963f66afa",  // short
		"3fa85f64-5717-4562-b3fc-2c963f66afa6x",
		"3fa85f64x5717-4562-b3fc-2c963f66afa6",
		"3fa85f64-5717-4562-b3fc-2c963f66afg6",
		"07e1ee43-9f56-4254-8cfb-1709b5ea8e24", "", "nope",
	} {
		req := httptest.NewRequest(http.MethodPut, "/things/x", strings.NewReader(`{"name":"a","owner":{"id":"o"}}`))
		req.Header.Set("Authorization", "Bearer tok")
		req.Header.Set("Content-Type", "application/json")
		_, p := v.Request(context.Background(), req, route, map[string]string{"id": id})
		if got, want := p == nil, re.MatchString(id); got != want {
			t.Errorf("%q: accepted = %v, pattern says %v (%v)", id, got, want, p)
		}
	}
}
