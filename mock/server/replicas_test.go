package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/idpmock/idpmock/mock/internal/redistest"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/internal/fakevendor"
	"github.com/idpmock/idpmock/mock/journal"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/problem"
	"github.com/idpmock/idpmock/mock/server"
	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/state/stores"
)

// The control plane across replicas: two servers sharing one Redis
// (IDPMOCK_TEST_REDIS, set by make redis-test; skipped without it).

// thing is the shared fake vendor's record.
type thing struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func (t thing) Clone() thing { return t }

// sharedVendor is the fake vendor with its things in the backend's stores,
// so that both replicas see them (fakevendor keeps them in memory).
type sharedVendor struct {
	fake  server.Vendor // spec, paths, error format
	clock clock.Clock
	store state.Store[thing]
	ids   state.Counters
}

func newSharedVendor(d server.Deps) (server.Vendor, error) {
	fake, err := fakevendor.New(d)
	if err != nil {
		return nil, err
	}
	st, err := stores.OpenStore(d.Stores, stores.Spec[thing]{Name: "fake:things", Key: func(t thing) string { return t.ID }})
	if err != nil {
		return nil, err
	}
	return &sharedVendor{fake: fake, clock: d.Clock, store: st, ids: d.Stores.Counters("fake:ids")}, nil
}

func (v *sharedVendor) Name() string               { return v.fake.Name() }
func (v *sharedVendor) Spec() (*openapi3.T, error) { return v.fake.Spec() }
func (v *sharedVendor) BasePath() string           { return v.fake.BasePath() }
func (v *sharedVendor) Prefixes() []string         { return v.fake.Prefixes() }
func (v *sharedVendor) WriteError(c echo.Context, p *problem.Problem) error {
	return v.fake.WriteError(c, p)
}
func (v *sharedVendor) Reset(ctx context.Context, _ fs.FS) error { return v.store.Reset(ctx) }

func (v *sharedVendor) Register(e *echo.Echo) {
	e.POST("/fake/things", func(c echo.Context) error {
		var in struct {
			Name       string `json:"name"`
			TTLSeconds int    `json:"ttlSeconds"`
		}
		if err := json.NewDecoder(c.Request().Body).Decode(&in); err != nil {
			return problem.New(problem.Invalid, "bad body: %v", err)
		}
		ctx := c.Request().Context()
		n, err := v.ids.Next(ctx, "thing")
		if err != nil {
			return err
		}
		t := thing{ID: fmt.Sprintf("t%d", n), Name: in.Name, ExpiresAt: clock.Now(ctx, v.clock).Add(time.Duration(max(in.TTLSeconds, 1)) * time.Second).UTC()}
		if err := v.store.Create(ctx, t); err != nil {
			return err
		}
		return c.JSON(http.StatusCreated, t)
	})
	e.GET("/fake/things/:id", func(c echo.Context) error {
		ctx := c.Request().Context()
		t, err := v.store.Get(ctx, c.Param("id"))
		if errors.Is(err, state.ErrNotFound) || err == nil && !clock.Now(ctx, v.clock).Before(t.ExpiresAt) {
			return problem.New(problem.NotFound, "no thing %s", c.Param("id"))
		}
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, t)
	})
}

