package zitadel

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"

	connectrpc "connectrpc.com/connect"
	"connectrpc.com/grpchealth"
	"connectrpc.com/grpcreflect"
	"connectrpc.com/vanguard"
	"github.com/labstack/echo/v4"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	sessionpb "github.com/idpmock/idpmock/gen/zitadelpb/zitadel/session/v2"
	"github.com/idpmock/idpmock/gen/zitadelpb/zitadel/session/v2/sessionpbconnect"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/server"
)

// The RPC faces: gRPC, gRPC-Web and Connect (binary and JSON codecs) on the
// same port as REST. Vanguard transcodes each RPC call into the REST call
// its google.api.http annotation names and the answer back, so every face
// runs through one implementation: the same validation, overrides, Prefer
// forcing, journal and service. REST errors (google.rpc.Status with
// zitadel.v1 details) become the RPC faces' errors, details included
// (grpc-status-details-bin on gRPC).

// rpcFront routes RPC requests to the transcoder and everything else
// (REST, CORS preflights) straight to the server.
type rpcFront struct {
	log        *slog.Logger
	limit      int64 // largest message, in bytes
	next       http.Handler
	transcoder *vanguard.Transcoder
	// services are the standard ones beside ZITADEL's, by path prefix
	// ("/grpc.health.v1.Health/"): health and reflection (v1, v1alpha).
	services map[string]http.Handler
}

var _ server.Fronter = (*Vendor)(nil)

// Front serves the RPC faces in front of next, the server's handler.
func (v *Vendor) Front(next http.Handler) http.Handler {
	limit := uint32(math.MaxUint32)
	if v.bodyLimit > 0 && v.bodyLimit < math.MaxUint32 {
		limit = uint32(v.bodyLimit)
	}
	svc := vanguard.NewService(sessionpbconnect.SessionServiceName, reachedREST(next),
		vanguard.WithTargetProtocols(vanguard.ProtocolREST),
		vanguard.WithTargetCodecs(vanguard.CodecJSON),
		vanguard.WithMaxMessageBufferBytes(limit),
	)
	tc, err := vanguard.NewTranscoder([]*vanguard.Service{svc},
		// What the transcoder does not know goes to the server as it is,
		// which answers (404 in Connect form) and journals it.
		vanguard.WithUnknownHandler(reachedREST(next)),
		vanguard.WithCodec(func(res vanguard.TypeResolver) vanguard.Codec {
			// As ZITADEL's gateway and connect-go: unknown members are
			// dropped, not refused; unset fields are not written.
			return jsonCodec{&vanguard.JSONCodec{
				MarshalOptions:   protojson.MarshalOptions{Resolver: res},
				UnmarshalOptions: protojson.UnmarshalOptions{Resolver: res, DiscardUnknown: true},
			}}
		}),
		vanguard.WithCodec(func(res vanguard.TypeResolver) vanguard.Codec {
			return protoCodec{vanguard.NewProtoCodec(res)}
		}),
	)
	if err != nil {
		// The service is compiled in; failing here is a build defect.
		panic(fmt.Sprintf("zitadel: RPC transcoder: %v", err))
	}
	f := &rpcFront{log: v.log, limit: int64(limit), next: next, transcoder: tc, services: map[string]http.Handler{}}
	refl := grpcreflect.NewStaticReflector(sessionpbconnect.SessionServiceName, grpchealth.HealthV1ServiceName)
	for _, add := range []func() (string, http.Handler){
		func() (string, http.Handler) {
			return grpchealth.NewHandler(grpchealth.NewStaticChecker(sessionpbconnect.SessionServiceName))
		},
		func() (string, http.Handler) { return grpcreflect.NewHandlerV1(refl) },
		func() (string, http.Handler) { return grpcreflect.NewHandlerV1Alpha(refl) },
	} {
		path, h := add()
		f.services[path] = h
	}
	return f
}

// service is the standard service p calls, nil for none.
func (f *rpcFront) service(p string) http.Handler {
	svc, _, ok := strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if !ok {
		return nil
	}
	return f.services["/"+svc+"/"]
}

func (f *rpcFront) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	switch {
	case r.Method == http.MethodOptions || !strings.HasPrefix(p, "/") || !strings.Contains(p[1:], "."):
		// REST paths and preflights: the server's own CORS answers these.
		f.next.ServeHTTP(w, r)
	case f.service(p) != nil:
		f.rpc(w, r, f.service(p))
	case strings.HasPrefix(p, connectPrefix):
		if r.Method != http.MethodPost || !rpcContentType(r.Header.Get("Content-Type")) {
			// Not a call the transcoder takes: the server answers (and
			// journals) it, in Connect's form (rpcRefused).
			f.next.ServeHTTP(w, r.WithContext(journal.WithProtocol(r.Context(), journal.ProtocolConnect, p)))
			return
		}
		connectHeader(r)
		f.rpc(w, r, f.transcoder)
	default:
		f.next.ServeHTTP(w, r)
	}
}

