package robust_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
)

// durabilityPromise is what docs/guarantees.md promises: a change
// acknowledged this long before a SIGKILL survives it (at the default
// 100 ms save delay, at any state size up to the caps).
const durabilityPromise = 700 * time.Millisecond

// op is one acknowledged write of the durability test.
type op struct {
	path    string
	idle    int // the idleTimeoutInMinutes it set; 0: deleted
	sent    time.Time
	acked   time.Time
	pending bool // sent, not acknowledged when the process died
}

// TestDurabilityAtSize kills the mock with SIGKILL under a write load at
// 100,000 sessions and checks, after a restart on the same --state-file,
// every write acknowledged more than durabilityPromise before the kill:
// created and updated sessions read back with the idle timeout they were
// last given, deleted ones are gone. It runs in two rounds, the second on
// the state the first restored, with a small --state-log-max so that log
// compactions run during the load. IDPMOCK_DURABILITY=1 runs it (make
// durability-test): it takes about a minute.
func TestDurabilityAtSize(t *testing.T) {
	if os.Getenv("IDPMOCK_DURABILITY") == "" {
		t.Skip("set IDPMOCK_DURABILITY=1 (make durability-test)")
	}
	const total, envs = 100_000, 4
	dir := t.TempDir()
	seed, file := filepath.Join(dir, "seed.json"), filepath.Join(dir, "state.json")
	envIDs := make([]string, envs)
	for i := range envIDs {
		envIDs[i] = uuid.NewString()
	}
	writeSeed(t, seed, envIDs, total)
	args := []string{"--state", seed, "--state-file", file, "--state-log-max", "1000000", "--log-level", "debug"}
	started := time.Now()
	p := startBinaryWithin(t, 60*time.Second, args...)
	t.Logf("started on %d seeded sessions in %v", total, time.Since(started).Round(time.Millisecond))
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}

	var checked, lost int
	for round := range 2 {
		checkedBefore := checked
		ops := writeLoad(t, hc, p.base, envIDs, 3*time.Second+time.Duration(rand.IntN(1000))*time.Millisecond, p)
		killedAt := time.Now()
		p.wait(t, 10*time.Second)
		compactions := strings.Count(p.logs.String(), `"msg":"state file compacted"`)
		ages := saveAges(p.logs.String())
		var logSize int64 // FILE.log, and FILE.log.old if a compaction was under way
		for _, f := range []string{file + ".log", file + ".log.old"} {
			if info, err := os.Stat(f); err == nil {
				logSize += info.Size()
			}
		}
		started = time.Now()
		p = startBinaryWithin(t, 60*time.Second, args...)
		t.Logf("round %d: %d sessions written, %d compactions under load; log %d bytes at the kill; restart took %v",
			round, len(ops), compactions, logSize, time.Since(started).Round(time.Millisecond))
		if len(ages) > 0 {
			t.Logf("round %d: %d batches saved; oldest change at its fsync: median %v, 99th percentile %v, max %v", round, len(ages),
				ages[len(ages)/2].Round(time.Millisecond), ages[len(ages)*99/100].Round(time.Millisecond), ages[len(ages)-1].Round(time.Millisecond))
		}
		for path, o := range ops {
			if o.pending || killedAt.Sub(o.acked) < durabilityPromise {
				continue // in flight or too recent: either outcome is allowed
			}
			checked++
			a, err := trySend(hc, p.base, request{method: "GET", path: path, header: http.Header{"Authorization": {"Bearer t"}}})
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Idle int `json:"idleTimeoutInMinutes"`
			}
			_ = json.Unmarshal(a.body, &got)
			switch {
			case o.idle == 0 && a.status != 404:
				t.Errorf("round %d: %s deleted %v before the kill, reads %d", round, path, killedAt.Sub(o.acked), a.status)
				lost++
			case o.idle != 0 && (a.status != 200 || (got.Idle != o.idle && !strings.HasPrefix(path, "/v2/"))):
				t.Errorf("round %d: %s set idle %d %v before the kill, reads %d idle %d", round, path, o.idle, killedAt.Sub(o.acked), a.status, got.Idle)
				lost++
			}
			if lost > 20 {
				t.Fatalf("too many lost writes")
			}
		}
		t.Logf("round %d: %d writes older than %v checked", round, checked-checkedBefore, durabilityPromise)
	}
	t.Logf("%d writes older than %v checked, %d lost", checked, durabilityPromise, lost)
	if checked < 1000 {
		t.Errorf("only %d writes checked: the load is too light to show anything", checked)
	}
}

// saveAges reads, from the mock's debug log, how old the oldest change of
// each saved batch was at its fsync, sorted.
func saveAges(logs string) []time.Duration {
	var out []time.Duration
	for _, line := range strings.Split(logs, "\n") {
		if !strings.Contains(line, `"msg":"state changes saved"`) {
			continue
		}
		var l struct{ Age time.Duration }
		if json.Unmarshal([]byte(line), &l) == nil {
			out = append(out, l.Age)
		}
	}
	slices.Sort(out)
	return out
}

