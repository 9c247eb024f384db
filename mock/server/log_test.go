package server_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/idpmock/idpmock/mock/server"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var m map[string]any
		if l != "" && json.Unmarshal([]byte(l), &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// At the default level every request is one line naming the operation,
// status and duration, and a refused one names what was wrong.
func TestOneLogLinePerRequestAtInfo(t *testing.T) {
	var buf syncBuffer
	srv := start(t, withConfig(func(c *server.Config) {
		c.Log = slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}))
	id := create(t, srv, "alice", 60)
	call(t, srv, "POST", "/fake/things", map[string]any{"name": ""})  // breaks minLength
	call(t, srv, "GET", "/fake/things/"+id, nil, "Authorization", "") // no token
	call(t, srv, "GET", "/healthz", nil)                              // debug only
	want := []struct {
		method, path, op string
		status           float64
		invalid          string
	}{
		{"POST", "/fake/things", "createThing", 201, ""},
		{"POST", "/fake/things", "createThing", 400, "name"},
		{"GET", "/fake/things/" + id, "readThing", 401, "Authorization"},
	}
	var got []map[string]any
	for _, l := range buf.lines(t) {
		if l["msg"] == "request" {
			got = append(got, l)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d request lines, want %d: %v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g["level"] != "INFO" || g["method"] != w.method || g["path"] != w.path || g["operation"] != w.op || g["status"] != w.status || g["duration"] == nil {
			t.Errorf("line %d: %v, want %+v", i, g, w)
		}
		inv, _ := g["invalid"].(string)
		if (w.invalid == "") != (inv == "") || !strings.Contains(inv, w.invalid) {
			t.Errorf("line %d: invalid=%q, want it to name %q", i, inv, w.invalid)
		}
	}
}
