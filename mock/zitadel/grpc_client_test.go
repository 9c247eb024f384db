package zitadel_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	zitadelv1 "github.com/idpmock/idpmock/gen/zitadelpb/zitadel"
	sessionpb "github.com/idpmock/idpmock/gen/zitadelpb/zitadel/session/v2"
	"github.com/idpmock/idpmock/mock/internal/httptestx"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/override"
)

// grpcConn dials the mock with grpc-go, as ZITADEL's Go SDK would (h2c).
func grpcConn(t *testing.T, srv *mocktest.Server) *grpc.ClientConn {
	t.Helper()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := grpc.NewClient(u.Host, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return conn
}

// invoke calls one SessionService method with the test bearer token and
// any extra metadata (key, value pairs).
func invoke(ctx context.Context, conn *grpc.ClientConn, method string, in, out any, md ...string) error {
	ctx = metadata.AppendToOutgoingContext(ctx, append([]string{"authorization", bearer}, md...)...)
	return conn.Invoke(ctx, connectSv+method, in, out)
}

// TestGRPCGoClientLogin is the login flow with grpc-go and the generated
// messages: statuses, messages and zitadel.v1 details as ZITADEL sends them.
func TestGRPCGoClientLogin(t *testing.T) {
	srv := start(t)
	conn := grpcConn(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	var created sessionpb.CreateSessionResponse
	if err := invoke(ctx, conn, "CreateSession", &sessionpb.CreateSessionRequest{
		Checks: &sessionpb.Checks{User: &sessionpb.CheckUser{Search: &sessionpb.CheckUser_UserId{UserId: miniID}}},
	}, &created); err != nil {
		t.Fatalf("CreateSession: %v", err)
	}

	err := invoke(ctx, conn, "SetSession", &sessionpb.SetSessionRequest{SessionId: created.GetSessionId(),
		Checks: &sessionpb.Checks{Password: &sessionpb.CheckPassword{Password: "nope"}}}, &sessionpb.SetSessionResponse{})
	st := status.Convert(err)
	if st.Code() != codes.InvalidArgument || st.Message() != "Password is invalid (COMMAND-3M0fs)" {
		t.Fatalf("wrong password: %v", err)
	}
	if ds := st.Details(); len(ds) != 1 {
		t.Fatalf("details %v", ds)
	} else if cc, ok := ds[0].(*zitadelv1.CredentialsCheckError); !ok || cc.GetFailedAttempts() != 1 || cc.GetId() != "COMMAND-3M0fs" {
		t.Fatalf("detail %T %v, want a CredentialsCheckError with failedAttempts 1", ds[0], ds[0])
	}

	var set sessionpb.SetSessionResponse
	if err := invoke(ctx, conn, "SetSession", &sessionpb.SetSessionRequest{SessionId: created.GetSessionId(),
		Checks: &sessionpb.Checks{Password: &sessionpb.CheckPassword{Password: "Password1!"}}}, &set); err != nil {
		t.Fatalf("SetSession: %v", err)
	}
	tok := set.GetSessionToken()
	var got sessionpb.GetSessionResponse
	if err := invoke(ctx, conn, "GetSession", &sessionpb.GetSessionRequest{SessionId: created.GetSessionId(), SessionToken: &tok}, &got); err != nil {
		t.Fatalf("GetSession: %v", err)
	}
	if got.GetSession().GetFactors().GetPassword().GetVerifiedAt() == nil || got.GetSession().GetFactors().GetUser().GetId() != miniID {
		t.Fatalf("GetSession: %v", got.GetSession())
	}
	var list sessionpb.ListSessionsResponse
	if err := invoke(ctx, conn, "ListSessions", &sessionpb.ListSessionsRequest{}, &list); err != nil || len(list.GetSessions()) != 1 {
		t.Fatalf("ListSessions: %v %v", err, list.GetSessions())
	}
	if err := invoke(ctx, conn, "DeleteSession", &sessionpb.DeleteSessionRequest{SessionId: created.GetSessionId(), SessionToken: &tok}, &sessionpb.DeleteSessionResponse{}); err != nil {
		t.Fatalf("DeleteSession: %v", err)
	}
	err = invoke(ctx, conn, "GetSession", &sessionpb.GetSessionRequest{SessionId: created.GetSessionId()}, &sessionpb.GetSessionResponse{})
	if st := status.Convert(err); st.Code() != codes.NotFound || !strings.Contains(st.Message(), "QUERY-SFeaa") {
		t.Fatalf("GetSession after delete: %v", err)
	}
	err = invoke(ctx, conn, "Frobnicate", &sessionpb.GetSessionRequest{}, &sessionpb.GetSessionResponse{})
	if st := status.Convert(err); st.Code() != codes.Unimplemented {
		t.Fatalf("unknown method: %v, want Unimplemented", err)
	}
	if n := len(srv.Requests(journal.Query{Path: connectSv + "Frobnicate"})); n != 1 {
		t.Fatalf("unknown method journaled %d times, want once", n)
	}

	// The standard health service.
	hr, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: "zitadel.session.v2.SessionService"})
	if err != nil || hr.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health: %v %v", hr, err)
	}
}

