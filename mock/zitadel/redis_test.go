package zitadel_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/idpmock/idpmock/mock/internal/redistest"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"

	sessionpb "github.com/idpmock/idpmock/gen/zitadelpb/zitadel/session/v2"
	"github.com/idpmock/idpmock/gen/zitadelpb/zitadel/session/v2/sessionpbconnect"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/server"
	"github.com/idpmock/idpmock/mock/state/stores"
	"github.com/idpmock/idpmock/mock/zitadel"
)

// The Redis tests run with IDPMOCK_TEST_REDIS (host:port, set by make
// redis-test) and skip without it.

// openBackend opens a Redis backend; replicas of one mock share a prefix,
// each test has its own.
func openBackend(t *testing.T, addr, prefix string) *stores.Backend {
	t.Helper()
	b, err := stores.Open(context.Background(), "redis://"+addr+"/0", stores.Options{Prefix: prefix, Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	return b
}

// replicas starts n ZITADEL mocks on one Redis, as replicas behind a load
// balancer; opts apply to each.
func replicas(t *testing.T, n int, opts ...mocktest.Option) []*mocktest.Server {
	t.Helper()
	addr, prefix := redistest.Addr(t), redistest.Prefix()
	out := make([]*mocktest.Server, n)
	for i := range out {
		b := openBackend(t, addr, prefix)
		o := append([]mocktest.Option{mocktest.WithVendors(zitadel.New), mocktest.WithConfig(func(c *server.Config) { c.Stores = b })}, opts...)
		out[i] = mocktest.Start(t, o...)
	}
	return out
}

// setClocks sets every replica's clock to at, frozen. (Absolute, so it
// holds whether the clocks are per process or one shared clock.)
func setClocks(at time.Time, srvs ...*mocktest.Server) {
	for _, s := range srvs {
		s.Clock().Freeze()
		s.Clock().Set(at)
	}
}

// userCounters reads the login counters from a replica's state document.
func userCounters(t *testing.T, srv *mocktest.Server, id string) (failures int, locked bool) {
	t.Helper()
	var doc struct {
		Users []struct {
			ID               string `json:"id"`
			PasswordFailures int    `json:"passwordFailures"`
			LockedOut        bool   `json:"lockedOut"`
		} `json:"users"`
	}
	if err := json.Unmarshal(srv.State(t).Vendors["zitadel"], &doc); err != nil {
		t.Fatal(err)
	}
	for _, u := range doc.Users {
		if u.ID == id {
			return u.PasswordFailures, u.LockedOut
		}
	}
	return 0, false
}

// Two replicas on one Redis behave as one ZITADEL: each step goes to the
// other replica than the one before.
func TestSharedStoreTwoReplicas(t *testing.T) {
	srvs := replicas(t, 2)
	a, b := srvs[0], srvs[1]
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	setClocks(t0, a, b)

	// Create on a, read on b.
	r := call(t, a, http.MethodPost, "/v2/sessions", `{"checks":{"user":{"loginName":"mini@mouse.com"}},"lifetime":"3600s","metadata":{"k":"AQ=="}}`)
	wantStatus(t, r, http.StatusCreated)
	id, token1 := str(r.body, "sessionId"), str(r.body, "sessionToken")
	g := call(t, b, http.MethodGet, "/v2/sessions/"+id+"?sessionToken="+token1, "")
	wantStatus(t, g, http.StatusOK)
	if str(g.body, "session.factors.user.id") != miniID || str(g.body, "session.factors.user.loginName") != "mini@mouse.com" || str(g.body, "session.metadata.k") != "AQ==" {
		t.Fatalf("b reads %s", g.raw)
	}
	seq := str(g.body, "session.sequence")

	// Both list it, with the same last-event timestamp.
	list := func(srv *mocktest.Server) reply {
		r := call(t, srv, http.MethodPost, "/v2/sessions/search", `{"queries":[{"idsQuery":{"ids":["`+id+`"]}}]}`)
		wantStatus(t, r, http.StatusOK)
		return r
	}
	la, lb := list(a), list(b)
	if str(la.body, "sessions.0.id") != id || str(lb.body, "sessions.0.id") != id {
		t.Fatalf("lists: %s / %s", la.raw, lb.raw)
	}
	if ts := str(la.body, "details.timestamp"); ts != str(lb.body, "details.timestamp") || !mustTime(t, ts).Equal(t0) {
		t.Fatalf("timestamps %s / %s, want both %v", ts, str(lb.body, "details.timestamp"), t0)
	}

	// Wrong passwords on b then a: one counter.
	for i, srv := range []*mocktest.Server{b, a} {
		r = call(t, srv, http.MethodPatch, "/v2/sessions/"+id, `{"checks":{"password":{"password":"wrong"}}}`)
		wantError(t, r, http.StatusBadRequest, 3, "Password is invalid")
		if n, _ := userCounters(t, srvs[1-i], miniID); n != i+1 {
			t.Fatalf("after %d wrong passwords the counter is %d", i+1, n)
		}
	}
	// The right one on b: a new token, the counter back to 0.
	t1 := t0.Add(time.Minute)
	setClocks(t1, a, b)
	r = call(t, b, http.MethodPatch, "/v2/sessions/"+id, `{"checks":{"password":{"password":"Password1!"}}}`)
	wantStatus(t, r, http.StatusOK)
	token2 := str(r.body, "sessionToken")
	if token2 == "" || token2 == token1 {
		t.Fatalf("no new token: %s", r.raw)
	}
	if n, _ := userCounters(t, a, miniID); n != 0 {
		t.Fatalf("counter %d after the right password", n)
	}
	// Token rotation seen by a: the old token is refused, the new one read.
	wantError(t, call(t, a, http.MethodGet, "/v2/sessions/"+id+"?sessionToken="+token1, ""), http.StatusForbidden, 7)
	g = call(t, a, http.MethodGet, "/v2/sessions/"+id+"?sessionToken="+token2, "")
	wantStatus(t, g, http.StatusOK)
	if !has(g.body, "session.factors.password") || str(g.body, "session.sequence") == seq {
		t.Fatalf("a reads %s", g.raw)
	}
	if ts := str(list(b).body, "details.timestamp"); !mustTime(t, ts).Equal(t1) {
		t.Fatalf("timestamp %s after the set at %v", ts, t1)
	}
	wantError(t, call(t, b, http.MethodDelete, "/v2/sessions/"+id, `{"sessionToken":"`+token1+`"}`), http.StatusForbidden, 7)

	// Expiry follows the mock clock: past the lifetime, a set on either fails.
	setClocks(t1.Add(2*time.Hour), a, b)
	wantError(t, call(t, a, http.MethodPatch, "/v2/sessions/"+id, `{"metadata":{"x":"AQ=="}}`), http.StatusBadRequest, 9, "Session has expired")

	// Delete on a with the current token; gone for b.
	wantStatus(t, call(t, a, http.MethodDelete, "/v2/sessions/"+id, `{"sessionToken":"`+token2+`"}`), http.StatusOK)
	wantError(t, call(t, b, http.MethodGet, "/v2/sessions/"+id, ""), http.StatusNotFound, 5)
	if has(list(b).body, "sessions") {
		t.Fatalf("deleted session still listed")
	}
	wantError(t, call(t, b, http.MethodPatch, "/v2/sessions/"+id, `{"metadata":{"x":"AQ=="}}`), http.StatusBadRequest, 9, "Session already terminated")

	// One RPC face (gRPC): created on b, changed on a, read on b.
	ctx := context.Background()
	cb := sessionpbconnect.NewSessionServiceClient(h2c(), b.URL, connect.WithGRPC())
	ca := sessionpbconnect.NewSessionServiceClient(h2c(), a.URL, connect.WithGRPC())
	login := "mickey@mouse.com"
	cr, err := cb.CreateSession(ctx, authed(&sessionpb.CreateSessionRequest{Checks: &sessionpb.Checks{User: &sessionpb.CheckUser{Search: &sessionpb.CheckUser_LoginName{LoginName: login}}}}))
	if err != nil {
		t.Fatal(err)
	}
	_, err = ca.SetSession(ctx, authed(&sessionpb.SetSessionRequest{SessionId: cr.Msg.GetSessionId(), Checks: &sessionpb.Checks{Password: &sessionpb.CheckPassword{Password: "wrong"}}}))
	if connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("wrong password over gRPC: %v", err)
	}
	if n, _ := userCounters(t, b, mickeyID); n != 1 {
		t.Fatalf("mickey's counter %d after a wrong password over gRPC", n)
	}
	gr, err := cb.GetSession(ctx, authed(&sessionpb.GetSessionRequest{SessionId: cr.Msg.GetSessionId()}))
	if err != nil || gr.Msg.GetSession().GetFactors().GetUser().GetLoginName() != login {
		t.Fatalf("gRPC get on b: %v %v", gr, err)
	}
}

// Concurrent wrong passwords through two replicas count exactly once each,
// and the lockout comes at the configured attempt, not one later.
func TestSharedStorePasswordFailuresExact(t *testing.T) {
	for _, c := range []struct {
		max        int
		wantFailed int // answers "wrong password"; the others "locked"
	}{{0, 64}, {5, 5}} {
		t.Run(fmt.Sprintf("maxPasswordAttempts=%d", c.max), func(t *testing.T) {
			dir := copyFixtures(t)
			file := filepath.Join(dir, "zitadel", "instance.json")
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, file, strings.Replace(string(raw), `"maxPasswordAttempts": 5`, fmt.Sprintf(`"maxPasswordAttempts": %d`, c.max), 1))
			srvs := replicas(t, 2, mocktest.WithFixtures(os.DirFS(dir)))
			const n = 64
			ids := make([]string, n)
			for i := range ids {
				ids[i], _ = createMini(t, srvs[i%2], "")
			}
			var wg sync.WaitGroup
			replies := make([]reply, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					replies[i] = call(t, srvs[(i+1)%2], http.MethodPatch, "/v2/sessions/"+ids[i], `{"checks":{"password":{"password":"wrong"}}}`)
				}()
			}
			wg.Wait()
			failed, locked := 0, 0
			for _, r := range replies {
				switch {
				case r.status == http.StatusBadRequest && strings.Contains(r.raw, "Password is invalid"):
					failed++
				case strings.Contains(r.raw, "User is locked"):
					locked++
				default:
					t.Errorf("status %d: %s", r.status, r.raw)
				}
			}
			if failed != c.wantFailed || locked != n-c.wantFailed {
				t.Errorf("%d wrong-password and %d locked answers, want %d and %d", failed, locked, c.wantFailed, n-c.wantFailed)
			}
			got, isLocked := userCounters(t, srvs[0], miniID)
			if got != c.wantFailed || isLocked != (c.max > 0) {
				t.Errorf("counter %d, locked %v; want %d, %v", got, isLocked, c.wantFailed, c.max > 0)
			}
		})
	}
}

