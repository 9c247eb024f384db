//go:build browser

package mock_test

// The dashboard (/__mock/ui/) in a real headless Chromium, against the real
// vendors: the page asks for the admin token, shows a login driven from its
// own origin as it happens, forces a 429 through its override form, shows a
// ZITADEL session expire when its clock buttons move time, and stays light
// with 10,000 requests. Screenshots of every view go to $IDPMOCK_ARTIFACTS
// (default testdata/out, not committed). Run with `make browser-test`.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/idpmock/idpmock/mock/internal/browsertest"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/server"
)

const dashToken = "dash-admin-token"

func artifacts(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("IDPMOCK_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "out")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browse starts a fresh headless Chromium for the test.
func browse(t *testing.T, width, height int) context.Context {
	t.Helper()
	actx, cancel := chromedp.NewExecAllocator(context.Background(), browsertest.AllocatorOptions(t, width, height)...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancel)
	// The first run starts the browser, which lives as long as its context:
	// no timeout on that one; each later step gets its own (see run).
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// get runs one action that returns a value, within 30 s.
func get[T any](t *testing.T, ctx context.Context, what string, a chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, a)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

// run runs steps in order, within 30 s.
func run(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	get(t, ctx, what, chromedp.Steps(steps...))
}

// void drops an action's value, to run it among steps.
func void[T any](a chromedp.Action[T]) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := a(ctx, tg)
		return chromedp.Void{}, err
	}
}

// until polls a JavaScript expression until it is true.
func until(expr string) chromedp.Action[chromedp.Void] {
	return void(chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(15*time.Second)))
}

// js evaluates an expression (awaiting a promise) for its effect.
func js(expr string) chromedp.Action[chromedp.Void] {
	return void(chromedp.Evaluate[any](expr, chromedp.EvalAwaitPromise))
}

func waitJS(t *testing.T, ctx context.Context, what, expr string) {
	t.Helper()
	run(t, ctx, what, until(expr))
}

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	run(t, ctx, "settle", js(`document.querySelector('#toast').className = 'toast'`), chromedp.Sleep(300*time.Millisecond))
	png := get(t, ctx, "screenshot "+name, chromedp.CaptureScreenshot())
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", filepath.Join(dir, name))
}

// rowsText is every drawn traffic row's text, newest first.
const rowsText = `[...document.querySelectorAll('#spacer .row')].sort((a,b)=>a.dataset.seq-b.dataset.seq).reverse().map(r => r.innerText.replace(/\s+/g,' '))`

