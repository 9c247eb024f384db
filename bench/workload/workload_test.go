package workload_test

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"

	"github.com/idpmock/idpmock/bench/workload"
)

// setup builds the in-process mock with 1,000 live sessions per vendor and
// the baseline answering the mock's own bytes.
func setup(tb testing.TB) (mockH, baseH *workload.Handler, pools *workload.Pools) {
	tb.Helper()
	srv, err := workload.NewMock(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	mockH = &workload.Handler{H: srv.Handler()}
	pools = &workload.Pools{}
	if err := workload.Fill(mockH, pools, 1000, 1); err != nil {
		tb.Fatal(err)
	}
	routes, err := workload.Capture(mockH, pools)
	if err != nil {
		tb.Fatal(err)
	}
	return mockH, &workload.Handler{H: workload.Baseline(routes)}, pools
}

// TestOps: every op succeeds against the mock and the baseline, so the
// benchmarks measure successes, not error paths.
func TestOps(t *testing.T) {
	mockH, baseH, pools := setup(t)
	r := rand.New(rand.NewPCG(1, 2))
	for _, op := range workload.Ops {
		for name, h := range map[string]*workload.Handler{"mock": mockH, "baseline": baseH} {
			st, body, hdr, err := h.Do(op.Build(pools, r))
			if err != nil || st != op.Status {
				t.Errorf("%s %s: status %d (want %d), err %v: %.300s", name, op.Name, st, op.Status, err, body)
			}
			// gRPC answers errors with 200 too; the status is in grpc-status.
			if name == "mock" && strings.HasPrefix(op.Name, "zitadel-grpc") && hdr.Get("Grpc-Status")+hdr.Get(http.TrailerPrefix+"Grpc-Status") != "0" {
				t.Errorf("%s: grpc-status not 0: %v", op.Name, hdr)
			}
		}
	}
}

// BenchmarkMock is each operation through the whole stack: routing,
// validation, journal, handler, state and response encoding.
func BenchmarkMock(b *testing.B) {
	mockH, _, pools := setup(b)
	run(b, mockH, pools)
}

// BenchmarkBaseline is the same requests against bare Echo.
func BenchmarkBaseline(b *testing.B) {
	_, baseH, pools := setup(b)
	run(b, baseH, pools)
}

func run(b *testing.B, h *workload.Handler, pools *workload.Pools) {
	for _, op := range workload.Ops {
		b.Run(op.Name, func(b *testing.B) {
			r := rand.New(rand.NewPCG(3, 4))
			reqs := make([]workload.Request, 4096)
			for i := range reqs {
				reqs[i] = op.Build(pools, r)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				st, body, _, err := h.Do(reqs[i%len(reqs)])
				if err != nil || st != op.Status {
					b.Fatalf("status %d: %v %.300s", st, err, body)
				}
			}
		})
	}
}