// A replica joining a shared store (Reload, not Reset) keeps sessions and
// login counters; a state document round-trips through the store.
func TestSharedStoreJoinAndState(t *testing.T) {
	addr, prefix := redistest.Addr(t), redistest.Prefix()
	start := func() *mocktest.Server {
		b := openBackend(t, addr, prefix)
		return mocktest.Start(t, mocktest.WithVendors(zitadel.New), mocktest.WithConfig(func(c *server.Config) { c.Stores = b }))
	}
	a := start()
	id, _ := createMini(t, a, "")
	wantError(t, call(t, a, http.MethodPatch, "/v2/sessions/"+id, `{"checks":{"password":{"password":"wrong"}}}`), http.StatusBadRequest, 3)
	b := start() // joins: must not wipe what a did
	wantStatus(t, call(t, b, http.MethodGet, "/v2/sessions/"+id, ""), http.StatusOK)
	if n, _ := userCounters(t, b, miniID); n != 1 {
		t.Fatalf("the joining replica reset the counter to %d", n)
	}
	st := b.State(t)
	a.Reset(t)
	wantError(t, call(t, b, http.MethodGet, "/v2/sessions/"+id, ""), http.StatusNotFound, 5)
	a.LoadState(t, st)
	wantStatus(t, call(t, b, http.MethodGet, "/v2/sessions/"+id, ""), http.StatusOK)
	if n, _ := userCounters(t, b, miniID); n != 1 {
		t.Fatalf("counter %d after loading the state on the other replica", n)
	}
}

