// Package workload is what idpmock's benchmarks send: the vendor operations
// (PingOne create, read, update; ZITADEL create, get, set over REST and
// Connect JSON, get and set over gRPC, get over Connect binary) as ready-to-send requests, the pools of live session ids they
// address, and the bare-Echo baseline that answers the same requests with
// fixed bytes. The in-process Go benchmarks and the load benchmark
// (go run ./bench) share it, so both measure the same traffic.
package workload

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"google.golang.org/protobuf/proto"

	sessionpb "github.com/idpmock/idpmock/gen/zitadelpb/zitadel/session/v2"
)

// Fixture ids the requests use (fixtures/pingone, fixtures/zitadel).
const (
	PingEnv           = "abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6"
	PingPolicy        = "874d5c7d-5e1c-4e73-b2b5-dfe1453b02f5"
	PingSeededSession = "ee14fe02-6b74-46b3-81f2-2de2a384fa1b"
	ZitadelLogin      = "mini@mouse.com"
	ZitadelPassword   = "Password1!"
	Bearer            = "Bearer idpmock-bench"
	connectService    = "/zitadel.session.v2.SessionService/"
	pingSessions      = "/v1/environments/" + PingEnv + "/sessions"
	userAgent         = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:103.0) Gecko/20100101 Firefox/103.0"
)

// ReadyPath is a real vendor GET that answers 200 on a freshly started mock
// (the seeded PingOne session): start-up is measured up to its first 200.
const ReadyPath = pingSessions + "/" + PingSeededSession

// Request is one HTTP request, ready to send.
type Request struct {
	Method      string
	Path        string
	ContentType string // "" when there is no body
	Body        []byte
}

// Op is one vendor operation: how to build its request from the live
// session pools, the route Echo matches it by (for the baseline), and the
// status a success answers.
type Op struct {
	Name    string
	Method  string
	Pattern string // Echo route pattern
	Status  int
	Build   func(p *Pools, r *rand.Rand) Request
	// HTTP2 ops (gRPC) need HTTP/2: in-process only, the load client
	// speaks HTTP/1.1.
	HTTP2 bool
}

// Pools hold the ids of live sessions that reads and updates address.
type Pools struct {
	mu      sync.RWMutex
	Ping    []string
	Zitadel []string
}

func (p *Pools) pick(ids []string, r *rand.Rand) string {
	if len(ids) == 0 {
		return "missing"
	}
	return ids[r.IntN(len(ids))]
}

func (p *Pools) ping(r *rand.Rand) string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.pick(p.Ping, r)
}

func (p *Pools) zitadel(r *rand.Rand) string {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.pick(p.Zitadel, r)
}

// Add records the id a create answered.
func (p *Pools) Add(op *Op, body []byte) error {
	switch op.Name {
	case "pingone-create":
		var v struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &v); err != nil || v.ID == "" {
			return fmt.Errorf("%s: no id in %.200s", op.Name, body)
		}
		p.mu.Lock()
		p.Ping = append(p.Ping, v.ID)
		p.mu.Unlock()
	case "zitadel-rest-create", "zitadel-connect-create":
		var v struct {
			ID string `json:"sessionId"`
		}
		if err := json.Unmarshal(body, &v); err != nil || v.ID == "" {
			return fmt.Errorf("%s: no sessionId in %.200s", op.Name, body)
		}
		p.mu.Lock()
		p.Zitadel = append(p.Zitadel, v.ID)
		p.mu.Unlock()
	}
	return nil
}

// randomUUID is a v4 UUID from r (cheaper than crypto/rand in the generator).
func randomUUID(r *rand.Rand) string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], b[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], b[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], b[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], b[8:10])
	out[23] = '-'
	hex.Encode(out[24:], b[10:])
	return string(out[:])
}

