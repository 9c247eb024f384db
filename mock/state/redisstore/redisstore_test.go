package redisstore

import (
	"context"
	"errors"
	"fmt"
	"github.com/idpmock/idpmock/mock/internal/redistest"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/state/statetest"
)

func TestConformance(t *testing.T) { statetest.Run(t, redisBackend(redistest.Addr(t))) }

// Two clients with one prefix are two replicas.
func replicas(t *testing.T, cfg statetest.Config) (*Store[statetest.Rec], *Store[statetest.Rec]) {
	addr := redistest.Addr(t)
	p := redistest.Prefix()
	return newRecStore(t, openAt(t, addr, p, Options{}), cfg), newRecStore(t, openAt(t, addr, p, Options{}), cfg)
}

func TestReplicasLoseNoUpdate(t *testing.T) {
	a, b := replicas(t, statetest.Config{})
	start := time.Now()
	statetest.ConcurrentUpdates(t, a, 64, 50, b)
	trips := a.c.RoundTrips() + b.c.RoundTrips()
	t.Logf("64 x 50 updates of one record over two replicas: %v, %.2f round trips per update", time.Since(start), float64(trips)/3200)
}

func TestReplicasShareEverything(t *testing.T) {
	ctx := context.Background()
	a, b := replicas(t, statetest.Config{})
	if err := a.Create(ctx, statetest.Rec{ID: "s1", Owner: "u1", Tags: []string{"tok"}}); err != nil {
		t.Fatal(err)
	}
	if got, err := b.Get(ctx, "s1"); err != nil || got.Owner != "u1" {
		t.Fatalf("b sees %+v, %v", got, err)
	}
	if got, err := b.Lookup(ctx, statetest.Tag, "tok"); err != nil || len(got) != 1 {
		t.Fatalf("b lookup = %v, %v", got, err)
	}
	if err := b.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Get(ctx, "s1"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("after reset on b, a get = %v", err)
	}
}

// The caps hold across replicas: racing creates through both never exceed them.
func TestCapsAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	a, b := replicas(t, statetest.Config{Limit: 10, OwnerLimit: 4})
	var ok, full, owned atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			owner := ""
			if i%3 == 0 {
				owner = "u"
			}
			err := s.Create(ctx, statetest.Rec{ID: string(rune('A' + i)), Owner: owner})
			switch {
			case err == nil:
				ok.Add(1)
				if owner != "" {
					owned.Add(1)
				}
			case errors.Is(err, state.ErrFull):
				full.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 10 || full.Load() != 30 || owned.Load() > 4 {
		t.Fatalf("created %d, full %d, owned by u %d; want 10, 30, <= 4", ok.Load(), full.Load(), owned.Load())
	}
	if n, _ := b.Total(ctx); n != 10 {
		t.Fatalf("total = %d", n)
	}
}

// The safety TTL drops a record and its index entries, and frees its slot.
func TestSafetyTTL(t *testing.T) {
	ctx := context.Background()
	addr := redistest.Addr(t)
	c := openAt(t, addr, redistest.Prefix(), Options{})
	s, err := New(c, Config[statetest.Rec]{
		Name: "recs", Key: statetest.Key, Indexes: statetest.Indexes, Limit: 1,
		TTL: func(r statetest.Rec) time.Duration { return time.Duration(r.N) * time.Millisecond },
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, statetest.Rec{ID: "short", Owner: "u", N: 500}); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, statetest.Rec{ID: "other", N: 500}); !errors.Is(err, state.ErrFull) {
		t.Fatalf("second create = %v, want full", err)
	}
	time.Sleep(700 * time.Millisecond)
	if _, err := s.Get(ctx, "short"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("get after ttl = %v", err)
	}
	if n, _ := s.CountKey(ctx, statetest.Owner, "u"); n != 0 {
		t.Fatalf("owner count after ttl = %d", n)
	}
	if l, _ := s.Lookup(ctx, statetest.Owner, "u"); len(l) != 0 {
		t.Fatalf("lookup after ttl = %v", l)
	}
	if err := s.Create(ctx, statetest.Rec{ID: "other"}); err != nil {
		t.Fatalf("create after ttl: %v", err)
	}
	// The index set of the expired record is gone from Redis too.
	if got := rawCommand(t, addr, "EXISTS "+s.idxKey(statetest.Owner, "u")); got != ":0" {
		t.Fatalf("index key still there: %s", got)
	}
}

