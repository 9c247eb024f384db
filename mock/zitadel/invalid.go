package zitadel

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/server"
	"github.com/idpmock/idpmock/mock/validate"
)

// fromProblem words a generic failure as ZITADEL would: 401 "auth header
// missing", the gateway's 404/405 bodies, and validation failures in the
// words of ZITADEL's PGV validator or protojson decoder, naming the field.
func (v *Vendor) fromProblem(c echo.Context, p *problem.Problem) *zerr {
	connect := isConnect(c.Request().URL.Path)
	switch p.Kind {
	case problem.Unauthenticated:
		if strings.TrimSpace(c.Request().Header.Get(echo.HeaderAuthorization)) == "" {
			return plainErr(codeUnauthenticated, "auth header missing")
		}
		return newErr(codeUnauthenticated, "AUTH-7fs1e", "invalid auth header")
	case problem.NotFound:
		if e := rpcMissingID(c.Request()); e != nil {
			return e
		}
		if e := rpcRefused(c); e != nil {
			return e
		}
		if connect {
			e := plainErr(codeUnimplemented, "Not Found")
			e.status = http.StatusNotFound
			return e
		}
		return plainErr(codeNotFound, "Not Found")
	case problem.MethodNotAllowed:
		e := plainErr(codeUnimplemented, "Method Not Allowed")
		e.status = http.StatusMethodNotAllowed
		return e
	case problem.UnsupportedMediaType:
		ct := c.Request().Header.Get(echo.HeaderContentType)
		e := plainErr(codeUnimplemented, "Content-Type %q is not a Connect, gRPC or gRPC-Web codec", ct)
		if !connect {
			e = plainErr(codeInvalidArgument, "Content-Type %q is not supported; send application/json", ct)
		}
		e.status = http.StatusUnsupportedMediaType
		return e
	case problem.TooLarge:
		e := plainErr(codeResourceExhausted, "%s", p.Message)
		e.status = http.StatusRequestEntityTooLarge
		return e
	case problem.TooManyRequests:
		return plainErr(codeResourceExhausted, "%s", p.Message)
	case problem.Forbidden:
		return plainErr(codePermissionDenied, "%s", p.Message)
	case problem.Unavailable:
		return plainErr(codeUnavailable, "%s", p.Message)
	case problem.Invalid:
		return v.invalid(c, p)
	}
	return plainErr(codeInternal, "%s", p.Message)
}

// invalid words the first issue of a validation problem (ZITADEL's
// validator stops at the first violation too).
func (v *Vendor) invalid(c echo.Context, p *problem.Problem) *zerr {
	ex := server.ExchangeOf(c)
	op := ex.Operation
	msg := requestMessage(op)
	var is problem.Issue
	if len(p.Issues) > 0 {
		is = p.Issues[0]
	} else {
		return plainErr(codeInvalidArgument, "%s", p.Message)
	}
	var operation *openapi3.Operation
	if ex.Route != nil {
		operation = ex.Route.Operation
	}
	switch is.In {
	case "path", "query":
		name := is.Field
		var s *openapi3.Schema
		if r := ex.Route; r != nil {
			// The operation's own parameters, else its path item's.
			if prm := r.Operation.Parameters.GetByInAndName(is.In, name); prm != nil && prm.Schema != nil {
				s = prm.Schema.Value
			} else if prm := r.PathItem.Parameters.GetByInAndName("path", name); prm != nil && prm.Schema != nil {
				s = prm.Schema.Value
			}
		}
		return plainErr(codeInvalidArgument, "invalid %s.%s: %s", msg, goName(name), lengthReason(s))
	case "header":
		if strings.EqualFold(is.Field, "Connect-Protocol-Version") {
			return plainErr(codeInvalidArgument, "connect-protocol-version must be \"1\": got %q", c.Request().Header.Get("Connect-Protocol-Version"))
		}
		return plainErr(codeInvalidArgument, "%s", is.Message)
	}
	// Body.
	if is.Rule == ruleProtojson {
		return plainErr(codeInvalidArgument, "%s", is.Message)
	}
	if is.Rule == "json" {
		return plainErr(codeInvalidArgument, "%s", protoPrefix(connect(c), msg)+"syntax error: "+strings.TrimPrefix(is.Message, "request body is not valid JSON: "))
	}
	if is.Field == "" && is.Rule == "required" {
		return plainErr(codeInvalidArgument, "unmarshal into zitadel.session.v2.%s: zero-length payload is not a valid JSON object", msg)
	}
	var root *openapi3.SchemaRef
	if operation != nil && operation.RequestBody != nil && operation.RequestBody.Value != nil {
		if mt := operation.RequestBody.Value.Content.Get("application/json"); mt != nil {
			root = mt.Schema
		}
	}
	if root == nil {
		return plainErr(codeInvalidArgument, "%s", is.Message)
	}
	body := validate.Body(c.Request())
	return plainErr(codeInvalidArgument, "%s", describe(connect(c), msg, root, is, body))
}

