package robust_test

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"strings"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/idpmock/idpmock/fixtures"
	"github.com/idpmock/idpmock/mock/admin"
	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/pingone"
	"github.com/idpmock/idpmock/mock/server"
	"github.com/idpmock/idpmock/mock/zitadel"
)

// The fuzz targets drive the whole server in-process (validation, control,
// handlers, error rendering, strict response checks) with arbitrary
// requests to each vendor's operations; any 5xx or panic is a bug. Seeds
// are the specs' own request examples. `make fuzz` runs each for a while;
// a crash lands in testdata/fuzz/<Target>/ and stays as a regression test.

func FuzzPingOne(f *testing.F)     { fuzzFace(f, facePingOne) }
func FuzzZitadelREST(f *testing.F) { fuzzFace(f, faceREST) }

func fuzzFace(f *testing.F, fc face) {
	var tgs []target
	for _, tg := range targets(f) {
		if tg.face == fc {
			tgs = append(tgs, tg)
		}
	}
	srv := mocktest.Start(f, mocktest.WithConfig(func(c *server.Config) { c.JournalSize = 16 }))
	l := setup(f, srv)
	for i, tg := range tgs {
		doc := tg.op.RequestBody
		seeds := [][]byte{nil}
		if doc != nil && doc.Value != nil {
			for _, mt := range doc.Value.Content {
				seeds = append(seeds, allExamples(mt)...)
			}
		}
		for _, body := range seeds {
			if body != nil {
				tg := tg
				tg.example = body
				body = fillBody(tg, l)
			}
			f.Add(uint8(i), "", "", tg.ctype, body)
		}
	}
	f.Add(uint8(0), "../x", "a=%zz", "application/json", []byte(`{"a":1,"a":2}`))
	// Issue 14: informational codes, delays past the write timeout, a
	// Connect GET message, int32 and year-9999 arithmetic.
	f.Add(uint8(0), "", "__code=101", "", []byte(nil))
	f.Add(uint8(1), "", "__code=100&__delay=600000", "", []byte(nil))
	f.Add(uint8(2), "", `connect=v1&encoding=json&message={"sessionToken":"x"}`, "", []byte(nil))
	for i := range tgs {
		f.Add(uint8(i), "", "", "application/json", []byte(`{"activeAt":"9999-12-31T23:59:59.999Z","idleTimeoutInMinutes":2147483647,"userAgent":"x","lifetime":"315576000000s"}`))
		f.Add(uint8(i), "", "", "application/json", []byte(`{"activeAt":"2024-01-01T00:00:00Z","idleTimeoutInMinutes":"153722868","userAgent":"x"}`))
	}
	h := srv.Mock.Handler()
	var calls atomic.Int64
	f.Fuzz(func(t *testing.T, opIndex uint8, id, query, ctype string, body []byte) {
		if calls.Add(1)%500 == 0 {
			l = setup(t, srv) // keep the state small
		}
		tg := tgs[int(opIndex)%len(tgs)]
		r := valid(tg, l)
		if id != "" && len(tg.idParams) > 0 {
			name := tg.idParams[len(tg.idParams)-1]
			r.path = strings.Replace(r.path, url.PathEscape(idFor(tg, name, l)), url.PathEscape(id), 1)
		}
		if query != "" {
			r.path += "?" + url.PathEscape(query)
		}
		req := httptest.NewRequestWithContext(context.Background(), r.method, "http://idpmock"+r.path, strings.NewReader(string(body)))
		req.Header.Set("Authorization", "Bearer fuzz")
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		if r.cookie != "" {
			req.Header.Set("Cookie", r.cookie)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s %s (Content-Type %q, body %q): %d %s", r.method, r.path, ctype, body, rec.Code, rec.Body)
		}
		if rec.Code >= 400 && rec.Code != http.StatusRequestHeaderFieldsTooLarge {
			a := answer{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
			if err := vendorFormat(tg.face, a); err != nil {
				t.Fatalf("%s %s (body %q): %v", r.method, r.path, body, err)
			}
		}
	})
}

// FuzzVendorFixtures replaces one fixture file with arbitrary bytes and
// seeds each vendor from it: a bad file is an error, never a panic, and a
// failed load leaves the previous state.
func FuzzVendorFixtures(f *testing.F) {
	var files []string
	_ = fs.WalkDir(fixtures.Data, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && path.Ext(p) == ".json" {
			files = append(files, p)
		}
		return nil
	})
	for i, name := range files {
		raw, err := fs.ReadFile(fixtures.Data, name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(i), raw)
		f.Add(uint8(i), []byte(`{}`))
	}
	deps := server.Deps{MaxSessions: 100}
	p, err := pingone.New(deps, pingone.Options{KnownEnvironmentsOnly: true})
	if err != nil {
		f.Fatal(err)
	}
	z, err := zitadel.New(deps)
	if err != nil {
		f.Fatal(err)
	}
	vendors := []server.Vendor{p, z}
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		name := files[int(which)%len(files)]
		fsys := fstest.MapFS{}
		for _, n := range files {
			raw, _ := fs.ReadFile(fixtures.Data, n)
			fsys[n] = &fstest.MapFile{Data: raw}
		}
		fsys[name] = &fstest.MapFile{Data: data}
		for _, v := range vendors {
			if !strings.HasPrefix(name, v.Name()+"/") {
				continue
			}
			if err := v.Reset(context.Background(), fixtures.Data); err != nil {
				t.Fatalf("%s: the embedded fixtures no longer load: %v", v.Name(), err)
			}
			before, _ := v.(server.Stateful).SnapshotState(context.Background())
			if err := v.Reset(context.Background(), fsys); err != nil {
				after, _ := v.(server.Stateful).SnapshotState(context.Background())
				if string(before) != string(after) {
					t.Fatalf("%s: a refused fixture changed the state", v.Name())
				}
			}
		}
	})
}

