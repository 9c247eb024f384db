package e2e

import (
	"fmt"
	"github.com/idpmock/idpmock/mock/internal/redistest"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idpmock/idpmock/mock/mocktest"
	"github.com/idpmock/idpmock/mock/server"
)

// outcomes sorts the answers a client saw while Redis went away.
type outcomes struct {
	ok, notFound, unavailable atomic.Int64
	unavailableBy             sync.Map // vendor → *atomic.Int64
	mu                        sync.Mutex
	other, gone               []string // samples
}

func (o *outcomes) unavailableOf(vendor string) int64 {
	n, _ := o.unavailableBy.LoadOrStore(vendor, new(atomic.Int64))
	return n.(*atomic.Int64).Load()
}

func (o *outcomes) add(vendor string, r reply, err error) {
	switch {
	case err != nil:
		o.bad(fmt.Sprintf("%s: %v", vendor, err))
	case r.status >= 200 && r.status < 300:
		o.ok.Add(1)
	case r.status == 404 && vendorError(vendor, r, 404):
		// The session was in the Redis that stopped without saving.
		o.notFound.Add(1)
		o.mu.Lock()
		if len(o.gone) < 3 {
			o.gone = append(o.gone, vendor+": "+r.String())
		}
		o.mu.Unlock()
	case r.status == 503 && vendorError(vendor, r, 503):
		o.unavailable.Add(1)
		n, _ := o.unavailableBy.LoadOrStore(vendor, new(atomic.Int64))
		n.(*atomic.Int64).Add(1)
	default:
		o.bad(fmt.Sprintf("%s: %s", vendor, r))
	}
}

func (o *outcomes) bad(s string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.other) < 10 {
		o.other = append(o.other, s)
	}
}

// vendorError: r is the vendor's own error document for status: PingOne's
// {id, code, message} (503: UNEXPECTED_ERROR with Retry-After), ZITADEL's
// {code, message, details} (503: code 14, unavailable).
func vendorError(vendor string, r reply, status int) bool {
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") || r.body == nil || str(r.body, "message") == "" {
		return false
	}
	switch vendor {
	case "pingone":
		want := map[int]string{404: "NOT_FOUND", 503: "UNEXPECTED_ERROR"}[status]
		return str(r.body, "id") != "" && str(r.body, "code") == want &&
			(status != 503 || r.header.Get("Retry-After") != "")
	case "zitadel":
		code, _ := r.body["code"].(float64)
		return code == map[int]float64{404: 5, 503: 14}[status]
	}
	return false
}

// TestRedisStoppedMidLoad: clients loop create/read/update of both vendors
// over both replicas while Redis is shut down (nosave) twice: for 300 ms,
// as the issue says (requests wait for it, within the store's 1 s timeout),
// then for 1.5 s (past that timeout, so requests fail). Every answer is a
// success, the vendor's 503, or the vendor's 404 for a session the lost
// Redis held; /healthz answers 503 with the reason while Redis is down; both
// replicas serve again within 1 s of Redis accepting connections.
func TestRedisStoppedMidLoad(t *testing.T) {
	mocktest.RedisAddr(t)
	red := redistest.Start(t)
	r := mocktest.StartReplicas(t, nReplicas, mocktest.WithConfig(func(c *server.Config) {
		c.Store = "redis://" + red.Addr + "/0"
	}))
	c := r.Client()
	var o outcomes
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if w%2 == 0 {
					pingOneRound(c, r.URL, fmt.Sprintf("10.9.%d.%d", w, i%250), &o)
				} else {
					zitadelRound(c, r.URL, &o)
				}
			}
		})
	}
	// outage stops Redis for down, checks /healthz meanwhile, restarts it
	// and returns how long both replicas took to serve again.
	outage := func(down time.Duration) time.Duration {
		red.Stop(false)
		time.Sleep(down / 2)
		for _, s := range r.Servers {
			got, err := call(c, "GET", s.URL+"/healthz", nil)
			if err != nil || got.status != 503 || str(got.body, "reason") == "" {
				t.Errorf("/healthz while Redis is down: %v %v, want 503 with a reason", got, err)
			}
		}
		time.Sleep(down / 2)
		up := red.Restart()
		for _, s := range r.Servers {
			for {
				h, err := call(c, "GET", s.URL+"/healthz", nil)
				p, err2 := call(c, "POST", pingOneSessions(s.URL), pingOneSession("192.0.2.77"))
				if err == nil && err2 == nil && h.status == 200 && p.status == 201 {
					break
				}
				if time.Since(up) > time.Second {
					t.Fatalf("%s not serving 1s after Redis returned: healthz %v %v, create %v %v", s.URL, h, err, p, err2)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		return time.Since(up)
	}
	time.Sleep(300 * time.Millisecond)
	short := outage(300 * time.Millisecond)
	t.Logf("300 ms outage: ok %d, vendor 503 %d, vendor 404 %d; both replicas serving %v after Redis returned",
		o.ok.Load(), o.unavailable.Load(), o.notFound.Load(), short.Round(time.Millisecond))
	time.Sleep(300 * time.Millisecond)
	before := o.ok.Load()
	long := outage(1500 * time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	t.Logf("then a 1.5 s outage: ok %d in all, vendor 503 %d (PingOne %d, ZITADEL %d), vendor 404 %d; both replicas serving %v after Redis returned",
		o.ok.Load(), o.unavailable.Load(), o.unavailableOf("pingone"), o.unavailableOf("zitadel"), o.notFound.Load(), long.Round(time.Millisecond))
	for _, s := range o.gone {
		t.Logf("a 404: %s", s)
	}
	for _, s := range o.other {
		t.Errorf("neither success nor the vendor's 503/404: %s", s)
	}
	for _, v := range []string{"pingone", "zitadel"} {
		if o.unavailableOf(v) == 0 {
			t.Errorf("%s: no 503 during a 1.5 s outage: its requests did not reach the store", v)
		}
	}
	if o.ok.Load() <= before {
		t.Error("no success after Redis returned")
	}
}

// pingOneRound creates, reads and updates one PingOne session.
func pingOneRound(c *http.Client, base, ip string, o *outcomes) {
	created, err := call(c, "POST", pingOneSessions(base), pingOneSession(ip))
	o.add("pingone", created, err)
	if err != nil || created.status != 201 {
		return
	}
	url := pingOneSessions(base) + "/" + str(created.body, "id")
	got, err := call(c, "GET", url, nil)
	o.add("pingone", got, err)
	got, err = call(c, "PUT", url, pingOneSession(ip))
	o.add("pingone", got, err)
}

// zitadelRound creates, reads and updates one ZITADEL session.
func zitadelRound(c *http.Client, base string, o *outcomes) {
	created, err := call(c, "POST", base+"/v2/sessions", map[string]any{})
	o.add("zitadel", created, err)
	if err != nil || created.status != 201 {
		return
	}
	url := base + "/v2/sessions/" + str(created.body, "sessionId")
	got, err := call(c, "GET", url, nil)
	o.add("zitadel", got, err)
	got, err = call(c, "PATCH", url, map[string]any{"metadata": map[string]any{"k": "AA=="}})
	o.add("zitadel", got, err)
}