func connect(c echo.Context) bool { return isConnect(c.Request().URL.Path) }

// protoPrefix is how each face introduces a JSON decoding error.
func protoPrefix(connect bool, msg string) string {
	if connect {
		return "unmarshal into zitadel.session.v2." + msg + ": proto: "
	}
	return "proto: "
}

// requestMessage maps an operationId (as written in the spec, or as the
// generated code spells it) to its proto request message.
func requestMessage(op string) string {
	for _, p := range []string{"SessionService_", "Connect_", "SessionService", "Connect"} {
		if m, ok := strings.CutPrefix(op, p); ok {
			return m + "Request"
		}
	}
	return op + "Request"
}

// goName is PGV's field name: the proto field in UpperCamelCase, which for
// these messages is the JSON name with its first letter upper-cased.
func goName(json string) string {
	if json == "" {
		return json
	}
	return strings.ToUpper(json[:1]) + json[1:]
}

// protoName is the proto message a schema stands for.
func protoName(ref *openapi3.SchemaRef) string {
	if ref == nil {
		return ""
	}
	if ref.Value != nil {
		if n, ok := ref.Value.Extensions["x-proto-name"].(string); ok {
			return n
		}
	}
	if i := strings.LastIndex(ref.Ref, "/"); i >= 0 {
		return ref.Ref[i+1:]
	}
	return ""
}

// describe words one body issue. PGV rule violations read
// "invalid Msg.Field: embedded message failed validation | caused by: ...",
// JSON-level ones like protojson's decoder.
func describe(connect bool, msg string, root *openapi3.SchemaRef, is problem.Issue, body []byte) string {
	segs := []string{}
	if is.Field != "" {
		segs = strings.Split(is.Field, ".")
	}
	var chain strings.Builder
	cur, curMsg := root, msg
	var raw json.RawMessage = body
	for i := 0; i < len(segs); i++ {
		name := segs[i]
		if cur == nil || cur.Value == nil {
			break
		}
		child := cur.Value.Properties[name]
		label := goName(name)
		val, _ := member(raw, name)
		if child == nil && cur.Value.AdditionalProperties.Schema != nil {
			child = cur.Value.AdditionalProperties.Schema // a map key
			label = fmt.Sprintf("%s[%s]", goName(segs[max(i-1, 0)]), name)
		}
		// A list member's items, or a map's value, are addressed by the next segment.
		if child != nil && child.Value != nil && i+1 < len(segs) {
			if child.Value.Items != nil && isIndex(segs[i+1]) {
				label = fmt.Sprintf("%s[%s]", label, segs[i+1])
				val, _ = element(val, segs[i+1])
				child = child.Value.Items
				i++
			} else if child.Value.AdditionalProperties.Schema != nil && len(child.Value.Properties) == 0 {
				label = fmt.Sprintf("%s[%s]", label, segs[i+1])
				val, _ = member(val, segs[i+1])
				child = child.Value.AdditionalProperties.Schema
				i++
			}
		}
		last := i == len(segs)-1
		if child == nil {
			return chain.String() + fmt.Sprintf("invalid %s.%s: %s", curMsg, label, is.Message)
		}
		if last {
			return leaf(connect, msg, &chain, curMsg, cur, name, label, child, is, val)
		}
		fmt.Fprintf(&chain, "invalid %s.%s: embedded message failed validation | caused by: ", curMsg, label)
		cur, curMsg, raw = child, protoName(child), val
	}
	// The issue is about a message itself (oneOf, not, type of the root).
	return whole(connect, msg, &chain, curMsg, cur, is, raw)
}

