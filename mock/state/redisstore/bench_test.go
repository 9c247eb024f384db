package redisstore

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/idpmock/idpmock/mock/internal/redistest"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idpmock/idpmock/mock/state/statetest"
)

// goredisBackend is the same backend on go-redis v9, kept for the
// benchmark that chose rueidis (docs/redis.md).
type goredisBackend struct {
	c       *redis.Client
	scripts map[*script]*redis.Script
}

func openGoredis(url string, o Options) (backend, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = o.Timeout, o.Timeout, o.Timeout
	b := &goredisBackend{c: redis.NewClient(opt), scripts: make(map[*script]*redis.Script)}
	for _, s := range allScripts {
		b.scripts[s] = redis.NewScript(s.src)
	}
	return b, nil
}

func goredisErr(err error) error {
	var re redis.Error
	if errors.As(err, &re) && !errors.Is(err, redis.Nil) {
		return &errReply{msg: re.Error()}
	}
	return err
}

func (b *goredisBackend) get(ctx context.Context, key string) (string, bool, error) {
	v, err := b.c.Get(ctx, key).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, goredisErr(err)
	}
	return v, true, nil
}

func (b *goredisBackend) getCached(ctx context.Context, key string, _ time.Duration) (string, bool, bool, error) {
	v, ok, err := b.get(ctx, key)
	return v, ok, false, err
}

func (b *goredisBackend) run(ctx context.Context, s *script, keys, args []string) ([]string, error) {
	a := make([]any, len(args))
	for i, x := range args {
		a[i] = x
	}
	v, err := b.scripts[s].Run(ctx, b.c, keys, a...).StringSlice()
	if err != nil {
		return nil, goredisErr(err)
	}
	return v, nil
}

func (b *goredisBackend) close() { _ = b.c.Close() }

var clients = []struct {
	name string
	open func(url string, o Options) (backend, error)
}{{"rueidis", openRueidis}, {"goredis", openGoredis}}

