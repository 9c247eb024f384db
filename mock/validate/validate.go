// Package validate checks requests (and, in strict mode, responses) against
// a vendor's OpenAPI document with kin-openapi, and turns kin-openapi's
// errors into vendor-neutral problems. Routes are looked up by the pattern
// Echo already matched, so the spec is never re-routed per request.
package validate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"

	"github.com/idpmock/idpmock/mock/problem"
)

// Validator validates requests of one OpenAPI document.
type Validator struct {
	doc    *openapi3.T
	routes map[routeKey]*routers.Route
	opts   *openapi3filter.Options
	// ops lists every operation, for "nearest operation" hints.
	ops []*routers.Route
}

// New prepares a validator for doc mounted under basePath ("/v1" or "").
func New(doc *openapi3.T, basePath string) (*Validator, error) {
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("openapi document invalid: %w", err)
	}
	opts := &openapi3filter.Options{
		MultiError:         true,
		KeepValidatedValue: true,
		AuthenticationFunc: BearerPresent,
	}
	// uuid is not checked by default; the specs rely on it for ids.
	doc.SetStringFormatValidator("uuid", openapi3.NewCallbackValidator(checkUUID))
	opts.SchemaValidationOptions = append(opts.SchemaValidationOptions, doc.GetSchemaValidationOptions()...)
	v := &Validator{doc: doc, routes: map[routeKey]*routers.Route{}, opts: opts}
	for p, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			r := &routers.Route{Spec: doc, Path: p, PathItem: item, Method: method, Operation: op}
			v.routes[routeKey{method, basePath + EchoPath(p)}] = r
			v.ops = append(v.ops, r)
		}
	}
	sort.Slice(v.ops, func(i, j int) bool {
		if v.ops[i].Path != v.ops[j].Path {
			return v.ops[i].Path < v.ops[j].Path
		}
		return v.ops[i].Method < v.ops[j].Method
	})
	return v, nil
}

// checkUUID accepts what openapi3.FormatOfStringForUUIDOfRFC4122 accepts
// (RFC 4122 versions 1-5 and the nil UUID), without a regular expression:
// ids are checked on every request, and the regexp was a visible share of
// a read's cost.
func checkUUID(s string) error {
	if s == "00000000-0000-0000-0000-000000000000" {
		return nil
	}
	if len(s) != 36 {
		return errNotUUID
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return errNotUUID
			}
			continue
		case 14: // version 1-5
			if c < '1' || c > '5' {
				return errNotUUID
			}
			continue
		case 19: // RFC 4122 variant
			if c != '8' && c != '9' && c != 'a' && c != 'b' && c != 'A' && c != 'B' {
				return errNotUUID
			}
			continue
		}
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return errNotUUID
		}
	}
	return nil
}

var errNotUUID = errors.New(`string doesn't match the format "uuid"`)

// EchoPath turns an OpenAPI path template into Echo's (":name" params), the
// form oapi-codegen registers routes with.
func EchoPath(p string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(p, '{')
		if i < 0 {
			b.WriteString(p)
			return b.String()
		}
		j := strings.IndexByte(p[i:], '}')
		if j < 0 {
			b.WriteString(p)
			return b.String()
		}
		b.WriteString(p[:i])
		b.WriteByte(':')
		b.WriteString(p[i+1 : i+j])
		p = p[i+j+1:]
	}
}

// routeKey is a method and an Echo route pattern ("/v1/x/:id"); a struct,
// so looking a route up allocates no joined string.
type routeKey struct{ method, path string }

// Route returns the operation Echo matched, by method and route pattern.
func (v *Validator) Route(method, echoPath string) *routers.Route {
	return v.routes[routeKey{method, echoPath}]
}

// Operations lists every operation of the document.
func (v *Validator) Operations() []*routers.Route { return v.ops }

// Request validates req against route. params are the raw path values Echo
// extracted. On success it returns the input, which strict mode reuses to
// validate the response.
func (v *Validator) Request(ctx context.Context, req *http.Request, route *routers.Route, params map[string]string) (*openapi3filter.RequestValidationInput, *problem.Problem) {
	for k, raw := range params {
		if s, err := url.PathUnescape(raw); err == nil {
			params[k] = s
		}
	}
	in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: v.opts}
	if p := checkUTF8(req); p != nil {
		return in, p
	}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil {
		return in, Problem(err)
	}
	return in, nil
}

