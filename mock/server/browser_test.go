//go:build browser

package server_test

// The CORS test a unit test cannot fake: a real headless Chromium loads a
// page from one origin and calls the mock on another with fetch, with
// credentials and custom headers (so every call is preflighted), and the
// page cannot drive the admin API. Run with `make browser-test` (needs
// Debian's chromium; skipped when it is absent).

import (
	"fmt"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/internal/browsertest"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/mocktest"
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

func TestBrowserCORS(t *testing.T) {
	browsertest.Chromium(t)
	srv := start(t)
	steps := browsertest.NewSite[[]step](t, func() string { return fmt.Sprintf(page, srv.URL) }).Visit(t)
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
	browsertest.Chromium(t)
	var srv *mocktest.Server // started below, once the listed origin is known
	html := func() string { return fmt.Sprintf(adminPage, srv.URL) }
	listed, other := browsertest.NewSite[[]step](t, html), browsertest.NewSite[[]step](t, html)
	srv = start(t, withConfig(func(c *server.Config) {
		c.Admin.Token, c.Admin.CORSOrigins = "dev", []string{listed.URL}
	}))

	for _, c := range []struct {
		name string
		site *browsertest.Site[[]step]
		want map[string]int // step → status; 0 means the browser refused it
	}{
		{"listed origin", listed, map[string]int{"clock with token": 200, "advance with token": 200, "wrong token": 401}},
		{"other origin", other, map[string]int{"clock with token": 0, "advance with token": 0, "wrong token": 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			steps := c.site.Visit(t)
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
