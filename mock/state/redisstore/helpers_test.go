package redisstore

import (
	"bufio"
	"context"
	"github.com/idpmock/idpmock/mock/internal/redistest"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/state/statetest"
)

func openAt(t testing.TB, addr, prefix string, o Options) *Client {
	t.Helper()
	o.Prefix = prefix
	c, err := Open(context.Background(), "redis://"+addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func newRecStore(t testing.TB, c *Client, cfg statetest.Config) *Store[statetest.Rec] {
	t.Helper()
	s, err := New(c, Config[statetest.Rec]{
		Name:        "recs",
		Key:         statetest.Key,
		Indexes:     statetest.Indexes,
		Limit:       cfg.Limit,
		IndexLimits: map[string]int{statetest.Owner: cfg.OwnerLimit},
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func redisBackend(addr string) statetest.Backend {
	return statetest.Backend{
		Store: func(t *testing.T, cfg statetest.Config) state.Store[statetest.Rec] {
			return newRecStore(t, openAt(t, addr, redistest.Prefix(), Options{}), cfg)
		},
		Cell: func(t *testing.T) state.Cell[statetest.Clock] {
			return NewCell[statetest.Clock](openAt(t, addr, redistest.Prefix(), Options{}), "clock")
		},
		Counters: func(t *testing.T) state.Counters {
			return NewCounters(openAt(t, addr, redistest.Prefix(), Options{}), "overrides")
		},
		Log: func(t *testing.T, max int) state.Log {
			return NewLog(openAt(t, addr, redistest.Prefix(), Options{}), "journal", max)
		},
	}
}

// rawCommand sends one inline command on its own connection and returns the
// reply's first line and bulk body (for INFO, SHUTDOWN, KEYS in tests).
func rawCommand(t testing.TB, addr, cmd string) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Write([]byte(cmd + "\r\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	line, err := r.ReadString('\n')
	if err != nil {
		return ""
	}
	if !strings.HasPrefix(line, "$") {
		return strings.TrimSpace(line)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	if n < 0 {
		return ""
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}
