package e2e

import (
	"context"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	sessionpb "github.com/idpmock/idpmock/gen/zitadelpb/zitadel/session/v2"
	"github.com/idpmock/idpmock/mock/mocktest"
)

// TestComposeBalancer runs compose.replicas.yaml's load balancer
// configuration (compose/nginx.conf, with the replicas' and ports'
// addresses filled in) in a real nginx in front of two replicas: a session
// made through it over REST is read back over gRPC through its gRPC port,
// and requests reach both replicas. Skips without nginx.
func TestComposeBalancer(t *testing.T) {
	bin, err := exec.LookPath("nginx")
	if err != nil {
		t.Skip("nginx not installed (apt-get install nginx-light)")
	}
	r := mocktest.StartReplicas(t, 2)
	conf, err := os.ReadFile("../../compose/nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	rest, grpcAddr := freeAddr(t), freeAddr(t)
	repl := []string{"listen 4010;", "listen " + rest + ";", "listen 4011 http2;", "listen " + grpcAddr + " http2;"}
	for i, s := range r.Servers {
		u, _ := url.Parse(s.URL)
		repl = append(repl, "idpmock-"+string(rune('1'+i))+":4010;", u.Host+";")
	}
	text := strings.NewReplacer(repl...).Replace(string(conf))
	for _, old := range []string{"listen 4010;", "listen 4011 http2;", "idpmock-1:4010;", "idpmock-2:4010;"} {
		if strings.Contains(string(conf), old) == strings.Contains(text, old) {
			t.Fatalf("compose/nginx.conf no longer has %q: update this test", old)
		}
	}
	dir := t.TempDir()
	main := "pid " + dir + "/nginx.pid;\nerror_log " + dir + "/error.log;\ndaemon off;\nevents {}\nhttp {\n" +
		"  access_log off;\n  client_body_temp_path " + dir + "; proxy_temp_path " + dir + "; fastcgi_temp_path " + dir +
		"; uwsgi_temp_path " + dir + "; scgi_temp_path " + dir + ";\n" + text + "\n}\n"
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", filepath.Join(dir, "nginx.conf"), "-p", dir)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	waitFor(t, rest, dir)
	waitFor(t, grpcAddr, dir)

	c := r.Client()
	base := "http://" + rest
	for range 4 { // both replicas answer /healthz through the balancer
		if got := must(t, c, "GET", base+"/healthz", nil, 200); str(got.body, "status") != "ok" {
			t.Fatalf("healthz: %s", got)
		}
	}
	created := must(t, c, "POST", base+"/v2/sessions", map[string]any{"metadata": map[string]any{"via": "bmdpbng="}}, 201)
	id := str(created.body, "sessionId")
	must(t, c, "GET", base+"/v2/sessions/"+id, nil, 200)

	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+mocktest.DefaultToken)
	for range 2 { // one call per replica
		var got sessionpb.GetSessionResponse
		if err := conn.Invoke(ctx, "/zitadel.session.v2.SessionService/GetSession", &sessionpb.GetSessionRequest{SessionId: id}, &got); err != nil {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("gRPC GetSession through nginx: %v\n%s", err, log)
		}
		if string(got.GetSession().GetMetadata()["via"]) != "nginx" {
			t.Fatalf("gRPC GetSession through nginx: %v", &got)
		}
	}
	// An error status (a trailers-only answer) passes as the vendor's.
	err = conn.Invoke(ctx, "/zitadel.session.v2.SessionService/GetSession", &sessionpb.GetSessionRequest{SessionId: "404"}, &sessionpb.GetSessionResponse{})
	if status.Code(err) != codes.NotFound {
		t.Errorf("unknown session over gRPC through nginx: %v, want NotFound", err)
	}
	// nginx keeps no Redis state: both replicas served, neither was told.
	for _, s := range r.Servers {
		s.VerifyAll(t, "SessionService_GetSession", 4)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func waitFor(t *testing.T, addr, dir string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
	t.Fatalf("nginx not listening on %s:\n%s", addr, log)
}
