// Package state holds the mock's resources: a small store interface and an
// in-memory implementation that is safe for concurrent use. Vendor packages
// keep their sessions, users and the like in it; they never share maps.
package state

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
)

var (
	// ErrNotFound means no record has that key.
	ErrNotFound = errors.New("state: not found")
	// ErrExists means a record with that key is already stored.
	ErrExists = errors.New("state: already exists")
	// ErrFull means the store's record limit is reached.
	ErrFull = errors.New("state: limit reached")
)

// Record is what a store holds. Clone must return a deep copy, so that a
// caller can never change a stored record except through Update.
type Record[T any] interface {
	Clone() T
}

// Index names a secondary lookup: Keys returns the index keys of a record
// (none, one or many).
type Index[T any] struct {
	Name string
	Keys func(T) []string
}

// Store is the interface vendor code depends on; Memory implements it, and
// so does the Redis store (mock/state/redisstore). Every method takes a
// context and can fail, because a networked backend can: a failure to reach
// it is an *UnavailableError (errors.Is(err, ErrUnavailable)).
//
// It replaced an earlier draft whose Count, Len, Clear, Snapshot and Restore
// could not fail; Memory keeps those methods for today's callers.
type Store[T Record[T]] interface {
	Get(ctx context.Context, key string) (T, error)
	Create(ctx context.Context, v T) error
	Update(ctx context.Context, key string, fn func(T) (T, error)) (T, error)
	Delete(ctx context.Context, key string) (T, error)
	// UpdateSeen and DeleteSeen are Update and Delete of seen's key for a
	// caller that has just read seen (from Lookup or List): a networked
	// store then skips its own read when nobody wrote in between. fn still
	// gets the latest version.
	UpdateSeen(ctx context.Context, seen T, fn func(T) (T, error)) (T, error)
	DeleteSeen(ctx context.Context, seen T) (T, error)
	Lookup(ctx context.Context, index, indexKey string) ([]T, error)
	List(ctx context.Context, keep func(T) bool) ([]T, error)
	// CountKey is how many records have indexKey in index (per-tenant caps).
	CountKey(ctx context.Context, index, indexKey string) (int, error)
	// Total is how many records the store holds (the process-wide cap).
	Total(ctx context.Context) (int, error)
	// Reset removes every record, at once.
	Reset(ctx context.Context) error
	// Dump returns every record ordered by key; Load replaces the whole
	// content with vs, all or nothing.
	Dump(ctx context.Context) ([]T, error)
	Load(ctx context.Context, vs []T) error
}

// Memory is an in-memory Store.
type Memory[T Record[T]] struct {
	mu      sync.RWMutex
	key     func(T) string
	indexes []Index[T]
	max     int
	ixMax   map[string]int // index → cap per index key
	m       map[string]T
	idx     map[string]map[string]map[string]struct{} // index → index key → record keys
	obs     []Observer[T]
	budget  *Budget // nil: no process-wide bound
}

// Option configures a Memory.
type Option[T Record[T]] func(*Memory[T])

// WithIndex adds a secondary index.
func WithIndex[T Record[T]](ix Index[T]) Option[T] {
	return func(m *Memory[T]) { m.indexes = append(m.indexes, ix) }
}

// WithLimit caps the number of records; Create past it returns ErrFull.
func WithLimit[T Record[T]](n int) Option[T] {
	return func(m *Memory[T]) { m.max = n }
}

// NewMemory returns an empty store keyed by key.
func NewMemory[T Record[T]](key func(T) string, opts ...Option[T]) *Memory[T] {
	m := &Memory[T]{key: key}
	for _, o := range opts {
		o(m)
	}
	m.reset()
	return m
}

func (m *Memory[T]) reset() {
	m.m = make(map[string]T)
	m.idx = make(map[string]map[string]map[string]struct{}, len(m.indexes))
	for _, ix := range m.indexes {
		m.idx[ix.Name] = make(map[string]map[string]struct{})
	}
}

func (m *Memory[T]) addIndex(v T) {
	k := m.key(v)
	for _, ix := range m.indexes {
		for _, ik := range ix.Keys(v) {
			set := m.idx[ix.Name][ik]
			if set == nil {
				set = make(map[string]struct{}, 1)
				m.idx[ix.Name][ik] = set
			}
			set[k] = struct{}{}
		}
	}
}

func (m *Memory[T]) dropIndex(v T) {
	k := m.key(v)
	for _, ix := range m.indexes {
		for _, ik := range ix.Keys(v) {
			if set := m.idx[ix.Name][ik]; set != nil {
				delete(set, k)
				if len(set) == 0 {
					delete(m.idx[ix.Name], ik)
				}
			}
		}
	}
}

