package robust_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The tests in this file build the real idpmock binary and signal it.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func idpmockBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary; skipped with -short")
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "idpmock-robust-*")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "idpmock")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/idpmock/idpmock/mock/cmd/idpmock").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// proc is a running idpmock.
type proc struct {
	cmd  *exec.Cmd
	base string
	logs *syncBuffer
	done chan error
}

func startBinary(t *testing.T, args ...string) *proc {
	t.Helper()
	return startBinaryWithin(t, 20*time.Second, args...)
}

// startBinaryWithin starts idpmock and waits up to within for it to be ready.
func startBinaryWithin(t *testing.T, within time.Duration, args ...string) *proc {
	t.Helper()
	cmd := exec.Command(idpmockBinary(t), append([]string{"--addr", "127.0.0.1:0", "--log-format", "json"}, args...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{cmd: cmd, logs: &syncBuffer{}, done: make(chan error, 1)}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			_, _ = p.logs.Write(append(sc.Bytes(), '\n'))
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "ready" {
				ready <- line.Addr
			}
		}
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	select {
	case addr := <-ready:
		p.base = "http://" + addr
	case err := <-p.done:
		t.Fatalf("idpmock exited at start: %v\n%s", err, p.logs.String())
	case <-time.After(within):
		t.Fatalf("idpmock not ready after %v:\n%s", within, p.logs.String())
	}
	return p
}

// wait returns the exit code once the process ends.
func (p *proc) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(within):
		t.Fatalf("idpmock still running after %v:\n%s", within, p.logs.String())
		return -1
	}
}

var client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}

// createBoth makes one session per vendor and returns the paths to read them.
func createBoth(base string) ([]string, error) {
	a, err := trySend(client, base, request{method: "POST", path: "/v2/sessions", ctype: "application/json",
		body: []byte(`{"checks":{"user":{"loginName":"` + zitadelUser + `"}}}`)})
	if err != nil || a.status != 201 {
		return nil, fmt.Errorf("zitadel create: %v %d", err, a.status)
	}
	var z struct{ SessionID string }
	_ = json.Unmarshal(a.body, &z)
	a, err = trySend(client, base, request{method: "POST", path: "/v1/environments/" + pingEnv + "/sessions", ctype: "application/json",
		body: []byte(`{"activeAt":"` + nowStamp() + `","userAgent":"durable"}`)})
	if err != nil || a.status != 201 {
		return nil, fmt.Errorf("pingone create: %v %d", err, a.status)
	}
	var p struct{ ID string }
	_ = json.Unmarshal(a.body, &p)
	return []string{"/v2/sessions/" + z.SessionID, "/v1/environments/" + pingEnv + "/sessions/" + p.ID}, nil
}

// TestStateFileSurvivesSIGKILL kills the mock with SIGKILL in the middle
// of a burst of writes, twice, and restarts it on the same
// --state-file: it must start (the file always loads) and hold every
// session acknowledged well before the kill.
func TestStateFileSurvivesSIGKILL(t *testing.T) {
	t.Parallel() // mostly waiting on the process: overlap with the CPU-bound tests
	file := filepath.Join(t.TempDir(), "state.json")
	var durable []string // acknowledged ≥ 700ms before a kill: must survive
	rounds := 2
	for round := range rounds {
		p := startBinary(t, "--state-file", file)
		for _, path := range durable {
			a, err := trySend(client, p.base, request{method: "GET", path: path})
			if err != nil || a.status != 200 {
				t.Fatalf("round %d: %s lost after the kill: %v %d %s", round, path, err, a.status, a.body)
			}
		}
		// A steady part, then a burst the kill interrupts.
		for range 20 {
			paths, err := createBoth(p.base)
			if err != nil {
				t.Fatal(err)
			}
			durable = append(durable, paths...)
		}
		time.Sleep(700 * time.Millisecond) // 7x the save delay
		var mu sync.Mutex
		var burst []string
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					paths, err := createBoth(p.base)
					if err != nil {
						return // killed
					}
					mu.Lock()
					burst = append(burst, paths...)
					mu.Unlock()
				}
			}()
		}
		time.Sleep(time.Duration(150+rand.IntN(350)) * time.Millisecond)
		if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		close(stop)
		wg.Wait()
		p.wait(t, 5*time.Second)
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !json.Valid(raw) {
			t.Fatalf("round %d: the state file is not valid JSON after SIGKILL (%d bytes)", round, len(raw))
		}
		logged, _ := os.ReadFile(file + ".log") // the change log since the snapshot
		saved := 0
		for _, path := range burst {
			if bytes.Contains(raw, []byte(path[strings.LastIndexByte(path, '/')+1:])) || bytes.Contains(logged, []byte(path[strings.LastIndexByte(path, '/')+1:])) {
				saved++
			}
		}
		t.Logf("round %d: %d bytes, %d of %d sessions of the interrupted burst saved", round, len(raw), saved, len(burst))
	}
	p := startBinary(t, "--state-file", file)
	for _, path := range durable {
		if a, err := trySend(client, p.base, request{method: "GET", path: path}); err != nil || a.status != 200 {
			t.Fatalf("after the last kill: %s lost: %v %d", path, err, a.status)
		}
	}
	if tmp, _ := filepath.Glob(filepath.Join(filepath.Dir(file), ".state.json.tmp-*")); len(tmp) > 0 {
		t.Fatalf("temporary files left: %v", tmp)
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
}

