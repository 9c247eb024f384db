//go:build browser

package zitadel_test

// gRPC-Web and Connect from a real headless Chromium on another origin:
// the preflight passes, and the page can read the status, message and
// details headers a browser RPC client needs. Run with `make browser-test`.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/idpmock/idpmock/mock/internal/browsertest"
)

const rpcPage = `<!doctype html><meta charset="utf-8"><title>idpmock RPC CORS</title><script>
const mock = %q;
const svc = mock + "/zitadel.session.v2.SessionService/";
async function step(name, f) {
  try { return {name, ...(await f())}; } catch (e) { return {name, error: String(e)}; }
}
(async () => {
  const out = [];
  // GetSession{session_id: "1"} as one gRPC-Web frame.
  const frame = new Uint8Array([0, 0, 0, 0, 3, 0x0a, 1, 0x31]);
  out.push(await step("grpc-web", async () => {
    const r = await fetch(svc + "GetSession", {method: "POST", body: frame, headers: {
      "Content-Type": "application/grpc-web+proto", "X-Grpc-Web": "1", "X-User-Agent": "grpc-web-javascript/0.1",
      "Authorization": "Bearer browser-token"}});
    return {status: r.status, grpcStatus: r.headers.get("grpc-status"), grpcMessage: r.headers.get("grpc-message"),
      details: r.headers.get("grpc-status-details-bin") || ""};
  }));
  out.push(await step("connect", async () => {
    const r = await fetch(svc + "GetSession", {method: "POST", body: JSON.stringify({sessionId: "1"}), headers: {
      "Content-Type": "application/json", "Connect-Protocol-Version": "1", "Connect-Timeout-Ms": "5000",
      "Authorization": "Bearer browser-token"}});
    const body = await r.json();
    return {status: r.status, code: body.code};
  }));
  await fetch("/report", {method: "POST", body: JSON.stringify(out)});
})();
</script>`

type rpcStep struct {
	Name        string `json:"name"`
	Status      int    `json:"status"`
	GRPCStatus  string `json:"grpcStatus"`
	GRPCMessage string `json:"grpcMessage"`
	Details     string `json:"details"`
	Code        string `json:"code"`
	Error       string `json:"error"`
}

func TestBrowserRPC(t *testing.T) {
	browsertest.Chromium(t)
	srv := start(t)
	steps := browsertest.NewSite[[]rpcStep](t, func() string { return fmt.Sprintf(rpcPage, srv.URL) }).Visit(t)
	got := map[string]rpcStep{}
	for _, s := range steps {
		got[s.Name] = s
	}
	if s := got["grpc-web"]; s.Error != "" || s.Status != 200 || s.GRPCStatus != "5" || !strings.Contains(s.GRPCMessage, "QUERY-SFeaa") || s.Details == "" {
		t.Errorf("gRPC-Web from the browser: %+v", s)
	}
	if s := got["connect"]; s.Error != "" || s.Status != 404 || s.Code != "not_found" {
		t.Errorf("Connect from the browser: %+v", s)
	}
}
