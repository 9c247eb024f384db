package contracts

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/dynamicpb"

	// The RPC faces' messages: Connect calls are checked against them.
	_ "github.com/idpmock/idpmock/gen/zitadelpb/zitadel/session/v2"
)

// connectCodes are the Connect protocol's error codes.
var connectCodes = map[string]bool{
	"canceled": true, "unknown": true, "invalid_argument": true, "deadline_exceeded": true, "not_found": true,
	"already_exists": true, "permission_denied": true, "resource_exhausted": true, "failed_precondition": true,
	"aborted": true, "out_of_range": true, "unimplemented": true, "internal": true, "unavailable": true,
	"data_loss": true, "unauthenticated": true,
}

// rpcViolations checks the answer to a Connect JSON call, which no OpenAPI
// operation describes, against the proto its service is generated from: a
// 200 must be the method's response message in protojson (strict: unknown
// members are violations), an error a Connect error whose details decode
// as the messages they name. ok is false when path names no known method.
func rpcViolations(path string, status int, header http.Header, raw []byte) (out []string, ok bool) {
	svc, method, found := strings.Cut(strings.TrimPrefix(path, "/"), "/")
	if !found {
		return nil, false
	}
	d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc))
	if err != nil {
		return nil, false
	}
	sd, isSvc := d.(protoreflect.ServiceDescriptor)
	if !isSvc || sd.Methods().ByName(protoreflect.Name(method)) == nil {
		return nil, false
	}
	md := sd.Methods().ByName(protoreflect.Name(method))
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		out = append(out, fmt.Sprintf("response Content-Type %q, want application/json", ct))
	}
	if status == http.StatusOK {
		msg := dynamicpb.NewMessage(md.Output())
		if err := protojson.Unmarshal(raw, msg); err != nil {
			out = append(out, fmt.Sprintf("response body is not a %s: %v", md.Output().FullName(), err))
		}
		return out, true
	}
	var ce struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Type  string `json:"type"`
			Value string `json:"value"`
			Debug any    `json:"debug"`
		} `json:"details"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ce); err != nil {
		return append(out, fmt.Sprintf("error body is not a Connect error: %v", err)), true
	}
	if !connectCodes[ce.Code] {
		out = append(out, fmt.Sprintf("error code %q is not a Connect code", ce.Code))
	}
	for i, det := range ce.Details {
		mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(det.Type))
		if err != nil {
			out = append(out, fmt.Sprintf("details[%d]: unknown type %q", i, det.Type))
			continue
		}
		b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(det.Value, "="))
		if err == nil {
			err = proto.Unmarshal(b, mt.New().Interface())
		}
		if err != nil {
			out = append(out, fmt.Sprintf("details[%d]: value is not a %s: %v", i, det.Type, err))
		}
	}
	return out, true
}