// checkUTF8 refuses a JSON body that is not UTF-8, as RFC 8259 requires
// and both Jackson and protojson do; Go's decoder would silently turn the
// bytes into U+FFFD and store them. The body is left re-readable.
func checkUTF8(req *http.Request) *problem.Problem {
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	mt, _, _ := mime.ParseMediaType(req.Header.Get("Content-Type"))
	if mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return nil
	}
	var b []byte
	var err error
	if buf, ok := req.Body.(*Buffered); ok && buf.off == 0 {
		b, err = buf.Bytes, buf.Err // read once by the server: no copy
	} else {
		b, err = io.ReadAll(req.Body)
		_ = req.Body.Close()
	}
	req.Body = &Buffered{Bytes: b}
	req.GetBody = func() (io.ReadCloser, error) { return &Buffered{Bytes: b}, nil }
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return &problem.Problem{Kind: problem.TooLarge, Message: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit), Err: err}
	}
	if err != nil {
		return &problem.Problem{Kind: problem.Invalid, Message: "request body could not be read", Err: err,
			Issues: []problem.Issue{{In: "body", Rule: "json", Message: "request body could not be read"}}}
	}
	if !utf8.Valid(b) {
		const msg = "request body is not valid JSON: invalid UTF-8 in string"
		return &problem.Problem{Kind: problem.Invalid, Message: msg,
			Issues: []problem.Issue{{In: "body", Rule: "json", Message: msg}}}
	}
	return nil
}

// Response validates a response the mock is about to send (strict mode).
func (v *Validator) Response(ctx context.Context, in *openapi3filter.RequestValidationInput, status int, header http.Header, body []byte) *problem.Problem {
	rin := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 header,
		Options: &openapi3filter.Options{
			MultiError:              true,
			IncludeResponseStatus:   true,
			SchemaValidationOptions: v.opts.SchemaValidationOptions,
		},
	}
	rin.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(ctx, rin); err != nil {
		p := Problem(err)
		p.Kind = problem.Internal
		p.Message = fmt.Sprintf("the mock's own %d response to %s breaks the spec: %s", status, in.Route.Operation.OperationID, p.Message)
		return p
	}
	return nil
}

// errNoBearer marks a request without a usable bearer credential.
var errNoBearer = errors.New("missing or malformed Authorization header, expected \"Bearer <token>\"")

// BearerPresent is the mock's authentication: any non-empty bearer token is
// accepted, since the mock cannot check a vendor's signatures.
func BearerPresent(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	s := in.SecurityScheme
	h := in.RequestValidationInput.Request.Header
	switch {
	case s.Type == "http" && strings.EqualFold(s.Scheme, "bearer"), s.Type == "oauth2", s.Type == "openIdConnect":
		scheme, tok, ok := strings.Cut(h.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
			return errNoBearer
		}
		return nil
	case s.Type == "apiKey":
		var present bool
		switch s.In {
		case "header":
			present = h.Get(s.Name) != ""
		case "query":
			present = in.RequestValidationInput.Request.URL.Query().Has(s.Name)
		case "cookie":
			_, err := in.RequestValidationInput.Request.Cookie(s.Name)
			present = err == nil
		}
		if !present {
			return fmt.Errorf("missing credential %q in %s", s.Name, s.In)
		}
		return nil
	}
	return nil
}

// Problem converts a kin-openapi validation error to a problem.
func Problem(err error) *problem.Problem {
	p := &problem.Problem{Kind: problem.Invalid, Err: err}
	collect(p, err)
	if p.Message == "" {
		if len(p.Issues) > 0 {
			p.Message = p.Issues[0].Message
		} else {
			p.Message = err.Error()
		}
	}
	return p
}

func collect(p *problem.Problem, err error) {
	// Only a top-level MultiError is a list of findings; one nested in a
	// RequestError belongs to that request part and is handled there.
	if multi, ok := err.(openapi3.MultiError); ok {
		for _, e := range multi {
			collect(p, e)
		}
		return
	}
	var sec *openapi3filter.SecurityRequirementsError
	if errors.As(err, &sec) {
		// Authentication outranks whatever else was wrong with the request.
		p.Kind = problem.Unauthenticated
		p.Message = errNoBearer.Error()
		for _, e := range sec.Errors {
			if e != nil && !errors.Is(e, errNoBearer) {
				p.Message = e.Error()
			}
		}
		p.Issues = []problem.Issue{{In: "header", Field: "Authorization", Rule: "security", Message: p.Message}}
		return
	}
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		if p.Kind == problem.Unauthenticated {
			return
		}
		collectRequest(p, re)
		return
	}
	var re2 *openapi3filter.ResponseError
	if errors.As(err, &re2) {
		in := "response"
		if re2.Err == nil {
			p.Issues = append(p.Issues, problem.Issue{In: in, Message: re2.Reason})
			return
		}
		if !addSchemaIssues(p, in, "", re2.Err) {
			p.Issues = append(p.Issues, problem.Issue{In: in, Message: strings.TrimSpace(re2.Reason + ": " + re2.Err.Error())})
		}
		return
	}
	if !addSchemaIssues(p, "body", "", err) {
		p.Issues = append(p.Issues, problem.Issue{In: "body", Message: err.Error()})
	}
}

