package zitadel

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	sessionpb "github.com/idpmock/idpmock/gen/zitadelpb/zitadel/session/v2"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/server"
	"github.com/idpmock/idpmock/mock/validate"
)

var _ server.RequestDecoder = (*Vendor)(nil)

// ruleProtojson marks a body protojson refused; invalid() sends its text.
const ruleProtojson = "protojson"

// restBodies are the messages ZITADEL's gateway decodes each REST body
// into (body: "*"; path fields may repeat in the body).
var restBodies = map[string]func() proto.Message{
	"SessionService_CreateSession": func() proto.Message { return &sessionpb.CreateSessionRequest{} },
	"SessionService_SetSession":    func() proto.Message { return &sessionpb.SetSessionRequest{} },
	"SessionService_DeleteSession": func() proto.Message { return &sessionpb.DeleteSessionRequest{} },
	"SessionService_ListSessions":  func() proto.Message { return &sessionpb.ListSessionsRequest{} },
}

// gatewayJSON decodes as ZITADEL's grpc-gateway marshaler does.
var gatewayJSON = protojson.UnmarshalOptions{DiscardUnknown: true}

// DecodeRequest decodes a REST body as ZITADEL's gateway does, with
// protojson and DiscardUnknown: unknown members and unknown enum names are
// dropped, enums may be numbers, and a body it cannot decode is refused
// with protojson's own message, position included ("proto: (line 1:36):
// ..."). A decoded body is handed on re-encoded where that matters
// (needsNormalizing), so the schema checks that follow see what ZITADEL's
// validator sees. RPC calls arrive already
// decoded (by the transcoder) and are left alone.
func (v *Vendor) DecodeRequest(r *http.Request, operationID string) *problem.Problem {
	newMsg, ok := restBodies[operationID]
	if !ok || journal.ProtocolOf(r.Context()) != journal.ProtocolREST || r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	var raw []byte
	var err error
	if buf, ok := r.Body.(*validate.Buffered); ok && validate.Body(r) != nil {
		raw = buf.Bytes // read once by the server, not yet consumed
	} else if raw, err = io.ReadAll(r.Body); err != nil {
		// The validator reports read errors (a body over the limit is 413).
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(raw), errReader{err}))
		return nil
	} else {
		r.Body = &validate.Buffered{Bytes: raw}
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if _, _, _, dup := duplicateKey(raw); dup {
		return nil // worded by withBearer, as before
	}
	// The gateway's JSONPb decoder reads one JSON value with encoding/json
	// (its syntax errors are encoding/json's; bytes after the value are
	// never read), then hands it to protojson.
	var first json.RawMessage
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&first); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return &problem.Problem{Kind: problem.Invalid, Message: err.Error(),
			Issues: []problem.Issue{{In: "body", Rule: ruleProtojson, Message: err.Error()}}}
	}
	msg := newMsg()
	if err := gatewayJSON.Unmarshal(first, msg); err != nil {
		// protojson randomly writes a no-break space after "proto:" to stop
		// callers matching its text; a plain one keeps answers stable.
		text := strings.Replace(err.Error(), "proto:\u00a0", "proto: ", 1)
		return &problem.Problem{Kind: problem.Invalid, Message: text,
			Issues: []problem.Issue{{In: "body", Rule: ruleProtojson, Message: text}}}
	}
	norm := []byte(first)
	if needsNormalizing(first) {
		if norm, err = protojson.Marshal(msg); err != nil {
			return nil
		}
	}
	r.Body = &validate.Buffered{Bytes: norm}
	r.ContentLength = int64(len(norm))
	return nil
}

// enumMembers are the JSON names of the request enums (their proto names
// hold an underscore).
var enumMembers = [][]byte{[]byte(`"method"`), []byte(`"sortingColumn"`), []byte(`"userVerificationRequirement"`)}

// needsNormalizing reports whether re-encoding could change what the
// schema checks see: a proto (snake_case) field name, or an enum that may
// be a number or a name protojson drops. Unknown members need not go: the
// schemas allow them. Most bodies skip the re-encoding.
func needsNormalizing(b []byte) bool {
	if bytes.IndexByte(b, '_') >= 0 {
		return true
	}
	for _, m := range enumMembers {
		if bytes.Contains(b, m) {
			return true
		}
	}
	return false
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
