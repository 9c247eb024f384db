//go:build browser

package zitadel_test

// gRPC-Web and Connect from a real headless Chromium on another origin:
// the preflight passes, and the page can read the status, message and
// details headers a browser RPC client needs. Run with `make browser-test`.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"
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
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("no chromium on PATH (apt-get install -y chromium)")
	}
	srv := start(t)
	report := make(chan []rpcStep, 1)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprintf(w, rpcPage, srv.URL)
		case "/report":
			raw, _ := io.ReadAll(r.Body)
			var steps []rpcStep
			if err := json.Unmarshal(raw, &steps); err != nil {
				t.Errorf("report %s: %v", raw, err)
			}
			select {
			case report <- steps:
			default:
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(site.Close)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--no-first-run", "--user-data-dir="+t.TempDir(), site.URL+"/")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()

	var steps []rpcStep
	select {
	case steps = <-report:
	case <-ctx.Done():
		t.Fatalf("no report from the page; chromium said:\n%s", stderr.String())
	}
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