// writeSeed writes a state document of n PingOne sessions spread over envs.
func writeSeed(t *testing.T, file string, envs []string, n int) {
	t.Helper()
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	now := time.Now().UTC().Format(time.RFC3339)
	fmt.Fprint(f, `{"vendors":{"pingone":{"sessions":[`)
	for i := range n {
		if i > 0 {
			fmt.Fprint(f, ",")
		}
		fmt.Fprintf(f, `{"id":%q,"environment":{"id":%q},"createdAt":%q,"activeAt":%q,"idleTimeoutInMinutes":60,"userAgent":"durability seed %d","locations":[{"at":%q,"remoteIp":"192.0.2.1"}]}`,
			uuid.NewString(), envs[i%len(envs)], now, now, i, now)
	}
	fmt.Fprint(f, `]}}}`)
}

// writeLoad runs PingOne creates, updates and deletes from 5 clients and
// ZITADEL creates and deletes from a sixth until a
// random moment in d, then kills the process with SIGKILL, and returns
// the last write of each session path.
func writeLoad(t *testing.T, hc *http.Client, base string, envs []string, d time.Duration, p *proc) map[string]*op {
	t.Helper()
	var mu sync.Mutex
	ops := map[string]*op{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	auth := http.Header{"Authorization": {"Bearer t"}}
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
			zitadel := w == 5            // one client writes ZITADEL sessions
			var mine []string            // this client's live sessions
			users := map[string]string{} // session path → its PingOne user or ZITADEL token
			for n := 1; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				env := envs[rng.IntN(len(envs))]
				user := uuid.NewString() // PingOne keeps 10 sessions per user: one each
				idle := w*10_000_000 + n
				var r request
				var path string
				switch k := rng.IntN(10); {
				case zitadel && (k < 6 || len(mine) == 0):
					r = request{method: "POST", path: "/v2/sessions", ctype: "application/json", header: auth,
						body: []byte(`{"checks":{"user":{"loginName":"` + zitadelUser + `"}}}`)}
				case zitadel:
					i := rng.IntN(len(mine))
					path = mine[i]
					mine = append(mine[:i], mine[i+1:]...)
					idle = 0
					r = request{method: "DELETE", path: path, ctype: "application/json", header: auth,
						body: []byte(`{"sessionToken":"` + users[path] + `"}`)}
				case k < 5 || len(mine) == 0:
					r = request{method: "POST", path: "/v1/environments/" + env + "/sessions", ctype: "application/json", header: auth,
						body: fmt.Appendf(nil, `{"activeAt":%q,"idleTimeoutInMinutes":%d,"userAgent":"load","user":{"id":%q}}`, nowStamp(), idle, user)}
				case k < 8:
					path = mine[rng.IntN(len(mine))]
					r = request{method: "PUT", path: path, ctype: "application/json", header: auth,
						body: fmt.Appendf(nil, `{"activeAt":%q,"idleTimeoutInMinutes":%d,"userAgent":"load","user":{"id":%q}}`, nowStamp(), idle, users[path])}
				default:
					i := rng.IntN(len(mine))
					path = mine[i]
					mine = append(mine[:i], mine[i+1:]...)
					idle = 0
					r = request{method: "DELETE", path: strings.Replace(path, "/sessions/", "/users/"+users[path]+"/sessions/", 1), header: auth}
				}
				o := &op{path: path, idle: idle, sent: time.Now(), pending: true}
				if path != "" {
					mu.Lock()
					ops[path] = o // a later write of a path replaces the earlier
					mu.Unlock()
				}
				a, err := trySend(hc, base, r)
				if err != nil {
					return // killed
				}
				switch {
				case zitadel && r.method == "POST" && a.status == 201:
					var s struct{ SessionID, SessionToken string }
					_ = json.Unmarshal(a.body, &s)
					o.path = "/v2/sessions/" + s.SessionID
					mine = append(mine, o.path)
					users[o.path] = s.SessionToken
				case zitadel && r.method == "DELETE" && a.status == 200:
				case r.method == "POST" && a.status == 201:
					var s struct{ ID string }
					_ = json.Unmarshal(a.body, &s)
					o.path = "/v1/environments/" + env + "/sessions/" + s.ID
					mine = append(mine, o.path)
					users[o.path] = user
				case r.method == "PUT" && a.status == 200, r.method == "DELETE" && a.status == 204:
				default:
					t.Errorf("%s %s: %d %s", r.method, r.path, a.status, a.body)
					return
				}
				mu.Lock()
				o.acked, o.pending = time.Now(), false
				ops[o.path] = o
				mu.Unlock()
			}
		}()
	}
	time.Sleep(d)
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	return ops
}
