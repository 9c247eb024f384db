package state_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/idpmock/idpmock/mock/state"
)

// TestBudget: two stores share one bound; creates past it and restores
// that would pass it fail with a *BudgetError matching ErrFull and change
// nothing; deletes, clears and smaller restores give room back; under
// concurrent creates the bound is never passed.
func TestBudget(t *testing.T) {
	ctx := context.Background()
	b := state.NewBudget(5, "records")
	a, c := newStore(), newStore()
	a.SetBudget(b)
	c.SetBudget(b)
	for i := range 3 {
		if err := a.Create(ctx, rec{ID: fmt.Sprint("a", i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 {
		if err := c.Create(ctx, rec{ID: fmt.Sprint("c", i)}); err != nil {
			t.Fatal(err)
		}
	}
	var be *state.BudgetError
	if err := c.Create(ctx, rec{ID: "c9"}); !errors.As(err, &be) || !errors.Is(err, state.ErrFull) || be.Limit != 5 {
		t.Fatalf("create past the budget: %v", err)
	}
	if err := c.Restore([]rec{{ID: "x"}, {ID: "y"}, {ID: "z"}}); !errors.Is(err, state.ErrFull) || c.Len() != 2 {
		t.Fatalf("restore past the budget: %v, %d records", err, c.Len())
	}
	if _, err := a.Delete(ctx, "a0"); err != nil {
		t.Fatal(err)
	}
	if err := c.Restore([]rec{{ID: "x"}, {ID: "y"}, {ID: "z"}}); err != nil || b.Used() != 5 {
		t.Fatalf("restore into the room a delete made: %v, used %d", err, b.Used())
	}
	a.Clear()
	c.Clear()
	if b.Used() != 0 {
		t.Fatalf("used %d after clearing both stores", b.Used())
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 10 {
				_ = a.Create(ctx, rec{ID: fmt.Sprint(w, "-", i)})
			}
		}()
	}
	wg.Wait()
	if a.Len() != 5 || b.Used() != 5 {
		t.Fatalf("concurrent creates: %d records, %d used, want 5", a.Len(), b.Used())
	}
}

// TestObserverAndRestoreCaps: an observer hears every change in order
// (Replaced for Clear and Restore); a Restore is held to the index caps.
func TestObserverAndRestoreCaps(t *testing.T) {
	ctx := context.Background()
	var heard []string
	m := newStore(state.WithIndexLimit[rec]("owner", 2))
	m.Observe(state.Observer[rec]{
		Changed:  func(key string, v rec, deleted bool) { heard = append(heard, fmt.Sprintf("%s%d%v", key, v.N, deleted)) },
		Replaced: func() { heard = append(heard, "replaced") },
	})
	_ = m.Create(ctx, rec{ID: "a", Owner: "o"})
	_, _ = m.Update(ctx, "a", func(r rec) (rec, error) { r.N = 1; return r, nil })
	_, _ = m.Update(ctx, "a", func(r rec) (rec, error) { return r, errors.New("no") }) // refused: not heard
	_, _ = m.Delete(ctx, "a")
	_ = m.Restore([]rec{{ID: "b", Owner: "o"}})
	m.Clear()
	want := []string{"a0false", "a1false", "a1true", "replaced", "replaced"}
	if fmt.Sprint(heard) != fmt.Sprint(want) {
		t.Errorf("heard %v, want %v", heard, want)
	}
	if err := m.Restore([]rec{{ID: "x", Owner: "o"}, {ID: "y", Owner: "o"}, {ID: "z", Owner: "o"}}); !errors.Is(err, state.ErrFull) || m.Len() != 0 {
		t.Errorf("restore past an index cap: %v, %d records", err, m.Len())
	}
}