// A cell written through one replica is read by the other at once.
func TestCellAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	addr := redistest.Addr(t)
	p := redistest.Prefix()
	a := NewCell[statetest.Clock](openAt(t, addr, p, Options{}), "clock")
	bc := openAt(t, addr, p, Options{})
	b := NewCell[statetest.Clock](bc, "clock")
	for i := range 300 {
		want := time.Duration(i+1) * time.Second
		if err := a.Store(ctx, statetest.Clock{Offset: want}); err != nil {
			t.Fatal(err)
		}
		got, err := b.Load(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got.Offset != want {
			t.Fatalf("read %d: offset %v, want %v", i, got.Offset, want)
		}
	}
}

// TestCellCacheIsStale records why Cell does not read through rueidis's
// client-side cache: right after a write on one replica, the other's cached
// copy is often still the old one (the invalidation follows the reply).
func TestCellCacheIsStale(t *testing.T) {
	ctx := context.Background()
	addr := redistest.Addr(t)
	p := redistest.Prefix()
	a := NewCell[statetest.Clock](openAt(t, addr, p, Options{}), "clock")
	bc := openAt(t, addr, p, Options{})
	stale := 0
	const n = 300
	for i := range n {
		if _, _, err := bc.getCached(ctx, a.key, time.Minute); err != nil { // b holds a cached copy
			t.Fatal(err)
		}
		if err := a.Store(ctx, statetest.Clock{Offset: time.Duration(i + 1)}); err != nil {
			t.Fatal(err)
		}
		raw, _, err := bc.getCached(ctx, a.key, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(raw, `"Offset":`+strconv.Itoa(i+1)+`,`) {
			stale++
		}
	}
	t.Logf("client-side cache: %d of %d reads right after another replica's write were stale", stale, n)
	before := bc.RoundTrips()
	for range 100 {
		if _, _, err := bc.getCached(ctx, a.key, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	if trips := bc.RoundTrips() - before; trips > 1 {
		t.Errorf("100 unchanged cached reads took %d round trips, want at most 1", trips)
	}
}

func TestOpenRejects(t *testing.T) {
	for _, url := range []string{"http://x", "127.0.0.1:6379", ""} {
		if _, err := Open(context.Background(), url, Options{}); err == nil {
			t.Errorf("Open(%q) succeeded", url)
		}
	}
}

func TestOpenUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, err = Open(context.Background(), "redis://"+addr, Options{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, state.ErrUnavailable) {
		t.Fatalf("Open of a closed port = %v, want unavailable", err)
	}
}

// Past the scripts' 500-key batches: load, list, lookup and reset of a few
// thousand records.
func TestLargeStore(t *testing.T) {
	ctx := context.Background()
	s := newRecStore(t, openAt(t, redistest.Addr(t), redistest.Prefix(), Options{}), statetest.Config{})
	const n = 2345
	recs := make([]statetest.Rec, n)
	for i := range recs {
		recs[i] = statetest.Rec{ID: fmt.Sprintf("r%05d", i), Owner: "u" + strconv.Itoa(i%2), Tags: []string{"t"}}
	}
	if err := s.Load(ctx, recs); err != nil {
		t.Fatal(err)
	}
	all, err := s.List(ctx, nil)
	if err != nil || len(all) != n || all[0].ID != "r00000" || all[n-1].ID != fmt.Sprintf("r%05d", n-1) {
		t.Fatalf("list: %d records, %v", len(all), err)
	}
	if got, err := s.Lookup(ctx, statetest.Tag, "t"); err != nil || len(got) != n {
		t.Fatalf("lookup: %d, %v", len(got), err)
	}
	if c, _ := s.CountKey(ctx, statetest.Owner, "u1"); c != n/2 {
		t.Fatalf("count u1 = %d", c)
	}
	keys := func() string {
		return rawCommand(t, redistest.Addr(t), "EVAL \"return #redis.call('KEYS', ARGV[1])\" 0 "+s.pattern())
	}
	if got := keys(); got != ":"+strconv.Itoa(n+4) { // records, all, two owners, one tag
		t.Fatalf("keys before reset: %s", got)
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if got := keys(); got != ":0" {
		t.Fatalf("keys left after reset: %s", got)
	}
}