// pingSessionBody is a PingOne session as the seed page's create sends it;
// each session gets its own user, since PingOne keeps 10 sessions per user.
func pingSessionBody(r *rand.Rand) []byte {
	now := time.Now().UTC().Format("2006-01-02T15:04:05.000Z")
	return []byte(`{"activeAt":"` + now + `","idleTimeoutInMinutes":480,` +
		`"lastSignOn":{"authenticators":["pwd"],"remoteIp":"203.0.113.7",` +
		`"withAuthenticator":{"pwd":{"at":"` + now + `","policy":{"id":"` + PingPolicy + `","type":"PINGONE"}}}},` +
		`"user":{"id":"` + randomUUID(r) + `"},"userAgent":"` + userAgent + `"}`)
}

var (
	zitadelCreateBody = []byte(`{"checks":{"user":{"loginName":"` + ZitadelLogin + `"}}}`)
	zitadelSetBody    = []byte(`{"checks":{"password":{"password":"` + ZitadelPassword + `"}}}`)
)

const jsonType = "application/json"

// Ops are the operations the benchmarks drive, by name.
var Ops = []*Op{
	{Name: "pingone-create", Method: http.MethodPost, Pattern: "/v1/environments/:envID/sessions", Status: http.StatusCreated,
		Build: func(_ *Pools, r *rand.Rand) Request {
			return Request{http.MethodPost, pingSessions, jsonType, pingSessionBody(r)}
		}},
	{Name: "pingone-read", Method: http.MethodGet, Pattern: "/v1/environments/:envID/sessions/:sessionID", Status: http.StatusOK,
		Build: func(p *Pools, r *rand.Rand) Request {
			return Request{Method: http.MethodGet, Path: pingSessions + "/" + p.ping(r)}
		}},
	{Name: "pingone-update", Method: http.MethodPut, Pattern: "/v1/environments/:envID/sessions/:sessionID", Status: http.StatusOK,
		Build: func(p *Pools, r *rand.Rand) Request {
			return Request{http.MethodPut, pingSessions + "/" + p.ping(r), jsonType, pingSessionBody(r)}
		}},
	{Name: "zitadel-rest-create", Method: http.MethodPost, Pattern: "/v2/sessions", Status: http.StatusCreated,
		Build: func(_ *Pools, _ *rand.Rand) Request {
			return Request{http.MethodPost, "/v2/sessions", jsonType, zitadelCreateBody}
		}},
	{Name: "zitadel-rest-get", Method: http.MethodGet, Pattern: "/v2/sessions/:sessionId", Status: http.StatusOK,
		Build: func(p *Pools, r *rand.Rand) Request {
			return Request{Method: http.MethodGet, Path: "/v2/sessions/" + p.zitadel(r)}
		}},
	{Name: "zitadel-rest-set", Method: http.MethodPatch, Pattern: "/v2/sessions/:sessionId", Status: http.StatusOK,
		Build: func(p *Pools, r *rand.Rand) Request {
			return Request{http.MethodPatch, "/v2/sessions/" + p.zitadel(r), jsonType, zitadelSetBody}
		}},
	{Name: "zitadel-connect-create", Method: http.MethodPost, Pattern: connectService + "CreateSession", Status: http.StatusOK,
		Build: func(_ *Pools, _ *rand.Rand) Request {
			return Request{http.MethodPost, connectService + "CreateSession", jsonType, zitadelCreateBody}
		}},
	{Name: "zitadel-connect-get", Method: http.MethodPost, Pattern: connectService + "GetSession", Status: http.StatusOK,
		Build: func(p *Pools, r *rand.Rand) Request {
			return Request{http.MethodPost, connectService + "GetSession", jsonType, []byte(`{"sessionId":"` + p.zitadel(r) + `"}`)}
		}},
	{Name: "zitadel-connect-set", Method: http.MethodPost, Pattern: connectService + "SetSession", Status: http.StatusOK,
		Build: func(p *Pools, r *rand.Rand) Request {
			return Request{http.MethodPost, connectService + "SetSession", jsonType,
				[]byte(`{"sessionId":"` + p.zitadel(r) + `","checks":{"password":{"password":"` + ZitadelPassword + `"}}}`)}
		}},
	// The binary RPC faces: the same reads and updates as gRPC and Connect
	// with the proto codec (transcoded into the REST routes in-process).
	{Name: "zitadel-grpc-get", Method: http.MethodPost, Pattern: connectService + "GetSession", Status: http.StatusOK,
		Build: func(p *Pools, r *rand.Rand) Request {
			return Request{http.MethodPost, connectService + "GetSession", grpcType, grpcFrame(&sessionpb.GetSessionRequest{SessionId: p.zitadel(r)})}
		}, HTTP2: true},
	{Name: "zitadel-grpc-set", Method: http.MethodPost, Pattern: connectService + "SetSession", Status: http.StatusOK,
		Build: func(p *Pools, r *rand.Rand) Request {
			return Request{http.MethodPost, connectService + "SetSession", grpcType, grpcFrame(&sessionpb.SetSessionRequest{
				SessionId: p.zitadel(r), Checks: &sessionpb.Checks{Password: &sessionpb.CheckPassword{Password: ZitadelPassword}}})}
		}, HTTP2: true},
	{Name: "zitadel-connect-proto-get", Method: http.MethodPost, Pattern: connectService + "GetSession", Status: http.StatusOK,
		Build: func(p *Pools, r *rand.Rand) Request {
			b, _ := proto.Marshal(&sessionpb.GetSessionRequest{SessionId: p.zitadel(r)})
			return Request{http.MethodPost, connectService + "GetSession", protoType, b}
		}},
}