// TestGRPCControlSurface: Prefer as metadata, overrides, the journal and
// request validation reach gRPC calls as they reach REST ones.
func TestGRPCControlSurface(t *testing.T) {
	srv := start(t)
	conn := grpcConn(t, srv)
	ctx := context.Background()

	// Prefer metadata forces the vendor's answer for a status.
	err := invoke(ctx, conn, "GetSession", &sessionpb.GetSessionRequest{SessionId: "1"}, &sessionpb.GetSessionResponse{}, "prefer", "code=403")
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("prefer code=403: %v, want PermissionDenied", err)
	}
	es := srv.Requests(journal.Query{Operation: "SessionService_GetSession"})
	if len(es) != 1 || es[0].Prefer != "code=403" || es[0].Protocol != journal.ProtocolGRPC {
		t.Fatalf("journal: %+v", es)
	}
	// The admin API shows the protocol and the procedure called, and finds
	// entries by them.
	adm := callWith(t, srv, http.MethodGet, "/__mock/journal?operation=SessionService_GetSession", "", nil)
	if p, _ := get(adm.body, "entries.0.protocol").(string); p != "grpc" || get(adm.body, "entries.0.procedure") != connectSv+"GetSession" {
		t.Fatalf("admin journal: %s", adm.raw)
	}
	for q, want := range map[string]float64{
		`{"protocol":"grpc"}`: 1, `{"protocol":"rest"}`: 0, `{"procedure":"` + connectSv + `GetSession"}`: 1,
	} {
		r := callWith(t, srv, http.MethodPost, "/__mock/journal/count", q, map[string]string{"Content-Type": "application/json"})
		if n, _ := get(r.body, "count").(float64); r.status != 200 || n != want {
			t.Errorf("count %s: %d %s, want %v", q, r.status, r.raw, want)
		}
	}

	// An override answers the next gRPC call with its status and body.
	srv.Override(t, override.Spec{Operation: "SessionService_CreateSession", Times: 1, Status: http.StatusServiceUnavailable,
		Body: []byte(`{"code":14,"message":"maintenance"}`)})
	err = invoke(ctx, conn, "CreateSession", &sessionpb.CreateSessionRequest{}, &sessionpb.CreateSessionResponse{})
	if st := status.Convert(err); st.Code() != codes.Unavailable || st.Message() != "maintenance" {
		t.Fatalf("override: %v, want Unavailable maintenance", err)
	}
	var created sessionpb.CreateSessionResponse
	if err := invoke(ctx, conn, "CreateSession", &sessionpb.CreateSessionRequest{}, &created); err != nil || created.GetSessionId() == "" {
		t.Fatalf("after the override: %v", err)
	}

	// Validation: the same rule and words as on REST.
	err = invoke(ctx, conn, "CreateSession", &sessionpb.CreateSessionRequest{
		Checks: &sessionpb.Checks{Totp: &sessionpb.CheckTOTP{Code: "12345"}}}, &sessionpb.CreateSessionResponse{})
	if st := status.Convert(err); st.Code() != codes.InvalidArgument || !strings.HasSuffix(st.Message(), "caused by: invalid CheckTOTP.Code: value length must be 6 runes") {
		t.Fatalf("validation: %v", err)
	}
	// Secrets are redacted in the journal of a gRPC call too.
	_ = invoke(ctx, conn, "SetSession", &sessionpb.SetSessionRequest{SessionId: created.GetSessionId(),
		Checks: &sessionpb.Checks{Password: &sessionpb.CheckPassword{Password: "Sup3rSecret!"}}}, &sessionpb.SetSessionResponse{})
	for _, e := range srv.Requests(journal.Query{Operation: "SessionService_SetSession"}) {
		if b, _ := jsonText(e.Body); strings.Contains(b, "Sup3rSecret!") || !strings.Contains(b, "password") {
			t.Fatalf("journal body %s", b)
		}
	}
}

