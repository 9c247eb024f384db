package server_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/server"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

const seedOne = `[{"id":"seed1","name":"seeded","expiresAt":"2999-01-01T00:00:00Z"}]`

func TestReloadKeepsStateAndRejectsBadEdits(t *testing.T) {
	const (
		twoSeeds = `[{"id":"seed1","name":"seeded","expiresAt":"2999-01-01T00:00:00Z"},{"id":"seed2","name":"added","expiresAt":"2999-01-01T00:00:00Z"}]`
		slowSeed = `{"overrides":[{"operation":"readThing","status":429,"headers":{"Retry-After":"5"},"match":{"pathParams":{"id":"seed1"}}}]}`
	)
	dir := t.TempDir()
	write(t, filepath.Join(dir, "fake/things.json"), seedOne)
	write(t, filepath.Join(dir, "overrides.json"), slowSeed)
	srv := start(t, withConfig(func(c *server.Config) { c.FixturesDir = dir }))
	created := create(t, srv, "live", 3600)
	if r := call(t, srv, "GET", "/fake/things/seed1", nil); r.status != 429 {
		t.Fatalf("overrides file not loaded at start: %d", r.status)
	}
	steps := []struct {
		name   string
		files  map[string]string
		errHas string // in the reload report; "" for none
		seed1  int    // GET /fake/things/seed1 afterwards (429 while the file override holds)
		seed2  int
	}{
		{"new seed", map[string]string{"fake/things.json": twoSeeds}, "", 429, 200},
		{"broken fixture keeps the old one", map[string]string{"fake/things.json": `[{"id":`}, "fake/things.json", 429, 200},
		{"override breaking the spec is refused", map[string]string{"fake/things.json": twoSeeds,
			"overrides.json": `{"overrides":[{"operation":"readThing","status":429,"headers":{"Retry-After":"later"}}]}`}, "Retry-After", 429, 200},
		{"override file schema error", map[string]string{"overrides.json": `{"overrides":[{"operation":"readThing","status":"429"}]}`}, "/overrides/0/status", 429, 200},
		{"overrides removed", map[string]string{"overrides.json": `{"overrides":[]}`}, "", 200, 200},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			for f, content := range st.files {
				write(t, filepath.Join(dir, f), content)
			}
			r := call(t, srv, "POST", "/__mock/reload", nil)
			if r.status != 200 || (st.errHas == "") != strings.Contains(string(r.body), `"errors":[]`) || !strings.Contains(string(r.body), st.errHas) {
				t.Errorf("reload: %d %s, want error containing %q", r.status, r.body, st.errHas)
			}
			for path, want := range map[string]int{"/fake/things/seed1": st.seed1, "/fake/things/seed2": st.seed2, "/fake/things/" + created: 200} {
				if r := call(t, srv, "GET", path, nil); r.status != want {
					t.Errorf("GET %s: %d, want %d", path, r.status, want)
				}
			}
		})
	}
	if srv.Journal().Len() == 0 {
		t.Error("the journal was lost")
	}
}

func TestWatchReloadsOnEdit(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "fake/things.json"), `[]`)
	srv := start(t, withConfig(func(c *server.Config) { c.FixturesDir = dir }))
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := srv.Mock.Watch(ctx); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "fake/things.json"), seedOne)
	write(t, filepath.Join(dir, "overrides.json"), `{"overrides":[{"operation":"readThing","status":404,"match":{"pathParams":{"id":"gone"}}}]}`)
	deadline := time.Now().Add(5 * time.Second)
	for {
		seed, ov := call(t, srv, "GET", "/fake/things/seed1", nil), call(t, srv, "GET", "/fake/things/gone", nil, "Prefer", "state=ignore")
		if seed.status == 200 && ov.status == 404 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("edits not applied: seed %d, override %d", seed.status, ov.status)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
