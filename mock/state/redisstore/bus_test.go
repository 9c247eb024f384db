package redisstore

import (
	"context"
	"github.com/idpmock/idpmock/mock/internal/redistest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func startedBus(t *testing.T, c *Client, onLive *atomic.Int32, handled func(string)) *Bus {
	t.Helper()
	b := NewBus(c, "control")
	b.Handle("k", func(_ context.Context, p []byte) {
		time.Sleep(30 * time.Millisecond) // a slow replica: Call must wait for it
		handled(string(p))
	})
	b.OnLive(func(context.Context) error { onLive.Add(1); return nil })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := b.Start(ctx); err != nil {
		t.Fatal(err)
	}
	waitLive(t, b, true, 2*time.Second)
	return b
}

func waitLive(t *testing.T, b *Bus, want bool, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for b.Live() != want {
		if time.Since(start) > limit {
			t.Fatalf("bus live = %v after %s, want %v", b.Live(), limit, want)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Since(start)
}

// Call returns only once every listening replica has handled the message:
// what a replica changed is what every replica serves when Call returns.
func TestBusCallWaitsForEveryReplica(t *testing.T) {
	addr := redistest.Addr(t)
	prefix := redistest.Prefix()
	var mu sync.Mutex
	seen := map[int][]string{}
	var lives atomic.Int32
	var buses []*Bus
	for i := range 3 {
		buses = append(buses, startedBus(t, openAt(t, addr, prefix, Options{}), &lives, func(p string) {
			mu.Lock()
			seen[i] = append(seen[i], p)
			mu.Unlock()
		}))
	}
	if lives.Load() != 3 {
		t.Fatalf("OnLive ran %d times, want 3", lives.Load())
	}
	for _, msg := range []string{"one", "two"} {
		if err := buses[1].Call(context.Background(), "k", []byte(msg)); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		for i := range 3 {
			if n := len(seen[i]); n == 0 || seen[i][n-1] != msg {
				t.Errorf("after Call(%q) returned, replica %d has handled %v", msg, i, seen[i])
			}
		}
		mu.Unlock()
	}
	// Another prefix is another mock: it hears nothing.
	var other atomic.Int32
	startedBus(t, openAt(t, addr, redistest.Prefix(), Options{}), &other, func(p string) { t.Errorf("other mock heard %q", p) })
	if err := buses[0].Call(context.Background(), "k", []byte("three")); err != nil {
		t.Fatal(err)
	}
}

// A bus is not live while Redis is down (its replica then reads the store
// per request) and is live again, after OnLive, once Redis is back.
func TestBusLiveFollowsRedis(t *testing.T) {
	r := redistest.Start(t)
	var lives atomic.Int32
	b := startedBus(t, openAt(t, r.Addr, redistest.Prefix(), Options{Timeout: 300 * time.Millisecond}), &lives, func(string) {})
	r.Stop(true)
	waitLive(t, b, false, time.Second)
	if err := b.Call(context.Background(), "k", nil); err == nil {
		t.Error("Call with Redis down succeeded")
	}
	r.Restart()
	took := waitLive(t, b, true, time.Second)
	if lives.Load() != 2 {
		t.Errorf("OnLive ran %d times, want 2 (start, reconnect)", lives.Load())
	}
	t.Logf("live again %s after Redis accepted connections", took)
}
