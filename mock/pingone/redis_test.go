package pingone_test

import (
	"context"
	"fmt"
	"github.com/idpmock/idpmock/mock/internal/redistest"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/pingone"
	"github.com/idpmock/idpmock/mock/server"
	"github.com/idpmock/idpmock/mock/state/stores"
)

// replicated makes start run two mocks sharing one Redis, behind a front
// that sends each request to the other one (TestReplicasOnRedis).
var replicated bool

var prefixes atomic.Int64

// openShared opens n backends on the test Redis under a prefix of their
// own: n replicas of one mock, apart from every other test's.
func openShared(t *testing.T, n int) []*stores.Backend {
	t.Helper()
	addr := redistest.Addr(t)
	prefix := fmt.Sprintf("idpmock-test:pingone:%d:%d:", time.Now().UnixNano(), prefixes.Add(1))
	bs := make([]*stores.Backend, n)
	for i := range bs {
		b, err := stores.Open(context.Background(), "redis://"+addr+"/0", stores.Options{Prefix: prefix})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Close) // after the servers, which Start's cleanups stop first
		bs[i] = b
	}
	return bs
}

// replicas starts one mock per backend, clocks frozen at at, seeded once.
func replicas(t *testing.T, opts pingone.Options, at time.Time, bs []*stores.Backend, edit func(*server.Config)) []*testServer {
	t.Helper()
	srvs := make([]*testServer, len(bs))
	for i, b := range bs {
		srvs[i] = mocktest.Start(t, mocktest.WithVendors(pingone.Factory(opts)),
			mocktest.WithConfig(func(c *server.Config) {
				c.CORS, c.Stores = false, b
				if edit != nil {
					edit(c)
				}
			}))
		srvs[i].Clock().Freeze()
		srvs[i].Clock().Set(at)
	}
	reseed(t, srvs[0])
	return srvs
}

// startReplicas is start on two replicas sharing Redis: requests alternate
// between them through a front whose URL the returned server carries; the
// server's Mock and Clock are the first replica's, whose clock the front
// copies to the second before each request (each replica has its own
// clock until the clock is shared).
func startReplicas(t *testing.T, opts pingone.Options, at time.Time) *testServer {
	t.Helper()
	srvs := replicas(t, opts, at, openShared(t, 2), nil)
	var proxies [2]*httputil.ReverseProxy
	for i, s := range srvs {
		u, err := url.Parse(s.URL)
		if err != nil {
			t.Fatal(err)
		}
		proxies[i] = httputil.NewSingleHostReverseProxy(u)
	}
	var n atomic.Uint64
	var served [2]atomic.Int64
	t.Cleanup(func() { t.Logf("requests served by each replica: %d, %d", served[0].Load(), served[1].Load()) })
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := n.Add(1) % 2
		served[i].Add(1)
		if i == 1 {
			syncClock(srvs[0].Clock(), srvs[1].Clock())
		}
		proxies[i].ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	p := *srvs[0]
	p.URL = front.URL
	return &p
}

func syncClock(from, to *clock.Controlled) {
	st := from.State()
	ch := clock.Change{Reset: true, Advance: &st.Offset}
	if st.Frozen {
		frozen := true
		ch = clock.Change{Reset: true, Freeze: &frozen, Set: &st.Now}
	}
	_ = to.Change(ch)
}

// TestReplicasOnRedis runs the package's behaviour tests against two
// replicas sharing one Redis, every other request going to the other
// replica: several replicas behave as one PingOne.
func TestReplicasOnRedis(t *testing.T) {
	redistest.Addr(t)
	replicated = true
	defer func() { replicated = false }()
	tests := []struct {
		name string
		run  func(*testing.T)
	}{
		{"Lifecycle", TestLifecycle},
		{"DerivedFields", TestDerivedFields},
		{"AnonymousSession", TestAnonymousSession},
		{"UserAgents", TestUserAgents},
		{"LocationsCap", TestLocationsCap},
		{"SessionToken", TestSessionToken},
		{"UserSessions", TestUserSessions},
		{"Expiry", TestExpiry},
		{"EnvironmentIsolation", TestEnvironmentIsolation},
		{"KnownEnvironmentsOnly", TestKnownEnvironmentsOnly},
		{"StateRoundTrip", TestStateRoundTrip},
		{"UserCapUnderConcurrency", TestUserCapUnderConcurrency},
		{"UserCapInStateDocument", TestUserCapInStateDocument},
		{"IdleTimeoutProperty", TestIdleTimeoutProperty},
		{"UpdatePastYear9999", TestUpdatePastYear9999},
		{"Errors", TestErrors},
		{"ErrorMessages", TestErrorMessages},
		{"SeedExamples", TestSeedExamples},
		{"PingOneGoSDK", TestPingOneGoSDK},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.run)
	}
}

