package mocktest

import (
	"context"
	"fmt"
	"github.com/idpmock/idpmock/mock/internal/redistest"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/idpmock/idpmock/mock/server"
)

// Environment variables of the Redis tests (make redis-test sets both).
const (
	// EnvRedis is the Redis (host:port) the tests may use; without it the
	// Redis tests skip.
	EnvRedis = redistest.Env
	// EnvReplicas, set (with EnvRedis), makes every Start a pair of
	// replicas sharing that Redis behind a round-robin proxy, so an
	// existing mocktest-based suite runs with traffic alternating between
	// them (see StartReplicas). A number sets how many replicas ("1" checks
	// the proxy and the Redis store without a second replica).
	EnvReplicas = "IDPMOCK_TEST_REPLICAS"
)

// RedisAddr is EnvRedis; the test skips when it is not set.
func RedisAddr(t testing.TB) string {
	t.Helper()
	return redistest.Addr(t)
}

// Replicas are n mocks sharing one Redis behind a round-robin reverse
// proxy: what several replicas behind a load balancer are.
type Replicas struct {
	// URL is the proxy's base URL: request i goes to replica i mod n.
	URL string
	// Servers are the replicas, each reachable at its own URL too.
	Servers []*Server
	// Store is the Redis URL and Prefix the key prefix they share (a fresh
	// one per call, so tests on one Redis stay apart).
	Store, Prefix string
	proxy         *roundRobin
	client        *http.Client
}

// StartReplicas starts n strict-mode mocks on one Redis (EnvRedis, or the
// Store an option sets; the test skips when there is neither) behind a
// round-robin proxy. The first replica seeds the fixtures; the others find
// them in Redis, as replicas of a deployment do.
func StartReplicas(t testing.TB, n int, opts ...Option) *Replicas {
	t.Helper()
	var probe settings
	for _, o := range opts {
		o(&probe)
	}
	store := probe.cfg.Store
	if store == "" {
		store = "redis://" + RedisAddr(t) + "/0"
	}
	prefix := probe.cfg.StorePrefix
	if prefix == "" {
		prefix = fmt.Sprintf("idpmocktest:%x:", rand.Uint64())
	}
	r := &Replicas{Store: store, Prefix: prefix}
	targets := make([]*url.URL, n)
	for i := range n {
		o := append(opts[:len(opts):len(opts)], WithConfig(func(c *server.Config) {
			c.Store, c.StorePrefix, c.Stores = store, prefix, nil
		}))
		s := startOne(t, o)
		r.Servers = append(r.Servers, s)
		targets[i], _ = url.Parse(s.URL)
	}
	r.proxy = newRoundRobin(targets)
	hs := httptest.NewUnstartedServer(r.proxy)
	hs.Config.Protocols = server.Protocols()
	hs.Start()
	t.Cleanup(hs.Close)
	t.Cleanup(r.proxy.close)
	r.URL = hs.URL
	r.client = hs.Client()
	return r
}

// AnonymousClient sends requests to the proxy unchanged.
func (r *Replicas) AnonymousClient() *http.Client { return r.client }

// Client authenticates every request with "Bearer mocktest" unless it
// sets Authorization itself.
func (r *Replicas) Client() *http.Client {
	c := *r.client
	c.Transport = bearer{next: c.Transport}
	return &c
}

// Hits is how many requests the proxy sent to each replica.
func (r *Replicas) Hits() []int64 {
	out := make([]int64, len(r.proxy.hits))
	for i := range r.proxy.hits {
		out[i] = r.proxy.hits[i].Load()
	}
	return out
}

// replicated is Start under EnvReplicas: two replicas behind the proxy,
// seen as one Server whose Mock is the first replica (its clock,
// overrides, journal and state are the shared ones once they live in
// Redis). nil when the options pick their own store.
func replicated(t testing.TB, opts []Option) *Server {
	t.Helper()
	var probe settings
	for _, o := range opts {
		o(&probe)
	}
	if probe.cfg.Store != "" || probe.cfg.Stores != nil {
		return nil
	}
	n, err := strconv.Atoi(os.Getenv(EnvReplicas))
	if err != nil || n < 1 {
		n = 2
	}
	r := StartReplicas(t, n, opts...)
	first := r.Servers[0]
	return &Server{URL: r.URL, Mock: first.Mock, client: r.client, config: first.config}
}

// roundRobin is the load balancer: each request goes to the next replica.
// gRPC (HTTP/2 with trailers) is forwarded over cleartext HTTP/2, the rest
// over HTTP/1.1, as the client sent it.
type roundRobin struct {
	targets  []*url.URL
	next     atomic.Uint64
	hits     []atomic.Int64
	h1, h2c  *http.Transport
	h1p, h2p *httputil.ReverseProxy
}

type targetKey struct{}

func newRoundRobin(targets []*url.URL) *roundRobin {
	rr := &roundRobin{targets: targets, hits: make([]atomic.Int64, len(targets))}
	rr.h1 = &http.Transport{MaxIdleConnsPerHost: 64}
	rr.h2c = &http.Transport{Protocols: new(http.Protocols)}
	rr.h2c.Protocols.SetUnencryptedHTTP2(true)
	mk := func(tr http.RoundTripper) *httputil.ReverseProxy {
		return &httputil.ReverseProxy{
			// No FlushInterval: streamed answers (no Content-Length) are
			// flushed at once anyway, and flushing an empty gRPC error
			// answer early would turn its status (sent as headers only) into
			// headers without trailers.
			Transport: tr,
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.SetURL(pr.In.Context().Value(targetKey{}).(*url.URL))
				pr.Out.Host = pr.In.Host // as a load balancer keeps it
			},
		}
	}
	rr.h1p, rr.h2p = mk(rr.h1), mk(rr.h2c)
	return rr
}

func (rr *roundRobin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int((rr.next.Add(1) - 1) % uint64(len(rr.targets)))
	rr.hits[i].Add(1)
	r = r.WithContext(context.WithValue(r.Context(), targetKey{}, rr.targets[i]))
	if r.ProtoMajor == 2 && strings.HasPrefix(r.Header.Get("Content-Type"), "application/grpc") {
		rr.h2p.ServeHTTP(w, r)
		return
	}
	rr.h1p.ServeHTTP(w, r)
}

func (rr *roundRobin) close() {
	rr.h1.CloseIdleConnections()
	rr.h2c.CloseIdleConnections()
}