// replicas starts n servers sharing one Redis through addr (a proxy in
// front of Redis in the fault test), under a prefix of their own.
func replicas(t *testing.T, addr string, n int, edits ...func(*server.Config)) []*mocktest.Server {
	t.Helper()
	prefix := fmt.Sprintf("idpmocktest:%x:", rand.Uint64())
	out := make([]*mocktest.Server, n)
	for i := range out {
		b, err := stores.Open(context.Background(), "redis://"+addr+"/0", stores.Options{Prefix: prefix, Timeout: 300 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(b.Close) // after the server's own cleanup
		out[i] = mocktest.Start(t, mocktest.WithVendors(newSharedVendor), withConfig(func(c *server.Config) {
			c.Stores = b
			for _, e := range edits {
				e(c)
			}
		}))
	}
	return out
}

func clockOffset(t *testing.T, srv *mocktest.Server) time.Duration {
	t.Helper()
	r := call(t, srv, "GET", "/__mock/clock", nil)
	if r.status != 200 {
		t.Fatalf("GET clock: %d %s", r.status, r.body)
	}
	d, err := time.ParseDuration(r.json(t)["offset"].(string))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func near(got, want time.Duration) bool { return got > want-time.Minute && got < want+time.Minute }

func TestReplicasShareClock(t *testing.T) {
	rs := replicas(t, redistest.Addr(t), 2)
	a, b := rs[0], rs[1]
	if r := call(t, a, "PUT", "/__mock/clock", map[string]any{"advance": "1h"}); r.status != 200 {
		t.Fatalf("advance on A: %d %s", r.status, r.body)
	}
	if d := clockOffset(t, b); !near(d, time.Hour) {
		t.Errorf("B's clock is %v ahead after A advanced 1h", d)
	}
	// A thing created on B expires on A when A's clock passes it.
	id := create(t, b, "x", 60)
	if r := call(t, a, "GET", "/fake/things/"+id, nil); r.status != 200 {
		t.Fatalf("read on A: %d %s", r.status, r.body)
	}
	if r := call(t, b, "PUT", "/__mock/clock", map[string]any{"advance": "2m"}); r.status != 200 {
		t.Fatalf("advance on B: %d", r.status)
	}
	if r := call(t, a, "GET", "/fake/things/"+id, nil); r.status != 404 {
		t.Errorf("read on A after B moved past expiry: %d, want 404", r.status)
	}
	// Concurrent advances through both replicas add up.
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if r := call(t, rs[i%2], "PUT", "/__mock/clock", map[string]any{"advance": "1h"}); r.status != 200 {
				t.Errorf("advance: %d %s", r.status, r.body)
			}
		}()
	}
	wg.Wait()
	if d := clockOffset(t, a); !near(d, 11*time.Hour+2*time.Minute) {
		t.Errorf("after 10 concurrent 1h advances the clock is %v ahead, want 11h2m", d)
	}
	// A freeze on A holds on B; out of range is refused on both.
	if r := call(t, a, "PUT", "/__mock/clock", map[string]any{"freeze": true}); r.status != 200 {
		t.Fatalf("freeze: %d", r.status)
	}
	if r := call(t, b, "GET", "/__mock/clock", nil); r.json(t)["frozen"] != true {
		t.Errorf("B's clock is not frozen: %s", r.body)
	}
	if r := call(t, b, "PUT", "/__mock/clock", map[string]any{"set": "3000-01-01T00:00:00Z"}); r.status != 400 {
		t.Errorf("set out of range: %d, want 400", r.status)
	}
}

func TestReplicasShareOverrides(t *testing.T) {
	rs := replicas(t, redistest.Addr(t), 2)
	a, b := rs[0], rs[1]
	id := create(t, a, "x", 3600)
	r := call(t, a, "POST", "/__mock/overrides", map[string]any{"operation": "readThing", "status": 429, "times": 5})
	if r.status != 201 {
		t.Fatalf("add on A: %d %s", r.status, r.body)
	}
	ovID := r.json(t)["id"].(string)
	var forced, ok atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			switch r := call(t, rs[i%2], "GET", "/fake/things/"+id, nil); r.status {
			case 429:
				forced.Add(1)
			case 200:
				ok.Add(1)
			default:
				t.Errorf("read: %d %s", r.status, r.body)
			}
		}()
	}
	wg.Wait()
	if forced.Load() != 5 || ok.Load() != 35 {
		t.Errorf("times 5 over 40 requests on two replicas: %d forced, %d served", forced.Load(), ok.Load())
	}
	r = call(t, b, "GET", "/__mock/overrides/"+ovID, nil)
	if m := r.json(t); r.status != 200 || m["hits"] != 5.0 || m["remaining"] != 0.0 {
		t.Errorf("override on B: %d %s, want 5 hits, 0 remaining", r.status, r.body)
	}
	// Added on A, it fires on B at once; deleted on B, it stops on A.
	r = call(t, a, "POST", "/__mock/overrides", map[string]any{"operation": "readThing", "status": 429})
	ov2 := r.json(t)["id"].(string)
	if ov2 == ovID {
		t.Errorf("two overrides share the id %s", ov2)
	}
	if r := call(t, b, "GET", "/fake/things/"+id, nil); r.status != 429 {
		t.Errorf("B right after A added an override: %d, want 429", r.status)
	}
	if r := call(t, b, "DELETE", "/__mock/overrides/"+ov2, nil); r.status != 204 {
		t.Fatalf("delete on B: %d", r.status)
	}
	if r := call(t, a, "GET", "/fake/things/"+id, nil); r.status != 200 {
		t.Errorf("A after B deleted the override: %d, want 200", r.status)
	}
	var list struct{ Overrides []map[string]any }
	if err := json.Unmarshal(call(t, a, "GET", "/__mock/overrides", nil).body, &list); err != nil || len(list.Overrides) != 1 {
		t.Errorf("list on A: %+v %v, want the spent one only", list, err)
	}
	if r := call(t, b, "DELETE", "/__mock/overrides", nil); r.status != 204 {
		t.Fatalf("clear on B: %d", r.status)
	}
	if err := json.Unmarshal(call(t, a, "GET", "/__mock/overrides", nil).body, &list); err != nil || len(list.Overrides) != 0 {
		t.Errorf("list on A after B cleared: %+v %v", list, err)
	}
}

