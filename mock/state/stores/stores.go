// Package stores is the one place that knows whether the mock's state lives
// in process memory or in Redis (--store). Vendors and the server open their
// record stores, counters, cells and logs through a Backend and get the
// interfaces of mock/state; nothing else changes per store.
package stores

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/idpmock/idpmock/mock/state"
	"github.com/idpmock/idpmock/mock/state/redisstore"
)

// DefaultPrefix starts every Redis key (--store-prefix).
const DefaultPrefix = redisstore.DefaultPrefix

// Backend opens the state of one process: in memory (Memory, or a nil
// *Backend) or shared in Redis (Open with a redis:// URL).
type Backend struct {
	redis *redisstore.Client // nil: memory
	url   string             // without credentials, for logs
}

// Memory is the in-process backend: every replica has its own state.
func Memory() *Backend { return &Backend{} }

// Options tune a Redis backend.
type Options struct {
	// Prefix starts every key (DefaultPrefix when empty), so several mocks
	// can share one Redis.
	Prefix string
	// Timeout bounds each Redis operation; past it the operation fails
	// with a state.UnavailableError (default 1s).
	Timeout time.Duration
}

// Open returns the backend --store names: "" or "memory" for memory, a
// redis:// or rediss:// URL for Redis. Redis must answer now: a mock that
// cannot reach its store at start fails to start (a state.UnavailableError).
func Open(ctx context.Context, store string, o Options) (*Backend, error) {
	switch {
	case store == "" || store == "memory":
		return Memory(), nil
	case strings.HasPrefix(store, "redis://"), strings.HasPrefix(store, "rediss://"):
		c, err := redisstore.Open(ctx, store, redisstore.Options{Prefix: o.Prefix, Timeout: o.Timeout})
		if err != nil {
			return nil, err
		}
		return &Backend{redis: c, url: Redact(store)}, nil
	}
	return nil, errors.New(`store: want "memory" or a redis:// or rediss:// URL`)
}

// Redact is a store URL without its password, for logs and /healthz.
func Redact(store string) string {
	scheme, rest, ok := strings.Cut(store, "://")
	if !ok {
		return store
	}
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = "***@" + rest[at+1:]
	}
	return scheme + "://" + rest
}

// Shared reports whether the state is shared with other replicas (Redis).
func (b *Backend) Shared() bool { return b != nil && b.redis != nil }

// String names the backend: "memory" or the Redis URL without password.
func (b *Backend) String() string {
	if !b.Shared() {
		return "memory"
	}
	return b.url
}

// Ping checks that the store answers (always nil for memory).
func (b *Backend) Ping(ctx context.Context) error {
	if !b.Shared() {
		return nil
	}
	return b.redis.Ping(ctx)
}

// RoundTrips is how many requests went to Redis (0 for memory).
func (b *Backend) RoundTrips() uint64 {
	if !b.Shared() {
		return 0
	}
	return b.redis.RoundTrips()
}

// Close releases the connections.
func (b *Backend) Close() {
	if b.Shared() {
		b.redis.Close()
	}
}

// Codec turns records into bytes (Redis only; JSON when nil).
type Codec[T any] = redisstore.Codec[T]

// Spec describes one record store, whatever the backend: the fields of a
// Redis store's configuration, of which memory uses Key, Indexes, Limit,
// IndexLimits and Budget (TTL and Codec are Redis's only).
type Spec[T state.Record[T]] = redisstore.Config[T]

// OpenStore returns the record store spec describes on b.
func OpenStore[T state.Record[T]](b *Backend, spec Spec[T]) (state.Store[T], error) {
	if !b.Shared() {
		opts := make([]state.Option[T], 0, len(spec.Indexes)+len(spec.IndexLimits)+1)
		for _, ix := range spec.Indexes {
			opts = append(opts, state.WithIndex(ix))
		}
		if spec.Limit > 0 {
			opts = append(opts, state.WithLimit[T](spec.Limit))
		}
		for name, n := range spec.IndexLimits {
			if n > 0 {
				opts = append(opts, state.WithIndexLimit[T](name, n))
			}
		}
		m := state.NewMemory(spec.Key, opts...)
		m.SetBudget(spec.Budget)
		return m, nil
	}
	s, err := redisstore.New(b.redis, spec)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", spec.Name, err)
	}
	return s, nil
}

// Counters returns the counter family called name.
func (b *Backend) Counters(name string) state.Counters {
	if !b.Shared() {
		return &state.MemoryCounters{}
	}
	return redisstore.NewCounters(b.redis, name)
}

// Log returns the capped, numbered log called name, keeping the newest max
// entries.
func (b *Backend) Log(name string, max int) state.SeqLog {
	if !b.Shared() {
		return state.NewMemoryLog(max)
	}
	return redisstore.NewLog(b.redis, name, max)
}

// Cell returns the cell called name.
func Cell[T any](b *Backend, name string) state.UpdateCell[T] {
	if !b.Shared() {
		return &state.MemoryCell[T]{}
	}
	return redisstore.NewCell[T](b.redis, name)
}

// Bus returns the bus called name, nil for memory (one process needs none).
func (b *Backend) Bus(name string) state.Bus {
	if !b.Shared() {
		return nil
	}
	return redisstore.NewBus(b.redis, name)
}
