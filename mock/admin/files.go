package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v5"

	gen "github.com/idpmock/idpmock/gen/admin"
	"github.com/idpmock/idpmock/mock/fixture"
	"github.com/idpmock/idpmock/mock/override"
	"github.com/idpmock/idpmock/mock/problem"
)

// Files we read from disk are checked with jsonschema against the same
// component schemas the admin API uses, so a file and an API call accept
// exactly the same documents.
var schemas struct {
	once sync.Once
	c    map[string]*jsonschema.Schema
	err  error
}

func schema(name string) (*jsonschema.Schema, error) {
	schemas.once.Do(func() {
		doc, err := gen.GetSpec()
		if err != nil {
			schemas.err = err
			return
		}
		raw, err := fixture.SpecJSON(doc)
		if err != nil {
			schemas.err = err
			return
		}
		c := jsonschema.NewCompiler()
		c.AssertFormat = true
		if err := c.AddResource("mem:///admin/spec.json", bytes.NewReader(raw)); err != nil {
			schemas.err = err
			return
		}
		schemas.c = map[string]*jsonschema.Schema{}
		for _, n := range []string{"OverridesFile", "StateDocument"} {
			// Reach the component through a $ref, the way the compiler
			// resolves pointers into a non-schema document.
			ref := fmt.Sprintf(`{"$schema":"http://json-schema.org/draft-04/schema#","$ref":"spec.json#/components/schemas/%s"}`, n)
			if err := c.AddResource("mem:///admin/"+n+".json", strings.NewReader(ref)); err != nil {
				schemas.err = err
				return
			}
			s, err := c.Compile("mem:///admin/" + n + ".json")
			if err != nil {
				schemas.err = fmt.Errorf("%s: %w", n, err)
				return
			}
			schemas.c[n] = s
		}
	})
	if schemas.err != nil {
		return nil, schemas.err
	}
	return schemas.c[name], nil
}

// checkFile validates raw against a component schema; the problem lists
// one issue per failing JSON pointer.
func checkFile(name, file string, raw []byte) *problem.Problem {
	s, err := schema(name)
	if err != nil {
		return &problem.Problem{Kind: problem.Internal, Message: err.Error(), Err: err}
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return &problem.Problem{Kind: problem.Invalid, Message: fmt.Sprintf("%s: invalid JSON: %v", file, err), Err: err}
	}
	err = s.Validate(v)
	if err == nil {
		return nil
	}
	p := &problem.Problem{Kind: problem.Invalid, Err: err}
	var ve *jsonschema.ValidationError
	if errors.As(err, &ve) {
		var walk func(*jsonschema.ValidationError)
		walk = func(e *jsonschema.ValidationError) {
			if len(e.Causes) == 0 {
				kw := e.KeywordLocation
				p.Issues = append(p.Issues, problem.Issue{In: "body", Field: e.InstanceLocation, Rule: kw[strings.LastIndex(kw, "/")+1:], Message: e.Message})
			}
			for _, c := range e.Causes {
				walk(c)
			}
		}
		walk(ve)
		sort.SliceStable(p.Issues, func(i, j int) bool { return p.Issues[i].Field < p.Issues[j].Field })
	}
	msgs := make([]string, 0, len(p.Issues))
	for _, is := range p.Issues {
		msgs = append(msgs, fmt.Sprintf("%s: %s", is.Field, is.Message))
	}
	p.Message = fmt.Sprintf("%s: %s", file, strings.Join(msgs, "; "))
	return p
}

// ParseOverridesFile reads an overrides file ({"overrides": [OverrideSpec...]}).
func ParseOverridesFile(file string, raw []byte) ([]override.Spec, error) {
	if p := checkFile("OverridesFile", file, raw); p != nil {
		return nil, p
	}
	var doc struct {
		Overrides []override.Spec `json:"overrides"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	for i, s := range doc.Overrides {
		if is := s.Check(); len(is) > 0 {
			return nil, &problem.Problem{Kind: problem.Invalid, Message: fmt.Sprintf("%s: /overrides/%d: %s", file, i, is[0].Message), Issues: is}
		}
	}
	return doc.Overrides, nil
}

// ParseStateFile reads a state document saved from GET /__mock/state.
func ParseStateFile(file string, raw []byte) (State, error) {
	var st State
	if p := checkFile("StateDocument", file, raw); p != nil {
		return st, p
	}
	if err := json.Unmarshal(raw, &st); err != nil {
		return st, fmt.Errorf("%s: %w", file, err)
	}
	return st, nil
}
