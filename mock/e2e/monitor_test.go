package e2e

import (
	"bufio"
	"fmt"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// monitor is Redis's MONITOR feed, kept to the commands clients sent that
// name keys under one prefix: a test's replicas' round trips, told apart
// from other tests on the same Redis.
type monitor struct {
	addr, prefix string
	conn         net.Conn
	mu           sync.Mutex
	cond         *sync.Cond
	lines        []string
	marks        map[string]bool
}

func startMonitor(t *testing.T, addr, prefix string) *monitor {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	m := &monitor{addr: addr, prefix: prefix, conn: c, marks: map[string]bool{}}
	m.cond = sync.NewCond(&m.mu)
	t.Cleanup(func() { c.Close() })
	go m.read()
	return m
}

var (
	monitorArg = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)
	recordKey  = regexp.MustCompile(`:(r|n|i:[^:]+):.*$`)
)

func (m *monitor) read() {
	sc := bufio.NewScanner(m.conn)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		args := monitorArg.FindAllStringSubmatch(line, -1)
		m.mu.Lock()
		if len(args) >= 2 && strings.EqualFold(args[0][1], "ECHO") && strings.HasPrefix(args[1][1], "mark-") {
			m.marks[args[1][1]] = true
			m.cond.Broadcast()
		} else if len(args) > 0 && strings.Contains(line, m.prefix) && !strings.Contains(line, " lua]") {
			// (Commands a script runs show as "[0 lua]": not round trips.)
			// The command and the first key under the prefix, record
			// keys shortened: "EVALSHA {pingone:sessions}:r:…".
			desc := strings.ToUpper(args[0][1])
			for _, a := range args[1:] {
				if k, ok := strings.CutPrefix(a[1], m.prefix); ok {
					desc += " " + recordKey.ReplaceAllString(k, ":$1:…")
					break
				}
			}
			m.lines = append(m.lines, desc)
		}
		m.mu.Unlock()
	}
}

// take returns the commands seen since the last take: a marker sent on
// its own connection comes back through the feed after them.
func (m *monitor) take(t *testing.T) []string {
	t.Helper()
	mark := fmt.Sprintf("mark-%d", time.Now().UnixNano())
	c, err := net.Dial("tcp", m.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "ECHO %s\r\n", mark)
	deadline := time.AfterFunc(2*time.Second, func() { m.mu.Lock(); m.marks[mark] = true; m.cond.Broadcast(); m.mu.Unlock() })
	defer deadline.Stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	for !m.marks[mark] {
		m.cond.Wait()
	}
	out := m.lines
	m.lines = nil
	return out
}
