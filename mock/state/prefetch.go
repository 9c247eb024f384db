package state

import (
	"context"
	"sync"
)

// UpdateCell is a Cell whose value can be changed atomically across
// replicas (the mock clock: two replicas advancing it by an hour at once
// leave it two hours ahead).
type UpdateCell[T any] interface {
	Cell[T]
	// Update stores fn(current) and returns it. On a shared store fn may
	// run again when another replica changed the value meanwhile, so it must
	// have no effect outside its result; an error from fn changes nothing.
	Update(ctx context.Context, fn func(T) (T, error)) (T, error)
}

// Update applies fn under the cell's lock.
func (c *MemoryCell[T]) Update(ctx context.Context, fn func(T) (T, error)) (T, error) {
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, err := fn(c.v)
	if err != nil {
		var zero T
		return zero, err
	}
	c.v = v
	return v, nil
}

// Prefetch is a small read that a request will need (the shared clock's
// settings), carried in the request's context so that a shared store sends
// it together with the request's first round trip instead of on its own.
// Whoever needs the value calls Value; whichever comes first, the store's
// first command or Value, does the read. The store recognises Source as
// one of its own cells (anything else is never prefetched).
type Prefetch struct {
	src   any
	mu    sync.Mutex
	taken bool
	ready chan struct{} // closed once the read is done
	raw   []byte        // from a store's piggybacked read
	found bool
	val   any // decoded, or read by Value's load
	have  bool
	err   error
}

// NewPrefetch returns a pending read of src.
func NewPrefetch(src any) *Prefetch { return &Prefetch{src: src, ready: make(chan struct{})} }

type prefetchKey struct{}

// WithPrefetch returns ctx carrying p.
func WithPrefetch(ctx context.Context, p *Prefetch) context.Context {
	return context.WithValue(ctx, prefetchKey{}, p)
}

// PrefetchFrom returns the read ctx carries, or nil.
func PrefetchFrom(ctx context.Context) *Prefetch {
	p, _ := ctx.Value(prefetchKey{}).(*Prefetch)
	return p
}

// Source is what to read.
func (p *Prefetch) Source() any { return p.src }

// Claim reports whether the caller (a store about to make a round trip)
// should do the read; true once, and then the caller must call Fill.
func (p *Prefetch) Claim() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.taken {
		return false
	}
	p.taken = true
	return true
}

// Fill hands over the raw value read by a claimed round trip (found false:
// the key is absent), or why the read failed.
func (p *Prefetch) Fill(raw []byte, found bool, err error) {
	p.mu.Lock()
	p.raw, p.found, p.err = raw, found, err
	p.mu.Unlock()
	close(p.ready)
}

// Value returns the value: decoded from what a store's round trip brought
// (decode runs once), or read now by load when no round trip has claimed
// the read yet. A failed read's error is returned to every caller.
func (p *Prefetch) Value(ctx context.Context, decode func(raw []byte, found bool) (any, error), load func(context.Context) (any, error)) (any, error) {
	p.mu.Lock()
	if !p.taken {
		p.taken = true
		p.mu.Unlock()
		v, err := load(ctx)
		p.mu.Lock()
		p.val, p.have, p.err = v, err == nil, err
		p.mu.Unlock()
		close(p.ready)
		return v, err
	}
	p.mu.Unlock()
	select {
	case <-p.ready:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil && !p.have {
		p.val, p.err = decode(p.raw, p.found)
		p.have = p.err == nil
	}
	return p.val, p.err
}

// SeqLog is a Log whose entries are numbered across replicas (the shared
// request journal): numbers only grow, Clear included, so a reader's
// cursor stays meaningful.
type SeqLog interface {
	Log
	// Push appends entry numbered one above every entry pushed before, by
	// any replica, and returns its number.
	Push(ctx context.Context, entry []byte) (int64, error)
	// Since returns the entries kept numbered above since, oldest first,
	// and the newest number given so far.
	Since(ctx context.Context, since int64) ([]Numbered, int64, error)
	// Newest is the newest number given so far (0 for none).
	Newest(ctx context.Context) (int64, error)
}

// Numbered is one entry of a SeqLog.
type Numbered struct {
	Seq   int64
	Entry []byte
}