// TestRoundTripsPerOperation pins the Redis round trips each operation
// costs. The server's shared control plane adds controlTrips to each
// request (see docs/redis.md); the vendor's clock reads are free.
func TestRoundTripsPerOperation(t *testing.T) {
	// The journal entry, written after the answer (the control data comes
	// from the bus, with no read per request).
	const controlTrips = 1
	addr := redistest.Addr(t)
	be := openBackend(t, addr, redistest.Prefix())
	srv := mocktest.Start(t, mocktest.WithVendors(zitadel.New), mocktest.WithConfig(func(c *server.Config) { c.Stores = be }))
	id, _ := createMini(t, srv, "")
	for _, c := range []struct {
		name, method, path, body string
		status                   int
		want                     uint64
	}{
		{"create", http.MethodPost, "/v2/sessions", `{}`, http.StatusCreated, 1},
		{"create with a user check (+ the user's read)", http.MethodPost, "/v2/sessions", `{"checks":{"user":{"loginName":"mini@mouse.com"}}}`, http.StatusCreated, 2},
		{"create with user and password (one user read for both)", http.MethodPost, "/v2/sessions", `{"checks":{"user":{"userId":"` + miniID + `"},"password":{"password":"Password1!"}}}`, http.StatusCreated, 2},
		{"get", http.MethodGet, "/v2/sessions/" + id, "", http.StatusOK, 1},
		{"list", http.MethodPost, "/v2/sessions/search", `{"queries":[{"creatorQuery":{}}]}`, http.StatusOK, 1},
		{"set metadata", http.MethodPatch, "/v2/sessions/" + id, `{"metadata":{"k":"AQ=="}}`, http.StatusOK, 2},
		{"set nothing", http.MethodPatch, "/v2/sessions/" + id, `{}`, http.StatusOK, 1},
		{"set password (+ the user's read)", http.MethodPatch, "/v2/sessions/" + id, `{"checks":{"password":{"password":"Password1!"}}}`, http.StatusOK, 3},
		{"set wrong password (+ the user's read and counter update)", http.MethodPatch, "/v2/sessions/" + id, `{"checks":{"password":{"password":"wrong"}}}`, http.StatusBadRequest, 4},
		{"delete", http.MethodDelete, "/v2/sessions/" + id, "", http.StatusOK, 2},
		{"delete again", http.MethodDelete, "/v2/sessions/" + id, "", http.StatusOK, 1},
	} {
		srv.Mock.Journal().Drain() // the entries of the requests before
		before := be.RoundTrips()
		r := call(t, srv, c.method, c.path, c.body)
		srv.Mock.Journal().Drain()
		got := be.RoundTrips() - before
		wantStatus(t, r, c.status)
		if got != c.want+controlTrips {
			t.Errorf("%s: %d round trips, want %d+%d", c.name, got, c.want, controlTrips)
		}
	}
}