// leaf words an issue on one field of message curMsg.
func leaf(connect bool, req string, chain *strings.Builder, curMsg string, parent *openapi3.SchemaRef, jsonName, label string, s *openapi3.SchemaRef, is problem.Issue, val json.RawMessage) string {
	pgv := func(reason string) string {
		return chain.String() + fmt.Sprintf("invalid %s.%s: %s", curMsg, label, reason)
	}
	decode := func(text string) string { return protoPrefix(connect, req) + text }
	sv := s.Value
	switch is.Rule {
	case "required":
		if oneof, ok := parent.Value.Extensions["x-proto-oneof"].(string); ok && len(parent.Value.OneOf) > 0 {
			return chain.String() + fmt.Sprintf("invalid %s.%s: value is required", curMsg, goName(oneof))
		}
		switch {
		case sv.Type.Is("string") && len(sv.Enum) > 0:
			return pgv("value must not be in list [0]")
		case sv.Type.Is("string"):
			return pgv(lengthReason(sv))
		}
		return pgv("value is required")
	case "minLength", "maxLength":
		return pgv(lengthReason(sv))
	case "enum":
		var str string
		if json.Unmarshal(val, &str) == nil && strings.HasSuffix(str, "_UNSPECIFIED") {
			return pgv("value must not be in list [0]")
		}
		return decode(fmt.Sprintf("invalid value for enum field %s: %s", jsonName, compact(val)))
	case "oneOf", "anyOf", "not":
		if _, ok := sv.Extensions["x-proto-oneof"]; ok {
			return whole(connect, req, chain, protoName(s), s, is, val)
		}
	}
	// Decoding-level failures: wrong JSON type, bad number, duration or timestamp.
	switch protoName(s) {
	case "Duration":
		return decode(fmt.Sprintf("invalid google.protobuf.Duration value %s", compact(val)))
	case "Timestamp":
		return decode(fmt.Sprintf("invalid google.protobuf.Timestamp value %s", compact(val)))
	case "UInt64":
		return decode(fmt.Sprintf("invalid value for uint64 field %s: %s", jsonName, compact(val)))
	case "UInt32":
		return decode(fmt.Sprintf("invalid value for uint32 field %s: %s", jsonName, compact(val)))
	}
	switch {
	case sv.Type.Is("string"):
		if sv.Format == "byte" {
			return decode(fmt.Sprintf("invalid value for bytes field %s: %s", jsonName, compact(val)))
		}
		return decode(fmt.Sprintf("invalid value for string field %s: %s", jsonName, compact(val)))
	case sv.Type.Is("boolean"):
		return decode(fmt.Sprintf("invalid value for bool field %s: %s", jsonName, compact(val)))
	}
	return decode(fmt.Sprintf("syntax error: unexpected token %s", compact(val)))
}

// whole words an issue on a message as such: a oneof set twice or not at
// all, or a JSON value of the wrong type.
func whole(connect bool, req string, chain *strings.Builder, curMsg string, cur *openapi3.SchemaRef, is problem.Issue, val json.RawMessage) string {
	if cur != nil && cur.Value != nil {
		if oneof, ok := cur.Value.Extensions["x-proto-oneof"].(string); ok && (is.Rule == "oneOf" || is.Rule == "not") {
			set := presentMembers(val, cur.Value)
			if len(set) > 1 {
				return protoPrefix(connect, req) + fmt.Sprintf("error parsing %q, oneof zitadel.session.v2.%s.%s is already set", set[1], strings.ReplaceAll(curMsg, "_", "."), oneof)
			}
			return chain.String() + fmt.Sprintf("invalid %s.%s: value is required", curMsg, goName(oneof))
		}
	}
	return protoPrefix(connect, req) + fmt.Sprintf("syntax error: unexpected token %s", compact(val))
}

// presentMembers lists, in document order, the schema's properties set in val.
func presentMembers(val json.RawMessage, s *openapi3.Schema) []string {
	dec := json.NewDecoder(bytes.NewReader(val))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil
	}
	var out []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return out
		}
		k, _ := t.(string)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return out
		}
		if _, ok := s.Properties[k]; ok {
			out = append(out, k)
		}
	}
	return out
}

// lengthReason is PGV's wording of a string length rule.
func lengthReason(s *openapi3.Schema) string {
	if s == nil {
		return "value is invalid"
	}
	var maxLen uint64
	if s.MaxLength != nil {
		maxLen = *s.MaxLength
	}
	switch {
	case s.MinLength > 0 && s.MinLength == maxLen:
		return fmt.Sprintf("value length must be %d runes", maxLen)
	case s.MinLength > 0 && maxLen > 0:
		return fmt.Sprintf("value length must be between %d and %d runes, inclusive", s.MinLength, maxLen)
	case s.MinLength > 0:
		return fmt.Sprintf("value length must be at least %d runes", s.MinLength)
	case maxLen > 0:
		return fmt.Sprintf("value length must be at most %d runes", maxLen)
	}
	return "value is invalid"
}

func isIndex(s string) bool {
	_, err := strconv.Atoi(s)
	return err == nil
}

// member returns the raw JSON of obj[name].
func member(obj json.RawMessage, name string) (json.RawMessage, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(obj, &m) != nil {
		return nil, false
	}
	v, ok := m[name]
	return v, ok
}

// element returns the raw JSON of arr[i].
func element(arr json.RawMessage, i string) (json.RawMessage, bool) {
	var a []json.RawMessage
	n, err := strconv.Atoi(i)
	if err != nil || json.Unmarshal(arr, &a) != nil || n < 0 || n >= len(a) {
		return nil, false
	}
	return a[n], true
}

// compact shortens a raw JSON value for an error message.
func compact(v json.RawMessage) string {
	if len(v) == 0 {
		return "null"
	}
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return string(v)
	}
	s := b.String()
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