// TestSIGTERMDrainsInFlightRequests: a request in flight when SIGTERM
// arrives is answered; new connections are refused; the exit code is 0,
// and state changed just before is in --state-file.
func TestSIGTERMDrainsInFlightRequests(t *testing.T) {
	t.Parallel() // mostly waiting on the process: overlap with the CPU-bound tests
	file := filepath.Join(t.TempDir(), "state.json")
	p := startBinary(t, "--shutdown-timeout", "5s", "--state-file", file)
	if a, err := trySend(client, p.base, request{method: "POST", path: "/__mock/overrides", ctype: "application/json",
		body: []byte(`{"operation":"readSession","delayMs":1500}`)}); err != nil || a.status != 201 {
		t.Fatalf("override: %v %d %s", err, a.status, a.body)
	}
	type result struct {
		a   answer
		err error
		at  time.Time
	}
	slow := make(chan result, 1)
	go func() {
		a, err := trySend(client, p.base, request{method: "GET", path: "/v1/environments/" + pingEnv + "/sessions/" + pingSession})
		slow <- result{a, err, time.Now()}
	}()
	time.Sleep(300 * time.Millisecond)
	paths, err := createBoth(p.base) // changed right before the signal
	if err != nil {
		t.Fatal(err)
	}
	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	if _, err := trySend(&http.Client{Timeout: time.Second}, p.base, request{method: "GET", path: "/healthz"}); err == nil {
		t.Error("a new connection was accepted after SIGTERM")
	}
	r := <-slow
	if r.err != nil || r.a.status != 200 {
		t.Fatalf("the in-flight request: %v %d %s", r.err, r.a.status, r.a.body)
	}
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("exit code %d after draining:\n%s", code, p.logs.String())
	}
	t.Logf("in-flight request answered %v after SIGTERM", r.at.Sub(sent).Round(time.Millisecond))
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range paths {
		if id := path[strings.LastIndexByte(path, '/')+1:]; !bytes.Contains(raw, []byte(id)) {
			t.Errorf("session %s, created just before SIGTERM, is not in the state file", id)
		}
	}
}

// TestSIGTERMDeadline: a request slower than --shutdown-timeout is cut,
// and the process still ends on time (exit code 1: not everything drained).
func TestSIGTERMDeadline(t *testing.T) {
	t.Parallel() // mostly waiting on the process: overlap with the CPU-bound tests
	p := startBinary(t, "--shutdown-timeout", "300ms")
	if a, err := trySend(client, p.base, request{method: "POST", path: "/__mock/overrides", ctype: "application/json",
		body: []byte(`{"operation":"readSession","delayMs":10000}`)}); err != nil || a.status != 201 {
		t.Fatalf("override: %v %d", err, a.status)
	}
	go func() {
		_, _ = trySend(client, p.base, request{method: "GET", path: "/v1/environments/" + pingEnv + "/sessions/" + pingSession})
	}()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	code := p.wait(t, 5*time.Second)
	if took := time.Since(start); took > 2*time.Second || code != 1 {
		t.Fatalf("exit code %d after %v, want 1 within about 300ms", code, took)
	}
}