// TestRPCCORS: a browser's gRPC-Web or Connect call may read the status,
// message and details headers, and the preflight allows their headers.
func TestRPCCORS(t *testing.T) {
	srv := start(t)
	pre := callWith(t, srv, http.MethodOptions, connectSv+"GetSession", "", map[string]string{
		"Origin": "http://app.example", "Access-Control-Request-Method": "POST",
		"Access-Control-Request-Headers": "content-type,x-grpc-web,x-user-agent,connect-protocol-version,connect-timeout-ms,authorization",
	})
	if pre.status != http.StatusNoContent || pre.header.Get("Access-Control-Allow-Origin") != "http://app.example" ||
		!strings.Contains(strings.ToLower(pre.header.Get("Access-Control-Allow-Headers")), "x-grpc-web") {
		t.Fatalf("preflight: %d %v", pre.status, pre.header)
	}
	resp := httptestx.Send(t, srv.Client(), srv.URL, http.MethodPost, connectSv+"GetSession", "\x00\x00\x00\x00\x03\x0a\x011",
		"Content-Type", "application/grpc-web+proto", "X-Grpc-Web", "1", "Origin", "http://app.example", "Authorization", bearer)
	exposed := strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers"))
	if resp.Header.Get("Access-Control-Allow-Origin") != "http://app.example" || len(resp.Header.Values("Access-Control-Allow-Origin")) != 1 {
		t.Fatalf("allow origin %v", resp.Header.Values("Access-Control-Allow-Origin"))
	}
	for _, h := range []string{"grpc-status", "grpc-message", "grpc-status-details-bin", "connect-protocol-version"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("%s not exposed: %q", h, exposed)
		}
	}
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// TestRPCUnsupportedCodec: a Content-Type no RPC face serves (gRPC-Web
// text, none at all) is 415 with the ones it does, and another method than
// POST 405, as connect-go answers.
func TestRPCUnsupportedCodec(t *testing.T) {
	srv := start(t)
	for _, ct := range []string{"application/grpc-web-text", "text/plain", ""} {
		// An empty ct removes the Content-Type Send would add.
		resp := httptestx.Send(t, srv.Client(), srv.URL, http.MethodPost, connectSv+"GetSession", "AAAAAAM=", "Content-Type", ct)
		if resp.Status != http.StatusUnsupportedMediaType || !strings.Contains(resp.Header.Get("Accept-Post"), "application/grpc-web+proto") {
			t.Errorf("%q: %d, Accept-Post %q", ct, resp.Status, resp.Header.Get("Accept-Post"))
		}
	}
	// A Connect protocol version other than 1 is refused, as connect-go does.
	v2 := callWith(t, srv, http.MethodPost, connectSv+"GetSession", `{"sessionId":"1"}`,
		map[string]string{"Authorization": bearer, "Content-Type": "application/json", "Connect-Protocol-Version": "2"})
	wantConnectError(t, v2, http.StatusBadRequest, "invalid_argument", `connect-protocol-version must be "1": got "2"`)
	// Another method than POST on a procedure is 405, Allow: POST.
	r := callWith(t, srv, http.MethodGet, connectSv+"GetSession", "", map[string]string{"Authorization": bearer})
	if r.status != http.StatusMethodNotAllowed || r.header.Get("Allow") != "POST" {
		t.Errorf("GET on a procedure: %d, Allow %q: %s", r.status, r.header.Get("Allow"), r.raw)
	}
	// Refused calls are journaled, as the RPC calls they were.
	es := srv.Requests(journal.Query{Path: connectSv + "GetSession"})
	if len(es) != 5 || es[4].Status != http.StatusMethodNotAllowed || es[4].Protocol != journal.ProtocolConnect {
		t.Errorf("journal: %d entries %+v", len(es), es)
	}
}

