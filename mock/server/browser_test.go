//go:build browser

package server_test

// The CORS test a unit test cannot fake: a real headless Chromium loads a
// page from one origin and calls the mock on another with fetch, with
// credentials and custom headers (so every call is preflighted), and the
// page cannot drive the admin API. Run with `make browser-test` (needs
// Debian's chromium; skipped when it is absent).

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

	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/server"
)

const page = `<!doctype html><meta charset="utf-8"><title>idpmock CORS</title><script>
const mock = %q;
async function step(name, f) {
  try { return {name, ...(await f())}; } catch (e) { return {name, error: String(e)}; }
}
(async () => {
  const auth = {"Authorization": "Bearer browser-token"};
  const out = [];
  out.push(await step("create", async () => {
    const r = await fetch(mock + "/fake/things", {method: "POST", credentials: "include",
      headers: {...auth, "Content-Type": "application/json", "X-Custom": "1"}, body: JSON.stringify({name: "from the browser"})});
    return {status: r.status, body: await r.json()};
  }));
  const id = out[0].body && out[0].body.id;
  out.push(await step("read", async () => {
    const r = await fetch(mock + "/fake/things/" + id, {credentials: "include", headers: auth});
    return {status: r.status, body: await r.json()};
  }));
  out.push(await step("prefer", async () => {
    const r = await fetch(mock + "/fake/things/" + id, {headers: {...auth, "Prefer": "code=429"}});
    return {status: r.status, retryAfter: r.headers.get("Retry-After"), applied: r.headers.get("Preference-Applied")};
  }));
  out.push(await step("delete", async () => {
    const r = await fetch(mock + "/fake/things/" + id, {method: "DELETE", credentials: "include", headers: auth});
    return {status: r.status};
  }));
  out.push(await step("admin read", async () => {
    const r = await fetch(mock + "/__mock/clock");
    return {status: r.status};
  }));
  out.push(await step("admin reset", async () => {
    const r = await fetch(mock + "/__mock/reset", {method: "POST", mode: "no-cors"});
    return {status: r.status, type: r.type};
  }));
  await fetch("/report", {method: "POST", body: JSON.stringify(out)});
})();
</script>`

type step struct {
	Name       string         `json:"name"`
	Status     int            `json:"status"`
	Body       map[string]any `json:"body"`
	RetryAfter string         `json:"retryAfter"`
	Applied    string         `json:"applied"`
	Error      string         `json:"error"`
}

// chromiumBin finds a headless-capable Chromium, or skips the test.
func chromiumBin(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("no chromium on PATH (apt-get install -y chromium)")
	return ""
}

// site serves a page (set later through the returned pointer, once the
// mock's URL is known) and collects what the page reports.
func newSite(t *testing.T) (*httptest.Server, *string, chan []step) {
	t.Helper()
	html := new(string)
	report := make(chan []step, 1)
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, *html)
		case "/report":
			raw, _ := io.ReadAll(r.Body)
			var steps []step
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
	return site, html, report
}

// browse opens the site in headless Chromium and returns the page's report.
func browse(t *testing.T, site *httptest.Server, report chan []step) []step {
	t.Helper()
	bin := chromiumBin(t)
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
	select {
	case steps := <-report:
		return steps
	case <-ctx.Done():
		t.Fatalf("no report from the page; chromium said:\n%s", stderr.String())
	}
	return nil
}

