package robust_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	sessionpb "github.com/idpmock/idpmock/gen/zitadelpb/zitadel/session/v2"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/server"
)

// The RPC faces (gRPC, gRPC-Web, Connect binary and JSON) decode binary
// frames the OpenAPI-driven tables above never send; these attack them.

const rpcService = "/zitadel.session.v2.SessionService/"

// rpcWire is one RPC protocol and codec.
type rpcWire struct {
	name  string
	ctype string
	frame bool // gRPC length-prefixed messages
	json  bool
}

var rpcWires = []rpcWire{
	{"connect+json", "application/json", false, true},
	{"connect+proto", "application/proto", false, false},
	{"grpc", "application/grpc", true, false},
	{"grpc+json", "application/grpc+json", true, true},
	{"grpc-web", "application/grpc-web+proto", true, false},
}

var rpcMethods = []struct {
	name string
	msg  proto.Message
}{
	{"CreateSession", &sessionpb.CreateSessionRequest{
		Checks:   &sessionpb.Checks{User: &sessionpb.CheckUser{Search: &sessionpb.CheckUser_LoginName{LoginName: zitadelUser}}},
		Metadata: map[string][]byte{"k": []byte("v")}, Lifetime: durationpb.New(3600e9),
	}},
	{"SetSession", &sessionpb.SetSessionRequest{SessionId: "1", Checks: &sessionpb.Checks{Password: &sessionpb.CheckPassword{Password: "x"}}}},
	{"GetSession", &sessionpb.GetSessionRequest{SessionId: "1"}},
	{"DeleteSession", &sessionpb.DeleteSessionRequest{SessionId: "1"}},
	{"ListSessions", &sessionpb.ListSessionsRequest{Queries: []*sessionpb.SearchQuery{{Query: &sessionpb.SearchQuery_IdsQuery{IdsQuery: &sessionpb.IDsQuery{Ids: []string{"1"}}}}}}},
}

// encode is m in w's codec and framing.
func (w rpcWire) encode(m proto.Message) []byte {
	var b []byte
	if w.json {
		b, _ = protojson.Marshal(m)
	} else {
		b, _ = proto.Marshal(m)
	}
	if !w.frame {
		return b
	}
	return frame(0, b)
}

func frame(flags byte, b []byte) []byte {
	out := make([]byte, 5, 5+len(b))
	out[0] = flags
	binary.BigEndian.PutUint32(out[1:], uint32(len(b)))
	return append(out, b...)
}

// rpcAnswer is the outcome of one call: HTTP status, and the RPC code
// (Connect's string code, or the gRPC status number as text).
type rpcAnswer struct {
	status int
	code   string
	msg    string // grpc-message, percent-decoded
	body   string
}

// rpcCall sends body in-process, over HTTP/2 for gRPC as a client would.
func rpcCall(h http.Handler, w rpcWire, method string, body []byte, header http.Header) rpcAnswer {
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "http://idpmock"+rpcService+method, bytes.NewReader(body))
	req.Header.Set("Content-Type", w.ctype)
	req.Header.Set("Authorization", "Bearer robust")
	for k, v := range header {
		req.Header[k] = v
	}
	if strings.HasPrefix(w.ctype, "application/grpc") && !strings.HasPrefix(w.ctype, "application/grpc-web") {
		req.Proto, req.ProtoMajor, req.ProtoMinor = "HTTP/2.0", 2, 0
		req.Header.Set("Te", "trailers")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	a := rpcAnswer{status: rec.Code, body: rec.Body.String()}
	res := rec.Result()
	switch {
	case res.Header.Get("Grpc-Status") != "":
		a.code, a.msg = res.Header.Get("Grpc-Status"), res.Header.Get("Grpc-Message")
	case res.Trailer.Get("Grpc-Status") != "":
		a.code, a.msg = res.Trailer.Get("Grpc-Status"), res.Trailer.Get("Grpc-Message")
	case strings.HasPrefix(w.ctype, "application/grpc-web"):
		a.code = grpcWebStatus(rec.Body.Bytes())
	case rec.Code != http.StatusOK:
		var ce struct{ Code string }
		_ = protojsonLenient(rec.Body.Bytes(), &ce)
		a.code = ce.Code
	}
	a.msg, _ = url.PathUnescape(a.msg)
	return a
}

// grpcWebStatus reads grpc-status from a gRPC-Web body's trailer frame.
func grpcWebStatus(b []byte) string {
	for len(b) >= 5 {
		n := int(binary.BigEndian.Uint32(b[1:5]))
		if len(b) < 5+n {
			return ""
		}
		if b[0]&0x80 != 0 {
			for _, line := range strings.Split(string(b[5:5+n]), "\r\n") {
				if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(strings.TrimSpace(k), "grpc-status") {
					return strings.TrimSpace(v)
				}
			}
		}
		b = b[5+n:]
	}
	return ""
}

func protojsonLenient(b []byte, v *struct{ Code string }) error {
	i := bytes.Index(b, []byte(`"code":"`))
	if i < 0 {
		return nil
	}
	rest := b[i+8:]
	if j := bytes.IndexByte(rest, '"'); j >= 0 {
		v.Code = string(rest[:j])
	}
	return nil
}

// bad reports whether an answer is a server failure rather than a refusal
// of the input: a 5xx, or unknown/internal, except connect-go's own
// "protocol error" for a broken envelope, which ZITADEL answers as
// internal too, and a deadline the client set passing.
func (a rpcAnswer) bad() bool {
	if a.code == "13" && strings.HasPrefix(a.msg, "protocol error") {
		return false
	}
	if a.code == "4" || a.code == "deadline_exceeded" {
		return false // the client's own deadline passed (Connect answers it with 504)
	}
	switch a.code {
	case "2", "13", "unknown", "internal":
		return true
	}
	return a.status >= 500
}

