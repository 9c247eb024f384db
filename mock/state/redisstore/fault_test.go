package redisstore

import (
	"context"
	"errors"
	"github.com/idpmock/idpmock/mock/internal/redistest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/state/statetest"
)

// load runs creates, updates and reads of a few records until stop is
// closed, counting successes and sorting failures.
type load struct {
	ok, unavailable atomic.Int64
	mu              sync.Mutex
	other           []error
	acked           map[string]int // acknowledged updates per record
}

func (l *load) run(ctx context.Context, s *Store[statetest.Rec], workers int, stop <-chan struct{}) *sync.WaitGroup {
	l.acked = make(map[string]int)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := "r" + strconv.Itoa((w+i)%8)
				var err error
				switch i % 3 {
				case 0:
					err = s.Create(ctx, statetest.Rec{ID: id, Owner: "o" + strconv.Itoa(i%2), Tags: []string{"t" + id}})
					if errors.Is(err, state.ErrExists) {
						err = nil
					}
				case 1:
					_, err = s.Update(ctx, id, func(r statetest.Rec) (statetest.Rec, error) {
						r.N++
						r.Owner = "o" + strconv.Itoa(r.N%2)
						return r, nil
					})
					if err == nil {
						l.mu.Lock()
						l.acked[id]++
						l.mu.Unlock()
					}
					if errors.Is(err, state.ErrNotFound) {
						err = nil
					}
				case 2:
					_, err = s.Get(ctx, id)
					if errors.Is(err, state.ErrNotFound) {
						err = nil
					}
				}
				switch {
				case err == nil:
					l.ok.Add(1)
				case errors.Is(err, state.ErrUnavailable):
					l.unavailable.Add(1)
					time.Sleep(2 * time.Millisecond)
				default:
					l.mu.Lock()
					l.other = append(l.other, err)
					l.mu.Unlock()
				}
			}
		}()
	}
	return &wg
}

// untilServing polls s every 5 ms and returns how long it took to succeed.
func untilServing(t *testing.T, s *Store[statetest.Rec], limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for time.Since(start) < limit {
		if _, err := s.Total(context.Background()); err == nil {
			return time.Since(start)
		} else if !errors.Is(err, state.ErrUnavailable) {
			t.Fatalf("while Redis returns: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("not serving %v after Redis returned", limit)
	return 0
}

// checkConsistent: every record is in exactly the index entries its fields
// name, the counts agree, and no acknowledged update is missing.
func checkConsistent(t *testing.T, s *Store[statetest.Rec], acked map[string]int) {
	t.Helper()
	ctx := context.Background()
	all, err := s.List(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Total(ctx); n != len(all) {
		t.Errorf("total %d, list %d", n, len(all))
	}
	owners := map[string]int{}
	for _, r := range all {
		owners[r.Owner]++
		if r.N < acked[r.ID] {
			t.Errorf("%s: N = %d but %d updates were acknowledged", r.ID, r.N, acked[r.ID])
		}
		got, err := s.Lookup(ctx, statetest.Tag, "t"+r.ID)
		if err != nil || len(got) != 1 || got[0].N != r.N {
			t.Errorf("%s: tag lookup = %+v, %v", r.ID, got, err)
		}
	}
	for _, o := range []string{"o0", "o1"} {
		n, err := s.CountKey(ctx, statetest.Owner, o)
		if err != nil || n != owners[o] {
			t.Errorf("owner %s: count %d (%v), records %d", o, n, err, owners[o])
		}
	}
	if len(all) == 0 {
		t.Error("no record survived; the load did nothing")
	}
}

// Redis stopped mid-load: only unavailable errors, nothing half-written, and
// the client serves again by itself soon after Redis is back.
func TestRedisStoppedMidLoad(t *testing.T) {
	r := redistest.Start(t)
	s := newRecStore(t, openAt(t, r.Addr, redistest.Prefix(), Options{Timeout: 300 * time.Millisecond}), statetest.Config{})
	var l load
	stop := make(chan struct{})
	wg := l.run(context.Background(), s, 8, stop)
	time.Sleep(300 * time.Millisecond)
	r.Stop(true)
	time.Sleep(300 * time.Millisecond)
	r.Restart()
	back := untilServing(t, s, 3*time.Second)
	close(stop)
	wg.Wait()
	t.Logf("ok %d, unavailable %d, serving again %v after redis-server accepted connections", l.ok.Load(), l.unavailable.Load(), back)
	for _, err := range l.other {
		t.Errorf("error that is not unavailable: %v", err)
	}
	if l.unavailable.Load() == 0 {
		t.Error("no unavailable error while Redis was down")
	}
	if back > time.Second {
		t.Errorf("serving again took %v, want under 1s", back)
	}
	checkConsistent(t, s, l.acked)
}

// Redis hanging (SIGSTOP) makes operations fail with unavailable after the
// timeout, not hang; they succeed again once it resumes.
func TestRedisHangs(t *testing.T) {
	r := redistest.Start(t)
	timeout := 200 * time.Millisecond
	s := newRecStore(t, openAt(t, r.Addr, redistest.Prefix(), Options{Timeout: timeout}), statetest.Config{})
	ctx := context.Background()
	if err := s.Create(ctx, statetest.Rec{ID: "a", Tags: []string{"ta"}}); err != nil {
		t.Fatal(err)
	}
	if err := r.Freeze(); err != nil {
		t.Fatal(err)
	}
	ops := map[string]func() error{
		"get":    func() error { _, err := s.Get(ctx, "a"); return err },
		"create": func() error { return s.Create(ctx, statetest.Rec{ID: "b", Tags: []string{"tb"}}) },
		"update": func() error {
			_, err := s.Update(ctx, "a", func(r statetest.Rec) (statetest.Rec, error) { r.N++; return r, nil })
			return err
		},
	}
	for name, op := range ops {
		start := time.Now()
		err := op()
		took := time.Since(start)
		if !errors.Is(err, state.ErrUnavailable) {
			t.Errorf("%s while hung: %v, want unavailable", name, err)
		}
		if took > 3*timeout {
			t.Errorf("%s took %v, timeout is %v", name, took, timeout)
		}
		t.Logf("%s: %v after %v", name, err, took)
	}
	if err := r.Thaw(); err != nil {
		t.Fatal(err)
	}
	back := untilServing(t, s, 3*time.Second)
	t.Logf("serving again %v after SIGCONT", back)
	if back > time.Second {
		t.Errorf("serving again took %v", back)
	}
	// A write that timed out may or may not have landed, but never in part.
	checkConsistent(t, s, map[string]int{})
}