// send is one request for the concurrency tests (call is for one goroutine:
// it fails the test from the calling goroutine).
func send(srv *testServer, method, path, body string, hdr ...string) (int, string, error) {
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Authorization", "Bearer test-access-token")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := srv.AnonymousClient().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw), err
}

// race runs n sends at once, spread over srvs, and counts the statuses.
func race(t *testing.T, srvs []*testServer, n int, req func(i int) (method, path, body string, hdr []string)) map[int]int {
	t.Helper()
	var mu sync.Mutex
	got := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			method, path, body, hdr := req(i)
			<-start
			status, raw, err := send(srvs[i%len(srvs)], method, path, body, hdr...)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			got[status]++
			if status >= 500 {
				t.Errorf("%s %s: %d %s", method, path, status, raw)
			}
		}()
	}
	close(start)
	wg.Wait()
	return got
}

// holders counts the sessions of a state dump that hold token.
func holders(t *testing.T, srv *testServer, token string) int {
	t.Helper()
	st, err := srv.Mock.DumpState(context.Background())
	must(t, err)
	return strings.Count(string(st.Vendors["pingone"]), `"token":`+quoteJSON(token))
}

// TestTokenRaceAcrossReplicas: replicas claiming one token at once (by
// create or by update) leave it to at most one live session; a claim that
// loses answers PingOne's 400.
func TestTokenRaceAcrossReplicas(t *testing.T) {
	srvs := replicas(t, pingone.Options{}, t0, openShared(t, 2), nil)
	const n = 16
	// Anonymous sessions: no user cap evicts any of them.
	anon := func(token string) string {
		return `{"activeAt": "2024-05-01T12:00:00Z", "userAgent": "ua", "token": ` + quoteJSON(token) + `}`
	}
	got := race(t, srvs, n, func(int) (string, string, string, []string) {
		return http.MethodPost, sessionsPath, anon("raced"), nil
	})
	t.Logf("%d creates claiming one token: %v", n, got)
	if got[http.StatusCreated] > 1 || got[http.StatusCreated]+got[http.StatusBadRequest] != n {
		t.Errorf("creates claiming one token: %v, want at most one 201, the rest 400", got)
	}
	if h := holders(t, srvs[0], "raced"); h != got[http.StatusCreated] {
		t.Errorf("%d sessions hold the token, want %d", h, got[http.StatusCreated])
	}

	for i := range n {
		create(t, srvs[i%2], anon(fmt.Sprintf("own-%d", i)))
	}
	got = race(t, srvs, n, func(i int) (string, string, string, []string) {
		return http.MethodPut, sessionsPath + "/me", anon("rotated"), []string{"Cookie", fmt.Sprintf("ST=own-%d", i)}
	})
	t.Logf("%d updates claiming one token: %v", n, got)
	if got[http.StatusOK] > 1 || got[http.StatusOK]+got[http.StatusBadRequest] != n {
		t.Errorf("updates claiming one token: %v, want at most one 200, the rest 400", got)
	}
	if h := holders(t, srvs[0], "rotated"); h != got[http.StatusOK] {
		t.Errorf("%d sessions hold the token, want %d", h, got[http.StatusOK])
	}
	// A losing update left its session as it was, its own token included.
	lost := 0
	for i := range n {
		if status, _, _ := send(srvs[i%2], http.MethodGet, sessionsPath+"/me", "", "Cookie", fmt.Sprintf("ST=own-%d", i)); status == http.StatusOK {
			lost++
		}
	}
	if lost != n-got[http.StatusOK] {
		t.Errorf("%d sessions still answer to their own token, want %d", lost, n-got[http.StatusOK])
	}
}