type journalList struct {
	Entries []struct {
		Seq    int    `json:"seq"`
		Path   string `json:"path"`
		Status int    `json:"status"`
	} `json:"entries"`
	Total   int `json:"total"`
	LastSeq int `json:"lastSeq"`
}

func listJournal(t *testing.T, srv *mocktest.Server, query string) journalList {
	t.Helper()
	r := call(t, srv, "GET", "/__mock/journal"+query, nil)
	if r.status != 200 {
		t.Fatalf("journal: %d %s", r.status, r.body)
	}
	var l journalList
	if err := json.Unmarshal(r.body, &l); err != nil {
		t.Fatal(err)
	}
	return l
}

func TestReplicasShareJournal(t *testing.T) {
	rs := replicas(t, redistest.Addr(t), 2)
	a, b := rs[0], rs[1]
	id := create(t, a, "x", 3600)
	call(t, b, "GET", "/fake/things/"+id, nil)
	call(t, a, "GET", "/fake/things/nope", nil)
	l := listJournal(t, b, "")
	if len(l.Entries) != 3 || l.Total != 3 || l.LastSeq != 3 {
		t.Fatalf("journal on B: %+v, want A's and B's 3 requests", l)
	}
	for i, e := range l.Entries {
		if e.Seq != i+1 {
			t.Errorf("entry %d has seq %d", i, e.Seq)
		}
	}
	if l.Entries[2].Path != "/fake/things/nope" || l.Entries[2].Status != 404 {
		t.Errorf("newest entry %+v", l.Entries[2])
	}
	if n := len(a.Requests(journal.Query{Operation: "readThing"})); n != 2 {
		t.Errorf("mocktest Requests on A: %d readThing, want 2", n)
	}
	// A long poll on B ends when A serves a request.
	done := make(chan journalList, 1)
	go func() { done <- listJournal(t, b, "?since=3&waitMs=5000") }()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	call(t, a, "GET", "/fake/things/"+id, nil)
	select {
	case l := <-done:
		if len(l.Entries) != 1 || l.Entries[0].Seq != 4 {
			t.Errorf("long poll answered %+v", l)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("long poll on B took %v after A's request", d)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("long poll on B did not see A's request")
	}
}

func TestReplicasShareReset(t *testing.T) {
	rs := replicas(t, redistest.Addr(t), 2)
	a, b := rs[0], rs[1]
	id := create(t, b, "x", 3600)
	call(t, b, "PUT", "/__mock/clock", map[string]any{"advance": "5h"})
	call(t, b, "POST", "/__mock/overrides", map[string]any{"operation": "createThing", "status": 429})
	if r := call(t, a, "POST", "/__mock/reset", nil); r.status != 204 {
		t.Fatalf("reset on A: %d %s", r.status, r.body)
	}
	if d := clockOffset(t, b); d != 0 {
		t.Errorf("B's clock after reset: %v ahead", d)
	}
	if l := listJournal(t, b, ""); len(l.Entries) != 0 {
		t.Errorf("B's journal after reset: %+v", l)
	}
	var list struct{ Overrides []any }
	if err := json.Unmarshal(call(t, b, "GET", "/__mock/overrides", nil).body, &list); err != nil || len(list.Overrides) != 0 {
		t.Errorf("B's overrides after reset: %+v %v", list, err)
	}
	if r := call(t, b, "GET", "/fake/things/"+id, nil); r.status != 404 {
		t.Errorf("B's thing after reset: %d, want 404", r.status)
	}
	// The state document carries the shared clock.
	call(t, a, "PUT", "/__mock/clock", map[string]any{"advance": "3h", "freeze": true})
	r := call(t, b, "GET", "/__mock/state", nil)
	var st struct{ Clock struct{ Frozen bool } }
	if err := json.Unmarshal(r.body, &st); err != nil || !st.Clock.Frozen {
		t.Errorf("state on B: %s", r.body)
	}
}

// cutProxy forwards TCP to Redis until cut: then every connection breaks
// and new ones close at once, as when Redis goes down.
type cutProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close(); p.cut(true) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			if p.down {
				p.mu.Unlock()
				c.Close()
				continue
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				p.mu.Unlock()
				c.Close()
				continue
			}
			p.conns = append(p.conns, c, up)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(up, c); up.Close() }()
			go func() { _, _ = io.Copy(c, up); c.Close() }()
		}
	}()
	return p
}

