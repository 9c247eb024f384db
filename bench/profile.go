package main

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/idpmock/idpmock/bench/workload"
)

// profileOp serves op in process for d under the CPU profiler and returns
// pprof's cumulative top, trimmed to the frames that explain where a
// request's time goes (the runtime and harness frames are left out).
func profileOp(dir string, h *workload.Handler, pools *workload.Pools, op *workload.Op, d time.Duration) (string, error) {
	file := filepath.Join(dir, op.Name+".cpu")
	f, err := os.Create(file)
	if err != nil {
		return "", err
	}
	r := rand.New(rand.NewPCG(21, 22))
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return "", err
	}
	n := 0
	for end := time.Now().Add(d); time.Now().Before(end); n++ {
		_, _, _, _ = h.Do(op.Build(pools, r))
	}
	pprof.StopCPUProfile()
	if err := f.Close(); err != nil {
		return "", err
	}
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	out, err := exec.Command(goCmd(), "tool", "pprof", "-top", "-cum", "-nodecount=200", exe, file).Output()
	if err != nil {
		return "", fmt.Errorf("go tool pprof: %w", err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%d requests; share of CPU time (cumulative) per frame:\n\n", n)
	kept := 0
	for _, line := range bytes.Split(out, []byte("\n")) {
		fields := strings.Fields(string(line))
		if len(fields) < 6 || !strings.HasSuffix(fields[4], "%") {
			continue
		}
		fn := strings.Join(fields[5:], " ")
		if !interesting(fn) {
			continue
		}
		fmt.Fprintf(&b, "%7s  %s\n", fields[4], fn)
		if kept++; kept == 22 {
			break
		}
	}
	return b.String(), nil
}

// interesting drops the runtime, the harness and the middleware frames
// that merely wrap the rest of the chain (their cumulative share is the
// whole request and says nothing).
func interesting(fn string) bool {
	for _, prefix := range []string{"runtime.", "testing.", "main.", "sync.", "gcWriteBarrier"} {
		if strings.HasPrefix(fn, prefix) {
			return false
		}
	}
	for _, wrapper := range []string{"bench/workload", "(*Server).logRequests", "(*Server).noteChanges",
		"(*Server).recoverPanics", "(*Server).journalRequests", "CORSWithConfig", "(*Echo).ServeHTTP", "(*Echo).add.func1"} {
		if strings.Contains(fn, wrapper) {
			return false
		}
	}
	return true
}