// TestCapsAcrossReplicas: the per-environment cap (--max-sessions) and the
// total one (--max-total-sessions) hold across replicas creating at once:
// exactly the cap succeeds, the rest get PingOne's 429 naming the cap.
func TestCapsAcrossReplicas(t *testing.T) {
	const n = 24
	tests := []struct {
		name  string
		edit  func(*server.Config)
		limit int    // creates that succeed (the fixtures hold 1 session, in another environment)
		says  string // in the 429's detail
	}{
		{"per environment", func(c *server.Config) { c.MaxSessions = 5 }, 5, "per environment"},
		{"in total", func(c *server.Config) { c.MaxTotalSessions = 6 }, 5, "in total"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srvs := replicas(t, pingone.Options{}, t0, openShared(t, 2), tc.edit)
			path := "/v1/environments/" + otherEnvID + "/sessions"
			body := `{"activeAt": "2024-05-01T12:00:00Z", "userAgent": "` + firefoxMac + `"}`
			got := race(t, srvs, n, func(int) (string, string, string, []string) { return http.MethodPost, path, body, nil })
			if got[http.StatusCreated] != tc.limit || got[http.StatusTooManyRequests] != n-tc.limit {
				t.Errorf("statuses %v, want %d × 201 and %d × 429", got, tc.limit, n-tc.limit)
			}
			b := errorBody(t, call(t, srvs[1], http.MethodPost, path, body), http.StatusTooManyRequests, "REQUEST_LIMITED")
			if !contains(str(b, "details.0.message"), tc.says) {
				t.Errorf("429 detail %q does not say %q", str(b, "details.0.message"), tc.says)
			}
		})
	}
}

// countingClock counts the reads of the vendor's clock; a shared clock is
// read once per request however often the vendor asks (clock.Contextual).
type countingClock struct {
	inner clock.Clock
	n     atomic.Int64
}

func (c *countingClock) Now() time.Time { c.n.Add(1); return c.inner.Now() }

func (c *countingClock) NowContext(ctx context.Context) time.Time {
	c.n.Add(1)
	return clock.Now(ctx, c.inner)
}

