package main

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idpmock/idpmock/bench/workload"
)

// load is one bounded run of traffic against a server.
type load struct {
	mix      []workload.Weighted
	conns    int
	warmup   time.Duration
	duration time.Duration
	max      int64 // requests measured at most
}

// outcome is what one run measured.
type outcome struct {
	Requests int64
	Errors   int64
	FirstErr string
	Elapsed  time.Duration
	RPS      float64
	P50, P99 time.Duration
	Max      time.Duration
}

// run drives addr with l.conns keep-alive connections, each a goroutine
// sending one request at a time. Requests started during the warm-up are
// not measured; the run ends at the deadline or after l.max requests.
func (l load) run(addr string, pools *workload.Pools, seed uint64) (outcome, error) {
	picker := workload.NewPicker(l.mix)
	var (
		count    atomic.Int64
		errs     atomic.Int64
		firstErr atomic.Pointer[string]
		wg       sync.WaitGroup
		mu       sync.Mutex
		all      []time.Duration
		lastEnd  atomic.Int64
	)
	conns := make([]*conn, l.conns)
	for i := range conns {
		c, err := dial(addr)
		if err != nil {
			for _, c := range conns[:i] {
				c.close()
			}
			return outcome{}, err
		}
		conns[i] = c
	}
	start := time.Now()
	measureFrom := start.Add(l.warmup)
	deadline := measureFrom.Add(l.duration)
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.close()
			r := rand.New(rand.NewPCG(seed, uint64(i)))
			lat := make([]time.Duration, 0, 4096)
			for {
				op := picker.Next(r)
				req := op.Build(pools, r)
				t0 := time.Now()
				if !t0.Before(deadline) {
					break
				}
				measured := !t0.Before(measureFrom)
				if measured && count.Add(1) > l.max {
					break
				}
				st, body, err := c.do(req)
				t1 := time.Now()
				if err == nil && st != op.Status {
					err = fmt.Errorf("%s %s: status %d, want %d: %.200s", req.Method, req.Path, st, op.Status, body)
				}
				if err != nil {
					if measured {
						errs.Add(1)
					}
					msg := err.Error()
					firstErr.CompareAndSwap(nil, &msg)
					if c.redial() != nil {
						break
					}
					continue
				}
				if measured {
					lat = append(lat, t1.Sub(t0))
					for {
						cur := lastEnd.Load()
						if t1.UnixNano() <= cur || lastEnd.CompareAndSwap(cur, t1.UnixNano()) {
							break
						}
					}
				}
			}
			mu.Lock()
			all = append(all, lat...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	out := outcome{Requests: int64(len(all)), Errors: errs.Load()}
	if p := firstErr.Load(); p != nil {
		out.FirstErr = *p
	}
	if len(all) == 0 {
		return out, fmt.Errorf("no request succeeded: %s", out.FirstErr)
	}
	out.Elapsed = time.Unix(0, lastEnd.Load()).Sub(measureFrom)
	out.RPS = float64(len(all)) / out.Elapsed.Seconds()
	slices.Sort(all)
	out.P50 = all[len(all)*50/100]
	out.P99 = all[min(len(all)*99/100, len(all)-1)]
	out.Max = all[len(all)-1]
	return out, nil
}

// fill creates n sessions per vendor through addr (8 connections) and adds
// their ids to pools.
func fill(addr string, pools *workload.Pools, n int) error {
	const workers = 8
	for _, name := range []string{"pingone-create", "zitadel-rest-create"} {
		op := workload.ByName(name)
		var wg sync.WaitGroup
		var next atomic.Int64
		errc := make(chan error, workers)
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := dial(addr)
				if err != nil {
					errc <- err
					return
				}
				defer c.close()
				r := rand.New(rand.NewPCG(uint64(w), 99))
				for next.Add(1) <= int64(n) {
					st, body, err := c.do(op.Build(pools, r))
					if err == nil && st != op.Status {
						err = fmt.Errorf("%s: status %d: %.200s", op.Name, st, body)
					}
					if err == nil {
						err = pools.Add(op, body)
					}
					if err != nil {
						errc <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		select {
		case err := <-errc:
			return err
		default:
		}
	}
	return nil
}