func openWith(t testing.TB, open func(string, Options) (backend, error), addr string) *Client {
	t.Helper()
	o := Options{Prefix: redistest.Prefix()}.withDefaults()
	b, err := open("redis://"+addr, o)
	if err != nil {
		t.Fatal(err)
	}
	c, err := newClient(context.Background(), b, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// benchOps are the store operations measured, on a store seeded with
// records r0..r999 spread over 100 owners (so a Lookup finds 10; created
// records go to other owners). UpdateHot is every caller on one record:
// lost races cost a round trip each.
var benchOps = []struct {
	name string
	op   func(ctx context.Context, s *Store[statetest.Rec], i int) error
}{
	{"Get", func(ctx context.Context, s *Store[statetest.Rec], i int) error {
		_, err := s.Get(ctx, "r"+strconv.Itoa(i%1000))
		return err
	}},
	{"Create", func(ctx context.Context, s *Store[statetest.Rec], i int) error {
		return s.Create(ctx, statetest.Rec{ID: "n" + strconv.Itoa(i) + "-" + strconv.FormatInt(time.Now().UnixNano(), 36), Owner: "c" + strconv.Itoa(i%100), Tags: []string{"tok" + strconv.Itoa(i)}})
	}},
	{"Update", func(ctx context.Context, s *Store[statetest.Rec], i int) error {
		_, err := s.Update(ctx, "r"+strconv.Itoa(i%1000), func(r statetest.Rec) (statetest.Rec, error) { r.N++; return r, nil })
		return err
	}},
	{"UpdateHot", func(ctx context.Context, s *Store[statetest.Rec], i int) error {
		_, err := s.Update(ctx, "r0", func(r statetest.Rec) (statetest.Rec, error) { r.N++; return r, nil })
		return err
	}},
	{"Lookup", func(ctx context.Context, s *Store[statetest.Rec], i int) error {
		_, err := s.Lookup(ctx, statetest.Owner, "u"+strconv.Itoa(i%100))
		return err
	}},
	// A write after a lookup (PingOne's update by session token): the
	// compare-and-set starts from the version found, no second read.
	{"LookupUpdateSeen", func(ctx context.Context, s *Store[statetest.Rec], i int) error {
		found, err := s.Lookup(ctx, statetest.Tag, "t"+strconv.Itoa(i%1000))
		if err != nil || len(found) != 1 {
			return fmt.Errorf("lookup: %d found, %v", len(found), err)
		}
		_, err = s.UpdateSeen(ctx, found[0], func(r statetest.Rec) (statetest.Rec, error) { r.N++; return r, nil })
		return err
	}},
}

func seed(b testing.TB, s *Store[statetest.Rec]) {
	ctx := context.Background()
	for i := range 1000 {
		if err := s.Create(ctx, statetest.Rec{ID: "r" + strconv.Itoa(i), Owner: "u" + strconv.Itoa(i%100), Tags: []string{"t" + strconv.Itoa(i)}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStore compares the clients on the store's operations, one caller
// (latency) and GOMAXPROCS*8 callers (throughput, where rueidis pipelines
// concurrent commands on one connection). Run by make redis-bench.
func BenchmarkStore(b *testing.B) {
	addr := redistest.Addr(b)
	for _, cl := range clients {
		c := openWith(b, cl.open, addr)
		s := newRecStore(b, c, statetest.Config{})
		seed(b, s)
		for _, op := range benchOps {
			for _, par := range []bool{false, true} {
				name := cl.name + "/" + op.name + "/serial"
				if par {
					name = cl.name + "/" + op.name + "/parallel"
				}
				b.Run(name, func(b *testing.B) {
					ctx := context.Background()
					trips0 := c.RoundTrips()
					b.ReportAllocs()
					b.ResetTimer()
					if par {
						b.SetParallelism(8)
						var n atomic.Int64
						b.RunParallel(func(pb *testing.PB) {
							for pb.Next() {
								if err := op.op(ctx, s, int(n.Add(1))); err != nil {
									b.Error(err)
									return
								}
							}
						})
					} else {
						for i := range b.N {
							if err := op.op(ctx, s, i); err != nil {
								b.Fatal(err)
							}
						}
					}
					b.StopTimer()
					b.ReportMetric(float64(c.RoundTrips()-trips0)/float64(b.N), "trips/op")
				})
			}
		}
	}
}

// BenchmarkCachedRead is a GET through rueidis's client-side cache, the read
// path Cell does not take (TestCellCacheIsStale): no round trip on a hit.
// go-redis has no such cache, so its figure is a plain GET.
func BenchmarkCachedRead(b *testing.B) {
	addr := redistest.Addr(b)
	for _, cl := range clients {
		c := openWith(b, cl.open, addr)
		x := NewCell[statetest.Clock](c, "clock")
		if err := x.Store(context.Background(), statetest.Clock{Offset: time.Hour}); err != nil {
			b.Fatal(err)
		}
		b.Run(cl.name, func(b *testing.B) {
			ctx := context.Background()
			trips0 := c.RoundTrips()
			b.ReportAllocs()
			for range b.N {
				if _, _, err := c.getCached(ctx, x.key, time.Minute); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(c.RoundTrips()-trips0)/float64(b.N), "trips/op")
		})
	}
}

// TestRoundTrips keeps the promise of docs/redis.md: a read is one round
// trip, a write at most two (without contention), for both clients; Redis's
// MONITOR, which sees every command a client sends, agrees with the client's
// own count.
func TestRoundTrips(t *testing.T) {
	addr := redistest.Addr(t)
	want := map[string]int{"Get": 1, "Create": 1, "Update": 2, "UpdateHot": 2, "Lookup": 1, "LookupUpdateSeen": 2}
	for _, cl := range clients {
		c := openWith(t, cl.open, addr)
		s := newRecStore(t, c, statetest.Config{})
		seed(t, s)
		ctx := context.Background()
		for _, op := range benchOps {
			_ = op.op(ctx, s, 0) // loads the script into Redis (EVAL once)
			const n = 50
			m := monitor(t, addr, c.prefix)
			trips0 := c.RoundTrips()
			for i := 1; i <= n; i++ {
				if err := op.op(ctx, s, i); err != nil {
					t.Fatal(err)
				}
			}
			trips := float64(c.RoundTrips()-trips0) / n
			seen := float64(m.stop()) / n
			if trips != float64(want[op.name]) || seen != trips {
				t.Errorf("%s %s: %.2f round trips counted by the client, %.2f seen by Redis, per op; want %d", cl.name, op.name, trips, seen, want[op.name])
			}
		}
	}
}

type monitorConn struct {
	t     testing.TB
	addr  string
	conn  net.Conn
	token string
	done  chan int
}

// monitor counts the commands clients send to Redis with a key under
// prefix (not those scripts run inside it; not other tests' on the same
// Redis) until stop.
func monitor(t testing.TB, addr, prefix string) *monitorConn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	m := &monitorConn{t: t, addr: addr, conn: conn, token: redistest.Prefix(), done: make(chan int, 1)}
	if _, err := conn.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	if l, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(l, "+OK") {
		t.Fatalf("MONITOR: %q, %v", l, err)
	}
	go func() {
		n := 0
		for {
			l, err := r.ReadString('\n')
			if err != nil || strings.Contains(l, m.token) {
				m.done <- n
				return
			}
			if !strings.Contains(l, " lua]") && strings.Contains(l, prefix) {
				n++
			}
		}
	}()
	return m
}

func (m *monitorConn) stop() int {
	rawCommand(m.t, m.addr, "ECHO "+m.token)
	defer m.conn.Close()
	select {
	case n := <-m.done:
		return n
	case <-time.After(5 * time.Second):
		m.t.Fatal("MONITOR never saw the end marker")
		return 0
	}
}
