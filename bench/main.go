// Command bench is idpmock's load benchmark (make bench): it builds the real
// idpmock binary and a bare-Echo baseline, starts each on loopback, drives
// them from a Go load generator with keep-alive connections, and writes the
// figures to docs/benchmarks.md. Every run is bounded in time and count.
//
//	go run ./bench [-duration 2s] [-conns 16] [-out docs/benchmarks.md]
//
// It reports and does not judge: targets missed are written down, and the
// command fails only when a server does not start or requests fail.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/idpmock/idpmock/bench/workload"
)

type config struct {
	out       string
	duration  time.Duration
	warmup    time.Duration
	conns     int
	max       int64
	sessions  []int
	connSweep []int
	pool      int
	live      int
	profile   time.Duration
	// storesOnly runs only the memory-vs-Redis comparison (-stores).
	storesOnly bool
}

func main() {
	var cfg config
	flag.StringVar(&cfg.out, "out", "docs/benchmarks.md", "report file")
	flag.DurationVar(&cfg.duration, "duration", 2*time.Second, "measured time per run")
	flag.DurationVar(&cfg.warmup, "warmup", 300*time.Millisecond, "unmeasured warm-up per run")
	flag.IntVar(&cfg.conns, "conns", 16, "connections for the per-operation runs")
	flag.DurationVar(&cfg.profile, "profile", 2*time.Second, "in-process CPU profile per profiled operation")
	flag.Int64Var(&cfg.max, "max-requests", 2_000_000, "requests measured per run at most")
	maxSessions := flag.Int("max-sessions", 100_000, "largest stored-session count of the scaling run")
	quick := flag.Bool("quick", false, "short runs (0.5s, up to 10,000 sessions) for a smoke test")
	flag.BoolVar(&cfg.storesOnly, "stores", false, "only the memory vs Redis store comparison (the report gets that section alone)")
	flag.Parse()
	if *quick {
		cfg.duration, cfg.warmup, *maxSessions = 500*time.Millisecond, 100*time.Millisecond, 10_000
		cfg.profile = 300 * time.Millisecond
	}
	for n := 100; n <= *maxSessions; n *= 10 {
		cfg.sessions = append(cfg.sessions, n)
	}
	cfg.connSweep = []int{1, 2, 4, 8, 16, 32, 64}
	cfg.pool, cfg.live = 1000, 10_000
	if err := run(cfg); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// runResult is one operation (or mix) against one server.
type runResult struct {
	outcome
	IdleRSS, PeakRSS int64
}

type opResult struct {
	Name           string
	Sessions       int
	Mock, Baseline runResult
	MockAllocs     allocs
	BaseAllocs     allocs
}

type scaleRow struct {
	Sessions int
	outcome
	RSS int64
}

type connRow struct {
	Conns          int
	Mock, Baseline outcome
}

type report struct {
	cfg        config
	started    time.Time
	took       time.Duration
	goVersion  string
	ops        []opResult
	mockStart  []*proc
	baseStart  []*proc
	idleMock   []int64 // RSS of fresh, healthy, untouched servers
	idleBase   []int64
	scale      []scaleRow
	heapPerSes float64
	heapN      int
	conns      []connRow
	failures   []string
	loadAvg    string
	profiles   []profileRow
	redis      *redisResult // nil: not run
}

// profileRow is pprof's view of one operation served in process.
type profileRow struct {
	Op, Top string
}

func run(cfg config) error {
	rep := &report{cfg: cfg, started: time.Now(), loadAvg: loadAvg()}
	gover, err := exec.Command(goCmd(), "version").Output()
	if err != nil {
		return fmt.Errorf("go version: %w", err)
	}
	rep.goVersion = strings.TrimSpace(string(gover))

	dir, err := os.MkdirTemp("", "idpbench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	logf("building idpmock and the baseline")
	mockBin, baseBin := filepath.Join(dir, "idpmock"), filepath.Join(dir, "baseline")
	for bin, pkg := range map[string]string{mockBin: "./mock/cmd/idpmock", baseBin: "./bench/baseline"} {
		cmd := exec.Command(goCmd(), "build", "-trimpath", "-ldflags=-s -w", "-o", bin, pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("build %s: %v\n%s", pkg, err, out)
		}
	}

	if cfg.storesOnly {
		return storesOnly(rep, dir, mockBin)
	}

	// In process: the baseline's bytes and the allocations per request.
	logf("in-process: capturing answers and counting allocations")
	srv, err := workload.NewMock(context.Background())
	if err != nil {
		return err
	}
	mockH := &workload.Handler{H: srv.Handler()}
	pools := &workload.Pools{}
	if err := workload.Fill(mockH, pools, cfg.pool, 1); err != nil {
		return err
	}
	routes, err := workload.Capture(mockH, pools)
	if err != nil {
		return err
	}
	baseH := &workload.Handler{H: workload.Baseline(routes)}
	routesFile := filepath.Join(dir, "routes.json")
	raw, _ := json.Marshal(routes)
	if err := os.WriteFile(routesFile, raw, 0o644); err != nil {
		return err
	}
	allocsOf := map[string][2]allocs{}
	for _, op := range workload.Ops {
		m, err := countAllocs(mockH, pools, op)
		if err != nil {
			return err
		}
		b, err := countAllocs(baseH, pools, op)
		if err != nil {
			return err
		}
		allocsOf[op.Name] = [2]allocs{m, b}
	}
	mixedAllocs := [2]allocs{}
	for _, w := range workload.Mixed {
		a := allocsOf[w.Op.Name]
		for i := range a {
			mixedAllocs[i].Objects += a[i].Objects * float64(w.Weight) / 100
			mixedAllocs[i].Bytes += a[i].Bytes * float64(w.Weight) / 100
		}
	}
	// Where a request's time goes, for the operations the targets name.
	for _, name := range []string{"pingone-read", "pingone-create", "zitadel-rest-get"} {
		var op *workload.Op
		for _, o := range workload.Ops {
			if o.Name == name {
				op = o
			}
		}
		if op == nil {
			continue
		}
		top, err := profileOp(dir, mockH, pools, op, cfg.profile)
		if err != nil {
			return fmt.Errorf("profile %s: %w", name, err)
		}
		rep.profiles = append(rep.profiles, profileRow{Op: name, Top: top})
	}
	srv, mockH, baseH = nil, nil, nil

	// Idle memory: fresh servers that have answered /healthz and nothing else.
	for i := 0; i < 3; i++ {
		m, err := idleRSS(mockBin, "--log-level", "warn")
		if err != nil {
			return err
		}
		b, err := idleRSS(baseBin, "--routes", routesFile)
		if err != nil {
			return err
		}
		rep.idleMock, rep.idleBase = append(rep.idleMock, m), append(rep.idleBase, b)
	}

	// Each operation, then the mix, against a fresh mock and baseline.
	type scenario struct {
		name     string
		mix      []workload.Weighted
		sessions int
		allocs   [2]allocs
	}
	var scenarios []scenario
	for _, op := range workload.Ops {
		if op.HTTP2 {
			continue // in-process benchmarks only (the load client speaks HTTP/1.1)
		}
		scenarios = append(scenarios, scenario{op.Name, workload.Single(op), cfg.pool, allocsOf[op.Name]})
	}
	scenarios = append(scenarios, scenario{"mixed", workload.Mixed, cfg.live / 2, mixedAllocs})
	l := load{conns: cfg.conns, warmup: cfg.warmup, duration: cfg.duration, max: cfg.max}
	for i, sc := range scenarios {
		logf("%s: %d connections, %d live sessions", sc.name, cfg.conns, 2*sc.sessions)
		res := opResult{Name: sc.name, Sessions: 2 * sc.sessions, MockAllocs: sc.allocs[0], BaseAllocs: sc.allocs[1]}
		pools := &workload.Pools{}
		l.mix = sc.mix
		for _, target := range []struct {
			name string
			bin  string
			args []string
			out  *runResult
			log  *[]*proc
		}{
			{"idpmock", mockBin, []string{"--log-level", "warn"}, &res.Mock, &rep.mockStart},
			{"baseline", baseBin, []string{"--routes", routesFile}, &res.Baseline, &rep.baseStart},
		} {
			p, err := start(target.name, target.bin, target.args...)
			if err != nil {
				return err
			}
			*target.log = append(*target.log, p)
			target.out.IdleRSS, _, _ = p.memory()
			if target.name == "idpmock" {
				// The baseline answers any id: it reuses the mock's.
				if err := fill(p.addr, pools, sc.sessions); err != nil {
					p.stop()
					return fmt.Errorf("%s: preload: %w", sc.name, err)
				}
			}
			out, err := l.run(p.addr, pools, uint64(i))
			_, target.out.PeakRSS, _ = p.memory()
			p.stop()
			if err != nil {
				return fmt.Errorf("%s against %s: %w", sc.name, target.name, err)
			}
			target.out.outcome = out
			rep.checkErrors(sc.name+" ("+target.name+")", out)
		}
		rep.ops = append(rep.ops, res)
	}

	// The same operations on the Redis store (skipped without redis-server).
	if rep.redis, err = benchRedis(cfg, dir, mockBin); err != nil {
		return err
	}
	for _, row := range rep.redis.Rows {
		rep.checkErrors(row.Name+" (idpmock, memory store)", row.Memory)
		rep.checkErrors(row.Name+" (idpmock, Redis store)", row.Redis)
	}

	// Connections: the read mix from 1 to 64 connections.
	logf("scaling with connections: %v", cfg.connSweep)
	rows := make([]connRow, len(cfg.connSweep))
	pools = &workload.Pools{}
	for _, target := range []struct {
		name, bin string
		args      []string
		mock      bool
	}{
		{"idpmock", mockBin, []string{"--log-level", "warn"}, true},
		{"baseline", baseBin, []string{"--routes", routesFile}, false},
	} {
		p, err := start(target.name, target.bin, target.args...)
		if err != nil {
			return err
		}
		if target.mock {
			if err := fill(p.addr, pools, cfg.pool); err != nil {
				p.stop()
				return err
			}
		}
		for i, n := range cfg.connSweep {
			cl := load{mix: workload.Reads, conns: n, warmup: cfg.warmup / 2, duration: cfg.duration / 2, max: cfg.max}
			out, err := cl.run(p.addr, pools, uint64(100+i))
			if err != nil {
				p.stop()
				return fmt.Errorf("%d connections against %s: %w", n, target.name, err)
			}
			rep.checkErrors(fmt.Sprintf("%d connections (%s)", n, target.name), out)
			rows[i].Conns = n
			if target.mock {
				rows[i].Mock = out
			} else {
				rows[i].Baseline = out
			}
		}
		p.stop()
	}
	rep.conns = rows

	// Stored sessions: the read mix over 100 … 100,000 preloaded sessions.
	for _, n := range cfg.sessions {
		logf("scaling with stored sessions: %d", n)
		doc, pools, err := stateDoc(n)
		if err != nil {
			return fmt.Errorf("state document: %w", err)
		}
		file := filepath.Join(dir, "state.json")
		if err := os.WriteFile(file, doc, 0o644); err != nil {
			return err
		}
		if n == cfg.sessions[len(cfg.sessions)-1] {
			if rep.heapPerSes, err = heapPerSession(doc, n); err != nil {
				return fmt.Errorf("heap per session: %w", err)
			}
			rep.heapN = n
		}
		doc = nil
		p, err := start("idpmock", mockBin, "--log-level", "warn", "--state", file)
		if err != nil {
			return err
		}
		rss, _, _ := p.memory()
		sl := load{mix: workload.Reads, conns: cfg.conns, warmup: cfg.warmup, duration: cfg.duration, max: cfg.max}
		out, err := sl.run(p.addr, pools, uint64(200+n))
		p.stop()
		if err != nil {
			return fmt.Errorf("%d stored sessions: %w", n, err)
		}
		rep.checkErrors(fmt.Sprintf("%d stored sessions", n), out)
		rep.scale = append(rep.scale, scaleRow{Sessions: n, outcome: out, RSS: rss})
	}

	rep.took = time.Since(rep.started)
	md := rep.markdown()
	if err := os.MkdirAll(filepath.Dir(cfg.out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(cfg.out, []byte(md), 0o644); err != nil {
		return err
	}
	logf("wrote %s in %s", cfg.out, rep.took.Round(time.Second))
	fmt.Println(rep.summary())
	if len(rep.failures) > 0 {
		return errors.New("requests failed:\n  " + strings.Join(rep.failures, "\n  "))
	}
	return nil
}

// checkErrors notes runs where more than 0.1% of requests failed: the
// figures of a failing server mean nothing.
func (r *report) checkErrors(what string, o outcome) {
	if o.Errors*1000 > o.Requests+o.Errors {
		r.failures = append(r.failures, fmt.Sprintf("%s: %d of %d requests failed, first: %s", what, o.Errors, o.Requests+o.Errors, o.FirstErr))
	}
}

// loadAvg is the 1, 5 and 15 minute load averages.
func loadAvg() string {
	f := strings.Fields(readTrim("/proc/loadavg"))
	return strings.Join(f[:min(3, len(f))], " ")
}

func goCmd() string {
	if g := os.Getenv("GO"); g != "" {
		return g
	}
	return "go"
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// allocs are heap allocations per request, counted in process.
type allocs struct {
	Objects, Bytes float64
}

// countAllocs serves 2,000 requests of op through h in process and counts
// the heap allocations they make (the harness's own request included, as
// for the baseline).
func countAllocs(h *workload.Handler, pools *workload.Pools, op *workload.Op) (allocs, error) {
	const n = 2000
	r := rand.New(rand.NewPCG(11, 12))
	reqs := make([]workload.Request, n)
	for i := range reqs {
		reqs[i] = op.Build(pools, r)
	}
	for _, req := range reqs[:100] { // warm caches and pools
		if st, body, _, err := h.Do(req); err != nil || st != op.Status {
			return allocs{}, fmt.Errorf("%s in process: status %d, %v: %.200s", op.Name, st, err, body)
		}
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for _, req := range reqs {
		_, _, _, _ = h.Do(req)
	}
	runtime.ReadMemStats(&after)
	return allocs{
		Objects: float64(after.Mallocs-before.Mallocs) / n,
		Bytes:   float64(after.TotalAlloc-before.TotalAlloc) / n,
	}, nil
}

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
