package redisstore

import (
	"context"
	"errors"
	"github.com/idpmock/idpmock/mock/internal/redistest"
	"sync"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/clock"
	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/state/statetest"
)

// TestPrefetchRoundTrips: a request whose memo (clock.WithMemo) is pending
// reads the shared clock in the same round trip as its first store command,
// whether that is a GET or a script; the clock read first is the fetch, and
// the next command is a plain one; without a memo every read is a trip.
func TestPrefetchRoundTrips(t *testing.T) {
	addr := redistest.Addr(t)
	c := openAt(t, addr, redistest.Prefix(), Options{})
	s := newRecStore(t, c, statetest.Config{})
	ctx := context.Background()
	if err := s.Create(ctx, statetest.Rec{ID: "r1", Owner: "o"}); err != nil {
		t.Fatal(err)
	}
	setter := clock.New()
	setter.Share(NewCell[clock.Settings](c, "control"))
	if err := setter.Advance(time.Hour); err != nil {
		t.Fatal(err)
	}
	clk := clock.New()
	clk.Share(NewCell[clock.Settings](c, "control"))

	tests := []struct {
		name  string
		memo  bool
		steps func(ctx context.Context) error
		trips uint64
	}{
		{"Get then Now, no memo", false, func(ctx context.Context) error {
			_, err := s.Get(ctx, "r1")
			clk.NowContext(ctx)
			return err
		}, 2},
		{"Get then Now, memo", true, func(ctx context.Context) error {
			_, err := s.Get(ctx, "r1")
			clk.NowContext(ctx)
			return err
		}, 1},
		{"Now then Get, memo", true, func(ctx context.Context) error {
			clk.NowContext(ctx)
			_, err := s.Get(ctx, "r1")
			clk.NowContext(ctx)
			return err
		}, 2},
		{"Create then Now twice, memo", true, func(ctx context.Context) error {
			err := s.Create(ctx, statetest.Rec{ID: "r2", Owner: "o"})
			clk.NowContext(ctx)
			clk.NowContext(ctx)
			return err
		}, 1},
		{"script unknown to Redis, memo", true, func(ctx context.Context) error {
			rawCommand(t, addr, "SCRIPT FLUSH")
			if err := s.Create(ctx, statetest.Rec{ID: "r3", Owner: "o"}); err != nil {
				return err
			}
			if _, err := s.Get(context.Background(), "r3"); err != nil {
				return err
			}
			clk.NowContext(ctx)
			return nil
		}, 2}, // EVALSHA refused, EVAL (counted with the pipeline), then the check's Get
		{"Now twice, no memo", false, func(ctx context.Context) error {
			clk.NowContext(ctx)
			clk.NowContext(ctx)
			return nil
		}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := ctx
			if tt.memo {
				ctx = clk.WithMemo(ctx)
			}
			before := c.RoundTrips()
			if err := tt.steps(ctx); err != nil {
				t.Fatal(err)
			}
			if got := c.RoundTrips() - before; got != tt.trips {
				t.Errorf("%d round trips, want %d", got, tt.trips)
			}
			// Whatever carried it, the settings read are the shared ones.
			if d := time.Until(clk.NowContext(ctx)); d < 59*time.Minute || d > 61*time.Minute {
				t.Errorf("clock is %v ahead, want 1h", d)
			}
		})
	}
}

// TestPrefetchCarriesFailure: a piggybacked read that fails hands the
// failure (an unavailable store) to the clock, which keeps its last settings.
func TestPrefetchCarriesFailure(t *testing.T) {
	addr := redistest.Addr(t)
	c := openAt(t, addr, redistest.Prefix(), Options{Timeout: 200 * time.Millisecond})
	clk := clock.New()
	clk.Share(NewCell[clock.Settings](c, "control"))
	ctx := clk.WithMemo(context.Background())
	p := state.PrefetchFrom(ctx)
	if !p.Claim() {
		t.Fatal("a fresh prefetch is not claimable")
	}
	p.Fill(nil, false, &state.UnavailableError{Err: errors.New("down")})
	if _, err := clk.SettingsContext(ctx); !errors.Is(err, state.ErrUnavailable) {
		t.Errorf("SettingsContext = %v, want an unavailable error", err)
	}
	if now := clk.NowContext(ctx); time.Since(now).Abs() > time.Minute {
		t.Errorf("NowContext after a failed read = %v, want about the wall clock", now)
	}
}

// TestCellUpdateConcurrent: replicas (clients) advancing a shared clock at
// once all count.
func TestCellUpdateConcurrent(t *testing.T) {
	addr := redistest.Addr(t)
	prefix := redistest.Prefix()
	const replicas, each = 4, 5
	var wg sync.WaitGroup
	for range replicas {
		clk := clock.New()
		clk.Share(NewCell[clock.Settings](openAt(t, addr, prefix, Options{}), "control"))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := clk.Advance(time.Hour); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	clk := clock.New()
	clk.Share(NewCell[clock.Settings](openAt(t, addr, prefix, Options{}), "control"))
	st := clk.State()
	if want := replicas * each * time.Hour; st.Offset < want-time.Second || st.Offset > want+time.Second {
		t.Errorf("offset %v, want %v", st.Offset, want)
	}
	// Out of range is refused and changes nothing.
	if err := clk.Set(time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)); err == nil {
		t.Error("a set out of range was accepted")
	}
	if got := clk.State().Offset; got != st.Offset {
		t.Errorf("offset %v after a refused set, want %v", got, st.Offset)
	}
}

// TestSeqLog: numbers grow across clients and through Clear; Since filters.
func TestSeqLog(t *testing.T) {
	addr := redistest.Addr(t)
	prefix := redistest.Prefix()
	ctx := context.Background()
	a := NewLog(openAt(t, addr, prefix, Options{}), "journal", 3)
	b := NewLog(openAt(t, addr, prefix, Options{}), "journal", 3)
	for i, l := range []*Log{a, b, a, b} {
		n, err := l.Push(ctx, []byte(`{"i":`+string(rune('0'+i))+`}`))
		if err != nil || n != int64(i+1) {
			t.Fatalf("push %d = %d, %v", i, n, err)
		}
	}
	es, newest, err := b.Since(ctx, 2)
	if err != nil || newest != 4 || len(es) != 2 || es[0].Seq != 3 || string(es[1].Entry) != `{"i":3}` {
		t.Fatalf("Since(2) = %+v, %d, %v", es, newest, err)
	}
	if es, _, _ := a.Since(ctx, 0); len(es) != 3 || es[0].Seq != 2 {
		t.Errorf("capped log = %+v, want entries 2..4", es)
	}
	if err := a.Clear(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := b.Push(ctx, []byte("{}")); err != nil || n != 5 {
		t.Errorf("push after Clear = %d, %v, want 5", n, err)
	}
}
