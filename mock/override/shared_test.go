package override

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/state"
)

// countingCell counts the table reads, to see the per-process cache work.
type countingCell struct {
	state.MemoryCell[Table]
	loads atomic.Int32
}

func (c *countingCell) Load(ctx context.Context) (Table, error) {
	c.loads.Add(1)
	return c.MemoryCell.Load(ctx)
}

// replicaSets are n sets sharing one table and one counter family, as
// replicas on one Redis do; version is the overrides version they share.
func replicaSets(n int) ([]*Set, *countingCell, *atomic.Int64) {
	cell, used, version := &countingCell{}, &state.MemoryCounters{}, &atomic.Int64{}
	out := make([]*Set, n)
	for i := range out {
		out[i] = NewSet()
		out[i].Share(cell, used, func(context.Context) error { version.Add(1); return nil })
	}
	return out, cell, version
}

func TestSharedSetAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	sets, cell, version := replicaSets(2)
	a, b := sets[0], sets[1]
	req := Request{Operation: "op", Header: http.Header{}}
	take := func(s *Set) int {
		r, ok, err := s.TakeContext(ctx, version.Load(), req)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return 0
		}
		return r.Status
	}
	if got := take(b); got != 0 {
		t.Fatalf("empty set answered %d", got)
	}
	r1, err := a.AddContext(ctx, Spec{Operation: "op", Status: 500}, SourceAPI, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	r2, _ := b.AddContext(ctx, Spec{Operation: "op", Status: 429, Times: 3}, SourceAPI, time.Now())
	if r1.ID == r2.ID {
		t.Fatalf("two rules share the id %s", r1.ID)
	}
	tests := []struct {
		name string
		on   *Set
		want int
	}{
		{"newest rule, on A", a, 429},
		{"on B", b, 429},
		{"on A", a, 429},
		{"times spent across both: older rule", b, 500},
		{"still the older rule", a, 500},
	}
	for _, tt := range tests {
		if got := take(tt.on); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
	loads := cell.loads.Load()
	take(a)
	take(b)
	if cell.loads.Load() != loads {
		t.Errorf("the table was read again without a change of version")
	}
	if r, ok, _ := b.GetContext(ctx, r2.ID); !ok || r.Hits != 3 || r.Remaining != 0 {
		t.Errorf("counted rule on B: %+v", r)
	}
	if ok, _ := a.DeleteContext(ctx, r1.ID); !ok {
		t.Fatal("delete on A found nothing")
	}
	if got := take(b); got != 0 {
		t.Errorf("B after A deleted the older rule: %d", got)
	}
	if ok, _ := b.DeleteContext(ctx, r1.ID); ok {
		t.Error("a rule was deleted twice")
	}
	// The same file on every replica: loaded once, counts kept.
	file := []Spec{{Operation: "op", Status: 404, Times: 1}}
	for _, s := range sets {
		if err := s.ReplaceSourceContext(ctx, SourceFile, file, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if got, got2 := take(a), take(b); got != 404 || got2 != 0 {
		t.Errorf("file rule times 1 on two replicas: %d then %d", got, got2)
	}
	if err := a.ReplaceSourceContext(ctx, SourceFile, file, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := take(b); got != 0 {
		t.Errorf("reloading the same file re-armed its rule: %d", got)
	}
	if err := b.ClearContext(ctx); err != nil {
		t.Fatal(err)
	}
	if rs, _ := a.ListContext(ctx); len(rs) != 0 {
		t.Errorf("A lists %d rules after B cleared", len(rs))
	}
	if err := a.ReplaceSourceContext(ctx, SourceFile, file, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := take(b); got != 404 {
		t.Errorf("file rule after a clear (reset): %d, want it re-armed", got)
	}
}

func TestSharedSetTimesConcurrent(t *testing.T) {
	ctx := context.Background()
	sets, _, version := replicaSets(4)
	if _, err := sets[0].AddContext(ctx, Spec{Operation: "op", Status: 429, Times: 5}, SourceAPI, time.Now()); err != nil {
		t.Fatal(err)
	}
	var fired atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, ok, err := sets[i%4].TakeContext(ctx, version.Load(), Request{Operation: "op", Header: http.Header{}}); err != nil {
				t.Error(err)
			} else if ok {
				fired.Add(1)
			}
		}()
	}
	wg.Wait()
	if fired.Load() != 5 {
		t.Errorf("times 5 fired %d times over 4 replicas", fired.Load())
	}
}
