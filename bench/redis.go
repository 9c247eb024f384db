package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/idpmock/idpmock/bench/workload"
	"github.com/idpmock/idpmock/mock"
	"github.com/idpmock/idpmock/mock/server"
)

// storeOps are the read and write operations compared across stores.
var storeOps = []string{"pingone-read", "pingone-update", "pingone-create", "zitadel-rest-get", "zitadel-rest-set", "zitadel-rest-create"}

// storeRow is one operation with each store.
type storeRow struct {
	Name          string
	Memory, Redis outcome
	RoundTrips    float64 // Redis requests per HTTP request, in process
}

// redisResult is the Redis section of the report.
type redisResult struct {
	Note    string // why there is no Redis section, or how Redis ran
	Rows    []storeRow
	RTOnly  []storeRow // round trips of the operations not load-tested (HTTP/2)
	Version string
}

// benchRedis runs each of storeOps against the idpmock binary with the
// memory store and then on a private redis-server (--store redis://...),
// back to back under the same load, and counts Redis round trips per
// operation in process. Without redis-server it returns a note and no rows.
func benchRedis(cfg config, dir, mockBin string) (*redisResult, error) {
	res := &redisResult{}
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		res.Note = "skipped: redis-server is not installed (`make redis-test` installs Debian's)"
		return res, nil
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	rdir := filepath.Join(dir, "redis")
	if err := os.MkdirAll(rdir, 0o755); err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", rdir, "--logfile", "redis.log")
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	if err := waitListening(addr, 5*time.Second); err != nil {
		return nil, fmt.Errorf("redis-server: %w", err)
	}
	res.Version = "Redis"
	if v, err := exec.Command(bin, "--version").Output(); err == nil {
		for _, f := range strings.Fields(string(v)) {
			if ver, ok := strings.CutPrefix(f, "v="); ok {
				res.Version = "Redis " + ver
			}
		}
	}
	url := "redis://" + addr + "/0"

	// Round trips per request, in process: the backend counts them.
	logf("redis: round trips per operation (in process)")
	// The journal is off here: its entry, one round trip written after the
	// answer, is reported apart from the state's round trips.
	srv, err := server.New(context.Background(), server.Config{CORS: true, Store: url, StorePrefix: "bench-rt:", JournalSize: -1}, mock.Vendors(mock.Config{})...)
	if err != nil {
		return nil, err
	}
	h := &workload.Handler{H: srv.Handler()}
	pools := &workload.Pools{}
	if err := workload.Fill(h, pools, 100, 3); err != nil {
		srv.Close(context.Background())
		return nil, err
	}
	rts := map[string]float64{}
	r := rand.New(rand.NewPCG(5, 5))
	for _, op := range workload.Ops {
		const n = 200
		before := srv.Stores().RoundTrips()
		for range n {
			st, body, _, err := h.Do(op.Build(pools, r))
			if err == nil && st != op.Status {
				err = fmt.Errorf("status %d: %.200s", st, body)
			}
			if err != nil {
				srv.Close(context.Background())
				return nil, fmt.Errorf("redis round trips, %s: %w", op.Name, err)
			}
		}
		rts[op.Name] = float64(srv.Stores().RoundTrips()-before) / n
		if op.HTTP2 {
			res.RTOnly = append(res.RTOnly, storeRow{Name: op.Name, RoundTrips: rts[op.Name]})
		}
	}
	srv.Close(context.Background())

	// Throughput and latency over the network, as the memory runs.
	l := load{conns: cfg.conns, warmup: cfg.warmup, duration: cfg.duration, max: cfg.max}
	for i, name := range storeOps {
		row := storeRow{Name: name, RoundTrips: rts[name]}
		l.mix = workload.Single(workload.ByName(name))
		for _, st := range []struct {
			store string
			out   *outcome
		}{{"memory", &row.Memory}, {url, &row.Redis}} {
			logf("stores: %s, %s: %d connections", name, st.store, cfg.conns)
			// A fresh prefix: each run starts from the fixtures alone.
			p, err := start("idpmock ("+st.store+")", mockBin, "--log-level", "warn", "--store", st.store,
				"--store-prefix", fmt.Sprintf("bench-%d:", i))
			if err != nil {
				return nil, err
			}
			pools := &workload.Pools{}
			if err := fill(p.addr, pools, cfg.pool); err != nil {
				p.stop()
				return nil, fmt.Errorf("%s on %s: preload: %w", name, st.store, err)
			}
			out, err := l.run(p.addr, pools, uint64(300+i))
			p.stop()
			if err != nil {
				return nil, fmt.Errorf("%s on %s: %w", name, st.store, err)
			}
			*st.out = out
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

func waitListening(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(5 * time.Millisecond)
	}
	return errors.New("not listening on " + addr)
}

// redisMarkdown is the report's "Memory and Redis stores" section.
func (r *report) redisMarkdown(p func(string, ...any)) {
	p("## Memory and Redis stores\n\n")
	if r.redis == nil || len(r.redis.Rows) == 0 {
		note := "skipped"
		if r.redis != nil {
			note = r.redis.Note
		}
		p("Redis: %s.\n\n", note)
		return
	}
	p("The read and write operations of both vendors with the default memory store and with `--store redis://…`\n")
	p("(%s, private, on loopback, no persistence), back to back per operation under the same load (%d connections,\n", r.redis.Version, r.cfg.conns)
	p("%s after %s warm-up, %d live sessions preloaded). Round trips are Redis requests per HTTP request\n", r.cfg.duration, r.cfg.warmup, 2*r.cfg.pool)
	p("on the answer's path (`stores.Backend.RoundTrips()`, in process, journal off, mean of 200 requests); with the\n")
	p("journal on (the default) each request adds one, its entry, written after the answer. The control data (clock,\n")
	p("overrides) costs none: replicas hold it, kept coherent by a Redis pub/sub bus. The target is reads 1 and writes\n")
	p("at most 2, which `TestRoundTripsPerOperation` (`mock/e2e`, in `make redis-test`) keeps for plain reads and\n")
	p("writes; these workloads' writes do more: PingOne's update gives the session another user each time (+1: the\n")
	p("user's 10-session cap is counted), ZITADEL's set checks a password (+1: the user's failure counter is read).\n\n")
	p("| operation | memory req/s | p50 | p99 | Redis req/s | p50 | p99 | Redis ÷ memory | Redis round trips/request |\n")
	p("|---|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, row := range r.redis.Rows {
		m := row.Memory
		p("| %s | %s | %s | %s | %s | %s | %s | %s | %.2f |\n", row.Name, rate(m.RPS), ms(m.P50), ms(m.P99),
			rate(row.Redis.RPS), ms(row.Redis.P50), ms(row.Redis.P99), pct(row.Redis.RPS/max(m.RPS, 1e-9)), row.RoundTrips)
	}
	if len(r.redis.RTOnly) > 0 {
		var rts []string
		for _, row := range r.redis.RTOnly {
			rts = append(rts, fmt.Sprintf("%s %.2f", row.Name, row.RoundTrips))
		}
		p("\nRound trips of the operations served in process only (gRPC, HTTP/2): %s.\n", strings.Join(rts, ", "))
	}
	p("\n")
}

// storesOnly is `bench -stores`: the store comparison alone, in its own
// report.
func storesOnly(rep *report, dir, mockBin string) error {
	res, err := benchRedis(rep.cfg, dir, mockBin)
	if err != nil {
		return err
	}
	rep.redis = res
	for _, row := range res.Rows {
		rep.checkErrors(row.Name+" (idpmock, memory store)", row.Memory)
		rep.checkErrors(row.Name+" (idpmock, Redis store)", row.Redis)
	}
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("# Benchmarks: memory and Redis stores\n\n")
	p("Written by `go run ./bench %s` on %s (load average at start %s); `make bench` writes the full report.\n\n",
		strings.Join(os.Args[1:], " "), rep.started.UTC().Format("2006-01-02 15:04 MST"), rep.loadAvg)
	rep.redisMarkdown(p)
	if err := os.WriteFile(rep.cfg.out, []byte(b.String()), 0o644); err != nil {
		return err
	}
	logf("wrote %s", rep.cfg.out)
	if len(rep.failures) > 0 {
		return errors.New("requests failed:\n  " + strings.Join(rep.failures, "\n  "))
	}
	return nil
}