// TestRoundTripsPerOperation pins the Redis round trips of each HTTP
// operation: the vendor's store only (the vendor gets a backend of its
// own, so the server's journal, overrides and clock do not count), and,
// apart, whether the request reads the clock (once per request when the
// clock is shared: piggybacked on the first store read).
func TestRoundTripsPerOperation(t *testing.T) {
	b := openShared(t, 1)[0]
	cc := &countingClock{}
	srv := mocktest.Start(t, mocktest.WithVendors(func(d server.Deps) (server.Vendor, error) {
		cc.inner, d.Clock, d.Stores = d.Clock, cc, b
		return pingone.New(d, pingone.Options{})
	}), mocktest.WithConfig(func(c *server.Config) { c.CORS = false }))
	srv.Clock().Freeze()
	srv.Clock().Set(t0)
	reseed(t, srv)

	users := "/v1/environments/" + envID + "/users/"
	var id, tokID string // a session without token, one with token tok
	for range 9 {        // the seeded user has 1 session: 10 with these
		create(t, srv, sessionJSON(t0, "", ""))
	}
	tests := []struct {
		name                 string
		method, body, ct     string
		path                 func() string
		cookie               string
		status, trips, clock int
		after                func(r response)
	}{
		{name: "create", method: http.MethodPost, path: func() string { return "/v1/environments/" + otherEnvID + "/sessions" },
			body: sessionJSON(t0, "", ""), status: 201, trips: 1, clock: 1, after: func(r response) { id = str(r.Body, "id") }},
		{name: "create with token", method: http.MethodPost, path: func() string { return "/v1/environments/" + otherEnvID + "/sessions" },
			body: `{"activeAt": "2024-05-01T12:00:00Z", "userAgent": "ua", "token": "tok"}`, status: 201, trips: 2, clock: 1,
			after: func(r response) { tokID = str(r.Body, "id") }},
		{name: "create, user at 10 (evicts the oldest)", method: http.MethodPost, path: func() string { return sessionsPath },
			body: sessionJSON(t0, "", ""), status: 201, trips: 6, clock: 1},
		{name: "read", method: http.MethodGet, path: func() string { return "/v1/environments/" + otherEnvID + "/sessions/" + id },
			status: 200, trips: 1, clock: 1},
		{name: "read by token", method: http.MethodGet, path: func() string { return "/v1/environments/" + otherEnvID + "/sessions/me" },
			cookie: "tok", status: 200, trips: 1, clock: 1},
		{name: "update", method: http.MethodPut, path: func() string { return "/v1/environments/" + otherEnvID + "/sessions/" + id },
			body: sessionJSON(t0, "", ""), status: 200, trips: 2, clock: 1},
		{name: "update giving another user (user cap checked)", method: http.MethodPut,
			path: func() string { return "/v1/environments/" + otherEnvID + "/sessions/" + id },
			body: strings.Replace(sessionJSON(t0, "", ""), userID, otherUser, 1), status: 200, trips: 3, clock: 1},
		{name: "update by token", method: http.MethodPut, path: func() string { return "/v1/environments/" + otherEnvID + "/sessions/me" },
			cookie: "tok", body: `{"activeAt": "2024-05-01T12:00:00Z", "userAgent": "ua2"}`, status: 200, trips: 2, clock: 1},
		{name: "update by token, same token", method: http.MethodPut, path: func() string { return "/v1/environments/" + otherEnvID + "/sessions/me" },
			cookie: "tok", body: `{"activeAt": "2024-05-01T12:00:00Z", "userAgent": "ua2", "token": "tok"}`, status: 200, trips: 2, clock: 1},
		{name: "update by token, new token", method: http.MethodPut, path: func() string { return "/v1/environments/" + otherEnvID + "/sessions/me" },
			cookie: "tok", body: `{"activeAt": "2024-05-01T12:00:00Z", "userAgent": "ua2", "token": "tok2"}`, status: 200, trips: 4, clock: 1},
		{name: "sign out", method: http.MethodPost, ct: logout, path: func() string { return "/v1/environments/" + otherEnvID + "/sessions/" + id },
			status: 204, trips: 2, clock: 1},
		{name: "sign out by token", method: http.MethodPost, ct: logout, path: func() string { return "/v1/environments/" + otherEnvID + "/sessions/me" },
			cookie: "tok2", status: 204, trips: 2, clock: 1},
		{name: "user sessions", method: http.MethodGet, path: func() string { return users + userID + "/sessions" },
			status: 200, trips: 1, clock: 0},
		{name: "user session", method: http.MethodGet, path: func() string { return "/v1/environments/" + otherEnvID + "/users/" + otherUser + "/sessions/" + id },
			status: 200, trips: 1, clock: 0},
		{name: "delete user session", method: http.MethodDelete, path: func() string { return "/v1/environments/" + otherEnvID + "/users/" + otherUser + "/sessions/" + id },
			status: 204, trips: 2, clock: 0},
		{name: "delete by token", method: http.MethodDelete, path: func() string { return "/v1/environments/" + otherEnvID + "/sessions/me" },
			cookie: "tok2", status: 204, trips: 2, clock: 1},
		{name: "read, gone", method: http.MethodGet, path: func() string { return "/v1/environments/" + otherEnvID + "/sessions/" + tokID },
			status: 404, trips: 1, clock: 0},
	}
	for _, tc := range tests {
		var hdr []string
		if tc.cookie != "" {
			hdr = append(hdr, "Cookie", "ST="+tc.cookie)
		}
		if tc.ct != "" {
			hdr = append(hdr, "Content-Type", tc.ct)
		}
		trips0, clock0 := b.RoundTrips(), cc.n.Load()
		r := call(t, srv, tc.method, tc.path(), tc.body, hdr...)
		trips, clocked := int(b.RoundTrips()-trips0), min(int(cc.n.Load()-clock0), 1)
		t.Logf("%-48s %d store round trips, %d clock read", tc.name, trips, clocked)
		if r.Status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, r.Status, tc.status, r.Raw)
		}
		if trips != tc.trips || clocked != tc.clock {
			t.Errorf("%s: %d store round trips and %d clock read, want %d and %d", tc.name, trips, clocked, tc.trips, tc.clock)
		}
		if tc.after != nil {
			tc.after(r)
		}
	}
}