// Get returns a copy of the record stored under key.
func (m *Memory[T]) Get(ctx context.Context, key string) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	v, ok := m.m[key]
	if !ok {
		return zero, ErrNotFound
	}
	return v.Clone(), nil
}

// Create stores a copy of v under its key.
func (m *Memory[T]) Create(ctx context.Context, v T) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k := m.key(v)
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[k]; ok {
		return ErrExists
	}
	if m.max > 0 && len(m.m) >= m.max {
		return ErrFull
	}
	if m.indexFull(v) {
		return ErrFull
	}
	if err := m.budget.reserve(1); err != nil {
		return err
	}
	v = v.Clone()
	m.m[k] = v
	m.addIndex(v)
	m.changed(k, v, false)
	return nil
}

// Update replaces the record under key with fn's result, atomically. fn gets
// a copy it owns; if it returns an error nothing changes. The store keeps
// what fn returns as it is (no second copy: fn must not hold on to it) and
// returns a copy of it. The key must not change.
func (m *Memory[T]) Update(ctx context.Context, key string, fn func(T) (T, error)) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.m[key]
	if !ok {
		return zero, ErrNotFound
	}
	nv, err := fn(old.Clone())
	if err != nil {
		return zero, err
	}
	if m.key(nv) != key {
		return zero, errors.New("state: update changed the record key")
	}
	m.dropIndex(old)
	m.m[key] = nv
	m.addIndex(nv)
	m.changed(key, nv, false)
	return nv.Clone(), nil
}

// Delete removes the record under key and returns it.
func (m *Memory[T]) Delete(ctx context.Context, key string) (T, error) {
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.m[key]
	if !ok {
		return zero, ErrNotFound
	}
	m.dropIndex(old)
	delete(m.m, key)
	m.budget.release(1)
	m.changed(key, old, true)
	return old, nil
}

// UpdateSeen is Update of seen's key (memory has no read to save).
func (m *Memory[T]) UpdateSeen(ctx context.Context, seen T, fn func(T) (T, error)) (T, error) {
	return m.Update(ctx, m.key(seen), fn)
}

// DeleteSeen is Delete of seen's key.
func (m *Memory[T]) DeleteSeen(ctx context.Context, seen T) (T, error) {
	return m.Delete(ctx, m.key(seen))
}

// Lookup returns copies of the records whose index keys include indexKey,
// ordered by record key.
func (m *Memory[T]) Lookup(ctx context.Context, index, indexKey string) ([]T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	ix, ok := m.idx[index]
	if !ok {
		return nil, errors.New("state: no index " + index)
	}
	set := ix[indexKey]
	keys := make([]string, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]T, 0, len(keys))
	for _, k := range keys {
		out = append(out, m.m[k].Clone())
	}
	return out, nil
}

// Count is how many records have indexKey in index, without copying them
// (0 for an unknown index).
func (m *Memory[T]) Count(index, indexKey string) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.idx[index][indexKey])
}

// List returns copies of the records keep accepts (all when keep is nil),
// ordered by key.
func (m *Memory[T]) List(ctx context.Context, keep func(T) bool) ([]T, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	keys := make([]string, 0, len(m.m))
	for k, v := range m.m {
		if keep == nil || keep(v) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	out := make([]T, 0, len(keys))
	for _, k := range keys {
		out = append(out, m.m[k].Clone())
	}
	return out, nil
}

// Len is the number of stored records.
func (m *Memory[T]) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.m)
}

// Clear removes every record.
func (m *Memory[T]) Clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.budget.release(len(m.m))
	m.reset()
	m.replaced()
}

// Snapshot returns copies of all records, ordered by key.
func (m *Memory[T]) Snapshot() []T {
	all, _ := m.List(context.Background(), nil)
	return all
}

// Restore replaces the whole content with vs; duplicate keys are an error
// and leave the store unchanged.
func (m *Memory[T]) Restore(vs []T) error {
	seen := make(map[string]struct{}, len(vs))
	for _, v := range vs {
		k := m.key(v)
		if _, dup := seen[k]; dup {
			return errors.New("state: duplicate key " + k)
		}
		seen[k] = struct{}{}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.max > 0 && len(vs) > m.max {
		return fmt.Errorf("%w: %d records, at most %d", ErrFull, len(vs), m.max)
	}
	if err := m.overIndexCaps(vs); err != nil {
		return err
	}
	if err := m.budget.reserve(len(vs) - len(m.m)); err != nil {
		return err
	}
	m.reset()
	for _, v := range vs {
		v = v.Clone()
		m.m[m.key(v)] = v
		m.addIndex(v)
	}
	m.replaced()
	return nil
}