// rpc tags the request with its protocol (for the journal), answers
// browsers' CORS itself (the REST layer sees no Origin, so its CORS headers
// do not double up) and hands it on.
func (f *rpcFront) rpc(w http.ResponseWriter, r *http.Request, h http.Handler) {
	r = r.WithContext(journal.WithProtocol(r.Context(), rpcProtocol(r), r.URL.Path))
	if origin := r.Header.Get("Origin"); origin != "" {
		hd := w.Header()
		hd.Set("Access-Control-Allow-Origin", origin)
		hd.Set("Access-Control-Allow-Credentials", "true")
		hd.Set("Access-Control-Expose-Headers", strings.Join(rpcExposed, ", "))
		hd.Add("Vary", "Origin")
		r.Header.Del("Origin")
	}
	if strings.HasPrefix(strings.ToLower(r.Header.Get("Content-Type")), "application/grpc") {
		w = &trailersOnly{ResponseWriter: w}
		// Only the transcoded service is unary: reading a reflection
		// stream's whole body would wait for the client forever.
		if h == f.transcoder {
			if code, msg := f.checkEnvelope(r); code != 0 {
				// Answered here, journaled by the server (refusedAnswer).
				rec := &recorder{header: http.Header{}}
				grpcErr(rec, r.Header.Get("Content-Type"), code, msg)
				f.next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), refusedKey{}, rec)))
				return
			}
		}
	}
	defer func() {
		// Last line of defence: a transcoder panic is the caller's internal
		// error, never a dropped connection.
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			f.log.Error("RPC transcoder panic", "panic", fmt.Sprint(p), "path", r.URL.Path)
			http.Error(w, "internal error", http.StatusInternalServerError)
		}
	}()
	if rpcProtocol(r) == journal.ProtocolConnect {
		w = &forcedStatus{ResponseWriter: w}
	}
	if h == f.transcoder {
		f.transcode(w, r)
		return
	}
	h.ServeHTTP(w, r)
}

type reachedKey struct{}

type refusedKey struct{}

// reachedREST marks, on the call's context, that the transcoder handed the
// call on to the REST face.
func reachedREST(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, ok := r.Context().Value(reachedKey{}).(*atomic.Bool); ok {
			b.Store(true)
		}
		next.ServeHTTP(w, r)
	})
}

// transcode runs a call through the transcoder. A call it answers itself
// (a message it cannot decode, one over the size limit, a bad protocol
// header) never reaches the REST face, so it is handed to the server as
// the client sent it, to be journaled; the server's answer is then the
// transcoder's, replayed (refusedAnswer).
func (f *rpcFront) transcode(w http.ResponseWriter, r *http.Request) {
	var raw []byte
	var readErr error
	if r.Body != nil && r.Body != http.NoBody {
		raw, readErr = io.ReadAll(io.LimitReader(r.Body, f.limit+6))
	}
	body := func() io.ReadCloser {
		if readErr != nil {
			return io.NopCloser(io.MultiReader(bytes.NewReader(raw), errReader{readErr}))
		}
		return io.NopCloser(bytes.NewReader(raw))
	}
	orig := r.Clone(r.Context()) // the transcoder rewrites the headers in place
	r.Body = body()
	reached := new(atomic.Bool)
	r = r.WithContext(context.WithValue(r.Context(), reachedKey{}, reached))
	rec := &recorder{header: http.Header{}}
	if d, ok := rpcTimeout(r); ok {
		if !withDeadline(w, r, f.transcoder, d, rec) {
			return // the deadline passed and was answered
		}
	} else {
		f.transcoder.ServeHTTP(rec, r)
	}
	if reached.Load() {
		rec.replay(w)
		return
	}
	orig.Body = body()
	f.next.ServeHTTP(w, orig.WithContext(context.WithValue(orig.Context(), refusedKey{}, rec)))
}

// refusedAnswer replays, for a call the transcoder refused and handed to
// the server for the journal, the transcoder's answer; ok is false for
// other requests.
func refusedAnswer(c echo.Context) bool {
	rec, ok := c.Request().Context().Value(refusedKey{}).(*recorder)
	if !ok {
		return false
	}
	rec.replay(c.Response())
	return true
}

