package state_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/idpmock/idpmock/mock/state"
)

type rec struct {
	ID    string
	Owner string
	Tags  []string
	N     int
}

func (r rec) Clone() rec { r.Tags = slices.Clone(r.Tags); return r }

func newStore(opts ...state.Option[rec]) *state.Memory[rec] {
	opts = append([]state.Option[rec]{state.WithIndex(state.Index[rec]{Name: "owner", Keys: func(r rec) []string {
		if r.Owner == "" {
			return nil
		}
		return []string{r.Owner}
	}})}, opts...)
	return state.NewMemory(func(r rec) string { return r.ID }, opts...)
}

func TestMemoryCRUD(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name string
		run  func(*state.Memory[rec]) error
		want error
	}{
		{"get missing", func(m *state.Memory[rec]) error { _, err := m.Get(ctx, "x"); return err }, state.ErrNotFound},
		{"create twice", func(m *state.Memory[rec]) error {
			_ = m.Create(ctx, rec{ID: "a"})
			return m.Create(ctx, rec{ID: "a"})
		}, state.ErrExists},
		{"update missing", func(m *state.Memory[rec]) error {
			_, err := m.Update(ctx, "x", func(r rec) (rec, error) { return r, nil })
			return err
		}, state.ErrNotFound},
		{"delete missing", func(m *state.Memory[rec]) error { _, err := m.Delete(ctx, "x"); return err }, state.ErrNotFound},
		{"update error keeps record", func(m *state.Memory[rec]) error {
			_ = m.Create(ctx, rec{ID: "a", N: 1})
			boom := errors.New("boom")
			if _, err := m.Update(ctx, "a", func(r rec) (rec, error) { r.N = 9; return r, boom }); !errors.Is(err, boom) {
				return fmt.Errorf("update error = %v", err)
			}
			got, _ := m.Get(ctx, "a")
			if got.N != 1 {
				return fmt.Errorf("N = %d after failed update", got.N)
			}
			return nil
		}, nil},
		{"limit", func(m *state.Memory[rec]) error {
			_ = m.Create(ctx, rec{ID: "a"})
			_ = m.Create(ctx, rec{ID: "b"})
			return m.Create(ctx, rec{ID: "c"})
		}, state.ErrFull},
		{"cancelled context", func(m *state.Memory[rec]) error {
			c, cancel := context.WithCancel(ctx)
			cancel()
			_, err := m.Get(c, "a")
			return err
		}, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newStore(state.WithLimit[rec](2))
			if err := tt.run(m); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestMemoryCopiesAndIndexes(t *testing.T) {
	ctx := context.Background()
	m := newStore()
	orig := rec{ID: "a", Owner: "u1", Tags: []string{"x"}}
	if err := m.Create(ctx, orig); err != nil {
		t.Fatal(err)
	}
	orig.Tags[0] = "changed by caller"
	got, _ := m.Get(ctx, "a")
	got.Tags[0] = "changed by reader"
	again, _ := m.Get(ctx, "a")
	if again.Tags[0] != "x" {
		t.Fatalf("stored record was aliased: %q", again.Tags[0])
	}
	if _, err := m.Update(ctx, "a", func(r rec) (rec, error) { r.Owner = "u2"; return r, nil }); err != nil {
		t.Fatal(err)
	}
	if l, _ := m.Lookup(ctx, "owner", "u1"); len(l) != 0 {
		t.Fatalf("stale index entry: %v", l)
	}
	if l, _ := m.Lookup(ctx, "owner", "u2"); len(l) != 1 {
		t.Fatalf("index not updated: %v", l)
	}
	if n, n1 := m.Count("owner", "u2"), m.Count("owner", "u1"); n != 1 || n1 != 0 {
		t.Fatalf("Count: u2 %d, u1 %d; want 1, 0", n, n1)
	}
	if _, err := m.Lookup(ctx, "nope", "u2"); err == nil {
		t.Fatal("unknown index accepted")
	}
	snap := m.Snapshot()
	m.Clear()
	if m.Len() != 0 {
		t.Fatal("clear left records")
	}
	if err := m.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if l, _ := m.Lookup(ctx, "owner", "u2"); len(l) != 1 {
		t.Fatalf("restore did not rebuild the index: %v", l)
	}
	if err := m.Restore([]rec{{ID: "d"}, {ID: "d"}}); err == nil {
		t.Fatal("duplicate keys restored")
	}
	if m.Len() != 1 {
		t.Fatal("failed restore changed the store")
	}
}

func TestMemoryConcurrentUpdates(t *testing.T) {
	ctx := context.Background()
	m := newStore()
	_ = m.Create(ctx, rec{ID: "a"})
	const workers, each = 16, 200
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				_, _ = m.Update(ctx, "a", func(r rec) (rec, error) { r.N++; return r, nil })
				_ = m.Create(ctx, rec{ID: fmt.Sprintf("w%d-%d", w, i), Owner: "o"})
			}
		}(w)
	}
	wg.Wait()
	got, _ := m.Get(ctx, "a")
	if got.N != workers*each {
		t.Fatalf("lost updates: N = %d, want %d", got.N, workers*each)
	}
	if l, _ := m.Lookup(ctx, "owner", "o"); len(l) != workers*each {
		t.Fatalf("index has %d, want %d", len(l), workers*each)
	}
}