// TestGRPCDroppedConnection: an override's fault "drop" resets a gRPC call
// (with a deadline, served on the front's own goroutine, and without), is
// journaled as a drop, and the server goes on answering.
func TestGRPCDroppedConnection(t *testing.T) {
	srv := start(t)
	conn := grpcConn(t, srv)
	for _, withDeadline := range []bool{true, false} {
		srv.Override(t, override.Spec{Operation: "SessionService_CreateSession", Times: 1, Fault: "drop"})
		ctx := context.Background()
		if withDeadline {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
		}
		err := invoke(ctx, conn, "CreateSession", &sessionpb.CreateSessionRequest{}, &sessionpb.CreateSessionResponse{})
		if c := status.Code(err); c != codes.Internal && c != codes.Unavailable {
			t.Fatalf("deadline %v: dropped call answered %v", withDeadline, err)
		}
		var out sessionpb.CreateSessionResponse
		if err := invoke(ctx, conn, "CreateSession", &sessionpb.CreateSessionRequest{}, &out); err != nil || out.GetSessionId() == "" {
			t.Fatalf("deadline %v: the next call: %v", withDeadline, err)
		}
	}
	drops := 0
	for _, e := range srv.Requests(journal.Query{Operation: "SessionService_CreateSession"}) {
		if e.Fault == "drop" && e.Protocol == journal.ProtocolGRPC {
			drops++
		}
	}
	if drops != 2 {
		t.Fatalf("%d drops journaled, want 2", drops)
	}
}

// TestRPCRefusedCallsJournaled: calls refused before the REST face (a
// message that does not decode, a broken gRPC envelope) are in the journal
// too, unmatched, with their protocol, procedure and the answer sent.
func TestRPCRefusedCallsJournaled(t *testing.T) {
	srv := start(t)
	bad := callWith(t, srv, http.MethodPost, connectSv+"CreateSession", `{"checks":`, map[string]string{"Authorization": bearer, "Content-Type": "application/json"})
	if bad.status != http.StatusBadRequest || str(bad.body, "code") != "invalid_argument" {
		t.Fatalf("malformed Connect JSON: %d %s", bad.status, bad.raw)
	}
	resp := httptestx.Send(t, h2c(), srv.URL, http.MethodPost, connectSv+"GetSession", "", "Content-Type", "application/grpc", "Authorization", bearer)
	if resp.Header.Get("Grpc-Status") != "12" {
		t.Fatalf("empty gRPC call: %v", resp.Header)
	}
	es := srv.Requests(journal.Query{Unmatched: true})
	if len(es) != 2 {
		t.Fatalf("%d unmatched entries, want 2: %+v", len(es), es)
	}
	if e := es[0]; e.Protocol != journal.ProtocolConnect || e.Procedure != connectSv+"CreateSession" || e.Status != http.StatusBadRequest || e.Body != `{"checks":` {
		t.Errorf("Connect entry: %+v", e)
	}
	if e := es[1]; e.Protocol != journal.ProtocolGRPC || e.Procedure != connectSv+"GetSession" || e.Status != http.StatusOK {
		t.Errorf("gRPC entry: %+v", e)
	}
}
