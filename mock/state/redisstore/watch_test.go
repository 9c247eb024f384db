package redisstore

import (
	"context"
	"errors"
	"github.com/idpmock/idpmock/mock/internal/redistest"
	"math"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/redis/rueidis"

	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/state/statetest"
)

// updateWatch is the alternative to the compare-and-set script the store
// uses: WATCH and GET pipelined, then MULTI ... EXEC pipelined, on a
// connection of its own (rueidis Dedicated) for the duration. Kept for
// BenchmarkUpdateStrategy.
func updateWatch(ctx context.Context, s *Store[statetest.Rec], key string, fn func(statetest.Rec) (statetest.Rec, error), trips *atomic.Int64) error {
	rc := s.c.b.(*rueidisBackend).c
	rk := s.recKey(key)
	for {
		done := false
		err := rc.Dedicated(func(d rueidis.DedicatedClient) error {
			res := d.DoMulti(ctx, d.B().Watch().Key(rk).Build(), d.B().Get().Key(rk).Build())
			trips.Add(1)
			raw, err := res[1].ToString()
			if rueidis.IsRedisNil(err) {
				return state.ErrNotFound
			}
			if err != nil {
				return err
			}
			old, err := s.decode(raw)
			if err != nil {
				return err
			}
			oldKeys, _ := s.indexKeys(old)
			nv, err := fn(old)
			if err != nil {
				return err
			}
			enc, err := s.encode(nv)
			if err != nil {
				return err
			}
			newKeys, _ := s.indexKeys(nv)
			cmds := rueidis.Commands{d.B().Multi().Build()}
			for _, k := range oldKeys {
				cmds = append(cmds, d.B().Zrem().Key(k).Member(key).Build())
			}
			cmds = append(cmds, d.B().Set().Key(rk).Value(enc).Build(),
				d.B().Zadd().Key(s.all).ScoreMember().ScoreMember(math.Inf(1), key).Build())
			for _, k := range newKeys {
				cmds = append(cmds, d.B().Zadd().Key(k).ScoreMember().ScoreMember(math.Inf(1), key).Build())
			}
			cmds = append(cmds, d.B().Exec().Build())
			res = d.DoMulti(ctx, cmds...)
			trips.Add(1)
			_, err = res[len(res)-1].ToArray()
			if rueidis.IsRedisNil(err) {
				return nil // the watched key changed: retry
			}
			done = err == nil
			return err
		})
		if err != nil || done {
			return err
		}
	}
}

// BenchmarkUpdateStrategy: the store's compare-and-set script against
// WATCH/MULTI/EXEC, on records spread over 1000 keys and on one hot record,
// with GOMAXPROCS*8 concurrent callers (rueidis).
func BenchmarkUpdateStrategy(b *testing.B) {
	addr := redistest.Addr(b)
	c := openWith(b, openRueidis, addr)
	s := newRecStore(b, c, statetest.Config{})
	seed(b, s)
	inc := func(r statetest.Rec) (statetest.Rec, error) {
		r.N++
		r.Owner = "u" + strconv.Itoa(r.N%100)
		return r, nil
	}
	for _, hot := range []bool{false, true} {
		for _, strategy := range []string{"cas-script", "watch-multi"} {
			name := strategy + "/spread"
			if hot {
				name = strategy + "/hot"
			}
			b.Run(name, func(b *testing.B) {
				ctx := context.Background()
				var n, trips atomic.Int64
				trips0 := c.RoundTrips()
				b.ReportAllocs()
				b.SetParallelism(8)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						key := "r0"
						if !hot {
							key = "r" + strconv.Itoa(int(n.Add(1))%1000)
						}
						var err error
						if strategy == "watch-multi" {
							err = updateWatch(ctx, s, key, inc, &trips)
						} else {
							_, err = s.Update(ctx, key, inc)
						}
						if err != nil && !errors.Is(err, context.Canceled) {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(trips.Load()+int64(c.RoundTrips()-trips0))/float64(b.N), "trips/op")
			})
		}
	}
}

// The WATCH variant is correct too (so the benchmark compares like with
// like): no lost update on a hot record.
func TestUpdateWatchLosesNothing(t *testing.T) {
	addr := redistest.Addr(t)
	s := newRecStore(t, openWith(t, openRueidis, addr), statetest.Config{})
	ctx := context.Background()
	if err := s.Create(ctx, statetest.Rec{ID: "hot"}); err != nil {
		t.Fatal(err)
	}
	var trips atomic.Int64
	done := make(chan error)
	for range 16 {
		go func() {
			for range 20 {
				if err := updateWatch(ctx, s, "hot", func(r statetest.Rec) (statetest.Rec, error) { r.N++; return r, nil }, &trips); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	for range 16 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := s.Get(ctx, "hot"); got.N != 320 {
		t.Fatalf("N = %d, want 320", got.N)
	}
}
