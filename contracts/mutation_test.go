package contracts_test

// Mutation tests: break one fixture field, one spec constraint or one
// handler field in a copy, and check the suite fails with a message that
// points at the cause. A suite that passes on broken inputs proves nothing.

import (
	"bytes"
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/contracts"
	"github.com/idpmock/idpmock/fixtures"
	"github.com/idpmock/idpmock/mock"
	"github.com/idpmock/idpmock/mock/jsonptr"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/server"
)

// fixturesCopy copies the embedded fixtures into memory.
func fixturesCopy(t *testing.T) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	err := fs.WalkDir(fixtures.Data, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fixtures.Data, p)
		out[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// setJSON replaces the value at pointer in a JSON file of fsys.
func setJSON(t *testing.T, fsys fstest.MapFS, file, pointer string, value any) {
	t.Helper()
	var doc any
	if err := json.Unmarshal(fsys[file].Data, &doc); err != nil {
		t.Fatal(err)
	}
	parent, key := pointer[:strings.LastIndex(pointer, "/")], pointer[strings.LastIndex(pointer, "/")+1:]
	p, ok := jsonptr.Get(doc, parent)
	if !ok {
		t.Fatalf("%s: no %s", file, parent)
	}
	switch n := p.(type) {
	case map[string]any:
		n[key] = value
	case []any:
		var i int
		if err := json.Unmarshal([]byte(key), &i); err != nil {
			t.Fatal(err)
		}
		n[i] = value
	default:
		t.Fatalf("%s: %s is not a container", file, parent)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	fsys[file] = &fstest.MapFile{Data: b}
}

func TestMutationFixtureField(t *testing.T) {
	ss := specSchemas(t, vendors(t))
	tests := []struct {
		name    string
		file    string
		pointer string
		value   any
		rule    string
	}{
		{"pingone location time (spec's Location schema)", "pingone/sessions.json", "/sessions/0/locations/0/at", "yesterday", "format"},
		{"pingone sign-on without remoteIp (spec's LastSignOnRequest)", "pingone/sessions.json", "/sessions/0/lastSignOn/remoteIp", nil, "type"},
		{"pingone idle timeout type", "pingone/sessions.json", "/sessions/0/idleTimeoutInMinutes", "a week", "type"},
		{"zitadel user state", "zitadel/users.json", "/0/state", "zombie", "enum"},
		{"zitadel intent expiry (spec's Timestamp)", "zitadel/intents.json", "/4/expiresAt", "soon", "format"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fsys := fixturesCopy(t)
			setJSON(t, fsys, tt.file, tt.pointer, tt.value)
			fs := contracts.CheckFixtures(fsys, "fixtures", ss)
			if len(fs) == 0 {
				t.Fatalf("broken %s%s passed the fixture check", tt.file, tt.pointer)
			}
			got := findingsText(fs)
			for _, want := range []string{"fixtures/" + tt.file, tt.pointer, "rule " + tt.rule} {
				if !strings.Contains(got, want) {
					t.Errorf("findings do not name %q:%s", want, got)
				}
			}
			// The mock refuses to start on it, naming the same place.
			_, err := server.New(context.Background(), server.Config{Fixtures: fsys}, mocktestDefaults...)
			if err == nil || !strings.Contains(err.Error(), tt.pointer) {
				t.Errorf("server.New with the broken fixture: %v, want an error naming %s", err, tt.pointer)
			}
		})
	}
}

// specMutant serves a vendor with an edited copy of its spec.
type specMutant struct {
	server.Vendor
	edit func(*openapi3.T)
}

func (m specMutant) Spec() (*openapi3.T, error) {
	doc, err := m.Vendor.Spec()
	if err != nil {
		return nil, err
	}
	m.edit(doc)
	return doc, nil
}

// handlerMutant corrupts one field of the vendor's JSON answers before
// strict mode sees them, as a buggy handler would.
type handlerMutant struct {
	server.Vendor
	pointer string
	value   any
}

func (m handlerMutant) Register(e *echo.Echo) {
	prefixes := m.Prefixes()
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			owned := false
			for _, p := range prefixes {
				owned = owned || strings.HasPrefix(c.Request().URL.Path, p)
			}
			if !owned {
				return next(c)
			}
			w := c.Response().Writer
			buf := &bufferWriter{header: w.Header()}
			c.Response().Writer = buf
			err := next(c)
			c.Response().Writer = w
			if err != nil && buf.status == 0 {
				return err // nothing written: the server renders the error
			}
			body := buf.body.Bytes()
			var doc map[string]any
			if json.Unmarshal(body, &doc) == nil && buf.status < 300 {
				if _, ok := jsonptr.Get(doc, m.pointer); ok {
					parent, key := m.pointer[:strings.LastIndex(m.pointer, "/")], m.pointer[strings.LastIndex(m.pointer, "/")+1:]
					if obj, ok := jsonptr.Get(doc, parent); ok {
						if o, ok := obj.(map[string]any); ok {
							o[key] = m.value
						}
					}
					body, _ = json.Marshal(doc)
				}
			}
			w.Header().Del("Content-Length")
			if buf.status == 0 {
				buf.status = http.StatusOK
			}
			w.WriteHeader(buf.status)
			_, _ = w.Write(body)
			return err
		}
	})
	m.Vendor.Register(e)
}

type bufferWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferWriter) Header() http.Header { return b.header }
func (b *bufferWriter) WriteHeader(code int) {
	if b.status == 0 {
		b.status = code
	}
}
func (b *bufferWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

// mocktestDefaults are the vendors mocktest.Start serves.
var mocktestDefaults = mock.Vendors(mock.Config{})

// wrapped returns the default vendors with one of them wrapped.
func wrapped(vendor string, wrap func(server.Vendor) server.Vendor) []server.VendorFactory {
	var out []server.VendorFactory
	for _, f := range mocktestDefaults {
		f := f
		out = append(out, func(d server.Deps) (server.Vendor, error) {
			v, err := f(d)
			if err != nil || v.Name() != vendor {
				return v, err
			}
			return wrap(v), nil
		})
	}
	return out
}

func scenario(t *testing.T, file string) *contracts.Scenario {
	t.Helper()
	for _, s := range loadScenarios(t) {
		if strings.HasSuffix(s.File, file) {
			return s
		}
	}
	t.Fatalf("no scenario %s", file)
	return nil
}

// runAgainst runs one scenario against a strict mock built from factories,
// with the checker built from the same (possibly mutated) specs.
func runAgainst(t *testing.T, factories []server.VendorFactory, sc *contracts.Scenario) contracts.Result {
	t.Helper()
	srv := mocktest.Start(t, mocktest.WithVendors(factories...))
	var vs []server.Vendor
	for _, f := range factories {
		v, err := f(server.Deps{Clock: srv.Clock()})
		if err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	checker, err := contracts.NewChecker(vs)
	if err != nil {
		t.Fatal(err)
	}
	return contracts.Run(context.Background(), contracts.Target{Name: "mutant", Client: srv.AnonymousClient(), Vars: contracts.MockVars(srv.URL), Checker: checker}, sc)
}

// stripExamples drops every example of doc, so a tightened constraint can
// be tried against the mock's behaviour even where the spec's own examples
// would no longer fit (kin-openapi refuses such a document at start).
func stripExamples(doc *openapi3.T) {
	seen := map[*openapi3.Schema]bool{}
	var schema func(*openapi3.SchemaRef)
	schema = func(r *openapi3.SchemaRef) {
		if r == nil || r.Value == nil || seen[r.Value] {
			return
		}
		s := r.Value
		seen[s] = true
		s.Example = nil
		for _, p := range s.Properties {
			schema(p)
		}
		schema(s.Items)
		schema(s.AdditionalProperties.Schema)
		schema(s.Not)
		for _, l := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, c := range l {
				schema(c)
			}
		}
	}
	content := func(c openapi3.Content) {
		for _, mt := range c {
			mt.Example, mt.Examples = nil, nil
			schema(mt.Schema)
		}
	}
	param := func(p *openapi3.ParameterRef) {
		if p != nil && p.Value != nil {
			p.Value.Example, p.Value.Examples = nil, nil
			schema(p.Value.Schema)
		}
	}
	for _, s := range doc.Components.Schemas {
		schema(s)
	}
	for _, r := range doc.Components.Responses {
		content(r.Value.Content)
	}
	for _, p := range doc.Components.Parameters {
		param(p)
	}
	for _, item := range doc.Paths.Map() {
		for _, p := range item.Parameters {
			param(p)
		}
		for _, op := range item.Operations() {
			for _, p := range op.Parameters {
				param(p)
			}
			if op.RequestBody != nil && op.RequestBody.Value != nil {
				content(op.RequestBody.Value.Content)
			}
			for _, r := range op.Responses.Map() {
				if r.Value != nil {
					content(r.Value.Content)
				}
			}
		}
	}
}

func TestMutationSpecConstraint(t *testing.T) {
	tests := []struct {
		name     string
		vendor   string
		edit     func(*openapi3.T)
		scenario string
		// What the examples check, the mock's start and the scenario run
		// (against the mock serving the tightened spec) must name.
		example  []string
		start    string
		scenWant []string
	}{
		{
			name:   "pingone idle timeout capped at 1000",
			vendor: "pingone",
			edit: func(doc *openapi3.T) {
				max := 1000.0
				doc.Components.Schemas["Session"].Value.Properties["idleTimeoutInMinutes"].Value.Max = &max
			},
			scenario: "pingone/seed_create_session.yaml",
			example:  []string{"openapi/pingone/sessions.yaml", "createSession", "at /idleTimeoutInMinutes", "rule maximum"},
			start:    "idleTimeoutInMinutes",
			scenWant: []string{"status 500, want 201", `"field":"idleTimeoutInMinutes","rule":"maximum"`},
		},
		{
			name:   "pingone browser version numeric-only",
			vendor: "pingone",
			edit: func(doc *openapi3.T) {
				doc.Components.Schemas["Browser"].Value.Properties["version"].Value.Pattern = "^[0-9]+$"
			},
			scenario: "pingone/seed_update_session.yaml",
			example:  []string{"#/components/schemas/Browser/properties/version/example", "rule pattern"},
			start:    "Browser",
			scenWant: []string{"status 500, want 201", `"field":"browser.version","rule":"pattern"`},
		},
		{
			name:   "zitadel sequence must be letters",
			vendor: "zitadel",
			edit: func(doc *openapi3.T) {
				doc.Components.Schemas["UInt64String"].Value.Pattern = "^[a-z]+$"
			},
			scenario: "zitadel/seed_set_session.yaml",
			example:  []string{"openapi/zitadel/session_service.yaml", "at /details/sequence", "rule pattern"},
			start:    "^[a-z]+$",
			scenWant: []string{"status 500, want 201", "details.sequence", "pattern"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mutant := func(v server.Vendor) server.Vendor { return specMutant{Vendor: v, edit: tt.edit} }
			// 1. The examples check names the spec file, the example, the
			// field and the rule.
			doc, err := mutant(vendorNamed(t, tt.vendor)).Spec()
			if err != nil {
				t.Fatal(err)
			}
			ss, err := contracts.NewSpecSchemas(contracts.SpecFiles[tt.vendor], doc)
			if err != nil {
				t.Fatal(err)
			}
			got := findingsText(ss.CheckExamples())
			for _, want := range tt.example {
				if !strings.Contains(got, want) {
					t.Errorf("examples check of the mutated spec does not name %q:%s", want, got)
				}
			}
			// 2. The mock refuses to serve a spec whose examples break it.
			_, err = server.New(context.Background(), server.Config{}, wrapped(tt.vendor, mutant)...)
			if err == nil || !strings.Contains(err.Error(), tt.start) {
				t.Errorf("server.New with the mutated spec: %v, want an error naming %q", err, tt.start)
			}
			// 3. With examples that still fit, strict mode and the runner
			// catch the mock's answers breaking the tightened constraint.
			tightened := func(v server.Vendor) server.Vendor {
				return specMutant{Vendor: v, edit: func(d *openapi3.T) { tt.edit(d); stripExamples(d) }}
			}
			res := runAgainst(t, wrapped(tt.vendor, tightened), scenario(t, tt.scenario))
			if !res.Failed() {
				t.Fatalf("scenario passed against the tightened spec:\n%s", res.Report())
			}
			rep := res.Report()
			for _, want := range tt.scenWant {
				if !strings.Contains(rep, want) {
					t.Errorf("scenario report does not name %q:\n%s", want, rep)
				}
			}
		})
	}
}

func vendorNamed(t *testing.T, name string) server.Vendor {
	t.Helper()
	for _, v := range vendors(t) {
		if v.Name() == name {
			return v
		}
	}
	t.Fatalf("no vendor %s", name)
	return nil
}

func TestMutationHandlerField(t *testing.T) {
	tests := []struct {
		name     string
		vendor   string
		pointer  string
		value    any
		scenario string
		want     []string
	}{
		{"pingone idle timeout as a string", "pingone", "/idleTimeoutInMinutes", "72000", "pingone/seed_create_session.yaml",
			[]string{"status 500, want 201", "idleTimeoutInMinutes", "type"}},
		{"pingone session id not a uuid", "pingone", "/id", "session-1", "pingone/session_lifecycle.yaml",
			[]string{"status 500, want 201", "id", "format"}},
		{"zitadel session id as a number", "zitadel", "/sessionId", 42, "zitadel/session_flow_rest.yaml",
			[]string{"status 500, want 201", "sessionId", "type"}},
		{"zitadel connect token as an object", "zitadel", "/sessionToken", map[string]any{"v": 1}, "zitadel/session_flow_connect.yaml",
			[]string{"status 500, want 200", "sessionToken", "type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runAgainst(t, wrapped(tt.vendor, func(v server.Vendor) server.Vendor {
				return handlerMutant{Vendor: v, pointer: tt.pointer, value: tt.value}
			}), scenario(t, tt.scenario))
			if !res.Failed() {
				t.Fatalf("scenario passed against a handler that breaks %s:\n%s", tt.pointer, res.Report())
			}
			rep := res.Report()
			for _, want := range tt.want {
				if !strings.Contains(rep, want) {
					t.Errorf("report does not name %q:\n%s", want, rep)
				}
			}
			t.Logf("as reported:\n%s", rep)
		})
	}
}
