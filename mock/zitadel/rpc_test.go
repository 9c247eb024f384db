package zitadel_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"connectrpc.com/connect"
	"golang.org/x/net/http2"
	"google.golang.org/protobuf/types/known/durationpb"

	zitadelv1 "github.com/idpmock/idpmock/gen/zitadelpb/zitadel"
	sessionpb "github.com/idpmock/idpmock/gen/zitadelpb/zitadel/session/v2"
	"github.com/idpmock/idpmock/gen/zitadelpb/zitadel/session/v2/sessionpbconnect"
	"github.com/idpmock/idpmock/mock/internal/httptestx"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/override"
)

// h2c is an HTTP client that speaks cleartext HTTP/2 with prior knowledge,
// as gRPC clients do.
func h2c() *http.Client {
	return &http.Client{Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
	}}
}

// transport is one way a client reaches the RPC faces.
type transport struct {
	name     string
	protocol string // as journaled
	client   func(srv *mocktest.Server) *http.Client
	opts     []connect.ClientOption
}

var transports = []transport{
	{"connect+json", journal.ProtocolConnect, func(s *mocktest.Server) *http.Client { return s.Client() }, []connect.ClientOption{connect.WithProtoJSON()}},
	{"connect+proto", journal.ProtocolConnect, func(s *mocktest.Server) *http.Client { return s.Client() }, nil},
	{"connect+proto over h2c", journal.ProtocolConnect, func(*mocktest.Server) *http.Client { return h2c() }, nil},
	{"grpc", journal.ProtocolGRPC, func(*mocktest.Server) *http.Client { return h2c() }, []connect.ClientOption{connect.WithGRPC()}},
	{"grpc-web", journal.ProtocolGRPCWeb, func(s *mocktest.Server) *http.Client { return s.Client() }, []connect.ClientOption{connect.WithGRPCWeb()}},
	{"grpc-web+json", journal.ProtocolGRPCWeb, func(s *mocktest.Server) *http.Client { return s.Client() }, []connect.ClientOption{connect.WithGRPCWeb(), connect.WithProtoJSON()}},
}

func authed[T any](m *T) *connect.Request[T] {
	r := connect.NewRequest(m)
	r.Header().Set("Authorization", bearer)
	return r
}

// TestRPCLoginEveryTransport runs a login (create with a user check, wrong
// password, right password, get, list, delete, get after delete) over
// every RPC transport and checks each step's answer and error alike.
func TestRPCLoginEveryTransport(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			srv := start(t)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c := sessionpbconnect.NewSessionServiceClient(tr.client(srv), srv.URL, tr.opts...)

			created, err := c.CreateSession(ctx, authed(&sessionpb.CreateSessionRequest{
				Checks:   &sessionpb.Checks{User: &sessionpb.CheckUser{Search: &sessionpb.CheckUser_LoginName{LoginName: "mini@mouse.com"}}},
				Lifetime: durationpb.New(time.Hour),
				Metadata: map[string][]byte{"k": []byte("v")},
			}))
			if err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
			id, tok := created.Msg.GetSessionId(), created.Msg.GetSessionToken()
			if id == "" || len(tok) < 20 || created.Msg.GetDetails().GetSequence() == 0 {
				t.Fatalf("CreateSession answered %v", created.Msg)
			}

			_, err = c.SetSession(ctx, authed(&sessionpb.SetSessionRequest{SessionId: id, Checks: &sessionpb.Checks{Password: &sessionpb.CheckPassword{Password: "wrong"}}}))
			var ce *connect.Error
			if !errors.As(err, &ce) || ce.Code() != connect.CodeInvalidArgument {
				t.Fatalf("wrong password: %v, want invalid_argument", err)
			}
			if ce.Message() != "Password is invalid (COMMAND-3M0fs)" {
				t.Errorf("wrong password message %q", ce.Message())
			}
			var found bool
			for _, d := range ce.Details() {
				v, err := d.Value()
				if err != nil {
					t.Fatalf("detail %s: %v", d.Type(), err)
				}
				if cc, ok := v.(*zitadelv1.CredentialsCheckError); ok {
					found = true
					if cc.GetId() != "COMMAND-3M0fs" || cc.GetFailedAttempts() != 1 || cc.GetMessage() != "Password is invalid" {
						t.Errorf("CredentialsCheckError %v", cc)
					}
				}
			}
			if !found {
				t.Errorf("no zitadel.v1.CredentialsCheckError detail in %v", ce.Details())
			}

			set, err := c.SetSession(ctx, authed(&sessionpb.SetSessionRequest{SessionId: id, Checks: &sessionpb.Checks{Password: &sessionpb.CheckPassword{Password: "Password1!"}}}))
			if err != nil {
				t.Fatalf("SetSession: %v", err)
			}
			if set.Msg.GetSessionToken() == "" {
				t.Fatalf("SetSession minted no token: %v", set.Msg)
			}
			tok = set.Msg.GetSessionToken()

			got, err := c.GetSession(ctx, authed(&sessionpb.GetSessionRequest{SessionId: id, SessionToken: &tok}))
			if err != nil {
				t.Fatalf("GetSession: %v", err)
			}
			s := got.Msg.GetSession()
			if s.GetId() != id || s.GetFactors().GetUser().GetLoginName() != "mini@mouse.com" || s.GetFactors().GetPassword().GetVerifiedAt() == nil ||
				string(s.GetMetadata()["k"]) != "v" || s.GetExpirationDate() == nil {
				t.Fatalf("GetSession answered %v", s)
			}

			list, err := c.ListSessions(ctx, authed(&sessionpb.ListSessionsRequest{Queries: []*sessionpb.SearchQuery{
				{Query: &sessionpb.SearchQuery_IdsQuery{IdsQuery: &sessionpb.IDsQuery{Ids: []string{id}}}},
			}}))
			if err != nil {
				t.Fatalf("ListSessions: %v", err)
			}
			if list.Msg.GetDetails().GetTotalResult() != 1 || len(list.Msg.GetSessions()) != 1 || list.Msg.GetSessions()[0].GetId() != id {
				t.Fatalf("ListSessions answered %v", list.Msg)
			}

			if _, err := c.DeleteSession(ctx, authed(&sessionpb.DeleteSessionRequest{SessionId: id, SessionToken: &tok})); err != nil {
				t.Fatalf("DeleteSession: %v", err)
			}
			_, err = c.GetSession(ctx, authed(&sessionpb.GetSessionRequest{SessionId: id}))
			if connect.CodeOf(err) != connect.CodeNotFound {
				t.Fatalf("GetSession after delete: %v, want not_found", err)
			}

			entries := srv.Requests(journal.Query{Operation: "SessionService_CreateSession"})
			if len(entries) != 1 || entries[0].Protocol != tr.protocol || entries[0].Procedure != connectSv+"CreateSession" {
				t.Fatalf("journal: %d CreateSession entries, protocol %q; want 1, %q", len(entries), protocolOf(entries), tr.protocol)
			}
		})
	}
}

