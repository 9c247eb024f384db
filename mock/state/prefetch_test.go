package state

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"
)

func TestPrefetch(t *testing.T) {
	decode := func(raw []byte, found bool) (any, error) {
		if !found {
			return "absent", nil
		}
		return "decoded " + string(raw), nil
	}
	down := &UnavailableError{Err: errors.New("down")}
	tests := []struct {
		name    string
		store   func(p *Prefetch) // what a store does before Value, if anything
		load    func(context.Context) (any, error)
		want    any
		wantErr error
		loads   int
	}{
		{"no store trip: Value loads", nil, nil, "loaded", nil, 1},
		{"a store trip carried it", func(p *Prefetch) {
			if p.Claim() {
				p.Fill([]byte("v"), true, nil)
			}
		}, nil, "decoded v", nil, 0},
		{"the key was absent", func(p *Prefetch) {
			if p.Claim() {
				p.Fill(nil, false, nil)
			}
		}, nil, "absent", nil, 0},
		{"the carried read failed", func(p *Prefetch) {
			if p.Claim() {
				p.Fill(nil, false, down)
			}
		}, nil, nil, ErrUnavailable, 0},
		{"the load failed", nil, func(context.Context) (any, error) { return nil, down }, nil, ErrUnavailable, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loads := 0
			load := func(ctx context.Context) (any, error) {
				loads++
				if tt.load != nil {
					return tt.load(ctx)
				}
				return "loaded", nil
			}
			p := NewPrefetch("src")
			ctx := WithPrefetch(context.Background(), p)
			if PrefetchFrom(ctx) != p {
				t.Fatal("PrefetchFrom lost the prefetch")
			}
			if tt.store != nil {
				tt.store(p)
			}
			for range 2 { // the second Value is free
				v, err := p.Value(ctx, decode, load)
				if !errors.Is(err, tt.wantErr) || err == nil && v != tt.want {
					t.Errorf("Value = %v, %v; want %v, %v", v, err, tt.want, tt.wantErr)
				}
			}
			if loads != tt.loads {
				t.Errorf("%d loads, want %d", loads, tt.loads)
			}
			if p.Claim() {
				t.Error("a used prefetch was claimed again")
			}
		})
	}
}

// TestPrefetchWaitsForTheTrip: Value during a claimed store trip waits for
// its answer rather than reading again.
func TestPrefetchWaitsForTheTrip(t *testing.T) {
	p := NewPrefetch("src")
	if !p.Claim() {
		t.Fatal("fresh prefetch not claimable")
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(20 * time.Millisecond)
		p.Fill([]byte("late"), true, nil)
	}()
	v, err := p.Value(context.Background(), func(raw []byte, _ bool) (any, error) { return string(raw), nil },
		func(context.Context) (any, error) { t.Error("loaded during a claimed trip"); return nil, nil })
	wg.Wait()
	if err != nil || v != "late" {
		t.Errorf("Value = %v, %v", v, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q := NewPrefetch("src")
	q.Claim()
	if _, err := q.Value(ctx, nil, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Value with a done context and no answer = %v", err)
	}
}

func TestMemoryCellUpdate(t *testing.T) {
	c := &MemoryCell[int]{}
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = c.Update(ctx, func(v int) (int, error) { return v + 1, nil })
		}()
	}
	wg.Wait()
	if _, err := c.Update(ctx, func(int) (int, error) { return 0, errors.New("refused") }); err == nil {
		t.Error("an error from fn was lost")
	}
	if v, _ := c.Load(ctx); v != 50 {
		t.Errorf("50 concurrent updates left %d", v)
	}
}
