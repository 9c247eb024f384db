// Package statetest is the conformance suite every state.Store, Cell,
// Counters and Log implementation runs, so that the memory and the Redis
// backends keep identical semantics.
package statetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/state"
)

// Rec is the record type the suite stores.
type Rec struct {
	ID    string
	Owner string
	Tags  []string
	N     int
}

// Clone deep-copies r.
func (r Rec) Clone() Rec { r.Tags = slices.Clone(r.Tags); return r }

// Key is the record key.
func Key(r Rec) string { return r.ID }

// Index names the suite's indexes use.
const (
	Owner = "owner"
	Tag   = "tag"
)

// Indexes are the suite's secondary indexes: by owner (zero or one key) and
// by tag (many keys).
var Indexes = []state.Index[Rec]{
	{Name: Owner, Keys: func(r Rec) []string {
		if r.Owner == "" {
			return nil
		}
		return []string{r.Owner}
	}},
	{Name: Tag, Keys: func(r Rec) []string { return r.Tags }},
}

// Config is what a store under test is built with.
type Config struct {
	Limit      int // whole-store cap, 0 for none
	OwnerLimit int // cap per owner, 0 for none
}

// Clock is the value the suite keeps in a Cell.
type Clock struct {
	Offset time.Duration
	Frozen bool
	At     time.Time
}

// Backend builds fresh, empty instances for one test.
type Backend struct {
	Store    func(t *testing.T, c Config) state.Store[Rec]
	Cell     func(t *testing.T) state.Cell[Clock]
	Counters func(t *testing.T) state.Counters
	Log      func(t *testing.T, max int) state.Log
}

// Run runs the whole suite against b.
func Run(t *testing.T, b Backend) {
	t.Run("Errors", func(t *testing.T) { testErrors(t, b) })
	t.Run("Caps", func(t *testing.T) { testCaps(t, b) })
	t.Run("Indexes", func(t *testing.T) { testIndexes(t, b) })
	t.Run("ListResetDumpLoad", func(t *testing.T) { testListResetDumpLoad(t, b) })
	t.Run("ConcurrentUpdates", func(t *testing.T) { testConcurrentUpdates(t, b, 16, 25) })
	t.Run("Seen", func(t *testing.T) { testSeen(t, b) })
	t.Run("Cell", func(t *testing.T) { testCell(t, b) })
	t.Run("Counters", func(t *testing.T) { testCounters(t, b) })
	t.Run("Log", func(t *testing.T) { testLog(t, b) })
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ids(rs []Rec) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.ID
	}
	return out
}

