package contracts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/idpmock/idpmock/mock/admin"
	"github.com/idpmock/idpmock/mock/fixture"
)

// Finding is one document that breaks its schema, located precisely enough
// to fix: the file, where in the file the document is, the JSON pointer
// inside the document and the JSON Schema keyword that failed.
type Finding struct {
	File     string // e.g. openapi/pingone/sessions.yaml, fixtures/pingone/sessions.json
	Location string // where the document sits in File ("" for the whole file)
	Pointer  string // JSON pointer inside the document ("" is the root)
	Rule     string // failing keyword: type, required, format, maximum, ...
	Message  string
}

func (f Finding) String() string {
	var b strings.Builder
	b.WriteString(f.File)
	if f.Location != "" {
		b.WriteString(" " + f.Location)
	}
	p := f.Pointer
	if p == "" {
		p = "/"
	}
	fmt.Fprintf(&b, ": at %s: %s", p, f.Message)
	if f.Rule != "" {
		fmt.Fprintf(&b, " (rule %s)", f.Rule)
	}
	return b.String()
}

// SpecSchemas compiles parts of one OpenAPI 3.0 document as JSON Schemas
// (jsonschema v5, draft 4 as OAS 3.0 uses it; nullable translated by
// fixture.SpecJSON), so bodies can be checked with a second engine that
// reports JSON pointers and keywords.
type SpecSchemas struct {
	File string // label used in findings
	Doc  *openapi3.T

	url   string
	comp  *jsonschema.Compiler
	mu    sync.Mutex
	cache map[string]*jsonschema.Schema
}

// NewSpecSchemas prepares doc, labelled file in findings.
func NewSpecSchemas(file string, doc *openapi3.T) (*SpecSchemas, error) {
	raw, err := fixture.SpecJSON(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft4
	c.AssertFormat = true
	url := "mem:///openapi/" + strings.NewReplacer("/", "_", " ", "_").Replace(file) + ".json"
	if err := c.AddResource(url, bytes.NewReader(raw)); err != nil {
		return nil, fmt.Errorf("%s as JSON Schema: %w", file, err)
	}
	return &SpecSchemas{File: file, Doc: doc, url: url, comp: c, cache: map[string]*jsonschema.Schema{}}, nil
}

// Schema compiles the schema at a JSON pointer of the document ("#/components/schemas/Session").
func (s *SpecSchemas) Schema(pointer string) (*jsonschema.Schema, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sc, ok := s.cache[pointer]; ok {
		return sc, nil
	}
	sc, err := s.comp.Compile(s.url + pointer)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", s.File, pointer, err)
	}
	s.cache[pointer] = sc
	return sc, nil
}

// Check validates a decoded JSON value against the schema at pointer.
func (s *SpecSchemas) Check(pointer string, file, location string, v any) []Finding {
	sc, err := s.Schema(pointer)
	if err != nil {
		return []Finding{{File: file, Location: location, Message: err.Error(), Rule: "schema"}}
	}
	return validateValue(sc, file, location, v)
}

// validateValue runs sc on v (any JSON-shaped Go value) and flattens the
// failures to their leaves.
func validateValue(sc *jsonschema.Schema, file, location string, v any) []Finding {
	norm, err := normalize(v)
	if err != nil {
		return []Finding{{File: file, Location: location, Rule: "json", Message: err.Error()}}
	}
	err = sc.Validate(norm)
	if err == nil {
		return nil
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return []Finding{{File: file, Location: location, Message: err.Error()}}
	}
	leaves := fixture.Leaves(ve)
	out := make([]Finding, 0, len(leaves))
	for _, l := range leaves {
		out = append(out, Finding{File: file, Location: location, Pointer: l.Pointer, Rule: l.Rule, Message: l.Message})
	}
	return out
}

// normalize turns any JSON-shaped value (YAML-decoded, float64s...) into
// what jsonschema expects: json.Number numbers, map[string]any objects.
func normalize(v any) (any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	return decodeJSON(b)
}

func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return out, nil
}

// esc escapes one JSON pointer token.
func esc(tok string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(tok)
}