// FuzzStateDocument loads arbitrary state documents (PUT /__mock/state,
// --state, --state-file): refused or loaded, never a panic, and a loaded
// document dumps and loads again.
func FuzzStateDocument(f *testing.F) {
	srv := mocktest.Start(f)
	setup(f, srv)
	good, err := json.Marshal(srv.State(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	f.Add([]byte(`{"vendors":{"pingone":{"sessions":[]},"zitadel":{"sessions":[]}}}`))
	f.Add([]byte(`{"vendors":{"zitadel":{"sessions":[{"id":"1","sequence":"x"}]}},"clock":{"now":"2030-01-01T00:00:00Z","frozen":true}}`))
	// Issue 14: clocks out of range, sessions expiring past year 9999.
	f.Add([]byte(`{"vendors":{},"clock":{"now":"1000-01-01T00:00:00Z","frozen":true,"offset":"0s"}}`))
	f.Add([]byte(`{"vendors":{},"clock":{"now":"9999-12-31T23:59:59Z","frozen":false,"offset":"0s"}}`))
	f.Add([]byte(`{"vendors":{"pingone":{"sessions":[{"id":"5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d","environment":{"id":"abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6"},"activeAt":"9999-12-31T00:00:00Z","idleTimeoutInMinutes":2147483647,"userAgent":"x"}]}}}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		st, err := admin.ParseStateFile("fuzz.json", doc)
		if err != nil {
			return
		}
		ctx := context.Background()
		if err := srv.Mock.LoadState(ctx, st); err != nil {
			return
		}
		again, err := srv.Mock.DumpState(ctx)
		if err != nil {
			t.Fatalf("a loaded state does not dump: %v", err)
		}
		if err := srv.Mock.LoadState(ctx, again); err != nil {
			t.Fatalf("a dumped state does not load: %v", err)
		}
	})
}
