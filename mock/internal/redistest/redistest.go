// Package redistest is the tests' one way to Redis: the shared server that
// `make redis-test` starts (IDPMOCK_TEST_REDIS; without it the Redis tests
// skip, so `make test` needs no Redis), fresh key prefixes on it, and
// redis-servers of a test's own that it may stop, restart or freeze.
package redistest

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// Env names the shared test Redis (host:port).
const Env = "IDPMOCK_TEST_REDIS"

// Addr is the shared test Redis; the test skips without it.
func Addr(t testing.TB) string {
	t.Helper()
	addr := os.Getenv(Env)
	if addr == "" {
		t.Skip(Env + " not set (make redis-test sets it)")
	}
	return addr
}

// Prefix is a fresh key prefix, so tests sharing one Redis never meet.
func Prefix() string { return fmt.Sprintf("idpmocktest:%x:", rand.Uint64()) }

// Server is a redis-server of the test's own, on a free loopback port and
// in its own directory, killed when the test ends.
type Server struct {
	Addr string
	t    testing.TB
	dir  string
	cmd  *exec.Cmd
}

// Start runs a private redis-server. Like every Redis test it needs the
// shared one too (so `make test` never starts servers), and it skips
// without redis-server installed.
func Start(t testing.TB) *Server {
	t.Helper()
	Addr(t)
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server not installed")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: l.Addr().String(), t: t, dir: t.TempDir()}
	l.Close()
	s.Restart()
	t.Cleanup(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			_ = s.cmd.Process.Signal(syscall.SIGCONT)
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	})
	return s
}

// Restart starts the server (again, on the same port and directory: a
// server stopped with Stop(true) comes back with its data) and returns
// when it accepts connections.
func (s *Server) Restart() time.Time {
	s.t.Helper()
	_, port, _ := net.SplitHostPort(s.Addr)
	s.cmd = exec.Command("redis-server", "--port", port, "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", s.dir, "--dbfilename", "dump.rdb", "--logfile", "redis.log")
	if err := s.cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		if c, err := net.Dial("tcp", s.Addr); err == nil {
			c.Close()
			return time.Now()
		}
	}
	s.t.Fatal("redis-server did not start")
	return time.Time{}
}

// Stop shuts the server down: with save, as `SHUTDOWN SAVE` (Redis runs one
// script at a time, so what comes back is exactly what was applied);
// without, as `redis-cli shutdown nosave` (the data is gone, as after a
// crash of a Redis without persistence).
func (s *Server) Stop(save bool) {
	s.t.Helper()
	c, err := net.Dial("tcp", s.Addr)
	if err != nil {
		s.t.Fatal(err)
	}
	cmd := "SHUTDOWN NOSAVE\r\n"
	if save {
		cmd = "SHUTDOWN SAVE\r\n"
	}
	_, _ = c.Write([]byte(cmd))
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = io.Copy(io.Discard, c) // the server closes it
	c.Close()
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Freeze stops the process (SIGSTOP): connections stay open, nothing
// answers. Thaw resumes it.
func (s *Server) Freeze() error { return s.cmd.Process.Signal(syscall.SIGSTOP) }

// Thaw resumes a frozen server.
func (s *Server) Thaw() error { return s.cmd.Process.Signal(syscall.SIGCONT) }
