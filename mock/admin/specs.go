package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"gopkg.in/yaml.v3"

	gen "github.com/idpmock/idpmock/gen/admin"
	"github.com/idpmock/idpmock/mock/problem"
)

// SpecSource is implemented by backends that can show the OpenAPI document
// each vendor is validated against (GET /__mock/openapi/{vendor}).
type SpecSource interface {
	VendorSpec(name string) (*openapi3.T, bool)
}

type acceptKey struct{}

// withAccept hands the Accept header to the strict handlers, which see
// only the request's context (GetOpenAPI negotiates YAML or JSON).
func withAccept(f gen.StrictHandlerFunc, op string) gen.StrictHandlerFunc {
	if op != "GetOpenAPI" {
		return f
	}
	return func(c echo.Context, req any) (any, error) {
		r := c.Request()
		c.SetRequest(r.WithContext(context.WithValue(r.Context(), acceptKey{}, r.Header.Get("Accept"))))
		return f(c, req)
	}
}

func (h *handler) GetOpenAPI(ctx context.Context, r gen.GetOpenAPIRequestObject) (gen.GetOpenAPIResponseObject, error) {
	var doc *openapi3.T
	if r.Vendor == "admin" {
		d, err := gen.GetSpec()
		if err != nil {
			return nil, asProblem(err)
		}
		doc = d
	} else if src, ok := h.b.(SpecSource); ok {
		doc, _ = src.VendorSpec(r.Vendor)
	}
	if doc == nil {
		return nil, problem.New(problem.NotFound, "no vendor %q (see /__mock/operations; \"admin\" is this API)", r.Vendor)
	}
	raw, err := json.Marshal(doc)
	if err == nil {
		raw, err = topFirst(raw)
	}
	if err != nil {
		return nil, asProblem(err)
	}
	asJSON := false
	if f := r.Params.Format; f != nil {
		asJSON = *f == gen.Json
	} else {
		accept, _ := ctx.Value(acceptKey{}).(string)
		asJSON = prefersJSON(accept)
	}
	if asJSON {
		return specResponse{ct: "application/json", body: raw}, nil
	}
	y, err := jsonToYAML(raw)
	if err != nil {
		return nil, asProblem(err)
	}
	return specResponse{ct: "application/yaml", body: y}, nil
}

// specOrder is the usual order of an OpenAPI document's top-level keys;
// kin-openapi writes them sorted, which puts components before paths.
var specOrder = []string{"openapi", "info", "externalDocs", "servers", "security", "tags", "paths", "webhooks", "components"}

// topFirst rewrites a JSON spec with its top-level keys in specOrder (the
// rest after, sorted as they came).
func topFirst(raw []byte) ([]byte, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(top))
	for _, k := range specOrder {
		if _, ok := top[k]; ok {
			keys = append(keys, k)
		}
	}
	rest := make([]string, 0, len(top))
	for k := range top {
		if !slices.Contains(specOrder, k) {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, k := range append(keys, rest...) {
		if i > 0 {
			b.WriteByte(',')
		}
		name, _ := json.Marshal(k)
		b.Write(name)
		b.WriteByte(':')
		b.Write(top[k])
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// prefersJSON reads an Accept header: JSON only when it names JSON and no
// YAML type before it; YAML is the default.
func prefersJSON(accept string) bool {
	for _, part := range strings.Split(accept, ",") {
		mt, _, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		switch {
		case mt == "application/json" || strings.HasSuffix(mt, "+json"):
			return true
		case strings.Contains(mt, "yaml"):
			return false
		}
	}
	return false
}

// jsonToYAML re-encodes a JSON document as block-style YAML, keeping the
// key order (a yaml.Node, unlike a map, remembers it).
func jsonToYAML(raw []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(raw, &n); err != nil {
		return nil, err
	}
	var unflow func(*yaml.Node)
	unflow = func(n *yaml.Node) {
		n.Style &^= yaml.FlowStyle
		if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
			// JSON quoted every string; YAML needs quotes only where plain would mislead.
			n.Style &^= yaml.DoubleQuotedStyle
		}
		for _, c := range n.Content {
			unflow(c)
		}
	}
	unflow(&n)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&n); err != nil {
		return nil, err
	}
	return b.Bytes(), enc.Close()
}

type specResponse struct {
	ct   string
	body []byte
}

func (s specResponse) VisitGetOpenAPIResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", s.ct)
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(s.body)
	return err
}
