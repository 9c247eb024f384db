package stores

import (
	"context"
	"errors"
	"fmt"
	"github.com/idpmock/idpmock/mock/internal/redistest"
	"os"
	"sync"
	"testing"

	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/state/statetest"
)

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"redis://127.0.0.1:6379/0":               "redis://127.0.0.1:6379/0",
		"redis://user:s3cret@redis:6379/2":       "redis://***@redis:6379/2",
		"rediss://:p@ss@w0rd@cache.example:6380": "rediss://***@cache.example:6380",
		"memory":                                 "memory",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOpenRefuses(t *testing.T) {
	for _, store := range []string{"redis", "postgres://x", "http://127.0.0.1:6379", "Memory"} {
		if b, err := Open(context.Background(), store, Options{}); err == nil {
			b.Close()
			t.Errorf("Open(%q) accepted", store)
		}
	}
	for _, store := range []string{"", "memory"} {
		b, err := Open(context.Background(), store, Options{})
		if err != nil || b.Shared() || b.String() != "memory" {
			t.Errorf("Open(%q) = %v, %v; want the memory backend", store, b, err)
		}
	}
}

// backends are the memory backend and, with IDPMOCK_TEST_REDIS, two
// "replicas" on one Redis: stores opened through either share records.
func backends(t *testing.T) map[string][2]*Backend {
	m := map[string][2]*Backend{}
	mem := Memory()
	m["memory"] = [2]*Backend{mem, mem}
	if addr := os.Getenv(redistest.Env); addr != "" {
		prefix := redistest.Prefix()
		var pair [2]*Backend
		for i := range pair {
			b, err := Open(context.Background(), "redis://"+addr, Options{Prefix: prefix})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(b.Close)
			pair[i] = b
		}
		m["redis"] = pair
	}
	return m
}

// A budget bounds two stores together, on each replica, whatever the
// interleaving: of 24 racing creates over two stores and two replicas,
// exactly the budget's 10 succeed, the others say why.
func TestBudgetAcrossStores(t *testing.T) {
	for name, pair := range backends(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			var open []state.Store[statetest.Rec]
			for _, b := range pair {
				budget := state.NewBudget(10, "sessions") // each replica has its own
				for _, n := range []string{"a:sessions", "b:sessions"} {
					s, err := OpenStore(b, Spec[statetest.Rec]{Name: n, Key: statetest.Key, Indexes: statetest.Indexes, Budget: budget})
					if err != nil {
						t.Fatal(err)
					}
					open = append(open, s)
				}
				if !b.Shared() {
					break // one process: one budget
				}
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			ok, refused := 0, 0
			for i := range 24 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := open[i%len(open)].Create(ctx, statetest.Rec{ID: fmt.Sprint("r", i), Owner: "o"})
					mu.Lock()
					defer mu.Unlock()
					var be *state.BudgetError
					switch {
					case err == nil:
						ok++
					case errors.As(err, &be) && errors.Is(err, state.ErrFull) && be.Limit == 10:
						refused++
					default:
						t.Errorf("create %d: %v", i, err)
					}
				}()
			}
			wg.Wait()
			if ok != 10 || refused != 14 {
				t.Fatalf("%d created, %d refused; want 10 and 14", ok, refused)
			}
		})
	}
}

// Counters, cells and logs opened by name on two replicas are one.
func TestSharedByName(t *testing.T) {
	for name, pair := range backends(t) {
		if !pair[0].Shared() {
			continue
		}
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			a, b := pair[0], pair[1]
			if err := a.Counters("x").Arm(ctx, "o", 2); err != nil {
				t.Fatal(err)
			}
			for i, want := range []bool{true, true, false} {
				if got, err := b.Counters("x").Take(ctx, "o"); err != nil || got != want {
					t.Fatalf("take %d on the other replica = %v, %v; want %v", i, got, err, want)
				}
			}
			if err := Cell[int](a, "c").Store(ctx, 7); err != nil {
				t.Fatal(err)
			}
			if v, err := Cell[int](b, "c").Load(ctx); err != nil || v != 7 {
				t.Fatalf("cell on the other replica = %d, %v", v, err)
			}
			if err := a.Log("j", 2).Append(ctx, []byte("e1")); err != nil {
				t.Fatal(err)
			}
			if n, err := b.Log("j", 2).Len(ctx); err != nil || n != 1 {
				t.Fatalf("log on the other replica holds %d, %v", n, err)
			}
			if a.RoundTrips() == 0 {
				t.Fatal("no round trip counted")
			}
		})
	}
}