// CheckExamples validates every example of the document against its
// schema: request body and response examples against their media type's
// schema, parameter examples against the parameter's schema, and every
// schema's own `example` against that schema.
func (s *SpecSchemas) CheckExamples() []Finding {
	var out []Finding
	doc := s.Doc
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, p := range paths {
		item := doc.Paths.Value(p)
		base := "#/paths/" + esc(p)
		for i, prm := range item.Parameters {
			out = append(out, s.paramExamples(prm, fmt.Sprintf("%s/parameters/%d", base, i))...)
		}
		methods := make([]string, 0)
		ops := item.Operations()
		for m := range ops {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, m := range methods {
			op := ops[m]
			opPtr := base + "/" + strings.ToLower(m)
			for i, prm := range op.Parameters {
				out = append(out, s.paramExamples(prm, fmt.Sprintf("%s/parameters/%d", opPtr, i))...)
			}
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				ptr := opPtr + "/requestBody"
				if rb.Ref != "" {
					ptr = rb.Ref
				}
				out = append(out, s.contentExamples(rb.Value.Content, ptr, op.OperationID+" request")...)
			}
			if op.Responses == nil {
				continue
			}
			codes := make([]string, 0)
			for code := range op.Responses.Map() {
				codes = append(codes, code)
			}
			sort.Strings(codes)
			for _, code := range codes {
				r := op.Responses.Value(code)
				if r == nil || r.Value == nil || r.Ref != "" {
					continue // components are checked once, below
				}
				out = append(out, s.contentExamples(r.Value.Content, opPtr+"/responses/"+code, op.OperationID+" "+code)...)
			}
		}
	}
	for _, name := range sortedKeys(doc.Components.Responses) {
		r := doc.Components.Responses[name]
		if r.Value != nil {
			out = append(out, s.contentExamples(r.Value.Content, "#/components/responses/"+esc(name), "response "+name)...)
		}
	}
	for _, name := range sortedKeys(doc.Components.RequestBodies) {
		r := doc.Components.RequestBodies[name]
		if r.Value != nil {
			out = append(out, s.contentExamples(r.Value.Content, "#/components/requestBodies/"+esc(name), "request body "+name)...)
		}
	}
	for _, name := range sortedKeys(doc.Components.Parameters) {
		out = append(out, s.paramExamples(doc.Components.Parameters[name], "#/components/parameters/"+esc(name))...)
	}
	for _, name := range sortedKeys(doc.Components.Schemas) {
		out = append(out, s.schemaExamples(doc.Components.Schemas[name], "#/components/schemas/"+esc(name), 0)...)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (s *SpecSchemas) contentExamples(content openapi3.Content, ptr, what string) []Finding {
	var out []Finding
	for _, mtName := range sortedKeys(content) {
		mt := content[mtName]
		if mt == nil || mt.Schema == nil {
			continue
		}
		mtPtr := ptr + "/content/" + esc(mtName)
		schemaPtr := mtPtr + "/schema"
		if mt.Schema.Ref != "" {
			schemaPtr = mt.Schema.Ref
		}
		if mt.Example != nil {
			out = append(out, s.Check(schemaPtr, s.File, mtPtr+"/example ("+what+")", mt.Example)...)
		}
		for _, exName := range sortedKeys(mt.Examples) {
			ex := mt.Examples[exName]
			if ex == nil || ex.Value == nil || ex.Value.Value == nil {
				continue
			}
			out = append(out, s.Check(schemaPtr, s.File, mtPtr+"/examples/"+esc(exName)+" ("+what+")", ex.Value.Value)...)
		}
	}
	return out
}

func (s *SpecSchemas) paramExamples(ref *openapi3.ParameterRef, ptr string) []Finding {
	if ref == nil || ref.Value == nil || ref.Value.Schema == nil || (ref.Ref != "" && !strings.HasPrefix(ptr, "#/components/")) {
		return nil
	}
	p := ref.Value
	schemaPtr := ptr + "/schema"
	if p.Schema.Ref != "" {
		schemaPtr = p.Schema.Ref
	}
	var out []Finding
	if p.Example != nil {
		out = append(out, s.Check(schemaPtr, s.File, ptr+"/example (parameter "+p.Name+")", p.Example)...)
	}
	for _, n := range sortedKeys(p.Examples) {
		if ex := p.Examples[n]; ex != nil && ex.Value != nil && ex.Value.Value != nil {
			out = append(out, s.Check(schemaPtr, s.File, ptr+"/examples/"+esc(n)+" (parameter "+p.Name+")", ex.Value.Value)...)
		}
	}
	return out
}

// schemaExamples checks a schema's example and those of its inline
// subschemas; referenced subschemas are checked where they are defined.
func (s *SpecSchemas) schemaExamples(ref *openapi3.SchemaRef, ptr string, depth int) []Finding {
	if ref == nil || ref.Value == nil || depth > 32 {
		return nil
	}
	if ref.Ref != "" && depth > 0 {
		return nil
	}
	sc := ref.Value
	var out []Finding
	if sc.Example != nil {
		out = append(out, s.Check(ptr, s.File, ptr+"/example", sc.Example)...)
	}
	for _, n := range sortedKeys(sc.Properties) {
		out = append(out, s.schemaExamples(sc.Properties[n], ptr+"/properties/"+esc(n), depth+1)...)
	}
	out = append(out, s.schemaExamples(sc.Items, ptr+"/items", depth+1)...)
	if ap := sc.AdditionalProperties.Schema; ap != nil {
		out = append(out, s.schemaExamples(ap, ptr+"/additionalProperties", depth+1)...)
	}
	for kw, list := range map[string]openapi3.SchemaRefs{"allOf": sc.AllOf, "oneOf": sc.OneOf, "anyOf": sc.AnyOf} {
		for i, c := range list {
			out = append(out, s.schemaExamples(c, ptr+"/"+kw+"/"+strconv.Itoa(i), depth+1)...)
		}
	}
	out = append(out, s.schemaExamples(sc.Not, ptr+"/not", depth+1)...)
	return out
}

// ResponseSchemaPointer is the pointer of the schema of operationID's
// response for status (falling back to default) with a JSON media type,
// following a $ref'd response to its component.
func (s *SpecSchemas) ResponseSchemaPointer(operationID string, status int) (string, bool) {
	for _, p := range s.Doc.Paths.InMatchingOrder() {
		item := s.Doc.Paths.Value(p)
		for m, op := range item.Operations() {
			if op.OperationID != operationID || op.Responses == nil {
				continue
			}
			code := strconv.Itoa(status)
			r := op.Responses.Value(code)
			if r == nil {
				code, r = "default", op.Responses.Default()
			}
			if r == nil || r.Value == nil {
				return "", false
			}
			ptr := "#/paths/" + esc(p) + "/" + strings.ToLower(m) + "/responses/" + code
			if r.Ref != "" {
				ptr = r.Ref
			}
			for _, mtName := range sortedKeys(r.Value.Content) {
				if mtName != "application/json" && !strings.HasSuffix(mtName, "+json") {
					continue
				}
				mt := r.Value.Content[mtName]
				if mt.Schema == nil {
					return "", false
				}
				if mt.Schema.Ref != "" {
					return mt.Schema.Ref, true
				}
				return ptr + "/content/" + esc(mtName) + "/schema", true
			}
			return "", false
		}
	}
	return "", false
}

// CheckFixtures validates every seed file fsys holds (one folder per
// vendor) against its schema in fixtures/schema, which refers to the
// vendor's spec for the API-shaped parts, and every overrides file
// (recorded by the proxy or written by hand) against the spec of the
// operations it answers. root labels files in findings ("fixtures").
func CheckFixtures(fsys fs.FS, root string, specs map[string]*SpecSchemas) []Finding {
	var out []Finding
	for _, vendor := range sortedKeys(specs) {
		entries, err := fs.ReadDir(fsys, vendor)
		if err != nil {
			continue // a vendor without fixtures starts empty
		}
		for _, e := range entries {
			name := e.Name()
			if e.IsDir() || !strings.HasSuffix(name, ".json") {
				continue
			}
			file := path.Join(vendor, name)
			raw, err := fs.ReadFile(fsys, file)
			if err != nil {
				out = append(out, Finding{File: path.Join(root, file), Message: err.Error()})
				continue
			}
			if name == "overrides.json" {
				out = append(out, CheckOverrides(path.Join(root, file), raw, specs)...)
				continue
			}
			err = fixture.Validate(vendor, strings.TrimSuffix(name, ".json"), specs[vendor].Doc, raw)
			out = append(out, fixtureFindings(path.Join(root, file), err)...)
		}
	}
	if raw, err := fs.ReadFile(fsys, "overrides.json"); err == nil {
		out = append(out, CheckOverrides(path.Join(root, "overrides.json"), raw, specs)...)
	}
	return out
}

func fixtureFindings(file string, err error) []Finding {
	if err == nil {
		return nil
	}
	var fe *fixture.Error
	if !errors.As(err, &fe) || len(fe.Issues) == 0 {
		return []Finding{{File: file, Message: err.Error()}}
	}
	out := make([]Finding, 0, len(fe.Issues))
	for _, is := range fe.Issues {
		out = append(out, Finding{File: file, Pointer: is.Pointer, Rule: is.Rule, Message: is.Message})
	}
	return out
}

// CheckOverrides validates an overrides file: its format, then each rule's
// body against the response schema of its operation and status.
func CheckOverrides(file string, raw []byte, specs map[string]*SpecSchemas) []Finding {
	rules, err := admin.ParseOverridesFile(file, raw)
	if err != nil {
		return []Finding{{File: file, Rule: "format", Message: err.Error()}}
	}
	var out []Finding
	for i, r := range rules {
		loc := fmt.Sprintf("/overrides/%d/body (%s %d)", i, r.Operation, r.Status)
		if len(r.Body) == 0 || r.Status == 0 {
			continue
		}
		var found bool
		for _, vendor := range sortedKeys(specs) {
			ptr, ok := specs[vendor].ResponseSchemaPointer(r.Operation, r.Status)
			if !ok {
				continue
			}
			found = true
			v, err := decodeJSON(r.Body)
			if err != nil {
				out = append(out, Finding{File: file, Location: loc, Rule: "json", Message: err.Error()})
				break
			}
			out = append(out, specs[vendor].Check(ptr, file, loc, v)...)
			break
		}
		if !found && r.Status < 400 {
			out = append(out, Finding{File: file, Location: loc, Rule: "operation",
				Message: fmt.Sprintf("no spec declares a JSON %d response for operation %q", r.Status, r.Operation)})
		}
	}
	return out
}
