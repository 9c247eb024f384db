package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/idpmock/idpmock/bench/workload"
)

// proc is a server process the benchmark started on loopback.
type proc struct {
	name   string
	cmd    *exec.Cmd
	addr   string
	stderr bytes.Buffer
	// Health is exec → first 200 on /healthz; Ready is exec → first 200 on
	// a real vendor GET (the seeded PingOne session).
	Health, Ready time.Duration
}

// freeAddr finds a free loopback port.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// start runs bin with args plus --addr on a free loopback port and waits
// for its first good answers.
func start(name, bin string, args ...string) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p := &proc{name: name, addr: addr}
	p.cmd = exec.Command(bin, append([]string{"--addr", addr}, args...)...)
	p.cmd.Stderr = &p.stderr
	t0 := time.Now()
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	fail := func(err error) (*proc, error) {
		p.stop()
		return nil, fmt.Errorf("%s: %w\n%s", name, err, p.stderr.String())
	}
	deadline := t0.Add(60 * time.Second)
	var c *conn
	for c == nil {
		if time.Now().After(deadline) {
			return fail(errors.New("did not start listening within 60s"))
		}
		if c, err = dial(addr); err != nil {
			c = nil
			time.Sleep(200 * time.Microsecond)
		}
	}
	defer c.close()
	for _, step := range []struct {
		path string
		took *time.Duration
	}{{"/healthz", &p.Health}, {workload.ReadyPath, &p.Ready}} {
		for {
			st, _, err := c.do(workload.Request{Method: "GET", Path: step.path})
			if err == nil && st == 200 {
				*step.took = time.Since(t0)
				break
			}
			if err != nil {
				if c.redial() != nil {
					return fail(err)
				}
			}
			if time.Now().After(deadline) {
				return fail(fmt.Errorf("GET %s: status %d, %v", step.path, st, err))
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// idleRSS starts bin, waits for its first good /healthz, lets it settle
// with no other traffic, and returns its resident memory: what an idle mock
// costs before any vendor request has touched lazily built tables.
func idleRSS(bin string, args ...string) (int64, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	p := &proc{name: "idle", addr: addr}
	p.cmd = exec.Command(bin, append([]string{"--addr", addr}, args...)...)
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		return 0, err
	}
	defer p.stop()
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := dial(addr)
		if err == nil {
			st, _, err := c.do(workload.Request{Method: "GET", Path: "/healthz"})
			c.close()
			if err == nil && st == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("idle probe: no healthy answer within 60s\n%s", p.stderr.String())
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	rss, _, err := p.memory()
	return rss, err
}

// stop asks the server to shut down and waits for it.
func (p *proc) stop() {
	if p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// memory reads the process's resident set (VmRSS) and its peak (VmHWM).
func (p *proc) memory() (rss, peak int64, err error) {
	f, err := os.Open("/proc/" + strconv.Itoa(p.pid()) + "/status")
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) < 1 {
			continue
		}
		n, _ := strconv.ParseInt(fields[0], 10, 64)
		switch k {
		case "VmRSS":
			rss = n << 10
		case "VmHWM":
			peak = n << 10
		}
	}
	return rss, peak, sc.Err()
}