func protocolOf(es []journal.Entry) string {
	if len(es) == 0 {
		return ""
	}
	return es[0].Protocol
}

// TestRPCDecodingAndTimeouts: JSON is decoded as connect-go does inside
// ZITADEL (unknown members and enum names dropped, enum numbers taken),
// and a client's deadline bounds a slow answer.
func TestRPCDecodingAndTimeouts(t *testing.T) {
	srv := start(t)
	hdr := map[string]string{"Authorization": bearer, "Content-Type": "application/json"}
	for _, body := range []string{`{"sortingColumn":1,"query":{"asc":true}}`, `{"sortingColumn":"NO_SUCH_COLUMN","unknownMember":{"x":1}}`} {
		r := callWith(t, srv, http.MethodPost, connectSv+"ListSessions", body, hdr)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", body, r.status, r.raw)
		}
	}
	srv.Override(t, override.Spec{Operation: "SessionService_GetSession", DelayMs: 2000})
	c := sessionpbconnect.NewSessionServiceClient(h2c(), srv.URL, connect.WithGRPC())
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetSession(ctx, authed(&sessionpb.GetSessionRequest{SessionId: "1"}))
	if connect.CodeOf(err) != connect.CodeDeadlineExceeded || time.Since(start) > 1500*time.Millisecond {
		t.Fatalf("slow answer under a 200ms deadline: %v after %v", err, time.Since(start))
	}
}

// TestRPCServerDeadline: the server holds the client's grpc-timeout or
// connect-timeout-ms as connect-go does, answering deadline_exceeded when a
// slow answer (an override's delay) passes it; a call within its deadline
// is answered whole, trailers included.
func TestRPCServerDeadline(t *testing.T) {
	srv := start(t)
	rule := srv.Override(t, override.Spec{Operation: "SessionService_GetSession", DelayMs: 3000})
	cases := []struct {
		name, ctype, header, value string
		body                       []byte
	}{
		{"grpc", "application/grpc", "Grpc-Timeout", "150m", []byte{0, 0, 0, 0, 3, 0x0a, 1, '1'}},
		{"grpc-web", "application/grpc-web+proto", "Grpc-Timeout", "150m", []byte{0, 0, 0, 0, 3, 0x0a, 1, '1'}},
		{"connect", "application/json", "Connect-Timeout-Ms", "150", []byte(`{"sessionId":"1"}`)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			resp := httptestx.Send(t, h2c(), srv.URL, http.MethodPost, connectSv+"GetSession", string(c.body),
				"Content-Type", c.ctype, c.header, c.value, "Authorization", bearer)
			body := resp.Raw
			if time.Since(start) > 2*time.Second {
				t.Fatalf("answered after %v, past the 150ms deadline", time.Since(start))
			}
			switch c.name {
			case "connect":
				if resp.Status != http.StatusGatewayTimeout || !strings.Contains(string(body), `"deadline_exceeded"`) {
					t.Fatalf("%d %s", resp.Status, body)
				}
			default:
				if resp.Header.Get("Grpc-Status") != "4" {
					t.Fatalf("grpc-status %q, want 4 (%v)", resp.Header.Get("Grpc-Status"), resp.Header)
				}
			}
		})
	}
	srv.Overrides().Delete(rule.ID)
	// Within its deadline, a gRPC call is answered whole, trailers included.
	c := sessionpbconnect.NewSessionServiceClient(h2c(), srv.URL, connect.WithGRPC())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	res, err := c.CreateSession(ctx, authed(&sessionpb.CreateSessionRequest{}))
	if err != nil || res.Msg.GetSessionId() == "" {
		t.Fatalf("create under a deadline: %v", err)
	}
	_, err = c.GetSession(ctx, authed(&sessionpb.GetSessionRequest{SessionId: "1"}))
	var ce *connect.Error
	if !errors.As(err, &ce) || ce.Code() != connect.CodeNotFound || len(ce.Details()) != 1 {
		t.Fatalf("error under a deadline: %v", err)
	}
}