func (p *cutProxy) cut(down bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = down
	if down {
		for _, c := range p.conns {
			c.Close()
		}
		p.conns = nil
	}
}

func TestReplicasStoreDown(t *testing.T) {
	proxy := newCutProxy(t, redistest.Addr(t))
	rs := replicas(t, proxy.ln.Addr().String(), 2)
	a, b := rs[0], rs[1]
	id := create(t, a, "x", 3600)
	proxy.cut(true)
	tests := []struct {
		name, method, path string
		body               any
		wantKey, wantValue string
	}{
		{"clock", "GET", "/__mock/clock", nil, "code", "unavailable"},
		{"advance", "PUT", "/__mock/clock", map[string]any{"advance": "1h"}, "code", "unavailable"},
		{"overrides", "GET", "/__mock/overrides", nil, "code", "unavailable"},
		{"add override", "POST", "/__mock/overrides", map[string]any{"operation": "readThing", "status": 429}, "code", "unavailable"},
		{"journal", "GET", "/__mock/journal", nil, "code", "unavailable"},
		{"reset", "POST", "/__mock/reset", nil, "code", "unavailable"},
		{"state", "GET", "/__mock/state", nil, "code", "unavailable"},
		{"vendor read", "GET", "/fake/things/" + id, nil, "error", "unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, srv := range []*mocktest.Server{a, b} {
				r := call(t, srv, tt.method, tt.path, tt.body)
				if r.status != 503 || r.json(t)[tt.wantKey] != tt.wantValue {
					t.Errorf("%s %s with Redis down: %d %s", tt.method, tt.path, r.status, r.body)
				}
			}
		})
	}
	proxy.cut(false)
	deadline := time.Now().Add(time.Second)
	for _, srv := range []*mocktest.Server{a, b} {
		for {
			r := call(t, srv, "GET", "/fake/things/"+id, nil)
			if r.status == 200 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not back within 1s of Redis: %d %s", r.status, r.body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if r := call(t, b, "GET", "/__mock/clock", nil); r.status != 200 {
		t.Errorf("clock after Redis came back: %d %s", r.status, r.body)
	}
}