func TestBrowserCORS(t *testing.T) {
	chromiumBin(t)
	srv := start(t)
	site, html, report := newSite(t)
	*html = fmt.Sprintf(page, srv.URL)
	steps := browse(t, site, report)
	got := map[string]step{}
	for _, s := range steps {
		got[s.Name] = s
	}
	tests := []struct {
		name   string
		status int
		check  func(step) string
	}{
		{"create", 201, func(s step) string {
			if s.Body["name"] != "from the browser" {
				return "body not read"
			}
			return ""
		}},
		{"read", 200, nil},
		{"prefer", 429, func(s step) string {
			if s.RetryAfter == "" || s.Applied != "code=429" {
				return "Retry-After / Preference-Applied not exposed to the page"
			}
			return ""
		}},
		{"delete", 204, nil},
		{"admin read", 0, func(s step) string {
			if s.Error == "" {
				return "the page could read the admin API"
			}
			return ""
		}},
		{"admin reset", 0, nil}, // opaque to the page; the journal below shows it was refused
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := got[tt.name]
			if !ok {
				t.Fatalf("step missing from %+v", steps)
			}
			if tt.status != 0 && (s.Status != tt.status || s.Error != "") {
				t.Errorf("status %d error %q, want %d", s.Status, s.Error, tt.status)
			}
			if tt.check != nil {
				if msg := tt.check(s); msg != "" {
					t.Errorf("%s: %+v", msg, s)
				}
			}
		})
	}
	// The cross-origin reset reached the mock but was refused: the journal
	// (which a reset clears) still holds the page's calls.
	srv.Verify(t, "createThing", 1)
	srv.Verify(t, "deleteThing", 1)
	if n := srv.Journal().Count(journal.Query{Method: "OPTIONS"}); n != 0 {
		t.Errorf("%d preflights journaled", n)
	}
}

const adminPage = `<!doctype html><meta charset="utf-8"><title>idpmock admin CORS</title><script>
const mock = %q;
async function step(name, f) {
  try { return {name, ...(await f())}; } catch (e) { return {name, error: String(e)}; }
}
(async () => {
  const out = [];
  out.push(await step("clock with token", async () => {
    const r = await fetch(mock + "/__mock/clock", {headers: {"Authorization": "Bearer dev"}});
    return {status: r.status, body: await r.json()};
  }));
  out.push(await step("advance with token", async () => {
    const r = await fetch(mock + "/__mock/clock", {method: "PUT",
      headers: {"Authorization": "Bearer dev", "Content-Type": "application/json"}, body: JSON.stringify({advance: "1h"})});
    return {status: r.status, body: await r.json()};
  }));
  out.push(await step("wrong token", async () => {
    const r = await fetch(mock + "/__mock/clock", {headers: {"Authorization": "Bearer nope"}});
    return {status: r.status};
  }));
  await fetch("/report", {method: "POST", body: JSON.stringify(out)});
})();
</script>`

// --admin-cors: a listed origin's page drives the admin API with the token;
// the same page from an unlisted origin cannot.
func TestBrowserAdminCORS(t *testing.T) {
	chromiumBin(t)
	listed, listedHTML, listedReport := newSite(t)
	other, otherHTML, otherReport := newSite(t)
	srv := start(t, withConfig(func(c *server.Config) {
		c.Admin.Token, c.Admin.CORSOrigins = "dev", []string{listed.URL}
	}))
	*listedHTML = fmt.Sprintf(adminPage, srv.URL)
	*otherHTML = *listedHTML

	for _, c := range []struct {
		name   string
		site   *httptest.Server
		report chan []step
		want   map[string]int // step → status; 0 means the browser refused it
	}{
		{"listed origin", listed, listedReport, map[string]int{"clock with token": 200, "advance with token": 200, "wrong token": 401}},
		{"other origin", other, otherReport, map[string]int{"clock with token": 0, "advance with token": 0, "wrong token": 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			steps := browse(t, c.site, c.report)
			if len(steps) != len(c.want) {
				t.Fatalf("steps %+v", steps)
			}
			for _, s := range steps {
				want := c.want[s.Name]
				if want == 0 && s.Error == "" {
					t.Errorf("%s: the page read the admin API (%d) from an unlisted origin", s.Name, s.Status)
				}
				if want != 0 && (s.Status != want || s.Error != "") {
					t.Errorf("%s: status %d error %q, want %d", s.Name, s.Status, s.Error, want)
				}
			}
		})
	}
	// Only the listed page's PUT moved the clock.
	if off := srv.Clock().State().Offset; off < 59*time.Minute || off > 61*time.Minute {
		t.Errorf("clock offset %s, want 1h", off)
	}
}