// With Redis gone, every operation answers ZITADEL's unavailable (code
// 14): REST 503, Connect and gRPC "unavailable"; nothing panics.
func TestStoreUnavailable(t *testing.T) {
	red := redistest.Start(t)
	be := openBackend(t, red.Addr, redistest.Prefix())
	srv := mocktest.Start(t, mocktest.WithVendors(zitadel.New), mocktest.WithConfig(func(c *server.Config) { c.Stores = be }))
	id, _ := createMini(t, srv, "")
	red.Stop(false)
	for _, c := range []struct{ name, method, path, body string }{
		{"create", http.MethodPost, "/v2/sessions", `{}`},
		{"create with a user check", http.MethodPost, "/v2/sessions", `{"checks":{"user":{"loginName":"mini@mouse.com"}}}`},
		{"get", http.MethodGet, "/v2/sessions/" + id, ""},
		{"list", http.MethodPost, "/v2/sessions/search", `{}`},
		{"set", http.MethodPatch, "/v2/sessions/" + id, `{"metadata":{"k":"AQ=="}}`},
		{"delete", http.MethodDelete, "/v2/sessions/" + id, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, call(t, srv, c.method, c.path, c.body), http.StatusServiceUnavailable, 14, "unavailable")
		})
	}
	hdr := map[string]string{"Authorization": bearer, "Content-Type": "application/json"}
	wantConnectError(t, callWith(t, srv, http.MethodPost, connectSv+"GetSession", `{"sessionId":"`+id+`"}`, hdr), http.StatusServiceUnavailable, "unavailable", "unavailable")
	_, err := sessionpbconnect.NewSessionServiceClient(h2c(), srv.URL, connect.WithGRPC()).
		ListSessions(context.Background(), authed(&sessionpb.ListSessionsRequest{}))
	if connect.CodeOf(err) != connect.CodeUnavailable {
		t.Errorf("gRPC list: %v, want unavailable", err)
	}
}

// pttl is a Redis key's remaining TTL in ms (-1: none, -2: no key), read
// with an inline command on a connection of its own.
func pttl(t *testing.T, addr, key string) int64 {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := fmt.Fprintf(c, "PTTL %s\r\n", key); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.TrimSpace(string(buf[:n]))
	v, err := strconv.ParseInt(strings.TrimPrefix(line, ":"), 10, 64)
	if err != nil {
		t.Fatalf("PTTL %s: %q", key, line)
	}
	return v
}

