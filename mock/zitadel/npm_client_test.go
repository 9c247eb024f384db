package zitadel_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// npmClientDir holds ZITADEL's npm client test (package.json, lockfile,
// login.mjs); `npm ci` there installs it.
const npmClientDir = "../../contracts/clients/zitadel-npm"

// TestNPMClient runs ZITADEL's own npm client (@zitadel/client 1.3) through
// a full login against the mock over each transport it offers: Connect JSON,
// Connect binary, gRPC (createServerTransport) and gRPC-Web
// (createClientTransport). The mock listens with cleartext HTTP/2 beside
// HTTP/1.1, as idpmock does. It skips
// when node or the installed node_modules are missing; CI runs `npm ci` in
// contracts/clients/zitadel-npm first.
func TestNPMClient(t *testing.T) {
	// CI sets IDPMOCK_REQUIRE_NPM_CLIENT=1 (make npm-client-test) so a
	// missing install fails instead of skipping silently.
	skip := t.Skipf
	if os.Getenv("IDPMOCK_REQUIRE_NPM_CLIENT") == "1" {
		skip = t.Fatalf
	}
	node, err := exec.LookPath("node")
	if err != nil {
		skip("node not installed; the ZITADEL npm client test needs Node.js ≥ 18")
	}
	if _, err := os.Stat(filepath.Join(npmClientDir, "node_modules", "@zitadel", "client")); err != nil {
		skip("ZITADEL npm client not installed: run `npm ci` in %s", filepath.Clean(npmClientDir))
	}
	srv := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "login.mjs")
	cmd.Dir = npmClientDir
	cmd.Env = append(os.Environ(), "IDPMOCK_URL="+srv.URL)
	out, err := cmd.CombinedOutput()
	t.Logf("node login.mjs:\n%s", out)
	if err != nil {
		t.Fatalf("ZITADEL npm client login failed: %v", err)
	}
}
