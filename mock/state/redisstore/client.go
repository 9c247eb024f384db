// Package redisstore keeps the mock's shared state in Redis, so that several
// idpmock replicas behind a load balancer behave as one: a state.Store of
// records with secondary indexes and caps, and the small shared pieces
// (state.Cell, state.Counters, state.Log). Every write is one server-side
// Lua script, so a write is all or nothing; see docs/redis.md.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idpmock/idpmock/mock/state"
)

// DefaultPrefix starts every key, so several mocks can share one Redis.
const DefaultPrefix = "idpmock:"

// Options configure a Client.
type Options struct {
	// Prefix starts every key (DefaultPrefix when empty).
	Prefix string
	// Timeout bounds each operation; past it the operation fails with a
	// state.UnavailableError (default 1s).
	Timeout time.Duration
}

// Client is a connection to one Redis, shared by every store of a process.
type Client struct {
	b      backend
	prefix string
	opts   Options
	trips  atomic.Uint64

	budgetMu sync.Mutex
	budgets  map[*state.Budget][]string // a budget's stores' all sets
}

// budgetGroup adds set (unless empty) to b's group and returns the group.
func (c *Client) budgetGroup(b *state.Budget, set string) []string {
	if b == nil {
		return nil
	}
	c.budgetMu.Lock()
	defer c.budgetMu.Unlock()
	if c.budgets == nil {
		c.budgets = make(map[*state.Budget][]string)
	}
	if set != "" && !slices.Contains(c.budgets[b], set) {
		c.budgets[b] = append(c.budgets[b], set)
	}
	return c.budgets[b]
}

// Open connects to url (redis://[user:pass@]host:port/db or rediss://...).
// When Redis cannot be reached now it fails with a state.UnavailableError
// (the caller may retry); later outages surface as unavailable errors from
// each operation and the client reconnects by itself.
func Open(ctx context.Context, url string, o Options) (*Client, error) {
	if !strings.HasPrefix(url, "redis://") && !strings.HasPrefix(url, "rediss://") {
		// The URL is not repeated: it may carry a password.
		return nil, errors.New("redisstore: the store URL must start with redis:// or rediss://")
	}
	o = o.withDefaults()
	b, err := openRueidis(url, o)
	if err != nil {
		return nil, fmt.Errorf("redisstore: %w", err)
	}
	return newClient(ctx, b, o)
}

func (o Options) withDefaults() Options {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	if o.Timeout <= 0 {
		o.Timeout = time.Second
	}
	return o
}

func newClient(ctx context.Context, b backend, o Options) (*Client, error) {
	c := &Client{b: b, prefix: o.Prefix, opts: o}
	if err := c.Ping(ctx); err != nil {
		b.close()
		return nil, err
	}
	return c, nil
}

// Close releases the connections.
func (c *Client) Close() { c.b.close() }

// Ping checks Redis answers (for /healthz).
func (c *Client) Ping(ctx context.Context) error {
	_, err := c.run(ctx, pingScript, nil, nil)
	return err
}

// RoundTrips is how many requests this client has sent to Redis and waited
// for (a client-side cache hit is none).
func (c *Client) RoundTrips() uint64 { return c.trips.Load() }

// space is the key prefix of one named store: its hash tag keeps all of a
// store's keys in one cluster slot, which its scripts need.
func (c *Client) space(name string) string { return c.prefix + "{" + name + "}:" }

// errReply is a Redis error reply that is not an outage (a bug on our side).
type errReply struct{ msg string }

func (e *errReply) Error() string { return "redisstore: redis: " + e.msg }

// classify turns a client error into the state package's vocabulary: the
// caller's own cancellation stays as is; a transport failure, a timeout or a
// server state that a retry later may cure is a state.UnavailableError.
func classify(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	var r *errReply
	if errors.As(err, &r) {
		for _, transient := range []string{"LOADING", "BUSY", "MASTERDOWN", "TRYAGAIN", "CLUSTERDOWN", "READONLY"} {
			if strings.HasPrefix(r.msg, transient) {
				return &state.UnavailableError{Err: err}
			}
		}
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		err = errors.New("no answer within the timeout")
	}
	return &state.UnavailableError{Err: err}
}

// run executes one script: one round trip.
func (c *Client) run(ctx context.Context, s *script, keys, args []string) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	octx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	if f, pre := c.claim(ctx); f != nil {
		return c.runPrefetch(ctx, octx, f, pre, s, keys, args)
	}
	c.trips.Add(1)
	r, err := c.b.run(octx, s, keys, args)
	return r, classify(ctx, err)
}

// get reads one string key: one round trip.
func (c *Client) get(ctx context.Context, key string) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	octx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	if f, pre := c.claim(ctx); f != nil {
		return c.getPrefetch(ctx, octx, f, pre, key)
	}
	c.trips.Add(1)
	v, ok, err := c.b.get(octx, key)
	return v, ok, classify(ctx, err)
}

// getCached reads one string key through the client-side cache (no round
// trip on a hit). Only the benchmark uses it: see Cell.
func (c *Client) getCached(ctx context.Context, key string, ttl time.Duration) (string, bool, error) {
	if err := ctx.Err(); err != nil {
		return "", false, err
	}
	octx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	v, ok, hit, err := c.b.getCached(octx, key, ttl)
	if !hit {
		c.trips.Add(1)
	}
	return v, ok, classify(ctx, err)
}

// backend is the little a Redis client library must do for this package;
// rueidis implements it here, go-redis in the benchmark that chose rueidis.
type backend interface {
	get(ctx context.Context, key string) (v string, ok bool, err error)
	getCached(ctx context.Context, key string, ttl time.Duration) (v string, ok, hit bool, err error)
	run(ctx context.Context, s *script, keys, args []string) ([]string, error)
	close()
}
