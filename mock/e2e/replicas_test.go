package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/idpmock/idpmock/contracts"
	"github.com/idpmock/idpmock/mock/mocktest"
)

// TestScenariosAcrossReplicas runs every contract scenario through the
// round-robin proxy: consecutive steps of one flow land on different
// replicas, so each step sees what the previous one wrote elsewhere.
func TestScenariosAcrossReplicas(t *testing.T) {
	r := mocktest.StartReplicas(t, nReplicas)
	scs, err := contracts.Load(contracts.Files, "scenarios")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := contracts.VendorSpecs(nil)
	if err != nil {
		t.Fatal(err)
	}
	checker, err := contracts.NewChecker(vs)
	if err != nil {
		t.Fatal(err)
	}
	target := contracts.Target{Name: "two replicas on Redis", Client: r.AnonymousClient(),
		Vars: contracts.MockVars(r.URL), Checker: checker}
	for _, sc := range scs {
		t.Run(sc.Vendor+"/"+strings.TrimSuffix(sc.File[strings.LastIndex(sc.File, "/")+1:], ".yaml"), func(t *testing.T) {
			res := contracts.Run(context.Background(), target, sc)
			if res.Failed() {
				t.Error(res.Report())
			}
		})
	}
	hits := r.Hits()
	if hits[0] == 0 || hits[1] == 0 || hits[0]-hits[1] > 1 || hits[1]-hits[0] > 1 {
		t.Errorf("requests per replica %v: want them alternating", hits)
	}
}

const (
	clients = 64
	updates = 50
)

// TestZitadelConcurrentSetSession: 64 clients x 50 SetSession of ONE
// session, alternating between the replicas, each setting its own
// metadata key: every key is there and the sequence advanced by 3200
// times what one SetSession adds.
func TestZitadelConcurrentSetSession(t *testing.T) {
	r := mocktest.StartReplicas(t, nReplicas)
	c := r.Client()
	created := must(t, c, "POST", r.URL+"/v2/sessions", map[string]any{}, 201)
	id := str(created.body, "sessionId")
	// What one SetSession adds to the sequence (its events: the metadata
	// and the rotated token), measured on one update.
	seq := func() uint64 {
		got := must(t, c, "GET", r.URL+"/v2/sessions/"+id, nil, 200)
		n, err := strconv.ParseUint(str(got.body, "session", "sequence"), 10, 64)
		if err != nil {
			t.Fatalf("sequence of %s: %v", got, err)
		}
		return n
	}
	first := seq()
	must(t, c, "PATCH", r.URL+"/v2/sessions/"+id, map[string]any{"metadata": map[string]any{"first": "AA=="}}, 200)
	seq0 := seq()
	step := seq0 - first
	if step == 0 {
		t.Fatalf("a SetSession left the sequence at %d", seq0)
	}
	errs := run(clients, updates, func(i, j int) error {
		key := fmt.Sprintf("k%02d-%02d", i, j)
		body := map[string]any{"metadata": map[string]any{key: base64.StdEncoding.EncodeToString([]byte(key))}}
		resp, err := call(c, "PATCH", r.URL+"/v2/sessions/"+id, body)
		if err == nil && resp.status != 200 {
			err = fmt.Errorf("%s: %s", key, resp)
		}
		return err
	})
	for _, err := range errs {
		t.Error(err)
	}
	after := must(t, c, "GET", r.URL+"/v2/sessions/"+id, nil, 200)
	md, _ := after.body["session"].(map[string]any)["metadata"].(map[string]any)
	missing := 0
	for i := range clients {
		for j := range updates {
			key := fmt.Sprintf("k%02d-%02d", i, j)
			if md[key] != base64.StdEncoding.EncodeToString([]byte(key)) {
				missing++
			}
		}
	}
	if missing > 0 || len(md) != clients*updates+1 {
		t.Errorf("metadata: %d keys, %d of %d updates missing", len(md), missing, clients*updates)
	}
	seq1, _ := strconv.ParseUint(str(after.body, "session", "sequence"), 10, 64)
	if seq1-seq0 != step*clients*updates {
		t.Errorf("sequence %d → %d: advanced by %d, want %d x %d", seq0, seq1, seq1-seq0, clients*updates, step)
	}
	t.Logf("requests per replica: %v", r.Hits())
}

// TestPingOneConcurrentUpdates: 64 clients x 50 PUTs of ONE PingOne
// session over both replicas. Each update appends one location (its own
// remote IP) and PingOne keeps the last five, so every answer names the
// update stored just before it: with no update lost these links form one
// chain through all 3200 updates; a lost update shows as two updates
// naming the same predecessor, or a chain that skips some.
func TestPingOneConcurrentUpdates(t *testing.T) {
	r := mocktest.StartReplicas(t, nReplicas)
	c := r.Client()
	created := must(t, c, "POST", pingOneSessions(r.URL), pingOneSession("192.0.2.1"), 201)
	url := pingOneSessions(r.URL) + "/" + str(created.body, "id")
	var mu sync.Mutex
	prev := map[string]string{} // update's IP → the IP of the update before it
	errs := run(clients, updates, func(i, j int) error {
		ip := fmt.Sprintf("10.%d.%d.1", i, j)
		resp, err := call(c, "PUT", url, pingOneSession(ip))
		if err != nil {
			return err
		}
		if resp.status != 200 {
			return fmt.Errorf("%s: %s", ip, resp)
		}
		locs := ips(resp.body)
		if len(locs) < 2 || locs[len(locs)-1] != ip {
			return fmt.Errorf("%s: locations %v: want this update's last", ip, locs)
		}
		mu.Lock()
		prev[ip] = locs[len(locs)-2]
		mu.Unlock()
		return nil
	})
	for _, err := range errs {
		t.Error(err)
	}
	// Walk the chain back from the last stored update.
	final := ips(must(t, c, "GET", url, nil, 200).body)
	seen := map[string]bool{}
	n := 0
	for ip := final[len(final)-1]; ip != "192.0.2.1"; ip = prev[ip] {
		if seen[ip] || prev[ip] == "" {
			t.Fatalf("chain broken at %s after %d updates", ip, n)
		}
		seen[ip] = true
		n++
	}
	succ := map[string]int{}
	for _, p := range prev {
		succ[p]++
	}
	for p, k := range succ {
		if k > 1 {
			t.Errorf("%d updates were stored on top of %s: %d lost", k, p, k-1)
		}
	}
	if n != clients*updates {
		t.Errorf("chain of %d updates, want %d", n, clients*updates)
	}
	t.Logf("requests per replica: %v", r.Hits())
}

// ips are the remote IPs of a PingOne session's locations, oldest first.
func ips(session map[string]any) []string {
	var out []string
	locs, _ := session["locations"].([]any)
	for _, l := range locs {
		m, _ := l.(map[string]any)
		out = append(out, str(m, "remoteIp"))
	}
	return out
}

// run calls f(i, j) for j < per in each of n goroutines i.
func run(n, per int, f func(i, j int) error) []error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
	)
	for i := range n {
		wg.Go(func() {
			for j := range per {
				if err := f(i, j); err != nil {
					mu.Lock()
					if len(errs) < 10 {
						errs = append(errs, err)
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return errs
}

// nReplicas behind the proxy.
var nReplicas = 2