func collectRequest(p *problem.Problem, re *openapi3filter.RequestError) {
	if re.Parameter != nil {
		in, name := re.Parameter.In, re.Parameter.Name
		switch {
		case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
			p.Issues = append(p.Issues, problem.Issue{In: in, Field: name, Rule: "required", Message: fmt.Sprintf("%s parameter %q is required", in, name)})
		case re.Err != nil && addSchemaIssues(p, in, name, re.Err):
		default:
			msg := re.Reason
			if re.Err != nil {
				msg = strings.TrimPrefix(strings.TrimSpace(msg+" "+re.Err.Error()), " ")
			}
			p.Issues = append(p.Issues, problem.Issue{In: in, Field: name, Rule: "format", Message: fmt.Sprintf("%s parameter %q: %s", in, name, msg)})
		}
		return
	}
	// Request body.
	w := readWording(re)
	switch {
	case w.kind == wordMediaType:
		p.Kind = problem.UnsupportedMediaType
		p.Message = "Content-Type " + w.detail + " is not supported by this operation"
		p.Issues = append(p.Issues, problem.Issue{In: "header", Field: "Content-Type", Rule: "mediaType", Message: p.Message})
	case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
		p.Issues = append(p.Issues, problem.Issue{In: "body", Rule: "required", Message: "request body is required"})
	case w.kind == wordNoDecoder:
		p.Kind = problem.UnsupportedMediaType
		p.Issues = append(p.Issues, problem.Issue{In: "body", Rule: "json", Message: w.detail})
	case w.kind == wordUndecodable:
		msg := "request body is not valid JSON"
		var pe *openapi3filter.ParseError
		if errors.As(re.Err, &pe) {
			if pe.Cause != nil {
				msg += ": " + pe.Cause.Error()
			} else if pe.Reason != "" {
				msg += ": " + pe.Reason
			}
		}
		p.Issues = append(p.Issues, problem.Issue{In: "body", Rule: "json", Message: msg})
	case re.Err != nil && addSchemaIssues(p, "body", "", re.Err):
	default:
		msg := re.Reason
		if re.Err != nil {
			msg += ": " + re.Err.Error()
		}
		p.Issues = append(p.Issues, problem.Issue{In: "body", Message: msg})
	}
}

// addSchemaIssues adds one issue per schema error in err; false if none.
func addSchemaIssues(p *problem.Problem, in, param string, err error) bool {
	if multi, ok := err.(openapi3.MultiError); ok {
		added := false
		for _, e := range multi {
			if addSchemaIssues(p, in, param, e) {
				added = true
			}
		}
		return added
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return false
	}
	// oneOf/anyOf failures carry the more useful cause inside.
	if se.Origin != nil && (se.SchemaField == "oneOf" || se.SchemaField == "anyOf") {
		var inner *openapi3.SchemaError
		if errors.As(se.Origin, &inner) && len(inner.JSONPointer()) > len(se.JSONPointer()) {
			se = inner
		}
	}
	field := strings.Join(se.JSONPointer(), ".")
	if param != "" {
		field = strings.TrimSuffix(param+"."+field, ".")
	}
	msg := se.Reason
	if field != "" {
		msg = fmt.Sprintf("%s: %s", field, se.Reason)
	}
	p.Issues = append(p.Issues, problem.Issue{In: in, Field: field, Rule: se.SchemaField, Message: msg})
	return true
}

// Body returns the request body's bytes without consuming it: a field
// read while the body is the Buffered the server read it into; once
// kin-openapi has wrapped it (KeepValidatedValue), a copy through GetBody,
// which ReadBody and validation set; else nil.
func Body(req *http.Request) []byte {
	if buf, ok := req.Body.(*Buffered); ok && buf.off == 0 && buf.Err == nil {
		return buf.Bytes
	}
	if req.GetBody == nil {
		return nil
	}
	rc, err := req.GetBody()
	if err != nil {
		return nil
	}
	defer rc.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(rc)
	return b.Bytes()
}