// Redis keeps a session for its remaining mock lifetime plus a day (at
// least an hour), a session without expiry until it is deleted.
func TestSessionSafetyTTL(t *testing.T) {
	addr, prefix := redistest.Addr(t), redistest.Prefix()
	be := openBackend(t, addr, prefix)
	srv := mocktest.Start(t, mocktest.WithVendors(zitadel.New), mocktest.WithConfig(func(c *server.Config) { c.Stores = be }))
	t0 := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	setClocks(t0, srv)
	key := func(id string) string { return prefix + "{zitadel:sessions}:r:" + id }
	within := func(got int64, want time.Duration) bool {
		return got <= want.Milliseconds() && got > (want-10*time.Second).Milliseconds()
	}

	forever, _ := createMini(t, srv, "")
	if got := pttl(t, addr, key(forever)); got != -1 {
		t.Errorf("session without expiry: PTTL %d, want none (-1)", got)
	}
	id, _ := createMini(t, srv, `,"lifetime":"3600s"`)
	if got := pttl(t, addr, key(id)); !within(got, time.Hour+24*time.Hour) {
		t.Errorf("lifetime 1h: PTTL %d ms, want about 25h", got)
	}
	// Ended long ago, then deleted: the floor of an hour.
	setClocks(t0.Add(72*time.Hour), srv)
	wantStatus(t, call(t, srv, http.MethodDelete, "/v2/sessions/"+id, ""), http.StatusOK)
	if got := pttl(t, addr, key(id)); !within(got, time.Hour) {
		t.Errorf("expired 71h ago: PTTL %d ms, want about 1h", got)
	}
}

// An intent and a recovery code are used once, however many calls try at
// once through two replicas.
func TestSharedStoreSingleUse(t *testing.T) {
	srvs := replicas(t, 2)
	const n = 8
	race := func(do func(i int) reply) (ok int, others []reply) {
		var wg sync.WaitGroup
		replies := make([]reply, n)
		for i := range n {
			wg.Add(1)
			go func() { defer wg.Done(); replies[i] = do(i) }()
		}
		wg.Wait()
		for _, r := range replies {
			if r.status/100 == 2 {
				ok++
			} else {
				others = append(others, r)
			}
		}
		return ok, others
	}
	ok, others := race(func(i int) reply {
		return call(t, srvs[i%2], http.MethodPost, "/v2/sessions",
			`{"checks":{"user":{"userId":"`+miniID+`"},"idpIntent":{"idpIntentId":"280310400000000001","idpIntentToken":"intent-token-mini"}}}`)
	})
	if ok != 1 {
		t.Errorf("%d sessions consumed the intent, want 1", ok)
	}
	for _, r := range others {
		if !strings.Contains(r.raw, "Intent has not succeeded") {
			t.Errorf("intent: %d %s", r.status, r.raw)
		}
	}
	ids := make([]string, n)
	for i := range ids {
		ids[i], _ = createMini(t, srvs[i%2], "")
	}
	ok, others = race(func(i int) reply {
		return call(t, srvs[(i+1)%2], http.MethodPatch, "/v2/sessions/"+ids[i], `{"checks":{"recoveryCode":{"code":"R3C0-V3RY-0002"}}}`)
	})
	if ok != 1 {
		t.Errorf("%d sessions used the recovery code, want 1", ok)
	}
	for _, r := range others {
		if !strings.Contains(r.raw, "Invalid recovery code") {
			t.Errorf("recovery code: %d %s", r.status, r.raw)
		}
	}
}

// Ids stay unique across replicas minting in the same millisecond (frozen
// clocks): each replica has its own node part.
func TestSharedStoreIDsUnique(t *testing.T) {
	srvs := replicas(t, 2)
	setClocks(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), srvs...)
	const n = 40
	var wg sync.WaitGroup
	replies := make([]reply, n)
	for i := range n {
		wg.Add(1)
		go func() { defer wg.Done(); replies[i] = call(t, srvs[i%2], http.MethodPost, "/v2/sessions", `{}`) }()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, r := range replies {
		wantStatus(t, r, http.StatusCreated)
		id := str(r.body, "sessionId")
		if seen[id] {
			t.Errorf("id %s minted twice", id)
		}
		seen[id] = true
	}
	r := call(t, srvs[0], http.MethodPost, "/v2/sessions/search", `{}`)
	if got := str(r.body, "details.totalResult"); got != strconv.Itoa(n) {
		t.Errorf("%s sessions listed, want %d", got, n)
	}
}