// TestReplicaRoundTrips pins what a vendor request costs in Redis: the
// control data (clock and overrides version, one GET; the clock reads of
// the vendor are free after it), the vendor's own command, and the journal
// entry.
func TestReplicaRoundTrips(t *testing.T) {
	addr := redistest.Addr(t)
	b, err := stores.Open(context.Background(), "redis://"+addr+"/0", stores.Options{Prefix: fmt.Sprintf("idpmocktest:%x:", rand.Uint64())})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	srv := mocktest.Start(t, mocktest.WithVendors(newSharedVendor), withConfig(func(c *server.Config) { c.Stores = b }))
	id := create(t, srv, "x", 3600)
	call(t, srv, "GET", "/fake/things/"+id, nil) // the overrides are read once, then cached
	// The control data comes from the bus (no read per request) and the
	// journal entry is written after the answer: one round trip each.
	tests := []struct {
		name  string
		path  string
		trips uint64
	}{
		{"read", "/fake/things/" + id, 2},
		{"not found", "/fake/things/nope", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv.Journal().Drain() // the entries of the requests before
			before := b.RoundTrips()
			call(t, srv, "GET", tt.path, nil)
			srv.Journal().Drain()
			if got := b.RoundTrips() - before; got != tt.trips {
				t.Errorf("%d round trips, want %d", got, tt.trips)
			}
		})
	}
}

// TestReplicasShareFileOverrides: every replica loads the same overrides
// file; its rules are shared once, so "times" counts across replicas and a
// replica starting later does not re-arm them; a reset does.
func TestReplicasShareFileOverrides(t *testing.T) {
	addr := redistest.Addr(t)
	file := t.TempDir() + "/overrides.json"
	doc := `{"overrides": [{"operation": "readThing", "status": 429, "times": 2, "body": {"error": "too_many_requests",  "message": "slow down"}}]}`
	if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	rs := replicas(t, addr, 2, func(c *server.Config) { c.OverridesFile = file })
	a, b := rs[0], rs[1]
	id := create(t, a, "x", 3600)
	var statuses []int
	for i := range 4 {
		statuses = append(statuses, call(t, rs[i%2], "GET", "/fake/things/"+id, nil).status)
	}
	if fmt.Sprint(statuses) != "[429 429 200 200]" {
		t.Errorf("file override times 2 over two replicas: %v", statuses)
	}
	var list struct{ Overrides []map[string]any }
	if err := json.Unmarshal(call(t, b, "GET", "/__mock/overrides", nil).body, &list); err != nil || len(list.Overrides) != 1 || list.Overrides[0]["source"] != "file" {
		t.Fatalf("overrides on B: %+v %v", list, err)
	}
	if r := call(t, a, "POST", "/__mock/reload", nil); r.status != 200 {
		t.Fatalf("reload: %d %s", r.status, r.body)
	}
	if r := call(t, b, "GET", "/fake/things/"+id, nil); r.status != 200 {
		t.Errorf("after reloading an unchanged file: %d, want the spent rule to stay spent", r.status)
	}
	if r := call(t, b, "POST", "/__mock/reset", nil); r.status != 204 {
		t.Fatalf("reset: %d", r.status)
	}
	id = create(t, a, "y", 3600)
	if r := call(t, a, "GET", "/fake/things/"+id, nil); r.status != 429 {
		t.Errorf("after a reset: %d, want the file rule re-armed", r.status)
	}
}
