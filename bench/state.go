package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strconv"

	"github.com/google/uuid"

	"github.com/idpmock/idpmock/bench/workload"
	"github.com/idpmock/idpmock/mock/admin"
)

// stateDoc is a state document (the GET /__mock/state format) holding the
// fixtures plus n generated sessions, half per vendor, and the ids of the
// generated sessions. Each generated session copies one the in-process mock
// really created, so the document always matches the mock's own format.
func stateDoc(n int) ([]byte, *workload.Pools, error) {
	ctx := context.Background()
	srv, err := workload.NewMock(ctx)
	if err != nil {
		return nil, nil, err
	}
	h := &workload.Handler{H: srv.Handler()}
	if err := workload.Fill(h, &workload.Pools{}, 1, 5); err != nil {
		return nil, nil, err
	}
	st, err := srv.DumpState(ctx)
	if err != nil {
		return nil, nil, err
	}
	st.Clock = nil // keep the wall clock
	pools := &workload.Pools{}
	r := rand.New(rand.NewPCG(uint64(n), 3))

	var ping map[string]any
	if err := json.Unmarshal(st.Vendors["pingone"], &ping); err != nil {
		return nil, nil, fmt.Errorf("pingone state: %w", err)
	}
	ps, _ := ping["sessions"].([]any)
	if len(ps) == 0 {
		return nil, nil, fmt.Errorf("pingone state has no sessions")
	}
	tmpl := ps[len(ps)-1].(map[string]any)
	for i := 0; i < n/2; i++ {
		s := make(map[string]any, len(tmpl))
		for k, v := range tmpl {
			s[k] = v
		}
		id := uuid.Must(uuid.NewRandomFromReader(rngReader{r})).String()
		s["id"] = id
		s["user"] = map[string]any{"id": uuid.Must(uuid.NewRandomFromReader(rngReader{r})).String()}
		ps = append(ps, s)
		pools.Ping = append(pools.Ping, id)
	}
	ping["sessions"] = ps

	var zit map[string]any
	if err := json.Unmarshal(st.Vendors["zitadel"], &zit); err != nil {
		return nil, nil, fmt.Errorf("zitadel state: %w", err)
	}
	zs, _ := zit["sessions"].([]any)
	if len(zs) == 0 {
		return nil, nil, fmt.Errorf("zitadel state has no sessions")
	}
	ztmpl := zs[len(zs)-1].(map[string]any)
	base, err := strconv.ParseUint(fmt.Sprint(ztmpl["id"]), 10, 64)
	if err != nil {
		return nil, nil, fmt.Errorf("zitadel session id %v: %w", ztmpl["id"], err)
	}
	for i := 0; i < n-n/2; i++ {
		s := make(map[string]any, len(ztmpl))
		for k, v := range ztmpl {
			s[k] = v
		}
		id := strconv.FormatUint(base-uint64(i)-1, 10) // below lastId: never reissued
		s["id"] = id
		if _, ok := s["token"]; ok {
			s["token"] = fmt.Sprintf("bench%016x%016x", r.Uint64(), r.Uint64())
		}
		zs = append(zs, s)
		pools.Zitadel = append(pools.Zitadel, id)
	}
	zit["sessions"] = zs

	for name, v := range map[string]any{"pingone": ping, "zitadel": zit} {
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, nil, err
		}
		st.Vendors[name] = raw
	}
	doc, err := json.Marshal(st)
	return doc, pools, err
}

type rngReader struct{ r *rand.Rand }

func (g rngReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(g.r.Uint32())
	}
	return len(p), nil
}

// heapPerSession loads doc (n generated sessions) into an in-process mock
// and returns the live heap it adds per session, after garbage collection.
func heapPerSession(doc []byte, n int) (float64, error) {
	ctx := context.Background()
	st, err := admin.ParseStateFile("state.json", doc)
	if err != nil {
		return 0, err
	}
	srv, err := workload.NewMock(ctx)
	if err != nil {
		return 0, err
	}
	before := liveHeap()
	if err := srv.LoadState(ctx, st); err != nil {
		return 0, err
	}
	after := liveHeap()
	runtime.KeepAlive(st) // alive in both measures, so it cancels out
	runtime.KeepAlive(srv)
	return float64(after-before) / float64(n), nil
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
