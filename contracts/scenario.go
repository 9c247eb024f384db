// Package contracts keeps the specs, the fixtures, the mock and the real
// vendors honest against each other:
//
//   - every fixture file and every example in the specs is validated
//     against its schema (jsonschema v5, OpenAPI 3.0 translated faithfully);
//   - the vendors' documented flows are scenario files
//     (scenarios/<vendor>/*.yaml, format in scenario.schema.json) that one
//     runner executes against the mock (strict mode), any running idpmock
//     (a container in CI) or the real vendor, validating every response
//     against the spec and reporting drift from the mock field by field.
//
// `go test ./contracts` runs it all; see README.md for the knobs.
package contracts

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"
	"gopkg.in/yaml.v3"
)

// Files holds the scenarios and their schema.
//
//go:embed scenario.schema.json scenarios
var Files embed.FS

// Scenario is one documented flow.
type Scenario struct {
	File        string            `json:"-"`
	Name        string            `json:"name"`
	Vendor      string            `json:"vendor"`
	Description string            `json:"description,omitempty"`
	Source      any               `json:"source,omitempty"`
	MockOnly    string            `json:"mockOnly,omitempty"`
	Vars        map[string]string `json:"vars,omitempty"`
	Steps       []Step            `json:"steps"`
}

// Step is one request, what its answer must look like, and what to keep.
type Step struct {
	Name    string            `json:"name"`
	Request Request           `json:"request"`
	Expect  Expect            `json:"expect"`
	Capture map[string]string `json:"capture,omitempty"`
}

// Request is the HTTP request of a step.
type Request struct {
	Method  string            `json:"method"`
	URL     string            `json:"url"`
	Headers map[string]string `json:"headers,omitempty"`
	Body    json.RawMessage   `json:"body,omitempty"`
	RawBody *string           `json:"rawBody,omitempty"`
}

// Expect is what the response must satisfy.
type Expect struct {
	Status      int                       `json:"status"`
	Headers     map[string]string         `json:"headers,omitempty"`
	JSON        map[string]any            `json:"json,omitempty"`
	Match       map[string]string         `json:"match,omitempty"`
	Types       map[string]string         `json:"types,omitempty"`
	Present     []string                  `json:"present,omitempty"`
	Absent      []string                  `json:"absent,omitempty"`
	Contains    map[string]map[string]any `json:"contains,omitempty"`
	NotContains map[string]map[string]any `json:"notContains,omitempty"`
	Length      map[string]int            `json:"length,omitempty"`
	EmptyBody   bool                      `json:"emptyBody,omitempty"`
}

var (
	schemaOnce sync.Once
	schemaErr  error
	schema     *jsonschema.Schema
)

func scenarioSchema() (*jsonschema.Schema, error) {
	schemaOnce.Do(func() {
		raw, err := Files.ReadFile("scenario.schema.json")
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.Draft = jsonschema.Draft2020
		c.AssertFormat = true
		const url = "mem:///contracts/scenario.schema.json"
		if err := c.AddResource(url, bytes.NewReader(raw)); err != nil {
			schemaErr = err
			return
		}
		schema, schemaErr = c.Compile(url)
	})
	return schema, schemaErr
}

// Parse reads one scenario file (YAML or JSON), checks it against
// scenario.schema.json and decodes it. Errors name the file, the JSON
// pointer and the rule.
func Parse(file string, raw []byte) (*Scenario, error) {
	var doc any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	js, err := json.Marshal(plain(doc))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	sc, err := scenarioSchema()
	if err != nil {
		return nil, fmt.Errorf("scenario.schema.json: %w", err)
	}
	v, err := decodeJSON(js)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	if fs := validateValue(sc, file, "", v); len(fs) > 0 {
		msgs := make([]string, 0, len(fs))
		for _, f := range fs {
			msgs = append(msgs, f.String())
		}
		return nil, errors.New(strings.Join(msgs, "\n"))
	}
	var s Scenario
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	s.File = file
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &s, nil
}

// check finds what the schema cannot: shadowed target variables and
// placeholders that nothing defines.
func (s *Scenario) check() error {
	tv := targetVarNames[s.Vendor]
	for k := range s.Vars {
		if tv[k] {
			return fmt.Errorf("/vars/%s: shadows the target variable %q (targets set it)", k, k)
		}
	}
	known := map[string]bool{}
	for k := range tv {
		known[k] = true
	}
	for k := range s.Vars {
		known[k] = true
	}
	for i, st := range s.Steps {
		raw, _ := json.Marshal(st)
		for _, name := range placeholders(string(raw)) {
			if !known[name] && !strings.HasPrefix(name, "$") {
				return fmt.Errorf("/steps/%d (%s): {{%s}} is not defined before this step (target variables: %s)", i, st.Name, name, strings.Join(sortedKeys(tv), ", "))
			}
		}
		for k := range st.Capture {
			known[k] = true
		}
	}
	return nil
}

// plain turns YAML's decoded maps into JSON-encodable ones.
func plain(v any) any {
	switch n := v.(type) {
	case map[string]any:
		for k, c := range n {
			n[k] = plain(c)
		}
		return n
	case map[any]any:
		out := make(map[string]any, len(n))
		for k, c := range n {
			out[fmt.Sprint(k)] = plain(c)
		}
		return out
	case []any:
		for i, c := range n {
			n[i] = plain(c)
		}
	}
	return v
}

// Load reads every scenario under dir (scenarios/<vendor>/*.yaml) of fsys,
// sorted by file name.
func Load(fsys fs.FS, dir string) ([]*Scenario, error) {
	var files []string
	err := fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml") || strings.HasSuffix(p, ".json")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var out []*Scenario
	var errs []error
	for _, f := range files {
		raw, err := fs.ReadFile(fsys, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		s, err := Parse(path.Join("contracts", f), raw)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if want := path.Base(path.Dir(f)); want != s.Vendor && path.Dir(f) != dir {
			errs = append(errs, fmt.Errorf("contracts/%s: vendor %q but the file is under %s/", f, s.Vendor, want))
			continue
		}
		out = append(out, s)
	}
	return out, errors.Join(errs...)
}
