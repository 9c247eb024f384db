package robust_test

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock"
	"github.com/idpmock/idpmock/mock/server"
)

// TestStateFileChangeLog: concurrent writes to both vendors while the
// change log is compacted again and again (a tiny --state-log-max); a
// restart from the snapshot and log (without the clean shutdown that
// writes a last snapshot) restores exactly the state the first process
// held.
//
// It drives the handlers directly, not mocktest: the test decides when
// each server's files are copied and when Close writes its snapshot.
func TestStateFileChangeLog(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	cfg := server.Config{PersistFile: file, PersistLogMax: 4 << 10}
	ctx := context.Background()
	a, err := server.New(ctx, cfg, mock.Vendors(mock.Config{})...)
	if err != nil {
		t.Fatal(err)
	}
	h := a.Handler()
	do := func(method, path, body string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer x")
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 60 {
				r := do("POST", "/v1/environments/"+pingEnv+"/sessions", `{"activeAt":"`+nowStamp()+`","userAgent":"w","idleTimeoutInMinutes":60}`)
				if r.Code != 201 {
					t.Errorf("pingone create: %d %s", r.Code, r.Body)
					return
				}
				var s struct{ ID string }
				_ = json.Unmarshal(r.Body.Bytes(), &s)
				switch i % 3 {
				case 1:
					do("PUT", "/v1/environments/"+pingEnv+"/sessions/"+s.ID, `{"activeAt":"`+nowStamp()+`","userAgent":"updated","idleTimeoutInMinutes":`+string(rune('1'+w))+`}`)
				case 2:
					z := do("POST", "/v2/sessions", `{"checks":{"user":{"loginName":"`+zitadelUser+`"}}}`)
					if z.Code != 201 {
						t.Errorf("zitadel create: %d %s", z.Code, z.Body)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	want, err := a.DumpState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// As if killed: the files as they are once the promise's 0.7 s have
	// passed, copied before the first server's Close writes a last snapshot.
	time.Sleep(durabilityPromise)
	dir := t.TempDir()
	for _, f := range []string{file, file + ".log", file + ".log.old"} {
		raw, err := os.ReadFile(f)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), raw, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	cfg.PersistFile = filepath.Join(dir, filepath.Base(file))
	b, err := server.New(ctx, cfg, mock.Vendors(mock.Config{})...)
	if err != nil {
		t.Fatal(err)
	}
	got, err := b.DumpState(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for v, doc := range want.Vendors {
		if !jsonSame(doc, got.Vendors[v]) {
			t.Errorf("%s restored differently:\n got %.300s\nwant %.300s", v, got.Vendors[v], doc)
		}
	}
	if err := b.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