// fromPage runs a script in the page (so its fetches come from the page's
// origin) and returns its JSON result.
func fromPage[T any](t *testing.T, ctx context.Context, what, script string) T {
	t.Helper()
	return get(t, ctx, what, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
}

func TestBrowserDashboard(t *testing.T) {
	// The server first: cleanups run in reverse, so the browser (and its
	// long poll) is gone before the server closes.
	srv := mocktest.Start(t, mocktest.WithConfig(func(c *server.Config) { c.Admin.Token = dashToken }))
	ctx := browse(t, 1440, 900)
	out := artifacts(t)

	// The page asks for the token once.
	run(t, ctx, "open the dashboard",
		chromedp.Navigate(srv.URL+"/__mock/ui/"),
		chromedp.WaitVisible(chromedp.CSS("#token-input")),
		chromedp.SendKeys(chromedp.CSS("#token-input"), dashToken),
		chromedp.Submit(chromedp.CSS("#token-input")),
		chromedp.WaitVisible(chromedp.CSS("#live.on")),
	)

	// An idle page waits in one long poll instead of polling in a loop.
	run(t, ctx, "idle", chromedp.Sleep(1500*time.Millisecond))
	if n := fromPage[int](t, ctx, "journal calls", `performance.getEntriesByType('resource').filter(r => r.name.includes('/__mock/journal')).length`); n > 3 {
		t.Errorf("%d journal calls in 1.5 s from an idle page", n)
	}

	// A login from the page's origin: ZITADEL (user + password, 5 minute
	// lifetime) and a PingOne session read, plus one invalid request and
	// one near miss.
	type loginResult struct {
		Create, Get, Ping, Bad, Near int
		ID                           string
	}
	login := fromPage[loginResult](t, ctx, "log in", fmt.Sprintf(`(async () => {
		const h = {"Authorization": "Bearer test-token", "Content-Type": "application/json"};
		const c = await fetch("/v2/sessions", {method: "POST", headers: h, body: JSON.stringify({
			checks: {user: {loginName: "mini@mouse.com"}, password: {password: "Password1!"}}, lifetime: "300s"})});
		const doc = await c.json();
		const g = await fetch("/v2/sessions/" + doc.sessionId, {headers: h});
		const p = await fetch("/v1/environments/%s/sessions/%s", {headers: h});
		const b = await fetch("/v2/sessions", {method: "POST", headers: h, body: JSON.stringify({checks: {user: {loginName: ""}}})});
		const n = await fetch("/v2/sessions/" + doc.sessionId + "/", {headers: h});
		return {create: c.status, get: g.status, ping: p.status, bad: b.status, near: n.status, id: doc.sessionId};
	})()`, pingEnv, pingSession))
	if login.Create != 201 || login.Get != 200 || login.Ping != 200 || login.Bad != 400 || login.ID == "" {
		t.Fatalf("login from the page: %+v", login)
	}

	// Each request shows up, newest first, with its status.
	waitJS(t, ctx, "five rows", `document.querySelectorAll('#spacer .row').length >= 5`)
	rows := fromPage[[]string](t, ctx, "read rows", rowsText)
	want := []struct{ has []string }{
		{[]string{"GET", "/v2/sessions/" + login.ID + "/", fmt.Sprint(login.Near)}},
		{[]string{"POST", "/v2/sessions", "✗ checks.user.loginName (minLength)", "400"}},
		{[]string{"GET", "/v1/environments/" + pingEnv, "readSession", "200"}},
		{[]string{"GET", "/v2/sessions/" + login.ID, "SessionService_GetSession", "200"}},
		{[]string{"POST", "/v2/sessions", "SessionService_CreateSession", "201"}},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %q, want %d", rows, len(want))
	}
	for i, w := range want {
		for _, s := range w.has {
			if !strings.Contains(rows[i], s) {
				t.Errorf("row %d %q lacks %q", i, rows[i], s)
			}
		}
	}
	// Rows are laid out one under the other (the page's CSP refuses inline
	// style attributes; positions must be set through the CSSOM).
	if tops := fromPage[[]float64](t, ctx, "row positions", `[...document.querySelectorAll('#spacer .row')].map(r => r.getBoundingClientRect().top)`); len(tops) != 5 || tops[0] == tops[1] {
		t.Errorf("rows at %v: stacked", tops)
	}
	// The filters narrow the list: by status class, by text.
	run(t, ctx, "filter 4xx", js(`(s => { s.value = '4'; s.dispatchEvent(new Event('change')) })(document.querySelector('#f-status'))`))
	if n := fromPage[int](t, ctx, "4xx rows", `document.querySelectorAll('#spacer .row').length`); n != 2 {
		t.Errorf("4xx filter: %d rows, want 2", n)
	}
	run(t, ctx, "filter off", js(`(s => { s.value = ''; s.dispatchEvent(new Event('change')) })(document.querySelector('#f-status'))`))
	// Keyboard: the focused list moves its selection with the arrows and
	// shows the selected request; Escape closes it.
	run(t, ctx, "keyboard",
		chromedp.Focus(chromedp.CSS("#list")),
		chromedp.KeyEvent(kb.ArrowDown),
		until(`!document.querySelector('#detail').hidden && document.querySelector('#list').getAttribute('aria-activedescendant') === 'e5'`),
		chromedp.KeyEvent(kb.ArrowDown),
		until(`document.querySelector('#list').getAttribute('aria-activedescendant') === 'e4' && !!document.querySelector('#detail .problem')`),
		chromedp.KeyEvent(kb.Escape),
		until(`document.querySelector('#detail').hidden`),
	)
	// The invalid request stands out and names its field; its details show
	// the vendor's error and redacted secrets.
	invalid := fromPage[int](t, ctx, "invalid rows", `document.querySelectorAll('#spacer .row.invalid').length`)
	if invalid < 1 {
		t.Errorf("no row marked invalid")
	}
	// The login's own details: the password is redacted in the request body.
	run(t, ctx, "open the login",
		js(`document.querySelector('#spacer .row[data-seq="1"]').click()`),
		until(`!document.querySelector('#detail').hidden`),
		js(`document.querySelectorAll('#detail details').forEach(d => d.open = true)`),
	)
	detail := get(t, ctx, "details", chromedp.Text(chromedp.CSS("#detail")))
	if strings.Contains(detail, "Password1!") || !strings.Contains(detail, "Bearer [REDACTED]") || !strings.Contains(detail, "sessionId") {
		t.Errorf("login details (password must be redacted, response shown):\n%s", detail)
	}
	run(t, ctx, "open the invalid request",
		js(`document.querySelector('#spacer .row.invalid .op.bad').click()`),
		chromedp.WaitVisible(chromedp.CSS("#detail .problem")),
	)
	detail = get(t, ctx, "details", chromedp.Text(chromedp.CSS("#detail")))
	for _, s := range []string{"Validation failed", "checks.user.loginName", "Response", `"code": 3`} {
		if !strings.Contains(strings.ToLower(detail), strings.ToLower(s)) {
			t.Errorf("details lack %q:\n%s", s, detail)
		}
	}
	screenshot(t, ctx, out, "traffic.png")

	// A 429 forced through the override form reaches the next request.
	run(t, ctx, "override form",
		chromedp.Navigate(srv.URL+"/__mock/ui/#control"),
		until(`!!document.querySelector('#o-op option[value="readSession"]')`),
		chromedp.SetValue(chromedp.CSS("#o-op"), "readSession"),
		js(`document.querySelector('#o-op').dispatchEvent(new Event('change'))`),
		until(`!!document.querySelector('#o-status option[value="429"]')`),
	)
	statuses := fromPage[[]string](t, ctx, "statuses offered", `[...document.querySelectorAll('#o-status option')].map(o => o.value)`)
	if !strings.Contains(strings.Join(statuses, ","), "200,400,401,403,404,429,500") {
		t.Errorf("statuses offered for readSession: %v", statuses)
	}
	run(t, ctx, "add the override",
		chromedp.SetValue(chromedp.CSS("#o-status"), "429"),
		js(`document.querySelector('#o-status').dispatchEvent(new Event('change'))`),
		chromedp.SetValue(chromedp.CSS("#o-times"), "1"),
		chromedp.Click(chromedp.CSS("#o-submit")),
		chromedp.WaitVisible(chromedp.CSS("#o-msg.ok")),
		chromedp.WaitVisible(chromedp.CSS("#overrides table")),
	)
	msg := get(t, ctx, "override message", chromedp.Text(chromedp.CSS("#o-msg")))
	if !strings.Contains(msg, "429") {
		t.Errorf("override message %q", msg)
	}
	screenshot(t, ctx, out, "control.png")
	after := fromPage[[]int](t, ctx, "call after the override", fmt.Sprintf(`(async () => {
		const h = {"Authorization": "Bearer test-token"};
		const u = "/v1/environments/%s/sessions/%s";
		const a = await fetch(u, {headers: h}); const b = await fetch(u, {headers: h});
		return [a.status, b.status];
	})()`, pingEnv, pingSession))
	if len(after) != 2 || after[0] != 429 || after[1] != 200 {
		t.Errorf("after a times=1 429 override: %v, want [429 200]", after)
	}
	run(t, ctx, "traffic shows the 429",
		chromedp.Navigate(srv.URL+"/__mock/ui/#traffic"),
		until(`[...document.querySelectorAll('#spacer .row')].some(r => r.querySelector('.st').textContent === '429' && r.querySelector('.op').textContent === 'readSession · override ov1')`),
	)

	// Sessions: the ZITADEL session is active, then expired once the clock
	// buttons move time past its 5 minute lifetime.
	sessionRow := fmt.Sprintf(`table[data-vendor="zitadel"] tr[data-session=%q]`, login.ID)
	run(t, ctx, "sessions",
		chromedp.Navigate(srv.URL+"/__mock/ui/#sessions"),
		chromedp.WaitVisible(chromedp.CSS(sessionRow)),
	)
	if state := get(t, ctx, "session class", chromedp.AttributeValue(chromedp.CSS(sessionRow), "class")).Value; state != "state-active" {
		t.Errorf("fresh ZITADEL session: class %q", state)
	}
	run(t, ctx, "advance the clock",
		chromedp.Navigate(srv.URL+"/__mock/ui/#control"),
		chromedp.WaitVisible(chromedp.CSS(`[data-advance="1h"]`)),
		chromedp.Click(chromedp.CSS(`[data-advance="1h"]`)),
		until(`document.querySelector('#clock').classList.contains('moved')`),
		chromedp.Navigate(srv.URL+"/__mock/ui/#sessions"),
		chromedp.WaitVisible(chromedp.CSS(sessionRow+`.state-expired`)),
	)
	if now := srv.Mock.Clock().Now(); time.Until(now) < 59*time.Minute {
		t.Errorf("clock not advanced: %v", now)
	}
	screenshot(t, ctx, out, "sessions.png")

	// Deleting a session from the page removes it from the mock.
	pingRow := fmt.Sprintf(`table[data-vendor="pingone"] tr[data-session=%q]`, pingSession)
	run(t, ctx, "delete a session",
		chromedp.WaitVisible(chromedp.CSS(pingRow)),
		js(fmt.Sprintf(`document.querySelector('%s button').click()`, pingRow)),
		until(fmt.Sprintf(`!document.querySelector('%s') && !!document.querySelector('%s')`, pingRow, sessionRow)),
	)
	if r := do(t, srv, "GET", "/v1/environments/"+pingEnv+"/sessions/"+pingSession, ""); r.status != 404 {
		t.Errorf("deleted session still read: %d", r.status)
	}

	run(t, ctx, "specs",
		chromedp.Navigate(srv.URL+"/__mock/ui/#specs"),
		chromedp.WaitVisible(chromedp.CSS(`.spec[data-vendor="admin"]`)),
	)
	specRows := fromPage[int](t, ctx, "spec rows", `document.querySelectorAll('.spec[data-vendor="zitadel"] tbody tr').length`)
	if specRows != 5 { // the Session Service's five RPCs, each one REST operation
		t.Errorf("zitadel spec lists %d operations, want 5", specRows)
	}
	screenshot(t, ctx, out, "specs.png")

	// More traffic, the Connect face included, for the picture in the docs.
	fromPage[int](t, ctx, "connect calls", `(async () => {
		const h = {"Authorization": "Bearer test-token", "Content-Type": "application/json"};
		await fetch("/zitadel.session.v2.SessionService/ListSessions", {method: "POST", headers: h, body: "{}"});
		await fetch("/zitadel.session.v2.SessionService/GetSession", {method: "POST", headers: h, body: JSON.stringify({sessionId: "nope"})});
		await fetch("/v2/sessions/search", {method: "POST", headers: h, body: "{}"});
		return 0;
	})()`)
	run(t, ctx, "traffic for the docs",
		chromedp.Navigate(srv.URL+"/__mock/ui/#traffic"),
		until(`[...document.querySelectorAll('#spacer .row .face')].some(f => f.textContent === 'connect')`),
		js(`document.querySelector('#spacer .row.invalid .op.bad').click()`),
		chromedp.WaitVisible(chromedp.CSS("#detail .problem")),
	)
	screenshot(t, ctx, out, "traffic-more.png")
	if os.Getenv("IDPMOCK_UPDATE_DOCS") != "" {
		raw, err := os.ReadFile(filepath.Join(out, "traffic-more.png"))
		if err == nil {
			err = os.WriteFile(filepath.Join("..", "docs", "img", "dashboard-traffic.png"), raw, 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}

	// Narrow and dark: the same page still works.
	run(t, ctx, "narrow dark",
		chromedp.EmulateViewport(420, 860),
		chromedp.Navigate(srv.URL+"/__mock/ui/#traffic"),
		chromedp.Click(chromedp.CSS("#theme")), // auto → light
		chromedp.Click(chromedp.CSS("#theme")), // → dark
		until(`document.documentElement.dataset.theme === 'dark' && getComputedStyle(document.body).backgroundColor !== 'rgb(246, 247, 249)'`),
		until(`document.querySelectorAll('#spacer .row').length >= 5`),
		js(`document.querySelector('#spacer .row.invalid .op.bad').click()`),
		chromedp.WaitVisible(chromedp.CSS("#detail .problem")),
	)
	screenshot(t, ctx, out, "traffic-narrow-dark.png")

	// Upload a state document (no vendor named: back to the fixtures, so
	// the deleted PingOne session returns), then reset everything.
	stateFile := filepath.Join(t.TempDir(), "state.json")
	if err := os.WriteFile(stateFile, []byte(`{"vendors":{}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "upload state",
		chromedp.Navigate(srv.URL+"/__mock/ui/#control"),
		chromedp.SetUploadFiles(chromedp.CSS("#upload-state"), []string{stateFile}),
		until(`document.querySelector('#toast').textContent.startsWith('State loaded')`),
	)
	if r := do(t, srv, "GET", "/v1/environments/"+pingEnv+"/sessions/"+pingSession, ""); r.status != 200 {
		t.Errorf("after uploading a fixtures-only state the seeded session reads %d", r.status)
	}
	run(t, ctx, "reset everything",
		chromedp.Click(chromedp.CSS("#reset-all")),
		until(`document.querySelector('#reset-all').textContent.startsWith('Click again')`),
		chromedp.Click(chromedp.CSS("#reset-all")),
		until(`document.querySelector('#toast').textContent === 'Mock reset'`),
		until(`document.querySelector('#traffic-count').textContent === '0'`),
	)
	if n, st := srv.Mock.Journal().Len(), srv.Mock.Clock().State(); n != 0 || st.Offset != 0 {
		t.Errorf("after reset: %d journal entries, clock offset %v", n, st.Offset)
	}
}

// TestBrowserDashboardTenThousand: 10,000 requests in the journal render
// as a virtualised list; the page stays responsive while scrolling.
func TestBrowserDashboardTenThousand(t *testing.T) {
	srv := mocktest.Start(t, mocktest.WithConfig(func(c *server.Config) { c.JournalSize = 10000 }))
	ctx := browse(t, 1280, 800)
	j := srv.Mock.Journal()
	now := time.Now()
	for i := range 10000 {
		e := journal.Entry{At: now, Clock: now, Method: "GET", Vendor: "pingone", Operation: "readSession",
			Path: fmt.Sprintf("/v1/environments/%s/sessions/%d", pingEnv, i), Status: 200, Duration: time.Millisecond,
			Header: map[string][]string{"Authorization": {"Bearer [REDACTED]"}}}
		if i%10 == 0 {
			e.Status = 429
		}
		j.Add(e)
	}
	start := time.Now()
	run(t, ctx, "open with 10,000 requests",
		chromedp.Navigate(srv.URL+"/__mock/ui/"),
		until(`document.querySelector('#traffic-count').textContent === '10000'`),
	)
	loaded := time.Since(start)
	type probeResult struct {
		Rows     int     `json:"rows"`
		ScrollMs float64 `json:"scrollMs"`
		FilterMs float64 `json:"filterMs"`
		Shown    string  `json:"shown"`
		Last     string  `json:"last"`
	}
	probe := fromPage[probeResult](t, ctx, "scroll and filter", `(async () => {
		const vp = document.querySelector('#viewport');
		const frame = () => new Promise(r => requestAnimationFrame(() => r()));
		let t0 = performance.now();
		for (let i = 1; i <= 50; i++) { vp.scrollTop = i * 6000; vp.dispatchEvent(new Event('scroll')); await frame(); }
		const scrollMs = (performance.now() - t0) / 50;
		vp.scrollTop = vp.scrollHeight; vp.dispatchEvent(new Event('scroll')); await frame(); await frame();
		const rows = [...document.querySelectorAll('#spacer .row')];
		const last = rows.length ? rows[rows.length - 1].innerText : '';
		t0 = performance.now();
		const sel = document.querySelector('#f-status'); sel.value = '4'; sel.dispatchEvent(new Event('change'));
		const filterMs = performance.now() - t0;
		return {rows: rows.length, scrollMs, filterMs, shown: document.querySelector('#shown').textContent, last};
	})()`)
	t.Logf("10,000 entries: loaded in %v, %d rows in the DOM, %.1f ms per scroll frame, filter %.1f ms, %s",
		loaded, probe.Rows, probe.ScrollMs, probe.FilterMs, probe.Shown)
	if probe.Rows == 0 || probe.Rows > 200 {
		t.Errorf("%d rows in the DOM for 10,000 entries: not virtualised", probe.Rows)
	}
	if !strings.Contains(probe.Last, "/sessions/0") {
		t.Errorf("scrolled to the bottom, the last row is %q, want the oldest request", probe.Last)
	}
	if probe.Shown != "1000 of 10000" {
		t.Errorf("4xx filter shows %q", probe.Shown)
	}
	if probe.ScrollMs > 100 || probe.FilterMs > 500 {
		t.Errorf("sluggish: %.1f ms per scroll frame, %.1f ms to filter", probe.ScrollMs, probe.FilterMs)
	}
}
