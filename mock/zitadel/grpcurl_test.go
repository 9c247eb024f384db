package zitadel_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestGRPCurl lists, describes and calls the service with grpcurl through
// server reflection, as a user would. `make grpcurl-test` installs grpcurl
// (a Go module) and sets IDPMOCK_GRPCURL to it; without it the test skips.
func TestGRPCurl(t *testing.T) {
	bin := os.Getenv("IDPMOCK_GRPCURL")
	if bin == "" {
		t.Skip("IDPMOCK_GRPCURL not set: run `make grpcurl-test`")
	}
	srv := start(t)
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, bin, append([]string{"-plaintext"}, args...)...).CombinedOutput()
		return string(out), err
	}
	tests := []struct {
		name    string
		args    []string
		wantErr bool
		want    []string
	}{
		{"list", []string{u.Host, "list"}, false,
			[]string{"zitadel.session.v2.SessionService", "grpc.health.v1.Health"}},
		{"describe", []string{u.Host, "describe", "zitadel.session.v2.SessionService"}, false,
			[]string{"rpc CreateSession ( .zitadel.session.v2.CreateSessionRequest ) returns ( .zitadel.session.v2.CreateSessionResponse )", "rpc ListSessions"}},
		{"describe a message", []string{u.Host, "describe", "zitadel.v1.CredentialsCheckError"}, false,
			[]string{"int32 failed_attempts = 3;"}},
		{"create", []string{"-H", "authorization: " + bearer, "-d", `{"checks":{"user":{"loginName":"mini@mouse.com"}}}`,
			u.Host, "zitadel.session.v2.SessionService/CreateSession"}, false,
			[]string{`"sessionId":`, `"sessionToken":`}},
		{"unknown session", []string{"-H", "authorization: " + bearer, "-d", `{"sessionId":"1"}`,
			u.Host, "zitadel.session.v2.SessionService/GetSession"}, true,
			[]string{"Code: NotFound", "Session does not exist (QUERY-SFeaa)", "zitadel.v1.ErrorDetail"}},
		{"health", []string{u.Host, "grpc.health.v1.Health/Check"}, false, []string{`"status": "SERVING"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := run(tt.args...)
			if (err != nil) != tt.wantErr {
				t.Fatalf("grpcurl %s: err %v, want error %v\n%s", strings.Join(tt.args, " "), err, tt.wantErr, out)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("grpcurl %s: output lacks %q:\n%s", strings.Join(tt.args, " "), w, out)
				}
			}
		})
	}
}