// TestStoreDown: while Redis is down every operation answers PingOne's 503
// (with Retry-After), and the mock serves again once Redis is back.
func TestStoreDown(t *testing.T) {
	redistest.Addr(t)
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	addr := ln.Addr().String()
	_, port, _ := net.SplitHostPort(addr)
	ln.Close()
	dir := t.TempDir()
	var cmd *exec.Cmd
	up := func() {
		cmd = exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", dir)
		must(t, cmd.Start())
		for range 200 {
			if c, err := net.Dial("tcp", addr); err == nil {
				c.Close()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatal("redis-server did not start")
	}
	down := func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}
	up()
	t.Cleanup(down)
	b, err := stores.Open(context.Background(), "redis://"+addr+"/0", stores.Options{Timeout: 300 * time.Millisecond})
	must(t, err)
	t.Cleanup(b.Close)
	srv := replicas(t, pingone.Options{}, t0, []*stores.Backend{b}, nil)[0]
	id := str(create(t, srv, sessionJSON(t0, "", `"token": "tok",`)), "id")

	down()
	for _, op := range []struct{ method, path, body, ct string }{
		{http.MethodPost, sessionsPath, sessionJSON(t0, "", ""), ""},
		{http.MethodGet, sessionsPath + "/" + id, "", ""},
		{http.MethodGet, sessionsPath + "/me", "", ""},
		{http.MethodPut, sessionsPath + "/" + id, sessionJSON(t0, "", ""), ""},
		{http.MethodPut, sessionsPath + "/me", sessionJSON(t0, "", `"token": "tok2",`), ""},
		{http.MethodPost, sessionsPath + "/" + id, "", logout},
		{http.MethodDelete, sessionsPath + "/me", "", ""},
		{http.MethodGet, "/v1/environments/" + envID + "/users/" + userID + "/sessions", "", ""},
		{http.MethodDelete, "/v1/environments/" + envID + "/users/" + userID + "/sessions/" + id, "", ""},
	} {
		hdr := []string{"Cookie", "ST=tok"}
		if op.ct != "" {
			hdr = append(hdr, "Content-Type", op.ct)
		}
		r := call(t, srv, op.method, op.path, op.body, hdr...)
		errorBody(t, r, http.StatusServiceUnavailable, "UNEXPECTED_ERROR")
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s: 503 without Retry-After", op.method, op.path)
		}
	}

	up() // empty: it saved nothing
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := call(t, srv, http.MethodPost, sessionsPath, sessionJSON(t0, "", ""))
		if r.Status == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d after Redis came back: %s", r.Status, r.Raw)
		}
		time.Sleep(20 * time.Millisecond)
	}
	errorBody(t, call(t, srv, http.MethodGet, sessionsPath+"/"+id, ""), http.StatusNotFound, "NOT_FOUND")
}

// TestJoiningReplicaKeepsSessions: a replica that starts on a store others
// already seeded (or restarts) only reloads the fixtures' environments and
// users: every session stays, as it was.
func TestJoiningReplicaKeepsSessions(t *testing.T) {
	bs := openShared(t, 2)
	opts := pingone.Options{BaseURL: "https://api.pingone.com/v1"} // the same links from both
	first := replicas(t, opts, t0, bs[:1], nil)[0]
	id := str(create(t, first, sessionJSON(t0, "", `"token": "kept",`)), "id")
	before := call(t, first, http.MethodGet, sessionsPath+"/"+id, "")
	mustStatus(t, before, http.StatusOK)

	joined := mocktest.Start(t, mocktest.WithVendors(pingone.Factory(opts)),
		mocktest.WithConfig(func(c *server.Config) { c.CORS, c.Stores = false, bs[1] }))
	joined.Clock().Freeze()
	joined.Clock().Set(t0)
	for _, p := range []string{sessionsPath + "/" + id, sessionsPath + "/" + seededSessionID} {
		for _, srv := range []*testServer{first, joined} {
			mustStatus(t, call(t, srv, http.MethodGet, p, ""), http.StatusOK)
		}
	}
	jsonEqual(t, call(t, joined, http.MethodGet, sessionsPath+"/me", "", "Cookie", "ST=kept").Raw, string(before.Raw))
}