// TestRPCHostileInput: broken frames, lying length prefixes, unknown
// compression, garbage and oversized messages get a refusal in the
// protocol's own form, never an internal error, a panic or a hang.
func TestRPCHostileInput(t *testing.T) {
	srv := mocktest.Start(t)
	h := srv.Mock.Handler()
	big := bytes.Repeat([]byte("a"), 2<<20) // over the 1 MiB body limit
	for _, w := range rpcWires {
		good := w.encode(rpcMethods[2].msg)
		cases := []struct {
			name   string
			body   []byte
			header http.Header
			want   string // expected code; "" for any refusal
			pass   bool   // a valid message after all
		}{
			{"empty", nil, nil, "", !w.frame && !w.json}, // the empty proto message
			{"garbage", []byte{0xff, 0xfe, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05}, nil, "", false},
			{"truncated", good[:len(good)-1], nil, "", false},
			{"length prefix past the body", append(frame(0, nil)[:1], 0x7f, 0xff, 0xff, 0xff, 1), nil, "", false},
			{"compressed without encoding", frame(1, []byte("xx")), nil, "", false},
			{"unknown encoding", good, http.Header{"Grpc-Encoding": {"br"}, "Content-Encoding": {"br"}}, "", false},
			{"oversized", w.encode(&sessionpb.CreateSessionRequest{Metadata: map[string][]byte{"k": big}}), nil, resourceExhausted(w), false},
		}
		for _, c := range cases {
			t.Run(w.name+"/"+c.name, func(t *testing.T) {
				a := rpcCall(h, w, "CreateSession", c.body, c.header)
				if c.pass {
					if a.bad() || a.status != http.StatusOK {
						t.Fatalf("answered %d, code %q: %.300s", a.status, a.code, a.body)
					}
					return
				}
				if a.bad() || (a.code == "" && a.status == http.StatusOK) || a.code == "0" {
					t.Fatalf("answered %d, code %q: %.300s", a.status, a.code, a.body)
				}
				if c.want != "" && a.code != c.want {
					t.Fatalf("code %q, want %q (%d %.300s)", a.code, c.want, a.status, a.body)
				}
			})
		}
	}
}

func resourceExhausted(w rpcWire) string {
	if w.frame {
		return "8"
	}
	return "resource_exhausted"
}

// TestRPCConcurrentFaces: every RPC face and REST change the same sessions
// at once (run with -race); every call lands and answers.
func TestRPCConcurrentFaces(t *testing.T) {
	srv := mocktest.Start(t, mocktest.WithConfig(func(c *server.Config) { c.JournalSize = 64 }))
	h := srv.Mock.Handler()
	create := rpcCall(h, rpcWires[0], "CreateSession", rpcWires[0].encode(rpcMethods[0].msg), nil)
	var created sessionpb.CreateSessionResponse
	if err := protojson.Unmarshal([]byte(create.body), &created); err != nil || create.status != 200 {
		t.Fatalf("create: %d %s", create.status, create.body)
	}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := rpcWires[i%len(rpcWires)]
			set := &sessionpb.SetSessionRequest{SessionId: created.GetSessionId(), Metadata: map[string][]byte{"n": []byte(strconv.Itoa(i))}}
			if a := rpcCall(h, w, "SetSession", w.encode(set), nil); a.bad() || (a.code != "" && a.code != "0") {
				t.Errorf("%s set: %d %q %.200s", w.name, a.status, a.code, a.body)
			}
			get := &sessionpb.GetSessionRequest{SessionId: created.GetSessionId()}
			if a := rpcCall(h, w, "GetSession", w.encode(get), nil); a.bad() || (a.code != "" && a.code != "0") {
				t.Errorf("%s get: %d %q %.200s", w.name, a.status, a.code, a.body)
			}
		}()
	}
	wg.Wait()
}

// FuzzZitadelRPC sends arbitrary bytes, with an arbitrary timeout header,
// to every method over every RPC wire format: the decoders refuse them in the protocol's form, never with
// an internal error, a 5xx or a panic.
func FuzzZitadelRPC(f *testing.F) {
	for wi, w := range rpcWires {
		for mi, m := range rpcMethods {
			f.Add(uint8(wi), uint8(mi), "", w.encode(m.msg))
		}
		f.Add(uint8(wi), uint8(0), "", []byte{})
		f.Add(uint8(wi), uint8(1), "5S", w.encode(rpcMethods[1].msg))
	}
	f.Add(uint8(2), uint8(0), "1n", frame(0x80, []byte("grpc-status: 0\r\n")))
	f.Add(uint8(0), uint8(0), "99999999999", []byte(base64.StdEncoding.EncodeToString([]byte("{}"))))
	srv := mocktest.Start(f, mocktest.WithConfig(func(c *server.Config) { c.JournalSize = 16 }))
	h := srv.Mock.Handler()
	f.Fuzz(func(t *testing.T, wire, method uint8, timeout string, body []byte) {
		w := rpcWires[int(wire)%len(rpcWires)]
		m := rpcMethods[int(method)%len(rpcMethods)]
		var hdr http.Header
		if timeout != "" {
			// The deadline path runs the call on its own goroutine.
			hdr = http.Header{"Grpc-Timeout": {timeout}, "Connect-Timeout-Ms": {timeout}}
		}
		if a := rpcCall(h, w, m.name, body, hdr); a.bad() {
			t.Fatalf("%s %s %q: %d code %q %.300s", w.name, m.name, body, a.status, a.code, a.body)
		}
	})
}