// checkEnvelope reads a gRPC or gRPC-Web request's one message and
// refuses a broken envelope as connect-go (ZITADEL) does; vanguard v0.4.0
// panics on an empty body, answers an unworded internal error for a short
// one and reads a compressed message without an encoding as plain.
func (f *rpcFront) checkEnvelope(r *http.Request) (int, string) {
	var body []byte
	if r.Body != nil && r.Body != http.NoBody {
		var err error
		body, err = io.ReadAll(io.LimitReader(r.Body, f.limit+6))
		if err != nil {
			return 14, "read message: " + err.Error()
		}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	switch {
	case len(body) == 0:
		return 12, "unary request has zero messages"
	case len(body) < 5:
		return 13, "protocol error: incomplete envelope: unexpected EOF"
	}
	size := int64(binary.BigEndian.Uint32(body[1:5]))
	switch {
	case size > f.limit:
		return 8, fmt.Sprintf("message size %d is larger than configured max %d", size, f.limit)
	case int64(len(body)-5) < size:
		return 13, fmt.Sprintf("protocol error: promised %d bytes in enveloped message, got %d bytes: unexpected EOF", size, len(body)-5)
	case body[0]&1 != 0 && !hasEncoding(r.Header.Get("Grpc-Encoding")):
		return 13, "protocol error: sent compressed message without compression support"
	}
	return 0, ""
}

func hasEncoding(enc string) bool { return enc != "" && enc != "identity" }

// grpcErr answers a gRPC or gRPC-Web call with a trailers-only error.
func grpcErr(w http.ResponseWriter, reqType string, code int, msg string) {
	ct := "application/grpc+proto"
	if strings.HasPrefix(strings.ToLower(reqType), "application/grpc-web") {
		ct = "application/grpc-web+proto"
	}
	h := w.Header()
	h.Set("Content-Type", ct)
	h.Set("Grpc-Status", strconv.Itoa(code))
	h.Set("Grpc-Message", url.PathEscape(msg))
	w.WriteHeader(http.StatusOK)
}

// trailersOnly fixes vanguard's gRPC error without a message: it puts the
// status, message and grpc-status-details-bin in the headers but also
// declares Grpc-Status and Grpc-Message as trailers, so Go sends those two
// again as trailers and gRPC clients, which read the trailers, lose the
// details (a CredentialsCheckError). Dropping the declaration makes it a
// proper trailers-only response.
type trailersOnly struct {
	http.ResponseWriter
}

func (t *trailersOnly) WriteHeader(code int) {
	if h := t.Header(); h.Get("Grpc-Status") != "" {
		h.Del("Trailer")
		h.Del("Content-Length")
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *trailersOnly) Flush() {
	if f, ok := t.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (t *trailersOnly) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// rpcExposed are the response headers a browser's gRPC-Web or Connect
// client must read.
var rpcExposed = []string{
	"Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin", "Grpc-Encoding", "Grpc-Accept-Encoding",
	"Connect-Protocol-Version", "Connect-Content-Encoding", "Connect-Accept-Encoding",
	"Content-Encoding", "Content-Length", "Date",
	"Correlation-Id", "Retry-After", "X-Idpmock-Override", "X-Idpmock-Violations", "Preference-Applied",
}

// rpcProtocol names the protocol by its Content-Type, as connect-go does.
func rpcProtocol(r *http.Request) string {
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	switch {
	case strings.HasPrefix(ct, "application/grpc-web"):
		return journal.ProtocolGRPCWeb
	case strings.HasPrefix(ct, "application/grpc"):
		return journal.ProtocolGRPC
	}
	return journal.ProtocolConnect
}

// connectHeader marks a unary Connect POST without Connect-Protocol-Version
// as Connect: connect-go (ZITADEL) serves such calls (curl, fetch) while
// vanguard would take them for REST.
func connectHeader(r *http.Request) {
	if r.Method != http.MethodPost || r.Header.Get("Connect-Protocol-Version") != "" {
		return
	}
	mt, _, _ := strings.Cut(strings.ToLower(r.Header.Get("Content-Type")), ";")
	switch strings.TrimSpace(mt) {
	case "application/json", "application/proto":
		r.Header.Set("Connect-Protocol-Version", "1")
	}
}

// jsonCodec and protoCodec decode as connect-go does inside ZITADEL, so a
// bad message is invalid_argument worded as there: "unmarshal message:
// unmarshal into *session.CreateSessionRequest: proto: (line 1:40): ...".
type jsonCodec struct{ *vanguard.JSONCodec }

func (c jsonCodec) Unmarshal(data []byte, msg proto.Message) error {
	if len(data) == 0 {
		return connectrpc.NewError(connectrpc.CodeInvalidArgument, errors.New("unmarshal message: zero-length payload is not a valid JSON object"))
	}
	return decodeErr(msg, c.JSONCodec.Unmarshal(data, msg))
}

type protoCodec struct{ *vanguard.ProtoCodec }

func (c protoCodec) Unmarshal(data []byte, msg proto.Message) error {
	return decodeErr(msg, c.ProtoCodec.Unmarshal(data, msg))
}

func decodeErr(msg proto.Message, err error) error {
	if err == nil {
		return nil
	}
	// ZITADEL's Go package for zitadel.session.v2 is named session. The
	// protobuf module randomly writes "proto:" with a no-break space (to stop
	// callers matching its messages); a stable plain space keeps ours
	// comparable across faces and runs.
	text := strings.Replace(err.Error(), "proto:\u00a0", "proto: ", 1)
	return connectrpc.NewError(connectrpc.CodeInvalidArgument,
		fmt.Errorf("unmarshal message: unmarshal into *session.%s: %s", msg.ProtoReflect().Descriptor().Name(), text))
}

// rpcMissingID words an RPC call without a session id as ZITADEL's
// validator does: vanguard maps it to "/v2/sessions/", a path no REST
// route takes, while ZITADEL checks the field before routing matters.
func rpcMissingID(r *http.Request) *zerr {
	if journal.ProtocolOf(r.Context()) == journal.ProtocolREST || r.URL.Path != "/v2/sessions/" {
		return nil
	}
	msg := map[string]string{http.MethodGet: "GetSessionRequest", http.MethodPatch: "SetSessionRequest", http.MethodDelete: "DeleteSessionRequest"}[r.Method]
	if msg == "" {
		return nil
	}
	return plainErr(codeInvalidArgument, "invalid %s.SessionId: value length must be between 1 and 200 runes, inclusive", msg)
}

// connectError is the Connect protocol's unary error body, written for the
// calls that reach the server without passing the transcoder (an unknown
// method under /zitadel.).
type connectError struct {
	Code    connectCode           `json:"code"`
	Message *string               `json:"message,omitempty"`
	Details *[]connectErrorDetail `json:"details,omitempty"`
}

type connectCode string

type connectErrorDetail struct {
	Type  string          `json:"type"`
	Value string          `json:"value"`
	Debug *map[string]any `json:"debug,omitempty"`
}

// acceptPost lists the Content-Types the RPC faces take, as connect-go
// lists them.
const acceptPost = "application/grpc, application/grpc+json, application/grpc+proto, application/grpc-web, application/grpc-web+json, application/grpc-web+proto, application/json, application/proto"

func rpcContentType(ct string) bool {
	mt, _, _ := strings.Cut(strings.ToLower(ct), ";")
	switch strings.TrimSpace(mt) {
	case "application/json", "application/proto", "application/grpc", "application/grpc+proto", "application/grpc+json",
		"application/grpc-web", "application/grpc-web+proto", "application/grpc-web+json":
		// Not grpc-web-text: connect-go (ZITADEL) does not serve it either.
		return true
	}
	return false
}

// forcedStatusHeader carries a status forced by an override or Prefer from
// the REST face to the front, for Connect calls only; it never reaches the
// client.
const forcedStatusHeader = "X-Idpmock-Forced-Status"

// forcedStatus answers a Connect call with the status an override or
// Prefer forced, as the Connect face did before it was transcoded (the
// error body's code stays the one ZITADEL would send).
type forcedStatus struct {
	http.ResponseWriter
}

func (f *forcedStatus) WriteHeader(code int) {
	if v := f.Header().Get(forcedStatusHeader); v != "" {
		f.Header().Del(forcedStatusHeader)
		if n, err := strconv.Atoi(v); err == nil && n >= 400 && n <= 599 {
			code = n
		}
	}
	f.ResponseWriter.WriteHeader(code)
}

func (f *forcedStatus) Flush() {
	if fl, ok := f.ResponseWriter.(http.Flusher); ok {
		fl.Flush()
	}
}

func (f *forcedStatus) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// rpcRefused answers, as connect-go does, a request for one of the
// service's procedures that the transcoder did not take: another method
// than POST is 405 (Allow: POST), a Connect-Protocol-Version other than 1
// is invalid_argument, another Content-Type 415 (Accept-Post).
func rpcRefused(c echo.Context) *zerr {
	r := c.Request()
	svc, method, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if !ok || svc != sessionpbconnect.SessionServiceName || sessionpb.File_zitadel_session_v2_session_service_proto.
		Services().ByName("SessionService").Methods().ByName(protoreflect.Name(method)) == nil {
		return nil
	}
	if r.Method != http.MethodPost {
		c.Response().Header().Set("Allow", http.MethodPost)
		e := plainErr(codeUnimplemented, "Method Not Allowed")
		e.status = http.StatusMethodNotAllowed
		return e
	}
	if v := r.Header.Get("Connect-Protocol-Version"); v != "" && v != "1" && rpcContentType(r.Header.Get("Content-Type")) {
		return plainErr(codeInvalidArgument, "connect-protocol-version must be \"1\": got %q", v)
	}
	e := plainErr(codeUnimplemented, "Content-Type %q is not a Connect, gRPC or gRPC-Web codec", r.Header.Get("Content-Type"))
	e.status = http.StatusUnsupportedMediaType
	return e
}