const (
	grpcType  = "application/grpc"
	protoType = "application/proto"
)

// grpcFrame is m as one gRPC length-prefixed message (uncompressed).
func grpcFrame(m proto.Message) []byte {
	b, _ := proto.Marshal(m)
	out := make([]byte, 5, 5+len(b))
	binary.BigEndian.PutUint32(out[1:], uint32(len(b)))
	return append(out, b...)
}

// ByName finds an op.
func ByName(name string) *Op {
	for _, op := range Ops {
		if op.Name == name {
			return op
		}
	}
	panic("workload: no op " + name)
}

// Weighted is one op of a mix and its share.
type Weighted struct {
	Op     *Op
	Weight int
}

// Mixed is the mixed traffic: mostly reads, some updates, a few creates,
// over both vendors and both ZITADEL faces.
var Mixed = []Weighted{
	{ByName("pingone-read"), 30},
	{ByName("pingone-update"), 10},
	{ByName("pingone-create"), 5},
	{ByName("zitadel-rest-get"), 20},
	{ByName("zitadel-connect-get"), 10},
	{ByName("zitadel-rest-set"), 10},
	{ByName("zitadel-connect-set"), 5},
	{ByName("zitadel-rest-create"), 5},
	{ByName("zitadel-connect-create"), 5},
}

// Reads is the read-only mix used to measure scaling with stored sessions.
var Reads = []Weighted{
	{ByName("pingone-read"), 50},
	{ByName("zitadel-rest-get"), 50},
}

// Picker chooses the next op of a mix.
type Picker struct {
	ops   []*Op
	cumul []int
	total int
}

// NewPicker prepares a mix.
func NewPicker(mix []Weighted) *Picker {
	p := &Picker{}
	for _, w := range mix {
		p.total += w.Weight
		p.ops = append(p.ops, w.Op)
		p.cumul = append(p.cumul, p.total)
	}
	return p
}

// Next picks an op.
func (p *Picker) Next(r *rand.Rand) *Op {
	if len(p.ops) == 1 {
		return p.ops[0]
	}
	n := r.IntN(p.total)
	for i, c := range p.cumul {
		if n < c {
			return p.ops[i]
		}
	}
	return p.ops[len(p.ops)-1]
}

// Single is a mix of one op.
func Single(op *Op) []Weighted { return []Weighted{{op, 1}} }