func testErrors(t *testing.T, b Backend) {
	ctx := context.Background()
	boom := errors.New("boom")
	tests := []struct {
		name string
		run  func(s state.Store[Rec]) error
		want error
	}{
		{"get missing", func(s state.Store[Rec]) error { _, err := s.Get(ctx, "x"); return err }, state.ErrNotFound},
		{"create twice", func(s state.Store[Rec]) error {
			must(t, s.Create(ctx, Rec{ID: "a"}))
			return s.Create(ctx, Rec{ID: "a"})
		}, state.ErrExists},
		{"update missing", func(s state.Store[Rec]) error {
			_, err := s.Update(ctx, "x", func(r Rec) (Rec, error) { return r, nil })
			return err
		}, state.ErrNotFound},
		{"delete missing", func(s state.Store[Rec]) error { _, err := s.Delete(ctx, "x"); return err }, state.ErrNotFound},
		{"update error keeps record", func(s state.Store[Rec]) error {
			must(t, s.Create(ctx, Rec{ID: "a", N: 1, Owner: "o"}))
			if _, err := s.Update(ctx, "a", func(r Rec) (Rec, error) { r.N = 9; r.Owner = "p"; return r, boom }); !errors.Is(err, boom) {
				return fmt.Errorf("update error = %v", err)
			}
			got, err := s.Get(ctx, "a")
			if err != nil || got.N != 1 {
				return fmt.Errorf("after failed update: %+v, %v", got, err)
			}
			if n, _ := s.CountKey(ctx, Owner, "p"); n != 0 {
				return fmt.Errorf("failed update indexed owner p (%d)", n)
			}
			return nil
		}, nil},
		{"update cannot change the key", func(s state.Store[Rec]) error {
			must(t, s.Create(ctx, Rec{ID: "a", N: 1}))
			if _, err := s.Update(ctx, "a", func(r Rec) (Rec, error) { r.ID = "b"; return r, nil }); err == nil {
				return errors.New("key change accepted")
			}
			if _, err := s.Get(ctx, "b"); !errors.Is(err, state.ErrNotFound) {
				return fmt.Errorf("get b = %v", err)
			}
			got, err := s.Get(ctx, "a")
			if err != nil || got.N != 1 {
				return fmt.Errorf("after rejected update: %+v, %v", got, err)
			}
			return nil
		}, nil},
		{"update and delete return the records", func(s state.Store[Rec]) error {
			must(t, s.Create(ctx, Rec{ID: "a", N: 1, Tags: []string{"x"}}))
			up, err := s.Update(ctx, "a", func(r Rec) (Rec, error) { r.N++; return r, nil })
			if err != nil || up.N != 2 || !slices.Equal(up.Tags, []string{"x"}) {
				return fmt.Errorf("update = %+v, %v", up, err)
			}
			del, err := s.Delete(ctx, "a")
			if err != nil || del.N != 2 {
				return fmt.Errorf("delete = %+v, %v", del, err)
			}
			_, err = s.Get(ctx, "a")
			return err
		}, state.ErrNotFound},
		{"cancelled context", func(s state.Store[Rec]) error {
			c, cancel := context.WithCancel(ctx)
			cancel()
			_, err := s.Get(c, "a")
			return err
		}, context.Canceled},
		{"unknown index", func(s state.Store[Rec]) error {
			if _, err := s.Lookup(ctx, "nope", "x"); err == nil {
				return errors.New("lookup of unknown index succeeded")
			}
			if _, err := s.CountKey(ctx, "nope", "x"); err == nil {
				return errors.New("count of unknown index succeeded")
			}
			return nil
		}, nil},
		{"stored records are copies", func(s state.Store[Rec]) error {
			r := Rec{ID: "a", Tags: []string{"x"}}
			must(t, s.Create(ctx, r))
			r.Tags[0] = "changed"
			got, _ := s.Get(ctx, "a")
			got.Tags[0] = "changed too"
			again, _ := s.Get(ctx, "a")
			if again.Tags[0] != "x" {
				return fmt.Errorf("stored tags changed to %q", again.Tags[0])
			}
			return nil
		}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := b.Store(t, Config{})
			if err := tt.run(s); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func testCaps(t *testing.T, b Backend) {
	ctx := context.Background()
	tests := []struct {
		name   string
		cfg    Config
		create []Rec
		want   []error
	}{
		{"global", Config{Limit: 2},
			[]Rec{{ID: "a"}, {ID: "b"}, {ID: "c"}},
			[]error{nil, nil, state.ErrFull}},
		{"per owner", Config{OwnerLimit: 2},
			[]Rec{{ID: "a", Owner: "o"}, {ID: "b", Owner: "o"}, {ID: "c", Owner: "o"}, {ID: "d", Owner: "p"}, {ID: "e"}},
			[]error{nil, nil, state.ErrFull, nil, nil}},
		{"exists before full", Config{Limit: 1},
			[]Rec{{ID: "a"}, {ID: "a"}},
			[]error{nil, state.ErrExists}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := b.Store(t, tt.cfg)
			for i, r := range tt.create {
				if err := s.Create(ctx, r); !errors.Is(err, tt.want[i]) {
					t.Fatalf("create %s: %v, want %v", r.ID, err, tt.want[i])
				}
			}
			// Deleting one frees its slot.
			first := tt.create[0]
			if _, err := s.Delete(ctx, first.ID); err != nil {
				t.Fatal(err)
			}
			again := first
			again.ID = "z"
			if err := s.Create(ctx, again); err != nil {
				t.Fatalf("create after delete: %v", err)
			}
			// A load is held to the caps as creates are, and a refused
			// load changes nothing.
			before, err := s.Dump(ctx)
			must(t, err)
			over := append([]Rec(nil), tt.create...)
			for i := range over {
				over[i].ID = fmt.Sprint("l", i)
			}
			if err := s.Load(ctx, over); !errors.Is(err, state.ErrFull) && tt.want[len(tt.want)-1] == state.ErrFull {
				t.Fatalf("load over the cap: %v, want ErrFull", err)
			}
			if tt.want[len(tt.want)-1] == state.ErrFull {
				after, err := s.Dump(ctx)
				must(t, err)
				if !slices.Equal(ids(after), ids(before)) {
					t.Fatalf("refused load changed the store: %v, was %v", ids(after), ids(before))
				}
			}
		})
	}
}

func testIndexes(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Store(t, Config{})
	for _, r := range []Rec{
		{ID: "c", Owner: "u1", Tags: []string{"t1", "t2"}},
		{ID: "a", Owner: "u1", Tags: []string{"t2"}},
		{ID: "b", Owner: "u2"},
	} {
		must(t, s.Create(ctx, r))
	}
	check := func(step, index, key string, want ...string) {
		t.Helper()
		got, err := s.Lookup(ctx, index, key)
		must(t, err)
		if !slices.Equal(ids(got), want) && !(len(want) == 0 && len(got) == 0) {
			t.Errorf("%s: lookup %s=%s = %v, want %v", step, index, key, ids(got), want)
		}
		n, err := s.CountKey(ctx, index, key)
		must(t, err)
		if n != len(want) {
			t.Errorf("%s: count %s=%s = %d, want %d", step, index, key, n, len(want))
		}
	}
	check("created", Owner, "u1", "a", "c")
	check("created", Owner, "u2", "b")
	check("created", Owner, "u3")
	check("created", Tag, "t2", "a", "c")
	check("created", Tag, "t1", "c")

	_, err := s.Update(ctx, "c", func(r Rec) (Rec, error) { r.Owner = "u2"; r.Tags = []string{"t3"}; return r, nil })
	must(t, err)
	check("updated", Owner, "u1", "a")
	check("updated", Owner, "u2", "b", "c")
	check("updated", Tag, "t1")
	check("updated", Tag, "t2", "a")
	check("updated", Tag, "t3", "c")

	_, err = s.Delete(ctx, "b")
	must(t, err)
	check("deleted", Owner, "u2", "c")
	if n, err := s.Total(ctx); err != nil || n != 2 {
		t.Errorf("total = %d, %v; want 2", n, err)
	}
}

func testListResetDumpLoad(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Store(t, Config{Limit: 10})
	for _, r := range []Rec{{ID: "b", N: 2, Owner: "u"}, {ID: "a", N: 1, Owner: "u"}, {ID: "c", N: 3}} {
		must(t, s.Create(ctx, r))
	}
	odd, err := s.List(ctx, func(r Rec) bool { return r.N%2 == 1 })
	must(t, err)
	if got := ids(odd); !slices.Equal(got, []string{"a", "c"}) {
		t.Errorf("list odd = %v", got)
	}
	dump, err := s.Dump(ctx)
	must(t, err)
	if got := ids(dump); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("dump = %v", got)
	}

	must(t, s.Reset(ctx))
	if n, _ := s.Total(ctx); n != 0 {
		t.Errorf("total after reset = %d", n)
	}
	if n, _ := s.CountKey(ctx, Owner, "u"); n != 0 {
		t.Errorf("owner count after reset = %d", n)
	}
	if all, _ := s.List(ctx, nil); len(all) != 0 {
		t.Errorf("list after reset = %v", ids(all))
	}
	must(t, s.Create(ctx, Rec{ID: "x", Owner: "u"}))

	// Load replaces everything, indexes included.
	must(t, s.Load(ctx, dump))
	got, err := s.Dump(ctx)
	must(t, err)
	if !slices.EqualFunc(got, dump, func(a, b Rec) bool { return a.ID == b.ID && a.N == b.N && a.Owner == b.Owner }) {
		t.Errorf("dump after load = %+v, want %+v", got, dump)
	}
	if u, _ := s.Lookup(ctx, Owner, "u"); !slices.Equal(ids(u), []string{"a", "b"}) {
		t.Errorf("owner u after load = %v", ids(u))
	}

	// A load with a duplicate key changes nothing.
	if err := s.Load(ctx, []Rec{{ID: "q"}, {ID: "q"}}); err == nil {
		t.Error("load with duplicate keys succeeded")
	}
	if got, _ := s.Dump(ctx); !slices.Equal(ids(got), []string{"a", "b", "c"}) {
		t.Errorf("after failed load: %v", ids(got))
	}
	if _, err := s.Get(ctx, "x"); !errors.Is(err, state.ErrNotFound) {
		t.Errorf("record from before the load survived: %v", err)
	}
}

// testConcurrentUpdates is the lost-update check: workers x per increments
// of one record must all land.
func testConcurrentUpdates(t *testing.T, b Backend, workers, per int) {
	ConcurrentUpdates(t, b.Store(t, Config{}), workers, per)
}

// ConcurrentUpdates runs workers x per increments of one record through
// stores (round robin, so several replicas can share the load) and checks
// none was lost.
func ConcurrentUpdates(t *testing.T, s state.Store[Rec], workers, per int, more ...state.Store[Rec]) {
	ctx := context.Background()
	stores := append([]state.Store[Rec]{s}, more...)
	must(t, s.Create(ctx, Rec{ID: "hot", Owner: "o0"}))
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := stores[w%len(stores)]
			for range per {
				if _, err := st.Update(ctx, "hot", func(r Rec) (Rec, error) {
					r.N++
					r.Owner = fmt.Sprintf("o%d", r.N%3) // moves the index too
					return r, nil
				}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got, err := s.Get(ctx, "hot")
	must(t, err)
	if got.N != workers*per {
		t.Fatalf("N = %d, want %d (lost updates)", got.N, workers*per)
	}
	want := fmt.Sprintf("o%d", got.N%3)
	for _, o := range []string{"o0", "o1", "o2"} {
		n, err := s.CountKey(ctx, Owner, o)
		must(t, err)
		if (o == want) != (n == 1) || n > 1 {
			t.Errorf("owner %s count = %d (record owner %s)", o, n, want)
		}
	}
}

func testCell(t *testing.T, b Backend) {
	ctx := context.Background()
	c := b.Cell(t)
	v, err := c.Load(ctx)
	must(t, err)
	if v != (Clock{}) {
		t.Errorf("fresh cell = %+v", v)
	}
	want := Clock{Offset: time.Hour, Frozen: true, At: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	must(t, c.Store(ctx, want))
	v, err = c.Load(ctx)
	must(t, err)
	if v.Offset != want.Offset || v.Frozen != want.Frozen || !v.At.Equal(want.At) {
		t.Errorf("load = %+v, want %+v", v, want)
	}
	must(t, c.Store(ctx, Clock{}))
	if v, _ = c.Load(ctx); v.Offset != 0 || v.Frozen {
		t.Errorf("after reset = %+v", v)
	}
}

func testCounters(t *testing.T, b Backend) {
	ctx := context.Background()
	c := b.Counters(t)
	if ok, err := c.Take(ctx, "never"); ok || err != nil {
		t.Errorf("take unarmed = %v, %v", ok, err)
	}
	must(t, c.Arm(ctx, "o1", 5))
	var fired sync.WaitGroup
	var mu sync.Mutex
	hits := 0
	for range 20 {
		fired.Add(1)
		go func() {
			defer fired.Done()
			for range 10 {
				ok, err := c.Take(ctx, "o1")
				if err != nil {
					t.Error(err)
					return
				}
				if ok {
					mu.Lock()
					hits++
					mu.Unlock()
				}
			}
		}()
	}
	fired.Wait()
	if hits != 5 {
		t.Errorf("fired %d times, want 5", hits)
	}
	if n, _ := c.Left(ctx, "o1"); n != 0 {
		t.Errorf("left = %d", n)
	}
	must(t, c.Arm(ctx, "o2", 2))
	if n, _ := c.Left(ctx, "o2"); n != 2 {
		t.Errorf("left o2 = %d", n)
	}
	must(t, c.Disarm(ctx, "o2"))
	if ok, _ := c.Take(ctx, "o2"); ok {
		t.Error("disarmed counter fired")
	}
	// Next hands out distinct, gap-free numbers to concurrent callers.
	var got sync.Map
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				n, err := c.Next(ctx, "seq")
				if err != nil {
					t.Error(err)
					return
				}
				if _, dup := got.LoadOrStore(n, true); dup {
					t.Errorf("Next returned %d twice", n)
				}
			}
		}()
	}
	wg.Wait()
	for n := int64(1); n <= 200; n++ {
		if _, ok := got.Load(n); !ok {
			t.Errorf("Next never returned %d", n)
			break
		}
	}
	must(t, c.Arm(ctx, "o3", 1))
	must(t, c.Reset(ctx))
	if ok, _ := c.Take(ctx, "o3"); ok {
		t.Error("counter fired after reset")
	}
	if n, _ := c.Next(ctx, "seq"); n != 1 {
		t.Errorf("Next after reset = %d, want 1", n)
	}
}

func testLog(t *testing.T, b Backend) {
	ctx := context.Background()
	l := b.Log(t, 3)
	for i := range 5 {
		must(t, l.Append(ctx, []byte{byte('0' + i)}))
	}
	str := func(es [][]byte) string {
		s := ""
		for _, e := range es {
			s += string(e)
		}
		return s
	}
	tests := []struct {
		n    int
		want string
	}{{0, "432"}, {2, "43"}, {10, "432"}}
	for _, tt := range tests {
		got, err := l.Recent(ctx, tt.n)
		must(t, err)
		if str(got) != tt.want {
			t.Errorf("recent(%d) = %q, want %q", tt.n, str(got), tt.want)
		}
	}
	if n, _ := l.Len(ctx); n != 3 {
		t.Errorf("len = %d", n)
	}
	must(t, l.Clear(ctx))
	if n, _ := l.Len(ctx); n != 0 {
		t.Errorf("len after clear = %d", n)
	}
}

// testSeen: UpdateSeen and DeleteSeen act on the latest version even when
// what the caller saw is stale, and concurrent UpdateSeen calls from one
// stale read lose nothing.
func testSeen(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Store(t, Config{})
	must(t, s.Create(ctx, Rec{ID: "r", Owner: "u1"}))
	seen, err := s.Get(ctx, "r")
	must(t, err)
	_, err = s.Update(ctx, "r", func(r Rec) (Rec, error) { r.N = 10; r.Owner = "u2"; return r, nil })
	must(t, err)
	got, err := s.UpdateSeen(ctx, seen, func(r Rec) (Rec, error) { r.N++; return r, nil })
	must(t, err)
	if got.N != 11 || got.Owner != "u2" {
		t.Fatalf("UpdateSeen from a stale version gave %+v, want N 11 owner u2", got)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if _, err := s.UpdateSeen(ctx, seen, func(r Rec) (Rec, error) { r.N++; return r, nil }); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got, err := s.Get(ctx, "r"); err != nil || got.N != 91 {
		t.Fatalf("after 80 concurrent UpdateSeen: %+v, %v; want N 91", got, err)
	}
	if n, err := s.CountKey(ctx, Owner, "u1"); err != nil || n != 0 {
		t.Fatalf("stale index entry: %d, %v", n, err)
	}
	del, err := s.DeleteSeen(ctx, seen)
	must(t, err)
	if del.N != 91 {
		t.Fatalf("DeleteSeen returned %+v, want the latest version", del)
	}
	if _, err := s.Get(ctx, "r"); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("after DeleteSeen: %v", err)
	}
	if _, err := s.DeleteSeen(ctx, seen); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("DeleteSeen of a gone record: %v, want ErrNotFound", err)
	}
	if _, err := s.UpdateSeen(ctx, seen, func(r Rec) (Rec, error) { return r, nil }); !errors.Is(err, state.ErrNotFound) {
		t.Fatalf("UpdateSeen of a gone record: %v, want ErrNotFound", err)
	}
	if n, err := s.CountKey(ctx, Owner, "u2"); err != nil || n != 0 {
		t.Fatalf("index entry left after DeleteSeen: %d, %v", n, err)
	}
}
